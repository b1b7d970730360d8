exports.done = false;
const a = require('./a.js');
exports.sawADone = a.done;
exports.done = true;
