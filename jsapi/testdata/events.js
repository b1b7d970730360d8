// Test controller for TestEventDispatch: every way a socket event reaches its listeners.
module.exports.run = function (worker) {
  var sc = worker.getSCServer();
  sc.on('connection', function (socket) {
    socket.on('echo', function (data, res) { res.end(data); });
    socket.on('this', function (data, res) { res.end(this === socket && res.socket === socket && res.cid === '"c"'); });
    socket.on('two', function (data, res) { res.end('first'); });
    socket.on('two', function (data, res) { try { res.end('second'); } catch (e) { socket.emit('late', e.message); } });
    socket.once('once', function (data, res) { res.end(['once', data]); });
    socket.on('kind', function (data, res) { res.end(typeof data + ':' + Array.isArray(data)); });
    socket.on('mw', function (data, res) { res.end(data); });
    socket.on('throws', function () { throw new Error('boom'); });
    socket.on('getter', function (data, res) {
      var o = {};
      Object.defineProperty(o, 'g', { enumerable: true, get: function () { return 'got'; } });
      res.end(o);
    });
    socket.on('date', function (data, res) { res.end({ d: new Date(0) }); });
    socket.on('buffer', function (data, res) { res.end({ b: Buffer.from('hi') }); });
    socket.on('cycle', function (data, res) {
      var o = { a: 1 };
      o.self = o;
      try { res.end(o); } catch (e) { socket.emit('caught', e.constructor.name + ' sent=' + res.sent); }
    });
    ['mwthrow', 'mwfalsy', 'mwlater', 'mwtwice', 'mwargs', 'mwsecond'].forEach(function (ev) {
      socket.on(ev, function (data, res) { res.end(ev + ' ran'); });
    });
  });
  sc.addMiddleware(sc.MIDDLEWARE_EMIT, function (socket, event, data, next) {
    if (event === 'mw') next('blocked ' + JSON.stringify(data));
    else if (event === 'mwthrow') throw new Error('mw threw');
    else if (event === 'mwfalsy') throw 0; // a falsy throw is no rejection
    else if (event === 'mwlater') setTimeout(function () { next(); }, 1);
    else if (event === 'mwtwice') { next(); next(); }
    else if (event === 'mwargs') next(arguments.length === 4 ? null : 'bad call');
    else next();
  });
  sc.addMiddleware(sc.MIDDLEWARE_EMIT, function (socket, event, data, next) {
    if (event === 'mwsecond') next({ code: 7 });
    else next();
  });
};
