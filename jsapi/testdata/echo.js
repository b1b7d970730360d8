// Benchmark controller: the echo RPC handler of issue 7.
module.exports.run = function (worker) {
  worker.getSCServer().on('connection', function (socket) {
    socket.on('echo', function (data, res) { res.end(data); });
  });
};
