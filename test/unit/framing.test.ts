import { randomBytes } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { encodeFrame, FrameDecoder } from '../../src/transport/framing.js';
import { FrameWriter } from '../../src/transport/FrameWriter.js';
import { Headers } from '../../src/transport/headers.js';
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

  it('reads a header block of ASCII text with length bytes over 0x7f, and bytes that are not UTF-8, as field by field', () => {
    // A 200-byte value has the length byte 0xC8; the block is decoded whole only when that changes nothing.
    const long = 'v'.repeat(200);
    expect(new FrameDecoder(MAX).push(frame({ headers: { 'x-long': long, 'x-after': 'ok' }, body: Buffer.alloc(0) }))[0]!.headers).toEqual({ 'x-long': long, 'x-after': 'ok' });
    // A lone 0xE9 (Latin-1 é, invalid UTF-8) reads as U+FFFD, whichever way the block is decoded.
    const header = Buffer.concat([Buffer.from([0, 3]), Buffer.from('x-l'), Buffer.from([0, 0, 0, 3, 0x61, 0xe9, 0x62])]);
    const raw = Buffer.concat([Buffer.from([0, 0, 0, 4 + header.length, 0, 0, 0, header.length]), header]);
    expect(new FrameDecoder(MAX).push(raw)[0]!.headers).toEqual({ 'x-l': 'a\ufffdb' });
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

  it('sends the framework\'s own header names as a two-byte index, and reads them back by name', () => {
    const headers = { [Headers.id]: '12', [Headers.service]: 'greeter', [Headers.endpoint]: 'Greeter.hello', [Headers.contentType]: 'application/json', [Headers.timeout]: '5000', 'x-trace': 'abc' };
    const bytes = frame({ headers, body: Buffer.from('{}') });
    // 4 + 4 prefixes; each well-known header 2 + 4 + value, the custom one 2 + 7 + 4 + 3; then the body.
    const expected = 8 + (6 + 2) + (6 + 7) + (6 + 13) + (6 + 16) + (6 + 4) + (2 + 7 + 4 + 3) + 2;
    expect(bytes.length).toBe(expected);
    expect(bytes.includes('micro-endpoint')).toBe(false);
    const [decoded] = new FrameDecoder(MAX).push(bytes);
    expect(decoded!.headers).toEqual(headers);
  });

  it('refuses an unknown header index and a header name too long to tell from one', () => {
    const bad = Buffer.alloc(16);
    bad.writeUInt32BE(12, 0);
    bad.writeUInt32BE(8, 4);
    bad.writeUInt16BE(0x7f00 + 200, 8); // no such well-known name
    bad.writeUInt32BE(2, 10);
    expect(() => new FrameDecoder(MAX).push(bad)).toThrow('malformed frame: unknown header index 200');
    expect(() => encodeFrame({ headers: { ['k'.repeat(0x7f00)]: 'v' }, body: Buffer.alloc(0) }, 1024 * 1024)).toThrow('header name of 32512 bytes is over the 32511-byte limit');
  });
});

describe('frame writer', () => {
  const message = (i: number, body = Buffer.from(`body ${i}`)): Message => ({ headers: { [Headers.id]: String(i) }, body });
  const collect = (): { writes: Buffer[]; writer: FrameWriter } => {
    const writes: Buffer[] = [];
    return { writes, writer: new FrameWriter((chunk) => writes.push(Buffer.from(chunk)), MAX, 4) };
  };
  const ids = (writes: Buffer[]): string[] => new FrameDecoder(MAX).push(Buffer.concat(writes)).map((decoded) => decoded.headers[Headers.id]!);

  it('writes the frames of one tick together, and every `flushEvery` frames', async () => {
    const { writes, writer } = collect();
    for (let i = 0; i < 6; i++) writer.push(message(i));
    expect(writes).toHaveLength(1); // the first four
    await new Promise((resolve) => process.nextTick(resolve));
    expect(writes).toHaveLength(2);
    expect(ids(writes)).toEqual(['0', '1', '2', '3', '4', '5']);
  });

  it('keeps order around a large body, which is written without being copied into the batch', () => {
    const { writes, writer } = collect();
    const large = randomBytes(20 * 1024);
    writer.push(message(1));
    writer.push(message(2, large));
    writer.push(message(3));
    writer.flush();
    expect(writes).toHaveLength(4); // frame 1, frame 2's head, its body, frame 3
    const decoded = new FrameDecoder(MAX).push(Buffer.concat(writes));
    expect(decoded.map((one) => one.headers[Headers.id])).toEqual(['1', '2', '3']);
    expect(Buffer.from(decoded[1]!.body).equals(large)).toBe(true);
  });

  it('never rewrites bytes it has handed out, across many slabs', () => {
    const chunks: Buffer[] = [];
    // Keep the very buffers the writer hands out (no copy), as a stream that has not written them yet would.
    const writer = new FrameWriter((chunk) => chunks.push(chunk), MAX, 3);
    for (let i = 0; i < 5000; i++) writer.push(message(i, Buffer.alloc(100, i % 256)));
    writer.flush();
    const decoded = new FrameDecoder(MAX).push(Buffer.concat(chunks));
    expect(decoded).toHaveLength(5000);
    decoded.forEach((one, i) => {
      expect(one.headers[Headers.id]).toBe(String(i));
      expect(one.body.every((byte) => byte === i % 256)).toBe(true);
    });
  });

  it('refuses a message over the limit and keeps the ones queued', () => {
    const { writes, writer } = collect();
    writer.push(message(1));
    expect(() => writer.push(message(2, Buffer.alloc(MAX)))).toThrow(TransportError);
    writer.push(message(3));
    writer.flush();
    expect(ids(writes)).toEqual(['1', '3']);
  });

  it('writes in one pass the same bytes encodeFrame measures and writes, Unicode names and values included', () => {
    const messages: Message[] = [
      { headers: { [Headers.id]: '9', [Headers.service]: 'shop', [Headers.contentType]: 'application/json', 'x-tenant': 'acme' }, body: Buffer.from('{"a":1}') },
      { headers: { 'x-ünïcode': 'värde → 値 😀', [Headers.id]: '10' }, body: Buffer.alloc(0) },
    ];
    const { writes, writer } = collect();
    for (const one of messages) writer.push(one);
    writer.flush();
    expect(Buffer.concat(writes).equals(Buffer.concat(messages.map(frame)))).toBe(true);
  });

  it('refuses a small message whose headers take it over the limit, and keeps the ones queued', () => {
    const writes: Buffer[] = [];
    const writer = new FrameWriter((chunk) => writes.push(Buffer.from(chunk)), 100, 16);
    writer.push(message(1));
    expect(() => writer.push({ headers: { [Headers.id]: '2', 'x-big': 'v'.repeat(90) }, body: Buffer.alloc(0) })).toThrow(
      'message of 116 bytes is over the transport limit of 100 bytes (transport.maxMessageSize)',
    );
    writer.push(message(3));
    writer.flush();
    expect(new FrameDecoder(100).push(Buffer.concat(writes)).map((decoded) => decoded.headers[Headers.id])).toEqual(['1', '3']);
  });
});
