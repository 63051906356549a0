import type { RetryPolicy } from 'cockatiel';
import { MicroError } from '../errors.js';

/**
 * Which failures are worth another attempt. A request that never reached a handler (no connection, server
 * draining) is always safe to send again. One that may have reached it (connection lost after sending, a
 * gateway error) is sent again only to an endpoint declared idempotent. Timeouts are not retried: the caller's
 * deadline covers all attempts. Handler errors (4xx, 500) are answers, not failures.
 */
export function isRetryable(error: unknown, idempotent: boolean): boolean {
  if (!MicroError.is(error)) return false;
  if (error.notDelivered) return true;
  return idempotent && (error.code === 502 || error.code === 503 || error.code === 504);
}

/** Errors judged retryable by the attempt that saw them (the judgement needs the endpoint, which the policy lacks). */
export const retryableErrors = new WeakSet<object>();

export interface BackoffOptions {
  initialDelayMs: number;
  maxDelayMs: number;
}

/**
 * Retry policies by attempt count; a client uses a few counts, so they are built once and reused. cockatiel is
 * imported on the first retry, not at start: most processes never retry, and it is 28 modules to load.
 */
export class RetryPolicies {
  readonly #policies = new Map<number, Promise<RetryPolicy>>();

  constructor(private readonly backoff: BackoffOptions) {}

  get(retries: number): Promise<RetryPolicy> {
    let policy = this.#policies.get(retries);
    if (!policy) {
      policy = import('cockatiel').then(({ ExponentialBackoff, handleWhen, retry }) =>
        retry(
          handleWhen((error) => typeof error === 'object' && error !== null && retryableErrors.has(error)),
          { maxAttempts: retries, backoff: new ExponentialBackoff({ initialDelay: this.backoff.initialDelayMs, maxDelay: this.backoff.maxDelayMs }) },
        ),
      );
      this.#policies.set(retries, policy);
    }
    return policy;
  }
}
