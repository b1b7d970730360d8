// Worker for the store tests (cluster in-process, cmd/socketcluster with real processes): session, global and
// channel operations driven by client events.
var heard = [];
var ended = [];
module.exports.run = function (worker) {
  var scServer = worker.getSCServer();
  worker.global.on('wch', function (data) { heard.push(data); });
  scServer.on('sessionend', function (ssid) { ended.push(ssid); });
  function reply(res) {
    return function (err, value) {
      if (err) res.error(String(err && err.message || err));
      else res.end(value);
    };
  }
  worker.getHTTPServer().on('req', function (req, res) {
    if (req.url === '/session') {
      req.session.set('page', 'seen', function () { res.end(req.session.id); });
      return;
    }
    if (req.url === '/heard') { res.end(JSON.stringify(heard)); return; }
    if (req.url === '/ended') { res.end(JSON.stringify(ended)); return; }
    res.writeHead(404);
    res.end();
  });
  scServer.on('connection', function (socket) {
    socket.on('whoami', function (d, res) {
      res.end({ id: socket.id, ssid: socket.ssid, sessionId: socket.session.id, worker: worker.id, pid: process.pid });
    });
    socket.on('set', function (d, res) { socket.session.set(d.key, d.value, reply(res)); });
    socket.on('get', function (d, res) { socket.session.get(d.key, reply(res)); });
    socket.on('getAll', function (d, res) { socket.session.getAll(reply(res)); });
    socket.on('add', function (d, res) { socket.session.add(d.key, d.value, reply(res)); });
    socket.on('pop', function (d, res) { socket.session.pop(d.key, reply(res)); });
    socket.on('count', function (d, res) { socket.session.count(d.key, reply(res)); });
    socket.on('hasKey', function (d, res) { socket.session.hasKey(d.key, reply(res)); });
    socket.on('remove', function (d, res) { socket.session.remove(d.key, reply(res)); });
    socket.on('getRange', function (d, res) { socket.session.getRange(d.key, d.from, d.to, reply(res)); });
    socket.on('removeAll', function (d, res) { socket.session.removeAll(reply(res)); });
    socket.on('expire', function (d, res) { socket.session.expire([d.key], d.seconds, reply(res)); });
    socket.on('setAuth', function (d, res) { socket.session.setAuth(d, reply(res)); });
    socket.on('getAuth', function (d, res) { socket.session.getAuth(reply(res)); });
    socket.on('countSockets', function (d, res) { socket.session.countSockets(reply(res)); });
    socket.on('sessEmit', function (d, res) { socket.session.emit('hello', d, reply(res)); });
    socket.on('sessTransmit', function (d, res) { socket.session.transmit('hello', d, reply(res)); });
    socket.on('emitTo', function (d, res) { socket.global.emit(d.ssid, 'direct', d.data, reply(res)); });
    socket.on('query', function (d, res) {
      socket.session.query(function (DataMap) { return DataMap.get(['q']); }, reply(res));
    });
    socket.on('queryData', function (d, res) {
      socket.session.query('function (DataMap) { DataMap.set(["q"], n * 2); return DataMap.get(["q"]); }', { n: d }, reply(res));
    });
    socket.on('queryThrow', function (d, res) {
      socket.session.query(function () { throw new Error('boom in query'); }, reply(res));
    });
    socket.on('queryLoop', function (d, res) {
      socket.session.query(function () { for (;;) {} }, reply(res));
    });
    socket.on('gset', function (d, res) { socket.global.set(d.key, d.value, reply(res)); });
    socket.on('gget', function (d, res) { socket.global.get(d.key, reply(res)); });
    socket.on('gpublish', function (d, res) { socket.global.publish(d.channel, d.data, reply(res)); });
    socket.on('gpublishMany', function (d, res) {
      for (var i = 1; i <= d.n; i++) socket.global.publish(d.channel, i);
      socket.global.publish(d.channel, 'end', reply(res));
    });
  });
};
