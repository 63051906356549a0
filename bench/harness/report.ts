import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MachineDescription } from './machine.js';
import type { LoadSettings } from './protocol.js';
import type { BenchResults, ScenarioSummary } from './run.js';

const ratio = (value: number, reference: number | undefined): number => (reference && Number.isFinite(reference) && Number.isFinite(value) ? value / reference : Number.NaN);
const fixed = (value: number, digits = 0): string => (Number.isFinite(value) ? value.toFixed(digits) : '—');
const times = (value: number): string => (Number.isFinite(value) ? `${value.toFixed(2)}×` : '—');
const percent = (value: number): string => (Number.isFinite(value) ? `${Math.round(value * 100)} %` : '—');

function find(results: BenchResults, row: string, framework: string): ScenarioSummary | undefined {
  return results.summaries.find((summary) => summary.scenario.row === row && summary.scenario.framework === framework && summary.rounds.length > 0);
}

/** The results table, one line per framework and row, with ratios to Moleculer and to the raw client of the row. */
export function resultsTable(results: BenchResults): string {
  const lines = [
    '| row | framework | req/s | p50 ms | p99 ms | events/s | idle RSS MiB | req/s ÷ Moleculer | req/s ÷ raw | p99 ÷ Moleculer | events/s ÷ Moleculer | CPU µs/call client + server | spread req/s, events/s | host steal |',
    '|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
  ];
  for (const summary of results.summaries) {
    const { row, framework } = summary.scenario;
    const moleculer = framework === 'moleculer' ? undefined : find(results, row, 'moleculer');
    const raw = framework === 'raw' ? undefined : find(results, row, 'raw');
    if (summary.rounds.length === 0) {
      lines.push(`| ${row} | ${framework} | failed: ${summary.failures[0] ?? 'no rounds'} |||||||||||`);
      continue;
    }
    lines.push(
      `| ${row} | ${framework} | ${fixed(summary.requestsPerSecond)} | ${fixed(summary.p50Ms, 2)} | ${fixed(summary.p99Ms, 2)} | ${fixed(summary.eventsPerSecond)} | ${fixed(summary.rssMiB, 1)} | ` +
        `${times(ratio(summary.requestsPerSecond, moleculer?.requestsPerSecond))} | ${percent(ratio(summary.requestsPerSecond, raw?.requestsPerSecond))} | ` +
        `${times(ratio(summary.p99Ms, moleculer?.p99Ms))} | ${times(ratio(summary.eventsPerSecond, moleculer?.eventsPerSecond))} | ` +
        `${fixed(summary.clientCpuMicros, 1)} + ${fixed(summary.serverCpuMicros, 1)} | ` +
        `${percent(summary.spread.requestsPerSecond)}, ${percent(summary.spread.eventsPerSecond)} | ${percent(summary.stealPercent / 100)} |`,
    );
  }
  return lines.join('\n');
}

export function startupTable(results: BenchResults): string {
  const lines = ['| framework (defaults) | start → registered, median ms | samples ms |', '|---|--:|---|'];
  for (const summary of results.startup) {
    lines.push(`| ${summary.scenario.framework} | ${fixed(summary.medianMs)} | ${summary.samplesMs.map((sample) => sample.toFixed(0)).join(', ')}${summary.failures.length ? ` (${summary.failures.length} failed)` : ''} |`);
  }
  return lines.join('\n');
}

export interface TargetCheck {
  target: string;
  measured: string;
  met: boolean | undefined;
}

/** The issue's targets, judged only from ratios measured in this run. */
export function checkTargets(results: BenchResults): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const judge = (target: string, value: number, pass: (value: number) => boolean, shown: string): void => {
    checks.push({ target, measured: Number.isFinite(value) ? shown : 'not measured', met: Number.isFinite(value) ? pass(value) : undefined });
  };
  for (const row of ['tcp', 'nats', 'redis']) {
    const ours = find(results, row, 'tsmicro');
    const moleculer = find(results, row, 'moleculer');
    const raw = find(results, row, 'raw');
    if (!ours) continue;
    const rps = ratio(ours.requestsPerSecond, moleculer?.requestsPerSecond);
    judge(`${row}: req/s ≥ 1.3× Moleculer`, rps, (value) => value >= 1.3, times(rps));
    const ofRaw = ratio(ours.requestsPerSecond, raw?.requestsPerSecond);
    judge(`${row}: req/s ≥ 75 % of raw`, ofRaw, (value) => value >= 0.75, percent(ofRaw));
    const p99 = ratio(ours.p99Ms, moleculer?.p99Ms);
    judge(`${row}: p99 ≤ Moleculer's`, p99, (value) => value <= 1, `${fixed(ours.p99Ms, 2)} vs ${fixed(moleculer?.p99Ms ?? Number.NaN, 2)} ms`);
    const events = ratio(ours.eventsPerSecond, moleculer?.eventsPerSecond);
    judge(`${row}: events/s ≥ 1.3× Moleculer`, events, (value) => value >= 1.3, times(events));
    const memory = ratio(ours.rssMiB, moleculer?.rssMiB);
    judge(`${row}: idle RSS ≤ Moleculer's`, memory, (value) => value <= 1, `${fixed(ours.rssMiB, 1)} vs ${fixed(moleculer?.rssMiB ?? Number.NaN, 1)} MiB`);
  }
  const startup = results.startup.find((summary) => summary.scenario.framework === 'tsmicro');
  if (startup) judge('start → registered ≤ 300 ms (defaults)', startup.medianMs, (value) => value <= 300, `${fixed(startup.medianMs)} ms`);
  return checks;
}

export function targetsTable(checks: TargetCheck[]): string {
  return ['| target | measured | met |', '|---|---|---|', ...checks.map((check) => `| ${check.target} | ${check.measured} | ${check.met === undefined ? '—' : check.met ? 'yes' : 'no'} |`)].join('\n');
}

export function markdownReport(results: BenchResults, machine: MachineDescription, load: LoadSettings, rounds: number): string {
  return [
    `# tsmicro benchmark, ${results.startedAt}`,
    '',
    `Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, ${machine.os}; Node ${machine.node}; ${machine.natsServer}; ${machine.redisServer}.`,
    `Method: ${rounds} rounds, scenarios rotated each round; per trial ${load.warmupMs} ms warm-up + ${load.durationMs} ms of calls with ${load.concurrency} in flight, then ${load.eventWarmupMs} + ${load.eventDurationMs} ms of events (${load.eventConcurrency} publishes in flight, at most ${load.eventWindow} ahead of the subscriber). Medians across rounds; spread = (max − min) / median; host steal = median share of the machine's CPU time the hypervisor gave to other guests during a row's trials (a trial with much of it ran on a slower machine; ${results.repeatedForSteal} trial${results.repeatedForSteal === 1 ? ' was' : 's were'} run again for steal over the limit). Run took ${Math.round(results.durationMs / 1000)} s.`,
    '',
    resultsTable(results),
    '',
    startupTable(results),
    '',
    targetsTable(checkTargets(results)),
    '',
  ].join('\n');
}

/** Writes `<dir>/<timestamp>.json` and `.md`; returns the two paths. */
export function writeResults(directory: string, results: BenchResults, machine: MachineDescription, load: LoadSettings, rounds: number): string[] {
  mkdirSync(directory, { recursive: true });
  const stamp = results.startedAt.replace(/[:.]/g, '-');
  const json = join(directory, `${stamp}.json`);
  const md = join(directory, `${stamp}.md`);
  writeFileSync(json, `${JSON.stringify({ machine, load, rounds, ...results, targets: checkTargets(results) }, null, 2)}\n`);
  writeFileSync(md, markdownReport(results, machine, load, rounds));
  return [json, md];
}
