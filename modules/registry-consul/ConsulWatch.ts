import type { Logger, WatchResult } from '../../src/index.js';
import { diffSnapshots, keyOf, resultOf, type NodeEntry } from '../../src/registry/serviceModel.js';
import type { ConsulClient } from './ConsulClient.js';
import { entriesFromHealth, type HealthEntry } from './consulEntries.js';

interface WatchSettings {
  /** Only this service; every service (through the catalog) when absent. */
  service?: string;
  waitMs: number;
  query: Record<string, string>;
}

/**
 * Consul blocking queries turned into watch results: one on the catalog (which services exist) and one on the
 * health of each service (its passing nodes), each resumed from the last X-Consul-Index. Snapshots are diffed, so
 * a renewal that changes nothing produces nothing, and after an outage the first answer reports what changed.
 */
export class ConsulWatch {
  readonly #loops = new Map<string, AbortController>();
  readonly #snapshots = new Map<string, Map<string, NodeEntry>>();
  #catalog: AbortController | undefined;
  #stopped = false;

  constructor(
    private readonly client: ConsulClient,
    private readonly settings: WatchSettings,
    private readonly emit: (result: WatchResult) => void,
    private readonly logger: Logger,
  ) {}

  /** Takes the first snapshots, so only later changes are reported. */
  async start(): Promise<void> {
    if (this.settings.service) return this.#watchService(this.settings.service, true);
    const { value, index } = await this.client.json<Record<string, string[]>>('/v1/catalog/services', this.settings.query);
    await Promise.all(Object.keys(value).filter((name) => name !== 'consul').map((name) => this.#watchService(name, true)));
    this.#catalog = new AbortController();
    void this.#catalogLoop(index, this.#catalog.signal);
  }

  stop(): void {
    this.#stopped = true;
    this.#catalog?.abort();
    for (const loop of this.#loops.values()) loop.abort();
    this.#loops.clear();
  }

  async #catalogLoop(index: number, signal: AbortSignal): Promise<void> {
    let failures = 0;
    while (!signal.aborted) {
      try {
        const answer = await this.client.json<Record<string, string[]>>('/v1/catalog/services', { ...this.settings.query, index: String(index), wait: `${this.settings.waitMs}ms` }, signal, this.settings.waitMs * 2);
        index = answer.index < index ? 0 : answer.index; // an index going backwards means the agent restarted: start over
        failures = 0;
        const names = new Set(Object.keys(answer.value).filter((name) => name !== 'consul'));
        for (const name of names) if (!this.#loops.has(name)) void this.#watchService(name, false);
        for (const name of [...this.#loops.keys()]) if (!names.has(name)) this.#forget(name);
      } catch (error) {
        if (signal.aborted) return;
        failures = await this.#backoff('catalog', error, failures);
      }
    }
  }

  /** The first answer is a baseline for services that existed when the watch began, news for ones that appeared since. */
  async #watchService(name: string, baseline: boolean): Promise<void> {
    if (this.#loops.has(name) || this.#stopped) return;
    const controller = new AbortController();
    this.#loops.set(name, controller);
    const first = await this.client.json<HealthEntry[]>(`/v1/health/service/${encodeURIComponent(name)}`, this.settings.query, controller.signal).catch(() => undefined);
    this.#apply(name, first ? entriesFromHealth(name, first.value) : [], baseline);
    void this.#serviceLoop(name, first?.index ?? 0, controller.signal);
  }

  async #serviceLoop(name: string, index: number, signal: AbortSignal): Promise<void> {
    let failures = 0;
    while (!signal.aborted) {
      try {
        const answer = await this.client.json<HealthEntry[]>(`/v1/health/service/${encodeURIComponent(name)}`, { ...this.settings.query, index: String(index), wait: `${this.settings.waitMs}ms` }, signal, this.settings.waitMs * 2);
        index = answer.index < index ? 0 : answer.index;
        failures = 0;
        this.#apply(name, entriesFromHealth(name, answer.value), false);
      } catch (error) {
        if (signal.aborted) return;
        failures = await this.#backoff(name, error, failures);
      }
    }
  }

  #apply(name: string, entries: NodeEntry[], baseline: boolean): void {
    const next = new Map(entries.map((entry) => [keyOf(entry), entry]));
    const previous = this.#snapshots.get(name) ?? new Map<string, NodeEntry>();
    this.#snapshots.set(name, next);
    if (!baseline) for (const result of diffSnapshots(previous, next)) this.emit(result);
  }

  /** A service gone from the catalog: its remaining nodes are reported deleted. */
  #forget(name: string): void {
    this.#loops.get(name)?.abort();
    this.#loops.delete(name);
    for (const entry of this.#snapshots.get(name)?.values() ?? []) this.emit(resultOf('delete', entry));
    this.#snapshots.delete(name);
  }

  async #backoff(what: string, error: unknown, failures: number): Promise<number> {
    const delay = Math.min(30_000, 250 * 2 ** failures);
    this.logger.warn('consul watch failed; retrying', { watching: what, retryInMs: delay, error: (error as Error).message });
    await new Promise((resolve) => setTimeout(resolve, delay).unref());
    return failures + 1;
  }
}
