import type { Metadata } from '../context/Context.js';
import type { CallOptions } from './Client.js';

/** An outgoing call as wrappers see it; `metadata` already holds what it inherited from the handler it is made in. */
export interface OutgoingCall {
  service: string;
  endpoint: string;
  request: unknown;
  metadata: Metadata;
  /** Epoch milliseconds the caller waits until, retries included. */
  deadline: number;
  options: CallOptions;
}

export type CallFunction = (call: OutgoingCall) => Promise<unknown>;

/**
 * Middleware around every call a client makes, as go-micro's CallWrapper: it may add metadata (a trace header),
 * time the call or turn errors into others. Bound (several may be) under `Tokens.CallWrapper`; the first bound is
 * the outermost.
 */
export type CallWrapper = (next: CallFunction) => CallFunction;

export function wrapCall(base: CallFunction, wrappers: readonly CallWrapper[]): CallFunction {
  return wrappers.reduceRight<CallFunction>((next, wrap) => wrap(next), base);
}
