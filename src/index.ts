/**
 * tsmicro: a microservice framework whose registry, broker, transport, codec and selector are contracts bound to
 * inversify tokens, with zero-dependency defaults and plugins that rebind them.
 */
// The Reflect metadata API without the full build's Map/Set/WeakMap polyfills, which Node never needs; it is
// the build inversify itself loads, and both builds share one metadata store if a program also loads the full one.
import 'reflect-metadata/lite';

// The container's API, so services and plugins take it from here: tsmicro's one-file build of inversify
// (`#inversify`, docs/adr/0006-bundled-inversify.md) then is the only copy a service loads. Importing the
// `inversify` package directly still works (both copies share bindings and metadata) but loads its ≈ 240 modules.
export { Container, ContainerModule, inject, injectable, multiInject, named, optional, postConstruct, preDestroy, tagged, unmanaged } from '#inversify';
export type { ContainerModuleLoadOptions, ResolutionContext, ServiceIdentifier } from '#inversify';

export { App, type AppOptions, type ServiceClass } from './app/App.js';
export { coreModule } from './app/coreModule.js';
export { memoryModule, MemoryWorld } from './app/memoryModule.js';
export { Tokens, type ServerFactory, type TokenName, type Closeable } from './tokens.js';
export { Gateway, type GatewayMount, type GatewayDependencies } from './gateway/Gateway.js';
export { createGateway } from './gateway/createGateway.js';
export type { GatewayPlugin, GatewayExchange, GatewayOutcome } from './gateway/GatewayPlugin.js';
export { MicroError, toMicroError, parseWireError, statusText, type WireError, type FieldViolation } from './errors.js';

export { Service } from './decorators/Service.js';
export { Handler } from './decorators/Handler.js';
export { Subscriber } from './decorators/Subscriber.js';
export type { ServiceOptions, HandlerOptions, SubscriberOptions } from './decorators/metadata.js';

export type { CallContext, Metadata } from './context/Context.js';
export { currentContext } from './context/Context.js';

export type { Registry, Service as ServiceEntry, Node, Endpoint, Value, Watcher, WatchResult, WatchAction, RegisterOptions, WatchOptions } from './registry/Registry.js';
export { WatcherStoppedError } from './registry/Registry.js';
export { MemoryRegistry, MemoryRegistryStore } from './registry/MemoryRegistry.js';
export { FileRegistry, defaultRegistryDirectory } from './registry/file/FileRegistry.js';
export { RegistryCache } from './registry/cache/RegistryCache.js';

export type { Broker, BrokerEvent, EventHandler, SubscribeOptions, PublishOptions, Subscription, AckMode } from './broker/Broker.js';
export { MemoryBroker } from './broker/MemoryBroker.js';
export { DirectBroker } from './broker/DirectBroker.js';
export { SubscriberTable } from './broker/SubscriberTable.js';

export type { Transport, Listener, Socket, Message, SocketHandlers, DialOptions } from './transport/Transport.js';
export { TransportError } from './transport/Transport.js';
export { TcpTransport } from './transport/TcpTransport.js';
export { MemoryTransport, MemoryTransportNetwork } from './transport/MemoryTransport.js';
export { Headers } from './transport/headers.js';

export type { Codec } from './codec/Codec.js';
export { CodecSet, CodecError } from './codec/Codec.js';
export { JsonCodec } from './codec/JsonCodec.js';
export { MsgpackCodec } from './codec/MsgpackCodec.js';

export type { Selector, SelectOptions, Selection, Next, StrategyName } from './selector/Selector.js';
export { RegistrySelector } from './selector/RegistrySelector.js';

export type { Client, CallOptions, ClientPublishOptions } from './client/Client.js';
export type { CallWrapper, CallFunction, OutgoingCall } from './client/CallWrapper.js';
export type { HandlerWrapper, HandlerFunction, WrappedEndpoint } from './server/HandlerWrapper.js';
export type { Server, ServerOptions, EventContext, HandlerRegistration, SubscriberRegistration } from './server/Server.js';
export type { Logger, LogLevel, LogFormat } from './logger/Logger.js';
export type { MicroConfig, PluginChoice } from './config/MicroConfig.js';
export { loadConfig, type LoadConfigOptions, type LoadedConfig, type ChosenPlugin, type ConfigValue } from './config/loadConfig.js';
export { ConfigError, type ConfigErrorCode } from './config/ConfigError.js';
export { definePlugin, type PluginDefinition, type PluginContext, type PluginKind, type PluginPackage } from './plugins/PluginDefinition.js';
export { CORE_VERSION } from './version.js';
export type { ConfigInput } from './config/configUtil.js';
