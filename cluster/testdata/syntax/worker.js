module.exports.run = function (worker) {
  var x = ;
};
