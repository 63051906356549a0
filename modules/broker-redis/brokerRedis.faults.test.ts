import * as ioredis from 'ioredis';
import { afterAll, afterEach, beforeAll, expect, it } from '@jest/globals';
import type { BrokerEvent } from '../../src/index.js';
import { silentLogger } from '../../src/logger/PinoLogger.js';
import { distPath, NodeProcess } from '../../test/helpers/childProcess.js';
import { eventually, sleep, uniqueName } from '../../test/helpers/eventually.js';
import type { ServerInstance } from '../../test/servers/ServerInstance.js';
import { privateServer, requireServer } from '../../test/servers/testServers.js';
import { RedisBroker, type RedisBrokerOptions } from './RedisBroker.js';

const server = await requireServer('redis');
const text = (event: BrokerEvent) => Buffer.from(event.message.body).toString();

/** Fault tests on a Redis of their own (appendonly yes), which they stop and restart. */
server.describe('broker-redis faults (private server)', () => {
  let instance: ServerInstance;
  let admin: ioredis.Redis;
  const prefix = `${uniqueName('faults')}:`;
  const brokers: RedisBroker[] = [];
  const processes: NodeProcess[] = [];
  const open = async (options: Partial<RedisBrokerOptions> = {}): Promise<RedisBroker> => {
    const broker = new RedisBroker(ioredis, { address: instance.address, prefix, redeliveryDelayMs: 50, claimIntervalMs: 200, commandTimeoutMs: 2000, drainTimeoutMs: 1000, ...options }, silentLogger);
    brokers.push(broker);
    await broker.connect();
    return broker;
  };

  beforeAll(async () => {
    instance = await privateServer('redis');
    admin = new ioredis.Redis(`redis://${instance.address}`, { maxRetriesPerRequest: null });
  }, 30_000);
  afterEach(async () => {
    for (const child of processes.splice(0)) child.kill('SIGKILL');
    await Promise.all(brokers.splice(0).map((broker) => broker.disconnect()));
  });
  afterAll(async () => {
    admin?.disconnect();
    await instance?.destroy();
  });

  it('recovers by itself from a server restart: no accepted event lost on the stream path; pub/sub losses counted', async () => {
    const topic = uniqueName('restart');
    // A slow queue consumer (one at a time) builds a backlog, so the restart happens with events in the stream
    // that nobody has read yet: they must survive it (appendonly).
    const subscriber = await open({ claimIdleMs: 2000, prefetch: 1 });
    const publisher = await open();
    const [queued, broadcast] = [new Set<string>(), new Set<string>()];
    let duplicates = 0;
    await subscriber.subscribe(topic, async (event) => {
      if (queued.has(text(event))) duplicates++;
      queued.add(text(event));
      await sleep(15);
    }, { queue: 'workers' });
    await subscriber.subscribe(topic, async (event) => void broadcast.add(text(event)));

    const accepted: string[] = [];
    let rejected = 0;
    let publishing = true;
    const publishLoop = (async () => {
      for (let i = 0; publishing; i++) {
        const body = `e${i}`;
        try {
          await publisher.publish(topic, { headers: {}, body: Buffer.from(body) });
          accepted.push(body);
        } catch {
          rejected++;
        }
        await sleep(10);
      }
    })();
    await eventually(() => expect(accepted.length).toBeGreaterThan(40));
    const backlog = accepted.length - queued.size;
    await instance.stop(); // SIGTERM: Redis writes its AOF out before exiting
    await sleep(300);
    await instance.start();
    const afterRestart = accepted.length;
    // Once the broadcast subscription is back (ioredis resubscribes by itself), publish 20 more.
    await eventually(() => expect(accepted.slice(afterRestart).some((body) => broadcast.has(body))).toBe(true), 15_000, 50);
    const resumed = accepted.length;
    await eventually(() => expect(accepted.length).toBeGreaterThan(resumed + 20), 15_000);
    publishing = false;
    await publishLoop;

    await eventually(() => expect(accepted.filter((body) => !queued.has(body))).toEqual([]), 15_000, 100);
    const last = accepted.slice(-20);
    await eventually(() => expect(last.filter((body) => !broadcast.has(body))).toEqual([]));
    const broadcastLost = accepted.filter((body) => !broadcast.has(body)).length;
    console.log(`redis broker restart: ${accepted.length} publishes accepted, ${rejected} rejected while down; stream path lost 0 (backlog at stop ${backlog}, ${duplicates} handled twice), pub/sub path lost ${broadcastLost}`);
  }, 45_000);

  it('a subscriber process killed before acking has its pending events claimed by another member', async () => {
    const topic = uniqueName('killed');
    const child = new NodeProcess(distPath('modules', 'broker-redis', 'fixtures', 'subscriber.js'), [instance.address, prefix, topic, 'workers']);
    processes.push(child);
    await child.waitFor(/^ready$/, 15_000);
    const publisher = await open();
    const sent = ['a', 'b', 'c', 'd', 'e'];
    for (const body of sent) await publisher.publish(topic, { headers: {}, body: Buffer.from(body) });
    await eventually(() => expect(child.lines.filter((line) => line.startsWith('got ')).sort()).toEqual(sent.map((body) => `got ${body}`)), 10_000);
    child.kill('SIGKILL');
    expect((await child.exited()).signal).toBe('SIGKILL');

    const taken: { body: string; attempt: number }[] = [];
    const survivor = await open({ claimIdleMs: 1000 });
    await survivor.subscribe(topic, async (event) => void taken.push({ body: text(event), attempt: event.attempt }), { queue: 'workers' });
    await eventually(() => expect(taken.map((event) => event.body).sort()).toEqual(sent), 10_000, 100);
    expect(taken.every((event) => event.attempt === 2)).toBe(true);
    await eventually(async () => expect((await admin.xpending(survivor.keys.stream(topic), 'workers'))[0]).toBe(0));
  }, 30_000);

  it('creates the group again when the stream disappears (deleted, or a server without persistence restarted)', async () => {
    const topic = uniqueName('vanished');
    const broker = await open();
    const got = new Set<string>();
    await broker.subscribe(topic, async (event) => void got.add(text(event)), { queue: 'workers' });
    await broker.publish(topic, { headers: {}, body: Buffer.from('before') });
    await eventually(() => expect(got.has('before')).toBe(true));
    await admin.del(broker.keys.stream(topic));
    await eventually(
      async () => {
        await broker.publish(topic, { headers: {}, body: Buffer.from('after') });
        expect(got.has('after')).toBe(true);
      },
      10_000,
      200,
    );
  }, 20_000);
});
