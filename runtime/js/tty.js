'use strict';
// tty: workers never own a terminal; isatty is false so packages such as debug pick plain output.
var net = require('net');
exports.isatty = function () { return false; };
function ReadStream() { throw new Error('tty.ReadStream is not available in a worker'); }
function WriteStream() { throw new Error('tty.WriteStream is not available in a worker'); }
ReadStream.prototype = Object.create(net.Socket.prototype);
WriteStream.prototype = Object.create(net.Socket.prototype);
WriteStream.prototype.getColorDepth = function () { return 1; };
WriteStream.prototype.hasColors = function () { return false; };
exports.ReadStream = ReadStream;
exports.WriteStream = WriteStream;
