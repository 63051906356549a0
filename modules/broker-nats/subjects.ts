import { createHash } from 'node:crypto';

/** The prefix JetStream mode uses when none is configured: a stream must own a subject space of its own. */
export const DEFAULT_JETSTREAM_PREFIX = 'tsmicro.events';

const PUBLISHED_CACHE_SIZE = 1024;

/**
 * Topic ↔ subject. In core mode topics are subjects as they are (go-micro's mapping, so plain NATS clients can
 * publish to tsmicro subscribers), unless a prefix is set; JetStream mode always prefixes, and its stream
 * captures `<prefix>.>`.
 */
export class Subjects {
  /** Topics already checked for publishing: a service publishes to a few topics, many times each. */
  readonly #published = new Map<string, string>();

  constructor(readonly prefix: string) {}

  /** The subject a topic is published on. Wildcards are allowed only where `forSubscribe`. */
  subjectOf(topic: string, forSubscribe = false): string {
    if (forSubscribe) return this.#check(topic, true);
    let subject = this.#published.get(topic);
    if (subject === undefined) {
      subject = this.#check(topic, false);
      // Bounded: a process publishing to ever new topics (one per user, say) must not grow it forever.
      if (this.#published.size >= PUBLISHED_CACHE_SIZE) this.#published.clear();
      this.#published.set(topic, subject);
    }
    return subject;
  }

  #check(topic: string, forSubscribe: boolean): string {
    const tokens = typeof topic === 'string' ? topic.split('.') : [''];
    const valid = (token: string, index: number): boolean => {
      if (token === '' || /\s/.test(token)) return false;
      if (token === '*') return forSubscribe;
      if (token === '>') return forSubscribe && index === tokens.length - 1;
      return !/[*>]/.test(token);
    };
    if (!tokens.every(valid)) {
      throw new TypeError(`nats broker: "${topic}" is not a valid topic: dot-separated tokens without spaces${forSubscribe ? ', wildcards * and a final >' : ', and no wildcards when publishing'}`);
    }
    return this.prefix ? `${this.prefix}.${topic}` : topic;
  }

  /** The topic a received subject belongs to (differs from the subscribed topic only for wildcards). */
  topicOf(subject: string): string {
    return this.prefix && subject.startsWith(`${this.prefix}.`) ? subject.slice(this.prefix.length + 1) : subject;
  }

  /** What the JetStream stream captures. */
  get streamSubject(): string {
    return `${this.prefix}.>`;
  }
}

const unsafe = /[^A-Za-z0-9_-]/g;

function digest(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 10);
}

/**
 * The durable consumer a queue group shares: the same name in every process (derived from the queue and the
 * full subject, prefix included), readable in `nats consumer ls`, with a hash so subjects that only differ in
 * punctuation or prefix do not collide.
 */
export function queueConsumerName(queue: string, topic: string, subject: string): string {
  return `${queue.replace(unsafe, '_').slice(0, 40)}__${topic.replace(unsafe, '_').slice(0, 60)}_${digest(queue, subject)}`;
}

/** A broadcast subscription's own consumer: unique per subscription. */
export function broadcastConsumerName(topic: string, unique: string): string {
  return `tsmicro_b__${topic.replace(unsafe, '_').slice(0, 60)}_${unique.replace(unsafe, '_')}`;
}
