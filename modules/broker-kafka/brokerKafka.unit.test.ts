import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { subscriptionAwareAssigner } from './assigner.js';
import { needsRejoin } from './describeError.js';
import type { KafkaClusterMetadata, KafkaMemberSubscription, KafkaRecord } from './kafkaLibrary.js';
import { deadLetterTopicName, kafkaTopicName, queueGroupId } from './names.js';
import { OffsetTracker } from './OffsetTracker.js';
import { decodeRecord, encodeRecord } from './records.js';

/** Parts that need no Kafka. */
describe('broker-kafka units', () => {
  it('tells a group that is settling (rejoin needed, however deeply nested) from a failure', () => {
    const rebalancing = Object.assign(new Error('The group is rebalancing, so a rejoin is needed.'), { needsRejoin: true });
    const attempts = (inner: Error) => new AggregateError([new AggregateError([inner], 'Received response with error while executing API SyncGroup(v5)')], 'joinGroup failed 4 times.');
    expect(needsRejoin(attempts(rebalancing))).toBe(true);
    expect(needsRejoin(attempts(new Error('Cannot connect to any broker.')))).toBe(false);
    expect(needsRejoin(Object.assign(new Error('not authorised'), { needsRejoin: false }))).toBe(false);
  });


  it('keeps topic names Kafka accepts, and maps the others deterministically without collisions', () => {
    expect(kafkaTopicName('', 'shop.restocked')).toBe('shop.restocked');
    expect(kafkaTopicName('prod.', 'shop_restocked-v2')).toBe('prod.shop_restocked-v2');
    const slash = kafkaTopicName('', 'shop/restocked');
    expect(slash).toMatch(/^shop_restocked-[0-9a-f]{10}$/);
    expect(kafkaTopicName('', 'shop/restocked')).toBe(slash);
    expect(kafkaTopicName('', 'shop restocked')).not.toBe(slash);
    expect(kafkaTopicName('', 'été')).toMatch(/^_t_-[0-9a-f]{10}$/);
    expect(kafkaTopicName('', '..')).toMatch(/^\.\.-[0-9a-f]{10}$/);
    expect(kafkaTopicName('', 'x'.repeat(300)).length).toBeLessThanOrEqual(249);
    expect(deadLetterTopicName('{topic}.dlq', 'shop.restocked')).toBe('shop.restocked.dlq');
    expect(deadLetterTopicName('dead-letters', 'shop.restocked')).toBe('dead-letters');
    expect(queueGroupId('svc.', 'my queue')).toMatch(/^svc\.my_queue-[0-9a-f]{10}$/);
  });

  it('encodes a message as value, UTF-8 headers and key, and decodes it back', () => {
    const encoded = encodeRecord('t', { headers: { 'x-é': 'ü→世', empty: '' }, body: new Uint8Array([0, 255]) }, 'k1');
    expect([encoded.topic, encoded.key?.toString(), [...encoded.value]]).toEqual(['t', 'k1', [0, 255]]);
    const record = { value: encoded.value, headerEntries: [...encoded.headers] } as unknown as KafkaRecord;
    expect(decodeRecord(record)).toEqual({ headers: { 'x-é': 'ü→世', empty: '' }, body: encoded.value });
    expect(encodeRecord('t', { headers: {}, body: new Uint8Array(0) }, undefined).key).toBeUndefined();
  });

  it('refuses records that are not events, naming why', () => {
    const record = (value: Buffer | undefined, headers: [Buffer, Buffer | undefined][]) => ({ value, headerEntries: headers }) as unknown as KafkaRecord;
    expect(() => decodeRecord(record(undefined, []))).toThrow('the record has no value (a tombstone)');
    expect(() => decodeRecord(record(Buffer.from('x'), [[Buffer.from([0xc3, 0x28]), Buffer.from('v')]]))).toThrow('a header name is not valid UTF-8');
    expect(() => decodeRecord(record(Buffer.from('x'), [[Buffer.from('h'), Buffer.from([0xff])]]))).toThrow('the value of header "h" is not valid UTF-8');
    expect(() => decodeRecord(record(Buffer.from('x'), [[Buffer.from('h'), undefined]]))).toThrow('header "h" has no value');
    expect(decodeRecord(record(Buffer.from('x'), [[Buffer.from('h'), Buffer.from('1')], [Buffer.from('h'), Buffer.from('2')]])).headers).toEqual({ h: '2' });
  });

  it('commits only past an unbroken run of finished records, across offset gaps, and skips copies', () => {
    const tracker = new OffsetTracker();
    for (const offset of [5n, 6n, 9n, 10n]) expect(tracker.receive(offset)).toBe(true);
    expect(tracker.receive(6n)).toBe(false);
    expect(tracker.finish(6n)).toBe(false);
    expect(tracker.commitPoint).toBeUndefined();
    expect(tracker.finish(5n)).toBe(true);
    expect(tracker.commitPoint).toBe(7n);
    expect(tracker.finish(10n)).toBe(false);
    expect(tracker.finish(9n)).toBe(true);
    expect([tracker.commitPoint, tracker.openCount, tracker.highest]).toEqual([11n, 0, 10n]);
  });

  it('assigns each topic only to the members subscribed to it', () => {
    const members = new Map<string, KafkaMemberSubscription>([
      ['m-a', { memberId: 'm-a', topics: ['left'] } as KafkaMemberSubscription],
      ['m-b', { memberId: 'm-b', topics: ['right'] } as KafkaMemberSubscription],
      ['m-c', { memberId: 'm-c', topics: ['left', 'right'] } as KafkaMemberSubscription],
    ]);
    const metadata = { topics: new Map([['left', { partitionsCount: 4 }], ['right', { partitionsCount: 2 }]]) } as unknown as KafkaClusterMetadata;
    const result = subscriptionAwareAssigner('m-a', members, new Set(['left']), metadata);
    const owned = Object.fromEntries(result.map((member) => [member.memberId, Object.fromEntries([...member.assignments].map(([topic, entry]) => [topic, entry.partitions]))]));
    expect(owned['m-a']).toEqual({ left: expect.any(Array) });
    expect(owned['m-b']).toEqual({ right: expect.any(Array) });
    expect([...(owned['m-a']!.left ?? []), ...(owned['m-c']!.left ?? [])].sort()).toEqual([0, 1, 2, 3]);
    expect([...(owned['m-b']!.right ?? []), ...(owned['m-c']!.right ?? [])].sort()).toEqual([0, 1]);
  });

  it('never imports the optional client at run time (only types; the plugin loader imports it)', () => {
    const folder = dirname(fileURLToPath(import.meta.url));
    const runtime = readdirSync(folder).filter((file) => file.endsWith('.ts') && !file.endsWith('.test.ts') && file !== 'testSupport.ts');
    expect(runtime).toContain('index.ts');
    for (const file of runtime) {
      const source = readFileSync(join(folder, file), 'utf8');
      expect({ file, valueImports: source.match(/^import (?!type )[^;]*['"]@platformatic\/kafka['"]/gm) ?? [], dynamic: source.includes("import('@platformatic/kafka')") }).toEqual({ file, valueImports: [], dynamic: false });
    }
  });
});
