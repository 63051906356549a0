import { afterAll, afterEach, beforeAll, expect, it } from '@jest/globals';
import { MicroError, type Broker } from '../../src/index.js';
import { captureLogger } from '../../test/helpers/captureLogger.js';
import { distPath, NodeProcess } from '../../test/helpers/childProcess.js';
import { eventually, sleep, uniqueName } from '../../test/helpers/eventually.js';
import type { ServerInstance } from '../../test/servers/ServerInstance.js';
import { requireServer } from '../../test/servers/testServers.js';
import type { MqttBrokerOptions } from './MqttBroker.js';
import { privateMosquitto, testBroker } from './testSupport.js';

const server = await requireServer('mosquitto');

/** What a run of publishes across a restart did: which were acknowledged (PUBACK), which failed, which arrived. */
interface Tally {
  acked: number[];
  failed: number[];
  received: Map<number, number>;
}

/** Faults on a mosquitto of this file's own (persistence on), never on the shared one. */
server.describe('broker-mqtt on a private mosquitto: restarts, crashes, outages', () => {
  let instance: ServerInstance;
  const brokers: Broker[] = [];
  const processes: NodeProcess[] = [];
  const open = async (options: Partial<MqttBrokerOptions> = {}, logger = captureLogger()): Promise<Broker> => {
    const broker = testBroker(instance.address, { publishTimeoutMs: 15_000, ...options }, logger);
    await broker.connect();
    brokers.push(broker);
    return broker;
  };
  const subscribeTally = async (broker: Broker, topic: string, tally: Tally): Promise<void> => {
    await broker.subscribe(topic, async (event) => {
      const index = Number(Buffer.from(event.message.body).toString().slice(1));
      tally.received.set(index, (tally.received.get(index) ?? 0) + 1);
    });
  };
  /** Publishes e0, e1, … every 10 ms until `until()` says stop, recording each outcome. */
  const publishUntil = async (broker: Broker, topic: string, tally: Tally, until: () => boolean): Promise<void> => {
    for (let index = 0; !until(); index++) {
      await broker.publish(topic, { headers: {}, body: Buffer.from(`e${index}`) }).then(
        () => tally.acked.push(index),
        () => tally.failed.push(index),
      );
      await sleep(10);
    }
  };
  const report = (what: string, tally: Tally): { lost: number[]; duplicates: number } => {
    const lost = tally.acked.filter((index) => !tally.received.has(index));
    const duplicates = [...tally.received.values()].reduce((sum, count) => sum + count - 1, 0);
    console.log(`[measured] ${what}: ${tally.acked.length} acknowledged, ${tally.failed.length} failed, ${lost.length} acknowledged but lost (${lost.join(' ')}), ${duplicates} duplicates`);
    return { lost, duplicates };
  };

  beforeAll(async () => {
    instance = await privateMosquitto();
  }, 30_000);
  afterEach(async () => {
    for (const child of processes.splice(0)) {
      child.kill('SIGKILL');
      await child.exited();
    }
    await Promise.all(brokers.splice(0).map((broker) => broker.disconnect()));
  }, 30_000);
  afterAll(() => instance?.destroy(), 30_000);

  it('restart mid-run, clean sessions: both sides reconnect, the subscription comes back, publishes resume', async () => {
    const tally: Tally = { acked: [], failed: [], received: new Map() };
    const logger = captureLogger();
    const subscriber = await open({}, logger);
    await subscribeTally(subscriber, 'stream', tally);
    const publisher = await open();
    let restarted = -1;
    const publishing = publishUntil(publisher, 'stream', tally, () => restarted >= 0 && tally.acked.length >= restarted + 30);
    await eventually(() => expect(tally.acked.length).toBeGreaterThanOrEqual(30), 10_000);
    await instance.restart();
    restarted = tally.acked.length;
    await publishing;
    // Every event published once both sides were back arrives: the last 20 acknowledged ones, at least.
    await eventually(() => expect(tally.acked.slice(-20).filter((index) => !tally.received.has(index))).toEqual([]), 10_000);
    expect(logger.lines.some((line) => line.message === 'mqtt subscription restored after reconnect')).toBe(true);
    const { lost } = report('clean sessions across a restart', tally);
    // A clean session loses what the broker accepted while the subscriber was away or not yet re-subscribed.
    expect(lost.length).toBeLessThan(tally.acked.length);
  }, 45_000);

  it('restart mid-run, persistent session: every acknowledged publish reaches the subscriber', async () => {
    const tally: Tally = { acked: [], failed: [], received: new Map() };
    const subscriber = await open({ clientId: uniqueName('durable'), sessionExpiryMs: 60_000 });
    await subscribeTally(subscriber, 'durable-stream', tally);
    const publisher = await open();
    let restarted = -1;
    const publishing = publishUntil(publisher, 'durable-stream', tally, () => restarted >= 0 && tally.acked.length >= restarted + 30);
    await eventually(() => expect(tally.acked.length).toBeGreaterThanOrEqual(30), 10_000);
    await instance.restart();
    restarted = tally.acked.length;
    await publishing;
    await eventually(() => expect(tally.acked.filter((index) => !tally.received.has(index))).toEqual([]), 15_000);
    expect(report('persistent session, subscriber connected, across a restart', tally).lost).toEqual([]);
  }, 45_000);

  it('events queued for an absent persistent session survive a restart of mosquitto (saved on shutdown)', async () => {
    const tally: Tally = { acked: [], failed: [], received: new Map() };
    const clientId = uniqueName('absent');
    const away = await open({ clientId, sessionExpiryMs: 60_000 });
    await subscribeTally(away, 'queued', tally);
    await away.disconnect();
    const publisher = await open();
    for (let index = 0; index < 50; index++) {
      await publisher.publish('queued', { headers: {}, body: Buffer.from(`e${index}`) });
      tally.acked.push(index);
    }
    await instance.restart();
    const back = await open({ clientId, sessionExpiryMs: 60_000 });
    await subscribeTally(back, 'queued', tally);
    await eventually(() => expect(tally.received.size).toBe(50), 15_000);
    expect(report('persistent session, subscriber away, 50 queued across a restart', tally).lost).toEqual([]);
  }, 45_000);

  it('a subscriber process killed mid-handler gets the event again when its persistent session reconnects; a clean one loses it', async () => {
    const prefix = `${uniqueName('tsmicro-crash')}/`;
    const clientId = uniqueName('crashing');
    const spawn = (id: string, topic: string): NodeProcess => {
      const child = new NodeProcess(distPath('modules', 'broker-mqtt', 'fixtures', 'subscriber.js'), [instance.address, prefix, topic, id]);
      processes.push(child);
      return child;
    };
    const publisher = await open({ topicPrefix: prefix });
    const durable = spawn(clientId, 'jobs');
    const clean = spawn('', 'clean-jobs');
    await Promise.all([durable.waitFor(/^ready$/), clean.waitFor(/^ready$/)]);
    await publisher.publish('jobs', { headers: {}, body: Buffer.from('hang-1') });
    await publisher.publish('clean-jobs', { headers: {}, body: Buffer.from('hang-2') });
    await Promise.all([durable.waitFor(/^event hang-1 attempt=1$/), clean.waitFor(/^event hang-2 attempt=1$/)]);
    durable.kill('SIGKILL');
    clean.kill('SIGKILL');
    await Promise.all([durable.exited(), clean.exited()]);
    // Same client id: mosquitto resends the unacknowledged message (DUP), which the handler sees as attempt 2.
    const again = spawn(clientId, 'jobs');
    await again.waitFor(/^event hang-1 attempt=2$/);
    const cleanAgain = spawn('', 'clean-jobs');
    await cleanAgain.waitFor(/^ready$/);
    await sleep(500);
    expect(cleanAgain.lines.filter((line) => line.startsWith('event'))).toEqual([]);
  }, 45_000);

  it('a publish waits for the broker to come back, fails after publishTimeout, and a failed one is never sent later', async () => {
    const received: string[] = [];
    const subscriber = await open({ clientId: uniqueName('watcher'), sessionExpiryMs: 60_000 });
    await subscriber.subscribe('outage', async (event) => void received.push(Buffer.from(event.message.body).toString()));
    const patient = await open({ publishTimeoutMs: 15_000 });
    const hasty = await open({ publishTimeoutMs: 1000 });
    await instance.stop();
    const waiting = patient.publish('outage', { headers: {}, body: Buffer.from('waited') });
    const failure = await hasty.publish('outage', { headers: {}, body: Buffer.from('timed-out') }).catch((error: unknown) => error);
    expect(MicroError.is(failure) && failure.code).toBe(503);
    expect((failure as Error).message).toMatch(/not acknowledged within 1000 ms \(not connected to the broker\)/);
    await instance.start();
    await waiting;
    await hasty.publish('outage', { headers: {}, body: Buffer.from('after') });
    await eventually(() => expect(received.sort()).toEqual(['after', 'waited']), 15_000);
    await sleep(500);
    expect(received).not.toContain('timed-out');
  }, 45_000);
});
