// Fixture for the two-tab session test: a page loading the client, and session operations by socket events.
module.exports.run = function (worker) {
  var page = '<!DOCTYPE html><html><head><title>sessions</title><script src="/socketcluster.js"></script></head><body></body></html>';
  worker.getHTTPServer().on('req', function (req, res) {
    if (req.url === '/' || req.url.indexOf('/?') === 0) {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end(page);
      return;
    }
    res.writeHead(404);
    res.end();
  });
  worker.getSCServer().on('connection', function (socket) {
    function reply(res) {
      return function (err, v) { if (err) res.error(String(err.message || err)); else res.end(v); };
    }
    socket.on('whoami', function (d, res) { res.end({ ssid: socket.ssid, worker: worker.id }); });
    socket.on('set', function (d, res) { socket.session.set(d.key, d.value, reply(res)); });
    socket.on('get', function (d, res) { socket.session.get(d.key, reply(res)); });
    socket.on('sessEmit', function (d, res) { socket.session.emit('sessionhello', d, reply(res)); });
  });
};
