import { afterEach, expect, it } from '@jest/globals';
import * as mqtt from 'mqtt';
import { loadConfig, Tokens, type Broker, type BrokerEvent } from '../../src/index.js';
import { TestApps } from '../../test/helpers/apps.js';
import { captureLogger } from '../../test/helpers/captureLogger.js';
import { eventually, sleep, uniqueName } from '../../test/helpers/eventually.js';
import { requireServer } from '../../test/servers/testServers.js';
import { calls, resetCalls, Shop } from '../../test/unit/fixtures.js';
import { checkTopicPrefix, mqttTopic, sessionClientId, subscriptionFilter } from './topics.js';
import { testBroker } from './testSupport.js';

const server = await requireServer('mosquitto');

server.describe('broker-mqtt', () => {
  const apps = new TestApps();
  const brokers: Broker[] = [];
  const raws: mqtt.MqttClient[] = [];
  const open = async (options: Parameters<typeof testBroker>[1] = {}, logger = captureLogger()): Promise<Broker> => {
    const broker = testBroker(server.address, options, logger);
    await broker.connect();
    brokers.push(broker);
    return broker;
  };
  const raw = async (): Promise<mqtt.MqttClient> => {
    const client = await mqtt.connectAsync(`mqtt://${server.address}`, { protocolVersion: 5, reconnectPeriod: 0 });
    raws.push(client);
    return client;
  };
  const bodies = (events: BrokerEvent[]): string[] => events.map((event) => Buffer.from(event.message.body).toString());
  afterEach(async () => {
    await apps.stopAll();
    await Promise.all(brokers.splice(0).map((broker) => broker.disconnect()));
    await Promise.all(raws.splice(0).map((client) => client.endAsync()));
    resetCalls();
  });

  it('maps topics to exact MQTT topic names: "/" is a level, wildcards and "%" are escaped', () => {
    expect(mqttTopic('tsmicro/', 'orders.placed')).toBe('tsmicro/orders.placed');
    expect(mqttTopic('tsmicro/', 'sensors/room1')).toBe('tsmicro/sensors/room1');
    expect(mqttTopic('tsmicro/', 'a+b#c%2B')).toBe('tsmicro/a%2Bb%23c%252B');
    expect(mqttTopic('', '$SYS/x')).toBe('%24SYS/x');
    expect(subscriptionFilter('tsmicro/', 'orders', 'billing/eu+1')).toBe('$share/billing%2Feu%2B1/tsmicro/orders');
    expect(() => mqttTopic('tsmicro/', '')).toThrow(/non-empty/);
    expect(() => checkTopicPrefix('a/+/')).toThrow(/must not contain/);
    expect(() => checkTopicPrefix('$share/')).toThrow(/must not start with "\$"/);
    expect(sessionClientId('svc-1', 'tsmicro/x', 0)).toMatch(/^svc-1-[0-9a-f]{12}$/);
    expect(sessionClientId('svc-1', 'tsmicro/x', 1)).toBe(`${sessionClientId('svc-1', 'tsmicro/x', 0)}-1`);
  });

  it('is chosen by config alone: a decorated subscriber gets a published event with its metadata, and a failing one again', async () => {
    const topicPrefix = `${uniqueName('tsmicro-app')}/`;
    const config = { broker: { plugin: 'mqtt', address: server.address, options: { topicPrefix } }, registry: 'memory', transport: 'memory' };
    const shop = await apps.started({ services: [Shop], memory: false, config });
    expect(shop.get(Tokens.Broker).name).toBe('mqtt');
    const client = await apps.started({ memory: false, config });
    await expect(client.client.call('shop', 'Shop.place', { item: 'tea', quantity: 1 })).resolves.toMatchObject({ accepted: 'tea' });
    await client.client.publish('shop.restocked', { item: 'cups', quantity: 3 }, { metadata: { 'x-request-id': 'r-1' } });
    await client.client.publish('shop.restocked', { item: 'flaky', quantity: 1 });
    await eventually(() => expect(calls.events).toHaveLength(3));
    expect(calls.events[0]).toMatchObject({ payload: { item: 'cups', quantity: 3 }, attempt: 1, metadata: { 'x-request-id': 'r-1' } });
    expect(calls.events.filter((event) => (event.payload as { item: string }).item === 'flaky').map((event) => event.attempt)).toEqual([1, 2]);
  });

  it('is chosen by environment variables, with its options', async () => {
    const topicPrefix = `${uniqueName('tsmicro-env')}/`;
    const env = { MICRO_BROKER: 'mqtt', MICRO_BROKER_ADDRESS: server.address, MICRO_BROKER_MQTT_TOPIC_PREFIX: topicPrefix, MICRO_BROKER_MQTT_ACK_TIMEOUT: '5s', MICRO_REGISTRY: 'memory', MICRO_TRANSPORT: 'memory' };
    const { plugins } = await loadConfig({ env, argv: [], cwd: process.cwd() });
    const plugin = plugins.find((candidate) => candidate.kind === 'broker')!;
    expect(plugin.origin).toBe('modules/broker-mqtt');
    expect(plugin.options).toMatchObject({ topicPrefix, ackTimeout: 5000, keepalive: 60_000, clientId: '', maxAttempts: 5 });
    const shop = await apps.started({ services: [Shop], memory: false, sources: { env, argv: [] } });
    const client = await apps.started({ memory: false, sources: { env, argv: [] } });
    await client.client.publish('shop.restocked', { item: 'saucers', quantity: 2 });
    await eventually(() => expect(calls.events.map((event) => event.payload)).toEqual([{ item: 'saucers', quantity: 2 }]));
    expect(shop.get(Tokens.Broker).name).toBe('mqtt');
  });

  it('logs and drops junk published on a subscribed topic by a raw MQTT client; the subscription keeps working', async () => {
    const topicPrefix = `${uniqueName('tsmicro-junk')}/`;
    const logger = captureLogger();
    const config = { broker: { plugin: 'mqtt', address: server.address, options: { topicPrefix } }, registry: 'memory', transport: 'memory' };
    await apps.started({ services: [Shop], memory: false, config, logger });
    const publisher = await raw();
    const topic = `${topicPrefix}shop.restocked`;
    await publisher.publishAsync(topic, Buffer.from('{not json'), { qos: 1 });
    await publisher.publishAsync(topic, Buffer.from([0xff, 0x00, 0xfe]), { qos: 0, properties: { contentType: 'application/json', userProperties: { 'X-Dup': ['a', 'b'] } } });
    await publisher.publishAsync(topic, '{"item":"","quantity":-1}', { qos: 1 });
    await publisher.publishAsync(topic, 'x', { qos: 1, properties: { contentType: 'application/x-unknown' } });
    const rejected = () => logger.lines.filter((line) => line.message === 'event rejected');
    await eventually(() => expect(rejected()).toHaveLength(4));
    expect(rejected().map((line) => String(line.fields.error))).toEqual(expect.arrayContaining([expect.stringMatching(/not valid application\/json/), expect.stringMatching(/item|quantity/)]));
    await publisher.publishAsync(topic, JSON.stringify({ item: 'mugs', quantity: 1 }), { qos: 1, properties: { contentType: 'application/json' } });
    await eventually(() => expect(calls.events.map((event) => event.payload)).toEqual([{ item: 'mugs', quantity: 1 }]));
    await sleep(300);
    // Dropped means dropped: PUBACKed with "not accepted", never delivered again.
    expect(rejected()).toHaveLength(4);
  });

  it('treats "+" and "#" in topic names literally, and takes hierarchical topics from any MQTT client', async () => {
    const topicPrefix = `${uniqueName('tsmicro-topics')}/`;
    const subscriber = await open({ topicPrefix });
    const [literal, exact] = [[] as BrokerEvent[], [] as BrokerEvent[]];
    await subscriber.subscribe('sensors/+', async (event) => void literal.push(event));
    await subscriber.subscribe('sensors/room1', async (event) => void exact.push(event));
    await (await raw()).publishAsync(`${topicPrefix}sensors/room1`, '21.5', { qos: 1 });
    const publisher = await open({ topicPrefix });
    await publisher.publish('sensors/+', { headers: {}, body: Buffer.from('plus') });
    await eventually(() => expect(bodies(exact)).toEqual(['21.5']));
    await eventually(() => expect(bodies(literal)).toEqual(['plus']));
    expect(exact[0]!.topic).toBe('sensors/room1');
  });

  it('gives up an event whose handler does not settle within the ack timeout, and goes on with the next', async () => {
    const topicPrefix = `${uniqueName('tsmicro-ack')}/`;
    const logger = captureLogger();
    const subscriber = await open({ topicPrefix, ackTimeoutMs: 300, keepaliveMs: 1000 }, logger);
    const seen: string[] = [];
    await subscriber.subscribe(
      'work',
      async (event) => {
        const body = Buffer.from(event.message.body).toString();
        seen.push(`${body}#${event.attempt}`);
        if (body === 'stuck') await new Promise(() => undefined);
        if (body === 'unsettled') return; // manual mode, never acked
        await event.ack();
      },
      { ack: 'manual' },
    );
    const publisher = await open({ topicPrefix });
    for (const body of ['stuck', 'unsettled', 'fine']) await publisher.publish('work', { headers: {}, body: Buffer.from(body) });
    await eventually(() => expect(seen).toEqual(['stuck#1', 'unsettled#1', 'fine#1']));
    const dropped = logger.lines.filter((line) => line.level === 'error' && line.message === 'mqtt broker: dropping event');
    expect(dropped.map((line) => line.fields.reason)).toEqual([expect.stringMatching(/ack timeout/), expect.stringMatching(/ack timeout/)]);
  });

  it('refuses options that cannot work, and names the broker it cannot reach', async () => {
    expect(() => testBroker(server.address, { ackTimeoutMs: 40_000, keepaliveMs: 60_000 })).toThrow(/at most half the keepalive/);
    expect(() => testBroker(server.address, { topicPrefix: 'a/#' })).toThrow(/must not contain/);
    expect(() => testBroker('http://127.0.0.1:1883')).toThrow(/supported are mqtt:\/\/, mqtts:\/\//);
    await expect(testBroker('127.0.0.1:1', { connectTimeoutMs: 1000 }).connect()).rejects.toThrow(/publisher cannot connect to mqtt:\/\/127.0.0.1:1/);
    const broker = await open();
    await expect(broker.publish('', { headers: {}, body: new Uint8Array() })).rejects.toThrow(/non-empty/);
    await expect(broker.subscribe('x', async () => undefined, { ack: 'later' as never })).rejects.toThrow(/unknown ack mode/);
  });

  it('persistent sessions keep what was published while the subscriber was away; clean sessions do not', async () => {
    const topicPrefix = `${uniqueName('tsmicro-durable')}/`;
    const clientId = uniqueName('durable');
    const publisher = await open({ topicPrefix });
    const [durable, clean] = [[] as BrokerEvent[], [] as BrokerEvent[]];
    const away = await open({ topicPrefix, clientId, sessionExpiryMs: 30_000 });
    await away.subscribe('orders', async (event) => void durable.push(event));
    const cleanAway = await open({ topicPrefix });
    await cleanAway.subscribe('orders', async (event) => void clean.push(event));
    await away.disconnect();
    await cleanAway.disconnect();
    for (let i = 0; i < 5; i++) await publisher.publish('orders', { headers: {}, body: Buffer.from(`o${i}`) });
    const back = await open({ topicPrefix, clientId, sessionExpiryMs: 1000 });
    await back.subscribe('orders', async (event) => void durable.push(event));
    const cleanBack = await open({ topicPrefix });
    await cleanBack.subscribe('orders', async (event) => void clean.push(event));
    await eventually(() => expect(bodies(durable)).toEqual(['o0', 'o1', 'o2', 'o3', 'o4']));
    await sleep(300);
    expect(clean).toHaveLength(0);
  });

  it('with persistent sessions, mosquitto keeps routing a queue member its share while it is away (it gets them on return)', async () => {
    const topicPrefix = `${uniqueName('tsmicro-share')}/`;
    const [present, returning] = [[] as BrokerEvent[], [] as BrokerEvent[]];
    const memberA = await open({ topicPrefix, clientId: uniqueName('member-a'), sessionExpiryMs: 5000 });
    await memberA.subscribe('jobs', async (event) => void present.push(event), { queue: 'workers' });
    const clientB = uniqueName('member-b');
    const memberB = await open({ topicPrefix, clientId: clientB, sessionExpiryMs: 30_000 });
    await memberB.subscribe('jobs', async (event) => void returning.push(event), { queue: 'workers' });
    await memberB.disconnect();
    const publisher = await open({ topicPrefix });
    for (let i = 0; i < 10; i++) await publisher.publish('jobs', { headers: {}, body: Buffer.from(`j${i}`) });
    await eventually(() => expect(present.length).toBeGreaterThan(0));
    await sleep(300);
    const whileAway = present.length;
    const back = await open({ topicPrefix, clientId: clientB, sessionExpiryMs: 1000 });
    await back.subscribe('jobs', async (event) => void returning.push(event), { queue: 'workers' });
    await eventually(() => expect(present.length + returning.length).toBe(10));
    // Measured on mosquitto 2.0.11: round robin over members whether connected or not, so about half waited.
    expect(whileAway).toBeLessThan(10);
    expect(returning.length).toBe(10 - whileAway);
  });
});
