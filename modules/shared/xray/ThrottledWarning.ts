import type { Logger } from '../../../src/index.js';

/**
 * A warning logged at most once per interval per kind, with how many were suppressed since: a daemon that is
 * down would otherwise produce a log line for every request.
 */
export class ThrottledWarning {
  readonly #logger: Logger;
  readonly #intervalMs: number;
  readonly #last = new Map<string, { at: number; suppressed: number }>();

  constructor(logger: Logger, intervalMs = 30_000) {
    this.#logger = logger;
    this.#intervalMs = intervalMs;
  }

  warn(kind: string, message: string, fields: Record<string, unknown> = {}): void {
    const now = Date.now();
    const last = this.#last.get(kind);
    if (last && now - last.at < this.#intervalMs) {
      last.suppressed++;
      return;
    }
    this.#last.set(kind, { at: now, suppressed: 0 });
    const suppressed = last?.suppressed ?? 0;
    this.#logger.warn(message, suppressed > 0 ? { ...fields, suppressed, sinceMs: now - last!.at } : fields);
  }
}
