/**
 * Addresses of RabbitMQ servers as users write them (`amqp://user:pass@host:5672/vhost`, `amqps://…`, `host:port`,
 * `host`) turned into the URLs amqplib connects to.
 *
 * This file is kept identical in modules/transport-rabbitmq/amqp and modules/broker-rabbitmq/amqp (a test checks it),
 * so each plugin stays a self-contained folder.
 */

export const DEFAULT_AMQP_URL = 'amqp://guest:guest@127.0.0.1:5672';

const HOST_PORT = /^(\[[^\]]+\]|[^:/\s@]+)(?::(\d{1,5}))?$/;

/** One URL per configured address; the local default server when none is configured. Throws on a malformed address. */
export function amqpUrls(addresses: readonly string[]): string[] {
  const urls = addresses.map((address) => address.trim()).filter((address) => address !== '').map(toAmqpUrl);
  return urls.length > 0 ? urls : [DEFAULT_AMQP_URL];
}

export function toAmqpUrl(address: string): string {
  if (/^amqps?:\/\//i.test(address)) {
    try {
      new URL(address);
    } catch {
      throw new TypeError(`invalid RabbitMQ address "${redact(address)}": not a URL`);
    }
    return address;
  }
  if (address.includes('://')) throw new TypeError(`invalid RabbitMQ address "${redact(address)}": expected amqp://…, amqps://… or host:port`);
  const match = HOST_PORT.exec(address);
  if (!match) throw new TypeError(`invalid RabbitMQ address "${address}": expected amqp://…, amqps://… or host:port`);
  const port = match[2] === undefined ? 5672 : Number(match[2]);
  if (port < 1 || port > 65535) throw new TypeError(`invalid RabbitMQ address "${address}": port ${port} is out of range`);
  // A bare host:port gets RabbitMQ's default credentials, as amqplib would give a URL without them.
  return `amqp://guest:guest@${match[1]}:${port}`;
}

/** Adds `heartbeat=<seconds>` unless the URL already says, so a server that vanishes silently is noticed. */
export function withHeartbeat(url: string, seconds: number): string {
  const parsed = new URL(url);
  if (!parsed.searchParams.has('heartbeat')) parsed.searchParams.set('heartbeat', String(seconds));
  return parsed.toString();
}

/** The URL without its password, for logs and error messages. */
export function redact(url: string): string {
  return url.replace(/^(amqps?:\/\/[^:/@]*:)[^@]*@/i, '$1***@');
}
