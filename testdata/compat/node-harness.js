// Runs one compatibility app on real Node: node node-harness.js <app> <port>. Prints READY when listening.
var http = require('http');
var app = require('./apps/' + process.argv[2])();
http.createServer(app).listen(+process.argv[3], '127.0.0.1', function () { console.log('READY'); });
