/**
 * What plugin authors build on: the pieces every broker and registry in this repository uses so that queue
 * groups, ack modes, watch results and errors mean the same whatever the backend. Published as
 * `tsmicro/plugin-kit`; the contract suites live in the repository's test/contracts.
 */
export { DeliveredEvent, runHandler, type Settlement } from './broker/delivery.js';
export { LocalDispatcher, type DispatchOptions } from './broker/LocalDispatcher.js';
export { SubscriberTable, type LocalSubscription } from './broker/SubscriberTable.js';
export { ACK_MODES } from './broker/Broker.js';
export { QueueWatcher } from './registry/QueueWatcher.js';
export { assertRegistrable, diffSnapshots, entryKey, fingerprint, isLive, keyOf, resultOf, toEntries, toServices, type NodeEntry } from './registry/serviceModel.js';
export { RequestChannel } from './transport/RequestChannel.js';
export { ConnectionPool, type ConnectionPoolOptions } from './transport/ConnectionPool.js';
export { encodeFrame, FrameDecoder } from './transport/framing.js';
export { SocketInbox } from './transport/SocketInbox.js';
export { parseHostPort, joinHostPort } from './transport/address.js';
export { isReservedHeader } from './transport/headers.js';
export { silentLogger, PinoLogger } from './logger/PinoLogger.js';
export { parseDuration } from './config/formats.js';
export { importPackage, findPackage } from './plugins/packages.js';
export { missingPackage, installCommand } from './plugins/checkPlugin.js';
export { runInContext, currentContext, normaliseMetadata } from './context/Context.js';
export type { GatewayPlugin, GatewayExchange, GatewayOutcome } from './gateway/GatewayPlugin.js';
export type { Closeable } from './tokens.js';
export { sendJson, sendError, readBody, remoteAddressOf } from './gateway/http.js';
export { didYouMean, closest } from './plugins/suggest.js';
