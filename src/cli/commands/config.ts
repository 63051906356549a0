import type { Command } from 'commander';
import { loadConfig } from '../../config/loadConfig.js';
import { cliContext } from '../context.js';

const show = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value));

export function configCommand(program: Command): void {
  program
    .command('config')
    .description('print the effective config, where each value came from, and the plugins chosen')
    .action(async (_options: unknown, command: Command) => {
      const context = cliContext(command);
      const loaded = await loadConfig({ flags: context.flags });
      if (context.out.format === 'json') {
        return context.out.value({ values: loaded.values, plugins: loaded.plugins.map(({ kind, name, origin, options }) => ({ kind, name, origin, options })) });
      }
      context.out.table(['KEY', 'VALUE', 'SOURCE'], loaded.values.map((entry) => [entry.key, show(entry.value), entry.source]));
      context.out.line('');
      context.out.table(['KIND', 'PLUGIN', 'FROM'], loaded.plugins.map((plugin) => [plugin.kind, plugin.name, plugin.origin]));
    });
}
