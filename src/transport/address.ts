/** Splits `host:port`, `[v6]:port` or `:port`. An empty host means every interface, as in Go. */
export function parseHostPort(address: string, defaultHost = '127.0.0.1'): { host: string; port: number } {
  const trimmed = address.trim();
  if (trimmed === '') return { host: defaultHost, port: 0 };
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(trimmed);
  if (!match) throw new TypeError(`invalid address "${address}": expected host:port, [ipv6]:port or :port`);
  const port = Number(match[3]);
  if (port > 65535) throw new TypeError(`invalid address "${address}": port ${port} is over 65535`);
  const host = match[1] ?? match[2] ?? '';
  return { host: host === '' ? '0.0.0.0' : host, port };
}

export function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
