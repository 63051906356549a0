import type { Msg, MsgHdrs } from '@nats-io/transport-node';
import { Headers, TransportError, type Message, type MicroError } from '../../src/index.js';
import { decodeFrame, measureFrame, writeFrame } from '../../src/transport/framing.js';
import type { NatsModule } from '../shared/nats/natsConnection.js';
import { fromNatsHeaders, natsHeadersSize, toNatsHeaders } from '../shared/nats/natsHeaders.js';
import { isTransportHeader } from './protocol.js';

/**
 * How a socket's data messages travel. Two forms, chosen per socket when it opens (see protocol.ts):
 *
 * - `frame`: a plain NATS PUB (no NATS headers) whose payload is the TCP transport's binary frame (headers and
 *   body, src/transport/framing.ts). One buffer written with ASCII fast paths, parsed with one decode: none of
 *   the NATS header block's building, CR/LF checks and re-parsing per header.
 * - `headers` (the form before frames, kept for peers that do not offer frames): tsmicro headers as NATS
 *   headers, the body as the payload.
 */
export interface DataPayload {
  payload: Uint8Array;
  headers: MsgHdrs | undefined;
}

/** The NATS payload (and headers, in the `headers` form) of `message`; throws TransportError `too_large`. */
export function encodeData(nats: NatsModule, message: Message, framed: boolean, limit: number): DataPayload {
  if (framed) {
    // One buffer, large bodies included: a NATS publish takes one payload.
    const layout = measureFrame(message, limit);
    const payload = Buffer.allocUnsafe(layout.total);
    writeFrame(message, layout, payload, 0);
    return { payload, headers: undefined };
  }
  const headers = toNatsHeaders(nats, message.headers, isTransportHeader);
  const size = message.body.length + natsHeadersSize(headers);
  if (size > limit) {
    throw new TransportError('too_large', `message of ${size} bytes is over the transport limit of ${limit} bytes (transport.maxMessageSize, or the NATS server's max_payload)`);
  }
  return { payload: message.body, headers };
}

/**
 * Which form a received data message is in. A frame never has NATS headers; a message that has them is in the
 * `headers` form, whatever the socket chose (an error reply from a listener that no longer knows the socket
 * answers in the form the request came in).
 */
export function isFramed(received: Msg, socketFramed: boolean): boolean {
  return socketFramed && received.headers === undefined;
}

/** The message carried by `received`. Throws (TransportError `malformed`, TypeError) when it does not decode. */
export function decodeData(received: Msg, framed: boolean): Message {
  if (!framed) return { headers: fromNatsHeaders(received.headers, isTransportHeader), body: received.data };
  const data = received.data;
  // The client hands over a Buffer's slice unless the message spanned two reads.
  return decodeFrame(Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.length));
}

/** Bytes a received message took on the wire: NATS headers and payload. */
export function receivedSize(received: Msg): number {
  return received.data.length + natsHeadersSize(received.headers);
}

/**
 * The request id of a message that is refused before it is decoded for a socket (too large, stale), so the
 * refusal can name it. Undefined when the message cannot be read at all.
 */
export function requestIdOf(received: Msg, framed: boolean): string | undefined {
  try {
    return decodeData(received, framed).headers[Headers.id] || undefined;
  } catch {
    return framed ? undefined : received.headers?.get(Headers.id) || undefined;
  }
}

/**
 * An error reply for one request in the RPC layer's wire form, so a request the transport refuses fails by
 * itself (with `unhandled`, a retry elsewhere is safe) instead of timing out.
 */
export function errorReply(nats: NatsModule, requestId: string, error: MicroError, unhandled: boolean, framed: boolean): DataPayload {
  const headers: Record<string, string> = { [Headers.id]: requestId, [Headers.error]: error.toWire() };
  if (unhandled) headers[Headers.unhandled] = 'true';
  // No limit worth checking: an error reply is a few hundred bytes.
  return encodeData(nats, { headers, body: new Uint8Array(0) }, framed, Number.MAX_SAFE_INTEGER);
}
