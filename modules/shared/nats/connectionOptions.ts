import type { MicroConfig } from '../../../src/index.js';
import { natsServers, type NatsSettings } from './natsConnection.js';

/** The connection options every NATS plugin takes, under its own `<kind>.options`. */
export interface NatsConnectionOptions {
  token: string;
  user: string;
  password: string;
  connectTimeout: number;
  shareConnection: boolean;
}

/**
 * The convict fragment for the connection options of one plugin kind; env names are per kind
 * (`MICRO_BROKER_NATS_TOKEN`, …) so each plugin can point at its own server with its own credentials.
 */
export function connectionOptionsSchema(kind: 'registry' | 'broker' | 'transport') {
  const env = (name: string) => `MICRO_${kind.toUpperCase()}_NATS_${name}`;
  return {
    token: { doc: 'NATS auth token', format: String, default: '', env: env('TOKEN'), sensitive: true },
    user: { doc: 'NATS user name', format: String, default: '', env: env('USER') },
    password: { doc: 'NATS password (with user)', format: String, default: '', env: env('PASSWORD'), sensitive: true },
    connectTimeout: { doc: 'How long the first connection may take; reconnections never give up', format: 'duration', default: 5000, env: env('CONNECT_TIMEOUT') },
    shareConnection: {
      doc: 'Share one connection with the other NATS plugins of the process that use the same servers and credentials',
      format: Boolean,
      default: true,
      env: env('SHARE_CONNECTION'),
    },
  };
}

export function natsSettings(options: NatsConnectionOptions, addresses: readonly string[], config: Readonly<MicroConfig>): NatsSettings {
  return {
    servers: natsServers(addresses),
    token: options.token || undefined,
    user: options.user || undefined,
    password: options.password || undefined,
    connectTimeoutMs: options.connectTimeout,
    name: config.service.name ? `tsmicro ${config.service.name}` : 'tsmicro',
    share: options.shareConnection,
  };
}
