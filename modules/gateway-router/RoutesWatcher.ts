import { statSync, watch, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from '../../src/index.js';

export interface RoutesWatcherOptions {
  /** Quiet time after the last change before `onChange` runs: an editor's save is several events. */
  debounceMs: number;
  /** How often the file's size, time and inode are compared as well (0: never). */
  pollMs: number;
}

/**
 * Tells when the routes file may have changed. Three sources, because each misses cases:
 * - the file itself: writes in place;
 * - its directory: editors and `mv` replace the file by rename, which a watch on the old file never sees, and
 *   Kubernetes ConfigMaps swap a symlink (`..data`) that is not the file's name;
 * - a slow poll: network and overlay filesystems where watches report nothing.
 * `onChange` may run when nothing changed; the caller compares the content.
 */
export class RoutesWatcher {
  #directoryWatcher: FSWatcher | undefined;
  #fileWatcher: FSWatcher | undefined;
  #poll: NodeJS.Timeout | undefined;
  #debounce: NodeJS.Timeout | undefined;
  #signature: string | undefined;
  #closed = false;

  constructor(
    private readonly file: string,
    private readonly options: RoutesWatcherOptions,
    private readonly onChange: () => void,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.#directoryWatcher = this.#watch(dirname(this.file), 'directory');
    this.#watchFile();
    this.#signature = this.#signatureNow();
    if (this.options.pollMs > 0) {
      this.#poll = setInterval(() => void this.#compareStat(), this.options.pollMs);
      this.#poll.unref();
    }
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#debounce);
    clearInterval(this.#poll);
    this.#directoryWatcher?.close();
    this.#fileWatcher?.close();
  }

  #changed(): void {
    if (this.#closed) return;
    clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => {
      if (this.#closed) return;
      // After a rename the old watch follows the replaced file; watch whatever is at the path now.
      this.#watchFile();
      this.onChange();
    }, this.options.debounceMs);
    this.#debounce.unref();
  }

  #watchFile(): void {
    this.#fileWatcher?.close();
    this.#fileWatcher = this.#watch(this.file, 'file');
  }

  #watch(path: string, what: 'file' | 'directory'): FSWatcher | undefined {
    try {
      const watcher = watch(path, { persistent: false }, () => this.#changed());
      watcher.on('error', (error) => {
        this.logger.warn(`watching the routes ${what} failed; changes are noticed by polling`, { path, error: error.message });
        watcher.close();
      });
      return watcher;
    } catch (error) {
      // The file is briefly missing while it is being replaced; the directory watch covers that moment.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || what === 'directory') {
        this.logger.warn(`cannot watch the routes ${what}; changes are noticed by polling`, { path, error: (error as Error).message });
      }
      return undefined;
    }
  }

  async #compareStat(): Promise<void> {
    const signature = await stat(this.file).then(
      (info) => `${info.ino}:${info.size}:${info.mtimeMs}`,
      () => 'missing',
    );
    if (signature === this.#signature) return;
    this.#signature = signature;
    this.#changed();
  }

  #signatureNow(): string {
    try {
      const info = statSync(this.file);
      return `${info.ino}:${info.size}:${info.mtimeMs}`;
    } catch {
      return 'missing';
    }
  }
}
