import { afterAll, afterEach, expect, it } from '@jest/globals';
import { captureLogger } from '../../test/helpers/captureLogger.js';
import { eventually, uniqueName } from '../../test/helpers/eventually.js';
import { requireServer } from '../../test/servers/testServers.js';
import { DeadLetterHeaders } from './deadLetters.js';
import { kafkaTestKit, message, produceRaw, readTopic, text } from './testSupport.js';

const server = await requireServer('kafka');

/** Retries, dead letters and records that are not events, on the shared server. */
server.describe('broker-kafka dead letters', () => {
  const kit = kafkaTestKit(server.address);
  const { groupPrefix, open, committedOffsets, subscribeRecording } = kit;
  afterEach(() => kit.cleanup());
  afterAll(() => kit.close());

  it('retries a failing event maxAttempts times, then dead-letters it with the reason and commits past it', async () => {
    const logger = captureLogger();
    const [publisher, subscriber] = [await open(), await open({ maxAttempts: 3 }, logger)];
    const topic = uniqueName('poison');
    const recorded = await subscribeRecording(subscriber, topic, { queue: 'workers' }, (event) => {
      if (text(event) === 'poison') throw new Error('stock database is down');
    });
    await publisher.publish(topic, message('poison'), { key: 'k' });
    await publisher.publish(topic, message('after'), { key: 'k' });
    await eventually(() => expect(recorded.bodies()).toEqual(['poison', 'poison', 'poison', 'after']), 10_000);
    expect(recorded.got.map((event) => event.attempt)).toEqual([1, 2, 3, 1]);
    const [dead] = await readTopic(server.address, subscriber.deadLetterTopic(topic));
    expect(dead!.value!.toString()).toBe('poison');
    expect(dead!.key).toBe('k');
    expect(dead!.headers).toMatchObject({
      'x-test': 'yes',
      [DeadLetterHeaders.reason]: 'failed on its last allowed delivery (3): stock database is down',
      [DeadLetterHeaders.topic]: topic,
      [DeadLetterHeaders.group]: `${groupPrefix}workers`,
      [DeadLetterHeaders.attempts]: '3',
      [DeadLetterHeaders.offset]: '0',
    });
    await eventually(async () => expect((await committedOffsets(`${groupPrefix}workers`, topic)).reduce((sum, offset) => sum + offset, 0n)).toBe(2n));
    expect(logger.lines.some((line) => line.level === 'error' && line.message.includes('dead-letter'))).toBe(true);
  });

  it('dead-letters an event too large to be copied with its headers without its value, rather than hold the partition', async () => {
    const logger = captureLogger();
    const subscriber = await open({ maxAttempts: 1 }, logger);
    const topic = uniqueName('near-limit');
    const recorded = await subscribeRecording(subscriber, topic, { queue: 'workers' }, (event) => {
      if (event.message.body.length > 1000) throw new Error('cannot handle it');
    });
    // Just under message.max.bytes (1048588 by default): the dead-letter headers push a copy over it.
    await produceRaw(server.address, topic, { partition: 0, value: Buffer.alloc(1048588 - 200, 1) });
    await produceRaw(server.address, topic, { partition: 0, value: Buffer.from('next') });
    await eventually(() => expect(recorded.bodies().slice(-1)).toEqual(['next']), 15_000);
    const [dead] = await readTopic(server.address, subscriber.deadLetterTopic(topic));
    expect(dead!.value).toEqual(Buffer.alloc(0));
    expect(dead!.headers).toMatchObject({ [DeadLetterHeaders.offset]: '0', [DeadLetterHeaders.valueDropped]: expect.stringMatching(/larger than the max message size/) });
    expect(logger.lines.some((line) => line.level === 'error' && line.message.includes('too large'))).toBe(true);
  });

  it('dead-letters an event nacked without requeue, and one a manual handler nacks on its last attempt', async () => {
    const [publisher, subscriber] = [await open(), await open({ maxAttempts: 2 })];
    const topic = uniqueName('rejected');
    await subscriber.subscribe(topic, (event) => event.nack({ requeue: text(event) === 'again' }), { queue: 'workers', ack: 'manual' });
    await publisher.publish(topic, message('no thanks'));
    await publisher.publish(topic, message('again'));
    const dead = await readTopic(server.address, subscriber.deadLetterTopic(topic), 2);
    expect(dead.map((record) => [record.value!.toString(), record.headers[DeadLetterHeaders.reason]]).sort()).toEqual([
      ['again', 'failed on its last allowed delivery (2)'],
      ['no thanks', 'rejected by the subscriber (nack without requeue)'],
    ]);
  });

  it('dead-letters records it cannot read (junk headers, a tombstone) byte for byte, logs them, and goes on', async () => {
    const logger = captureLogger();
    const subscriber = await open({}, logger);
    const topic = uniqueName('junk');
    const recorded = await subscribeRecording(subscriber, topic, { queue: 'workers' });
    const junk = Buffer.from([0xff, 0xfe, 0x00, 0xc3]);
    await produceRaw(server.address, topic, { partition: 0, key: Buffer.from('raw'), value: Buffer.from('ok body'), headers: [[Buffer.from('x-bad'), junk]] });
    await produceRaw(server.address, topic, { partition: 0, value: null });
    await produceRaw(server.address, topic, { partition: 0, value: Buffer.from('fine'), headers: [[Buffer.from('__proto__'), Buffer.from('x')]] });
    await eventually(() => expect(recorded.bodies()).toEqual(['fine']));
    const headers = recorded.got[0]!.message.headers;
    expect([Object.keys(headers), headers['__proto__'], Object.getPrototypeOf(headers)]).toEqual([['__proto__'], 'x', Object.prototype]);
    const dead = await readTopic(server.address, subscriber.deadLetterTopic(topic), 2);
    const byReason = new Map(dead.map((record) => [record.headers[DeadLetterHeaders.reason], record]));
    expect([...byReason.keys()].sort()).toEqual(['unreadable record: the record has no value (a tombstone)', 'unreadable record: the value of header "x-bad" is not valid UTF-8']);
    const badHeader = byReason.get('unreadable record: the value of header "x-bad" is not valid UTF-8')!;
    expect([badHeader.key, badHeader.value!.toString(), badHeader.headers['x-bad'], badHeader.headers[DeadLetterHeaders.attempts]]).toEqual(['raw', 'ok body', junk.toString(), '0']);
    expect(byReason.get('unreadable record: the record has no value (a tombstone)')!.value).toBeUndefined();
    expect(logger.lines.filter((line) => line.level === 'error' && line.message === 'broker: unreadable record')).toHaveLength(2);
    await eventually(async () => expect((await committedOffsets(`${groupPrefix}workers`, topic))[0]).toBe(3n));
  });
});
