/**
 * The Redis names the broker uses, under one prefix (default `tsmicro:broker:`):
 * - channel `<prefix><topic>`: pub/sub, for subscriptions without a queue;
 * - stream `<prefix>stream:<topic>`: one per topic, with one consumer group per queue name;
 * - stream `<prefix>dead:<topic>`: entries that could not be handled (malformed, rejected, too many deliveries).
 * Channels and keys are separate namespaces in Redis, so the channel may share the stream's prefix.
 */
export class BrokerKeys {
  constructor(readonly prefix: string) {}

  channel(topic: string): string {
    return `${this.prefix}${topic}`;
  }

  /** The topic of a channel of ours; undefined for any other channel. */
  topicOf(channel: string): string | undefined {
    return channel.startsWith(this.prefix) ? channel.slice(this.prefix.length) : undefined;
  }

  stream(topic: string): string {
    return `${this.prefix}stream:${topic}`;
  }

  deadLetter(topic: string): string {
    return `${this.prefix}dead:${topic}`;
  }
}
