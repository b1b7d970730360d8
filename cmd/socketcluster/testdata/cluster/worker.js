// Fixture for the cluster tests: tells who answered (worker id and pid).
module.exports.run = function (worker) {
  var who = { id: worker.id, pid: process.pid, leader: worker.isLeader };
  worker.on('leaderstart', function () { console.log('leaderstart on worker ' + worker.id); });
  worker.getHTTPServer().on('req', function (req, res) {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(who));
  });
  worker.getSCServer().on('connection', function (socket) {
    socket.on('whoami', function (data, res) { res.end(who); });
    socket.on('echo', function (data, res) { res.end(data); });
  });
};
