import type { CallContext, Metadata } from '../context/Context.js';
import { isReservedHeader } from '../transport/headers.js';

/** Handler metadata is the request's headers minus the framework's own. */
export function metadataFromHeaders(headers: Record<string, string>): Metadata {
  const metadata: Metadata = {};
  for (const key in headers) if (!isReservedHeader(key)) metadata[key] = headers[key]!;
  return metadata;
}

/**
 * A CallContext whose AbortSignal is made only when a handler asks for it: most handlers never do, and a timer
 * per request would be paid by all of them.
 */
export class ServerCallContext implements CallContext {
  #signal: AbortSignal | undefined;

  constructor(
    readonly service: string,
    readonly endpoint: string,
    readonly metadata: Readonly<Metadata>,
    readonly deadline: number,
  ) {}

  get signal(): AbortSignal {
    if (!this.#signal) {
      if (this.deadline === Infinity) this.#signal = new AbortController().signal;
      else this.#signal = AbortSignal.timeout(Math.max(0, this.deadline - Date.now()));
    }
    return this.#signal;
  }
}
