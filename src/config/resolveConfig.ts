import convict from 'convict';
import { registerFormats } from './formats.js';
import type { MicroConfig } from './MicroConfig.js';
import { coreSchema } from './schema.js';

export type DeepPartial<T> = { [K in keyof T]?: T[K] extends readonly unknown[] ? T[K] : T[K] extends object ? DeepPartial<T[K]> : T[K] };

export interface ConfigSources {
  /** Environment variables to read; `process.env` by default. */
  env?: NodeJS.ProcessEnv;
  /** Command-line arguments to read (without `node script`); `process.argv.slice(2)` by default. */
  argv?: string[];
}

export function deepFreeze<T>(value: T): Readonly<T> {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/** Checks that involve more than one key, which a per-key format cannot see. */
export function checkRelations(config: MicroConfig): void {
  const { registerTtl, registerInterval } = config.server;
  if (registerTtl > 0 && registerTtl <= registerInterval) {
    throw new RangeError(`server.registerTtl (${registerTtl} ms) must be greater than server.registerInterval (${registerInterval} ms), or the entry expires between renewals`);
  }
}

/**
 * The effective config: schema defaults, then `overrides` from code, then environment variables, then flags.
 * Validated once and frozen.
 */
export function resolveConfig(overrides: DeepPartial<MicroConfig> = {}, sources: ConfigSources = {}): Readonly<MicroConfig> {
  registerFormats();
  const config = convict<MicroConfig>(coreSchema, { env: sources.env ?? process.env, args: sources.argv ?? process.argv.slice(2) });
  config.load(overrides);
  config.validate({ allowed: 'strict' });
  const properties = config.getProperties();
  checkRelations(properties);
  return deepFreeze(properties);
}
