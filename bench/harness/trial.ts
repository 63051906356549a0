import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { CallResult, LoadSettings, ScenarioEnv, WorkerMessage } from './protocol.js';
import type { Scenario } from './scenarios.js';
import { cpuCounters, stealPercent } from './hostSteal.js';
import { Worker } from './processes.js';

export interface Servers {
  natsUrl: string;
  redisUrl: string;
}

export interface TrialResult {
  calls: CallResult;
  /** The server process's CPU time per measured call (undefined for the in-process rows). */
  serverCpuMicros?: number;
  requestsPerSecond: number;
  eventsPerSecond: number;
  /** Idle server RSS after GC; undefined for the in-process rows. */
  rssBytes?: number;
  /** Share of the machine's CPU time the hypervisor gave to other guests during calls and events (hostSteal.ts). */
  stealPercent?: number;
}

/** A port nobody uses right now (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export async function trialEnv(scenario: Scenario, servers: Servers): Promise<ScenarioEnv & { cleanup(): void }> {
  const registryDir = mkdtempSync(join(tmpdir(), 'tsmicro-bench-'));
  return {
    variant: scenario.variant,
    validate: scenario.validate,
    namespace: randomBytes(4).toString('hex'),
    serverPort: await freePort(),
    clientPort: await freePort(),
    registryDir,
    ...servers,
    cleanup: () => rmSync(registryDir, { recursive: true, force: true }),
  };
}

interface Boundary {
  count: number;
  atMs: number;
  cpuMicros: number;
}

/**
 * One measurement of one scenario: a server process (unless in-process), then a client process that runs the
 * calls and then publishes events. The subscriber's count is relayed to the publisher as credit, and sampled at
 * the start and end of the measured window: events per second are counted where they arrive.
 */
export async function runTrial(scenario: Scenario, servers: Servers, load: LoadSettings): Promise<TrialResult> {
  const { cleanup, ...env } = await trialEnv(scenario, servers);
  const local = env.variant === 'memory';
  let server: Worker | undefined;
  let client: Worker | undefined;
  try {
    let rssBytes: number | undefined;
    if (!local) {
      server = new Worker({ adapter: scenario.adapter, role: 'server', env });
      rssBytes = (await server.next('ready', 30_000)).rssBytes;
    }
    client = new Worker({ adapter: scenario.adapter, role: 'client', env, load });
    const boundaries: Partial<Record<'measuring' | 'done' | 'calls-measuring' | 'calls-done', Boundary>> = {};
    let lastLocal: Boundary | undefined;
    let waitingFor: keyof typeof boundaries | undefined;
    server?.on((message: WorkerMessage) => {
      if (message.type !== 'received') return;
      client!.send({ type: 'credit', received: message.count });
      if (waitingFor) boundaries[waitingFor] = message;
      waitingFor = undefined;
    });
    client.on((message: WorkerMessage) => {
      if (message.type === 'calls-phase' && server) {
        waitingFor = `calls-${message.phase}`;
        server.send({ type: 'sample' });
      }
      if (message.type === 'calls') server?.send({ type: 'report-events', everyMs: 5 });
      if (message.type === 'received') lastLocal = message;
      if (message.type === 'events-phase') {
        if (local) boundaries[message.phase] = lastLocal;
        else waitingFor = message.phase;
      }
    });
    const budget = load.warmupMs + load.durationMs + load.eventWarmupMs + load.eventDurationMs + 60_000;
    const before = cpuCounters();
    const calls = (await client.next('calls', budget)).result;
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([client.exited(), new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), budget)))]);
    clearTimeout(timer);
    // Over the calls and the events both: either slowed by the host makes the trial unlike its neighbours.
    const steal = stealPercent(before, cpuCounters());
    if (code !== 0) throw new Error(`client of ${scenario.id} ended with ${code}\n${client.stderr}`);
    // The last report may still be on its way after the client has gone.
    if (!local && waitingFor) await new Promise((resolve) => setTimeout(resolve, 50));
    const start = boundaries.measuring;
    const end = boundaries.done;
    const eventsPerSecond = start && end && end.atMs > start.atMs ? ((end.count - start.count) * 1000) / (end.atMs - start.atMs) : Number.NaN;
    const requestsPerSecond = calls.elapsedMs > 0 ? (calls.calls * 1000) / calls.elapsedMs : Number.NaN;
    const [callsStart, callsEnd] = [boundaries['calls-measuring'], boundaries['calls-done']];
    const serverCpuMicros = callsStart && callsEnd && calls.calls > 0 ? (callsEnd.cpuMicros - callsStart.cpuMicros) / calls.calls : undefined;
    return { calls, serverCpuMicros, requestsPerSecond, eventsPerSecond, rssBytes, stealPercent: steal };
  } finally {
    await Promise.all([client?.stop(), server?.stop()]);
    cleanup();
  }
}

/**
 * Start to registered, from outside: a watcher process of the framework is already looking at its registry
 * when the server process is spawned; the time runs from spawn to the watcher reporting the service.
 */
export async function runStartup(scenario: Scenario, servers: Servers): Promise<number> {
  const { cleanup, ...env } = await trialEnv(scenario, servers);
  const watcher = new Worker({ adapter: scenario.adapter, role: 'watcher', env });
  let server: Worker | undefined;
  try {
    await watcher.next('ready', 30_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const seen = watcher.next('seen', 30_000);
    const spawned = performance.now();
    server = new Worker({ adapter: scenario.adapter, role: 'server', env });
    await seen;
    return performance.now() - spawned;
  } finally {
    await Promise.all([watcher.stop(), server?.stop()]);
    cleanup();
  }
}
