module.exports = require('pkgmain');
