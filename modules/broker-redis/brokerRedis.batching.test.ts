import * as ioredis from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from '@jest/globals';
import type { BrokerEvent } from '../../src/index.js';
import { silentLogger } from '../../src/logger/PinoLogger.js';
import { eventually, uniqueName } from '../../test/helpers/eventually.js';
import type { ServerInstance } from '../../test/servers/ServerInstance.js';
import { privateServer, requireServer } from '../../test/servers/testServers.js';
import { RedisBroker } from './RedisBroker.js';

const server = await requireServer('redis');
const text = (event: BrokerEvent) => Buffer.from(event.message.body).toString();

/**
 * Publish batching, on a Redis of its own: the tests count the script runs in INFO commandstats, which other
 * users of a shared server would disturb.
 */
server.describe('broker-redis publish batching (private server)', () => {
  let instance: ServerInstance;
  let admin: ioredis.Redis;
  const prefix = `${uniqueName('batching')}:`;
  const brokers: RedisBroker[] = [];
  const open = async (): Promise<RedisBroker> => {
    const broker = new RedisBroker(ioredis, { address: instance.address, prefix, redeliveryDelayMs: 50, claimIntervalMs: 200, drainTimeoutMs: 1000 }, silentLogger);
    brokers.push(broker);
    await broker.connect();
    return broker;
  };
  /** Publish script runs since the last reset (EVALSHA, plus EVAL when the script had to be loaded). */
  const scriptRuns = async (): Promise<number> => {
    const stats = (await admin.info('commandstats')) as string;
    const calls = (command: string) => Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
    return calls('evalsha') + calls('eval');
  };

  beforeAll(async () => {
    instance = await privateServer('redis');
    admin = new ioredis.Redis(`redis://${instance.address}`, { maxRetriesPerRequest: null });
  }, 30_000);
  beforeEach(async () => {
    await admin.config('RESETSTAT');
  });
  afterEach(async () => {
    await Promise.all(brokers.splice(0).map((broker) => broker.disconnect()));
  });
  afterAll(async () => {
    admin?.disconnect();
    await instance?.destroy();
  });

  it('runs the publishes of one tick as a few scripts, every event on its topic, in order, on both paths', async () => {
    const [publisher, subscriber] = [await open(), await open()];
    const [queued, plain, other] = [uniqueName('queued'), uniqueName('plain'), uniqueName('other')];
    const got = { queued: [] as string[], queuedBroadcast: [] as string[], plain: [] as string[], other: [] as string[] };
    await subscriber.subscribe(queued, async (event) => void got.queued.push(text(event)), { queue: 'workers' });
    await subscriber.subscribe(queued, async (event) => void got.queuedBroadcast.push(text(event)));
    await subscriber.subscribe(plain, async (event) => void got.plain.push(text(event)));
    await subscriber.subscribe(other, async (event) => void got.other.push(text(event)));
    // Loads the script into Redis, so the count below is not doubled by NOSCRIPT answers and their EVALs.
    await publisher.publish(uniqueName('warm-up'), { headers: {}, body: Buffer.from('') });
    await admin.config('RESETSTAT');
    const topics = [queued, plain, other];
    const sent = Array.from({ length: 300 }, (_, i) => ({ topic: topics[i % 3]!, body: `e${i}` }));
    await Promise.all(sent.map(({ topic, body }) => publisher.publish(topic, { headers: { 'x-n': body }, body: Buffer.from(body) })));
    // 128 events per script at most: 300 published in one tick are three runs, not 300.
    expect(await scriptRuns()).toBe(3);
    const expected = (topic: string) => sent.filter((event) => event.topic === topic).map((event) => event.body);
    await eventually(() => {
      // Pub/sub keeps the publish order; the queue group handles its events concurrently.
      expect(got.plain).toEqual(expected(plain));
      expect(got.other).toEqual(expected(other));
      expect(got.queuedBroadcast).toEqual(expected(queued));
      expect([...got.queued].sort()).toEqual([...expected(queued)].sort());
    });
    // The stream holds the queued topic's events in publish order; broadcast-only topics got no stream.
    const entries = (await admin.xrange(publisher.keys.stream(queued), '-', '+')) as [string, string[]][];
    expect(entries.map(([, fields]) => fields[fields.indexOf('body') + 1])).toEqual(expected(queued));
    expect(await admin.exists(publisher.keys.stream(plain), publisher.keys.stream(other))).toBe(0);
  });

  it('rejects only the publish whose commands failed; the other events of its script are delivered', async () => {
    const [publisher, subscriber] = [await open(), await open()];
    const [broken, fine] = [uniqueName('broken'), uniqueName('fine')];
    const got: string[] = [];
    const gotBroken: string[] = [];
    await subscriber.subscribe(fine, async (event) => void got.push(text(event)));
    await subscriber.subscribe(broken, async (event) => void gotBroken.push(text(event)));
    // A key of the wrong type where the topic's stream should be: that topic's XADD fails.
    await admin.set(publisher.keys.stream(broken), 'not a stream');
    await publisher.publish(uniqueName('warm-up'), { headers: {}, body: Buffer.from('') });
    await admin.config('RESETSTAT');
    const outcomes = await Promise.allSettled([
      publisher.publish(fine, { headers: {}, body: Buffer.from('before') }),
      publisher.publish(broken, { headers: {}, body: Buffer.from('poisoned') }),
      publisher.publish(fine, { headers: {}, body: Buffer.from('after') }),
    ]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(String((outcomes[1] as PromiseRejectedResult).reason)).toMatch(/WRONGTYPE/);
    expect(await scriptRuns()).toBe(1);
    await eventually(() => expect(got).toEqual(['before', 'after']));
    // The failed event was not half-published: its broadcast subscribers never saw it.
    expect(gotBroken).toEqual([]);
  });

  it('acks the events a queue consumer handled in the same tick with one XACK, leaving nothing pending', async () => {
    const [publisher, subscriber] = [await open(), await open()];
    const topic = uniqueName('acks');
    const got: string[] = [];
    await subscriber.subscribe(topic, async (event) => void got.push(text(event)), { queue: 'ackers' });
    await publisher.publish(uniqueName('warm-up'), { headers: {}, body: Buffer.from('') });
    await admin.config('RESETSTAT');
    const sent = Array.from({ length: 10 }, (_, i) => `e${i}`);
    await Promise.all(sent.map((body) => publisher.publish(topic, { headers: {}, body: Buffer.from(body) })));
    await eventually(() => expect([...got].sort()).toEqual([...sent].sort()));
    await eventually(async () => expect(((await admin.xpending(publisher.keys.stream(topic), 'ackers')) as unknown[])[0]).toBe(0));
    const stats = (await admin.info('commandstats')) as string;
    const xacks = Number(/cmdstat_xack:calls=(\d+)/.exec(stats)?.[1] ?? 0);
    // Ten events read together (prefetch 10) are acked by one XACK or a few, not ten.
    expect(xacks).toBeGreaterThan(0);
    expect(xacks).toBeLessThan(sent.length);
  });

  it('sends an event published just before disconnect', async () => {
    const [publisher, subscriber] = [await open(), await open()];
    const topic = uniqueName('last');
    const got: string[] = [];
    await subscriber.subscribe(topic, async (event) => void got.push(text(event)));
    const published = publisher.publish(topic, { headers: {}, body: Buffer.from('last words') });
    await publisher.disconnect();
    await expect(published).resolves.toBeUndefined();
    await eventually(() => expect(got).toEqual(['last words']));
  });
});
