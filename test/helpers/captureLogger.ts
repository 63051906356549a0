import type { Logger } from '../../src/index.js';

export interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  fields: Record<string, unknown>;
}

/** A Logger that keeps its lines, so a test can check that something was reported. */
export function captureLogger(lines: LogLine[] = [], bindings: Record<string, unknown> = {}): Logger & { lines: LogLine[] } {
  const log = (level: LogLine['level']) => (message: string, fields?: Record<string, unknown>) => lines.push({ level, message, fields: { ...bindings, ...fields } });
  return {
    lines,
    debug: log('debug'),
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
    child: (more) => captureLogger(lines, { ...bindings, ...more }),
  };
}
