import type { Logger, WatchResult } from '../../src/index.js';
import { diffSnapshots, keyOf, type NodeEntry } from '../../src/registry/serviceModel.js';
import type { KubernetesApi } from './KubernetesApi.js';
import { entriesOfPod, type PodLike } from './podEntries.js';

interface PodWatchSettings {
  namespace: string;
  listPath(extra: string): string;
  service?: string;
  resyncMs: number;
}

/**
 * Follows the pods that announce services: a list, then a watch from the list's resourceVersion, with the
 * entries of every pod kept so each event is diffed into create/update/delete results. A periodic relist catches
 * lapsed TTLs (which change no pod) and anything missed while the watch was reconnecting.
 */
export class PodWatch {
  readonly #pods = new Map<string, NodeEntry[]>();
  #snapshot = new Map<string, NodeEntry>();
  #closeWatch: (() => void) | undefined;
  #resync: NodeJS.Timeout | undefined;
  #stopped = false;
  #failures = 0;

  constructor(
    private readonly api: KubernetesApi,
    private readonly settings: PodWatchSettings,
    private readonly emit: (result: WatchResult) => void,
    private readonly logger: Logger,
  ) {}

  /** Takes the first snapshot silently: a watcher reports changes after it was created. */
  async start(): Promise<void> {
    const version = await this.#relist(true);
    await this.#open(version);
    this.#resync = setInterval(() => void this.#relist(false).catch((error: Error) => this.logger.warn('kubernetes registry: relist failed', { error: error.message })), this.settings.resyncMs);
    this.#resync.unref();
  }

  stop(): void {
    this.#stopped = true;
    clearInterval(this.#resync);
    this.#closeWatch?.();
  }

  async #relist(silent: boolean): Promise<string> {
    const list = await this.api.request<{ items: (PodLike & { metadata: { name: string } })[]; metadata?: { resourceVersion?: string } }>('GET', this.settings.listPath(''), 'list', this.settings.namespace);
    this.#pods.clear();
    for (const pod of list.items) this.#pods.set(pod.metadata.name, this.#entries(pod));
    this.#publish(silent);
    return list.metadata?.resourceVersion ?? '';
  }

  async #open(resourceVersion: string): Promise<void> {
    if (this.#stopped) return;
    const extra = `&watch=true${resourceVersion ? `&resourceVersion=${encodeURIComponent(resourceVersion)}` : ''}`;
    this.#closeWatch = await this.api.watch(
      this.settings.listPath(extra),
      (event) => this.#onEvent(event),
      (error) => void this.#reconnect(error),
    );
  }

  #onEvent(event: { type: string; object: unknown }): void {
    const pod = event.object as PodLike & { metadata?: { name?: string } };
    const name = pod?.metadata?.name;
    if (!name) return;
    if (event.type === 'DELETED') this.#pods.delete(name);
    else if (event.type === 'ADDED' || event.type === 'MODIFIED') this.#pods.set(name, this.#entries(pod));
    this.#failures = 0;
    this.#publish(false);
  }

  async #reconnect(error?: Error): Promise<void> {
    if (this.#stopped) return;
    const delay = Math.min(30_000, 200 * 2 ** this.#failures++);
    if (error) this.logger.warn('kubernetes registry: watch closed; reopening', { error: error.message, retryInMs: delay });
    await new Promise((resolve) => setTimeout(resolve, delay).unref());
    if (this.#stopped) return;
    try {
      await this.#open(await this.#relist(false));
    } catch (failure) {
      void this.#reconnect(failure as Error);
    }
  }

  #entries(pod: PodLike): NodeEntry[] {
    return entriesOfPod(pod, Date.now(), this.settings.service, (where) => this.logger.warn('kubernetes registry: skipped an annotation that is not a service', { annotation: where }));
  }

  #publish(silent: boolean): void {
    const now = Date.now();
    const next = new Map<string, NodeEntry>();
    for (const entries of this.#pods.values()) for (const entry of entries) if (entry.expiresAt === 0 || entry.expiresAt > now) next.set(keyOf(entry), entry);
    const results = diffSnapshots(this.#snapshot, next);
    this.#snapshot = next;
    if (!silent) for (const result of results) this.emit(result);
  }
}
