import type { ServiceBroker as Broker, BrokerOptions, Context } from 'moleculer';
import type { BenchClient, BenchServer, Payload, ScenarioEnv } from '../harness/protocol.js';
import { loadPeer } from './loadPeer.js';

const { ServiceBroker } = await loadPeer<typeof import('moleculer')>('moleculer');

/**
 * Moleculer 0.15 on each row, on its defaults except for addresses: its built-in TCP transporter (UDP discovery
 * off, the two nodes given as static URLs so trials cannot find each other), its NATS and Redis transporters,
 * and a local call (no transporter) for the in-memory row. Validation uses its built-in validator (params).
 */
const serviceName = (env: ScenarioEnv): string => `bench-${env.namespace}`;
const topic = (env: ScenarioEnv): string => `bench.event.${env.namespace}`;

/** Moleculer accepts URL strings and URL lists here, which its typings do not spell out. */
function transporter(env: ScenarioEnv, port: number): unknown {
  switch (env.variant) {
    case 'tcp':
      return { type: 'TCP', options: { udpDiscovery: false, port, urls: [`127.0.0.1:${env.serverPort}/server-${env.namespace}`, `127.0.0.1:${env.clientPort}/client-${env.namespace}`] } };
    case 'nats':
      return env.natsUrl;
    case 'redis':
      return env.redisUrl;
    case 'memory':
      return undefined;
  }
}

function broker(env: ScenarioEnv, role: 'server' | 'client'): Broker {
  const port = role === 'server' ? env.serverPort : env.clientPort;
  return new ServiceBroker({ nodeID: `${role}-${env.namespace}`, namespace: env.namespace, transporter: transporter(env, port) as BrokerOptions['transporter'], logger: false });
}

/** In-memory row: the client calls through the server's own broker (a local call). */
let localBroker: Broker | undefined;

export async function startServer(env: ScenarioEnv): Promise<BenchServer> {
  let events = 0;
  const server = broker(env, 'server');
  const hello = (ctx: Context<Payload>) => ({ greeting: `Hello, ${ctx.params.name}`, n: ctx.params.n });
  server.createService({
    name: serviceName(env),
    actions: { hello: env.validate ? { params: { name: { type: 'string', empty: false }, n: { type: 'number', integer: true, min: 0 } }, handler: hello } : hello },
    events: { [topic(env)]: () => void events++ },
  });
  await server.start();
  localBroker = server;
  return { eventsReceived: () => events, close: () => server.stop() };
}

export async function startClient(env: ScenarioEnv): Promise<BenchClient> {
  const client = env.variant === 'memory' ? localBroker! : broker(env, 'client');
  if (client !== localBroker) await client.start();
  await client.waitForServices(serviceName(env), 10_000);
  const action = `${serviceName(env)}.hello`;
  const eventName = topic(env);
  return {
    call: (request) => client.call(action, request),
    emit: (event) => client.emit(eventName, event),
    close: () => (client === localBroker ? Promise.resolve() : client.stop()),
  };
}

/** Start to registered: another node (the client's) sees the service in its registry. */
export async function waitForService(env: ScenarioEnv, signal: AbortSignal): Promise<void> {
  const watcher = broker(env, 'client');
  await watcher.start();
  try {
    await Promise.race([watcher.waitForServices(serviceName(env), 30_000, 2), new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('stopped'))))]);
  } finally {
    await watcher.stop();
  }
}
