import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Headers, type App, type Message } from '../../src/index.js';
import { encodeFrame, FrameDecoder } from '../../src/transport/framing.js';
import { TestApps } from '../helpers/apps.js';
import { captureLogger } from '../helpers/captureLogger.js';
import { eventually, within } from '../helpers/eventually.js';
import { Shop } from '../unit/fixtures.js';

/** A raw TCP connection to the server, to send it what no well-behaved client would. */
class RawConnection {
  readonly socket: Socket;
  readonly replies: Message[] = [];
  readonly closed: Promise<void>;
  readonly #decoder = new FrameDecoder(16 * 1024 * 1024);

  constructor(address: string) {
    const [host, port] = address.split(':');
    this.socket = connect({ host, port: Number(port) });
    this.socket.on('data', (chunk: Buffer) => this.replies.push(...this.#decoder.push(chunk)));
    this.socket.on('error', () => undefined);
    this.closed = new Promise((resolve) => this.socket.once('close', () => resolve()));
  }

  ready(): Promise<void> {
    return new Promise((resolve) => this.socket.once('connect', () => resolve()));
  }

  sendFrame(message: Message): void {
    for (const buffer of encodeFrame(message, 16 * 1024 * 1024)) this.socket.write(buffer);
  }

  errorOf(reply: Message): { code: number; detail: string } {
    return JSON.parse(reply.headers[Headers.error]!);
  }
}

describe('bad input on the TCP transport', () => {
  const apps = new TestApps();
  const directory = mkdtempSync(join(tmpdir(), 'tsmicro-bad-'));
  const logger = captureLogger();
  let server: App;
  let client: App;
  let address: string;

  beforeAll(async () => {
    const config = { registry: { address: directory }, transport: { maxMessageSize: 1024 * 1024 } };
    server = await apps.started({ services: [Shop], memory: false, config, logger });
    client = await apps.started({ memory: false, config });
    address = server.servers[0]!.address!;
  });
  afterAll(async () => {
    await apps.stopAll();
    rmSync(directory, { recursive: true, force: true });
  });

  const stillServes = async (): Promise<void> => {
    await expect(client.client.call('shop', 'Shop.place', { item: 'tea', quantity: 1 }, { context: null })).resolves.toMatchObject({ accepted: 'tea' });
  };

  it('random bytes end that connection, never the server', async () => {
    for (let round = 0; round < 20; round++) {
      const raw = new RawConnection(address);
      await raw.ready();
      raw.socket.end(randomBytes(1 + Math.floor(Math.random() * 4096)));
      await within(raw.closed, 5000, 'the server closing a garbage connection');
    }
    await stillServes();
  });

  it('a truncated frame ends that connection with a logged reason', async () => {
    const raw = new RawConnection(address);
    await raw.ready();
    const frame = Buffer.concat(encodeFrame({ headers: { [Headers.id]: '1', [Headers.endpoint]: 'Shop.place' }, body: Buffer.from('{"item":"tea","quantity":1}') }, 1024 * 1024));
    raw.socket.end(frame.subarray(0, frame.length - 5));
    await within(raw.closed, 5000, 'the connection to close');
    await eventually(() => expect(logger.lines.some((line) => line.message === 'connection closed with error' && /in the middle of a frame/.test(String(line.fields.error)))).toBe(true));
    await stillServes();
  });

  it('a frame over the size limit gets a 413 error frame, then the connection closes', async () => {
    const raw = new RawConnection(address);
    await raw.ready();
    const prefix = Buffer.alloc(4);
    prefix.writeUInt32BE(100 * 1024 * 1024, 0);
    raw.socket.write(prefix);
    await within(raw.closed, 5000, 'the connection to close');
    expect(raw.replies).toHaveLength(1);
    const error = raw.errorOf(raw.replies[0]!);
    expect(error.code).toBe(413);
    expect(error.detail).toBe('frame of 104857604 bytes is over the limit of 1048576 bytes (transport.maxMessageSize)');
    await eventually(() => expect(logger.lines.some((line) => line.message === 'transport: closing connection after a bad frame' && /over the limit/.test(String(line.fields.reason)))).toBe(true));
    await stillServes();
  });

  it('a malformed header block gets a 400 error frame, then the connection closes', async () => {
    const raw = new RawConnection(address);
    await raw.ready();
    const bad = Buffer.alloc(14);
    bad.writeUInt32BE(10, 0);
    bad.writeUInt32BE(6, 4);
    bad.writeUInt16BE(500, 8);
    raw.socket.write(bad);
    await within(raw.closed, 5000, 'the connection to close');
    expect(raw.errorOf(raw.replies[0]!)).toMatchObject({ code: 400, detail: 'malformed frame: header name runs past the header block' });
    await stillServes();
  });

  it('a body that is not JSON gets a 400 for that request, and the connection keeps serving', async () => {
    const raw = new RawConnection(address);
    await raw.ready();
    raw.sendFrame({ headers: { [Headers.id]: '1', [Headers.service]: 'shop', [Headers.endpoint]: 'Shop.place', [Headers.contentType]: 'application/json' }, body: Buffer.from('not json at all') });
    raw.sendFrame({ headers: { [Headers.id]: '2', [Headers.service]: 'shop', [Headers.endpoint]: 'Shop.place', [Headers.contentType]: 'application/json' }, body: Buffer.from('{"item":"tea","quantity":2}') });
    await eventually(() => expect(raw.replies).toHaveLength(2));
    const byId = Object.fromEntries(raw.replies.map((reply) => [reply.headers[Headers.id], reply]));
    expect(raw.errorOf(byId['1']!)).toMatchObject({ code: 400 });
    expect(raw.errorOf(byId['1']!).detail).toMatch(/^request body for Shop.place is not valid application\/json/);
    expect(JSON.parse(Buffer.from(byId['2']!.body).toString())).toMatchObject({ accepted: 'tea', quantity: 2 });
    raw.socket.destroy();
  });

  it('keeps serving good clients while another floods it with garbage', async () => {
    const floods = [...Array(5)].map(async () => {
      const raw = new RawConnection(address);
      await raw.ready();
      for (let i = 0; i < 50; i++) raw.socket.write(randomBytes(512));
      raw.socket.end();
      await raw.closed;
    });
    const calls = [...Array(50)].map((_, i) => client.client.call('shop', 'Shop.place', { item: `i${i}`, quantity: 1 }, { context: null }));
    await Promise.all(floods);
    expect(await Promise.all(calls)).toHaveLength(50);
  });
});
