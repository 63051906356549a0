import { ContainerModule } from '#inversify';
import { CodecSet } from '../codec/Codec.js';
import { JsonCodec } from '../codec/JsonCodec.js';
import { MsgpackCodec } from '../codec/MsgpackCodec.js';
import type { MicroConfig } from '../config/MicroConfig.js';
import type { Logger } from '../logger/Logger.js';
import { PinoLogger } from '../logger/PinoLogger.js';
import { RegistryCache } from '../registry/cache/RegistryCache.js';
import { Tokens } from '../tokens.js';
import { componentLogger, directBroker, fileRegistry, registrySelector, rpcClient, rpcServerFactory, tcpTransport } from './factories.js';

/**
 * Binds a zero-dependency default to every token: the file registry, the TCP transport, the direct broker,
 * JSON (and MessagePack for reading), the registry selector, the RPC client and server. Every component reads the
 * others through the container, so a plugin that rebinds one token changes it for all of them.
 */
export function coreModule(config: Readonly<MicroConfig>, logger?: Logger): ContainerModule {
  return new ContainerModule(({ bind }) => {
    bind(Tokens.Config).toConstantValue(config);
    bind(Tokens.Logger).toConstantValue(logger ?? PinoLogger.create(config.logger));
    bind(Tokens.Codecs).toConstantValue(new CodecSet([new JsonCodec(), new MsgpackCodec()]));
    bind(Tokens.Codec)
      .toDynamicValue((context) => context.get(Tokens.Codecs).forContentType('application/json')!)
      .inSingletonScope();
    bind(Tokens.Registry)
      .toDynamicValue((context) => fileRegistry(context, config))
      .inSingletonScope();
    bind(Tokens.RegistryCache)
      .toDynamicValue((context) => new RegistryCache(context.get(Tokens.Registry), { logger: componentLogger(context, 'registry-cache') }))
      .inSingletonScope();
    bind(Tokens.Transport)
      .toDynamicValue((context) => tcpTransport(context, config))
      .inSingletonScope();
    bind(Tokens.Broker)
      .toDynamicValue((context) => directBroker(context, config))
      .inSingletonScope();
    bind(Tokens.Selector)
      .toDynamicValue((context) => registrySelector(context, config))
      .inSingletonScope();
    bind(Tokens.Client)
      .toDynamicValue((context) => rpcClient(context, config))
      .inSingletonScope();
    bind(Tokens.ServerFactory).toDynamicValue((context) => rpcServerFactory(context));
  });
}
