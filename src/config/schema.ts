import type convict from 'convict';
import { STRATEGIES } from '../selector/Selector.js';
import { LOG_LEVELS } from '../logger/Logger.js';
import type { MicroConfig } from './MicroConfig.js';

/** A plugin choice: `<kind>.plugin`, `<kind>.address`, `<kind>.options`, with go-micro's env and flag names. */
function pluginChoice(kind: string, defaultPlugin: string, doc: string): convict.Schema<MicroConfig['registry']> {
  const upper = kind.toUpperCase();
  return {
    plugin: { doc, format: String, default: defaultPlugin, env: `MICRO_${upper}`, arg: kind },
    address: { doc: `Address(es) of the ${kind} plugin's server, comma-separated`, format: String, default: '', env: `MICRO_${upper}_ADDRESS`, arg: `${kind}_address` },
    options: { doc: `Options of the chosen ${kind} plugin (see the plugin's README)`, format: Object, default: {} },
  };
}

/**
 * The one schema for everything the core reads. Plugin modules add fragments under `<kind>.options`.
 * Env and flag names follow go-micro's (`MICRO_REGISTRY`, `--registry_address`, …); durations take units.
 */
export const coreSchema = {
  service: {
    name: { doc: 'Service name; overrides @Service({ name }) when the process runs one service', format: String, default: '', env: 'MICRO_SERVER_NAME', arg: 'server_name' },
    version: { doc: 'Service version; overrides @Service({ version })', format: String, default: '', env: 'MICRO_SERVER_VERSION', arg: 'server_version' },
    address: { doc: 'Where the server listens: host:port (or the subject/queue name of a broker-based transport)', format: 'listen-address', default: '127.0.0.1:0', env: 'MICRO_SERVER_ADDRESS', arg: 'server_address' },
    advertise: { doc: 'Address registered for clients when it differs from the listening address', format: 'listen-address', default: '', env: 'MICRO_SERVER_ADVERTISE', arg: 'server_advertise' },
    metadata: { doc: 'Service metadata, k=v pairs', format: 'string-map', default: {}, env: 'MICRO_SERVER_METADATA', arg: 'server_metadata' },
  },
  registry: pluginChoice('registry', 'file', 'Registry plugin: file (default), memory, or a plugin module name'),
  broker: pluginChoice('broker', 'direct', 'Broker plugin: direct (default), memory, or a plugin module name'),
  transport: {
    ...pluginChoice('transport', 'tcp', 'Transport plugin: tcp (default), memory, or a plugin module name'),
    maxMessageSize: { doc: 'Largest message a transport sends or accepts, in bytes', format: 'positive-int', default: 8 * 1024 * 1024, env: 'MICRO_TRANSPORT_MAX_MESSAGE_SIZE', arg: 'transport_max_message_size' },
    dialTimeout: { doc: 'How long opening a connection may take', format: 'duration', default: 5000, env: 'MICRO_TRANSPORT_DIAL_TIMEOUT', arg: 'transport_dial_timeout' },
  } as convict.Schema<MicroConfig['transport']>,
  codec: pluginChoice('codec', 'json', 'Codec requests and events are written with: json (default), msgpack, or a plugin module name'),
  selector: {
    ...pluginChoice('selector', 'registry', 'Selector plugin: registry (default) or a plugin module name'),
    strategy: { doc: 'How a node is picked: random or roundrobin', format: [...STRATEGIES], default: 'random', env: 'MICRO_SELECTOR_STRATEGY', arg: 'selector_strategy' },
    penalty: { doc: 'How long a failing node is avoided (doubles on repeated failures)', format: 'duration', default: 5000, env: 'MICRO_SELECTOR_PENALTY', arg: 'selector_penalty' },
  } as convict.Schema<MicroConfig['selector']>,
  client: {
    retries: { doc: 'Further attempts after a transient failure', format: 'non-negative-int', default: 1, env: 'MICRO_CLIENT_RETRIES', arg: 'client_retries' },
    requestTimeout: { doc: 'How long a call waits for its reply, retries included', format: 'duration', default: 5000, env: 'MICRO_CLIENT_REQUEST_TIMEOUT', arg: 'client_request_timeout' },
    poolSize: { doc: 'Most connections kept per node', format: 'positive-int', default: 4, env: 'MICRO_CLIENT_POOL_SIZE', arg: 'client_pool_size' },
    poolIdle: { doc: 'Idle connections are closed after this long', format: 'duration', default: 60_000, env: 'MICRO_CLIENT_POOL_TTL', arg: 'client_pool_ttl' },
    backoffInitial: { doc: 'First wait between attempts', format: 'duration', default: 50, env: 'MICRO_CLIENT_BACKOFF_INITIAL', arg: 'client_backoff_initial' },
    backoffMax: { doc: 'Longest wait between attempts', format: 'duration', default: 1000, env: 'MICRO_CLIENT_BACKOFF_MAX', arg: 'client_backoff_max' },
  },
  server: {
    registerTtl: { doc: 'How long a registration lives without renewal; must exceed registerInterval', format: 'duration', default: 30_000, env: 'MICRO_REGISTER_TTL', arg: 'register_ttl' },
    registerInterval: { doc: 'How often the registration is renewed', format: 'duration', default: 10_000, env: 'MICRO_REGISTER_INTERVAL', arg: 'register_interval' },
    drainTimeout: { doc: 'Longest a stopping server waits for work in progress', format: 'duration', default: 10_000, env: 'MICRO_SERVER_DRAIN_TIMEOUT', arg: 'server_drain_timeout' },
  },
  bindings: { doc: 'Token name → plugin name, e.g. {"Codec": "msgpack"}', format: 'string-map', default: {}, env: 'MICRO_BINDINGS', arg: 'bindings' },
  wrappers: {
    plugins: { doc: 'Handler and call wrapper plugins to load, e.g. xray', format: Array, default: [], env: 'MICRO_WRAPPERS', arg: 'wrappers' },
  },
  gateway: {
    address: { doc: 'Where the API gateway listens', format: 'host-port', default: '127.0.0.1:8080', env: 'MICRO_API_ADDRESS', arg: 'api_address' },
    namespace: { doc: 'Prefix added to the service name taken from a path: /greeter/… → <namespace>greeter', format: String, default: '', env: 'MICRO_API_NAMESPACE', arg: 'api_namespace' },
    rpcPath: { doc: 'Path of the generic RPC endpoint ({ service, endpoint, request, metadata })', format: String, default: '/rpc', env: 'MICRO_API_RPC_PATH' },
    eventPath: { doc: 'Path prefix that publishes the body to a topic: <eventPath>/<topic>', format: String, default: '/event', env: 'MICRO_API_EVENT_PATH' },
    healthPath: { doc: 'Path of the gateway health check', format: String, default: '/health', env: 'MICRO_API_HEALTH_PATH' },
    dashboardPath: { doc: 'Where the web dashboard is served (empty: off)', format: String, default: '/dashboard', env: 'MICRO_API_DASHBOARD_PATH' },
    bodyLimit: { doc: 'Largest request body, in bytes', format: 'positive-int', default: 1024 * 1024, env: 'MICRO_API_BODY_LIMIT' },
    timeout: { doc: 'How long the gateway waits for a reply', format: 'duration', default: 10_000, env: 'MICRO_API_TIMEOUT' },
    cors: {
      enabled: { doc: 'Answer CORS preflights and add CORS headers', format: Boolean, default: false, env: 'MICRO_API_ENABLE_CORS', arg: 'enable_cors' },
      origins: { doc: 'Allowed origins ("*" for any)', format: Array, default: ['*'], env: 'MICRO_API_CORS_ORIGINS' },
      credentials: { doc: 'Allow credentials (cookies) in CORS requests', format: Boolean, default: false, env: 'MICRO_API_CORS_CREDENTIALS' },
    },
    accessLog: { doc: 'Log one line per request', format: Boolean, default: true, env: 'MICRO_API_ACCESS_LOG' },
    plugins: { doc: 'Gateway plugins, in order: router, xray, ipwhitelist, …', format: Array, default: [], env: 'MICRO_API_PLUGINS', arg: 'api_plugins' },
  },
  logger: {
    level: { doc: 'Log level', format: [...LOG_LEVELS], default: 'info', env: 'MICRO_LOG_LEVEL', arg: 'log_level' },
    format: { doc: 'Log format: json (one object per line) or pretty', format: ['json', 'pretty'], default: 'json', env: 'MICRO_LOG_FORMAT', arg: 'log_format' },
  },
} as convict.Schema<MicroConfig>;
