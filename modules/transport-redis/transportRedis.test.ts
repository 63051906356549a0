import * as ioredis from 'ioredis';
import { afterAll, afterEach, beforeEach, expect, it } from '@jest/globals';
import { loadConfig, MicroError, Tokens, TransportError, type Logger, type Message, type Socket } from '../../src/index.js';
import { silentLogger } from '../../src/logger/PinoLogger.js';
import { runTransportContract } from '../../test/contracts/transportContract.js';
import { TestApps } from '../../test/helpers/apps.js';
import { captureLogger } from '../../test/helpers/captureLogger.js';
import { closedAfterEach } from '../../test/helpers/closedAfterEach.js';
import { eventually, uniqueName } from '../../test/helpers/eventually.js';
import { requireServer } from '../../test/servers/testServers.js';
import { calls, resetCalls, Shop } from '../../test/unit/fixtures.js';
import { rejectionOf } from '../shared/nats/testSupport.js';
import { encodeFrame } from '../../src/transport/framing.js';
import { decodeEnvelope, encodeEnvelope, Kind } from './envelope.js';
import { RedisTransport, looksLikeHostPort, type RedisTransportOptions } from './RedisTransport.js';

const server = await requireServer('redis');
// Every channel this file uses lives under its own prefix on the shared server.
const prefix = `${uniqueName('tsmicro-test')}:rpc:`;

function transport(overrides: Partial<RedisTransportOptions> = {}, logger = silentLogger): RedisTransport {
  return new RedisTransport(ioredis, { address: server.address, prefix, maxMessageSize: 8 * 1024 * 1024, dialTimeoutMs: 2000, ...overrides }, logger);
}

const redisConfig = { transport: { plugin: 'redis', address: server.address, options: { prefix } }, registry: 'memory', broker: 'memory' };

/** An echo server on a listener, and a client socket recording replies. */
async function echoPair(serverSide: RedisTransport, clientSide: RedisTransport) {
  const listener = await serverSide.listen('127.0.0.1:0');
  const accepted: Socket[] = [];
  listener.accept((socket) => {
    accepted.push(socket);
    socket.receive({ message: (message) => socket.send({ headers: { ...message.headers, by: listener.address }, body: message.body }), close: () => undefined });
  });
  const socket = await clientSide.dial(listener.address);
  const replies: Message[] = [];
  let closed: Error | undefined | 'clean';
  socket.receive({ message: (message) => replies.push(message), close: (error) => (closed = error ?? 'clean') });
  return { listener, accepted, socket, replies, closed: () => closed };
}

server.describe('transport-redis', () => {
  runTransportContract('redis', { create: () => transport(), deadAddress: `${prefix}nobody` });

  const open = closedAfterEach((overrides: Partial<RedisTransportOptions> = {}, logger: Logger = silentLogger) => transport(overrides, logger));
  const apps = new TestApps();
  beforeEach(() => resetCalls());
  afterEach(() => apps.stopAll());
  afterAll(() => apps.stopAll());

  it('treats host:port addresses as "pick a channel", anything else as the channel', async () => {
    expect(looksLikeHostPort('127.0.0.1:0')).toBe(true);
    expect(looksLikeHostPort('')).toBe(true);
    expect(looksLikeHostPort('greeter.rpc')).toBe(false);
    const created = open();
    expect((await created.listen('127.0.0.1:0')).address.startsWith(prefix)).toBe(true);
    const named = `${prefix}explicit`;
    expect((await created.listen(named)).address).toBe(named);
  });

  it('closes an accepted socket whose client vanished without a word, on its next send', async () => {
    const serverSide = open();
    const listener = await serverSide.listen('127.0.0.1:0');
    const accepted: Socket[] = [];
    let closedWith: Error | undefined;
    listener.accept((socket) => {
      accepted.push(socket);
      socket.receive({ message: () => undefined, close: (error) => (closedWith = error) });
    });
    // A raw client opens a connection, then its process dies: its inbox is no longer subscribed, no close is sent.
    const raw = new ioredis.Redis(`redis://${server.address}`);
    const rawSubscriber = new ioredis.Redis(`redis://${server.address}`);
    const inbox = `${prefix}inbox:raw`;
    await rawSubscriber.subscribe(inbox);
    expect(await raw.publish(listener.address, encodeEnvelope(Kind.open, inbox))).toBe(1);
    await eventually(() => expect(accepted).toHaveLength(1));
    rawSubscriber.disconnect();
    raw.disconnect();
    await eventually(async () => {
      if (!closedWith) accepted[0]!.send({ headers: {}, body: Buffer.from('anyone?') });
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(closedWith).toBeInstanceOf(TransportError);
    });
    expect(closedWith!.message).toMatch(/nobody listens/);
  });

  it('drops junk published on its channels and goes on', async () => {
    const lines = captureLogger();
    const pair = await echoPair(open({}, lines), open());
    const raw = new ioredis.Redis(`redis://${server.address}`);
    try {
      await raw.publish(pair.listener.address, 'not an envelope');
      await raw.publish(pair.listener.address, Buffer.concat([Buffer.from('TSR1'), Buffer.from([9, 0, 0])]));
    } finally {
      raw.disconnect();
    }
    pair.socket.send({ headers: {}, body: Buffer.from('still fine') });
    await eventually(() => expect(pair.replies).toHaveLength(1));
    await eventually(() => expect(lines.lines.map((line) => line.message)).toEqual(expect.arrayContaining([expect.stringMatching(/malformed/)])));
  });

  it('sends the messages of one turn in a few PUBLISHes, in order, and a message over the limit alone fails', async () => {
    const pair = await echoPair(open({ maxMessageSize: 64 * 1024 }), open({ maxMessageSize: 64 * 1024 }));
    // Watch the listener's session channel, where the client's data goes: one PUBLISH per batch.
    const watcher = new ioredis.Redis(`redis://${server.address}`);
    const published: Buffer[] = [];
    try {
      const session = await new Promise<string>((resolve) => {
        void watcher.psubscribe(`${pair.listener.address}:session:*`).then(() => {
          watcher.on('pmessageBuffer', (_pattern: Buffer, channel: Buffer, payload: Buffer) => {
            published.push(payload);
            resolve(channel.toString());
          });
          pair.socket.send({ headers: { n: 'warm-up' }, body: Buffer.alloc(0) });
        });
      });
      expect(session.startsWith(`${pair.listener.address}:session:`)).toBe(true);
      await eventually(() => expect(pair.replies).toHaveLength(1));
      published.length = 0;
      for (let i = 0; i < 50; i++) pair.socket.send({ headers: { n: String(i) }, body: Buffer.from(`call ${i}`) });
      expect(() => pair.socket.send({ headers: {}, body: Buffer.alloc(64 * 1024) })).toThrow(expect.objectContaining({ kind: 'too_large' }) as unknown as Error);
      for (let i = 50; i < 60; i++) pair.socket.send({ headers: { n: String(i) }, body: Buffer.from(`call ${i}`) });
      await eventually(() => expect(pair.replies).toHaveLength(61));
      expect(pair.replies.slice(1).map((reply) => reply.headers.n)).toEqual([...Array(60).keys()].map(String));
      // 16 frames to a PUBLISH (OutgoingFrames), the rest at the end of the turn.
      expect(published.map((payload) => decodeEnvelope(payload).messages.length)).toEqual([16, 16, 16, 12]);
      // The refused message cost nothing else: the socket is still open.
      expect(pair.closed()).toBeUndefined();
    } finally {
      watcher.disconnect();
    }
  });

  it('delivers what was sent before a close, then the close', async () => {
    const listener = await open().listen('127.0.0.1:0');
    const got: string[] = [];
    let closedAfter = -1;
    listener.accept((socket) => socket.receive({ message: (message) => got.push(message.headers.n!), close: () => (closedAfter = got.length) }));
    const socket = await open().dial(listener.address);
    // Sent in the same turn as the close: still queued for one PUBLISH when close() is called.
    for (let i = 0; i < 5; i++) socket.send({ headers: { n: String(i) }, body: Buffer.alloc(0) });
    await socket.close();
    await eventually(() => expect(closedAfter).toBe(5));
    expect(got).toEqual(['0', '1', '2', '3', '4']);
  });

  it('delivers the whole frames of a message whose end is broken, and says what it dropped', async () => {
    const lines = captureLogger();
    const pair = await echoPair(open({}, lines), open());
    const raw = new ioredis.Redis(`redis://${server.address}`);
    const rawSubscriber = new ioredis.Redis(`redis://${server.address}`);
    const inbox = `${prefix}inbox:broken-tail`;
    const answers: Buffer[] = [];
    try {
      await rawSubscriber.subscribe(inbox);
      rawSubscriber.on('messageBuffer', (_channel: Buffer, payload: Buffer) => answers.push(payload));
      await raw.publish(pair.listener.address, encodeEnvelope(Kind.open, inbox));
      await eventually(() => expect(answers.map((answer) => decodeEnvelope(answer).kind)).toContain(Kind.accept));
      const session = decodeEnvelope(answers.find((answer) => decodeEnvelope(answer).kind === Kind.accept)!).from;
      const frames = [1, 2].map((n) => Buffer.concat(encodeFrame({ headers: { n: String(n) }, body: Buffer.from('x') }, 1024)));
      const broken = Buffer.from([0, 0, 0, 200, 1, 2]);
      const all = [...frames, broken];
      await raw.publish(session, encodeEnvelope(Kind.data, inbox, all, all.reduce((sum, part) => sum + part.length, 0)));
      await eventually(() => expect(answers.filter((answer) => decodeEnvelope(answer).kind === Kind.data).flatMap((answer) => decodeEnvelope(answer).messages.map((message) => message.headers.n))).toEqual(['1', '2']));
      await eventually(() => expect(lines.lines.map((line) => line.message)).toContain('redis transport: dropped the malformed end of a message'));
    } finally {
      rawSubscriber.disconnect();
      raw.disconnect();
    }
  });

  it('chosen by config: RPC end to end with 200 calls in flight, timeouts and errors', async () => {
    const shop = await apps.started({ services: [Shop], memory: false, config: redisConfig });
    expect(shop.get(Tokens.Transport).name).toBe('redis');
    expect(shop.servers[0]!.address!.startsWith(prefix)).toBe(true);
    const client = await apps.started({ memory: false, config: redisConfig });
    const replies = await Promise.all([...Array(200).keys()].map((i) => client.client.call<{ accepted: string }>('shop', 'Shop.place', { item: `item-${i}`, quantity: 1 }, { metadata: { 'x-n': String(i) } })));
    expect(replies.map((reply) => reply.accepted)).toEqual([...Array(200).keys()].map((i) => `item-${i}`));
    expect(calls.total).toBe(200);
    const slow = await rejectionOf(client.client.call('shop', 'Shop.slow', { ms: 2000 }, { timeoutMs: 200, retries: 0 }));
    expect(MicroError.is(slow) && slow.code).toBe(408);
    expect(await rejectionOf(client.client.call('shop', 'Shop.fail', {}))).toMatchObject({ code: 500, detail: 'stock database is down' });
    expect(await rejectionOf(client.client.call('shop', 'Shop.place', { item: '', quantity: 0 }))).toMatchObject({ code: 400 });
  });

  it('a stopping server finishes calls in flight; new dials are refused', async () => {
    const pair = await echoPair(open(), open());
    await pair.listener.close();
    pair.socket.send({ headers: { after: 'close' }, body: Buffer.from('still served') });
    await eventually(() => expect(pair.replies).toHaveLength(1));
    await expect(open().dial(pair.listener.address, { timeoutMs: 1000 })).rejects.toBeInstanceOf(TransportError);
  });

  it('reads its options and the Redis address from env', async () => {
    const { plugins, config } = await loadConfig({ env: { MICRO_TRANSPORT: 'redis', MICRO_TRANSPORT_ADDRESS: 'redis://10.0.0.1:6379/2', MICRO_TRANSPORT_REDIS_PREFIX: 'acme:rpc:' }, argv: [] });
    const chosen = plugins.find((plugin) => plugin.kind === 'transport')!;
    expect(chosen.origin).toBe('modules/transport-redis');
    expect(chosen.options).toMatchObject({ prefix: 'acme:rpc:', idleTimeout: 600_000, commandTimeout: 5000 });
    expect(config.transport.address).toBe('redis://10.0.0.1:6379/2');
  });
});
