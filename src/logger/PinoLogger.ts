import type { Logger as Pino, pino as PinoFactory } from 'pino';
import type pinoPretty from 'pino-pretty';
import type { LogFormat, LogLevel, Logger } from './Logger.js';

export interface LoggerOptions {
  level?: LogLevel;
  format?: LogFormat;
  /** Where lines go; standard error by default so a CLI's standard output stays machine-readable. */
  destination?: NodeJS.WritableStream;
}

/** pino's numeric levels: a line is written when its method's value is at least the logger's. */
const LEVEL_VALUES: Readonly<Record<LogLevel, number>> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Number.POSITIVE_INFINITY };

/**
 * A CommonJS package, loaded synchronously on first use (a log call cannot wait for an `import()`). node:module
 * comes from getBuiltinModule: an ES import of it would also evaluate its lazy getters (source maps).
 */
function requireDefault<T>(name: string): T {
  const loaded = process.getBuiltinModule('node:module').createRequire(import.meta.url)(name) as T | { default: T };
  return typeof loaded === 'object' && loaded !== null && 'default' in loaded ? loaded.default : (loaded as T);
}

/**
 * pino (about 20 modules, a few MiB resident) is required on the first line that is actually written, and
 * pino-pretty only for `logger.format: pretty`. A service logging at `warn` that never warns never loads
 * either; one that does writes exactly what it would have written with pino loaded at start.
 */
function openPino(level: LogLevel, format: LogFormat | undefined, destination: NodeJS.WritableStream = process.stderr): Pino {
  const pino = requireDefault<typeof PinoFactory>('pino');
  const stream =
    format === 'pretty'
      ? requireDefault<typeof pinoPretty>('pino-pretty')({ destination, sync: true, colorize: false, ignore: 'pid,hostname', translateTime: 'HH:MM:ss.l' })
      : pino.destination({ dest: (destination as { fd?: number }).fd ?? 2, sync: true });
  return pino({ level, base: { pid: process.pid } }, stream);
}

/** Adapts pino's `(fields, message)` order to the Logger contract's `(message, fields)`. */
export class PinoLogger implements Logger {
  #pino: Pino | undefined;
  readonly #open: (() => Pino) | undefined;
  readonly #level: LogLevel;
  /** The least level value written; checked before pino is touched, so disabled levels never load it. */
  readonly #threshold: number;

  /** Wraps a pino logger, or a function that makes one (at `level`) when the first enabled line is logged. */
  constructor(pino: Pino | (() => Pino), level: LogLevel = 'info') {
    if (typeof pino === 'function') {
      this.#open = pino;
      this.#level = level;
      this.#threshold = LEVEL_VALUES[level];
    } else {
      this.#pino = pino;
      this.#level = pino.level as LogLevel;
      this.#threshold = pino.levelVal;
    }
  }

  static create(options: LoggerOptions = {}): PinoLogger {
    const level = options.level ?? 'info';
    // process.stderr is a stream built on first access: left to openPino, so a quiet process never builds it.
    return new PinoLogger(() => openPino(level, options.format, options.destination), level);
  }

  #logger(): Pino {
    return (this.#pino ??= this.#open!());
  }

  debug(message: string, fields?: Record<string, unknown>): void {
    if (this.#threshold <= LEVEL_VALUES.debug) this.#logger().debug(fields ?? {}, message);
  }
  info(message: string, fields?: Record<string, unknown>): void {
    if (this.#threshold <= LEVEL_VALUES.info) this.#logger().info(fields ?? {}, message);
  }
  warn(message: string, fields?: Record<string, unknown>): void {
    if (this.#threshold <= LEVEL_VALUES.warn) this.#logger().warn(fields ?? {}, message);
  }
  error(message: string, fields?: Record<string, unknown>): void {
    if (this.#threshold <= LEVEL_VALUES.error) this.#logger().error(fields ?? {}, message);
  }
  child(bindings: Record<string, unknown>): Logger {
    if (this.#pino) return new PinoLogger(this.#pino.child(bindings));
    // Not opened yet: the child opens its parent (one root, one stream) when it writes its first line.
    return new PinoLogger(() => this.#logger().child(bindings), this.#level);
  }
}

/** Discards everything: the default for components built outside an app (tests, tools). */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return silentLogger;
  },
};
