/** What went wrong before anything started; the CLI prints the message alone and exits non-zero. */
export type ConfigErrorCode =
  | 'CONFIG_FILE'
  | 'CONFIG_UNKNOWN_KEY'
  | 'CONFIG_INVALID_VALUE'
  | 'PLUGIN_UNKNOWN'
  | 'PLUGIN_PACKAGE_MISSING'
  | 'PLUGIN_INVALID'
  | 'PLUGIN_INCOMPATIBLE';

const BRAND = Symbol.for('tsmicro.ConfigError');

export class ConfigError extends Error {
  constructor(
    readonly code: ConfigErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ConfigError';
    Object.defineProperty(this, BRAND, { value: true });
  }

  static is(value: unknown): value is ConfigError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
  }
}
