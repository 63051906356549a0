import type { FSWatcher } from 'node:fs';
import type { WatchResult } from '../Registry.js';
import { diffSnapshots, keyOf, type NodeEntry } from '../serviceModel.js';
import { readEntries } from './entryFiles.js';

// node:fs through getBuiltinModule: an ES import of it also evaluates its lazy getters (file streams, Utf8Stream,
// glob, …): memory and milliseconds at every start, for parts nothing here uses.
const { watch } = process.getBuiltinModule('node:fs');

/**
 * Turns a registry directory into watch results. File-system events make changes visible within milliseconds;
 * the poll catches what events cannot show: an entry whose TTL ran out, or whose process died.
 * One monitor serves every watcher of a FileRegistry, so a process scans the directory once per tick.
 */
export class DirectoryMonitor {
  #snapshot = new Map<string, NodeEntry>();
  #fsWatcher: FSWatcher | undefined;
  #pollTimer: NodeJS.Timeout | undefined;
  #debounce: NodeJS.Timeout | undefined;
  #scanning: Promise<void> | undefined;
  #rescan = false;
  #started: Promise<void> | undefined;

  constructor(
    private readonly directory: string,
    private readonly pollIntervalMs: number,
    private readonly graceMs: number,
    private readonly onResults: (results: WatchResult[]) => void,
    private readonly onError: (error: Error) => void,
  ) {}

  /** Resolves once the first snapshot is taken, so a watcher created afterwards only sees later changes. */
  start(): Promise<void> {
    this.#started ??= this.#begin();
    return this.#started;
  }

  async #begin(): Promise<void> {
    await this.#scan();
    try {
      this.#fsWatcher = watch(this.directory, { persistent: false }, () => this.#schedule());
      this.#fsWatcher.on('error', (error) => this.onError(error));
    } catch (error) {
      // Polling alone still works; changes just take up to one poll interval to show.
      this.onError(error as Error);
    }
    this.#pollTimer = setInterval(() => this.#schedule(), this.pollIntervalMs);
    this.#pollTimer.unref();
  }

  stop(): void {
    this.#fsWatcher?.close();
    clearInterval(this.#pollTimer);
    clearTimeout(this.#debounce);
    this.#started = undefined;
    this.#snapshot = new Map();
  }

  /** Coalesces bursts of file events (a rename produces several) into one scan. */
  #schedule(): void {
    if (this.#debounce) return;
    this.#debounce = setTimeout(() => {
      this.#debounce = undefined;
      void this.#scan().catch((error: Error) => this.onError(error));
    }, 15);
    this.#debounce.unref();
  }

  async #scan(): Promise<void> {
    if (this.#scanning) {
      this.#rescan = true;
      return this.#scanning;
    }
    this.#scanning = (async () => {
      do {
        this.#rescan = false;
        const { live } = await readEntries(this.directory, '', Date.now(), this.graceMs);
        const next = new Map<string, NodeEntry>();
        for (const file of live.values()) next.set(keyOf(file), { service: file.service, node: file.node, expiresAt: file.expiresAt });
        const results = diffSnapshots(this.#snapshot, next);
        this.#snapshot = next;
        if (results.length > 0) this.onResults(results);
      } while (this.#rescan);
    })().finally(() => {
      this.#scanning = undefined;
    });
    return this.#scanning;
  }
}
