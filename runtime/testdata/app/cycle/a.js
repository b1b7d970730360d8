exports.done = false;
const b = require('./b.js');
exports.sawBDone = b.done;
exports.done = true;
