import { randomBytes } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { encodeFrame, FrameDecoder } from '../../src/transport/framing.js';
import { TransportError, type Message } from '../../src/index.js';

const MAX = 64 * 1024;
const frame = (message: Message): Buffer => Buffer.concat(encodeFrame(message, MAX));

describe('frame encoding', () => {
  const message: Message = { headers: { 'micro-id': '7', 'x-ünïcode': 'värde → 値' }, body: Buffer.from('hello') };

  it('round-trips headers and body', () => {
    const [decoded] = new FrameDecoder(MAX).push(frame(message));
    expect(decoded!.headers).toEqual(message.headers);
    expect(Buffer.from(decoded!.body).toString()).toBe('hello');
  });

  it('reassembles frames split at every byte', () => {
    const bytes = Buffer.concat([frame(message), frame({ headers: {}, body: Buffer.alloc(0) }), frame(message)]);
    const decoder = new FrameDecoder(MAX);
    const out: Message[] = [];
    for (let i = 0; i < bytes.length; i++) out.push(...decoder.push(bytes.subarray(i, i + 1)));
    expect(out).toHaveLength(3);
    expect(out[1]!.body.length).toBe(0);
    expect(decoder.pendingBytes).toBe(0);
  });

  it('decodes several frames from one chunk', () => {
    const bytes = Buffer.concat([...Array(10).keys()].map((i) => frame({ headers: { i: String(i) }, body: Buffer.from([i]) })));
    expect(new FrameDecoder(MAX).push(bytes).map((decoded) => decoded.headers.i)).toEqual([...Array(10).keys()].map(String));
  });

  it('carries a large body without copying it into the head', () => {
    const body = randomBytes(40 * 1024);
    const parts = encodeFrame({ headers: {}, body }, MAX);
    expect(parts).toHaveLength(2);
    const [decoded] = new FrameDecoder(MAX).push(Buffer.concat(parts));
    expect(Buffer.from(decoded!.body).equals(body)).toBe(true);
  });

  it('refuses to encode a message over the limit', () => {
    expect(() => encodeFrame({ headers: {}, body: Buffer.alloc(MAX) }, MAX)).toThrow(TransportError);
  });

  it('refuses an oversized frame as soon as its length is read, before buffering it', () => {
    const header = Buffer.alloc(4);
    header.writeUInt32BE(MAX * 10, 0);
    const decoder = new FrameDecoder(MAX);
    expect(() => decoder.push(header)).toThrow(expect.objectContaining({ kind: 'too_large' }) as unknown as Error);
  });

  it('refuses header lengths that run past their block', () => {
    const bad = Buffer.alloc(14);
    bad.writeUInt32BE(10, 0); // frame length
    bad.writeUInt32BE(6, 4); // header block length
    bad.writeUInt16BE(200, 8); // a key longer than the block
    expect(() => new FrameDecoder(MAX).push(bad)).toThrow(expect.objectContaining({ kind: 'malformed' }) as unknown as Error);
  });

  it('never throws anything but a TransportError on random bytes', () => {
    for (let round = 0; round < 2000; round++) {
      const decoder = new FrameDecoder(MAX);
      try {
        decoder.push(randomBytes(1 + (round % 64)));
      } catch (error) {
        expect(error).toBeInstanceOf(TransportError);
      }
    }
  });

  it('does not let a header named __proto__ reach the prototype', () => {
    const [decoded] = new FrameDecoder(MAX).push(frame({ headers: JSON.parse('{"__proto__":"x","ok":"1"}'), body: Buffer.alloc(0) }));
    expect(Object.getPrototypeOf(decoded!.headers)).toBe(Object.prototype);
    expect(decoded!.headers.ok).toBe('1');
  });
});
