import type { ResolutionContext } from '#inversify';
import { DirectBroker } from '../broker/DirectBroker.js';
import { RpcClient } from '../client/RpcClient.js';
import type { MicroConfig } from '../config/MicroConfig.js';
import type { Logger } from '../logger/Logger.js';
import { FileRegistry } from '../registry/file/FileRegistry.js';
import { RegistrySelector } from '../selector/RegistrySelector.js';
import { RpcServer } from '../server/RpcServer.js';
import type { ServerOptions } from '../server/Server.js';
import { TcpTransport } from '../transport/TcpTransport.js';
import { Tokens, type ServerFactory } from '../tokens.js';

/**
 * How each default component is built from the container and config. The core module binds them with
 * default options; the built-in plugins of the same name rebind them with the options a user configured.
 */
export function componentLogger(context: ResolutionContext, component: string): Logger {
  return context.get(Tokens.Logger).child({ component });
}

export interface FileRegistryPluginOptions {
  pollInterval: number;
}

export function fileRegistry(context: ResolutionContext, config: Readonly<MicroConfig>, options: FileRegistryPluginOptions = { pollInterval: 500 }): FileRegistry {
  return new FileRegistry({ directory: config.registry.address, pollIntervalMs: options.pollInterval, logger: componentLogger(context, 'registry') });
}

export function tcpTransport(context: ResolutionContext, config: Readonly<MicroConfig>): TcpTransport {
  return new TcpTransport({ maxMessageSize: config.transport.maxMessageSize, dialTimeoutMs: config.transport.dialTimeout, logger: componentLogger(context, 'transport') });
}

export interface DirectBrokerPluginOptions {
  deliveryTimeout: number;
  maxAttempts: number;
  redeliveryDelay: number;
}

export const DIRECT_BROKER_DEFAULTS: DirectBrokerPluginOptions = { deliveryTimeout: 5000, maxAttempts: 5, redeliveryDelay: 50 };

export function directBroker(context: ResolutionContext, config: Readonly<MicroConfig>, options: DirectBrokerPluginOptions = DIRECT_BROKER_DEFAULTS): DirectBroker {
  return new DirectBroker(
    { registry: context.get(Tokens.RegistryCache), transport: context.get(Tokens.Transport), logger: componentLogger(context, 'broker') },
    {
      address: config.broker.address.split(',')[0] || '127.0.0.1:0',
      registerTtlMs: config.server.registerTtl,
      registerIntervalMs: config.server.registerInterval,
      deliveryTimeoutMs: options.deliveryTimeout,
      maxAttempts: options.maxAttempts,
      redeliveryDelayMs: options.redeliveryDelay,
      drainTimeoutMs: config.server.drainTimeout,
    },
  );
}

export function registrySelector(context: ResolutionContext, config: Readonly<MicroConfig>): RegistrySelector {
  return new RegistrySelector(context.get(Tokens.RegistryCache), { strategy: config.selector.strategy, penaltyMs: config.selector.penalty });
}

export function rpcClient(context: ResolutionContext, config: Readonly<MicroConfig>): RpcClient {
  return new RpcClient(
    {
      selector: context.get(Tokens.Selector),
      transport: context.get(Tokens.Transport),
      broker: context.get(Tokens.Broker),
      codec: context.get(Tokens.Codec),
      codecs: context.get(Tokens.Codecs),
      wrappers: context.getAll(Tokens.CallWrapper, { optional: true }),
    },
    {
      requestTimeoutMs: config.client.requestTimeout,
      retries: config.client.retries,
      backoffInitialMs: config.client.backoffInitial,
      backoffMaxMs: config.client.backoffMax,
      poolSize: config.client.poolSize,
      poolIdleMs: config.client.poolIdle,
      streamsPerConnection: 128,
      dialTimeoutMs: config.transport.dialTimeout,
    },
  );
}

export function rpcServerFactory(context: ResolutionContext): ServerFactory {
  return (options: ServerOptions) =>
    new RpcServer(options, {
      registry: context.get(Tokens.Registry),
      transport: context.get(Tokens.Transport),
      broker: context.get(Tokens.Broker),
      codec: context.get(Tokens.Codec),
      codecs: context.get(Tokens.Codecs),
      logger: componentLogger(context, 'server'),
      wrappers: context.getAll(Tokens.HandlerWrapper, { optional: true }),
    });
}
