import type { IncomingHttpHeaders } from 'node:http';
import { isIP, SocketAddress } from 'node:net';

/** The header trusted proxies write the client's address into. Only one is read: see README ("Trusted proxies"). */
export type ForwardedHeaderName = 'x-forwarded-for' | 'forwarded';

/**
 * An address as a socket, X-Forwarded-For or Forwarded gives it → its canonical form, or undefined when it is no
 * IP address. Accepts `"…"` quotes, `[v6]` brackets, a port (`1.2.3.4:80`, `[::1]:80`) and a zone (`fe80::1%eth0`);
 * IPv6 is compressed and lower-cased, and IPv4-mapped IPv6 (`::ffff:10.0.0.7`, `::ffff:a00:7`) becomes IPv4.
 */
export function normalizeAddress(text: string): string | undefined {
  let value = text.trim();
  if (value.length > 1 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
  if (value.startsWith('[')) {
    const end = value.indexOf(']');
    if (end < 0) return undefined;
    value = value.slice(1, end);
  } else if (/^[\d.]+:\d+$/.test(value)) {
    value = value.slice(0, value.lastIndexOf(':'));
  }
  value = value.replace(/%.*$/, '');
  const version = isIP(value);
  if (version === 4) return value;
  if (version !== 6) return undefined;
  const canonical = new SocketAddress({ address: value, family: 'ipv6' }).address;
  return /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(canonical)?.[1] ?? canonical;
}

/** The addresses a forwarding header lists, left (the original client) to right (the proxy nearest to us). */
export function forwardedHops(headers: IncomingHttpHeaders, name: ForwardedHeaderName): string[] {
  const raw = headers[name];
  // Node joins repeated headers with ", ", which keeps the order of the hops.
  const text = Array.isArray(raw) ? raw.join(',') : (raw ?? '');
  if (name === 'x-forwarded-for') return text.split(',').map((hop) => hop.trim()).filter(Boolean);
  // RFC 7239: elements separated by ",", parameters by ";": `for=192.0.2.60;proto=http, for="[2001:db8::17]:4711"`.
  const hops: string[] = [];
  for (const element of text.split(',')) {
    for (const pair of element.split(';')) {
      const equals = pair.indexOf('=');
      if (equals > 0 && pair.slice(0, equals).trim().toLowerCase() === 'for') hops.push(pair.slice(equals + 1).trim());
    }
  }
  return hops;
}
