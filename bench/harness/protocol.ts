/**
 * What the orchestrator and its worker processes say to each other, and what an adapter (one framework on one
 * transport) must provide. This file imports nothing, so both the tsmicro-only harness and the peer adapters
 * compiled against bench/node_modules can use it.
 */

/** The transport row of the results table. */
export type Variant = 'tcp' | 'nats' | 'redis' | 'memory';

export interface Payload {
  name: string;
  n: number;
}

/** Everything a worker needs to start its side of a scenario; chosen by the orchestrator, the same for all frameworks. */
export interface ScenarioEnv {
  variant: Variant;
  /** Request validation on (a class-validator DTO, or the framework's own validator). */
  validate: boolean;
  /** Unique per trial: service names, namespaces and channel prefixes, so trials never see each other. */
  namespace: string;
  /** A free TCP port for the server, and one for the client where a framework needs one (Moleculer TCP). */
  serverPort: number;
  clientPort: number;
  /** The file registry's directory for tsmicro on TCP. */
  registryDir: string;
  natsUrl: string;
  redisUrl: string;
}

export interface BenchServer {
  /** Events the subscriber has received so far. */
  eventsReceived(): number;
  close(): Promise<void>;
}

export interface BenchClient {
  call(request: Payload): Promise<unknown>;
  /** Resolves when the framework has taken the event (sent, or accepted by the subscriber: whatever its API says). */
  emit(event: Payload): Promise<unknown>;
  close(): Promise<void>;
}

/** One framework: a module under bench/adapters or bench/peers exporting these. */
export interface Adapter {
  startServer(env: ScenarioEnv): Promise<BenchServer>;
  startClient(env: ScenarioEnv): Promise<BenchClient>;
  /** Resolves once a service named for `env` is visible in the framework's registry; absent when it has none. */
  waitForService?(env: ScenarioEnv, signal: AbortSignal): Promise<void>;
}

export type Role = 'server' | 'client' | 'watcher';

export interface WorkerSpec {
  /** Module path relative to the compiled bench/ directory, e.g. `adapters/tsmicro.js`. */
  adapter: string;
  role: Role;
  env: ScenarioEnv;
  /** Client only: how long to measure, and how many requests to keep in flight. */
  load?: LoadSettings;
}

export interface LoadSettings {
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  /** Stop after this many measured calls even before `durationMs` (the smoke test uses it). */
  maxCalls?: number;
  /** Publishes in flight: frameworks whose publish waits for the subscriber's acceptance need more than 64. */
  eventConcurrency: number;
  eventWarmupMs: number;
  eventDurationMs: number;
  /** Most events the publisher may be ahead of the subscriber, so no framework can queue without bound. */
  eventWindow: number;
}

export interface CallResult {
  calls: number;
  errors: number;
  firstError?: string;
  elapsedMs: number;
  p50Ms: number;
  p99Ms: number;
  /** The client process's CPU time (user + system) per measured call. */
  clientCpuMicros: number;
}

/** Worker → orchestrator. */
export type WorkerMessage =
  | { type: 'ready'; rssBytes?: number }
  | { type: 'received'; count: number; atMs: number; cpuMicros: number }
  | { type: 'calls-phase'; phase: 'measuring' | 'done' }
  | { type: 'calls'; result: CallResult }
  | { type: 'events-phase'; phase: 'measuring' | 'done'; sent: number }
  | { type: 'seen' }
  | { type: 'failed'; error: string };

/** Orchestrator → worker. */
export type OrchestratorMessage = { type: 'credit'; received: number } | { type: 'report-events'; everyMs: number } | { type: 'sample' } | { type: 'stop' };
