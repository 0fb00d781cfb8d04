// CommonJS consumer: require('sspi-context').
const { fork } = require('node:child_process');
const lib = require('sspi-context');
require('./flow.cjs').run(lib, fork, __filename, process.argv[2]);
