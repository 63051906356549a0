import type * as Nats from '@nats-io/transport-node';
import type { ConnectionOptions, NatsConnection } from '@nats-io/transport-node';
import type { Logger } from '../../../src/index.js';

/** The namespace of `@nats-io/transport-node`, handed in by the plugin loader (never imported by value here). */
export type NatsModule = typeof Nats;

export const DEFAULT_NATS_SERVER = '127.0.0.1:4222';

export interface NatsSettings {
  /** `host:port` or `nats://host:port`, as the `<kind>.address` config gives them. */
  servers: readonly string[];
  token?: string;
  user?: string;
  password?: string;
  /** How long the first connection may take; later reconnections never give up. */
  connectTimeoutMs: number;
  /** Shown by the NATS server (`nats server report connections`). */
  name?: string;
  /** One connection for every NATS plugin of the process with the same servers and credentials. */
  share: boolean;
}

/** What a component using the connection hears about it. */
export type LinkEvent = 'disconnect' | 'reconnect' | 'closed';

/**
 * One NATS connection and a fan-out of its status, so the registry, broker and transport can react to a server
 * restart (re-announce, fail sockets fast) without each iterating `status()` themselves.
 */
export class NatsLink {
  readonly #listeners = new Set<(event: LinkEvent) => void>();

  constructor(
    readonly connection: NatsConnection,
    private readonly logger: Logger,
  ) {
    void this.#watchStatus();
    void connection.closed().then((error) => {
      if (error) logger.error('nats: connection closed with an error', { error: error.message });
      this.#emit('closed');
    });
  }

  /** Largest message the server accepts, headers included. */
  get maxPayload(): number {
    return this.connection.info?.max_payload ?? 1024 * 1024;
  }

  on(listener: (event: LinkEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async #watchStatus(): Promise<void> {
    for await (const status of this.connection.status()) {
      if (status.type === 'disconnect') {
        this.logger.warn('nats: disconnected; reconnecting', { server: status.server });
        this.#emit('disconnect');
      } else if (status.type === 'reconnect') {
        this.logger.info('nats: reconnected', { server: status.server });
        this.#emit('reconnect');
      } else if (status.type === 'error') {
        this.logger.error('nats: server error', { error: status.error.message });
      } else if (status.type === 'slowConsumer') {
        // The server (or client) dropped messages for a subscription that could not keep up.
        this.logger.warn('nats: slow consumer, messages were dropped', { subject: status.sub.getSubject(), pending: status.pending });
      }
    }
  }

  #emit(event: LinkEvent): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(event);
      } catch (error) {
        this.logger.error('nats: connection listener failed', { event, error: (error as Error).message });
      }
    }
  }
}

interface SharedEntry {
  link: Promise<NatsLink>;
  users: number;
}

/** Connections shared by the NATS plugins of this process, keyed by servers and credentials. */
const shared = new Map<string, SharedEntry>();

/** `nats://host:port` and `host:port` are the same server. */
function keyOf(settings: NatsSettings): string {
  const servers = settings.servers.map((server) => server.replace(/^nats:\/\//, '')).sort();
  return JSON.stringify([servers, settings.token ?? '', settings.user ?? '', settings.password ?? '']);
}

/** The servers to connect to: the `<kind>.address` entries, or the local default. */
export function natsServers(addresses: readonly string[]): string[] {
  const servers = addresses.map((address) => address.trim()).filter(Boolean);
  return servers.length > 0 ? servers : [DEFAULT_NATS_SERVER];
}

async function open(nats: NatsModule, settings: NatsSettings, logger: Logger): Promise<NatsLink> {
  const options: ConnectionOptions = {
    servers: [...settings.servers],
    name: settings.name,
    timeout: settings.connectTimeoutMs,
    // Never give up once connected: subscriptions come back by themselves after a server restart.
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
  };
  if (settings.token) options.token = settings.token;
  if (settings.user) {
    options.user = settings.user;
    options.pass = settings.password;
  }
  try {
    return new NatsLink(await nats.connect(options), logger);
  } catch (error) {
    throw new Error(`cannot connect to NATS at ${settings.servers.join(', ')}: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * How a component gets its connection: its own, or the process-wide shared one (reference counted, closed when
 * the last user releases it). Each connector holds at most one reference.
 */
export class NatsConnector {
  #link: Promise<NatsLink> | undefined;
  /** The shared entry this connector joined, so it leaves that one even if the cache has moved on since. */
  #joined: SharedEntry | undefined;

  constructor(
    private readonly nats: NatsModule,
    readonly settings: NatsSettings,
    private readonly logger: Logger,
  ) {}

  acquire(): Promise<NatsLink> {
    this.#link ??= this.#acquire().catch((error: unknown) => {
      this.#link = undefined;
      this.#joined = undefined;
      throw error;
    });
    return this.#link;
  }

  async release(): Promise<void> {
    const link = this.#link;
    const joined = this.#joined;
    this.#link = undefined;
    this.#joined = undefined;
    if (!link) return;
    const resolved = await link.catch(() => undefined);
    if (!resolved) return;
    if (joined && --joined.users > 0) return;
    if (joined) {
      const key = keyOf(this.settings);
      if (shared.get(key) === joined) shared.delete(key);
    }
    await this.#close(resolved);
  }

  #acquire(): Promise<NatsLink> {
    if (!this.settings.share) return open(this.nats, this.settings, this.logger);
    const key = keyOf(this.settings);
    let entry = shared.get(key);
    if (!entry) {
      const link = open(this.nats, this.settings, this.logger);
      const created: SharedEntry = { link, users: 0 };
      entry = created;
      shared.set(key, created);
      const forget = (): void => {
        if (shared.get(key) === created) shared.delete(key);
      };
      // A failed or closed connection must not stay in the cache: the next acquire opens a new one.
      link.then((opened) => opened.on((event) => event === 'closed' && forget()), forget);
    }
    entry.users++;
    this.#joined = entry;
    return entry.link;
  }

  async #close(link: NatsLink): Promise<void> {
    if (link.connection.isClosed()) return;
    await link.connection.close().catch((error: Error) => this.logger.warn('nats: closing the connection failed', { error: error.message }));
  }
}
