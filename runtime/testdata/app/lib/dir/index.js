exports.name = 'dir-index';
