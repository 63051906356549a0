import * as kafka from '@platformatic/kafka';
import { afterAll, afterEach, beforeAll, expect, it } from '@jest/globals';
import type { BrokerEvent } from '../../src/index.js';
import { captureLogger } from '../../test/helpers/captureLogger.js';
import { eventually, sleep, uniqueName } from '../../test/helpers/eventually.js';
import type { ServerInstance } from '../../test/servers/ServerInstance.js';
import { privateServer, requireServer } from '../../test/servers/testServers.js';
import type { KafkaBroker } from './KafkaBroker.js';
import { testBroker } from './testSupport.js';

const server = await requireServer('kafka');
const text = (event: BrokerEvent) => Buffer.from(event.message.body).toString();

/** A Kafka of its own (data kept across stop/start), stopped and started again under load. */
server.describe('broker-kafka faults (private server)', () => {
  let instance: ServerInstance;
  const brokers: KafkaBroker[] = [];
  beforeAll(async () => {
    instance = await privateServer('kafka');
  }, 120_000);
  afterEach(async () => {
    await Promise.all(brokers.splice(0).map((broker) => broker.disconnect()));
  });
  afterAll(async () => {
    await instance?.destroy();
  }, 60_000);

  it('a member removed from its group by an operator rejoins by itself, and nothing is lost', async () => {
    const topic = uniqueName('kicked');
    const logger = captureLogger();
    const [subscriber, publisher] = [testBroker(instance.address, {}, logger), testBroker(instance.address)];
    brokers.push(subscriber, publisher);
    const seen = new Set<string>();
    await subscriber.subscribe(topic, (event) => void seen.add(text(event)), { queue: 'kicked' });
    const sent: string[] = [];
    const publish = async (count: number) => {
      for (let i = 0; i < count; i++) {
        const body = `e${sent.length}`;
        await publisher.publish(topic, { headers: {}, body: Buffer.from(body) });
        sent.push(body);
      }
    };
    await publish(10);
    await eventually(() => expect(seen.size).toBe(10));
    const admin = new kafka.Admin({ clientId: 'tsmicro-test', bootstrapBrokers: [instance.address] });
    try {
      await admin.removeMembersFromConsumerGroup({ groupId: 'kicked' });
    } finally {
      await admin.close();
    }
    await publish(10);
    await eventually(() => expect(sent.filter((body) => !seen.has(body))).toEqual([]), 20_000, 100);
  }, 40_000);

  it('recovers by itself from a broker restart: every acknowledged publish is handled, by the queue group and a plain subscription', async () => {
    const topic = uniqueName('restart');
    const logger = captureLogger();
    const subscriber = testBroker(instance.address, {}, logger);
    const publisher = testBroker(instance.address, { publishTimeoutMs: 3000 });
    brokers.push(subscriber, publisher);
    const [queued, broadcast] = [new Map<string, number>(), new Map<string, number>()];
    const count = (seen: Map<string, number>) => (event: BrokerEvent) => void seen.set(text(event), (seen.get(text(event)) ?? 0) + 1);
    await subscriber.subscribe(topic, async (event) => {
      count(queued)(event);
      await sleep(5); // a little slower than the publisher, so there is a backlog when Kafka stops
    }, { queue: 'workers' });
    await subscriber.subscribe(topic, count(broadcast));

    const accepted: string[] = [];
    let rejected = 0;
    let publishing = true;
    const publishLoop = (async () => {
      for (let i = 0; publishing; i++) {
        const body = `e${i}`;
        try {
          await publisher.publish(topic, { headers: {}, body: Buffer.from(body) }, { key: `k${i % 10}` });
          accepted.push(body);
        } catch {
          rejected++;
        }
        await sleep(10);
      }
    })();
    await eventually(() => expect(accepted.length).toBeGreaterThan(100), 20_000);
    await instance.stop(); // SIGTERM: a clean shutdown, the log and the committed offsets stay on disk
    const stoppedAt = accepted.length;
    // Down for longer than the client's own retries (3, 1 s apart) cover, so the subscriptions must recover.
    await sleep(15_000);
    await instance.start();
    await eventually(() => expect(accepted.length).toBeGreaterThan(stoppedAt + 100), 60_000, 100);
    publishing = false;
    await publishLoop;

    const lost = (seen: Map<string, number>) => accepted.filter((body) => !seen.has(body));
    await eventually(() => {
      expect(lost(queued)).toEqual([]);
      expect(lost(broadcast)).toEqual([]);
    }, 60_000, 250);
    const twice = (seen: Map<string, number>) => [...seen.values()].filter((times) => times > 1).length;
    if (process.env.KAFKA_TEST_LOGS) console.log(logger.lines.map((line) => `${line.level} ${line.message} ${JSON.stringify(line.fields)}`).join('\n'));
    const interruptions = logger.lines.filter((line) => line.message.startsWith('broker: consumer interrupted')).length;
    console.log(`kafka broker restart: ${accepted.length} publishes acknowledged, ${rejected} rejected while Kafka was down; lost 0 (queue group and plain subscription); handled more than once: ${twice(queued)} (queue group), ${twice(broadcast)} (plain subscription); consumer streams restarted ${interruptions} times`);
  }, 150_000);
});
