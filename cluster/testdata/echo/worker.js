// Fixture for cluster tests: echo, errors, a throwing handler, an endless
// loop, server->client acks, raw messages, middleware.
module.exports.run = function (worker) {
  var scServer = worker.getSCServer();
  var httpServer = worker.getHTTPServer();
  httpServer.on('req', function (req, res) {
    if (req.url === '/hello') {
      res.setHeader('X-Test', 'yes');
      res.writeHead(201, { 'Content-Type': 'text/plain' });
      res.end('hello ' + req.method);
    } else if (req.url === '/body') {
      var chunks = [];
      req.on('data', function (c) { chunks.push(c); });
      req.on('end', function () { res.end('got ' + Buffer.concat(chunks).toString('utf8')); });
    } else if (req.url === '/status') {
      res.end(JSON.stringify(worker.getStatus()));
    } else {
      res.writeHead(404);
      res.end('not found');
    }
  });
  scServer.addMiddleware(scServer.MIDDLEWARE_EMIT, function (socket, event, data, next) {
    if (event === 'forbidden') next('forbidden event');
    else next();
  });
  scServer.on('connection', function (socket) {
    socket.emit('hello', { id: socket.id, ssid: socket.ssid });
    socket.on('echo', function (data, res) { res.end(data); });
    socket.on('fail', function (data, res) { res.error('nope', data); });
    socket.on('failError', function (data, res) { res.error(new Error('bad thing')); });
    socket.on('throw', function () { throw new Error('handler blew up'); });
    socket.on('spin', function () { while (true) {} });
    socket.on('forbidden', function (data, res) { res.end('should not happen'); });
    socket.on('ask', function (data, res) {
      socket.emit('question', data, function (err, answer) {
        socket.emit('answer', err ? { error: err.message } : { answer: answer });
      });
      res.end();
    });
    socket.on('rawplease', function (data, res) { socket.send('raw ' + data); res.end(); });
    socket.on('raw', function (text) { socket.emit('gotRaw', text); });
    socket.on('serverPublish', function (data, res) { res.end(); });
    socket.on('close', function () {});
  });
};
