import type { Msg, MsgHdrs } from '@nats-io/transport-node';
import { Headers, TransportError, type Message, type MicroError } from '../../src/index.js';
import { decodeFrame, frameBuffer, splitFrames as splitFrameBuffer, type SplitFrames } from '../../src/transport/framing.js';
import type { NatsModule } from '../shared/nats/natsConnection.js';
import { fromNatsHeaders, natsHeadersSize, toNatsHeaders } from '../shared/nats/natsHeaders.js';
import { isTransportHeader } from './protocol.js';

/**
 * How a socket's data messages travel. Two forms, chosen per socket when it opens (see protocol.ts):
 *
 * - `frame`: a plain NATS PUB (no NATS headers) whose payload is one or more of the TCP transport's binary
 *   frames back to back (headers and body each, src/transport/framing.ts). A frame is one buffer written with
 *   ASCII fast paths and parsed with one decode: none of the NATS header block's building, CR/LF checks and
 *   re-parsing per header. The frames a socket sends in one turn share one NATS message (OutgoingFrames), so the
 *   client library's cost per message (protocol line, parsing, dispatch) is paid once per batch.
 * - `headers` (the form before frames, kept for peers that do not offer frames): one message per NATS
 *   message, tsmicro headers as NATS headers, the body as the payload.
 */
export interface DataPayload {
  payload: Uint8Array;
  headers: MsgHdrs | undefined;
}

/** The NATS payload (and headers, in the `headers` form) of `message`; throws TransportError `too_large`. */
export function encodeData(nats: NatsModule, message: Message, framed: boolean, limit: number): DataPayload {
  if (framed) return { payload: frameBuffer(message, limit), headers: undefined };
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

/** Cuts a `frame`-form payload into its frames by their length prefixes (each is checked when decoded). */
export function splitFrames(received: Msg): SplitFrames {
  const data = received.data;
  // The client hands over a Buffer's slice unless the message spanned two reads.
  return splitFrameBuffer(Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.length));
}

/** The request id of a frame that is refused before it is delivered (too large, stale socket), if readable. */
export function frameRequestId(frame: Buffer): string | undefined {
  try {
    return decodeFrame(frame).headers[Headers.id] || undefined;
  } catch {
    return undefined;
  }
}

/** The message of a `headers`-form data message. Throws TypeError when the encoded header does not decode. */
export function decodeHeaders(received: Msg): Message {
  return { headers: fromNatsHeaders(received.headers, isTransportHeader), body: received.data };
}

/** Bytes a `headers`-form message took on the wire: NATS headers and payload. */
export function receivedSize(received: Msg): number {
  return received.data.length + natsHeadersSize(received.headers);
}

/** The request id of a `headers`-form message, from its plain header when the encoded ones do not decode. */
export function headersRequestId(received: Msg): string | undefined {
  try {
    return decodeHeaders(received).headers[Headers.id] || undefined;
  } catch {
    return received.headers?.get(Headers.id) || undefined;
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
