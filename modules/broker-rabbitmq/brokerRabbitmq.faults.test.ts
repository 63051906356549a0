import { afterAll, afterEach, beforeAll, expect, it } from '@jest/globals';
import * as amqplib from 'amqplib';
import type { BrokerEvent } from '../../src/index.js';
import { silentLogger } from '../../src/logger/PinoLogger.js';
import { distPath, NodeProcess } from '../../test/helpers/childProcess.js';
import { eventually, sleep, uniqueName } from '../../test/helpers/eventually.js';
import { privateServer, requireServer } from '../../test/servers/testServers.js';
import type { ServerInstance } from '../../test/servers/ServerInstance.js';
import { amqpUrls } from '../shared/amqp/addresses.js';
import { amqpLibrary } from '../shared/amqp/AmqpConnection.js';
import { RabbitBroker } from './RabbitBroker.js';

// The shared server only tells whether RabbitMQ is installed and expected here; the faults hit a private one.
const shared = await requireServer('rabbitmq');
const library = amqpLibrary(amqplib);
const text = (event: BrokerEvent): string => Buffer.from(event.message.body).toString();

shared.describe('broker-rabbitmq faults (private RabbitMQ)', () => {
  let instance: ServerInstance;
  const opened: RabbitBroker[] = [];
  const children: NodeProcess[] = [];
  beforeAll(async () => {
    instance = await privateServer('rabbitmq');
  }, 90_000);
  afterEach(async () => {
    for (const child of children.splice(0)) child.kill('SIGKILL');
    await Promise.all(opened.splice(0).map((broker) => broker.disconnect()));
  }, 30_000);
  afterAll(() => instance?.destroy(), 60_000);

  /** A broker on the private server, with the plugin's defaults except a publish timeout that outlasts a restart. */
  const open = async (): Promise<RabbitBroker> => {
    const broker = new RabbitBroker(library, {
      urls: amqpUrls([instance.address]),
      exchange: 'tsmicro',
      deadLetterExchange: '',
      deadLetterQueue: '',
      queueExpiryMs: 0,
      prefetch: 10,
      maxAttempts: 5,
      redeliveryDelayMs: 100,
      publishTimeoutMs: 60_000,
      connectTimeoutMs: 10_000,
      heartbeatSeconds: 10,
      reconnectInitialMs: 100,
      reconnectMaxMs: 1000,
      drainTimeoutMs: 2000,
      logger: silentLogger,
    });
    await broker.connect();
    opened.push(broker);
    return broker;
  };

  it('gives the event of a subscriber process killed before acking to another member of its group', async () => {
    const topic = uniqueName('killed');
    const env = { MICRO_BROKER: 'rabbitmq', MICRO_BROKER_ADDRESS: instance.address, MICRO_REGISTRY: 'memory', MICRO_TRANSPORT: 'memory', MICRO_LOG_LEVEL: 'warn', TSMICRO_TEST_TOPIC: topic };
    const child = new NodeProcess(distPath('modules', 'broker-rabbitmq', 'fixtures', 'subscriber.js'), [], env);
    children.push(child);
    await child.waitFor(/^ready$/, 20_000);
    const publisher = await open();
    await publisher.publish(topic, { headers: { 'content-type': 'application/json' }, body: Buffer.from('{"order":42}') });
    await child.waitFor(/^received \{"order":42\} attempt 1$/);

    const survivor = await open();
    const got: { body: string; attempt: number }[] = [];
    await survivor.subscribe(topic, async (event) => void got.push({ body: text(event), attempt: event.attempt }), { queue: 'workers' });
    await sleep(300);
    expect(got).toEqual([]); // held, unacknowledged, by the other process
    child.kill('SIGKILL');
    await child.exited();
    await eventually(() => expect(got).toEqual([{ body: '{"order":42}', attempt: 2 }]), 10_000);
  }, 60_000);

  it('across a restart of RabbitMQ, publishes resume and a queue group loses nothing that was confirmed', async () => {
    const topic = uniqueName('restart');
    const [publisher, subscriber] = [await open(), await open()];
    const group = new Map<string, number>();
    const broadcast = new Set<string>();
    await subscriber.subscribe(topic, async (event) => void group.set(text(event), (group.get(text(event)) ?? 0) + 1), { queue: 'durable' });
    await subscriber.subscribe(topic, async (event) => void broadcast.add(text(event)));

    const total = 150;
    let confirmed = 0;
    let slowest = 0;
    const failed: string[] = [];
    const publishing = (async () => {
      for (let i = 0; i < total; i++) {
        const started = Date.now();
        try {
          await publisher.publish(topic, { headers: {}, body: Buffer.from(`e${i}`) });
          confirmed++;
        } catch (error) {
          failed.push(`e${i}: ${(error as Error).message}`);
        }
        slowest = Math.max(slowest, Date.now() - started);
        await sleep(15);
      }
    })();
    await eventually(() => expect(confirmed).toBeGreaterThan(20));
    await instance.restart();
    await publishing;
    expect(failed).toEqual([]);
    await eventually(() => expect(group.size).toBe(total), 30_000);
    await sleep(500);
    const duplicates = [...group.values()].reduce((sum, count) => sum + count - 1, 0);
    console.log(`broker across a RabbitMQ restart (SIGTERM): ${total} published, all confirmed (the longest publish waited ${slowest} ms); queue group received all ${group.size} (${duplicates} delivered twice); broadcast subscription received ${broadcast.size}, lost ${total - broadcast.size}`);
    expect(group.size).toBe(total);
  }, 90_000);

  it('keeps events confirmed to a queue group through a crash of RabbitMQ (kill -9)', async () => {
    const topic = uniqueName('crash');
    const first = await open();
    // Declares the group's durable queue, then leaves it without a member: the events wait there.
    await (await first.subscribe(topic, async () => undefined, { queue: 'kept' })).unsubscribe();
    const total = 100;
    for (let i = 0; i < total; i++) await first.publish(topic, { headers: {}, body: Buffer.from(`e${i}`) });
    await instance.stop('SIGKILL');
    await instance.start();
    const got = new Set<string>();
    const after = await open();
    await after.subscribe(topic, async (event) => void got.add(text(event)), { queue: 'kept' });
    await eventually(() => expect(got.size).toBe(total), 20_000);
    console.log(`broker across a crash of RabbitMQ (SIGKILL): ${total} confirmed before the crash, ${got.size} delivered after it`);
  }, 90_000);
});
