import type { Command } from 'commander';
import { App } from '../app/App.js';
import { ConfigError } from '../config/ConfigError.js';
import { schemaLeaves } from '../config/schemaLeaves.js';
import { coreSchema } from '../config/schema.js';
import type { ServiceClass } from '../app/App.js';
import type { ConfigInput } from '../config/configUtil.js';
import { printer, type OutputFormat, type Printer } from './output.js';

/** Everything a command needs: the printer, and an app built from config, env and the global flags. */
export interface CliContext {
  out: Printer;
  flags: Record<string, string | undefined>;
  createApp(services?: ServiceClass[], config?: ConfigInput): Promise<App>;
}

/** The config flags every command accepts, generated from the schema (`--registry`, `--register_ttl`, …). */
export const CONFIG_FLAGS = schemaLeaves(coreSchema).filter((leaf) => leaf.arg !== undefined);

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export function cliContext(command: Command): CliContext {
  const options = command.optsWithGlobals() as Record<string, unknown>;
  const format = options.output as OutputFormat;
  if (format !== 'table' && format !== 'json') throw new CliError(`--output must be table or json, not "${String(format)}"`, 2);
  const flags: Record<string, string | undefined> = { config: options.config as string | undefined };
  for (const leaf of CONFIG_FLAGS) if (typeof options[leaf.arg!] === 'string') flags[leaf.arg!] = options[leaf.arg!] as string;
  return {
    out: printer(format),
    flags,
    // The CLI's own logs stay quiet unless asked for: its output is the answer, not the framework's chatter.
    createApp: (services = [], config = {}) => App.create({ services, config: { logger: { level: 'warn', format: 'pretty' }, ...config }, sources: { flags } }),
  };
}

/** A one-line message for any failure: config errors as they are, MicroErrors with their code. */
export function describeFailure(error: unknown): { message: string; exitCode: number } {
  if (error instanceof CliError) return { message: error.message, exitCode: error.exitCode };
  if (ConfigError.is(error)) return { message: error.message, exitCode: 2 };
  const micro = error as { code?: unknown; status?: unknown; detail?: unknown; id?: unknown };
  if (typeof micro?.code === 'number' && typeof micro.detail === 'string') return { message: `${micro.code} ${String(micro.status)}: ${micro.detail}`, exitCode: 1 };
  return { message: (error as Error)?.message ?? String(error), exitCode: 1 };
}

/** Runs `work` with an app, always stopping it. */
export async function withApp<T>(context: CliContext, work: (app: App) => Promise<T>): Promise<T> {
  const app = await context.createApp();
  await app.start();
  try {
    return await work(app);
  } finally {
    await app.stop();
  }
}
