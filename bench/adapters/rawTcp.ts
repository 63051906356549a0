import { connect, createServer, type Socket } from 'node:net';
import type { BenchClient, BenchServer, Payload, ScenarioEnv } from '../harness/protocol.js';

/**
 * The raw-socket ceiling: what any RPC over TCP must at least do — JSON both ways, a length-prefixed frame
 * (`u32 length | u32 id | JSON`), replies matched by id, writes of one tick sent together — and nothing else:
 * no discovery, headers, deadlines, validation or errors.
 */
const EVENT_ID = 0;

function frame(id: number, value: unknown): Buffer {
  const json = Buffer.from(JSON.stringify(value));
  const out = Buffer.allocUnsafe(8 + json.length);
  out.writeUInt32BE(4 + json.length, 0);
  out.writeUInt32BE(id, 4);
  json.copy(out, 8);
  return out;
}

/** Splits the stream into frames and hands each `(id, parsed JSON)` to `onFrame`. */
function reader(socket: Socket, onFrame: (id: number, value: unknown) => void): void {
  let pending: Buffer = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    let offset = 0;
    while (pending.length - offset >= 4) {
      const length = pending.readUInt32BE(offset);
      if (pending.length - offset < 4 + length) break;
      onFrame(pending.readUInt32BE(offset + 4), JSON.parse(pending.toString('utf8', offset + 8, offset + 4 + length)));
      offset += 4 + length;
    }
    pending = pending.subarray(offset);
  });
}

/** One write per tick: many frames, one syscall. */
function writer(socket: Socket): (buffer: Buffer) => void {
  let corked = false;
  return (buffer) => {
    if (!corked) {
      corked = true;
      socket.cork();
      process.nextTick(() => {
        corked = false;
        socket.uncork();
      });
    }
    socket.write(buffer);
  };
}

export async function startServer(env: ScenarioEnv): Promise<BenchServer> {
  let events = 0;
  const server = createServer({ noDelay: true }, (socket) => {
    const write = writer(socket);
    socket.on('error', () => undefined);
    reader(socket, (id, value) => {
      if (id === EVENT_ID) {
        events++;
        return;
      }
      const request = value as Payload;
      write(frame(id, { greeting: `Hello, ${request.name}`, n: request.n }));
    });
  });
  await new Promise<void>((resolve) => server.listen(env.serverPort, '127.0.0.1', resolve));
  return { eventsReceived: () => events, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

export async function startClient(env: ScenarioEnv): Promise<BenchClient> {
  const socket = connect({ host: '127.0.0.1', port: env.serverPort, noDelay: true });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const pending = new Map<number, (value: unknown) => void>();
  const write = writer(socket);
  let nextId = 1;
  reader(socket, (id, value) => {
    const resolve = pending.get(id);
    pending.delete(id);
    resolve?.(value);
  });
  return {
    call: (request) =>
      new Promise((resolve) => {
        const id = nextId++;
        if (nextId > 0xfffffff0) nextId = 1;
        pending.set(id, resolve);
        write(frame(id, request));
      }),
    emit: async (event) => write(frame(EVENT_ID, event)),
    close: async () => void socket.end(),
  };
}
