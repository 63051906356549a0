import { connect, createInbox, type NatsConnection } from '@nats-io/transport-node';
import type { BenchClient, BenchServer, Payload, ScenarioEnv } from '../harness/protocol.js';

/**
 * The raw NATS ceiling, with the client library tsmicro's NATS plugins use: requests are publishes with a reply
 * subject under one wildcard inbox subscription (no subscription per request), replies matched by the subject's
 * last token; JSON both ways; events are plain publishes.
 */
const encoder = new TextEncoder();
const decoder = new TextDecoder();

const subjects = (env: ScenarioEnv) => ({ rpc: `bench.rpc.${env.namespace}`, event: `bench.event.${env.namespace}` });

export async function startServer(env: ScenarioEnv): Promise<BenchServer> {
  const nc: NatsConnection = await connect({ servers: env.natsUrl });
  let events = 0;
  nc.subscribe(subjects(env).rpc, {
    callback: (_error, message) => {
      const request = JSON.parse(decoder.decode(message.data)) as Payload;
      message.respond(encoder.encode(JSON.stringify({ greeting: `Hello, ${request.name}`, n: request.n })));
    },
  });
  nc.subscribe(subjects(env).event, { callback: () => void events++ });
  await nc.flush();
  return { eventsReceived: () => events, close: () => nc.close() };
}

export async function startClient(env: ScenarioEnv): Promise<BenchClient> {
  const nc = await connect({ servers: env.natsUrl });
  const inbox = createInbox();
  const pending = new Map<string, (value: unknown) => void>();
  nc.subscribe(`${inbox}.*`, {
    callback: (_error, message) => {
      const id = message.subject.slice(inbox.length + 1);
      const resolve = pending.get(id);
      pending.delete(id);
      resolve?.(JSON.parse(decoder.decode(message.data)));
    },
  });
  await nc.flush();
  const { rpc, event } = subjects(env);
  let nextId = 0;
  return {
    call: (request) =>
      new Promise((resolve) => {
        const id = String(nextId++);
        pending.set(id, resolve);
        nc.publish(rpc, encoder.encode(JSON.stringify(request)), { reply: `${inbox}.${id}` });
      }),
    emit: async (payload) => nc.publish(event, encoder.encode(JSON.stringify(payload))),
    close: () => nc.close(),
  };
}
