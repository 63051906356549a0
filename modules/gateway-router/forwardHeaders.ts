import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { ProxyAction } from './routeTypes.js';

/** Headers about one connection, never passed on by a proxy (RFC 9110 §7.6.1), plus those describing framing. */
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade'];

/** A Connection header may name more headers that belong to this hop only. */
function hopByHop(headers: IncomingHttpHeaders): Set<string> {
  const listed = String(headers.connection ?? '')
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter(Boolean);
  return new Set([...HOP_BY_HOP, ...listed]);
}

/**
 * The headers of the request sent upstream: the client's minus hop-by-hop ones, the framing of the body restated,
 * Host set for the upstream (unless `preserveHost`), X-Forwarded-For extended with the client's address and
 * X-Forwarded-Host/-Proto set to what the gateway saw, then the rule's own headers.
 */
export function upstreamRequestHeaders(request: IncomingMessage, clientAddress: string, action: ProxyAction): OutgoingHttpHeaders {
  // Expect was answered by the gateway's server already; X-Forwarded-Host/-Proto are replaced so a client cannot forge them.
  const dropped = hopByHop(request.headers);
  for (const name of ['host', 'expect', 'content-length', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto']) dropped.add(name);
  const headers: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(request.headers)) if (value !== undefined && !dropped.has(name)) headers[name] = value;

  // The body's framing is restated explicitly. Transfer-Encoding wins over Content-Length (RFC 9112 §6.3); setting
  // it makes Node chunk the body for every method. Without it Node sends the body of a DELETE or OPTIONS raw and
  // unframed, and the upstream would read it as another request: the smuggling hole http-proxy's deleteLength has.
  const transferEncoding = request.headers['transfer-encoding'];
  if (transferEncoding !== undefined) headers['transfer-encoding'] = transferEncoding;
  else if (request.headers['content-length'] !== undefined) headers['content-length'] = request.headers['content-length'];

  const originalHost = request.headers.host;
  headers.host = action.preserveHost && originalHost ? originalHost : action.url.host;
  const earlier = request.headers['x-forwarded-for'];
  headers['x-forwarded-for'] = earlier ? `${earlier}, ${clientAddress}` : clientAddress;
  if (originalHost) headers['x-forwarded-host'] = originalHost;
  headers['x-forwarded-proto'] = (request.socket as Partial<TLSSocket>).encrypted ? 'https' : 'http';
  return { ...headers, ...action.headers };
}

/** Whether the client's request carries a body that must be streamed upstream. */
export function hasRequestBody(request: IncomingMessage): boolean {
  return request.headers['transfer-encoding'] !== undefined || Number(request.headers['content-length'] ?? 0) > 0;
}

/** The upstream's response headers for the client: every value kept (repeated headers too), minus hop-by-hop ones. */
export function downstreamResponseHeaders(upstream: IncomingMessage): OutgoingHttpHeaders {
  const dropped = hopByHop(upstream.headers);
  const headers: OutgoingHttpHeaders = {};
  for (const [name, values] of Object.entries(upstream.headersDistinct)) {
    if (values !== undefined && !dropped.has(name)) headers[name] = values.length === 1 ? values[0] : values;
  }
  return headers;
}
