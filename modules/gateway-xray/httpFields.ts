import type { GatewayExchange } from '../../src/gateway/GatewayPlugin.js';
import { bounded, type HttpRequestFields } from '../shared/xray/segmentDocument.js';

/** Longest URL recorded; longer ones are cut (the rest of a URL that long is rarely what anyone searches for). */
const MAX_URL_LENGTH = 8192;

function firstValue(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  const first = value?.split(',')[0]?.trim();
  return first === '' ? undefined : first;
}

/**
 * `http.request` as the X-Ray documentation describes it: the full URL (scheme and host as the client used
 * them, so behind a TLS-terminating proxy `X-Forwarded-Proto` wins), the method, the user agent, and the client
 * address: the first X-Forwarded-For entry when there is one (then `x_forwarded_for: true` says it was taken
 * from the header, not from the socket), else the socket's peer.
 */
export function httpRequestFields(exchange: GatewayExchange): HttpRequestFields {
  const { request } = exchange;
  const forwardedProto = firstValue(request.headers['x-forwarded-proto'])?.toLowerCase();
  const encrypted = (request.socket as { encrypted?: boolean }).encrypted === true;
  const scheme = forwardedProto === 'http' || forwardedProto === 'https' ? forwardedProto : encrypted ? 'https' : 'http';
  const host = request.headers.host ?? request.socket.localAddress ?? 'localhost';
  const fields: HttpRequestFields = { method: request.method ?? 'GET', url: bounded(`${scheme}://${host}${request.url ?? '/'}`, MAX_URL_LENGTH) };
  const forwardedFor = firstValue(request.headers['x-forwarded-for']);
  if (forwardedFor) {
    fields.client_ip = forwardedFor;
    fields.x_forwarded_for = true;
  } else if (exchange.remoteAddress) {
    fields.client_ip = exchange.remoteAddress;
  }
  const userAgent = request.headers['user-agent'];
  if (userAgent) fields.user_agent = bounded(userAgent, 1024);
  return fields;
}

/** `http.response`: the status, and the body length when the response declared one (chunked ones do not). */
export function httpResponseFields(exchange: GatewayExchange, status: number): { status: number; content_length?: number } {
  const length = Number(exchange.response.getHeader('content-length'));
  return Number.isInteger(length) && length >= 0 && exchange.response.hasHeader('content-length') ? { status, content_length: length } : { status };
}
