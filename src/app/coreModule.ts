import { ContainerModule, type ResolutionContext } from 'inversify';
import { DirectBroker } from '../broker/DirectBroker.js';
import { CodecSet } from '../codec/Codec.js';
import { JsonCodec } from '../codec/JsonCodec.js';
import { MsgpackCodec } from '../codec/MsgpackCodec.js';
import { RpcClient } from '../client/RpcClient.js';
import type { MicroConfig } from '../config/MicroConfig.js';
import type { Logger } from '../logger/Logger.js';
import { PinoLogger } from '../logger/PinoLogger.js';
import { RegistryCache } from '../registry/cache/RegistryCache.js';
import { FileRegistry } from '../registry/file/FileRegistry.js';
import { RegistrySelector } from '../selector/RegistrySelector.js';
import { RpcServer } from '../server/RpcServer.js';
import type { ServerOptions } from '../server/Server.js';
import { TcpTransport } from '../transport/TcpTransport.js';
import { Tokens, type ServerFactory } from '../tokens.js';

function logger(context: ResolutionContext, component: string): Logger {
  return context.get(Tokens.Logger).child({ component });
}

/**
 * Binds a zero-dependency default to every token: the file registry, the TCP transport, the direct broker,
 * JSON (and MessagePack for reading), the registry selector, the RPC client and server. Every component reads the
 * others through the container, so a plugin that rebinds one token changes it for all of them.
 */
export function coreModule(config: Readonly<MicroConfig>, logger0?: Logger): ContainerModule {
  return new ContainerModule(({ bind }) => {
    bind(Tokens.Config).toConstantValue(config);
    bind(Tokens.Logger).toConstantValue(logger0 ?? PinoLogger.create(config.logger));
    bind(Tokens.Codecs).toConstantValue(new CodecSet([new JsonCodec(), new MsgpackCodec()]));
    bind(Tokens.Codec)
      .toDynamicValue((context) => {
        const codec = context.get(Tokens.Codecs).forContentType(config.codec === 'msgpack' ? 'application/msgpack' : 'application/json');
        return codec!;
      })
      .inSingletonScope();
    bind(Tokens.Registry)
      .toDynamicValue((context) => new FileRegistry({ directory: config.registry.address, logger: logger(context, 'registry') }))
      .inSingletonScope();
    bind(Tokens.RegistryCache)
      .toDynamicValue((context) => new RegistryCache(context.get(Tokens.Registry), { logger: logger(context, 'registry-cache') }))
      .inSingletonScope();
    bind(Tokens.Transport)
      .toDynamicValue((context) => new TcpTransport({ maxMessageSize: config.transport.maxMessageSize, dialTimeoutMs: config.transport.dialTimeout, logger: logger(context, 'transport') }))
      .inSingletonScope();
    bind(Tokens.Broker)
      .toDynamicValue(
        (context) =>
          new DirectBroker(
            { registry: context.get(Tokens.RegistryCache), transport: context.get(Tokens.Transport), logger: logger(context, 'broker') },
            {
              address: config.broker.address.split(',')[0] || '127.0.0.1:0',
              registerTtlMs: config.server.registerTtl,
              registerIntervalMs: config.server.registerInterval,
              deliveryTimeoutMs: config.client.requestTimeout,
              maxAttempts: 5,
              redeliveryDelayMs: 50,
              drainTimeoutMs: config.server.drainTimeout,
            },
          ),
      )
      .inSingletonScope();
    bind(Tokens.Selector)
      .toDynamicValue((context) => new RegistrySelector(context.get(Tokens.RegistryCache), { strategy: config.selector.strategy, penaltyMs: config.selector.penalty }))
      .inSingletonScope();
    bind(Tokens.Client)
      .toDynamicValue(
        (context) =>
          new RpcClient(
            { selector: context.get(Tokens.Selector), transport: context.get(Tokens.Transport), broker: context.get(Tokens.Broker), codec: context.get(Tokens.Codec), codecs: context.get(Tokens.Codecs) },
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
          ),
      )
      .inSingletonScope();
    bind(Tokens.ServerFactory).toDynamicValue(
      (context): ServerFactory =>
        (options: ServerOptions) =>
          new RpcServer(options, {
            registry: context.get(Tokens.Registry),
            transport: context.get(Tokens.Transport),
            broker: context.get(Tokens.Broker),
            codec: context.get(Tokens.Codec),
            codecs: context.get(Tokens.Codecs),
            logger: logger(context, 'server'),
          }),
    );
  });
}
