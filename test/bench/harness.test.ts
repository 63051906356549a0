import { spawnSync } from 'node:child_process';
import { expect, it } from '@jest/globals';
import { SCENARIOS, selectScenarios, STARTUP_SCENARIOS } from '../../bench/harness/scenarios.js';
import { runBenchmark } from '../../bench/harness/run.js';
import { checkTargets, resultsTable, startupTable } from '../../bench/harness/report.js';
import { roundOrder } from '../../bench/harness/run.js';
import { median, percentile, spread } from '../../bench/harness/stats.js';
import { stealPercent } from '../../bench/harness/hostSteal.js';

/**
 * A smoke run of the benchmark harness, so it cannot rot: a few hundred calls and a burst of events through
 * tsmicro's own scenarios and the raw socket (separate processes, as in `npm run bench`), never the peer
 * frameworks, which are installed only in bench/. Measuring is `npm run bench`'s job, not this test's.
 */
it('runs tsmicro and raw scenarios in separate processes and reports them', async () => {
  const scenarios = selectScenarios(SCENARIOS, ['tsmicro/tcp', 'raw/tcp', 'tsmicro/memory', 'tsmicro/tcp+validation'], false);
  expect(scenarios.map((scenario) => scenario.id)).toEqual(['tsmicro/tcp', 'raw/tcp', 'tsmicro/memory', 'tsmicro/tcp+validation']);
  const results = await runBenchmark({
    scenarios,
    startupScenarios: selectScenarios(STARTUP_SCENARIOS, undefined, false),
    rounds: 1,
    startupRounds: 1,
    load: { concurrency: 64, warmupMs: 200, durationMs: 5000, maxCalls: 300, eventConcurrency: 64, eventWarmupMs: 100, eventDurationMs: 300, eventWindow: 512 },
    servers: { natsUrl: 'nats://127.0.0.1:4222', redisUrl: 'redis://127.0.0.1:6379' },
  });
  for (const summary of results.summaries) {
    expect(summary.failures).toEqual([]);
    expect(summary.rounds[0]!.calls.calls).toBeGreaterThanOrEqual(300);
    expect(summary.rounds[0]!.calls.errors).toBe(0);
    expect(summary.requestsPerSecond).toBeGreaterThan(0);
    expect(summary.p99Ms).toBeGreaterThanOrEqual(summary.p50Ms);
    expect(summary.eventsPerSecond).toBeGreaterThan(0);
  }
  expect(results.summaries.find((summary) => summary.scenario.id === 'tsmicro/tcp')!.rssMiB).toBeGreaterThan(10);
  expect(results.startup[0]!.samplesMs).toHaveLength(1);
  // Linux (where this runs) reports the hypervisor's steal; the table shows it per row.
  expect(results.summaries[0]!.stealPercent).toBeGreaterThanOrEqual(0);
  expect(resultsTable(results)).toMatch(/\| tcp \| tsmicro \| \d+ \|/);
  expect(startupTable(results)).toMatch(/\| tsmicro \| \d+ \|/);
  expect(checkTargets(results).map((check) => check.target)).toContain('tcp: req/s ≥ 75 % of raw');
}, 120_000);

it('rotates the order of scenarios each round and summarises with medians', () => {
  expect(roundOrder(['a', 'b', 'c'], 0)).toEqual(['a', 'b', 'c']);
  expect(roundOrder(['a', 'b', 'c'], 1)).toEqual(['b', 'c', 'a']);
  expect(median([3, 1, 2, Number.NaN])).toBe(2);
  expect(median([4, 1, 2, 3])).toBe(2.5);
  expect(spread([90, 100, 110])).toBeCloseTo(0.2);
  expect(percentile(Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]), 0.99)).toBe(10);
  expect(percentile(Float64Array.from([1, 2, 3, 4]), 0.5)).toBe(2);
});

it('reads steal as a share of the machine\'s CPU time between two readings', () => {
  expect(stealPercent({ steal: 10, total: 1000 }, { steal: 30, total: 1200 })).toBe(10);
  expect(stealPercent(undefined, { steal: 1, total: 2 })).toBeUndefined();
  expect(stealPercent({ steal: 1, total: 5 }, { steal: 1, total: 5 })).toBeUndefined();
});

it('runs a trial again when the hypervisor stole more than the limit, and keeps one result per round', async () => {
  const results = await runBenchmark({
    scenarios: selectScenarios(SCENARIOS, ['raw/tcp'], false),
    startupScenarios: [],
    rounds: 1,
    startupRounds: 0,
    load: { concurrency: 8, warmupMs: 50, durationMs: 2000, maxCalls: 100, eventConcurrency: 8, eventWarmupMs: 0, eventDurationMs: 0, eventWindow: 64 },
    servers: { natsUrl: 'nats://127.0.0.1:4222', redisUrl: 'redis://127.0.0.1:6379' },
    // Any steal (even none) is over a limit of -1 %: the trial is run once more, then kept.
    maxStealPercent: -1,
    stealRetries: 1,
  });
  expect(results.repeatedForSteal).toBe(1);
  expect(results.summaries[0]!.rounds).toHaveLength(1);
}, 60_000);

it('refuses a flag that is not a number with one line naming it, before running anything', () => {
  // dist/ is built by `pretest`; the harness's entry point runs on import, so it is started as a process.
  const run = spawnSync(process.execPath, ['dist/bench/harness/main.js', '--max-steal', 'five'], { encoding: 'utf8', timeout: 30_000 });
  expect(run.status).toBe(2);
  expect(run.stderr.trim()).toBe('bench: --max-steal wants a non-negative number, got "five" (e.g. --max-steal 5)');
  expect(run.stdout).toBe('');
});
