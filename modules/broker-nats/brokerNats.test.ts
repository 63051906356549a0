import { afterAll, afterEach, expect, it } from '@jest/globals';
import * as jetstream from '@nats-io/jetstream';
import * as nats from '@nats-io/transport-node';
import { loadConfig, type BrokerEvent, type Logger, type Message } from '../../src/index.js';
import { silentLogger } from '../../src/logger/PinoLogger.js';
import { runBrokerContract } from '../../test/contracts/brokerContract.js';
import { captureLogger } from '../../test/helpers/captureLogger.js';
import { eventually, sleep, uniqueName, within } from '../../test/helpers/eventually.js';
import { requireServer } from '../../test/servers/testServers.js';
import { NatsBroker, type NatsBrokerOptions } from './NatsBroker.js';
import { rejectionOf, testConnector } from '../shared/nats/testSupport.js';
import { Subjects } from './subjects.js';

const server = await requireServer('nats');
/** This file's own stream and subjects, so parallel runs on the shared server never meet. */
const run = uniqueName('t').replace(/-/g, '_');
const stream = `TSMICRO_TEST_${run}`.toUpperCase();

/** A broker as the plugin's create() builds it, on a connection of its own. */
function broker(overrides: Partial<NatsBrokerOptions> & { logger?: Logger } = {}): NatsBroker {
  return new NatsBroker({
    nats,
    jetstream,
    connector: testConnector(nats, server.address),
    logger: silentLogger,
    useJetStream: false,
    subjectPrefix: `tsmicro.test.${run}`,
    stream,
    startFrom: 'new',
    maxAttempts: 5,
    redeliveryDelayMs: 10,
    ackWaitMs: 5000,
    maxInFlight: 16,
    inactiveThresholdMs: 60_000,
    maxAgeMs: 600_000,
    publishTimeoutMs: 3000,
    drainTimeoutMs: 1000,
    ...overrides,
  });
}

const jsBroker = (overrides: Partial<NatsBrokerOptions> & { logger?: Logger } = {}) => broker({ useJetStream: true, subjectPrefix: `tsmicro.test.js.${run}`, ...overrides });
const message = (body: string, headers: Record<string, string> = {}): Message => ({ headers, body: Buffer.from(body) });
const bodies = (events: BrokerEvent[]) => events.map((event) => Buffer.from(event.message.body).toString());

server.describe('broker-nats', () => {
  runBrokerContract('nats (core)', { create: () => broker(), redelivers: true, quietMs: 300 });
  runBrokerContract('nats (core, NATS headers)', { create: () => broker({ wire: 'headers' }), redelivers: true, quietMs: 300 });
  runBrokerContract('nats (JetStream)', { create: () => jsBroker(), redelivers: true, quietMs: 500, durableQueues: true });

  const opened: NatsBroker[] = [];
  const open = async (created: NatsBroker) => {
    opened.push(created);
    await created.connect();
    return created;
  };
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((created) => created.disconnect()));
  });
  afterAll(async () => {
    const connection = await nats.connect({ servers: server.address });
    await (await jetstream.jetstreamManager(connection)).streams.delete(stream).catch(() => undefined);
    await connection.close();
  });

  it('maps topics to subjects and refuses topics NATS cannot carry', () => {
    const subjects = new Subjects('acme');
    expect(subjects.subjectOf('orders.created')).toBe('acme.orders.created');
    expect(subjects.topicOf('acme.orders.created')).toBe('orders.created');
    expect(subjects.subjectOf('orders.*', true)).toBe('acme.orders.*');
    expect(subjects.subjectOf('orders.>', true)).toBe('acme.orders.>');
    for (const bad of ['', 'a..b', 'has space', 'orders.*']) expect(() => subjects.subjectOf(bad)).toThrow(/not a valid topic/);
    expect(() => subjects.subjectOf('a.>.b', true)).toThrow(/not a valid topic/);
    expect(new Subjects('').subjectOf('plain')).toBe('plain');
  });

  it('core: interoperates with plain NATS clients, wildcards name the real topic', async () => {
    const subscriber = await open(broker({ subjectPrefix: '' }));
    const topic = uniqueName('interop');
    const got: BrokerEvent[] = [];
    await subscriber.subscribe(`${topic}.*`, async (event) => void got.push(event));
    const raw = await nats.connect({ servers: server.address });
    const headers = nats.headers();
    headers.set('x-from', 'plain client');
    raw.publish(`${topic}.created`, 'hello', { headers });
    await raw.flush();
    await raw.close();
    await eventually(() => expect(got).toHaveLength(1));
    expect(got[0]!.topic).toBe(`${topic}.created`);
    expect(got[0]!.message.headers).toEqual({ 'x-from': 'plain client' });
  });

  it('core: a burst of publishes is confirmed by one flush per 128, and every event arrives', async () => {
    const connector = testConnector(nats, server.address);
    const [publisher, subscriber] = [await open(broker({ connector })), await open(broker())];
    const topic = uniqueName('burst');
    const got: BrokerEvent[] = [];
    await subscriber.subscribe(topic, async (event) => void got.push(event));
    const connection = (await connector.acquire()).connection;
    const flush = connection.flush.bind(connection);
    let flushes = 0;
    connection.flush = () => {
      flushes++;
      return flush();
    };
    await Promise.all(Array.from({ length: 200 }, (_, i) => publisher.publish(topic, message(`e${i}`, { 'micro-event-id': `e${i}` }))));
    expect(flushes).toBe(Math.ceil(200 / 128));
    await eventually(() => expect(got).toHaveLength(200));
    expect(new Set(bodies(got)).size).toBe(200);
  });

  it('core: publishes binary frames by default, NATS headers with wire "headers"; a subscriber reads both, and bare payloads', async () => {
    const [framed, headed, subscriber] = [await open(broker()), await open(broker({ wire: 'headers' })), await open(broker())];
    const topic = uniqueName('forms');
    const subject = `tsmicro.test.${run}.${topic}`;
    const got: BrokerEvent[] = [];
    await subscriber.subscribe(topic, async (event) => void got.push(event));
    const raw = await nats.connect({ servers: server.address });
    try {
      const seen: nats.Msg[] = [];
      raw.subscribe(subject, { callback: (_error, received) => void seen.push(received) });
      await raw.flush();
      const headers = { 'x-padded': '  kept  ', 'x-lines': 'a\r\nb', 'x-utf8': 'été' };
      await framed.publish(topic, message('framed', headers));
      await headed.publish(topic, message('headed', headers));
      raw.publish(subject, 'bare');
      await eventually(() => expect(bodies(got)).toEqual(['framed', 'headed', 'bare']));
      expect(got.map((event) => event.message.headers)).toEqual([headers, headers, {}]);
      await eventually(() => expect(seen).toHaveLength(3));
      // On the wire: a frame event has no NATS headers and starts with its prefix; the other is plain NATS.
      expect(seen[0]!.headers).toBeUndefined();
      expect(Buffer.from(seen[0]!.data.subarray(0, 5)).toString('latin1')).toBe('\0TSE1');
      expect(seen[1]!.headers!.get('x-utf8')).toBe('été');
      expect(seen[1]!.string()).toBe('headed');
    } finally {
      await raw.close();
    }
  });

  it('core: drops an event whose frame does not decode, logs it, and keeps the subscription', async () => {
    const lines = captureLogger();
    const subscriber = await open(broker({ logger: lines }));
    const topic = uniqueName('broken-frame');
    const got: BrokerEvent[] = [];
    await subscriber.subscribe(topic, async (event) => void got.push(event));
    const raw = await nats.connect({ servers: server.address });
    raw.publish(`tsmicro.test.${run}.${topic}`, Buffer.concat([Buffer.from('\0TSE1', 'latin1'), Buffer.from('not a frame')]));
    await raw.flush();
    await raw.close();
    await (await open(broker())).publish(topic, message('fine'));
    await eventually(() => expect(bodies(got)).toEqual(['fine']));
    expect(lines.lines.find((line) => /malformed frame/.test(line.message))).toMatchObject({ level: 'error', fields: { topic } });
  });

  it('core: maxAttempts 1 turns the local retry off', async () => {
    const [publisher, subscriber] = [await open(broker()), await open(broker({ maxAttempts: 1 }))];
    const topic = uniqueName('once');
    const got: BrokerEvent[] = [];
    await subscriber.subscribe(topic, async (event) => {
      got.push(event);
      throw new Error('fails');
    });
    await publisher.publish(topic, message('x'));
    await eventually(() => expect(got).toHaveLength(1));
    await sleep(300);
    expect(got).toHaveLength(1);
  });

  for (const mode of ['core', 'jetstream'] as const) {
    const make = mode === 'core' ? broker : jsBroker;

    it(`${mode}: drops an event whose headers do not decode, logs it, and keeps the subscription`, async () => {
      const lines = captureLogger();
      const subscriber = await open(make({ logger: lines }));
      const topic = uniqueName('malformed');
      const got: BrokerEvent[] = [];
      await subscriber.subscribe(topic, async (event) => void got.push(event), { queue: 'q' });
      const raw = await nats.connect({ servers: server.address });
      const headers = nats.headers();
      headers.set('tsmicro-h', '%%%');
      const prefix = mode === 'core' ? `tsmicro.test.${run}` : `tsmicro.test.js.${run}`;
      raw.publish(`${prefix}.${topic}`, 'broken', { headers });
      await raw.flush();
      await raw.close();
      const publisher = await open(make());
      await publisher.publish(topic, message('fine'));
      await eventually(() => expect(bodies(got)).toEqual(['fine']));
      expect(lines.lines.find((line) => /malformed headers/.test(line.message))).toMatchObject({ level: 'error', fields: { topic } });
    });

    it(`${mode}: refuses an event over the server's max_payload with a 413`, async () => {
      const publisher = await open(make());
      const error = await rejectionOf(publisher.publish(uniqueName('big'), { headers: {}, body: Buffer.alloc(1024 * 1024 + 1) }));
      expect(error).toMatchObject({ code: 413 });
      await expect(publisher.publish(uniqueName('bad topic'), message('x'))).rejects.toThrow(/not a valid topic/);
    });
  }

  it('core with NATS headers: refuses an event over the server max_payload with a 413', async () => {
    const publisher = await open(broker({ wire: 'headers' }));
    await expect(publisher.publish(uniqueName('big'), { headers: {}, body: Buffer.alloc(1024 * 1024 + 1) })).rejects.toMatchObject({ code: 413 });
    await expect(publisher.publish(uniqueName('big'), { headers: { 'x-long': 'v'.repeat(1024 * 1024 - 10) }, body: Buffer.alloc(16) })).rejects.toMatchObject({ code: 413 });
  });

  it('jetstream: publish resolves once the stream holds the event; a republished event id is deduplicated', async () => {
    const publisher = await open(jsBroker());
    const topic = uniqueName('stored');
    const connection = await nats.connect({ servers: server.address });
    try {
      const jsm = await jetstream.jetstreamManager(connection);
      const stored = async () => (await jsm.streams.getMessage(stream, { last_by_subj: `tsmicro.test.js.${run}.${topic}` }))?.seq;
      await publisher.publish(topic, message('kept', { 'micro-event-id': `${topic}-1` }));
      const first = await stored();
      expect(first).toBeGreaterThan(0);
      await publisher.publish(topic, message('kept', { 'micro-event-id': `${topic}-1` }));
      expect(await stored()).toBe(first);
    } finally {
      await connection.close();
    }
  });

  it('jetstream: terminates an event after maxAttempts and logs it as a dead letter', async () => {
    const lines = captureLogger();
    const [publisher, subscriber] = [await open(jsBroker()), await open(jsBroker({ maxAttempts: 3, logger: lines }))];
    const topic = uniqueName('poison');
    const got: BrokerEvent[] = [];
    await subscriber.subscribe(topic, async (event) => {
      got.push(event);
      throw new Error('always fails');
    }, { queue: 'poison' });
    await publisher.publish(topic, message('poison', { 'micro-event-id': 'e-1' }));
    await eventually(() => expect(lines.lines.find((line) => /dead letter/.test(line.message))).toBeDefined(), 10_000);
    expect(got.map((event) => event.attempt)).toEqual([1, 2, 3]);
    expect(lines.lines.find((line) => /dead letter/.test(line.message))!.fields).toMatchObject({ topic, attempts: 3, eventId: 'e-1' });
    await sleep(500);
    expect(got).toHaveLength(3);
  });

  it('jetstream: a queue group keeps its place while no member runs; startFrom decides where a new group starts', async () => {
    const publisher = await open(jsBroker());
    const topic = uniqueName('durable');
    const first = await open(jsBroker());
    const got: BrokerEvent[] = [];
    await (await first.subscribe(topic, async (event) => void got.push(event), { queue: 'billing' })).unsubscribe();
    await publisher.publish(topic, message('while away'));
    const again = await open(jsBroker());
    await again.subscribe(topic, async (event) => void got.push(event), { queue: 'billing' });
    await eventually(() => expect(bodies(got)).toEqual(['while away']));
    const fromAll = await open(jsBroker({ startFrom: 'all' }));
    const fromNew = await open(jsBroker());
    const [all, fresh] = [[] as BrokerEvent[], [] as BrokerEvent[]];
    await fromAll.subscribe(topic, async (event) => void all.push(event), { queue: 'audit' });
    await fromNew.subscribe(topic, async (event) => void fresh.push(event), { queue: 'reports' });
    await publisher.publish(topic, message('later'));
    await eventually(() => expect(bodies(all)).toEqual(['while away', 'later']));
    await eventually(() => expect(bodies(fresh)).toEqual(['later']));
  });

  it('jetstream: a broadcast subscription owns its consumer; it is removed on unsubscribe and recreated if it vanishes', async () => {
    const lines = captureLogger();
    const [publisher, subscriber] = [await open(jsBroker()), await open(jsBroker({ logger: lines }))];
    const topic = uniqueName('own');
    const got: BrokerEvent[] = [];
    const subscription = await subscriber.subscribe(topic, async (event) => void got.push(event));
    const connection = await nats.connect({ servers: server.address });
    try {
      const jsm = await jetstream.jetstreamManager(connection);
      const names = async () => (await jsm.consumers.list(stream).next()).map((info) => info.name).filter((name) => name.includes(topic));
      const [name] = await names();
      expect(name).toBeDefined();
      await publisher.publish(topic, message('one'));
      await eventually(() => expect(bodies(got)).toEqual(['one']));
      // nats-server 2.9 sometimes reports a busy consumer directory on delete; the consumer is gone either way.
      await eventually(() => jsm.consumers.delete(stream, name!).catch((error: Error) => expect(error.message).toMatch(/not found|directory not empty/)), 5000, 200);
      await eventually(() => expect(lines.lines.find((line) => /consumer recreated/.test(line.message))).toBeDefined(), 30_000);
      await publisher.publish(topic, message('two'));
      await eventually(() => expect(bodies(got)).toEqual(['one', 'two']));
      await subscription.unsubscribe();
      expect(await names()).toEqual([]);
    } finally {
      await connection.close();
    }
  }, 45_000);

  it('jetstream: disconnect does not hang on a handler that never returns; events pulled but not started go back at once', async () => {
    const publisher = await open(jsBroker());
    const topic = uniqueName('stuck');
    const stuck = await open(jsBroker({ maxInFlight: 1, ackWaitMs: 20_000 }));
    const started: string[] = [];
    await stuck.subscribe(topic, (event) => {
      started.push(Buffer.from(event.message.body).toString());
      return new Promise<void>(() => undefined);
    }, { queue: 'stuck' });
    await publisher.publish(topic, message('first'));
    await eventually(() => expect(started).toEqual(['first']));
    await publisher.publish(topic, message('second'));
    await sleep(300);
    await within(stuck.disconnect(), 10_000, 'the disconnect');
    const other = await open(jsBroker({ ackWaitMs: 20_000 }));
    const got: BrokerEvent[] = [];
    await other.subscribe(topic, async (event) => void got.push(event), { queue: 'stuck' });
    // Well before the 20 s ack wait: the stopping member handed "second" back instead of sitting on it.
    await eventually(() => expect(bodies(got)).toEqual(['second']), 5000);
  });

  it('jetstream: a handler that outlives ackWait is not redelivered meanwhile', async () => {
    const [publisher, subscriber] = [await open(jsBroker()), await open(jsBroker({ ackWaitMs: 1000 }))];
    const topic = uniqueName('slow');
    const got: BrokerEvent[] = [];
    await subscriber.subscribe(topic, async (event) => {
      got.push(event);
      await sleep(2500);
    }, { queue: 'slow' });
    await publisher.publish(topic, message('slow'));
    await eventually(() => expect(got).toHaveLength(1));
    await sleep(3500);
    expect(got).toHaveLength(1);
  });

  it('reads its options from config and env', async () => {
    const { plugins } = await loadConfig({
      env: { MICRO_BROKER: 'nats', MICRO_BROKER_NATS_JETSTREAM: 'true', MICRO_BROKER_NATS_STREAM: 'ORDERS', MICRO_BROKER_NATS_ACK_WAIT: '10s', MICRO_BROKER_NATS_START_FROM: 'all' },
      argv: [],
    });
    const chosen = plugins.find((plugin) => plugin.kind === 'broker')!;
    expect(chosen.origin).toBe('modules/broker-nats');
    expect(chosen.options).toMatchObject({ jetstream: true, stream: 'ORDERS', ackWait: 10_000, startFrom: 'all', maxAttempts: 5, subjectPrefix: '', maxInFlight: 32 });
    expect(chosen.options).toMatchObject({ wire: 'frame' });
    const headed = await loadConfig({ env: { MICRO_BROKER: 'nats', MICRO_BROKER_NATS_WIRE: 'headers' }, argv: [] });
    expect(headed.plugins.find((plugin) => plugin.kind === 'broker')!.options).toMatchObject({ wire: 'headers' });
    await expect(loadConfig({ env: { MICRO_BROKER: 'nats', MICRO_BROKER_NATS_WIRE: 'json' }, argv: [] })).rejects.toThrow(/wire/);
    await expect(loadConfig({ env: { MICRO_BROKER: 'nats', MICRO_BROKER_NATS_START_FROM: 'oldest' }, argv: [] })).rejects.toThrow(/startFrom/);
  });
});
