import { afterAll, afterEach, beforeAll, expect, it } from '@jest/globals';
import * as amqplib from 'amqplib';
import { Headers, loadConfig, Tokens, type App, type BrokerEvent } from '../../src/index.js';
import { silentLogger } from '../../src/logger/PinoLogger.js';
import { TestApps } from '../../test/helpers/apps.js';
import { captureLogger } from '../../test/helpers/captureLogger.js';
import { eventually, sleep, uniqueName } from '../../test/helpers/eventually.js';
import { runBrokerContract } from '../../test/contracts/brokerContract.js';
import { requireServer } from '../../test/servers/testServers.js';
import { calls, resetCalls, Shop } from '../../test/unit/fixtures.js';
import { amqpUrls } from '../shared/amqp/addresses.js';
import { amqpLibrary } from '../shared/amqp/AmqpConnection.js';
import { ATTEMPT_HEADER } from './eventHeaders.js';
import { RabbitBroker, type RabbitBrokerOptions } from './RabbitBroker.js';

const server = await requireServer('rabbitmq');
const library = amqpLibrary(amqplib);
const url = amqpUrls([server.address])[0]!;

/** A broker as the plugin's create() builds it, with test-friendly timings; group queues expire after the tests. */
function broker(overrides: Partial<RabbitBrokerOptions> = {}): RabbitBroker {
  return new RabbitBroker(library, {
    urls: [url],
    exchange: 'tsmicro',
    deadLetterExchange: '',
    deadLetterQueue: '',
    queueExpiryMs: 60_000,
    prefetch: 10,
    maxAttempts: 5,
    redeliveryDelayMs: 20,
    publishTimeoutMs: 5000,
    connectTimeoutMs: 5000,
    heartbeatSeconds: 10,
    reconnectInitialMs: 100,
    reconnectMaxMs: 1000,
    drainTimeoutMs: 2000,
    logger: silentLogger,
    ...overrides,
  });
}

const text = (event: BrokerEvent): string => Buffer.from(event.message.body).toString();

/** A raw AMQP connection, to look at and put on the wire what the broker would not. */
async function rawChannel(): Promise<{ channel: amqplib.Channel; queueInfo: (queue: string) => Promise<amqplib.Replies.AssertQueue>; close: () => Promise<void> }> {
  const connection = await amqplib.connect(url);
  connection.on('error', () => undefined);
  const channel = await connection.createChannel();
  channel.on('error', () => undefined);
  /** A missing queue closes the channel that asks: each check gets its own. */
  const queueInfo = async (queue: string) => {
    const checker = await connection.createChannel();
    checker.on('error', () => undefined);
    try {
      return await checker.checkQueue(queue);
    } finally {
      await checker.close().catch(() => undefined);
    }
  };
  return { channel, queueInfo, close: () => connection.close() };
}

/** Exchanges and queues a test declared on the shared server, deleted afterwards. */
const declared = { exchanges: new Set<string>(), queues: new Set<string>() };
afterAll(async () => {
  if (!server.available) return;
  const { channel, close } = await rawChannel();
  for (const queue of declared.queues) await channel.deleteQueue(queue);
  for (const exchange of declared.exchanges) await channel.deleteExchange(exchange);
  await close();
});

server.describe('broker-rabbitmq', () => {
  runBrokerContract('rabbitmq', { create: () => broker(), redelivers: true, quietMs: 300, durableQueues: true });

  describe('plugin behaviour', () => {
    const opened: RabbitBroker[] = [];
    const open = async (overrides: Partial<RabbitBrokerOptions> = {}): Promise<RabbitBroker> => {
      const created = broker(overrides);
      await created.connect();
      opened.push(created);
      return created;
    };
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((created) => created.disconnect()));
    });
    const deadLetters = () => {
      const names = { deadLetterExchange: uniqueName('tsmicro.test.dlx'), deadLetterQueue: uniqueName('tsmicro.test.dlq') };
      declared.exchanges.add(names.deadLetterExchange);
      declared.queues.add(names.deadLetterQueue);
      return names;
    };

    it('dead-letters an event after its last attempt, counting attempts on each redelivery', async () => {
      const dead = deadLetters();
      const [publisher, subscriber] = [await open(dead), await open({ ...dead, maxAttempts: 3 })];
      const topic = uniqueName('always.fails');
      const attempts: number[] = [];
      await subscriber.subscribe(topic, async (event) => {
        attempts.push(event.attempt);
        throw new Error('broken handler');
      }, { queue: 'workers' });
      await publisher.publish(topic, { headers: { 'x-trace': 't1' }, body: Buffer.from('doomed') });
      const { channel, close } = await rawChannel();
      try {
        const letter = await eventually(async () => {
          const got = await channel.get(dead.deadLetterQueue, { noAck: true });
          if (!got) throw new Error('nothing dead-lettered yet');
          return got;
        }, 10_000, 100);
        expect(attempts).toEqual([1, 2, 3]);
        expect(letter.content.toString()).toBe('doomed');
        expect(letter.fields.routingKey).toBe(topic);
        expect(letter.properties.headers).toMatchObject({ 'x-trace': 't1', [ATTEMPT_HEADER]: 3 });
        expect(letter.properties.headers!['x-death']![0]).toMatchObject({ reason: 'rejected' });
      } finally {
        await close();
      }
    });

    it('redelivers a failed event to a broadcast subscription too', async () => {
      const [publisher, subscriber] = [await open(), await open()];
      const topic = uniqueName('broadcast.retry');
      const attempts: number[] = [];
      await subscriber.subscribe(topic, async (event) => {
        attempts.push(event.attempt);
        if (event.attempt === 1) throw new Error('once');
      });
      await publisher.publish(topic, { headers: {}, body: Buffer.from('again') });
      await eventually(() => expect(attempts).toEqual([1, 2]));
    });

    it('dead-letters an event a handler rejects, without redelivering it', async () => {
      const dead = deadLetters();
      const [publisher, subscriber] = [await open(dead), await open(dead)];
      const topic = uniqueName('rejected');
      const seen: BrokerEvent[] = [];
      await subscriber.subscribe(topic, async (event) => {
        seen.push(event);
        await event.nack({ requeue: false });
      }, { ack: 'manual' });
      await publisher.publish(topic, { headers: {}, body: Buffer.from('no thanks') });
      const { queueInfo, close } = await rawChannel();
      try {
        await eventually(async () => expect(await queueInfo(dead.deadLetterQueue)).toMatchObject({ messageCount: 1 }), 5000, 100);
        expect(seen).toHaveLength(1);
      } finally {
        await close();
      }
    });

    it('keeps events for a queue group while no member runs, and hands them to the next member', async () => {
      const topic = uniqueName('waiting');
      const first = await open();
      const got: string[] = [];
      const subscription = await first.subscribe(topic, async (event) => void got.push(text(event)), { queue: 'later' });
      await subscription.unsubscribe();
      const publisher = await open();
      for (const body of ['a', 'b', 'c']) await publisher.publish(topic, { headers: {}, body: Buffer.from(body) });
      const second = await open();
      await second.subscribe(topic, async (event) => void got.push(text(event)), { queue: 'later' });
      await eventually(() => expect(got).toEqual(['a', 'b', 'c']));
    });

    it('declares and binds its queue again when it is deleted under it', async () => {
      const [publisher, subscriber] = [await open(), await open()];
      const topic = uniqueName('deleted');
      const got: string[] = [];
      await subscriber.subscribe(topic, async (event) => void got.push(text(event)), { queue: 'phoenix' });
      const { channel, queueInfo, close } = await rawChannel();
      try {
        await channel.deleteQueue(`tsmicro.${topic}.phoenix`);
        await eventually(async () => expect((await queueInfo(`tsmicro.${topic}.phoenix`)).consumerCount).toBe(1), 5000, 100);
      } finally {
        await close();
      }
      await publisher.publish(topic, { headers: {}, body: Buffer.from('risen') });
      await eventually(() => expect(got).toEqual(['risen']));
    });

    it('runs at most `prefetch` handlers of a subscription at once', async () => {
      const [publisher, subscriber] = [await open(), await open({ prefetch: 2 })];
      const topic = uniqueName('prefetch');
      let running = 0;
      let most = 0;
      let done = 0;
      await subscriber.subscribe(topic, async () => {
        most = Math.max(most, ++running);
        await sleep(100);
        running--;
        done++;
      }, { queue: 'slow' });
      for (let i = 0; i < 6; i++) await publisher.publish(topic, { headers: {}, body: Buffer.from(String(i)) });
      await eventually(() => expect(done).toBe(6), 10_000);
      expect(most).toBe(2);
    });

    it('publishes persistent AMQP messages with the headers as AMQP headers, readable by any AMQP client', async () => {
      const publisher = await open();
      const topic = uniqueName('interop');
      const { channel, close } = await rawChannel();
      try {
        const { queue } = await channel.assertQueue('', { exclusive: true });
        await channel.bindQueue(queue, 'tsmicro', topic);
        await publisher.publish(topic, { headers: { [Headers.contentType]: 'application/json', [Headers.eventId]: 'e-1', 'x-unicode': 'é→世' }, body: Buffer.from('{"a":1}') });
        const message = await eventually(async () => {
          const got = await channel.get(queue, { noAck: true });
          if (!got) throw new Error('not yet');
          return got;
        });
        expect(message.properties).toMatchObject({ deliveryMode: 2, contentType: 'application/json', messageId: 'e-1', headers: { 'x-unicode': 'é→世', [Headers.eventId]: 'e-1' } });
      } finally {
        await close();
      }
    });

    it('fails connect, publish and subscribe with a clear error when RabbitMQ cannot be reached', async () => {
      const unreachable = broker({ urls: ['amqp://guest:guest@127.0.0.1:1'], connectTimeoutMs: 500 });
      await expect(unreachable.connect()).rejects.toThrow(/cannot connect to RabbitMQ at amqp:\/\/guest:\*\*\*@127\.0\.0\.1:1/);
      await expect(unreachable.publish('t', { headers: {}, body: Buffer.from('x') })).rejects.toThrow(/cannot connect/);
      await expect(unreachable.subscribe('t', async () => undefined)).rejects.toThrow(/cannot connect/);
      await unreachable.disconnect();
    });

    it('reports a subscription whose queue exists with other arguments', async () => {
      const topic = uniqueName('clash');
      const first = await open({ queueExpiryMs: 60_000 });
      await first.subscribe(topic, async () => undefined, { queue: 'q' });
      const second = await open({ queueExpiryMs: 30_000 });
      await expect(second.subscribe(topic, async () => undefined, { queue: 'q' })).rejects.toThrow(/cannot subscribe to .*PRECONDITION_FAILED/);
      // The broker is still usable.
      const got: string[] = [];
      await second.subscribe(topic, async (event) => void got.push(text(event)));
      await first.publish(topic, { headers: {}, body: Buffer.from('still works') });
      await eventually(() => expect(got).toEqual(['still works']));
    });
  });

  describe('through an App, chosen by config', () => {
    const apps = new TestApps();
    const exchange = uniqueName('tsmicro.test.app');
    const dead = { deadLetterExchange: `${exchange}.dlx`, deadLetterQueue: `${exchange}.dlq` };
    const config = { broker: { plugin: 'rabbitmq', address: server.address, options: { exchange, ...dead, queueExpiry: '60s', redeliveryDelay: '10ms' } }, registry: 'memory', transport: 'memory' };
    const logger = captureLogger();
    let client: App;
    beforeAll(async () => {
      declared.exchanges.add(exchange).add(`${exchange}.retry`).add(dead.deadLetterExchange);
      declared.queues.add(dead.deadLetterQueue).add(`${exchange}.shop.restocked.shop`);
      resetCalls();
      await apps.started({ services: [Shop], memory: false, config, logger });
      client = await apps.started({ memory: false, config });
    });
    afterAll(() => apps.stopAll());

    it('delivers decorated subscribers their events, with metadata, redelivering a failed one', async () => {
      expect(client.get(Tokens.Broker).name).toBe('rabbitmq');
      await client.client.publish('shop.restocked', { item: 'tea', quantity: 3 }, { metadata: { 'x-request-id': 'r9' } });
      await client.client.publish('shop.restocked', { item: 'flaky', quantity: 1 });
      await eventually(() => expect(calls.events.map((event) => [(event.payload as { item: string }).item, event.attempt])).toEqual(expect.arrayContaining([['tea', 1], ['flaky', 1], ['flaky', 2]])), 10_000);
      expect(calls.events.find((event) => (event.payload as { item: string }).item === 'tea')!.metadata).toMatchObject({ 'x-request-id': 'r9' });
    });

    it('dead-letters malformed and invalid events with a logged error, and the subscription keeps working', async () => {
      const { channel, queueInfo, close } = await rawChannel();
      try {
        channel.publish(exchange, 'shop.restocked', Buffer.from('{not json'), { contentType: 'application/json', headers: { n: 1, nested: { deep: [1] } } });
        channel.publish(exchange, 'shop.restocked', Buffer.from([0xff, 0x00, 0x13]), {});
        await client.client.publish('shop.restocked', { item: '', quantity: 0 });
        await eventually(async () => expect(await queueInfo(dead.deadLetterQueue)).toMatchObject({ messageCount: 3 }), 10_000, 100);
      } finally {
        await close();
      }
      expect(logger.lines.filter((line) => line.message === 'event rejected' && line.level === 'error')).toHaveLength(3);
      expect(logger.lines.filter((line) => line.message.includes(`rejected by its subscriber; dead-lettered to "${dead.deadLetterExchange}"`))).toHaveLength(3);
      await client.client.publish('shop.restocked', { item: 'after', quantity: 1 });
      await eventually(() => expect(calls.events.map((event) => (event.payload as { item: string }).item)).toContain('after'));
    });

    it('is chosen by environment variables, with its options', async () => {
      const env = { MICRO_BROKER: 'rabbitmq', MICRO_BROKER_ADDRESS: server.address, MICRO_BROKER_RABBITMQ_PREFETCH: '3', MICRO_BROKER_RABBITMQ_DEAD_LETTER_EXCHANGE: 'dlx', MICRO_BROKER_RABBITMQ_PUBLISH_TIMEOUT: '2s' };
      const { plugins } = await loadConfig({ env, argv: [] });
      const chosen = plugins.find((plugin) => plugin.kind === 'broker')!;
      expect(chosen.origin).toBe('modules/broker-rabbitmq');
      expect(chosen.options).toMatchObject({ exchange: 'tsmicro', prefetch: 3, deadLetterExchange: 'dlx', publishTimeout: 2000, maxAttempts: 5 });
      await expect(loadConfig({ env: { ...env, MICRO_BROKER_RABBITMQ_PREFETCH: '0' }, argv: [] })).rejects.toThrow(/prefetch/);
    });
  });
});
