import type { IncomingMessage, ServerResponse } from 'node:http';
import { MicroError, type WireError } from '../errors.js';

const ERROR_ID = 'tsmicro.gateway';

/** Reads the body up to `limit` bytes; a larger one is refused with 413 as soon as it is known, without reading it all. */
export function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(request.headers['content-length'] ?? 0);
  if (declared > limit) return Promise.reject(MicroError.tooLarge(ERROR_ID, `request body of ${declared} bytes is over the limit of ${limit} bytes (gateway.bodyLimit)`));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        request.removeAllListeners('data');
        request.resume();
        reject(MicroError.tooLarge(ERROR_ID, `request body is over the limit of ${limit} bytes (gateway.bodyLimit)`));
      } else chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks, size)));
    request.on('error', reject);
  });
}

/** The body as JSON; an empty body is `{}`. Anything else that does not parse is a 400 saying where it broke. */
export function parseJsonBody(body: Buffer, request: IncomingMessage): unknown {
  if (body.length === 0) return {};
  const type = request.headers['content-type'] ?? 'application/json';
  if (!/json/i.test(type)) throw new MicroError(ERROR_ID, 415, `unsupported content-type "${type}"; the gateway reads application/json`);
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw MicroError.badRequest(ERROR_ID, `request body is not valid JSON: ${(error as Error).message}`);
  }
}

export function sendJson(response: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  if (response.headersSent) return void response.end();
  const body = value === undefined ? '' : JSON.stringify(value);
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), ...headers });
  response.end(body);
}

/** RPC errors as HTTP: the wire error's code is the status when it is one; its JSON is the body. */
export function sendError(response: ServerResponse, error: unknown): WireError {
  const micro = MicroError.is(error) ? error : MicroError.internal(ERROR_ID, (error as Error)?.message ?? String(error));
  const status = micro.code >= 400 && micro.code <= 599 ? micro.code : 500;
  const wire = micro.toJSON();
  sendJson(response, status, wire);
  return wire;
}

/** The socket's address, with IPv4-mapped IPv6 (`::ffff:10.0.0.1`) unwrapped. */
export function remoteAddressOf(request: IncomingMessage): string {
  const address = request.socket.remoteAddress ?? '';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

const NOT_FORWARDED = new Set(['host', 'connection', 'content-length', 'content-type', 'transfer-encoding', 'keep-alive', 'upgrade', 'accept-encoding', 'te', 'trailer', 'proxy-authorization', 'cookie']);

/** The HTTP headers forwarded to services as metadata: everything but hop-by-hop headers, the body's own, and cookies. */
export function forwardedMetadata(request: IncomingMessage): Record<string, string> {
  const metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined || NOT_FORWARDED.has(name) || name.startsWith('micro-')) continue;
    metadata[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return metadata;
}
