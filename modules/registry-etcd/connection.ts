import { readFileSync } from 'node:fs';
import type * as Etcd from 'etcd3';
import type { IOptions } from 'etcd3';

/** The `etcd3` package as the loader imports it (its namespace object). */
export type EtcdModule = Pick<typeof Etcd, 'Etcd3'>;

export interface EtcdConnectionSettings {
  /** `host:port` or `http(s)://host:port`; 127.0.0.1:2379 when empty. */
  addresses: readonly string[];
  username: string;
  password: string;
  /** PEM files; a CA file switches bare `host:port` addresses to https. */
  caFile: string;
  certFile: string;
  keyFile: string;
  dialTimeoutMs: number;
  /** Deadline of every unary call (reads, writes, lease grants); streams (watches) have none. */
  requestTimeoutMs: number;
  /** Longest wait between attempts to re-open a broken watch or connection. */
  reconnectMaxDelayMs: number;
}

export const ETCD_DEFAULT_ADDRESS = '127.0.0.1:2379';

type Backoff = NonNullable<NonNullable<IOptions['faultHandling']>['watchBackoff']>;

/**
 * Doubling delays up to a cap. etcd3's default lets the wait before re-opening a watch grow to 30 s, so a watch
 * could stay blind for half a minute after etcd comes back; this caps it.
 */
function cappedBackoff(delayMs: number, maxMs: number): Backoff {
  return { duration: delayMs, next: () => cappedBackoff(Math.min(maxMs, delayMs * 2), maxMs) };
}

function readPem(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new Error(`etcd registry: cannot read the ${what} file ${path}: ${(error as Error).message}`, { cause: error });
  }
}

/** etcd3 client options from the plugin's settings. Reading the PEM files is the only I/O, done once here. */
export function etcdOptions(settings: EtcdConnectionSettings): IOptions {
  const tls = settings.caFile !== '';
  const addresses = settings.addresses.length > 0 ? settings.addresses : [ETCD_DEFAULT_ADDRESS];
  const options: IOptions = {
    hosts: addresses.map((address) => (address.includes('://') ? address : `${tls ? 'https' : 'http'}://${address}`)),
    dialTimeout: settings.dialTimeoutMs,
    defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + settings.requestTimeoutMs }),
    grpcOptions: {
      // Notice a silently dead connection (a partition, a frozen server) within ~40 s. etcd refuses pings more
      // frequent than every 5 s, so stay well above that.
      'grpc.keepalive_time_ms': 30_000,
      'grpc.keepalive_timeout_ms': 10_000,
      'grpc.initial_reconnect_backoff_ms': 200,
      'grpc.max_reconnect_backoff_ms': settings.reconnectMaxDelayMs,
    },
    faultHandling: { watchBackoff: cappedBackoff(100, settings.reconnectMaxDelayMs) },
  };
  if (settings.username) options.auth = { username: settings.username, password: settings.password };
  if (tls) {
    options.credentials = {
      rootCertificate: readPem(settings.caFile, 'CA'),
      ...(settings.certFile ? { certChain: readPem(settings.certFile, 'client certificate') } : {}),
      ...(settings.keyFile ? { privateKey: readPem(settings.keyFile, 'client key') } : {}),
    };
  }
  return options;
}
