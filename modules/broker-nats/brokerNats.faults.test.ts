import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from '@jest/globals';
import * as jetstream from '@nats-io/jetstream';
import * as nats from '@nats-io/transport-node';
import type { BrokerEvent, Message } from '../../src/index.js';
import { silentLogger } from '../../src/logger/PinoLogger.js';
import { captureLogger } from '../../test/helpers/captureLogger.js';
import { distPath, NodeProcess } from '../../test/helpers/childProcess.js';
import { eventually, sleep, uniqueName } from '../../test/helpers/eventually.js';
import type { ServerInstance } from '../../test/servers/ServerInstance.js';
import { privateServer, requireServer } from '../../test/servers/testServers.js';
import { NatsBroker, type NatsBrokerOptions } from './NatsBroker.js';
import { testConnector } from '../shared/nats/testSupport.js';

const shared = await requireServer('nats');
const message = (body: string): Message => ({ headers: { 'micro-event-id': body }, body: Buffer.from(body) });
const bodies = (events: BrokerEvent[]) => new Set(events.map((event) => Buffer.from(event.message.body).toString()));

shared.describe('broker-nats faults (private server)', () => {
  let instance: ServerInstance;
  const opened: NatsBroker[] = [];
  const children: NodeProcess[] = [];
  beforeAll(async () => {
    instance = await privateServer('nats');
  }, 30_000);
  afterEach(async () => {
    for (const child of children.splice(0)) child.kill('SIGKILL');
    await Promise.all(opened.splice(0).map((broker) => broker.disconnect()));
  });
  afterAll(async () => {
    await instance?.destroy();
  });

  const open = async (overrides: Partial<NatsBrokerOptions> = {}) => {
    const broker = new NatsBroker({
      nats,
      jetstream,
      connector: testConnector(nats, instance.address),
      logger: silentLogger,
      useJetStream: false,
      subjectPrefix: '',
      stream: 'FAULTS',
      startFrom: 'new',
      maxAttempts: 5,
      redeliveryDelayMs: 50,
      ackWaitMs: 2000,
      maxInFlight: 16,
      inactiveThresholdMs: 60_000,
      maxAgeMs: 600_000,
      publishTimeoutMs: 1000,
      drainTimeoutMs: 1000,
      ...overrides,
    });
    opened.push(broker);
    await broker.connect();
    return broker;
  };

  /** Publishes e0, e1, … every few ms while the server stops for two seconds and starts again. */
  async function publishThroughRestart(publisher: NatsBroker, topic: string, retry: boolean) {
    const confirmed: string[] = [];
    const attempted = new Set<string>();
    let failures = 0;
    let running = true;
    const loop = (async () => {
      for (let i = 0; running; i++) {
        for (;;) {
          try {
            attempted.add(`e${i}`);
            await publisher.publish(topic, message(`e${i}`));
            confirmed.push(`e${i}`);
            break;
          } catch {
            failures++;
            if (!retry || !running) break;
          }
        }
        await sleep(5);
      }
    })();
    await eventually(() => expect(confirmed.length).toBeGreaterThan(50));
    await instance.stop();
    await sleep(2000);
    await instance.start();
    const afterRestart = confirmed.length;
    await eventually(() => expect(confirmed.length).toBeGreaterThan(afterRestart + 50), 15_000);
    running = false;
    await loop;
    return { confirmed, attempted: [...attempted], failures };
  }

  it('core: publishes and subscriptions resume by themselves after a restart; what was lost is counted', async () => {
    const topic = uniqueName('core-restart');
    const [publisher, subscriber] = [await open(), await open()];
    const [queued, broadcast] = [[] as BrokerEvent[], [] as BrokerEvent[]];
    await subscriber.subscribe(topic, async (event) => void queued.push(event), { queue: 'workers' });
    await subscriber.subscribe(topic, async (event) => void broadcast.push(event));
    const { confirmed, attempted, failures } = await publishThroughRestart(publisher, topic, false);
    await sleep(500);
    const lost = (got: Set<string>, of: string[]) => of.filter((body) => !got.has(body)).length;
    // Events published after the restart arrive again: nothing had to be resubscribed by hand.
    expect(bodies(queued).has(confirmed.at(-1)!)).toBe(true);
    expect(bodies(broadcast).has(confirmed.at(-1)!)).toBe(true);
    console.log(
      `broker-nats core restart: ${attempted.length} publishes, ${confirmed.length} confirmed, ${failures} rejected (not confirmed in time); ` +
        `lost of the confirmed: queue ${lost(bodies(queued), confirmed)}, broadcast ${lost(bodies(broadcast), confirmed)}; ` +
        `lost of all: queue ${lost(bodies(queued), attempted)}, broadcast ${lost(bodies(broadcast), attempted)}`,
    );
  }, 45_000);

  it('jetstream: no event acknowledged by the stream is lost across a restart', async () => {
    const options = { useJetStream: true, stream: uniqueName('RESTART').toUpperCase().replace(/-/g, '_'), subjectPrefix: uniqueName('restart') };
    const topic = 'orders';
    const [publisher, subscriber] = [await open(options), await open(options)];
    const [queued, broadcast] = [[] as BrokerEvent[], [] as BrokerEvent[]];
    await subscriber.subscribe(topic, async (event) => void queued.push(event), { queue: 'workers' });
    await subscriber.subscribe(topic, async (event) => void broadcast.push(event));
    const { confirmed, failures } = await publishThroughRestart(publisher, topic, true);
    await eventually(() => {
      expect(confirmed.filter((body) => !bodies(queued).has(body))).toEqual([]);
      expect(confirmed.filter((body) => !bodies(broadcast).has(body))).toEqual([]);
    }, 20_000);
    const duplicates = queued.length - bodies(queued).size;
    console.log(`broker-nats JetStream restart: ${confirmed.length} events acknowledged by the stream (${failures} publish attempts failed and were retried), lost 0; redelivered duplicates: queue ${duplicates}, broadcast ${broadcast.length - bodies(broadcast).size}`);
  }, 60_000);

  it('jetstream: a server that comes back without its store gets the stream and consumers set up again', async () => {
    const options = { useJetStream: true, stream: uniqueName('LOST').toUpperCase().replace(/-/g, '_'), subjectPrefix: uniqueName('lost') };
    const lines = captureLogger();
    const [publisher, subscriber] = [await open(options), await open({ ...options, logger: lines })];
    const [queued, broadcast] = [[] as BrokerEvent[], [] as BrokerEvent[]];
    await subscriber.subscribe('orders', async (event) => void queued.push(event), { queue: 'workers' });
    await subscriber.subscribe('orders', async (event) => void broadcast.push(event));
    await publisher.publish('orders', message('before'));
    await eventually(() => expect([...bodies(queued), ...bodies(broadcast)]).toEqual(['before', 'before']));
    await instance.stop();
    rmSync(join(instance.directory, 'jetstream'), { recursive: true, force: true });
    await instance.start();
    // The first publish finds no stream, sets it up again and goes through; the consumers come back on their own.
    await eventually(() => publisher.publish('orders', message('after')), 15_000, 250);
    await eventually(() => {
      expect(bodies(queued).has('after')).toBe(true);
      expect(bodies(broadcast).has('after')).toBe(true);
    }, 30_000);
    expect(lines.lines.filter((line) => line.message === 'broker: consumer recreated').map((line) => line.fields.resume)).toEqual(['stream-start', 'stream-start']);
  }, 60_000);

  it('jetstream: an event taken by a queue member killed before acking is redelivered to another member', async () => {
    const stream = uniqueName('KILLED').toUpperCase().replace(/-/g, '_');
    const subjectPrefix = uniqueName('killed');
    const options = { useJetStream: true, stream, subjectPrefix };
    const publisher = await open(options);
    const child = new NodeProcess(distPath('modules', 'broker-nats', 'fixtures', 'subscriber.js'), [instance.address, stream, subjectPrefix, 'payments', 'settlement']);
    children.push(child);
    await child.waitFor(/^ready$/, 15_000);
    await publisher.publish('payments', message('pay-42'));
    await child.waitFor(/^got pay-42 attempt=1$/);
    const survivor = await open(options);
    const got: BrokerEvent[] = [];
    await survivor.subscribe('payments', async (event) => void got.push(event), { queue: 'settlement' });
    child.kill('SIGKILL');
    await child.exited();
    await eventually(() => expect(got.map((event) => Buffer.from(event.message.body).toString())).toEqual(['pay-42']), 15_000);
    expect(got[0]!.attempt).toBe(2);
  }, 45_000);
});
