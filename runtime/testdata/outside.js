module.exports = 'outside';
