import type { Logger } from '../logger/Logger.js';
import type { Registry, Service } from '../registry/Registry.js';

export interface RegistrarOptions {
  ttlMs: number;
  intervalMs: number;
}

/**
 * Keeps a service registered: registers with a TTL (three tries with backoff at start), renews it on an
 * interval shorter than the TTL, and deregisters on stop. A renewal that fails is logged and tried again on the
 * next tick: the entry stays alive as long as one renewal per TTL gets through.
 */
export class Registrar {
  #timer: NodeJS.Timeout | undefined;
  #renewing = false;

  constructor(
    private readonly registry: Registry,
    private readonly service: () => Service,
    private readonly options: RegistrarOptions,
    private readonly logger: Logger,
  ) {
    if (options.ttlMs > 0 && options.ttlMs <= options.intervalMs) {
      throw new RangeError(`server.registerTtl (${options.ttlMs} ms) must be greater than server.registerInterval (${options.intervalMs} ms), or the entry expires between renewals`);
    }
  }

  async start(): Promise<void> {
    let lastError: unknown;
    for (let attempt = 1; attempt <= 3; attempt++) {
      try {
        await this.registry.register(this.service(), { ttlMs: this.options.ttlMs });
        lastError = undefined;
        break;
      } catch (error) {
        lastError = error;
        if (attempt < 3) await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt));
      }
    }
    if (lastError) throw new Error(`cannot register with the ${this.registry.name} registry: ${(lastError as Error).message}`, { cause: lastError });
    if (this.options.intervalMs > 0) {
      this.#timer = setInterval(() => void this.#renew(), this.options.intervalMs);
      this.#timer.unref();
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    try {
      await this.registry.deregister(this.service());
    } catch (error) {
      this.logger.warn('deregistration failed; the entry will expire after its TTL', { registry: this.registry.name, ttlMs: this.options.ttlMs, error: (error as Error).message });
    }
  }

  async #renew(): Promise<void> {
    if (this.#renewing) return;
    this.#renewing = true;
    try {
      await this.registry.register(this.service(), { ttlMs: this.options.ttlMs });
    } catch (error) {
      this.logger.warn('registry renewal failed', { registry: this.registry.name, error: (error as Error).message });
    } finally {
      this.#renewing = false;
    }
  }
}
