import type { BenchClient, CallResult, LoadSettings, Payload } from './protocol.js';
import { LatencyRecorder, percentile } from './stats.js';

const now = (): number => performance.now();
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A closed loop with a fixed number of requests in flight: each of `concurrency` loops sends a call, waits for
 * its reply and sends the next. Every call is timed on its own (so latency includes any queueing in the framework),
 * but only calls that complete inside the measured window count; the warm-up runs the same loops beforehand so
 * the JIT, the connections and the registry caches are warm.
 */
export async function measureCalls(client: BenchClient, settings: LoadSettings, onPhase: (phase: 'measuring' | 'done') => void = () => undefined): Promise<CallResult> {
  const latencies = new LatencyRecorder();
  // Phases follow the clock, read after every call, not timers: an in-process framework may resolve calls in
  // microtasks only, and a timer would then never get its turn.
  const begun = now();
  const warmEnd = begun + settings.warmupMs;
  const deadline = warmEnd + settings.durationMs;
  let measuring = false;
  let stopped = false;
  let errors = 0;
  let firstError: string | undefined;
  let started = warmEnd;
  let ended = deadline;
  let cpuAtStart = process.cpuUsage();
  let cpu = { user: 0, system: 0 };
  const tick = (at: number): void => {
    if (!measuring && !stopped && at >= warmEnd) {
      measuring = true;
      started = at;
      cpuAtStart = process.cpuUsage();
      onPhase('measuring');
    }
    if (!stopped && (at >= deadline || (settings.maxCalls !== undefined && latencies.count >= settings.maxCalls))) {
      stopped = true;
      measuring = false;
      ended = at;
      cpu = process.cpuUsage(cpuAtStart);
      onPhase('done');
    }
  };
  const loop = async (worker: number): Promise<void> => {
    let sequence = 0;
    while (!stopped) {
      const request: Payload = { name: `client-${worker}`, n: sequence++ };
      const sent = now();
      try {
        await client.call(request);
        const done = now();
        if (measuring) latencies.record(done - sent);
        tick(done);
      } catch (error) {
        if (measuring) errors++;
        firstError ??= (error as Error)?.message ?? String(error);
        // A failing framework must not spin the CPU the other processes need.
        await sleep(1);
        tick(now());
      }
    }
  };
  await Promise.all(Array.from({ length: settings.concurrency }, (_, worker) => loop(worker)));
  const sorted = latencies.sorted();
  return { calls: sorted.length, errors, firstError, elapsedMs: ended - started, p50Ms: percentile(sorted, 0.5), p99Ms: percentile(sorted, 0.99), clientCpuMicros: sorted.length > 0 ? (cpu.user + cpu.system) / sorted.length : Number.NaN };
}

export interface EventFlow {
  /** Events the subscriber has confirmed receiving: the publisher stays at most `eventWindow` ahead of it. */
  received(): number;
  /** Resolves when `received()` may have grown. */
  changed(): Promise<void>;
  phase(phase: 'measuring' | 'done', sent: number): void;
}

/**
 * Publishes as fast as the framework takes events, `eventConcurrency` at a time, never more than `eventWindow` ahead
 * of what the subscriber has received (fire-and-forget transports would otherwise queue without bound and the
 * rate would be the publisher's, not the delivery's). The rate itself is counted at the subscriber.
 */
export async function publishEvents(client: BenchClient, settings: LoadSettings, flow: EventFlow): Promise<number> {
  const warmEnd = now() + settings.eventWarmupMs;
  const deadline = warmEnd + settings.eventDurationMs;
  let sent = 0;
  let phase: 'warmup' | 'measuring' | 'done' = 'warmup';
  let failures = 0;
  const tick = (): void => {
    const at = now();
    if (phase === 'warmup' && at >= warmEnd) {
      phase = 'measuring';
      flow.phase('measuring', sent);
    }
    if (phase === 'measuring' && at >= deadline) {
      phase = 'done';
      flow.phase('done', sent);
    }
  };
  const loop = async (): Promise<void> => {
    while (phase !== 'done') {
      if (sent - flow.received() >= settings.eventWindow) {
        await flow.changed();
        tick();
        continue;
      }
      sent++;
      try {
        await client.emit({ name: 'event', n: sent });
      } catch {
        failures++;
        await sleep(1);
      }
      tick();
    }
  };
  await Promise.all(Array.from({ length: settings.eventConcurrency }, () => loop()));
  return failures;
}
