'use strict';
// node-scenario.js drives the ORIGINAL socketcluster-client (0.9.36 or 0.9.37, engine.io-client 1.3.1) in Node
// against a server running testdata/workers/e2e/worker.js, and checks one or more scenarios.
//
// Environment:
//   SC_PORT                    server port (required)
//   SC_HOST                    server host (default 127.0.0.1)
//   SC_CLIENT                  0.9.37 (default) or 0.9.36
//   SC_TRANSPORTS              polling | websocket | default (polling, then upgrade to websocket; default)
//   SC_STEPS                   comma-separated steps to run (default: all, in the order below)
//   SC_SERVER_ACK_TIMEOUT_MS   the server's ackTimeout in ms, for the acktimeout step (default 10000)
//   SC_TIMEOUT_MS              overall deadline for the run (default 30000)
//
// Steps: events, echo, errors, serverack, acktimeout, pubsub, raw, close.
// Every run connects first and disconnects last. Output: one JSON line; exit 0 on success, 1 on failure.

var lib = require('./lib');

var ALL_STEPS = ['events', 'echo', 'errors', 'serverack', 'acktimeout', 'pubsub', 'raw', 'close'];
var STEP_TIMEOUT_MS = 8000;

// UNICODE mixes Latin-1, BMP and astral (surrogate pair) characters: it exercises the double UTF-8 encoding
// of engine.io 1.3.x and the byte-length prefixes of polling payloads.
var UNICODE = 'héllo € 𝄞 日本';

var host = lib.env('SC_HOST', '127.0.0.1');
var port = lib.envInt('SC_PORT', 0);
var clientVersion = lib.env('SC_CLIENT', '0.9.37');
var transportsMode = lib.env('SC_TRANSPORTS', 'default');
var serverAckTimeout = lib.envInt('SC_SERVER_ACK_TIMEOUT_MS', 10000);
var overall = lib.envInt('SC_TIMEOUT_MS', lib.DEFAULT_TIMEOUT_MS);
var steps = lib.env('SC_STEPS', ALL_STEPS.join(',')).split(',').filter(Boolean);

lib.startDeadline(overall);
lib.result.client = clientVersion;
lib.result.transports = transportsMode;

if (!port) {
  lib.fail('SC_PORT is required');
}
steps.forEach(function (s) {
  if (ALL_STEPS.indexOf(s) === -1) {
    lib.fail('unknown step ' + JSON.stringify(s) + '; known: ' + ALL_STEPS.join(','));
  }
});

var modules = {'0.9.37': 'socketcluster-client', '0.9.36': 'socketcluster-client-0936'};
if (!modules[clientVersion]) {
  lib.fail('SC_CLIENT must be 0.9.36 or 0.9.37, got ' + JSON.stringify(clientVersion));
}
var installed = require(modules[clientVersion] + '/package.json').version;
if (installed !== clientVersion) {
  lib.fail('installed ' + modules[clientVersion] + ' is ' + installed + ', want ' + clientVersion);
}
var socketCluster = require(modules[clientVersion]);

var options = {hostname: host, port: port};
if (transportsMode === 'polling') {
  options.transports = ['polling'];
} else if (transportsMode === 'websocket') {
  options.transports = ['websocket'];
} else if (transportsMode !== 'default') {
  lib.fail('SC_TRANSPORTS must be polling, websocket or default, got ' + JSON.stringify(transportsMode));
}

var inbox = new lib.Inbox();
var errors = [];          // local 'error' events of the client socket
var expectedErrors = [];  // predicates for error values a step expects to see there (server error acks)

var socket = socketCluster.connect(options);

socket.on('error', function (err) {
  for (var i = 0; i < expectedErrors.length; i++) {
    if (expectedErrors[i](err)) {
      expectedErrors.splice(i, 1);
      return;
    }
  }
  errors.push(err && err.message ? err.message : err === undefined ? 'undefined' : err);
});
socket.on('connect', function (soid) { inbox.push('connect', soid); });
socket.on('disconnect', function () { inbox.push('disconnect', true); });
socket.on('upgrade', function (t) { inbox.push('upgrade', t && t.name); });
socket.on('raw', function (data) { inbox.push('raw', data); });

// Server events. With client 0.9.36 each on() of a non-local event also sends a 'subscribe' to the server.
['hello', 'noted', 'ask', 'askresult', 'silent', 'silentresult', 'rawgot'].forEach(function (name) {
  socket.on(name, function (data, res) {
    if (name === 'ask') {
      // Answer the server's emit through the response object.
      res.end({got: data, from: 'client ' + clientVersion});
    }
    // 'silent' is deliberately never answered.
    inbox.push(name, data);
  });
});

function check(cond, message) {
  if (!cond) {
    throw new Error(message);
  }
}

function checkEqual(want, got, what) {
  var d = lib.diff(want, got);
  if (d) {
    throw new Error(what + ' differs: ' + d);
  }
}

function emitAck(event, data) {
  return lib.withTimeout(new Promise(function (resolve) {
    socket.emit(event, data, function (err, answer) {
      resolve({err: err, data: answer});
    });
  }), STEP_TIMEOUT_MS, 'ack of ' + event);
}

var soid;
var helloData; // the 'hello' the server emits from its 'connection' handler

var stepImpl = {
  events: function () {
    // Client -> server event without ack, server -> client events without ack ('hello' on connection, 'noted').
    return Promise.resolve(helloData).then(function (hello) {
      check(hello && hello.id === soid, "'hello' carries socket id " + JSON.stringify(hello && hello.id) +
        ', client got soid ' + JSON.stringify(soid));
      var payload = {n: 1, text: UNICODE, list: [1, 'ü', null, true, 2.5]};
      socket.emit('note', payload);
      return inbox.next('noted', STEP_TIMEOUT_MS).then(function (got) {
        checkEqual(payload, got, "'noted' data");
        return {hello: hello.id};
      });
    });
  },

  echo: function () {
    // Emit with ack: non-ASCII and astral characters must come back exactly; several emits in flight
    // (several packets in one polling payload) and one large payload (multi-digit length prefixes).
    var payloads = [
      UNICODE,
      {text: UNICODE, emoji: '😀', nested: {'ключ': 'значение', 'キー': ['値', '𝄞𝄞']}, n: 3.5, t: true, z: null},
      'plain ascii',
      '',
      ['€', '\u0000\u0001\u007f\u0080\u00ff', '\u2028\u2029', '\ud83d\ude00'],
      'x'.repeat(20000) + '𝄞' + 'é'.repeat(3000)
    ];
    return Promise.all(payloads.map(function (p) { return emitAck('echo', p); })).then(function (answers) {
      answers.forEach(function (a, i) {
        check(!a.err, 'echo #' + i + ' returned error ' + JSON.stringify(a.err));
        checkEqual(payloads[i], a.data, 'echo #' + i);
      });
      return {count: answers.length};
    });
  },

  errors: function () {
    // Server res.error('nope') -> callback(err='nope'); res.error(new Error('bad thing'), data) -> {name, message, stack}.
    // The client also emits each error ack as a local 'error' event: expect exactly these two.
    expectedErrors.push(function (e) { return e === 'nope'; });
    expectedErrors.push(function (e) { return e && e.message === 'bad thing'; });
    return emitAck('failstr', UNICODE).then(function (a) {
      checkEqual('nope', a.err, "error of 'failstr'");
      check(a.data === undefined, "'failstr' data should be undefined, got " + JSON.stringify(a.data));
      return emitAck('failobj', 'é');
    }).then(function (a) {
      check(a.err && typeof a.err === 'object', "error of 'failobj' should be an object, got " + JSON.stringify(a.err));
      check(a.err.name === 'Error' && a.err.message === 'bad thing',
        "error of 'failobj' should be {name:'Error', message:'bad thing', ...}, got " + JSON.stringify(a.err));
      checkEqual({extra: 'é'}, a.data, "data of 'failobj'");
      return {string: 'nope', object: a.err.message};
    });
  },

  serverack: function () {
    // Server socket.emit('ask', x, cb): the client answers via res.end; the server reports cb's result.
    var x = {q: UNICODE, k: 7};
    return emitAck('askme', x).then(function (a) {
      check(!a.err, "'askme' ack error " + JSON.stringify(a.err));
      return inbox.next('ask', STEP_TIMEOUT_MS);
    }).then(function (asked) {
      checkEqual(x, asked, "'ask' data");
      return inbox.next('askresult', STEP_TIMEOUT_MS);
    }).then(function (r) {
      check(r.err === null, 'server callback got error ' + JSON.stringify(r.err));
      checkEqual({got: x, from: 'client ' + clientVersion}, r.answer, 'answer seen by the server');
      return {answer: r.answer.from};
    });
  },

  acktimeout: function () {
    // Server socket.emit('silent', x, cb) with no client answer: cb gets the ack timeout error.
    var want = "Event response for 'silent' timed out";
    return emitAck('asksilent', 'shh').then(function (a) {
      check(!a.err, "'asksilent' ack error " + JSON.stringify(a.err));
      return inbox.next('silent', STEP_TIMEOUT_MS);
    }).then(function (got) {
      checkEqual('shh', got, "'silent' data");
      return inbox.next('silentresult', serverAckTimeout + STEP_TIMEOUT_MS);
    }).then(function (r) {
      checkEqual(want, r.err, 'server callback error');
      check(r.waitedMs >= serverAckTimeout - 50, 'server ack timeout fired after ' + r.waitedMs +
        ' ms, before the configured ' + serverAckTimeout + ' ms');
      return {waitedMs: r.waitedMs};
    });
  },

  pubsub: function () {
    var channel = 'e2e-ch-' + Math.random().toString(36).slice(2);
    var message = {text: UNICODE, at: Date.now()};
    var subscribed;
    if (clientVersion === '0.9.36') {
      // 0.9.36: on(channel, fn, cb) sends 'subscribe' itself.
      subscribed = lib.withTimeout(new Promise(function (resolve) {
        socket.on(channel, function (data) { inbox.push(channel, data); }, resolve);
      }), STEP_TIMEOUT_MS, 'subscribe ack');
    } else {
      // 0.9.37: explicit subscribe(); on() is purely local.
      socket.on(channel, function (data) { inbox.push(channel, data); });
      subscribed = lib.withTimeout(new Promise(function (resolve) {
        socket.subscribe(channel, resolve);
      }), STEP_TIMEOUT_MS, 'subscribe ack');
    }
    return subscribed.then(function (err) {
      check(!err, 'subscribe failed: ' + JSON.stringify(err));
      if (socket.subscriptions) {
        check(socket.subscriptions().indexOf(channel) >= 0, 'subscriptions() lacks ' + channel);
      }
      return lib.withTimeout(new Promise(function (resolve) {
        socket.publish(channel, message, resolve);
      }), STEP_TIMEOUT_MS, 'publish ack');
    }).then(function (err) {
      check(!err, 'publish failed: ' + JSON.stringify(err));
      return inbox.next(channel, STEP_TIMEOUT_MS);
    }).then(function (got) {
      checkEqual(message, got, 'published message');
      return {channel: channel};
    });
  },

  raw: function () {
    // Client raw send -> server 'raw' event (reported back as 'rawgot'); server socket.send -> client 'raw'.
    var up = 'raw from client ü 𝄞';
    var down = 'raw from server é 日本';
    socket.send(up);
    return inbox.next('rawgot', STEP_TIMEOUT_MS).then(function (got) {
      checkEqual(up, got, 'raw message seen by the server');
      return emitAck('rawplease', down);
    }).then(function (a) {
      check(!a.err, "'rawplease' ack error " + JSON.stringify(a.err));
      return inbox.next('raw', STEP_TIMEOUT_MS);
    }).then(function (got) {
      checkEqual(down, got, "client 'raw' event");
      return {up: up, down: down};
    });
  },

  close: function () {
    // socket.disconnect(): the client sees 'disconnect' and the server both 'disconnection' and the socket's 'disconnect'.
    checkTransport();
    socket.disconnect();
    return inbox.next('disconnect', STEP_TIMEOUT_MS).then(function () {
      return lib.pollUntil(function () {
        return lib.getJSON(host, port, '/e2e/state').then(function (st) {
          return st.disconnections.indexOf(soid) >= 0 && st.socketDisconnects.indexOf(soid) >= 0 ? st : null;
        });
      }, STEP_TIMEOUT_MS, "the server to report socket " + soid + " in 'disconnection' and 'disconnect'");
    }).then(function (st) {
      check(st.connections.indexOf(soid) >= 0, 'server never reported a connection for ' + soid);
      check(socket.connected === false, 'client still says connected after disconnect()');
      return {serverSaw: true};
    });
  }
};

var wantTransport = transportsMode === 'polling' ? 'polling' : 'websocket';

// checkTransport verifies the client ended up on the transport the mode asks for.
function checkTransport() {
  var transport = socket.transport && socket.transport.name;
  check(transport === wantTransport, 'transport is ' + transport + ', want ' + wantTransport);
}

function runSteps(i) {
  if (i >= steps.length) {
    return Promise.resolve();
  }
  var name = steps[i];
  lib.result.step = name;
  var t0 = Date.now();
  return Promise.resolve().then(stepImpl[name]).then(function (detail) {
    lib.result.steps[name] = {ok: true, ms: Date.now() - t0, detail: detail};
    return runSteps(i + 1);
  });
}

var t0 = Date.now();
lib.result.step = 'connect';
inbox.next('connect', STEP_TIMEOUT_MS).then(function (id) {
  soid = id;
  lib.result.soid = soid;
  check(typeof soid === 'string' && /^[^_]*_[^_]*_[^_]*_[01]_.+$/.test(soid),
    'soid should look like <host>_<worker>_<port>_<secure>_<random>, got ' + JSON.stringify(soid));
  lib.result.steps.connect = {ok: true, ms: Date.now() - t0, transport: socket.transport && socket.transport.name};
  // The server's 'connection' handler runs only after the client's 'ready'; raw messages sent before that reach no
  // listener. Waiting for its 'hello' makes every step start on a fully connected socket.
  lib.result.step = 'hello';
  return inbox.next('hello', STEP_TIMEOUT_MS);
}).then(function (hello) {
  helloData = hello;
  if (transportsMode === 'default') {
    lib.result.step = 'upgrade';
    return inbox.next('upgrade', STEP_TIMEOUT_MS).then(function (name) {
      check(name === 'websocket', 'upgraded to ' + name);
      lib.result.steps.upgrade = {ok: true, ms: Date.now() - t0};
    });
  }
}).then(function () {
  return runSteps(0);
}).then(function () {
  if (steps.indexOf('close') === -1) {
    lib.result.step = 'transport';
    checkTransport();
  }
  lib.result.step = 'errors';
  check(errors.length === 0, "unexpected client 'error' events: " + JSON.stringify(errors));
  if (steps.indexOf('close') === -1) {
    socket.disconnect();
  }
  lib.succeed({transport: wantTransport, ms: Date.now() - t0});
}).catch(function (err) {
  var extra = errors.length ? " (client 'error' events: " + JSON.stringify(errors) + ')' : '';
  lib.fail((err && err.message ? err.message : String(err)) + extra);
});
