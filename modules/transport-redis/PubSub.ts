import type { Logger, Message } from '../../src/index.js';
import type { RedisConnection } from '../shared/redis/redisConnection.js';
import { frameBuffer } from '../../src/transport/framing.js';
import { decodeEnvelope, encodeEnvelope, Kind, type Envelope } from './envelope.js';

/** Most PUBLISHes held back for one write. */
const FLUSH_EVERY = 16;

/**
 * The two Redis connections of one transport: commands (PUBLISH, pipelined) and a subscriber whose messages are
 * routed to whoever subscribed the channel (a listener's address or session, a client socket's inbox).
 */
export class PubSub {
  readonly #routes = new Map<string, (envelope: Envelope) => void>();
  /** The socket corked for this tick's publishes (ioredis writes each command at once otherwise). */
  #corked: (NodeJS.WritableStream & { cork(): void; uncork(): void }) | undefined;
  #batched = 0;
  readonly #onMessage = (channel: Buffer, payload: Buffer): void => this.#route(channel.toString(), payload);

  constructor(
    readonly commands: RedisConnection,
    readonly subscriber: RedisConnection,
    private readonly maxMessageSize: () => number,
    private readonly logger: Logger,
  ) {
    subscriber.client.on('messageBuffer', this.#onMessage);
  }

  /** Resolves once Redis confirmed the subscription: a message published afterwards is delivered. */
  async subscribe(channel: string, route: (envelope: Envelope) => void): Promise<void> {
    this.#routes.set(channel, route);
    try {
      await (await this.subscriber.ready()).subscribe(channel);
    } catch (error) {
      this.#routes.delete(channel);
      throw error;
    }
  }

  async unsubscribe(channel: string): Promise<void> {
    if (!this.#routes.delete(channel) || !this.subscriber.isReady) return;
    await this.subscriber.client.unsubscribe(channel).catch(() => undefined);
  }

  /** Publishes whole frames as one data message; resolves with how many subscribers got it (0: nobody listens there). */
  publishFrames(channel: string, from: string, frames: readonly Buffer[], bytes: number): Promise<number> {
    return this.#publish(channel, encodeEnvelope(Kind.data, from, frames, bytes));
  }

  /** Publishes one message by itself (an answer outside any socket); throws TransportError `too_large` at once. */
  publishData(channel: string, from: string, message: Message): Promise<number> {
    const frame = frameBuffer(message, this.maxMessageSize());
    return this.publishFrames(channel, from, [frame], frame.length);
  }

  /** Sends a control message, best effort. */
  control(channel: string, kind: Kind, from: string): void {
    this.#publish(channel, encodeEnvelope(kind, from)).catch(() => undefined);
  }

  /** A control message whose delivery count matters (`open`: nobody subscribed means nobody listens). */
  controlCounted(channel: string, kind: Kind, from: string): Promise<number> {
    return this.#publish(channel, encodeEnvelope(kind, from));
  }

  close(): void {
    this.subscriber.client.off('messageBuffer', this.#onMessage);
    this.#routes.clear();
  }

  #publish(channel: string, payload: Buffer): Promise<number> {
    const client = this.commands.client;
    if (!this.commands.isReady) return this.commands.ready().then((ready) => ready.publish(channel, payload));
    this.#batch(client.stream);
    return client.publish(channel, payload);
  }

  /**
   * The PUBLISHes of one tick leave together, FLUSH_EVERY at a time, as the TCP transport's frames do: few
   * syscalls, yet Redis and the peer start on the first ones while this side prepares the rest.
   */
  #batch(stream: NodeJS.WritableStream & { cork(): void; uncork(): void }): void {
    if (!this.#corked) {
      this.#corked = stream;
      this.#batched = 0;
      stream.cork();
      process.nextTick(this.#flushTick);
    }
    if (++this.#batched >= FLUSH_EVERY) {
      this.#batched = 0;
      this.#corked.uncork();
      this.#corked.cork();
    }
  }

  readonly #flushTick = (): void => {
    const corked = this.#corked;
    this.#corked = undefined;
    corked?.uncork();
  };

  #route(channel: string, payload: Buffer): void {
    const route = this.#routes.get(channel);
    if (!route) return;
    let envelope: Envelope;
    try {
      envelope = decodeEnvelope(payload);
    } catch (error) {
      this.logger.warn('redis transport: dropped a malformed message', { channel, bytes: payload.length, error: (error as Error).message });
      return;
    }
    try {
      route(envelope);
    } catch (error) {
      this.logger.error('redis transport: handling a message failed', { channel, error: (error as Error).message });
    }
    if (envelope.error) {
      this.logger.warn('redis transport: dropped the malformed end of a message', { channel, delivered: envelope.messages.length, error: envelope.error.message });
    }
  }
}
