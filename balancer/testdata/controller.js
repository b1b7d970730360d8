// Fixture for the balancerController tests.
module.exports.run = function (loadBalancer) {
  loadBalancer.addMiddleware(loadBalancer.MIDDLEWARE_REQUEST, function (req, res, next) {
    if (req.url === '/blocked') {
      res.writeHead(403, { 'Content-Type': 'text/plain' });
      res.end('blocked by ' + req.socket.remoteAddress);
    } else if (req.url === '/error') {
      next(new Error('middleware says no'));
    } else if (req.url === '/throw') {
      throw new Error('middleware threw');
    } else if (req.url === '/later') {
      setTimeout(function () { next(); }, 10);
    } else {
      next();
    }
  });
  loadBalancer.addMiddleware(loadBalancer.MIDDLEWARE_UPGRADE, function (req, socket, next) {
    if (req.url.indexOf('deny=1') >= 0) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n');
    } else {
      next();
    }
  });
  loadBalancer.addMiddleware(loadBalancer.MIDDLEWARE_ERROR, function (err, req, res, next) {
    res.writeHead(502, { 'Content-Type': 'text/plain' });
    res.end('custom: ' + err.message.length);
  });
};
