import type { IClientOptions, IConnackPacket, MqttClient } from 'mqtt';
import type * as Mqtt from 'mqtt';
import type { Logger } from '../../src/index.js';

/** The `mqtt` package as the loader imports it (its namespace object). */
export type MqttModule = Pick<typeof Mqtt, 'connect'>;

type Server = NonNullable<IClientOptions['servers']>[number];

export interface ConnectionSettings {
  /** `host:port`, or URLs `mqtt://host:port` / `mqtts://host:port`; several are tried in turn on reconnect. */
  addresses: readonly string[];
  keepaliveMs: number;
  connectTimeoutMs: number;
  username: string;
  password: string;
}

const DEFAULT_PORT: Record<string, number> = { mqtt: 1883, tcp: 1883, mqtts: 8883, ssl: 8883 };

/** Parses one address; a bare `host:port` is plain MQTT over TCP. */
export function parseAddress(address: string): Server {
  const withScheme = address.includes('://') ? address : `mqtt://${address}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new TypeError(`mqtt broker: cannot read the address "${address}"; expected host:port or mqtt[s]://host:port`);
  }
  const protocol = url.protocol.replace(/:$/, '');
  if (!(protocol in DEFAULT_PORT)) throw new TypeError(`mqtt broker: address "${address}" uses ${protocol}://; supported are mqtt://, mqtts://, tcp://, ssl://`);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1';
  return { host, port: url.port ? Number(url.port) : DEFAULT_PORT[protocol]!, protocol: protocol as Server['protocol'] };
}

export interface SessionSettings {
  clientId: string;
  /** Seconds the broker keeps the session after the connection ends; 0 for a clean, throw-away session. */
  sessionExpirySeconds: number;
  customHandleAcks?: IClientOptions['customHandleAcks'];
}

/**
 * MQTT.js options for one connection. MQTT v5 (user properties, session expiry, reason codes). MQTT.js
 * reconnects by itself every second; its own automatic re-subscription is off because the subscription code
 * re-subscribes itself and checks the broker's answer (MQTT.js would not report a refused re-subscription).
 */
export function clientOptions(settings: ConnectionSettings, session: SessionSettings): IClientOptions {
  const servers = settings.addresses.map(parseAddress);
  const persistent = session.sessionExpirySeconds > 0;
  const options: IClientOptions = {
    servers,
    host: servers[0]!.host,
    port: servers[0]!.port,
    protocol: servers[0]!.protocol,
    protocolVersion: 5,
    clientId: session.clientId,
    clean: !persistent,
    keepalive: Math.max(1, Math.round(settings.keepaliveMs / 1000)),
    connectTimeout: settings.connectTimeoutMs,
    reconnectPeriod: 1000,
    resubscribe: false,
  };
  if (persistent) options.properties = { sessionExpiryInterval: session.sessionExpirySeconds };
  if (settings.username) options.username = settings.username;
  if (settings.password) options.password = settings.password;
  if (session.customHandleAcks) options.customHandleAcks = session.customHandleAcks;
  return options;
}

/**
 * Opens a client and waits for its first CONNACK. A broker that does not answer within the connect timeout, or
 * refuses (bad credentials), rejects with the reason; the client is then closed so it stops retrying.
 * `prepare` attaches listeners before any packet can arrive: a resumed session's messages follow the CONNACK at once.
 */
export function openClient(mqtt: MqttModule, options: IClientOptions, what: string, prepare: (client: MqttClient) => void = () => undefined): Promise<{ client: MqttClient; connack: IConnackPacket }> {
  const client = mqtt.connect(options);
  prepare(client);
  const where = (options.servers ?? []).map((server) => `${server.protocol}://${server.host}:${server.port}`).join(', ');
  return new Promise((resolve, reject) => {
    let lastError: Error | undefined;
    const fail = (reason: string): void => {
      cleanup();
      client.end(true);
      reject(new Error(`mqtt broker: ${what} cannot connect to ${where}: ${reason}`, { cause: lastError }));
    };
    const timer = setTimeout(() => fail(lastError?.message ?? `no answer within ${options.connectTimeout} ms`), options.connectTimeout ?? 30_000);
    const onConnect = (connack: IConnackPacket): void => {
      cleanup();
      resolve({ client, connack });
    };
    const onError = (error: Error & { code?: number | string }): void => {
      lastError = error;
      // A CONNACK refusal (bad credentials, not authorised, banned client id) will not fix itself by retrying.
      if (typeof error.code === 'number') fail(error.message);
    };
    const cleanup = (): void => {
      clearTimeout(timer);
      client.removeListener('connect', onConnect);
      client.removeListener('error', onError);
    };
    client.on('connect', onConnect);
    client.on('error', onError);
  });
}

/**
 * Logs a connection's ups and downs once per change rather than once per reconnect attempt, and keeps an
 * `error` listener on the client at all times: an EventEmitter `error` without a listener would crash the process.
 */
export function watchConnection(client: MqttClient, logger: Logger, fields: Record<string, unknown>): void {
  let down = false;
  client.on('error', (error) => {
    if (down) logger.debug('mqtt connection error', { ...fields, error: error.message });
    else logger.warn('mqtt connection error', { ...fields, error: error.message });
  });
  client.on('offline', () => {
    if (!down) logger.warn('mqtt connection lost; reconnecting', fields);
    down = true;
  });
  client.on('disconnect', (packet) => {
    // 0x8E: another client connected with this client id and the broker handed the session to it.
    const reason = packet.reasonCode ?? 0;
    if (reason === 0x8e) logger.error('mqtt session taken over by another client with the same client id; client ids must be unique per process', fields);
    else logger.warn('mqtt broker closed the connection', { ...fields, reasonCode: reason });
  });
  client.on('connect', () => {
    if (down) logger.info('mqtt connection restored', fields);
    down = false;
  });
}

/**
 * Ends a client: waits at most `timeoutMs` for in-flight publishes to be acknowledged, then closes (sending
 * DISCONNECT when connected). MQTT.js's own gentle `end()` would wait forever for a broker that is down, and a
 * later forced `end()` is ignored while a gentle one is pending, so the waiting happens here.
 */
export async function closeClient(client: MqttClient, timeoutMs: number): Promise<void> {
  if (Object.keys(client.outgoing).length > 0) {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      function done(): void {
        clearTimeout(timer);
        client.removeListener('outgoingEmpty', done);
        resolve();
      }
      client.once('outgoingEmpty', done);
    });
  }
  const force = Object.keys(client.outgoing).length > 0;
  await new Promise<void>((resolve) => client.end(force, () => resolve()));
}
