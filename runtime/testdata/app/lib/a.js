exports.name = 'a';
exports.file = __filename;
exports.dir = __dirname;
exports.b = require('./b').name;
exports.data = require('./data.json');
exports.dirIndex = require('./dir').name;
