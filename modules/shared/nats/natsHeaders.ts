import type { MsgHdrs } from '@nats-io/transport-node';
import type { NatsModule } from './natsConnection.js';

/**
 * Message headers ↔ NATS headers. NATS header names must be printable ASCII without ':' and values lose
 * surrounding whitespace and cannot hold CR/LF; a tsmicro header must come out exactly as it went in, so the
 * pairs NATS would alter travel JSON-encoded in one reserved header instead.
 */
export const ENCODED_HEADER = 'tsmicro-h';

function safeName(name: string): boolean {
  if (name === '') return false;
  for (let i = 0; i < name.length; i++) {
    const code = name.charCodeAt(i);
    if (code < 33 || code > 126 || code === 58) return false;
  }
  return true;
}

function safeValue(value: string): boolean {
  return !/[\r\n]/.test(value) && value.trim() === value;
}

/**
 * NATS headers for `headers`, or undefined when there are none (a plain PUB). Names `reserved` says the
 * receiving side strips (its own control headers) are encoded too, so user data can never pass for them.
 */
export function toNatsHeaders(nats: NatsModule, headers: Readonly<Record<string, string>>, reserved: (name: string) => boolean = () => false): MsgHdrs | undefined {
  const names = Object.keys(headers);
  if (names.length === 0) return undefined;
  const result = nats.headers();
  const encoded: Record<string, string> = {};
  let anyEncoded = false;
  for (const name of names) {
    const value = String(headers[name]);
    if (name !== ENCODED_HEADER && !reserved(name) && safeName(name) && safeValue(value)) result.set(name, value);
    else {
      encoded[name] = value;
      anyEncoded = true;
    }
  }
  if (anyEncoded) result.set(ENCODED_HEADER, encodeURIComponent(JSON.stringify(encoded)));
  return result;
}

/**
 * The headers of a received message. `drop` names plain headers to leave out (the receiver's control headers;
 * encoded ones are always user data). Throws when the encoded header is not what this codec writes: the sender
 * is broken or hostile.
 */
export function fromNatsHeaders(headers: MsgHdrs | undefined, drop: (name: string) => boolean = () => false): Record<string, string> {
  const result: Record<string, string> = {};
  if (!headers) return result;
  let encoded: string | undefined;
  for (const [name, values] of headers) {
    if (name === ENCODED_HEADER) encoded = values[0];
    else if (!drop(name)) result[name] = values.join(', ');
  }
  if (encoded !== undefined) {
    let decoded: unknown;
    try {
      decoded = JSON.parse(decodeURIComponent(encoded));
    } catch {
      throw new TypeError(`header ${ENCODED_HEADER} is not URI-encoded JSON`);
    }
    if (typeof decoded !== 'object' || decoded === null || Array.isArray(decoded)) throw new TypeError(`header ${ENCODED_HEADER} is not an object`);
    for (const [name, value] of Object.entries(decoded)) {
      if (typeof value !== 'string') throw new TypeError(`header ${ENCODED_HEADER} holds a non-string value for "${name}"`);
      result[name] = value;
    }
  }
  return result;
}

/** Bytes `headers` take on the wire (`NATS/1.0\r\n`, a `name: value\r\n` line each, `\r\n`), as NATS counts them. */
export function natsHeadersSize(headers: MsgHdrs | undefined): number {
  if (!headers) return 0;
  let size = 12;
  for (const [name, values] of headers) for (const value of values) size += Buffer.byteLength(name) + Buffer.byteLength(value) + 4;
  return size;
}
