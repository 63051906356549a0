import { TransportError, type Message } from '../../src/index.js';
import { decodeFrame, splitFrames } from '../../src/transport/framing.js';

/**
 * How transport messages travel as one Redis pub/sub message:
 *   `TSR1` | u8 kind | u16 length of `from` | from (UTF-8) | frames
 * where `frames` are one or more of the TCP transport's frames (headers + body, src/transport/framing.ts) back to
 * back: the messages one socket sent in one turn. `from` is the sender's own channel where the receiver needs
 * it: the client's inbox on `open`, `data` and `close` sent to a listener, the listener's session channel on
 * `accept`. Control messages carry no frame.
 */
export const MAGIC = Buffer.from('TSR1');
const FIXED = MAGIC.length + 1 + 2;

export const Kind = { data: 0, open: 1, accept: 2, refuse: 3, close: 4 } as const;
export type Kind = (typeof Kind)[keyof typeof Kind];

export interface Envelope {
  kind: Kind;
  from: string;
  /** On `data`: the messages decoded, in order. */
  messages: Message[];
  /** On `data`: why the frames after `messages` could not be decoded, if they could not. */
  error?: TransportError;
}

/** `frames` (whole frames, `bytes` in all) behind this envelope's head, in one buffer. */
export function encodeEnvelope(kind: Kind, from: string, frames: readonly Buffer[] = [], bytes = 0): Buffer {
  const fromLength = Buffer.byteLength(from);
  const head = Buffer.allocUnsafe(FIXED + fromLength);
  MAGIC.copy(head, 0);
  head.writeUInt8(kind, MAGIC.length);
  head.writeUInt16BE(fromLength, MAGIC.length + 1);
  head.write(from, FIXED);
  return frames.length === 0 ? head : Buffer.concat([head, ...frames], head.length + bytes);
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
  if (kind !== Kind.data) return { kind, from, messages: [] };
  const split = splitFrames(payload.subarray(fromEnd));
  const messages: Message[] = [];
  for (const frame of split.frames) {
    try {
      messages.push(decodeFrame(frame));
    } catch (error) {
      // The frames before a broken one are whole and in order: they are delivered, the rest is reported.
      return { kind, from, messages, error: error as TransportError };
    }
  }
  if (messages.length === 0 && !split.error) return { kind, from, messages, error: new TransportError('malformed', 'a data message without a frame') };
  return { kind, from, messages, error: split.error };
}
