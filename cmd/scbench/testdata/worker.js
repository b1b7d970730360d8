// Worker controller of scbench: the echo RPC handler of issue 7 (res.end(data)), and sessemit, which emits its
// data to every socket of the emitting socket's session on every worker (the sessfanout scenario). Client
// publish is on by default.
module.exports.run = function (worker) {
  worker.getSCServer().on('connection', function (socket) {
    socket.on('echo', function (data, res) { res.end(data); });
    socket.on('sessemit', function (data) { socket.session.emit('sessbench', data); });
  });
};
