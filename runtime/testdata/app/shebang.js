#!/usr/bin/env node
module.exports = 42;
