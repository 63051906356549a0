import { afterEach, describe, expect, it } from '@jest/globals';
import { DirectBroker, MemoryRegistry, MemoryRegistryStore, MicroError, RegistryCache, TcpTransport, type BrokerEvent, type Message, type Socket, type Transport } from '../../src/index.js';
import { decodeBatch, decodeBatchReply, encodeBatch, encodeBatchReply, BatchFormatError, BatchItem, BATCH_HEADER } from '../../src/broker/eventBatch.js';
import { silentLogger } from '../../src/logger/PinoLogger.js';
import { eventually, uniqueName } from '../helpers/eventually.js';

/** A TCP transport that records every message publishers send, so a test can see how events were grouped. */
class RecordingTransport implements Transport {
  readonly name = 'tcp';
  readonly sent: Message[] = [];
  readonly #inner: TcpTransport;

  constructor(maxMessageSize?: number) {
    this.#inner = new TcpTransport(maxMessageSize === undefined ? {} : { maxMessageSize });
  }

  get maxMessageSize(): number {
    return this.#inner.maxMessageSize;
  }

  listen(address: string) {
    return this.#inner.listen(address);
  }

  async dial(address: string, options?: { timeoutMs?: number }): Promise<Socket> {
    const socket = await this.#inner.dial(address, options);
    const sent = this.sent;
    return {
      local: socket.local,
      remote: socket.remote,
      receive: (handlers) => socket.receive(handlers),
      send: (message) => {
        sent.push({ headers: { ...message.headers }, body: message.body });
        socket.send(message);
      },
      close: () => socket.close(),
    };
  }

  close(): Promise<void> {
    return this.#inner.close();
  }

  /** Batch sizes of the messages sent (0 for a single-event request). */
  batches(): number[] {
    return this.sent.map((message) => Number(message.headers[BATCH_HEADER] ?? 0));
  }
}

const OPTIONS = { address: '127.0.0.1:0', registerTtlMs: 10_000, registerIntervalMs: 3000, deliveryTimeoutMs: 2000, maxAttempts: 5, redeliveryDelayMs: 10, drainTimeoutMs: 1000 };

describe('direct broker: events batched on the wire', () => {
  const opened: { broker: DirectBroker; cache: RegistryCache }[] = [];
  let store = new MemoryRegistryStore();
  const open = async (transport: Transport = new TcpTransport()): Promise<{ broker: DirectBroker; registry: MemoryRegistry }> => {
    const registry = new MemoryRegistry(store);
    const cache = new RegistryCache(registry);
    const broker = new DirectBroker({ registry: cache, transport, logger: silentLogger }, OPTIONS);
    await broker.connect();
    opened.push({ broker, cache });
    return { broker, registry };
  };
  afterEach(async () => {
    await Promise.all(opened.splice(0).map(async ({ broker, cache }) => {
      await broker.disconnect();
      cache.stop();
    }));
    store = new MemoryRegistryStore();
  });

  const collect = () => {
    const events: BrokerEvent[] = [];
    return { events, handler: async (event: BrokerEvent) => void events.push(event) };
  };

  it('sends the events of one tick to one process as a few batches, each event delivered intact and once', async () => {
    const recording = new RecordingTransport();
    const { broker: publisher } = await open(recording);
    const { broker: subscriber } = await open();
    const topic = uniqueName('batched');
    const got = collect();
    await subscriber.subscribe(topic, got.handler);
    const count = 200;
    await Promise.all(
      Array.from({ length: count }, (_, i) => publisher.publish(topic, { headers: { 'content-type': 'text/plain', 'x-n': String(i), ...(i % 7 === 0 ? { 'x-unicode': 'é→世' } : {}) }, body: Buffer.from(`event-${i}`) })),
    );
    // Accepted means queued for the handler: every publish has resolved, and the handlers run right after.
    await eventually(() => expect(got.events).toHaveLength(count));
    const byN = new Map(got.events.map((event) => [Number(event.message.headers['x-n']), event]));
    expect(byN.size).toBe(count);
    for (let i = 0; i < count; i++) {
      const event = byN.get(i)!;
      expect(Buffer.from(event.message.body).toString()).toBe(`event-${i}`);
      expect(event.topic).toBe(topic);
      expect(event.attempt).toBe(1);
      expect(event.message.headers['micro-topic']).toBe(topic);
      expect(event.message.headers['content-type']).toBe('text/plain');
      if (i % 7 === 0) expect(event.message.headers['x-unicode']).toBe('é→世');
      // The delivery's own bookkeeping never reaches a handler.
      expect(event.message.headers['micro-id']).toBeUndefined();
      expect(event.message.headers['micro-subscriber']).toBeUndefined();
    }
    const batches = recording.batches();
    expect(batches.every((size) => size > 0)).toBe(true);
    expect(batches.reduce((sum, size) => sum + size, 0)).toBe(count);
    // 64 events at most per batch, so 200 published in one tick travel as 4 messages, not 200.
    expect(batches.length).toBe(4);
    expect(Math.max(...batches)).toBe(64);
  });

  it('rejects only the publishes whose event the subscriber process refused; the rest of the batch is delivered', async () => {
    const recording = new RecordingTransport();
    const { broker: publisher } = await open(recording);
    const { broker: subscriber, registry } = await open();
    const [real, ghost] = [uniqueName('real'), uniqueName('ghost')];
    const got = collect();
    await subscriber.subscribe(real, got.handler);
    // A subscription the registry still lists on that process, but which the process no longer has (say it was
    // removed and its deregistration lost): its events are refused by the subscriber's process itself.
    await registry.register(
      { name: `tsmicro.broker.${ghost}`, version: 'direct', metadata: {}, endpoints: [], nodes: [{ id: 'ghost-node', address: subscriber.address!, metadata: { topic: ghost, queue: '', subscriber: '4242', broker: 'direct', batch: '1' } }] },
      { ttlMs: 10_000 },
    );
    const outcomes = await Promise.allSettled([
      publisher.publish(real, { headers: {}, body: Buffer.from('r1') }),
      publisher.publish(ghost, { headers: {}, body: Buffer.from('g1') }),
      publisher.publish(real, { headers: {}, body: Buffer.from('r2') }),
    ]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const reason = (outcomes[1] as PromiseRejectedResult).reason as MicroError;
    expect(MicroError.is(reason)).toBe(true);
    expect(reason.code).toBe(503);
    expect(reason.detail).toContain(`no subscriber of "${ghost}" could be reached`);
    // The three events shared the first batch; the ghost's was then tried once more after a fresh registry lookup.
    expect(recording.batches()).toEqual([3, 1]);
    await eventually(() => expect(got.events.map((event) => Buffer.from(event.message.body).toString()).sort()).toEqual(['r1', 'r2']));
  });

  it('refuses an event too large for the transport with a 413 and still delivers the others of its tick', async () => {
    const recording = new RecordingTransport(64 * 1024);
    const { broker: publisher } = await open(recording);
    const { broker: subscriber } = await open();
    const topic = uniqueName('large');
    const got = collect();
    await subscriber.subscribe(topic, got.handler);
    const outcomes = await Promise.allSettled([
      publisher.publish(topic, { headers: {}, body: Buffer.alloc(40 * 1024, 1) }),
      publisher.publish(topic, { headers: {}, body: Buffer.alloc(80 * 1024, 2) }),
      publisher.publish(topic, { headers: {}, body: Buffer.alloc(40 * 1024, 3) }),
    ]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(((outcomes[1] as PromiseRejectedResult).reason as MicroError).code).toBe(413);
    // Two 40 KiB events do not fit one 64 KiB message: each went in a batch of its own.
    expect(recording.batches()).toEqual([1, 1]);
    await eventually(() => expect(got.events.map((event) => event.message.body[0]).sort()).toEqual([1, 3]));
  });

  it('refuses a malformed batch whole, before any of its events reaches a handler', async () => {
    const { broker: subscriber } = await open();
    const topic = uniqueName('malformed');
    const got = collect();
    await subscriber.subscribe(topic, got.handler);
    const item = new BatchItem(1, topic, { headers: {}, body: Buffer.from('x') });
    const transport = new TcpTransport();
    const socket = await transport.dial(subscriber.address!);
    const replies: Message[] = [];
    socket.receive({ message: (reply) => replies.push(reply), close: () => undefined });
    // The envelope claims two events and carries one.
    socket.send({ headers: { 'micro-id': '1', [BATCH_HEADER]: '2' }, body: encodeBatch([item], item.bytes) });
    await eventually(() => expect(replies).toHaveLength(1));
    await socket.close();
    await transport.close();
    const error = JSON.parse(replies[0]!.headers['micro-error']!) as { code: number; detail: string };
    expect(error.code).toBe(400);
    expect(error.detail).toMatch(/malformed event batch/);
    expect(got.events).toHaveLength(0);
  });

  it('sends single requests to a subscription that does not advertise batches (an older process)', async () => {
    const recording = new RecordingTransport();
    const { broker: publisher } = await open(recording);
    const { broker: subscriber, registry } = await open();
    const topic = uniqueName('single');
    const got = collect();
    await subscriber.subscribe(topic, got.handler);
    // Re-advertise the same subscription as an older tsmicro would: no `batch` metadata.
    const [entry] = await registry.getService(`tsmicro.broker.${topic}`);
    const node = entry!.nodes[0]!;
    const { batch: _batch, ...older } = node.metadata;
    await registry.register({ ...entry!, nodes: [{ ...node, metadata: older }] }, { ttlMs: 10_000 });
    await Promise.all([publisher.publish(topic, { headers: { 'x-a': '1' }, body: Buffer.from('a') }), publisher.publish(topic, { headers: {}, body: Buffer.from('b') })]);
    expect(recording.batches()).toEqual([0, 0]);
    expect(recording.sent.every((message) => message.headers['micro-subscriber'] === node.metadata.subscriber)).toBe(true);
    await eventually(() => expect(got.events.map((event) => Buffer.from(event.message.body).toString()).sort()).toEqual(['a', 'b']));
    expect(got.events.find((event) => Buffer.from(event.message.body).toString() === 'a')!.message.headers['x-a']).toBe('1');
  });

  it('fails every event of a batch whose process cannot be reached, and the queue group takes them on another member', async () => {
    const { broker: publisher } = await open();
    const { broker: subscriber, registry } = await open();
    const topic = uniqueName('failover');
    const got = collect();
    await subscriber.subscribe(topic, got.handler, { queue: 'workers' });
    // A member the registry still lists but whose process is gone: nothing listens at its address.
    await registry.register(
      { name: `tsmicro.broker.${topic}`, version: 'direct', metadata: {}, endpoints: [], nodes: [{ id: 'dead-member', address: '127.0.0.1:1', metadata: { topic, queue: 'workers', subscriber: '1', broker: 'direct', batch: '1' } }] },
      { ttlMs: 10_000 },
    );
    const sent = Array.from({ length: 20 }, (_, i) => `e${i}`);
    await Promise.all(sent.map((body) => publisher.publish(topic, { headers: {}, body: Buffer.from(body) })));
    await eventually(() => expect(got.events.map((event) => Buffer.from(event.message.body).toString()).sort()).toEqual([...sent].sort()));
  });
});

describe('direct broker: batch wire format', () => {
  it('round-trips items with ASCII and non-ASCII headers, empty bodies and binary bodies', () => {
    const items = [
      new BatchItem(1, 'orders.created', { headers: { 'content-type': 'application/json', 'micro-topic': 'orders.created' }, body: Buffer.from('{"a":1}') }),
      new BatchItem(7, 'tópico', { headers: { 'x-ü': 'wert→', 'micro-id': '99' }, body: new Uint8Array(0) }),
      new BatchItem(0xffffffff, 't', { headers: {}, body: Buffer.from([0, 255, 1]) }),
    ];
    const bytes = items.reduce((sum, item) => sum + item.bytes, 0);
    const body = encodeBatch(items, bytes);
    expect(body.length).toBe(bytes);
    const decoded = decodeBatch(body, 3);
    expect(decoded.map((item) => item.subscriber)).toEqual([1, 7, 0xffffffff]);
    expect(decoded.map((item) => item.topic)).toEqual(['orders.created', 'tópico', 't']);
    expect(decoded[0]!.message.headers).toEqual({ 'content-type': 'application/json', 'micro-topic': 'orders.created' });
    // micro-id is the delivery's, not the event's: it is not carried.
    expect(decoded[1]!.message.headers).toEqual({ 'x-ü': 'wert→', 'micro-topic': 'tópico' });
    expect(Buffer.from(decoded[1]!.message.body)).toEqual(Buffer.alloc(0));
    expect(Buffer.from(decoded[2]!.message.body)).toEqual(Buffer.from([0, 255, 1]));
  });

  it('refuses a batch whose count or lengths do not match its bytes', () => {
    const item = new BatchItem(1, 'topic', { headers: { a: 'b' }, body: Buffer.from('body') });
    const body = encodeBatch([item], item.bytes);
    expect(() => decodeBatch(body, 2)).toThrow(BatchFormatError);
    expect(() => decodeBatch(body.subarray(0, body.length - 1), 1)).toThrow(BatchFormatError);
    expect(() => decodeBatch(Buffer.concat([body, Buffer.from([0])]), 1)).toThrow(/1 bytes after the last of 1 items/);
    const lying = Buffer.from(body);
    lying.writeUInt32BE(0xffff, 4 + 2 + 5);
    expect(() => decodeBatch(lying, 1)).toThrow(/header block of item 0/);
  });

  it('refuses a header name no batch can carry', () => {
    expect(() => new BatchItem(1, 'topic', { headers: { ['x'.repeat(70_000)]: 'v' }, body: new Uint8Array(0) })).toThrow(RangeError);
  });

  it('encodes a reply as nothing when all were accepted, else the refused indexes with their errors', () => {
    expect(encodeBatchReply([]).length).toBe(0);
    expect(decodeBatchReply(new Uint8Array(0)).size).toBe(0);
    const wire = MicroError.notFound('tsmicro.broker', 'gone').toWire();
    expect([...decodeBatchReply(encodeBatchReply([[2, wire]]))]).toEqual([[2, wire]]);
    expect(() => decodeBatchReply(Buffer.from('{"not":"a list"}'))).toThrow(BatchFormatError);
  });
});
