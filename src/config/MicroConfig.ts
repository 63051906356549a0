import type { LogFormat, LogLevel } from '../logger/Logger.js';
import type { StrategyName } from '../selector/Selector.js';

/** One plugin choice: which implementation, where its server is, and its own options. */
export interface PluginChoice {
  plugin: string;
  /** Comma-separated addresses of the plugin's server(s); for the file registry, its directory. */
  address: string;
  options: Record<string, unknown>;
}

/** Everything the core reads, validated once at boot and frozen. Durations are milliseconds. */
export interface MicroConfig {
  service: {
    name: string;
    version: string;
    /** Where the server listens. */
    address: string;
    /** The address registered for clients when it differs from `address`. */
    advertise: string;
    metadata: Record<string, string>;
  };
  registry: PluginChoice;
  broker: PluginChoice;
  transport: PluginChoice & { maxMessageSize: number; dialTimeout: number };
  codec: PluginChoice;
  selector: PluginChoice & { strategy: StrategyName; penalty: number };
  /** Token name → plugin name, for tokens without a key of their own (e.g. `{ "Codec": "msgpack" }`). */
  bindings: Record<string, string>;
  client: { retries: number; requestTimeout: number; poolSize: number; poolIdle: number; backoffInitial: number; backoffMax: number };
  server: { registerTtl: number; registerInterval: number; drainTimeout: number };
  logger: { level: LogLevel; format: LogFormat };
  /** Handler and call wrappers to load (e.g. `xray`), each with its options under `wrappers.<name>`. */
  wrappers: { plugins: string[] } & Record<string, unknown>;
  gateway: GatewayConfig;
}

/** The API gateway (`tsmicro api`); its plugins' options live under `gateway.<plugin name>`. */
export interface GatewayConfig {
  address: string;
  /** Prefix that turns a path's first segment into a service name: `/greeter/…` → `<namespace>greeter`. */
  namespace: string;
  rpcPath: string;
  eventPath: string;
  healthPath: string;
  /** Where the web dashboard is served; empty to turn it off. */
  dashboardPath: string;
  bodyLimit: number;
  /** How long the gateway waits for a service's reply. */
  timeout: number;
  cors: { enabled: boolean; origins: string[]; credentials: boolean };
  accessLog: boolean;
  plugins: string[];
  [plugin: string]: unknown;
}
