// Worker controller of TestSocketProperties: sockets' properties while open, after close, and after assignment.
var seen = {};
function props(socket) {
  return {
    id: socket.id,
    ssid: socket.ssid,
    address: socket.address,
    clientAddress: socket.clientAddress === undefined ? 'undefined' : socket.clientAddress,
    cookie: socket.cookie.k,
    sameCookie: socket.cookie === socket.cookie,
    requestCookie: socket.request.headers.cookie,
    session: [socket.session.id, socket.session.socketId, socket.session === socket.session],
    global: [socket.global._socketId, socket.global === socket.global, typeof socket.global.publish],
    server: socket.server === module.exports.sc,
    readyState: socket.readyState,
    ownKeys: Object.keys(socket).sort().join(',')
  };
}
module.exports.run = function (worker) {
  var sc = module.exports.sc = worker.getSCServer();
  sc.on('connection', function (socket) {
    socket.on('props', function (data, res) { res.end(props(socket)); });
    socket.on('assign', function (data, res) {
      socket.id = 'assigned';
      socket.session = 'mine';
      socket.custom = 1;
      res.end([socket.id, socket.session, socket.custom, socket.ssid]);
    });
    socket.on('seen', function (data, res) { res.end(seen[data]); });
    socket.on('close', function () { seen[socket.id] = { onClose: props(socket) }; });
    socket.on('disconnect', function () {
      setTimeout(function () { seen[socket.id].later = props(socket); }, 1);
    });
  });
};
