/**
 * The tsmicro command: run services, call and publish, inspect the registry, check health, show config.
 * Every command takes the config flags (`--registry consul --registry_address 127.0.0.1:8500`, …).
 */
import 'reflect-metadata/lite';
import { Command, CommanderError, Option } from 'commander';
import { CORE_VERSION } from '../version.js';
import { apiCommand } from './commands/api.js';
import { callCommand } from './commands/call.js';
import { configCommand } from './commands/config.js';
import { healthCommand } from './commands/health.js';
import { publishCommand } from './commands/publish.js';
import { getCommand, listCommand } from './commands/registryCommands.js';
import { runCommand } from './commands/run.js';
import { webCommand } from './commands/web.js';
import { CONFIG_FLAGS, describeFailure } from './context.js';

export function buildProgram(): Command {
  const program = new Command('tsmicro')
    .description('the tsmicro toolkit')
    .version(CORE_VERSION)
    .option('-c, --config <file>', 'a config file (JSON or YAML) read after config/default and config/<NODE_ENV>')
    .addOption(new Option('-o, --output <format>', 'table for people, json for scripts').choices(['table', 'json']).default('table'))
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(`tsmicro: ${text.replace(/^error: /, '').trim()} (see tsmicro --help)\n`) });
  // Env vars are read by the config loader, not commander, so `tsmicro config` can say which one a value came from.
  for (const leaf of CONFIG_FLAGS) program.addOption(new Option(`--${leaf.arg} <value>`, `${leaf.doc ?? leaf.key}${leaf.env ? ` (env ${leaf.env})` : ''}`));
  for (const add of [runCommand, callCommand, listCommand, getCommand, publishCommand, healthCommand, configCommand, apiCommand, webCommand]) add(program);
  for (const command of program.commands) command.exitOverride();
  return program;
}

export async function main(argv: readonly string[]): Promise<number> {
  try {
    await buildProgram().parseAsync([...argv], { from: 'user' });
    return Number(process.exitCode ?? 0);
  } catch (error) {
    // Commander has already printed its own message (usage errors) or the help/version text.
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    const { message, exitCode } = describeFailure(error);
    process.stderr.write(`tsmicro: ${message}\n`);
    return exitCode;
  }
}
