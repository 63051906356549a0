import { createHash, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';

/** Kafka's limit on a topic name's length, and the characters it allows. */
const MAX_TOPIC_LENGTH = 249;
const TOPIC_CHARACTERS = /^[A-Za-z0-9._-]+$/;
const HASH_LENGTH = 10;

const shortHash = (text: string): string => createHash('sha256').update(text).digest('hex').slice(0, HASH_LENGTH);

/**
 * The Kafka topic of a tsmicro topic: `prefix + topic` as it is when Kafka accepts that name (letters, digits,
 * `.`, `_`, `-`, at most 249 characters, not `.` or `..`). Any other name keeps its allowed characters, has the
 * rest replaced by `_`, is cut to fit, and ends in `-` plus 10 hex digits of the SHA-256 of the full name: the same
 * tsmicro topic always maps to the same Kafka topic, and two topics that differ only in forbidden characters
 * (`a/b`, `a b`) do not share one.
 */
export function kafkaTopicName(prefix: string, topic: string): string {
  const name = prefix + topic;
  if (TOPIC_CHARACTERS.test(name) && name.length <= MAX_TOPIC_LENGTH && name !== '.' && name !== '..') return name;
  const kept = name.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, MAX_TOPIC_LENGTH - HASH_LENGTH - 1);
  return `${kept}-${shortHash(name)}`;
}

/** The dead-letter topic of a Kafka topic: the template with `{topic}` replaced, made a valid name the same way. */
export function deadLetterTopicName(template: string, kafkaTopic: string): string {
  return kafkaTopicName('', template.replaceAll('{topic}', kafkaTopic));
}

/** Group ids may be any string without whitespace (the client refuses others); whitespace is replaced, with a hash. */
function groupId(name: string): string {
  return /^\S+$/.test(name) ? name : `${name.replace(/\s/g, '_')}-${shortHash(name)}`;
}

/** A queue subscription's consumer group: named by the queue, as in go-micro. */
export function queueGroupId(groupPrefix: string, queue: string): string {
  return groupId(groupPrefix + queue);
}

/**
 * A subscription without a queue needs a group of its own to see every event.
 * - With an `instanceId` the group is stable (`<prefix>broadcast.<topic>.<instanceId>`, plus `.<n>` for this
 *   broker's n-th plain subscription to the topic), so a restarted instance resumes where it stopped.
 * - Without one it is generated per subscription, naming the host and pid for whoever lists the groups, and is
 *   deleted when the subscription ends cleanly.
 */
export function broadcastGroupId(groupPrefix: string, kafkaTopic: string, instanceId: string, ordinal: number): { id: string; ephemeral: boolean } {
  const base = `${groupPrefix}broadcast.${kafkaTopic}`;
  if (instanceId !== '') return { id: groupId(`${base}.${instanceId}${ordinal > 1 ? `.${ordinal}` : ''}`), ephemeral: false };
  return { id: groupId(`${base}.${hostname()}.${process.pid}.${randomUUID().slice(0, 8)}`), ephemeral: true };
}
