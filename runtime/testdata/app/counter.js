let n = 0; module.exports = { inc: () => ++n };
