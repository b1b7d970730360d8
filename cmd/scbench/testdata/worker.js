// Worker controller of scbench: the echo RPC handler of issue 7 (res.end(data)). Client publish is on by default.
module.exports.run = function (worker) {
  worker.getSCServer().on('connection', function (socket) {
    socket.on('echo', function (data, res) { res.end(data); });
  });
};
