// End-to-end test worker for e2e/ (driven by the scripts in testdata/clients/).
// It uses only the documented SocketCluster 0.9 worker API: getHTTPServer/getSCServer/getWSServer,
// the 'req' HTTP event, the SC server's 'connection'/'disconnection' events, and per-socket
// on(event, (data, res)), res.end/res.error, emit with and without callback, send, 'raw' and 'disconnect'.

// state is what GET /e2e/state reports, so a client can check what the server saw.
var state = {
  connections: [],      // socket ids, in the order 'connection' fired
  disconnections: [],   // socket ids seen by the SC server's 'disconnection' event
  socketDisconnects: [],// socket ids seen by the socket's own 'disconnect' event
  raw: {}               // socket id -> raw messages received from that client
};

function remember(list, id) {
  if (list.indexOf(id) === -1) {
    list.push(id);
  }
}

module.exports.run = function (worker) {
  var httpServer = worker.getHTTPServer();
  var scServer = worker.getSCServer ? worker.getSCServer() : worker.getWSServer();

  httpServer.on('req', function (req, res) {
    if (req.url === '/e2e/state' || req.url.indexOf('/e2e/state?') === 0) {
      var body = JSON.stringify(state);
      res.writeHead(200, {'Content-Type': 'application/json'});
      res.end(body);
    } else if (req.url === '/e2e/ping') {
      res.writeHead(200, {'Content-Type': 'text/plain'});
      res.end('pong');
    } else {
      res.writeHead(404, {'Content-Type': 'text/plain'});
      res.end('not found');
    }
  });

  scServer.on('disconnection', function (socket) {
    remember(state.disconnections, socket.id);
  });

  scServer.on('connection', function (socket) {
    remember(state.connections, socket.id);

    // Server -> client event as soon as the connection is ready.
    socket.emit('hello', {id: socket.id});

    socket.on('disconnect', function () {
      remember(state.socketDisconnects, socket.id);
    });

    // Client -> server event without ack, answered by a server -> client event without ack.
    socket.on('note', function (data) {
      socket.emit('noted', data);
    });

    // Ack carrying the data back unchanged.
    socket.on('echo', function (data, res) {
      res.end(data);
    });

    // Error acks: a string and an Error object. ('fail' itself is a client-local event name, never sent.)
    socket.on('failstr', function (data, res) {
      res.error('nope');
    });
    socket.on('failobj', function (data, res) {
      res.error(new Error('bad thing'), {extra: data});
    });

    // Server -> client emit with ack; the result is reported back with another emit.
    socket.on('askme', function (data, res) {
      res.end();
      socket.emit('ask', data, function (err, answer) {
        socket.emit('askresult', {err: err ? String(err.message || err) : null, answer: answer});
      });
    });

    // Same, but the client never answers 'silent', so the server's ack timeout must fire.
    socket.on('asksilent', function (data, res) {
      var started = Date.now();
      res.end();
      socket.emit('silent', data, function (err, answer) {
        socket.emit('silentresult', {
          err: err ? String(err.message || err) : null,
          answer: answer === undefined ? null : answer,
          waitedMs: Date.now() - started
        });
      });
    });

    // Raw messages both ways.
    socket.on('raw', function (message) {
      if (!state.raw[socket.id]) {
        state.raw[socket.id] = [];
      }
      state.raw[socket.id].push(String(message));
      socket.emit('rawgot', String(message));
    });
    socket.on('rawplease', function (data, res) {
      res.end();
      socket.send(typeof data === 'string' ? data : 'raw text');
    });
  });
};
