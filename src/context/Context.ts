import { AsyncLocalStorage } from 'node:async_hooks';

/** String key/value pairs that travel with a call or an event: tracing ids, auth tokens, tenant names. */
export type Metadata = Record<string, string>;

/**
 * What a handler knows about the call it serves. The same context is current (through AsyncLocalStorage) while
 * the handler runs, so a call it makes through the injected Client carries the metadata on and keeps within the
 * remaining deadline without the handler passing anything.
 */
export interface CallContext {
  /** The service and endpoint (or topic, for events) being served. */
  readonly service: string;
  readonly endpoint: string;
  /** Lower-case keys. */
  readonly metadata: Readonly<Metadata>;
  /** Epoch milliseconds after which the caller has given up; Infinity when it waits forever. */
  readonly deadline: number;
  /** Aborts at the deadline, so a handler can stop work nobody is waiting for. */
  readonly signal: AbortSignal;
}

const storage = new AsyncLocalStorage<CallContext>();

/** The context of the handler currently running, if any. */
export function currentContext(): CallContext | undefined {
  return storage.getStore();
}

/** Runs `fn(...args)` with `context` current; passing the arguments spares the caller a closure per call. */
export function runInContext<A extends unknown[], T>(context: CallContext, fn: (...args: A) => T, ...args: A): T {
  return storage.run(context, fn, ...args);
}

/** Metadata keys are case-insensitive; they are kept lower-case everywhere. */
export function normaliseMetadata(metadata: Metadata | undefined): Metadata {
  const out: Metadata = {};
  if (!metadata) return out;
  for (const key in metadata) {
    const value = metadata[key];
    if (value !== undefined && value !== null) out[key.toLowerCase()] = String(value);
  }
  return out;
}

/** Milliseconds left before `deadline`, never negative. */
export function remainingMs(deadline: number): number {
  return deadline === Infinity ? Infinity : Math.max(0, deadline - Date.now());
}
