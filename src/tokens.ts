import type { ServiceIdentifier } from '#inversify';
import type { Broker } from './broker/Broker.js';
import type { Client } from './client/Client.js';
import type { Codec, CodecSet } from './codec/Codec.js';
import type { MicroConfig } from './config/MicroConfig.js';
import type { Logger } from './logger/Logger.js';
import type { RegistryCache } from './registry/cache/RegistryCache.js';
import type { Registry } from './registry/Registry.js';
import type { Selector } from './selector/Selector.js';
import type { Server, ServerOptions } from './server/Server.js';
import type { Transport } from './transport/Transport.js';
import type { HandlerWrapper } from './server/HandlerWrapper.js';
import type { CallWrapper } from './client/CallWrapper.js';
import type { GatewayPlugin } from './gateway/GatewayPlugin.js';

/** Something a plugin opened that must be released when the app stops (a socket, a file watcher). */
export interface Closeable {
  close(): void | Promise<void>;
}

/** Builds the server of one decorated service. */
export type ServerFactory = (options: ServerOptions) => Server;

/**
 * Every injection token, in one place. The core module binds a zero-dependency default to each; a plugin
 * module rebinds the ones it provides. Inject them into decorated services:
 *
 * @example
 *   constructor(@inject(Tokens.Client) private readonly client: Client) {}
 */
export const Tokens = {
  Config: Symbol.for('tsmicro.Config') as ServiceIdentifier<MicroConfig>,
  Logger: Symbol.for('tsmicro.Logger') as ServiceIdentifier<Logger>,
  Registry: Symbol.for('tsmicro.Registry') as ServiceIdentifier<Registry>,
  /** The registry behind a watch-driven cache: what the client and broker read on every call. */
  RegistryCache: Symbol.for('tsmicro.RegistryCache') as ServiceIdentifier<RegistryCache>,
  Broker: Symbol.for('tsmicro.Broker') as ServiceIdentifier<Broker>,
  Transport: Symbol.for('tsmicro.Transport') as ServiceIdentifier<Transport>,
  /** The codec this process writes with. */
  Codec: Symbol.for('tsmicro.Codec') as ServiceIdentifier<Codec>,
  /** Every codec this process can read. */
  Codecs: Symbol.for('tsmicro.Codecs') as ServiceIdentifier<CodecSet>,
  Selector: Symbol.for('tsmicro.Selector') as ServiceIdentifier<Selector>,
  Client: Symbol.for('tsmicro.Client') as ServiceIdentifier<Client>,
  ServerFactory: Symbol.for('tsmicro.ServerFactory') as ServiceIdentifier<ServerFactory>,
  /** Middleware around handlers and subscribers; bind several, the first bound runs outermost. */
  HandlerWrapper: Symbol.for('tsmicro.HandlerWrapper') as ServiceIdentifier<HandlerWrapper>,
  /** Middleware around outgoing calls; bind several, the first bound runs outermost. */
  CallWrapper: Symbol.for('tsmicro.CallWrapper') as ServiceIdentifier<CallWrapper>,
  /** API gateway plugins (router, X-Ray, IP whitelist); bind several, they run in `gateway.plugins` order. */
  GatewayPlugin: Symbol.for('tsmicro.GatewayPlugin') as ServiceIdentifier<GatewayPlugin>,
  /** Resources plugins hold (bind several); App.stop() closes each, after everything else has stopped. */
  Closeable: Symbol.for('tsmicro.Closeable') as ServiceIdentifier<Closeable>,
} as const;

export type TokenName = keyof typeof Tokens;
