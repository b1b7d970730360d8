module.exports = function replaced() { return 'replaced'; };
