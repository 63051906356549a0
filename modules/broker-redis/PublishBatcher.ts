import type { Redis } from 'ioredis';
import type { Message } from '../../src/index.js';
import type { BrokerKeys } from './brokerKeys.js';
import { PUBLISH_BATCH } from './brokerScripts.js';
import { encodeHeaders } from './envelope.js';

export interface PublishBatcherOptions {
  /** Events in one script run before it is sent, without waiting for the end of the tick. */
  maxEvents: number;
  /** Bytes of headers and bodies in one script run before it is sent; a larger single event runs alone. */
  maxBytes: number;
  /** XADD MAXLEN ~ (0: no cap). */
  maxLen: number;
}

interface Waiting {
  resolve(): void;
  reject(error: Error): void;
}

class Batch {
  /** Index (1-based, as the script reads it) of each topic in the batch. */
  readonly topics = new Map<string, number>();
  readonly streams: string[] = [];
  readonly channels: string[] = [];
  /** Three per event: topic index, headers JSON, body. */
  readonly events: (string | Buffer | number)[] = [];
  readonly waiting: Waiting[] = [];
  bytes = 0;
}

/**
 * Gathers the publishes of one tick into one run of the publish script, so a burst costs one command, one write
 * and one reply instead of one of each per event, and Redis starts one script instead of many. A batch leaves when
 * the tick that filled it is over (setImmediate), or earlier once it holds `maxEvents` events or `maxBytes`
 * bytes. Every publish of a batch resolves once Redis has run the script; an event whose commands failed in it
 * (the script reports each) rejects alone, and all of them reject when the script could not run at all (no
 * connection, a lost reply, Redis refusing scripts).
 */
export class PublishBatcher {
  readonly #client: () => Promise<Redis>;
  readonly #keys: BrokerKeys;
  readonly #options: PublishBatcherOptions;
  #open: Batch | undefined;

  constructor(client: () => Promise<Redis>, keys: BrokerKeys, options: PublishBatcherOptions) {
    this.#client = client;
    this.#keys = keys;
    this.#options = options;
  }

  publish(topic: string, message: Message): Promise<void> {
    const headers = encodeHeaders(message);
    const source = message.body;
    // A view of the caller's bytes, not a copy: they are written to the socket when the batch leaves.
    const body = Buffer.isBuffer(source) ? source : Buffer.from(source.buffer, source.byteOffset, source.length);
    const bytes = headers.length + body.length;
    let batch = this.#open;
    if (batch && batch.bytes + bytes > this.#options.maxBytes) {
      this.#send(batch);
      batch = undefined;
    }
    if (!batch) {
      batch = new Batch();
      this.#open = batch;
      setImmediate(this.#sendOpen, batch);
    }
    let index = batch.topics.get(topic);
    if (index === undefined) {
      index = batch.topics.size + 1;
      batch.topics.set(topic, index);
      batch.streams.push(this.#keys.stream(topic));
      batch.channels.push(this.#keys.channel(topic));
    }
    const open = batch;
    const published = new Promise<void>((resolve, reject) => open.waiting.push({ resolve, reject }));
    open.events.push(index, headers, body);
    open.bytes += bytes;
    if (open.waiting.length >= this.#options.maxEvents) this.#send(open);
    return published;
  }

  /** Sends the batch still open, if any (before the connection closes). */
  flush(): void {
    if (this.#open) this.#send(this.#open);
  }

  readonly #sendOpen = (batch: Batch): void => {
    if (this.#open === batch) this.#send(batch);
  };

  #send(batch: Batch): void {
    if (this.#open === batch) this.#open = undefined;
    const { waiting } = batch;
    const args = [this.#options.maxLen, batch.topics.size, ...batch.channels, ...batch.events];
    this.#client()
      .then((client) => PUBLISH_BATCH.run(client, batch.streams, args))
      .then(
        (failed) => settle(waiting, failed),
        (error: Error) => {
          for (const one of waiting) one.reject(error);
        },
      );
  }
}

/** Resolves every publish of a batch but those the script reported as failed (`[index, error, …]`). */
function settle(waiting: readonly Waiting[], failed: unknown): void {
  const failures = new Map<number, string>();
  if (Array.isArray(failed)) for (let i = 0; i + 1 < failed.length; i += 2) failures.set(Number(failed[i]), String(failed[i + 1]));
  for (let index = 0; index < waiting.length; index++) {
    const failure = failures.get(index);
    if (failure === undefined) waiting[index]!.resolve();
    else waiting[index]!.reject(new Error(`redis broker: publishing failed: ${failure}`));
  }
}
