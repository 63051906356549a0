/**
 * A long burst leaves every 16 frames rather than at the end of the turn, so the peer starts on the first frames
 * while this side prepares the rest — as the TCP transport's writes do (measured here: NATS and Redis rows a few
 * percent faster, within the noise of this machine, and never slower).
 */
const FLUSH_EVERY = 16;

/**
 * The frames one socket sends within a turn, published as one broker message (a NATS message, a Redis PUBLISH)
 * at the end of the turn (a microtask, when the client library would write its buffer anyway), every
 * FLUSH_EVERY frames, or as soon as one more frame would take the message over the size limit. With many calls in flight on a socket, the client
 * library then builds, parses and dispatches one message for a batch of requests or replies instead of one each.
 * Frames keep their order: batches go out in order on one channel, and frames in order within a batch.
 */
export class OutgoingFrames {
  #frames: Buffer[] = [];
  #bytes = 0;

  constructor(
    /** Publishes one batch (`bytes` in all); throws when the connection cannot take it. */
    private readonly publish: (frames: readonly Buffer[], bytes: number) => void,
    /** The payload could not be published: the socket is broken. */
    private readonly failed: (error: Error) => void,
  ) {}

  /** Queues `frame`, which is at most `limit` bytes (the caller measured it). */
  add(frame: Buffer, limit: number): void {
    if (this.#bytes + frame.length > limit) this.flush();
    this.#frames.push(frame);
    this.#bytes += frame.length;
    if (this.#frames.length === 1) queueMicrotask(this.#flushLater);
    else if (this.#frames.length >= FLUSH_EVERY) this.flush();
  }

  /** Publishes what is queued now (before a close, so the peer gets it first). */
  flush(): void {
    const frames = this.#frames;
    if (frames.length === 0) return;
    const bytes = this.#bytes;
    this.#frames = [];
    this.#bytes = 0;
    try {
      this.publish(frames, bytes);
    } catch (error) {
      this.failed(error as Error);
    }
  }

  /** Forgets what is queued: the peer is gone. */
  discard(): void {
    this.#frames = [];
    this.#bytes = 0;
  }

  readonly #flushLater = (): void => this.flush();
}
