// Preloaded (node --require) into a forked child: an Electron-style
// process.parentPort over node's IPC channel. Electron's ParentPort
// (https://www.electronjs.org/docs/latest/api/parent-port) is an EventEmitter
// with postMessage(message) and a 'message' event carrying { data, ports }.
'use strict';
const { EventEmitter } = require('node:events');

const parentPort = new EventEmitter();
parentPort.postMessage = (message) => process.send(message);
const relay = (data) => parentPort.emit('message', { data, ports: [] });
// Listen on the IPC channel only while someone listens here, so the child can exit.
parentPort.on('newListener', (ev) => ev === 'message' && parentPort.listenerCount('message') === 0 && process.on('message', relay));
parentPort.on('removeListener', (ev) => ev === 'message' && parentPort.listenerCount('message') === 0 && process.off('message', relay));
process.parentPort = parentPort;
