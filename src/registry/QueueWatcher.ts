import type { WatchResult, Watcher } from './Registry.js';
import { WatcherStoppedError } from './Registry.js';

/**
 * A Watcher fed by its registry through `push()`. Results queue up until read, so a slow reader misses nothing;
 * `onStop` lets the registry drop its reference.
 */
export class QueueWatcher implements Watcher {
  #queue: WatchResult[] = [];
  #waiting: { resolve: (result: WatchResult) => void; reject: (error: Error) => void }[] = [];
  #stopped = false;
  #onStop: () => void;
  #filter: string | undefined;

  constructor(serviceFilter: string | undefined, onStop: () => void) {
    this.#filter = serviceFilter;
    this.#onStop = onStop;
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  push(result: WatchResult): void {
    if (this.#stopped) return;
    if (this.#filter !== undefined && result.service.name !== this.#filter) return;
    const waiter = this.#waiting.shift();
    if (waiter) waiter.resolve(result);
    else this.#queue.push(result);
  }

  /** Ends the stream with an error (e.g. the registry connection is gone for good). */
  fail(error: Error): void {
    for (const waiter of this.#waiting.splice(0)) waiter.reject(error);
    this.stop();
  }

  next(): Promise<WatchResult> {
    const queued = this.#queue.shift();
    if (queued) return Promise.resolve(queued);
    if (this.#stopped) return Promise.reject(new WatcherStoppedError());
    return new Promise((resolve, reject) => this.#waiting.push({ resolve, reject }));
  }

  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#queue = [];
    for (const waiter of this.#waiting.splice(0)) waiter.reject(new WatcherStoppedError());
    this.#onStop();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<WatchResult> {
    for (;;) {
      try {
        yield await this.next();
      } catch (error) {
        if (error instanceof WatcherStoppedError) return;
        throw error;
      }
    }
  }
}
