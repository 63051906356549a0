import { afterEach, describe, expect, it } from '@jest/globals';
import type { Listener, Message, Socket, Transport } from '../../src/index.js';
import { TransportError } from '../../src/index.js';
import { eventually, within } from '../helpers/eventually.js';

export interface TransportContractOptions {
  /** A new transport instance; instances made by one options object can reach each other. */
  create(): Promise<Transport> | Transport;
  /** The address to listen on; the transport may pick its own when this ends in `:0`. */
  listenAddress?: string;
  /** An address nothing listens on. */
  deadAddress: string;
  skip?: Record<string, string>;
}

interface Served {
  listener: Listener;
  sockets: Socket[];
  received: Message[];
  closed: number;
}

/** The transport contract: every transport, default or plugin, passes it unchanged. */
export function runTransportContract(label: string, options: TransportContractOptions): void {
  const test = (name: string, fn: () => Promise<void>, timeout?: number): void => {
    const reason = options.skip?.[name];
    if (reason) it.skip(`${name} (skipped: ${reason})`, fn);
    else it(name, fn, timeout);
  };

  describe(`transport contract: ${label}`, () => {
    const cleanups: (() => Promise<unknown>)[] = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
    });

    const transport = async (): Promise<Transport> => {
      const created = await options.create();
      cleanups.push(() => created.close());
      return created;
    };

    /** A server that echoes every message back with `echo: true`, recording what it got. */
    const serve = async (server: Transport, echo = true): Promise<Served> => {
      const listener = await server.listen(options.listenAddress ?? '127.0.0.1:0');
      cleanups.push(() => listener.close());
      const served: Served = { listener, sockets: [], received: [], closed: 0 };
      listener.accept((socket) => {
        served.sockets.push(socket);
        cleanups.push(() => socket.close());
        socket.receive({
          message: (message) => {
            served.received.push(message);
            if (echo) socket.send({ headers: { ...message.headers, echo: 'true' }, body: message.body });
          },
          close: () => served.closed++,
        });
      });
      return served;
    };

    const dial = async (client: Transport, address: string): Promise<{ socket: Socket; replies: Message[]; closed: () => boolean }> => {
      const socket = await client.dial(address);
      cleanups.push(() => socket.close());
      const replies: Message[] = [];
      let closed = false;
      socket.receive({ message: (message) => replies.push(message), close: () => (closed = true) });
      return { socket, replies, closed: () => closed };
    };

    test('has a name and a message size limit', async () => {
      const created = await transport();
      expect(created.name.length).toBeGreaterThan(0);
      expect(created.maxMessageSize).toBeGreaterThan(1024);
    });

    test('carries headers and body both ways, intact', async () => {
      const [server, client] = [await transport(), await transport()];
      const served = await serve(server);
      const { socket, replies } = await dial(client, served.listener.address);
      const body = Buffer.from([0, 1, 2, 250, 255, 0x0a, 0x0d]);
      socket.send({ headers: { 'content-type': 'application/octet-stream', 'x-unicode': 'héllo → 世界', empty: '' }, body });
      await eventually(() => expect(replies).toHaveLength(1));
      expect(served.received[0]!.headers).toEqual({ 'content-type': 'application/octet-stream', 'x-unicode': 'héllo → 世界', empty: '' });
      expect(Buffer.from(replies[0]!.body)).toEqual(body);
      expect(replies[0]!.headers.echo).toBe('true');
    });

    test('carries an empty body', async () => {
      const [server, client] = [await transport(), await transport()];
      const served = await serve(server);
      const { socket, replies } = await dial(client, served.listener.address);
      socket.send({ headers: { a: 'b' }, body: new Uint8Array(0) });
      await eventually(() => expect(replies).toHaveLength(1));
      expect(replies[0]!.body.length).toBe(0);
    });

    test('keeps the order of many messages on one socket', async () => {
      const [server, client] = [await transport(), await transport()];
      const served = await serve(server);
      const { socket, replies } = await dial(client, served.listener.address);
      for (let i = 0; i < 500; i++) socket.send({ headers: { seq: String(i) }, body: Buffer.from(`payload-${i}`) });
      await eventually(() => expect(replies).toHaveLength(500), 10_000);
      expect(replies.map((reply) => Number(reply.headers.seq))).toEqual([...Array(500).keys()]);
      expect(Buffer.from(replies[499]!.body).toString()).toBe('payload-499');
    });

    test('serves many sockets at once', async () => {
      const [server, client] = [await transport(), await transport()];
      const served = await serve(server);
      const clients = await Promise.all([...Array(20).keys()].map(() => dial(client, served.listener.address)));
      clients.forEach(({ socket }, index) => socket.send({ headers: { client: String(index) }, body: Buffer.from('x') }));
      await eventually(() => clients.forEach(({ replies }) => expect(replies).toHaveLength(1)));
      clients.forEach(({ replies }, index) => expect(replies[0]!.headers.client).toBe(String(index)));
    });

    test('carries a message close to the size limit', async () => {
      const [server, client] = [await transport(), await transport()];
      const served = await serve(server);
      const { socket, replies } = await dial(client, served.listener.address);
      const size = Math.min(client.maxMessageSize, server.maxMessageSize) - 1024;
      const body = Buffer.alloc(size, 7);
      socket.send({ headers: {}, body });
      await eventually(() => expect(replies).toHaveLength(1), 15_000);
      expect(replies[0]!.body.length).toBe(size);
    }, 30_000);

    test('refuses to send a message over the limit, and the socket keeps working', async () => {
      const [server, client] = [await transport(), await transport()];
      const served = await serve(server);
      const { socket, replies } = await dial(client, served.listener.address);
      let thrown: unknown;
      try {
        socket.send({ headers: {}, body: Buffer.alloc(client.maxMessageSize + 1) });
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(TransportError);
      expect((thrown as TransportError).kind).toBe('too_large');
      expect((thrown as Error).message).toMatch(/limit/);
      socket.send({ headers: { after: 'yes' }, body: Buffer.from('ok') });
      await eventually(() => expect(replies).toHaveLength(1));
    });

    test('tells the server when a client closes, and the client when the server closes', async () => {
      const [server, client] = [await transport(), await transport()];
      const served = await serve(server, false);
      const first = await dial(client, served.listener.address);
      first.socket.send({ headers: {}, body: Buffer.from('hi') });
      await eventually(() => expect(served.sockets).toHaveLength(1));
      await first.socket.close();
      await eventually(() => expect(served.closed).toBe(1));

      const second = await dial(client, served.listener.address);
      second.socket.send({ headers: {}, body: Buffer.from('hi') });
      await eventually(() => expect(served.sockets).toHaveLength(2));
      await served.sockets[1]!.close();
      await eventually(() => expect(second.closed()).toBe(true));
    });

    test('sending on a closed socket throws a closed error', async () => {
      const [server, client] = [await transport(), await transport()];
      const served = await serve(server);
      const { socket } = await dial(client, served.listener.address);
      await socket.close();
      expect(() => socket.send({ headers: {}, body: Buffer.from('late') })).toThrow(TransportError);
    });

    test('dialling an address nobody listens on fails with a dial error', async () => {
      const client = await transport();
      const failure = await within(client.dial(options.deadAddress, { timeoutMs: 2000 }).then(() => undefined, (error: unknown) => error), 10_000, 'the dial failure');
      expect(failure).toBeInstanceOf(TransportError);
      expect((failure as TransportError).kind).toBe('dial');
    });

    test('a closed listener accepts no new sockets', async () => {
      const [server, client] = [await transport(), await transport()];
      const served = await serve(server);
      await served.listener.close();
      const outcome = await client.dial(served.listener.address, { timeoutMs: 2000 }).then(
        async (socket) => {
          // Some transports only learn on first use that nobody is there.
          socket.receive({ message: () => undefined, close: () => undefined });
          socket.send({ headers: {}, body: Buffer.from('anyone?') });
          await new Promise((resolve) => setTimeout(resolve, 300));
          await socket.close();
          return served.received.length === 0 ? 'unanswered' : 'accepted';
        },
        () => 'refused',
      );
      expect(['refused', 'unanswered']).toContain(outcome);
    });
  });
}
