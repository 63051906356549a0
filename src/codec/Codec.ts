/**
 * Turns values into message bodies and back. The sender names its codec in `content-type`; the receiver picks
 * the matching codec from the set it knows, so a JSON client and a MessagePack client can call the same server.
 */
export interface Codec {
  /** The plugin name, e.g. `json`, `msgpack`. */
  readonly name: string;
  /** The content type written in `content-type`, e.g. `application/json`. */
  readonly contentType: string;
  encode(value: unknown): Uint8Array;
  /** Throws CodecError when the bytes are not valid for this codec. */
  decode(body: Uint8Array): unknown;
}

export class CodecError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CodecError';
  }
}

/** Every codec a process can read, by content type; the configured one is used for writing. */
export class CodecSet {
  readonly #byContentType = new Map<string, Codec>();

  constructor(codecs: Codec[]) {
    for (const codec of codecs) this.#byContentType.set(codec.contentType, codec);
  }

  /** The codec for a `content-type` value (parameters such as `; charset=utf-8` are ignored). */
  forContentType(contentType: string | undefined): Codec | undefined {
    if (contentType === undefined) return undefined;
    const exact = this.#byContentType.get(contentType);
    if (exact) return exact;
    const bare = contentType.split(';', 1)[0]!.trim().toLowerCase();
    return this.#byContentType.get(bare);
  }

  get contentTypes(): string[] {
    return [...this.#byContentType.keys()];
  }
}
