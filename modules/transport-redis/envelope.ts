import { TransportError, type Message } from '../../src/index.js';
import { decodeFrame, encodeFrame } from '../../src/transport/framing.js';

/**
 * How one transport message travels as one Redis pub/sub message:
 *   `TSR1` | u8 kind | u16 length of `from` | from (UTF-8) | the TCP transport's frame (headers + body)
 * `from` is the sender's own channel where the receiver needs it: the client's inbox on `open`, `data` and
 * `close` sent to a listener, the listener's session channel on `accept`. Control messages carry no frame.
 */
export const MAGIC = Buffer.from('TSR1');
const FIXED = MAGIC.length + 1 + 2;

export const Kind = { data: 0, open: 1, accept: 2, refuse: 3, close: 4 } as const;
export type Kind = (typeof Kind)[keyof typeof Kind];

export interface Envelope {
  kind: Kind;
  from: string;
  /** Present on `data`. */
  message?: Message;
}

export function encodeEnvelope(kind: Kind, from: string, message: Message | undefined, maxSize: number): Buffer {
  const fromLength = Buffer.byteLength(from);
  const headroom = FIXED + fromLength;
  // The frame is written after room left for this envelope's head: one buffer, no copy (large bodies aside).
  const parts = message ? encodeFrame(message, maxSize, headroom) : [Buffer.allocUnsafe(headroom)];
  const head = parts[0]!;
  MAGIC.copy(head, 0);
  head.writeUInt8(kind, MAGIC.length);
  head.writeUInt16BE(fromLength, MAGIC.length + 1);
  head.write(from, FIXED);
  return parts.length === 1 ? head : Buffer.concat(parts);
}

/** Throws TransportError `malformed` for anything that is not an envelope. */
export function decodeEnvelope(payload: Buffer): Envelope {
  if (payload.length < FIXED || payload.compare(MAGIC, 0, MAGIC.length, 0, MAGIC.length) !== 0) {
    throw new TransportError('malformed', 'not a tsmicro transport message (no TSR1 prefix)');
  }
  const kind = payload.readUInt8(MAGIC.length) as Kind;
  if (kind > Kind.close) throw new TransportError('malformed', `unknown message kind ${kind}`);
  const fromEnd = FIXED + payload.readUInt16BE(MAGIC.length + 1);
  if (fromEnd > payload.length) throw new TransportError('malformed', 'truncated sender channel');
  const from = payload.toString('utf8', FIXED, fromEnd);
  if (kind !== Kind.data) return { kind, from };
  return { kind, from, message: decodeFrame(payload.subarray(fromEnd)) };
}
