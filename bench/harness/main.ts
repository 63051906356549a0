/**
 * `npm run bench`: tsmicro side by side with Moleculer, NestJS and raw clients. Flags:
 *   --rounds N (5)  --duration MS (2000, per measured window)  --warmup MS (1000)
 *   --events-duration MS (as --duration; 0 skips events)  --only tcp,nats,tsmicro,…  --no-peers (tsmicro and raw only)  --startup-rounds N (7)  --out DIR (bench/results)
 *   --max-steal PCT (5)  --steal-retries N (2): a trial that saw more of the hypervisor's steal is run again
 */
import { resolve } from 'node:path';
import type { LoadSettings } from './protocol.js';
import { describeMachine } from './machine.js';
import { PROJECT_ROOT } from './processes.js';
import { markdownReport, writeResults } from './report.js';
import { runBenchmark } from './run.js';
import { SCENARIOS, selectScenarios, STARTUP_SCENARIOS } from './scenarios.js';

function flag(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

/** A command-line mistake: reported as one line, without a stack. */
class FlagError extends Error {}

/** A numeric flag, or its default; anything else stops the run before it starts, naming the flag. */
function numberFlag(name: string, fallback: number): number {
  const text = flag(name);
  if (text === undefined) return fallback;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < 0) {
    throw new FlagError(`--${name} wants a non-negative number, got ${JSON.stringify(text)} (e.g. --${name} ${fallback})`);
  }
  return value;
}

async function main(): Promise<void> {
  const only = flag('only')?.split(',').map((word) => word.trim());
  const withPeers = !process.argv.includes('--no-peers');
  const rounds = numberFlag('rounds', 5);
  const durationMs = numberFlag('duration', 2000);
  const warmupMs = numberFlag('warmup', 1000);
  const startupRounds = numberFlag('startup-rounds', 7);
  const maxStealPercent = numberFlag('max-steal', 5);
  const stealRetries = numberFlag('steal-retries', 2);
  const load: LoadSettings = { concurrency: 64, warmupMs, durationMs, eventConcurrency: numberFlag('event-concurrency', 256), eventWarmupMs: Math.min(warmupMs, 500), eventDurationMs: numberFlag('events-duration', durationMs), eventWindow: 2048 };
  const servers = { natsUrl: process.env.NATS_ADDRESS ? `nats://${process.env.NATS_ADDRESS}` : 'nats://127.0.0.1:4222', redisUrl: process.env.REDIS_ADDRESS ? `redis://${process.env.REDIS_ADDRESS}` : 'redis://127.0.0.1:6379' };
  const scenarios = selectScenarios(SCENARIOS, only, withPeers);
  const startupScenarios = selectScenarios(STARTUP_SCENARIOS, only, withPeers);
  const machine = await describeMachine(servers.natsUrl, servers.redisUrl);
  console.log(`${scenarios.length} scenarios × ${rounds} rounds on ${machine.cpu} (${machine.cores} cores), Node ${machine.node}`);
  const results = await runBenchmark({ scenarios, startupScenarios, rounds, startupRounds, load, servers, maxStealPercent, stealRetries, log: (line) => console.log(line) });
  console.log(`\n${markdownReport(results, machine, load, rounds)}`);
  const written = writeResults(resolve(flag('out') ?? resolve(PROJECT_ROOT, 'bench/results')), results, machine, load, rounds);
  console.log(`written: ${written.join(', ')}`);
}

await main().catch((error: unknown) => {
  if (!(error instanceof FlagError)) throw error;
  console.error(`bench: ${error.message}`);
  process.exitCode = 2;
});
