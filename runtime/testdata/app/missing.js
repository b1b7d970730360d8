module.exports = require('./lib/' + 'nope');
