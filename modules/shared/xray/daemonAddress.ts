import { isIPv6 } from 'node:net';

export interface DaemonAddress {
  host: string;
  port: number;
  /** The socket type to send from: an IPv6 literal needs udp6; names and IPv4 use udp4. */
  type: 'udp4' | 'udp6';
}

const HOST_PORT = /^(?:\[([^\]]+)\]|([^\s:[\]]*)):(\d{1,5})$/;

/**
 * The daemon's UDP address, in the forms `AWS_XRAY_DAEMON_ADDRESS` takes in the X-Ray SDKs: `host:port`,
 * `[ipv6]:port`, or `tcp:host:port udp:host:port` (the daemon's two listeners, either order; segments go to the
 * UDP one). An empty host means 127.0.0.1. Throws an Error saying what is expected.
 */
export function parseDaemonAddress(value: string): DaemonAddress {
  const parts = value.trim().split(/\s+/);
  let udp = parts.length === 1 ? parts[0]! : undefined;
  if (parts.length === 2) {
    for (const part of parts) {
      const lower = part.toLowerCase();
      if (lower.startsWith('udp:')) udp = part.slice(4);
      else if (!lower.startsWith('tcp:')) udp = undefined;
    }
  }
  const match = udp === undefined ? null : HOST_PORT.exec(udp);
  const port = match ? Number(match[3]) : 0;
  if (!match || port < 1 || port > 65535) throw new Error('must be host:port, [ipv6]:port, or "tcp:host:port udp:host:port"');
  const host = match[1] ?? (match[2] || '127.0.0.1');
  return { host, port, type: isIPv6(host) ? 'udp6' : 'udp4' };
}

/** The convict format for the option: the same check at config time, so a typo stops the process at boot. */
export function daemonAddressFormat(value: unknown): void {
  if (typeof value !== 'string') throw new Error('must be host:port, [ipv6]:port, or "tcp:host:port udp:host:port"');
  parseDaemonAddress(value);
}
