module.exports.start = function () {};
