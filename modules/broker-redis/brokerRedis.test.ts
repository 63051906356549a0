import * as ioredis from 'ioredis';
import { afterAll, afterEach, beforeAll, expect, it } from '@jest/globals';
import { loadConfig, Tokens, type BrokerEvent } from '../../src/index.js';
import { silentLogger } from '../../src/logger/PinoLogger.js';
import { runBrokerContract } from '../../test/contracts/brokerContract.js';
import { TestApps } from '../../test/helpers/apps.js';
import { captureLogger } from '../../test/helpers/captureLogger.js';
import { eventually, sleep, uniqueName } from '../../test/helpers/eventually.js';
import { requireServer } from '../../test/servers/testServers.js';
import { calls, resetCalls, Shop } from '../../test/unit/fixtures.js';
import { encodeFrame } from './envelope.js';
import { RedisBroker, type RedisBrokerOptions } from './RedisBroker.js';
import { deleteKeys } from '../shared/redis/testSupport.js';

const server = await requireServer('redis');
const prefix = `${uniqueName('tsmicro-test')}:broker:`;
const text = (event: BrokerEvent) => Buffer.from(event.message.body).toString();

server.describe('broker-redis', () => {
  const admin = new ioredis.Redis(`redis://${server.address}`, { lazyConnect: true });
  beforeAll(() => admin.connect());
  afterAll(async () => {
    await deleteKeys(admin, prefix);
    admin.disconnect();
  });

  runBrokerContract('redis', {
    create: () => new RedisBroker(ioredis, { address: server.address, prefix, redeliveryDelayMs: 50, claimIntervalMs: 200, drainTimeoutMs: 1000 }, silentLogger),
    redelivers: true,
    quietMs: 500,
    durableQueues: true,
  });

  const brokers: RedisBroker[] = [];
  const open = async (options: Partial<RedisBrokerOptions> = {}, logger = silentLogger): Promise<RedisBroker> => {
    const broker = new RedisBroker(ioredis, { address: server.address, prefix, redeliveryDelayMs: 50, claimIntervalMs: 200, drainTimeoutMs: 1000, ...options }, logger);
    brokers.push(broker);
    await broker.connect();
    return broker;
  };
  const apps = new TestApps();
  afterEach(async () => {
    await apps.stopAll();
    await Promise.all(brokers.splice(0).map((broker) => broker.disconnect()));
  });
  const message = (body: string) => ({ headers: { 'x-test': 'yes' }, body: Buffer.from(body) });
  const deadLetters = async (broker: RedisBroker, topic: string) =>
    ((await admin.xrange(broker.keys.deadLetter(topic), '-', '+')) as [string, string[]][]).map(([, fields]) => Object.fromEntries(fields.flatMap((_, i) => (i % 2 === 0 ? [[fields[i], fields[i + 1]]] : [])))) as Record<string, string>[];

  it('frames pub/sub messages as documented (TSM1, headers length, headers, body)', async () => {
    const broker = await open();
    const topic = uniqueName('frame');
    const listener = admin.duplicate();
    const frames: Buffer[] = [];
    listener.on('messageBuffer', (_channel: Buffer, payload: Buffer) => frames.push(payload));
    await listener.subscribe(broker.keys.channel(topic));
    try {
      const sent = { headers: { 'content-type': 'application/json', 'x-é': 'ü' }, body: Buffer.from([0, 1, 255]) };
      await broker.publish(topic, sent);
      await eventually(() => expect(frames).toHaveLength(1));
      expect(frames[0]).toEqual(encodeFrame(sent));
    } finally {
      listener.disconnect();
    }
  });

  it('creates no stream for a topic without queue groups, and caps streams with MAXLEN ~', async () => {
    const broker = await open({ maxLen: 100 });
    const lonely = uniqueName('broadcast-only');
    await broker.publish(lonely, message('x'));
    expect(await admin.exists(broker.keys.stream(lonely))).toBe(0);
    const capped = uniqueName('capped');
    const subscription = await broker.subscribe(capped, async () => undefined, { queue: 'q' });
    await subscription.unsubscribe();
    for (let i = 0; i < 600; i++) await broker.publish(capped, message(`e${i}`));
    const length = await admin.xlen(broker.keys.stream(capped));
    expect(length).toBeGreaterThanOrEqual(100);
    expect(length).toBeLessThan(600);
  });

  it('drops a malformed pub/sub message with an error log, and the subscription keeps working', async () => {
    const logger = captureLogger();
    const broker = await open({}, logger);
    const topic = uniqueName('junk-pubsub');
    const got: string[] = [];
    await broker.subscribe(topic, async (event) => void got.push(text(event)));
    await admin.publish(broker.keys.channel(topic), 'raw junk');
    await admin.publish(broker.keys.channel(topic), Buffer.concat([Buffer.from('TSM1'), Buffer.from([0, 0, 0, 99]), Buffer.from('{}')]));
    await admin.publish(broker.keys.channel(topic), Buffer.concat([Buffer.from('TSM1'), Buffer.from([0, 0, 0, 2]), Buffer.from('[]')]));
    await broker.publish(topic, message('valid'));
    await eventually(() => expect(got).toEqual(['valid']));
    const errors = logger.lines.filter((line) => line.level === 'error' && line.message.includes('malformed pub/sub message'));
    expect(errors.map((line) => line.fields.error)).toEqual(['not a tsmicro event frame (no TSM1 prefix)', expect.stringMatching(/truncated/), 'headers are not a JSON object']);
  });

  it('dead-letters and acks a malformed stream entry, and the subscription keeps working', async () => {
    const logger = captureLogger();
    const broker = await open({}, logger);
    const topic = uniqueName('junk-stream');
    const got: string[] = [];
    await broker.subscribe(topic, async (event) => void got.push(text(event)), { queue: 'workers' });
    await admin.xadd(broker.keys.stream(topic), '*', 'garbage', 'yes');
    await admin.xadd(broker.keys.stream(topic), '*', 'headers', '"not an object"', 'body', 'x');
    await broker.publish(topic, message('valid'));
    await eventually(() => expect(got).toEqual(['valid']));
    await eventually(async () => expect(await deadLetters(broker, topic)).toHaveLength(2));
    const dead = await deadLetters(broker, topic);
    expect(dead[0]).toMatchObject({ 'dead.reason': 'malformed entry: entry lacks the headers and body fields', 'dead.group': 'workers', garbage: 'yes' });
    expect(dead[1]!['dead.reason']).toBe('malformed entry: headers are not a JSON object');
    expect(await admin.xpending(broker.keys.stream(topic), 'workers')).toEqual([0, null, null, null]);
    expect(logger.lines.some((line) => line.level === 'error' && line.message.includes('dead-letter'))).toBe(true);
  });

  it('moves an event to the dead-letter stream after maxDeliveries failed deliveries, with its headers and body', async () => {
    const broker = await open({ maxDeliveries: 3 });
    const topic = uniqueName('poison');
    const attempts: number[] = [];
    await broker.subscribe(
      topic,
      async (event) => {
        attempts.push(event.attempt);
        throw new Error('always fails');
      },
      { queue: 'workers' },
    );
    await broker.publish(topic, message('poison'));
    await eventually(async () => expect(await deadLetters(broker, topic)).toHaveLength(1), 10_000);
    expect(attempts).toEqual([1, 2, 3]);
    expect((await deadLetters(broker, topic))[0]).toMatchObject({ 'dead.reason': 'nacked on its last allowed delivery (3)', 'dead.deliveries': '3', headers: '{"x-test":"yes"}', body: 'poison' });
    expect(await admin.xpending(broker.keys.stream(topic), 'workers')).toEqual([0, null, null, null]);
  });

  it('dead-letters an event nacked without requeue', async () => {
    const broker = await open();
    const topic = uniqueName('rejected');
    await broker.subscribe(topic, (event) => event.nack({ requeue: false }), { queue: 'workers', ack: 'manual' });
    await broker.publish(topic, message('no thanks'));
    await eventually(async () => expect(await deadLetters(broker, topic)).toMatchObject([{ 'dead.reason': 'rejected by the subscriber (nack without requeue)', body: 'no thanks' }]));
  });

  it('starts a new queue group at new events, or at the beginning of the stream when configured', async () => {
    const broker = await open();
    const topic = uniqueName('start');
    await broker.subscribe(topic, async () => undefined, { queue: 'first' });
    await broker.publish(topic, message('early'));
    const fromStart = await open({ startFrom: 'beginning' });
    const [late, replayed] = [[] as string[], [] as string[]];
    await broker.subscribe(topic, async (event) => void late.push(text(event)), { queue: 'late' });
    await fromStart.subscribe(topic, async (event) => void replayed.push(text(event)), { queue: 'replay' });
    await broker.publish(topic, message('later'));
    await eventually(() => {
      expect(replayed).toEqual(['early', 'later']);
      expect(late).toEqual(['later']);
    });
  });

  it('fails with a clear 503 when Redis cannot be reached', async () => {
    const broker = new RedisBroker(ioredis, { address: '127.0.0.1:1', commandTimeoutMs: 300 }, silentLogger);
    await expect(broker.connect()).rejects.toMatchObject({ code: 503, detail: expect.stringMatching(/not reachable/) });
    await broker.disconnect();
  });

  it('is chosen by environment variables, with its options', async () => {
    const { plugins } = await loadConfig({
      env: { MICRO_BROKER: 'redis', MICRO_BROKER_ADDRESS: server.address, MICRO_BROKER_REDIS_CLAIM_IDLE: '1m', MICRO_BROKER_REDIS_START_FROM: 'beginning', MICRO_BROKER_REDIS_MAX_LEN: '0' },
      argv: [],
    });
    const broker = plugins.find((plugin) => plugin.kind === 'broker')!;
    expect(broker.origin).toBe('modules/broker-redis');
    expect(broker.options).toMatchObject({ claimIdle: 60_000, startFrom: 'beginning', maxLen: 0, maxDeliveries: 5, prefix: 'tsmicro:broker:' });
    await expect(loadConfig({ env: { MICRO_BROKER: 'redis', MICRO_BROKER_REDIS_START_FROM: 'yesterday' }, argv: [] })).rejects.toThrow(/startFrom/);
  });

  it('chosen by config, delivers a published event to a decorated subscriber, redelivers a failed one, dead-letters an invalid one', async () => {
    resetCalls();
    const config = {
      registry: { plugin: 'redis', address: server.address, options: { prefix: `${prefix}registry:` } },
      broker: { plugin: 'redis', address: server.address, options: { prefix, redeliveryDelay: 50, claimInterval: 200 } },
    };
    const shop = await apps.started({ services: [Shop], memory: false, config });
    expect(shop.get(Tokens.Broker).name).toBe('redis');
    const client = await apps.started({ memory: false, config });
    await client.client.publish('shop.restocked', { item: 'tea', quantity: 3 }, { metadata: { 'x-request-id': 'r-1' } });
    await client.client.publish('shop.restocked', { item: 'flaky', quantity: 1 });
    await client.client.publish('shop.restocked', { item: '', quantity: 0 });
    await eventually(() => expect(calls.events.map((event) => [(event.payload as { item: string }).item, event.attempt]).sort()).toEqual([['flaky', 1], ['flaky', 2], ['tea', 1]]), 10_000);
    expect(calls.events.find((event) => (event.payload as { item: string }).item === 'tea')!.metadata['x-request-id']).toBe('r-1');
    const broker = client.get(Tokens.Broker) as RedisBroker;
    await eventually(async () => expect(await deadLetters(broker, 'shop.restocked')).toMatchObject([{ 'dead.reason': 'rejected by the subscriber (nack without requeue)', 'dead.group': 'shop' }]));
    await sleep(300);
    expect(calls.events).toHaveLength(3);
  });
});
