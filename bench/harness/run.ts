import type { LoadSettings } from './protocol.js';
import type { Scenario } from './scenarios.js';
import { median, spread } from './stats.js';
import { runStartup, runTrial, type Servers, type TrialResult } from './trial.js';

export interface BenchOptions {
  scenarios: readonly Scenario[];
  startupScenarios: readonly Scenario[];
  rounds: number;
  startupRounds: number;
  load: LoadSettings;
  servers: Servers;
  /**
   * A trial during which the hypervisor stole more than this share of the machine's CPU (percent) ran on a
   * slower machine than its neighbours: it is run again, at most `stealRetries` times, and the last run kept.
   */
  maxStealPercent?: number;
  stealRetries?: number;
  log?: (line: string) => void;
}

export interface ScenarioSummary {
  scenario: Scenario;
  rounds: TrialResult[];
  failures: string[];
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  eventsPerSecond: number;
  rssMiB: number;
  /** CPU time per call of the client and server processes: less sensitive to a busy machine than throughput. */
  clientCpuMicros: number;
  serverCpuMicros: number;
  /** Median share of CPU time stolen by the hypervisor during the trials (NaN where it cannot be read). */
  stealPercent: number;
  /** (max − min) / median across rounds. */
  spread: { requestsPerSecond: number; eventsPerSecond: number; p99Ms: number };
}

export interface StartupSummary {
  scenario: Scenario;
  samplesMs: number[];
  medianMs: number;
  failures: string[];
}

export interface BenchResults {
  summaries: ScenarioSummary[];
  startup: StartupSummary[];
  startedAt: string;
  durationMs: number;
  /** Trials run again because of the hypervisor's steal (see BenchOptions.maxStealPercent). */
  repeatedForSteal: number;
}

/**
 * Round r runs the scenarios starting at position r (a rotation), so no framework always runs first, last, or
 * right after the same neighbour while the shared machine's load drifts. Medians are taken across rounds.
 */
export function roundOrder<T>(items: readonly T[], round: number): T[] {
  if (items.length === 0) return [];
  const shift = round % items.length;
  return [...items.slice(shift), ...items.slice(0, shift)];
}

function summarise(scenario: Scenario, rounds: TrialResult[], failures: string[]): ScenarioSummary {
  const pick = (read: (trial: TrialResult) => number | undefined) => rounds.map(read).filter((value): value is number => value !== undefined);
  const rps = pick((trial) => trial.requestsPerSecond);
  const eps = pick((trial) => trial.eventsPerSecond);
  const p99 = pick((trial) => trial.calls.p99Ms);
  return {
    scenario,
    rounds,
    failures,
    requestsPerSecond: median(rps),
    p50Ms: median(pick((trial) => trial.calls.p50Ms)),
    p99Ms: median(p99),
    eventsPerSecond: median(eps),
    rssMiB: median(pick((trial) => (trial.rssBytes === undefined ? undefined : trial.rssBytes / 1024 / 1024))),
    clientCpuMicros: median(pick((trial) => trial.calls.clientCpuMicros)),
    serverCpuMicros: median(pick((trial) => trial.serverCpuMicros)),
    stealPercent: median(pick((trial) => trial.stealPercent)),
    spread: { requestsPerSecond: spread(rps), eventsPerSecond: spread(eps), p99Ms: spread(p99) },
  };
}

export async function runBenchmark(options: BenchOptions): Promise<BenchResults> {
  const log = options.log ?? (() => undefined);
  const started = Date.now();
  const trials = new Map<string, TrialResult[]>(options.scenarios.map((scenario) => [scenario.id, []]));
  const failures = new Map<string, string[]>(options.scenarios.map((scenario) => [scenario.id, []]));
  const maxSteal = options.maxStealPercent ?? Infinity;
  const stealRetries = options.stealRetries ?? 0;
  let repeatedForSteal = 0;
  for (let round = 0; round < options.rounds; round++) {
    for (const scenario of roundOrder(options.scenarios, round)) {
      try {
        let result = await runTrial(scenario, options.servers, options.load);
        for (let retry = 0; retry < stealRetries && (result.stealPercent ?? 0) > maxSteal; retry++) {
          repeatedForSteal++;
          log(`round ${round + 1}/${options.rounds} ${scenario.id.padEnd(28)} ${Math.round(result.requestsPerSecond)} req/s with ${result.stealPercent!.toFixed(0)} % steal (over ${maxSteal} %): run again`);
          result = await runTrial(scenario, options.servers, options.load);
        }
        trials.get(scenario.id)!.push(result);
        const events = Number.isFinite(result.eventsPerSecond) ? `${Math.round(result.eventsPerSecond)} ev/s` : 'no events';
        log(`round ${round + 1}/${options.rounds} ${scenario.id.padEnd(28)} ${Math.round(result.requestsPerSecond)} req/s  p50 ${result.calls.p50Ms.toFixed(2)} ms  p99 ${result.calls.p99Ms.toFixed(2)} ms  ${events}  cpu/call ${result.calls.clientCpuMicros.toFixed(1)}+${result.serverCpuMicros?.toFixed(1) ?? '-'} µs${result.stealPercent === undefined ? '' : `  steal ${result.stealPercent.toFixed(0)} %`}${result.calls.errors ? `  ${result.calls.errors} errors: ${result.calls.firstError}` : ''}`);
      } catch (error) {
        failures.get(scenario.id)!.push((error as Error).message.split('\n')[0]!);
        log(`round ${round + 1}/${options.rounds} ${scenario.id.padEnd(28)} FAILED: ${(error as Error).message}`);
      }
    }
  }
  const startup: StartupSummary[] = [];
  for (const scenario of options.startupScenarios) startup.push({ scenario, samplesMs: [], medianMs: Number.NaN, failures: [] });
  for (let round = 0; round < options.startupRounds; round++) {
    for (const summary of roundOrder(startup, round)) {
      try {
        const ms = await runStartup(summary.scenario, options.servers);
        summary.samplesMs.push(ms);
        log(`startup ${round + 1}/${options.startupRounds} ${summary.scenario.framework.padEnd(10)} ${ms.toFixed(0)} ms`);
      } catch (error) {
        summary.failures.push((error as Error).message.split('\n')[0]!);
        log(`startup ${summary.scenario.framework} FAILED: ${(error as Error).message}`);
      }
    }
  }
  for (const summary of startup) summary.medianMs = median(summary.samplesMs);
  return {
    summaries: options.scenarios.map((scenario) => summarise(scenario, trials.get(scenario.id)!, failures.get(scenario.id)!)),
    startup,
    startedAt: new Date(started).toISOString(),
    durationMs: Date.now() - started,
    repeatedForSteal,
  };
}
