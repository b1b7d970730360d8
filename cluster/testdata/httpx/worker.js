// Fixture: Node-compatible req/res details.
module.exports.run = function (worker) {
  var httpServer = worker.getHTTPServer();
  var seen = [];
  httpServer.on('request', function (req) { seen.push(req.url); });
  httpServer.on('req', function (req, res) {
    switch (req.url.split('?')[0]) {
      case '/cookies':
        res.setHeader('Set-Cookie', ['a=1', 'b=2']);
        res.end();
        break;
      case '/arrayhead':
        res.writeHead(202, 'Accepted It', ['X-One', '1', 'X-Two', '2']);
        res.end('ok');
        break;
      case '/stream':
        res.write('one,');
        setTimeout(function () { res.write(Buffer.from('two,')); res.end('three'); }, 5);
        break;
      case '/after-end':
        res.end('done');
        try { res.write('x'); } catch (e) { console.log('write after end: ' + e.code); }
        break;
      case '/headers':
        res.setHeader('Content-Type', 'application/json');
        res.end(JSON.stringify({ method: req.method, ua: req.headers['user-agent'], multi: req.headers['x-multi'],
          version: req.httpVersion, hasRemote: typeof req.socket.remoteAddress === 'string',
          headerNames: res.getHeaderNames(), sent: res.headersSent }));
        break;
      case '/binary':
        var chunks = [];
        req.on('data', function (c) { chunks.push(c); });
        req.on('end', function () {
          var b = Buffer.concat(chunks);
          res.end(String(b.length) + ':' + b[0] + ':' + b[b.length - 1]);
        });
        break;
      case '/seen':
        res.end(JSON.stringify(seen));
        break;
      default:
        res.writeHead(404);
        res.end();
    }
  });
};
