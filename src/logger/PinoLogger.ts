import { createRequire } from 'node:module';
import { pino, type Logger as Pino } from 'pino';
import type pinoPretty from 'pino-pretty';
import type { LogFormat, LogLevel, Logger } from './Logger.js';

export interface LoggerOptions {
  level?: LogLevel;
  format?: LogFormat;
  /** Where lines go; standard error by default so a CLI's standard output stays machine-readable. */
  destination?: NodeJS.WritableStream;
}

/** pino-pretty (CommonJS) is loaded only for `logger.format: pretty`: a JSON-logging service never pays for it. */
function prettyStream(): typeof pinoPretty {
  const loaded = createRequire(import.meta.url)('pino-pretty') as typeof pinoPretty | { default: typeof pinoPretty };
  return 'default' in loaded ? loaded.default : loaded;
}

/** Adapts pino's `(fields, message)` order to the Logger contract's `(message, fields)`. */
export class PinoLogger implements Logger {
  constructor(private readonly pino: Pino) {}

  static create(options: LoggerOptions = {}): PinoLogger {
    const level = options.level ?? 'info';
    const destination = options.destination ?? process.stderr;
    const stream =
      options.format === 'pretty'
        ? prettyStream()({ destination, sync: true, colorize: false, ignore: 'pid,hostname', translateTime: 'HH:MM:ss.l' })
        : pino.destination({ dest: (destination as { fd?: number }).fd ?? 2, sync: true });
    return new PinoLogger(pino({ level, base: { pid: process.pid } }, stream));
  }

  debug(message: string, fields?: Record<string, unknown>): void {
    this.pino.debug(fields ?? {}, message);
  }
  info(message: string, fields?: Record<string, unknown>): void {
    this.pino.info(fields ?? {}, message);
  }
  warn(message: string, fields?: Record<string, unknown>): void {
    this.pino.warn(fields ?? {}, message);
  }
  error(message: string, fields?: Record<string, unknown>): void {
    this.pino.error(fields ?? {}, message);
  }
  child(bindings: Record<string, unknown>): Logger {
    return new PinoLogger(this.pino.child(bindings));
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
