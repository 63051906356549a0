import type { CallContext, Metadata } from '../context/Context.js';
import { isReservedHeader } from '../transport/headers.js';

/** Handler metadata is the request's headers minus the framework's own. */
export function metadataFromHeaders(headers: Record<string, string>): Metadata {
  const metadata: Metadata = {};
  for (const key in headers) if (!isReservedHeader(key)) metadata[key] = headers[key]!;
  return metadata;
}

/**
 * A CallContext whose metadata and AbortSignal are made only when asked for: many handlers use neither, and a
 * metadata object and a timer per request would be paid by all of them.
 */
export class ServerCallContext implements CallContext {
  #signal: AbortSignal | undefined;
  #metadata: Readonly<Metadata> | undefined;
  readonly #headers: Record<string, string>;

  /** `headers` are the request's; the metadata is taken from them when first read. */
  constructor(
    readonly service: string,
    readonly endpoint: string,
    headers: Record<string, string>,
    readonly deadline: number,
  ) {
    this.#headers = headers;
  }

  get metadata(): Readonly<Metadata> {
    this.#metadata ??= metadataFromHeaders(this.#headers);
    return this.#metadata;
  }

  get signal(): AbortSignal {
    if (!this.#signal) {
      if (this.deadline === Infinity) this.#signal = new AbortController().signal;
      else this.#signal = AbortSignal.timeout(Math.max(0, this.deadline - Date.now()));
    }
    return this.#signal;
  }
}
