import { ConfigError } from './ConfigError.js';
import type { MicroConfig } from './MicroConfig.js';

export type DeepPartial<T> = { [K in keyof T]?: T[K] extends readonly unknown[] ? T[K] : T[K] extends object ? DeepPartial<T[K]> : T[K] };

type PluginKeys = 'registry' | 'broker' | 'transport' | 'codec' | 'selector';

/** Numbers may be given as text with units (`'5s'`), as in files and env vars. */
type Loose<T> = { [K in keyof T]?: T[K] extends number ? number | string : T[K] extends readonly unknown[] ? T[K] : T[K] extends object ? Loose<T[K]> : T[K] };

/** Config as code gives it: any subset, and a plugin key may be just the plugin's name (`registry: 'memory'`). */
export type ConfigInput = Omit<Loose<MicroConfig>, PluginKeys> & { [K in PluginKeys]?: string | Loose<MicroConfig[K]> };

export function deepFreeze<T>(value: T): Readonly<T> {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/** Checks that involve more than one key, which a per-key format cannot see. */
export function checkRelations(config: MicroConfig, sources?: ReadonlyMap<string, string>): void {
  const { registerTtl, registerInterval } = config.server;
  if (registerTtl > 0 && registerTtl <= registerInterval) {
    const from = (key: string): string => (sources ? `, from ${sources.get(key) ?? 'default'}` : '');
    throw new ConfigError(
      'CONFIG_INVALID_VALUE',
      `server.registerTtl (${registerTtl} ms${from('server.registerTtl')}) must be greater than server.registerInterval (${registerInterval} ms${from('server.registerInterval')}), or the entry expires between renewals`,
    );
  }
}
