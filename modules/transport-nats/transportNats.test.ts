import { afterAll, afterEach, beforeEach, expect, it } from '@jest/globals';
import * as nats from '@nats-io/transport-node';
import { Headers, loadConfig, MicroError, Tokens, TransportError, type Message, type Socket } from '../../src/index.js';
import { silentLogger } from '../../src/logger/PinoLogger.js';
import { TestApps } from '../../test/helpers/apps.js';
import { captureLogger } from '../../test/helpers/captureLogger.js';
import { closedAfterEach } from '../../test/helpers/closedAfterEach.js';
import { eventually, uniqueName } from '../../test/helpers/eventually.js';
import { runTransportContract } from '../../test/contracts/transportContract.js';
import { requireServer } from '../../test/servers/testServers.js';
import { calls, resetCalls, Shop } from '../../test/unit/fixtures.js';
import { rejectionOf, testConnector } from '../shared/nats/testSupport.js';
import { NatsTransport, type NatsTransportOptions } from './NatsTransport.js';
import { decodeFrame, encodeFrame } from '../../src/transport/framing.js';
import { splitFrames } from './dataWire.js';
import { CONTROL_HEADER, looksLikeHostPort } from './protocol.js';

const server = await requireServer('nats');

/** A transport as the plugin's create() builds it, on a connection of its own. */
function transport(overrides: Partial<NatsTransportOptions> = {}): NatsTransport {
  return new NatsTransport({
    nats,
    connector: testConnector(nats, server.address),
    logger: silentLogger,
    maxMessageSize: 8 * 1024 * 1024,
    dialTimeoutMs: 2000,
    subjectPrefix: 'tsmicro.test.rpc',
    idleTimeoutMs: 600_000,
    ...overrides,
  });
}

const natsConfig = { transport: { plugin: 'nats', address: server.address }, registry: 'memory', broker: 'memory' };

/** An echo server on `listener`, and a client socket recording replies. */
async function echoPair(server: NatsTransport, client: NatsTransport, address = '127.0.0.1:0') {
  const listener = await server.listen(address);
  const accepted: Socket[] = [];
  listener.accept((socket) => {
    accepted.push(socket);
    socket.receive({ message: (message) => socket.send({ headers: { ...message.headers, by: listener.address }, body: message.body }), close: () => undefined });
  });
  const socket = await client.dial(listener.address);
  const replies: Message[] = [];
  let closed: Error | undefined | 'clean';
  socket.receive({ message: (message) => replies.push(message), close: (error) => (closed = error ?? 'clean') });
  return { listener, accepted, socket, replies, closed: () => closed };
}

server.describe('transport-nats', () => {
  runTransportContract('nats', { create: () => transport(), deadAddress: uniqueName('tsmicro.test.nobody') });

  const open = closedAfterEach((overrides: Partial<NatsTransportOptions> = {}) => transport(overrides));
  const apps = new TestApps();
  beforeEach(() => resetCalls());
  afterEach(() => apps.stopAll());
  afterAll(() => apps.stopAll());

  it('treats host:port addresses as "pick a subject", anything else as the subject', async () => {
    expect(looksLikeHostPort('127.0.0.1:0')).toBe(true);
    expect(looksLikeHostPort('')).toBe(true);
    expect(looksLikeHostPort('[::1]:8080')).toBe(true);
    expect(looksLikeHostPort('greeter.rpc')).toBe(false);
    const created = open();
    const picked = await created.listen('127.0.0.1:0');
    expect(picked.address).toMatch(/^tsmicro\.test\.rpc\.\w+$/);
    const named = await created.listen(uniqueName('explicit.subject'));
    expect(named.address).toMatch(/^explicit\.subject-/);
    await expect(created.listen('bad subject')).rejects.toMatchObject({ kind: 'listen' });
    await expect(created.listen('wild.*')).rejects.toMatchObject({ kind: 'listen' });
  });

  it('caps the message size at the server max_payload once connected', async () => {
    const created = open();
    expect(created.maxMessageSize).toBe(8 * 1024 * 1024);
    await created.listen('127.0.0.1:0');
    expect(created.maxMessageSize).toBe(1024 * 1024);
    const small = open({ maxMessageSize: 4096 });
    await small.listen('127.0.0.1:0');
    expect(small.maxMessageSize).toBe(4096);
  });

  it('keeps header values NATS would alter, and user headers named like its control headers', async () => {
    const pair = await echoPair(open(), open());
    const headers = { padded: '  spaced  ', multi: 'a\r\nb', [CONTROL_HEADER]: 'close', 'tsmicro-h': 'x', 'Mixed-Case': 'v', 'with space': 'ok' };
    pair.socket.send({ headers, body: Buffer.from('x') });
    await eventually(() => expect(pair.replies).toHaveLength(1));
    expect(pair.replies[0]!.headers).toEqual({ ...headers, by: pair.listener.address });
    expect(pair.closed()).toBeUndefined();
  });

  it('carries data as binary frames without NATS headers when both ends offer frames, NATS headers for a peer that does not', async () => {
    const lines = captureLogger();
    const pair = await echoPair(open({ logger: lines }), open());
    const raw = await nats.connect({ servers: server.address });
    try {
      /** Opens a socket by hand, as a client of this version (`frame`) or an older one (no offer) would. */
      const rawSocket = async (offer: boolean) => {
        const inbox = nats.createInbox();
        const received: nats.Msg[] = [];
        raw.subscribe(inbox, { callback: (_error, message) => void received.push(message) });
        const open = { [CONTROL_HEADER]: 'open', 'tsmicro-inbox': inbox, ...(offer ? { 'tsmicro-wire': 'frame' } : {}) };
        const accepted = await raw.request(pair.listener.address, '', { timeout: 2000, headers: controlHeaders(open) });
        const next = async () => {
          await eventually(() => expect(received.length).toBeGreaterThan(0));
          return received.shift()!;
        };
        return { inbox, session: accepted.headers!.get('tsmicro-session'), wire: accepted.headers!.get('tsmicro-wire'), next };
      };

      const framed = await rawSocket(true);
      expect(framed.wire).toBe('frame');
      raw.publish(framed.session, encodeFrame({ headers: { [Headers.id]: '1', note: '  kept  ' }, body: Buffer.from('framed') }, 1024)[0]!, { reply: framed.inbox });
      const frameEcho = await framed.next();
      expect(frameEcho.headers).toBeUndefined();
      const decoded = decodeFrame(Buffer.from(frameEcho.data));
      expect(decoded.headers).toEqual({ [Headers.id]: '1', note: '  kept  ', by: pair.listener.address });
      expect(Buffer.from(decoded.body).toString()).toBe('framed');

      // A broken frame names no request: logged and dropped, and the socket goes on.
      raw.publish(framed.session, Buffer.from('not a frame at all'), { reply: framed.inbox });
      raw.publish(framed.session, encodeFrame({ headers: { [Headers.id]: '2' }, body: Buffer.from('after') }, 1024)[0]!, { reply: framed.inbox });
      expect(decodeFrame(Buffer.from((await framed.next()).data)).headers[Headers.id]).toBe('2');
      expect(lines.lines.find((line) => /malformed frame/.test(line.message))).toMatchObject({ level: 'warn' });

      const legacy = await rawSocket(false);
      expect(legacy.wire).toBe('');
      raw.publish(legacy.session, 'headers', { reply: legacy.inbox, headers: controlHeaders({ [Headers.id]: '3', plain: 'v' }) });
      const headerEcho = await legacy.next();
      expect(headerEcho.headers!.get(Headers.id)).toBe('3');
      expect(headerEcho.headers!.get('plain')).toBe('v');
      expect(headerEcho.headers!.get('by')).toBe(pair.listener.address);
      expect(headerEcho.string()).toBe('headers');
    } finally {
      await raw.close();
    }
  });

  it('sends the frames of one turn together, 16 to a NATS message, in order, split at the size limit', async () => {
    const pair = await echoPair(open(), open());
    const raw = await nats.connect({ servers: server.address });
    try {
      // The listener's replies to the client's inbox, as NATS carries them.
      const carried: nats.Msg[] = [];
      raw.subscribe(pair.socket.local, { callback: (_error, message) => void carried.push(message) });
      await raw.flush();
      for (let i = 0; i < 50; i++) pair.socket.send({ headers: { [Headers.id]: String(i) }, body: Buffer.from(`m${i}`) });
      await eventually(() => expect(pair.replies).toHaveLength(50));
      expect(pair.replies.map((reply) => reply.headers[Headers.id])).toEqual([...Array(50).keys()].map(String));
      // 50 replies made in one turn: 16 frames to a message, the rest at the end of the turn.
      const framesPerMessage = (): number[] => carried.map((message) => splitFrames(message).frames.length);
      await eventually(() => expect(framesPerMessage().reduce((sum, count) => sum + count, 0)).toBe(50));
      expect(Math.max(...framesPerMessage())).toBe(16);
      expect(carried.length).toBeLessThan(50);
      expect(carried.every((message) => message.headers === undefined)).toBe(true);

      // 3000 messages of 1 KiB in one turn are over the server's max_payload (1 MiB) together: several NATS
      // messages, none over the limit, every message once and in order.
      carried.length = 0;
      const kib = Buffer.alloc(1024, 'k');
      for (let i = 0; i < 3000; i++) pair.socket.send({ headers: { [Headers.id]: `big-${i}` }, body: kib });
      await eventually(() => expect(pair.replies).toHaveLength(3050), 10_000);
      expect(pair.replies.slice(50).map((reply) => reply.headers[Headers.id])).toEqual([...Array(3000).keys()].map((i) => `big-${i}`));
      await eventually(() => expect(carried.reduce((bytes, message) => bytes + message.data.length, 0)).toBeGreaterThan(3000 * 1024));
      expect(carried.length).toBeGreaterThan(2);
      expect(Math.max(...carried.map((message) => message.data.length))).toBeLessThanOrEqual(1024 * 1024);
    } finally {
      await raw.close();
    }
  });

  it('answers a frame over the listener limit with a 413 and delivers the others of its batch', async () => {
    const pair = await echoPair(open({ maxMessageSize: 4096 }), open());
    pair.socket.send({ headers: { [Headers.id]: '1' }, body: Buffer.from('small') });
    pair.socket.send({ headers: { [Headers.id]: '2' }, body: Buffer.alloc(8192) });
    pair.socket.send({ headers: { [Headers.id]: '3' }, body: Buffer.from('small too') });
    await eventually(() => expect(pair.replies).toHaveLength(3));
    const byId = new Map(pair.replies.map((reply) => [reply.headers[Headers.id], reply]));
    expect(byId.get('1')!.headers.by).toBe(pair.listener.address);
    expect(byId.get('3')!.headers.by).toBe(pair.listener.address);
    expect(JSON.parse(byId.get('2')!.headers[Headers.error]!)).toMatchObject({ code: 413 });
    expect(pair.closed()).toBeUndefined();
  });

  it('delivers what was sent before close, then the close', async () => {
    const [server, client] = [open(), open()];
    const listener = await server.listen('127.0.0.1:0');
    const events: string[] = [];
    listener.accept((socket) => socket.receive({ message: (message) => void events.push(Buffer.from(message.body).toString()), close: () => void events.push('closed') }));
    const socket = await client.dial(listener.address);
    for (const body of ['a', 'b', 'c']) socket.send({ headers: {}, body: Buffer.from(body) });
    await socket.close();
    await eventually(() => expect(events).toEqual(['a', 'b', 'c', 'closed']));
  });

  it('delivers what a listener sends as it accepts, before the client has its answer', async () => {
    const [server, client] = [open(), open()];
    const listener = await server.listen('127.0.0.1:0');
    listener.accept((socket) => {
      socket.receive({ message: () => undefined, close: () => undefined });
      socket.send({ headers: { greeting: 'first' }, body: Buffer.from('hello') });
    });
    const socket = await client.dial(listener.address);
    const got: Message[] = [];
    socket.receive({ message: (message) => got.push(message), close: () => undefined });
    await eventually(() => expect(got.map((message) => message.headers.greeting)).toEqual(['first']));
  });

  it('lets listeners share a well-known subject; each socket stays with the listener that accepted it', async () => {
    const subject = uniqueName('tsmicro.test.shared');
    const [first, second, client] = [open(), open(), open()];
    const one = await echoPair(first, client, subject);
    const two = await echoPair(second, client, subject);
    const sockets = [one.socket, two.socket, ...(await Promise.all([...Array(8).keys()].map(() => client.dial(subject))))];
    const bySocket = sockets.map(() => new Set<string>());
    sockets.slice(2).forEach((socket, index) => socket.receive({ message: (message) => bySocket[index + 2]!.add(message.headers.by!), close: () => undefined }));
    for (let round = 0; round < 5; round++) sockets.slice(2).forEach((socket) => socket.send({ headers: {}, body: Buffer.from('x') }));
    await eventually(() => sockets.slice(2).forEach((_, index) => expect(bySocket[index + 2]!.size).toBe(1)));
    expect(one.accepted.length + two.accepted.length).toBe(10);
  });

  it('a closed listener finishes its sockets but refuses new ones', async () => {
    const pair = await echoPair(open(), open());
    await pair.listener.close();
    pair.socket.send({ headers: { after: 'close' }, body: Buffer.from('still served') });
    await eventually(() => expect(pair.replies).toHaveLength(1));
    await expect(open().dial(pair.listener.address, { timeoutMs: 1000 })).rejects.toMatchObject({ kind: 'dial' });
  });

  it('closes idle accepted sockets and tells the client', async () => {
    const pair = await echoPair(open({ idleTimeoutMs: 1000 }), open());
    await eventually(() => expect(pair.closed()).toBe('clean'), 5000);
    expect(() => pair.socket.send({ headers: {}, body: Buffer.from('late') })).toThrow(TransportError);
  });

  it('fails a client socket whose listener vanished without a word', async () => {
    const connector = testConnector(nats, server.address);
    const pair = await echoPair(open({ connector }), open());
    // The listener's process is gone: its subscriptions end with its connection, and no close message is sent.
    await (await connector.acquire()).connection.close();
    // The server drops the dead connection's subscriptions a moment after the close (later on a loaded machine):
    // a message sent before that reaches the void. A client keeps sending, as this one does until it learns.
    await eventually(() => {
      if (!pair.closed()) pair.socket.send({ headers: {}, body: Buffer.from('anyone?') });
      expect(pair.closed()).toBeInstanceOf(TransportError);
    });
    expect((pair.closed() as Error).message).toMatch(/nobody listens/);
  });

  it('survives bad input on its subjects, answering what it can', async () => {
    const lines = captureLogger();
    const pair = await echoPair(open({ logger: lines }), open());
    const raw = await nats.connect({ servers: server.address });
    try {
      const inbox = nats.createInbox();
      const received = raw.subscribe(inbox, { max: 2 });
      raw.publish(pair.listener.address, 'not an open request');
      const accepted = await raw.request(pair.listener.address, '', { timeout: 2000, headers: controlHeaders({ [CONTROL_HEADER]: 'open', 'tsmicro-inbox': inbox }) });
      const session = accepted.headers!.get('tsmicro-session');
      raw.publish(session, 'no reply subject');
      raw.publish(session, 'x', { reply: inbox, headers: controlHeaders({ 'tsmicro-h': '%7Bnot json', [Headers.id]: '7' }) });
      const stale = await raw.request(session, 'x', { timeout: 2000, headers: controlHeaders({ [Headers.id]: '9' }) });
      expect(JSON.parse(stale.headers!.get(Headers.error))).toMatchObject({ code: 503 });
      expect(stale.headers!.get(Headers.unhandled)).toBe('true');
      for await (const answer of received) {
        expect(answer.headers!.get(Headers.id)).toBe('7');
        expect(JSON.parse(answer.headers!.get(Headers.error))).toMatchObject({ code: 400, detail: expect.stringMatching(/malformed headers/) });
        break;
      }
    } finally {
      await raw.close();
    }
    pair.socket.send({ headers: {}, body: Buffer.from('still fine') });
    await eventually(() => expect(pair.replies).toHaveLength(1));
    expect(lines.lines.map((line) => line.message)).toEqual(
      expect.arrayContaining([expect.stringMatching(/not an open request/), expect.stringMatching(/without a reply subject/), expect.stringMatching(/malformed headers/)]),
    );
  });

  it('chosen by config: RPC end to end with 200 calls in flight, timeouts and errors', async () => {
    const shop = await apps.started({ services: [Shop], memory: false, config: natsConfig });
    expect(shop.get(Tokens.Transport).name).toBe('nats');
    expect(shop.servers[0]!.address).toMatch(/^tsmicro\.rpc\./);
    const client = await apps.started({ memory: false, config: natsConfig });
    const replies = await Promise.all([...Array(200).keys()].map((i) => client.client.call<{ accepted: string }>('shop', 'Shop.place', { item: `item-${i}`, quantity: 1 }, { metadata: { 'x-n': String(i) } })));
    expect(replies.map((reply) => reply.accepted)).toEqual([...Array(200).keys()].map((i) => `item-${i}`));
    expect(calls.total).toBe(200);
    const slow = await rejectionOf(client.client.call('shop', 'Shop.slow', { ms: 2000 }, { timeoutMs: 200, retries: 0 }));
    expect(MicroError.is(slow) && slow.code).toBe(408);
    const failed = await rejectionOf(client.client.call('shop', 'Shop.fail', {}));
    expect(failed).toMatchObject({ code: 500, detail: 'stock database is down' });
    const invalid = await rejectionOf(client.client.call('shop', 'Shop.place', { item: '', quantity: 0 }));
    expect(invalid).toMatchObject({ code: 400 });
    const big = await rejectionOf(client.client.call('shop', 'Shop.big', { bytes: 2 * 1024 * 1024 }));
    expect(big).toMatchObject({ code: 500, detail: expect.stringMatching(/too large/) });
  });

  it('reads its options and the NATS servers from config and env', async () => {
    const { plugins, config } = await loadConfig({
      env: { MICRO_TRANSPORT: 'nats', MICRO_TRANSPORT_ADDRESS: 'nats://10.0.0.1:4222,10.0.0.2:4222', MICRO_TRANSPORT_NATS_SUBJECT_PREFIX: 'acme.rpc', MICRO_TRANSPORT_NATS_TOKEN: 's3cret' },
      argv: [],
    });
    const chosen = plugins.find((plugin) => plugin.kind === 'transport')!;
    expect(chosen.origin).toBe('modules/transport-nats');
    expect(chosen.options).toMatchObject({ subjectPrefix: 'acme.rpc', token: 's3cret', idleTimeout: 600_000, shareConnection: true, connectTimeout: 5000 });
    expect(config.transport.address).toBe('nats://10.0.0.1:4222,10.0.0.2:4222');
  });
});

function controlHeaders(values: Record<string, string>) {
  const headers = nats.headers();
  for (const [name, value] of Object.entries(values)) headers.set(name, value);
  return headers;
}
