import type { Logger, RegisterOptions, Registry, ServiceEntry, WatchOptions, Watcher } from '../../src/index.js';
import { QueueWatcher } from '../../src/registry/QueueWatcher.js';
import { assertRegistrable, toServices } from '../../src/registry/serviceModel.js';
import { KubernetesApiError, type KubernetesApi } from './KubernetesApi.js';
import { annotationKey, entriesOfPod, parseStored, SERVICE_ANNOTATION_PREFIX, selectorLabel, TYPE_LABEL, type PodLike, type StoredService } from './podEntries.js';
import { PodWatch } from './PodWatch.js';

/** JSON pointer escaping for a label or annotation name inside /metadata/<map>/<name>. */
const pointer = (key: string): string => key.replace(/~/g, '~0').replace(/\//g, '~1');

/** Map entries whose value is null (left behind by servers that store merge-patch nulls) count as absent. */
function cleanMap(map: Record<string, string | null> | null | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(map ?? {}).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
}

function kept(changes: Record<string, string | null>): Record<string, string> {
  return Object.fromEntries(Object.entries(changes).filter((entry): entry is [string, string] => entry[1] !== null));
}

/** JSON-patch removes for the keys `changes` sets to null that the pod has. */
function removeOperations(map: 'labels' | 'annotations', current: Record<string, string | null> | null | undefined, changes: Record<string, string | null>): object[] {
  return Object.entries(changes)
    .filter(([key, value]) => value === null && current && key in current)
    .map(([key]) => ({ op: 'remove', path: `/metadata/${map}/${pointer(key)}` }));
}

export interface KubernetesRegistryOptions {
  namespace: string;
  /** This process's pod: what register() patches. */
  podName: string;
  /** How often watchers list the pods again, to notice lapsed TTLs and anything a dropped watch missed. */
  resyncMs: number;
}

/**
 * A registry on the Kubernetes API, as go-micro's: a node is announced by patching its own pod with labels and an
 * annotation, found by listing pods by label, and followed with a pod watch. Only Running pods that are not being
 * deleted count, so a pod's end removes its nodes without anyone deregistering them.
 */
export class KubernetesRegistry implements Registry {
  readonly name = 'kubernetes';
  readonly #watches = new Set<PodWatch>();
  /** Writes to the own pod are read-modify-write; one at a time, so concurrent registrations do not undo each other. */
  #writes: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly api: KubernetesApi,
    private readonly options: KubernetesRegistryOptions,
    private readonly logger: Logger,
  ) {}

  get #podPath(): string {
    return `/api/v1/namespaces/${encodeURIComponent(this.options.namespace)}/pods/${encodeURIComponent(this.options.podName)}`;
  }

  #listPath(selector: string, extra = ''): string {
    return `/api/v1/namespaces/${encodeURIComponent(this.options.namespace)}/pods?labelSelector=${encodeURIComponent(selector)}${extra}`;
  }

  async #ownPod(): Promise<PodLike> {
    if (!this.options.podName) throw new Error('kubernetes registry: no pod name; set HOSTNAME (the downward API does) or registry.options.podName');
    try {
      return await this.api.request<PodLike>('GET', this.#podPath, 'get', this.options.namespace);
    } catch (error) {
      if (error instanceof KubernetesApiError && error.status === 404) {
        throw new Error(`kubernetes registry: pod "${this.options.podName}" not found in namespace "${this.options.namespace}"; is HOSTNAME this pod's name? (registry.options.podName / namespace)`, { cause: error });
      }
      throw error;
    }
  }

  #serialised<T>(work: () => Promise<T>): Promise<T> {
    const next = this.#writes.then(work, work);
    this.#writes = next.catch(() => undefined);
    return next;
  }

  async register(service: ServiceEntry, options: RegisterOptions = {}): Promise<void> {
    assertRegistrable(service);
    const expires = options.ttlMs && options.ttlMs > 0 ? Date.now() + options.ttlMs : 0;
    await this.#update((annotations) => {
      const primary = parseStored(annotations[annotationKey(service.name, service.version, undefined)]);
      const key = annotationKey(service.name, service.version, primary?.version);
      const stored = parseStored(annotations[key]);
      const ids = new Set(service.nodes.map((node) => node.id));
      const nodes = [...(stored?.nodes ?? []).filter((node) => !ids.has(node.id)), ...service.nodes.map((node) => ({ ...node, expires }))];
      const value: StoredService = { name: service.name, version: service.version, metadata: service.metadata ?? {}, endpoints: service.endpoints ?? [], nodes };
      return { labels: { [TYPE_LABEL]: 'service', [selectorLabel(service.name)]: 'service' }, annotations: { [key]: JSON.stringify(value) } };
    });
  }

  async deregister(service: ServiceEntry): Promise<void> {
    const ids = new Set((service.nodes ?? []).map((node) => node.id));
    await this.#update((annotations) => {
      const changes: Record<string, string | null> = {};
      let remaining = 0;
      let others = 0;
      for (const [key, text] of Object.entries(annotations)) {
        const stored = key.startsWith(SERVICE_ANNOTATION_PREFIX) ? parseStored(text) : undefined;
        if (!stored) continue;
        if (stored.name !== service.name) {
          others++;
          continue;
        }
        const nodes = stored.nodes.filter((node) => !ids.has(node.id));
        remaining += nodes.length;
        changes[key] = nodes.length === 0 ? null : JSON.stringify({ ...stored, nodes });
      }
      const labels: Record<string, string | null> = {};
      if (remaining === 0) labels[selectorLabel(service.name)] = null;
      if (remaining === 0 && others === 0) labels[TYPE_LABEL] = null;
      return { labels, annotations: changes };
    });
  }

  /**
   * Reads the own pod, computes the label and annotation changes, and writes them key by key: additions as a JSON
   * merge patch (which merges into the maps, creating them if needed), removals as JSON-patch removes (some
   * servers keep merge-patch nulls as values). Two processes in one pod announcing different services touch
   * different keys and cannot undo each other; in this process, writes run one at a time.
   */
  #update(change: (annotations: Record<string, string>) => { labels: Record<string, string | null>; annotations: Record<string, string | null> }): Promise<void> {
    return this.#serialised(async () => {
      const metadata = (await this.#ownPod()).metadata ?? {};
      const wanted = change(cleanMap(metadata.annotations));
      const additions = { labels: kept(wanted.labels), annotations: kept(wanted.annotations) };
      if (Object.keys(additions.labels).length + Object.keys(additions.annotations).length > 0) {
        await this.api.request('PATCH', this.#podPath, 'patch', this.options.namespace, { metadata: additions }, 'merge');
      }
      const removals = [...removeOperations('labels', metadata.labels, wanted.labels), ...removeOperations('annotations', metadata.annotations, wanted.annotations)];
      if (removals.length > 0) await this.api.request('PATCH', this.#podPath, 'patch', this.options.namespace, removals, 'json');
    });
  }

  async getService(name: string): Promise<ServiceEntry[]> {
    const pods = await this.api.request<{ items: PodLike[] }>('GET', this.#listPath(`${selectorLabel(name)}=service`), 'list', this.options.namespace);
    const now = Date.now();
    return toServices(pods.items.flatMap((pod) => entriesOfPod(pod, now, name, (where) => this.#unreadable(where))));
  }

  async listServices(): Promise<ServiceEntry[]> {
    const pods = await this.api.request<{ items: PodLike[] }>('GET', this.#listPath(`${TYPE_LABEL}=service`), 'list', this.options.namespace);
    const now = Date.now();
    return toServices(pods.items.flatMap((pod) => entriesOfPod(pod, now, undefined, (where) => this.#unreadable(where)))).map((service) => ({ ...service, nodes: [] }));
  }

  async watch(options: WatchOptions = {}): Promise<Watcher> {
    let watch: PodWatch | undefined;
    const watcher = new QueueWatcher(options.service, () => {
      watch?.stop();
      if (watch) this.#watches.delete(watch);
    });
    const selector = options.service ? `${selectorLabel(options.service)}=service` : `${TYPE_LABEL}=service`;
    watch = new PodWatch(this.api, { namespace: this.options.namespace, listPath: (extra) => this.#listPath(selector, extra), service: options.service, resyncMs: this.options.resyncMs }, (result) => watcher.push(result), this.logger);
    this.#watches.add(watch);
    await watch.start();
    return watcher;
  }

  async close(): Promise<void> {
    for (const watch of this.#watches) watch.stop();
    this.#watches.clear();
  }

  #unreadable(where: string): void {
    this.logger.warn('kubernetes registry: skipped an annotation that is not a service', { annotation: where });
  }
}
