// Issue 11: sendContext/receiveContext accept Electron's UtilityProcess and
// MessagePortMain by their documented shapes. Electron is not installed here,
// so these stand-ins follow the documented behaviour over real Node channels:
// - UtilityProcess, https://www.electronjs.org/docs/latest/api/utility-process:
//   an EventEmitter with postMessage(message, transfer?), kill(), `pid`
//   (undefined once the child exited), 'message' (the message itself) and 'exit' (code).
// - MessagePortMain, https://www.electronjs.org/docs/latest/api/message-port-main:
//   an EventEmitter with postMessage(message, transfer?), start() (messages are
//   queued until it is called), close(), 'message' ({ data, ports }) and 'close'.
// - The utility process side uses process.parentPort,
//   https://www.electronjs.org/docs/latest/api/parent-port (parent-port-shim.cjs).
// UtilityProcessShape is in helpers.ts.
import { EventEmitter } from 'node:events';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { beforeAll, describe, expect, it } from 'vitest';
import { api, establish } from '../helpers/handshake.js';
import { next, PARENT_PORT_SHIM, rejection, spawnChild, UtilityProcessShape } from './helpers.js';

beforeAll(() => api.setBackend('fallback'));

class MessagePortMainShape extends EventEmitter {
  readonly #port: MessagePort;
  #started = false;
  readonly #queue: unknown[] = [];

  constructor(port: MessagePort) {
    super();
    this.#port = port;
    port.on('message', (data) => (this.#started ? this.emit('message', { data, ports: [] }) : this.#queue.push(data)));
    port.once('close', () => this.emit('close'));
  }

  postMessage(message: unknown, _transfer?: unknown[]): void {
    this.#port.postMessage(message);
  }

  start(): void {
    this.#started = true;
    for (const data of this.#queue.splice(0)) this.emit('message', { data, ports: [] });
  }

  close(): void {
    this.#port.close();
  }
}

function portMainPair(): [MessagePortMainShape, MessagePortMainShape] {
  const { port1, port2 } = new MessageChannel();
  return [new MessagePortMainShape(port1), new MessagePortMainShape(port2)];
}

describe('Electron utilityProcess', () => {
  it('hands a context to a utility process (parentPort on its side), bound to its pid', async () => {
    const h = await establish();
    const child = spawnChild('parent-port', undefined, { execArgv: ['--require', PARENT_PORT_SHIM] });
    const utility = new UtilityProcessShape(child);
    const imported = next<{ clientName: string; pid: number }>(child, 'imported');
    await api.sendContext(utility, h.server);
    expect(h.server.isEstablished).toBe(false);
    const r = await imported;
    expect(r.clientName).toBe('CONTOSO\\alice');
    expect(r.pid).toBe(utility.pid); // the import there checked the envelope's target pid
    const answer = next<{ plaintext: string }>(child, 'plaintext');
    utility.postMessage({ sealed: h.client.encrypt(Buffer.from('to the utility process')).toString('base64') });
    expect((await answer).plaintext).toBe('to the utility process');
    h.close();
  });

  it('refuses a utility process that has exited (no pid) and keeps the context', async () => {
    const h = await establish();
    const child = spawnChild('receive-expect-failure', '20000');
    const utility = new UtilityProcessShape(child);
    const exited = new Promise((resolve) => utility.once('exit', resolve));
    utility.kill();
    await exited;
    expect((await rejection(api.sendContext(utility, h.server))).code).toBe('SEC_E_INCOMPLETE_MESSAGE');
    expect(h.server.isEstablished).toBe(true);
    h.close();
  });
});

describe('Electron MessagePortMain', () => {
  it('hands a context across a MessageChannelMain (the receiver starts its port)', async () => {
    const h = await establish();
    const [main1, main2] = portMainPair();
    const received = api.receiveContext({ from: main2 });
    await api.sendContext(main1, h.server);
    const ctx = await received;
    expect(ctx.names.clientName).toBe('CONTOSO\\alice');
    expect(ctx.decrypt(h.client.encrypt(Buffer.from('main port')))).toEqual(Buffer.from('main port'));
    ctx.close();
    main1.close();
    h.close();
  });

  it('binds to the targetPid the sender names for the other end (here not this process: the import refuses)', async () => {
    const h = await establish();
    const [main1, main2] = portMainPair();
    const received = rejection(api.receiveContext({ from: main2 }));
    const e = await rejection(api.sendContext(main1, h.server, { targetPid: process.pid + 1 }));
    expect(e.code).toBe('SEC_E_WRONG_PRINCIPAL');
    expect((await received).code).toBe('SEC_E_WRONG_PRINCIPAL');
    expect(h.server.isEstablished).toBe(false); // exported: gone, as every refusal after the export
    main1.close();
    h.close();
  });

  it("ends a receiver with SEC_E_INCOMPLETE_MESSAGE on the port's 'close'", async () => {
    const [main1, main2] = portMainPair();
    const received = api.receiveContext({ from: main2, timeoutMs: 0 });
    main1.close();
    expect((await rejection(received)).code).toBe('SEC_E_INCOMPLETE_MESSAGE');
  });
});
