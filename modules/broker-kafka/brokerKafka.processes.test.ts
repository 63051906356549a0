import { afterEach, expect, it } from '@jest/globals';
import { distPath, NodeProcess } from '../../test/helpers/childProcess.js';
import { eventually, sleep, uniqueName } from '../../test/helpers/eventually.js';
import { requireServer } from '../../test/servers/testServers.js';
import type { KafkaBroker } from './KafkaBroker.js';
import { testBroker } from './testSupport.js';

const server = await requireServer('kafka');
const fixture = distPath('modules', 'broker-kafka', 'fixtures', 'subscriber.js');
const gotLines = (child: NodeProcess) => child.lines.filter((line) => line.startsWith('got ')).map((line) => line.slice(4));

/** Queue groups across OS processes (fixtures/subscriber.ts), on the shared server. */
server.describe('broker-kafka across processes', () => {
  const groupPrefix = `${uniqueName('processes')}.`;
  const children: NodeProcess[] = [];
  const brokers: KafkaBroker[] = [];
  // A queue of its own per test: a SIGKILLed member stays in its group until its session times out.
  const spawn = (topic: string, queue: string, mode: 'ack' | 'hold') => {
    const child = new NodeProcess(fixture, [server.address, topic, groupPrefix, queue, mode]);
    children.push(child);
    return child;
  };
  afterEach(async () => {
    for (const child of children.splice(0)) child.kill('SIGKILL');
    await Promise.all(brokers.splice(0).map((broker) => broker.disconnect()));
  });

  it('two processes in one queue group each take a share, and together exactly every event', async () => {
    const topic = uniqueName('shared');
    const first = spawn(topic, 'sharing', 'ack');
    await first.waitFor(/^ready$/, 30_000);
    const second = spawn(topic, 'sharing', 'ack');
    await second.waitFor(/^ready$/, 30_000);
    const publisher = testBroker(server.address);
    brokers.push(publisher);
    const sent = [...Array(40).keys()].map((i) => `e${i}`);
    for (const body of sent) await publisher.publish(topic, { headers: {}, body: Buffer.from(body) });
    await eventually(() => expect([...gotLines(first), ...gotLines(second)].sort()).toEqual([...sent].sort()), 20_000, 100);
    await sleep(1000);
    expect(gotLines(first).length + gotLines(second).length).toBe(sent.length);
    expect(gotLines(first).length).toBeGreaterThan(0);
    expect(gotLines(second).length).toBeGreaterThan(0);
  }, 60_000);

  it('events a SIGKILLed member took but never finished go to the other member once the group notices', async () => {
    const topic = uniqueName('killed');
    const doomed = spawn(topic, 'survivors', 'hold');
    await doomed.waitFor(/^ready$/, 30_000);
    const survivor = testBroker(server.address, { groupPrefix });
    brokers.push(survivor);
    const taken: string[] = [];
    await survivor.subscribe(topic, (event) => void taken.push(Buffer.from(event.message.body).toString()), { queue: 'survivors' });
    const publisher = testBroker(server.address);
    brokers.push(publisher);
    const sent = [...Array(20).keys()].map((i) => `e${i}`);
    for (const body of sent) await publisher.publish(topic, { headers: {}, body: Buffer.from(body) });
    // Each member holds two of the four partitions (five events each, round-robin). A partition's events are
    // handled one at a time, so the doomed member starts the first event of each of its partitions and never
    // finishes it: the other eight wait behind them.
    await eventually(() => expect([gotLines(doomed).length, taken.length]).toEqual([2, 10]), 20_000, 100);
    const held = gotLines(doomed);
    expect(taken.filter((body) => held.includes(body))).toEqual([]);
    doomed.kill('SIGKILL');
    expect((await doomed.exited()).signal).toBe('SIGKILL');
    // After its session times out (6 s here) the group rebalances and the survivor resumes those partitions
    // from the offsets the doomed member never moved.
    await eventually(() => expect([...taken].sort()).toEqual([...sent].sort()), 30_000, 200);
    const redelivered = taken.filter((body) => held.includes(body));
    console.log(`kafka broker SIGKILL: ${held.length} events held by the killed member, ${redelivered.length} redelivered to the survivor, ${taken.length - new Set(taken).size} handled twice by it`);
    expect(redelivered.sort()).toEqual([...held].sort());
  }, 90_000);
});
