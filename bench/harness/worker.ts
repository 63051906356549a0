/**
 * One side of a scenario in its own OS process: `node worker.js '<WorkerSpec JSON>'`. The adapter is imported by
 * a computed path, so this file (and the smoke test that reaches it) never loads a peer framework by itself.
 */
import type { Adapter, BenchClient, BenchServer, OrchestratorMessage, WorkerMessage, WorkerSpec } from './protocol.js';
import { measureCalls, publishEvents, type EventFlow } from './load.js';

const send = (message: WorkerMessage): void => {
  process.send?.(message);
};

async function loadAdapter(path: string): Promise<Adapter> {
  const url = new URL(`../${path}`, import.meta.url).href;
  return (await import(url)) as Adapter;
}

/** Idle memory, measured the same way for every framework: settle, collect twice, read the resident set. */
async function idleRss(): Promise<number | undefined> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return undefined;
  await new Promise((resolve) => setTimeout(resolve, 500));
  gc();
  await new Promise((resolve) => setImmediate(resolve));
  gc();
  return process.memoryUsage().rss;
}

/** What the subscriber has received, when, and the CPU time this process has used so far. */
function sample(server: BenchServer): WorkerMessage {
  const cpu = process.cpuUsage();
  return { type: 'received', count: server.eventsReceived(), atMs: performance.now(), cpuMicros: cpu.user + cpu.system };
}

function onMessage(handler: (message: OrchestratorMessage) => void): void {
  process.on('message', (message) => handler(message as OrchestratorMessage));
}

async function runServer(adapter: Adapter, spec: WorkerSpec): Promise<void> {
  const server = await adapter.startServer(spec.env);
  let reporter: NodeJS.Timeout | undefined;
  onMessage((message) => {
    if (message.type === 'report-events') {
      clearInterval(reporter);
      reporter = setInterval(() => send(sample(server)), message.everyMs);
    } else if (message.type === 'sample') {
      send(sample(server));
    } else if (message.type === 'stop') {
      clearInterval(reporter);
      void server.close().finally(() => process.exit(0));
      setTimeout(() => process.exit(0), 3000).unref();
    }
  });
  send({ type: 'ready', rssBytes: await idleRss() });
}

/** Credit for the publisher: relayed from the subscriber process by the orchestrator, or read in-process. */
function eventFlow(local: BenchServer | undefined): EventFlow {
  let received = 0;
  let waiters: (() => void)[] = [];
  if (!local) {
    onMessage((message) => {
      if (message.type !== 'credit') return;
      received = message.received;
      for (const wake of waiters.splice(0)) wake();
    });
  }
  return {
    received: () => (local ? local.eventsReceived() : received),
    changed: () =>
      new Promise<void>((resolve) => {
        if (local) return void setImmediate(resolve);
        waiters.push(resolve);
        // Never wait on a credit that may not come (the subscriber stalled): look again shortly.
        setTimeout(resolve, 10).unref();
      }),
    phase: (phase, sent) => {
      if (local) send(sample(local));
      send({ type: 'events-phase', phase, sent });
    },
  };
}

async function runClient(adapter: Adapter, spec: WorkerSpec): Promise<void> {
  // The in-memory rows measure the framework alone: server and client share this process.
  const local = spec.env.variant === 'memory' ? await adapter.startServer(spec.env) : undefined;
  const client: BenchClient = await adapter.startClient(spec.env);
  send({ type: 'ready' });
  const load = spec.load!;
  const result = await measureCalls(client, load, (phase) => send({ type: 'calls-phase', phase }));
  send({ type: 'calls', result });
  if (load.eventDurationMs > 0) await publishEvents(client, load, eventFlow(local));
  await Promise.race([Promise.all([client.close(), local?.close()]), new Promise((resolve) => setTimeout(resolve, 3000))]);
}

async function runWatcher(adapter: Adapter, spec: WorkerSpec): Promise<void> {
  if (!adapter.waitForService) throw new Error(`${spec.adapter} has no registry to watch`);
  const aborted = new AbortController();
  onMessage((message) => message.type === 'stop' && aborted.abort());
  const seen = adapter.waitForService(spec.env, aborted.signal);
  send({ type: 'ready' });
  await seen;
  send({ type: 'seen' });
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? '{}') as WorkerSpec;
  try {
    const adapter = await loadAdapter(spec.adapter);
    if (spec.role === 'server') return await runServer(adapter, spec);
    if (spec.role === 'client') await runClient(adapter, spec);
    else await runWatcher(adapter, spec);
    process.exit(0);
  } catch (error) {
    send({ type: 'failed', error: (error as Error)?.stack ?? String(error) });
    setTimeout(() => process.exit(1), 100);
  }
}

void main();
