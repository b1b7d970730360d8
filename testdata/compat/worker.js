// Worker for the compatibility suite: COMPAT_APP names the app module under apps/.
module.exports.run = function (worker) {
  var app = require('./apps/' + process.env.COMPAT_APP)();
  worker.getHTTPServer().on('req', app);
};
