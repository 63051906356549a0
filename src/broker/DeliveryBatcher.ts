import { MicroError, parseWireError } from '../errors.js';
import type { RequestChannel } from '../transport/RequestChannel.js';
import { BATCH_HEADER, BatchFormatError, decodeBatchReply, encodeBatch, type BatchItem } from './eventBatch.js';

export interface DeliveryBatcherOptions {
  /** Events in one batch before it is sent at once, without waiting for the end of the tick. */
  maxEvents: number;
  /** Bytes of items in one batch before it is sent; a larger single event travels alone. */
  maxBytes: number;
  /** The transport's largest message: an event that cannot fit in one is refused with a 413. */
  maxMessageSize: number;
  /** How long a batch waits for the subscriber process to accept it. */
  timeoutMs: number;
  errorId: string;
}

/** Room left in a message for the envelope: the frame's prefixes and the id and batch headers. */
const ENVELOPE_BYTES = 256;

interface Waiting {
  resolve(): void;
  reject(error: Error): void;
}

class Batch {
  readonly items: BatchItem[] = [];
  readonly waiting: Waiting[] = [];
  bytes = 0;
}

/**
 * Gathers the events published towards one subscriber process and sends them as one transport message, so a
 * burst costs one frame, one write and one reply instead of one of each per event. A batch leaves when the tick
 * that filled it is over (setImmediate: every publish made while handling the same I/O joins it), or earlier
 * once it holds `maxEvents` events or `maxBytes` bytes, so the subscriber starts on the first events while later
 * ones are still being published. Each publish's promise settles with its own event: a reply that refuses some
 * events rejects only theirs; a batch that fails as a whole (timeout, lost connection) rejects all of them.
 */
export class DeliveryBatcher {
  readonly #open = new Map<string, Batch>();
  readonly #options: DeliveryBatcherOptions;
  readonly #channel: (address: string) => Promise<RequestChannel> | RequestChannel;
  /** Bytes of items one message can hold: the batch limit, within the transport's. */
  readonly #maxBytes: number;
  #scheduled = false;

  constructor(channel: (address: string) => Promise<RequestChannel> | RequestChannel, options: DeliveryBatcherOptions) {
    this.#channel = channel;
    this.#options = options;
    this.#maxBytes = Math.min(options.maxBytes, options.maxMessageSize - ENVELOPE_BYTES);
  }

  /** Resolves when the process at `address` has accepted the event; rejects with why it did not. */
  deliver(address: string, item: BatchItem): Promise<void> {
    const { maxEvents, maxMessageSize, errorId } = this.#options;
    const maxBytes = this.#maxBytes;
    if (item.bytes + ENVELOPE_BYTES > maxMessageSize) {
      return Promise.reject(MicroError.tooLarge(errorId, `event of ${item.bytes} bytes is over the transport limit of ${maxMessageSize} bytes (transport.maxMessageSize)`));
    }
    let batch = this.#open.get(address);
    if (batch && batch.bytes + item.bytes > maxBytes) {
      this.#send(address, batch);
      batch = undefined;
    }
    if (!batch) {
      batch = new Batch();
      this.#open.set(address, batch);
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(this.#sendAll);
      }
    }
    const open = batch;
    const delivered = new Promise<void>((resolve, reject) => open.waiting.push({ resolve, reject }));
    open.items.push(item);
    open.bytes += item.bytes;
    if (open.items.length >= maxEvents) this.#send(address, open);
    return delivered;
  }

  /** Sends every batch still open; the broker calls it before closing its connections. */
  flush(): void {
    this.#sendAll();
  }

  readonly #sendAll = (): void => {
    this.#scheduled = false;
    for (const [address, batch] of this.#open) this.#send(address, batch);
  };

  #send(address: string, batch: Batch): void {
    if (this.#open.get(address) === batch) this.#open.delete(address);
    const { items, waiting } = batch;
    const fail = (error: unknown): void => {
      for (const one of waiting) one.reject(error as Error);
    };
    let message;
    try {
      message = { headers: { [BATCH_HEADER]: String(items.length) }, body: encodeBatch(items, batch.bytes) };
    } catch (error) {
      fail(error);
      return;
    }
    const what = `delivery of ${items.length} event${items.length === 1 ? '' : 's'} to ${address}`;
    const request = (channel: RequestChannel): void => {
      channel.request(message, this.#options.timeoutMs, this.#options.errorId, what).then((reply) => this.#settle(address, waiting, reply.body), fail);
    };
    try {
      const channel = this.#channel(address);
      if (channel instanceof Promise) channel.then(request, fail);
      else request(channel);
    } catch (error) {
      fail(error);
    }
  }

  #settle(address: string, waiting: readonly Waiting[], body: Uint8Array): void {
    let failures: Map<number, string>;
    try {
      failures = decodeBatchReply(body);
    } catch (error) {
      const detail = error instanceof BatchFormatError ? error.message : String(error);
      for (const one of waiting) one.reject(MicroError.internal(this.#options.errorId, `${address} answered a batch with ${detail}`));
      return;
    }
    if (failures.size === 0) {
      for (const one of waiting) one.resolve();
      return;
    }
    for (let index = 0; index < waiting.length; index++) {
      const failure = failures.get(index);
      if (failure === undefined) waiting[index]!.resolve();
      else waiting[index]!.reject(parseWireError(failure, address));
    }
  }
}
