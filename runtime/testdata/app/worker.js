module.exports.run = function (worker) { return 'ran ' + worker; };
