// Fixture for the fault-injection suite: who answered, and session writes/reads with acks. Publish and subscribe
// need no code (client publish is on by default).
module.exports.run = function (worker) {
  worker.getSCServer().on('connection', function (socket) {
    socket.on('whoami', function (d, res) {
      res.end({ id: socket.id, ssid: socket.ssid, worker: worker.id, pid: process.pid });
    });
    socket.on('set', function (d, res) {
      socket.session.set(d.key, d.value, function (err) {
        if (err) res.error(String(err && err.message || err)); else res.end(true);
      });
    });
    socket.on('getAll', function (d, res) {
      socket.session.getAll(function (err, value) {
        if (err) res.error(String(err && err.message || err)); else res.end(value);
      });
    });
  });
};
