import { App, FileRegistry, memoryModule, MemoryWorld, type ConfigInput } from '../../src/index.js';
import type { BenchClient, BenchServer, Payload, ScenarioEnv } from '../harness/protocol.js';
import { benchServiceClass, received } from './tsmicroServices.js';

/** In-memory variant: server and client in one process share this world. */
const world = new MemoryWorld();

export function serviceName(env: ScenarioEnv): string {
  return `bench-${env.namespace}`;
}

function topic(env: ScenarioEnv): string {
  return `bench.event.${env.namespace}`;
}

/**
 * The plugins of each row, on their defaults except for addresses. TCP is the zero-dependency default (file
 * registry, TCP transport, direct broker); NATS and Redis use the registry, broker and transport plugins of
 * that server, as Moleculer's and NestJS's transporters use one server for everything.
 */
function configFor(env: ScenarioEnv): ConfigInput {
  const base = { service: { name: serviceName(env) }, logger: { level: 'warn' as const } };
  switch (env.variant) {
    case 'tcp':
      return { ...base, registry: { plugin: 'file', address: env.registryDir } };
    case 'nats':
      return { ...base, registry: { plugin: 'nats', address: env.natsUrl }, broker: { plugin: 'nats', address: env.natsUrl }, transport: { plugin: 'nats', address: env.natsUrl } };
    case 'redis':
      return { ...base, registry: { plugin: 'redis', address: env.redisUrl }, broker: { plugin: 'redis', address: env.redisUrl }, transport: { plugin: 'redis', address: env.redisUrl } };
    case 'memory':
      return { ...base, registry: 'memory', broker: 'memory', transport: 'memory' };
  }
}

async function app(env: ScenarioEnv, withService: boolean): Promise<App> {
  const created = await App.create({
    services: withService ? [benchServiceClass(topic(env), env.validate ? (await import('./tsmicroDto.js')).HelloRequest : undefined)] : [],
    modules: env.variant === 'memory' ? [memoryModule(world)] : [],
    config: configFor(env),
    // The worker's own argv carries the scenario, not tsmicro flags.
    sources: { env: {}, argv: [] },
  });
  await created.start();
  return created;
}

export async function startServer(env: ScenarioEnv): Promise<BenchServer> {
  const server = await app(env, true);
  return { eventsReceived: () => received.events, close: () => server.stop() };
}

export async function startClient(env: ScenarioEnv): Promise<BenchClient> {
  const client = await app(env, false);
  const name = serviceName(env);
  const eventTopic = topic(env);
  return {
    call: (request: Payload) => client.client.call(name, 'BenchService.hello', request),
    emit: (event: Payload) => client.client.publish(eventTopic, event),
    close: () => client.stop(),
  };
}

/** Start to registered: the node appears in the file registry the defaults use (polled, as any reader would). */
export async function waitForService(env: ScenarioEnv, signal: AbortSignal): Promise<void> {
  const registry = new FileRegistry({ directory: env.registryDir, pollIntervalMs: 500 });
  try {
    while (!signal.aborted) {
      const found = await registry.getService(serviceName(env));
      if (found.some((service) => service.nodes.length > 0)) return;
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  } finally {
    await registry.close();
  }
}
