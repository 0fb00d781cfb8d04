/**
 * sendContext / receiveContext: hand a context to a child process, a worker
 * thread, a MessagePort, or Electron's utility process and MessagePortMain.
 * The receiver says Hello with a fresh X25519 key when it starts listening;
 * the sender seals the envelope for that key and the receiver's pid as the
 * channel reports it, and the transfer is one round trip: envelope, then
 * result. Protocol, states and refusals: docs/transfer-protocol.md.
 */
export { sendContext } from './transfer/send.js';
export type { SendContextOptions, ContextTarget } from './transfer/send.js';
export { receiveContext } from './transfer/receive.js';
export type { ReceiveContextOptions } from './transfer/receive.js';
export type { UtilityProcessLike, MessagePortMainLike, ParentPortLike } from './transfer/channel.js';
