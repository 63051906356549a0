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

async function main(): Promise<void> {
  const only = flag('only')?.split(',').map((word) => word.trim());
  const withPeers = !process.argv.includes('--no-peers');
  const rounds = Number(flag('rounds') ?? 5);
  const durationMs = Number(flag('duration') ?? 2000);
  const warmupMs = Number(flag('warmup') ?? 1000);
  const load: LoadSettings = { concurrency: 64, warmupMs, durationMs, eventConcurrency: Number(flag('event-concurrency') ?? 256), eventWarmupMs: Math.min(warmupMs, 500), eventDurationMs: Number(flag('events-duration') ?? durationMs), eventWindow: 2048 };
  const servers = { natsUrl: process.env.NATS_ADDRESS ? `nats://${process.env.NATS_ADDRESS}` : 'nats://127.0.0.1:4222', redisUrl: process.env.REDIS_ADDRESS ? `redis://${process.env.REDIS_ADDRESS}` : 'redis://127.0.0.1:6379' };
  const scenarios = selectScenarios(SCENARIOS, only, withPeers);
  const startupScenarios = selectScenarios(STARTUP_SCENARIOS, only, withPeers);
  const machine = await describeMachine(servers.natsUrl, servers.redisUrl);
  console.log(`${scenarios.length} scenarios × ${rounds} rounds on ${machine.cpu} (${machine.cores} cores), Node ${machine.node}`);
  const results = await runBenchmark({ scenarios, startupScenarios, rounds, startupRounds: Number(flag('startup-rounds') ?? 7), load, servers, maxStealPercent: Number(flag('max-steal') ?? 5), stealRetries: Number(flag('steal-retries') ?? 2), log: (line) => console.log(line) });
  console.log(`\n${markdownReport(results, machine, load, rounds)}`);
  const written = writeResults(resolve(flag('out') ?? resolve(PROJECT_ROOT, 'bench/results')), results, machine, load, rounds);
  console.log(`written: ${written.join(', ')}`);
}

await main();
