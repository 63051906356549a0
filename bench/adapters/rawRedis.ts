import { Redis } from 'ioredis';
import type { BenchClient, BenchServer, Payload, ScenarioEnv } from '../harness/protocol.js';

/**
 * The raw Redis ceiling for RPC over pub/sub, with the client library tsmicro's Redis plugins use: a request is a
 * PUBLISH of `<id> <reply channel> <JSON>` to the server's channel, the reply a PUBLISH of `<id> <JSON>` to the
 * client's channel; commands of one tick are pipelined (ioredis auto-pipelining). Events are plain PUBLISHes.
 */
const channels = (env: ScenarioEnv) => ({ rpc: `bench:rpc:${env.namespace}`, event: `bench:event:${env.namespace}` });
const options = { enableAutoPipelining: true, lazyConnect: false };

export async function startServer(env: ScenarioEnv): Promise<BenchServer> {
  const publisher = new Redis(env.redisUrl, options);
  const subscriber = new Redis(env.redisUrl, options);
  let events = 0;
  const { rpc, event } = channels(env);
  subscriber.on('messageBuffer', (channel: Buffer, message: Buffer) => {
    if (channel.toString() === event) return void events++;
    const text = message.toString();
    const first = text.indexOf(' ');
    const second = text.indexOf(' ', first + 1);
    const request = JSON.parse(text.slice(second + 1)) as Payload;
    void publisher.publish(text.slice(first + 1, second), `${text.slice(0, first)} ${JSON.stringify({ greeting: `Hello, ${request.name}`, n: request.n })}`);
  });
  await subscriber.subscribe(rpc, event);
  return { eventsReceived: () => events, close: async () => void (publisher.disconnect(), subscriber.disconnect()) };
}

export async function startClient(env: ScenarioEnv): Promise<BenchClient> {
  const publisher = new Redis(env.redisUrl, options);
  const subscriber = new Redis(env.redisUrl, options);
  const inbox = `bench:inbox:${env.namespace}:${process.pid}`;
  const pending = new Map<string, (value: unknown) => void>();
  subscriber.on('messageBuffer', (_channel: Buffer, message: Buffer) => {
    const text = message.toString();
    const space = text.indexOf(' ');
    const id = text.slice(0, space);
    const resolve = pending.get(id);
    pending.delete(id);
    resolve?.(JSON.parse(text.slice(space + 1)));
  });
  await subscriber.subscribe(inbox);
  const { rpc, event } = channels(env);
  let nextId = 0;
  return {
    call: (request) =>
      new Promise((resolve) => {
        const id = String(nextId++);
        pending.set(id, resolve);
        void publisher.publish(rpc, `${id} ${inbox} ${JSON.stringify(request)}`);
      }),
    emit: (payload) => publisher.publish(event, JSON.stringify(payload)),
    close: async () => void (publisher.disconnect(), subscriber.disconnect()),
  };
}
