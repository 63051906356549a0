import type { CallContext } from '../context/Context.js';

/** What runs for one request or event: the validated payload and its context in, the reply out. */
export type HandlerFunction = (payload: unknown, context: CallContext) => unknown;

export interface WrappedEndpoint {
  service: string;
  /** The endpoint name, or the topic for an event. */
  endpoint: string;
  kind: 'rpc' | 'event';
}

/**
 * Middleware around every handler and subscriber of a server, as go-micro's HandlerWrapper: it gets the next
 * function and returns one that calls it (tracing, metrics, auth). Bound (several may be) under
 * `Tokens.HandlerWrapper`; the first bound is the outermost.
 *
 * @example
 *   const timing: HandlerWrapper = (next, endpoint) => async (payload, context) => {
 *     const started = Date.now();
 *     try { return await next(payload, context); } finally { log(endpoint.endpoint, Date.now() - started); }
 *   };
 */
export type HandlerWrapper = (next: HandlerFunction, endpoint: WrappedEndpoint) => HandlerFunction;

export function wrapHandler(base: HandlerFunction, wrappers: readonly HandlerWrapper[], endpoint: WrappedEndpoint): HandlerFunction {
  return wrappers.reduceRight<HandlerFunction>((next, wrap) => wrap(next, endpoint), base);
}
