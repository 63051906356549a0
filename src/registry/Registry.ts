/**
 * Service discovery. The data model is go-micro's: a service has versions, each version has nodes, and the
 * endpoints carry descriptions of their request and response messages, which the client, broker, gateway and
 * CLI all read.
 */

/** A recursive description of a message: a field name, its type, and its own fields for objects. */
export interface Value {
  name: string;
  type: string;
  values?: Value[];
}

export interface Endpoint {
  name: string;
  request: Value | null;
  response: Value | null;
  metadata: Record<string, string>;
}

export interface Node {
  /** `<service name>-<uuid>`: unique per running server. */
  id: string;
  /** Where the node's transport listens, e.g. `127.0.0.1:41234`. */
  address: string;
  metadata: Record<string, string>;
}

/** One version of a service and the nodes running it. `getService` returns one of these per version. */
export interface Service {
  name: string;
  version: string;
  metadata: Record<string, string>;
  endpoints: Endpoint[];
  nodes: Node[];
}

export type WatchAction = 'create' | 'update' | 'delete';

/**
 * One change. `service` holds the version and only the nodes that changed: for `create` the nodes that
 * appeared, for `update` nodes whose registration changed, for `delete` the nodes that left (deregistered or
 * expired).
 */
export interface WatchResult {
  action: WatchAction;
  service: Service;
}

/** A stream of changes. `next()` waits for the next one; after `stop()` it rejects with WatcherStoppedError. */
export interface Watcher extends AsyncIterable<WatchResult> {
  next(): Promise<WatchResult>;
  stop(): void;
}

export interface RegisterOptions {
  /** How long the registration lives without being renewed, in milliseconds. 0 or absent: until deregistered. */
  ttlMs?: number;
}

export interface WatchOptions {
  /** Only changes to this service; all services when absent. */
  service?: string;
}

export interface Registry {
  /** The plugin name, e.g. `file`, `memory`, `consul`. */
  readonly name: string;
  /** Adds or renews the nodes of `service`; registering an existing node again replaces its entry. */
  register(service: Service, options?: RegisterOptions): Promise<void>;
  /** Removes the nodes of `service`; the version disappears with its last node. */
  deregister(service: Service): Promise<void>;
  /** Every live version of the service with its nodes; an empty array when none is registered. */
  getService(name: string): Promise<Service[]>;
  /** One entry per service and version, without nodes. */
  listServices(): Promise<Service[]>;
  watch(options?: WatchOptions): Promise<Watcher>;
  /** Releases connections, timers and watchers. Registrations are left to their TTL. */
  close(): Promise<void>;
}

export class WatcherStoppedError extends Error {
  constructor() {
    super('watcher stopped');
    this.name = 'WatcherStoppedError';
  }
}
