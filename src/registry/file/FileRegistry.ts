import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../../logger/Logger.js';
import type { RegisterOptions, Registry, Service, WatchOptions, WatchResult, Watcher } from '../Registry.js';
import { QueueWatcher } from '../QueueWatcher.js';
import { assertRegistrable, toEntries, toServices } from '../serviceModel.js';
import { DirectoryMonitor } from './DirectoryMonitor.js';
import { readEntries, removeEntry, servicePrefix, writeEntry } from './entryFiles.js';

// node:fs through getBuiltinModule: an ES import of it also evaluates its lazy getters (file streams, Utf8Stream,
// glob, …): memory and milliseconds at every start, for parts nothing here uses.
const { mkdirSync } = process.getBuiltinModule('node:fs');

export interface FileRegistryOptions {
  /** The shared directory; every process that should see each other uses the same one. */
  directory?: string;
  /** How often watchers rescan for expired entries, in milliseconds. */
  pollIntervalMs?: number;
  logger?: Logger;
}

/** `<tmp>/tsmicro-<user>/registry`: per user, so two users on one machine do not fight over permissions. */
export function defaultRegistryDirectory(): string {
  let user = 'user';
  try {
    user = userInfo().username;
  } catch {
    // Some containers run with a uid that has no passwd entry.
  }
  return join(tmpdir(), `tsmicro-${user}`, 'registry');
}

/**
 * The zero-dependency default registry: entries are files in a directory shared by the processes of one
 * machine, with a TTL renewed by the server's heartbeat. No daemon, no multicast. A killed process's entries
 * disappear when their TTL runs out, or sooner when the reader sees that the owning pid is gone.
 */
export class FileRegistry implements Registry {
  readonly name = 'file';
  readonly directory: string;
  readonly #pollIntervalMs: number;
  readonly #logger: Logger | undefined;
  readonly #watchers = new Set<QueueWatcher>();
  #monitor: DirectoryMonitor | undefined;
  #directoryMade = false;

  constructor(options: FileRegistryOptions = {}) {
    this.directory = options.directory || defaultRegistryDirectory();
    this.#pollIntervalMs = options.pollIntervalMs ?? 500;
    this.#logger = options.logger;
  }

  /** Synchronous, once, like the writes that follow it (see writeEntry). */
  #ensureDirectory(): void {
    if (this.#directoryMade) return;
    try {
      mkdirSync(this.directory, { recursive: true, mode: 0o700 });
    } catch (error) {
      throw new Error(`file registry: cannot create directory ${this.directory} (${(error as NodeJS.ErrnoException).code}); set registry.address to a writable directory`, { cause: error });
    }
    this.#directoryMade = true;
  }

  async register(service: Service, options: RegisterOptions = {}): Promise<void> {
    assertRegistrable(service);
    this.#ensureDirectory();
    await Promise.all(toEntries(service, options.ttlMs, Date.now()).map((entry) => writeEntry(this.directory, entry)));
  }

  async deregister(service: Service): Promise<void> {
    await Promise.all(toEntries({ ...service, nodes: service.nodes ?? [] }, 0, 0).map((entry) => removeEntry(this.directory, entry)));
  }

  async getService(name: string): Promise<Service[]> {
    const { live } = await readEntries(this.directory, servicePrefix(name), Date.now(), this.#graceMs());
    return toServices([...live.values()].filter((file) => file.service.name === name));
  }

  async listServices(): Promise<Service[]> {
    const { live, unreadable } = await readEntries(this.directory, '', Date.now(), this.#graceMs());
    if (unreadable.length > 0) this.#logger?.warn('file registry: skipped unreadable entries', { directory: this.directory, files: unreadable });
    return toServices(live.values()).map((service) => ({ ...service, nodes: [] }));
  }

  async watch(options: WatchOptions = {}): Promise<Watcher> {
    this.#ensureDirectory();
    this.#monitor ??= new DirectoryMonitor(
      this.directory,
      this.#pollIntervalMs,
      this.#graceMs(),
      (results) => this.#dispatch(results),
      (error) => this.#logger?.warn('file registry: watch degraded to polling', { directory: this.directory, error: error.message }),
    );
    await this.#monitor.start();
    const watcher: QueueWatcher = new QueueWatcher(options.service, () => {
      this.#watchers.delete(watcher);
      if (this.#watchers.size === 0) {
        this.#monitor?.stop();
        this.#monitor = undefined;
      }
    });
    this.#watchers.add(watcher);
    return watcher;
  }

  async close(): Promise<void> {
    for (const watcher of [...this.#watchers]) watcher.stop();
    this.#monitor?.stop();
    this.#monitor = undefined;
  }

  #dispatch(results: WatchResult[]): void {
    for (const result of results) for (const watcher of this.#watchers) watcher.push(result);
  }

  /** A paused owner gets two poll intervals past its TTL before its file is removed from disk. */
  #graceMs(): number {
    return Math.max(1000, this.#pollIntervalMs * 2);
  }
}
