import type { Command } from 'commander';
import { BROKER_SERVICE_PREFIX } from '../../broker/DirectBroker.js';
import { MicroError } from '../../errors.js';
import { Tokens } from '../../tokens.js';
import { parseTimeout } from '../arguments.js';
import { cliContext, CliError, withApp } from '../context.js';

interface NodeHealth {
  service: string;
  version: string;
  node: string;
  address: string;
  status: string;
}

export function healthCommand(program: Command): void {
  program
    .command('health')
    .description("call every node's built-in Debug.Health endpoint; exits 1 if any node is unhealthy")
    .argument('[service]', 'only this service (all services when absent)')
    .option('-t, --timeout <duration>', 'how long each node may take to answer', '2s')
    .action(async (only: string | undefined, options: { timeout: string }, command: Command) => {
      const context = cliContext(command);
      const timeoutMs = parseTimeout(options.timeout);
      const results = await withApp(context, async (app) => {
        const registry = app.get(Tokens.Registry);
        const names = only ? [only] : [...new Set((await registry.listServices()).map((service) => service.name))].filter((name) => !name.startsWith(BROKER_SERVICE_PREFIX));
        const checks: Promise<NodeHealth>[] = [];
        for (const name of names.sort()) {
          for (const service of await registry.getService(name)) {
            for (const node of service.nodes) {
              const base = { service: name, version: service.version, node: node.id, address: node.address };
              checks.push(
                app.client.call<{ status?: string }>(name, 'Debug.Health', {}, { address: node.address, timeoutMs, retries: 0, context: null }).then(
                  (reply) => ({ ...base, status: reply?.status ?? 'unknown' }),
                  (error: unknown) => ({ ...base, status: MicroError.is(error) ? `error ${error.code}: ${error.detail}` : `error: ${(error as Error).message}` }),
                ),
              );
            }
          }
        }
        return Promise.all(checks);
      });
      if (only && results.length === 0) throw new CliError(`service "${only}" not found`);
      context.out.table(
        ['SERVICE', 'VERSION', 'NODE', 'ADDRESS', 'STATUS'],
        results.map((result) => [result.service, result.version, result.node, result.address, result.status]),
        results,
      );
      if (results.some((result) => result.status !== 'ok')) process.exitCode = 1;
    });
}
