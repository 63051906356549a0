import type { NatsConnection } from '@nats-io/transport-node';

/** Why a batch was not confirmed; each publish of the batch turns it into its own error. */
export class FlushFailure {
  constructor(
    /** No PONG within the time allowed (the connection is down or the server is stuck). */
    readonly timedOut: boolean,
    readonly cause?: Error,
  ) {}
}

/** The publishes waiting for one PING. */
interface Batch {
  confirmed: Promise<void>;
  resolve: () => void;
  reject: (failure: FlushFailure) => void;
  size: number;
}

/**
 * Confirms core-NATS publishes with one PING/PONG for a whole batch. The server handles a connection's
 * protocol in order, so its PONG to a PING means it has processed every PUB written before that PING: one flush
 * confirms every publish issued before it, as one flush per publish did, for one round trip and one timer per
 * batch instead of one each.
 *
 * A publish calls `confirm()` right after handing its PUB to the client. It joins the batch whose PING has not
 * been sent yet, or opens one; the PING goes out once the current turn's publishes have all been issued
 * (`setImmediate`), so a burst of publishes shares it, or at once when the batch is full (`maxBatch`). A
 * publish issued after a PING went out waits for the next one: nothing resolves before the server has seen it.
 */
export class FlushBatch {
  #open: Batch | undefined;

  constructor(
    private readonly connection: () => NatsConnection,
    private readonly timeoutMs: number,
    /**
     * A batch this large is flushed at once instead of at the end of the turn: the server and the subscribers
     * start on the first events while the rest are being published, and their confirmations come back sooner.
     * Each PING also makes the client write what it holds, so smaller batches cost more writes: with 256
     * publishes in flight, 128 delivered 10–15 % more events per second than 64, and 16 about 35 % fewer.
     */
    private readonly maxBatch = 128,
  ) {}

  /** Resolves when the server has every PUB handed to the client so far; rejects with a FlushFailure. */
  confirm(): Promise<void> {
    let open = this.#open;
    if (!open) {
      let resolve!: () => void;
      let reject!: (failure: FlushFailure) => void;
      const confirmed = new Promise<void>((resolved, rejected) => {
        resolve = resolved;
        reject = rejected;
      });
      const created: Batch = { confirmed, resolve, reject, size: 0 };
      open = this.#open = created;
      setImmediate(() => this.#flush(created));
    }
    if (++open.size >= this.maxBatch) this.#flush(open);
    return open.confirmed;
  }

  #flush(batch: Batch): void {
    // Publishes from now on belong to the next batch: this PING is written after every PUB of this one.
    if (this.#open !== batch) return; // Already flushed (full), or the turn's end came after.
    this.#open = undefined;
    const { resolve, reject } = batch;
    let settled = false;
    const timer = setTimeout(() => {
      settled = true;
      reject(new FlushFailure(true));
    }, this.timeoutMs);
    let flushed: Promise<void>;
    try {
      flushed = this.connection().flush();
    } catch (error) {
      clearTimeout(timer);
      reject(new FlushFailure(false, error as Error));
      return;
    }
    flushed.then(
      () => {
        clearTimeout(timer);
        if (!settled) resolve();
      },
      (error: Error) => {
        clearTimeout(timer);
        if (!settled) reject(new FlushFailure(false, error));
      },
    );
  }
}
