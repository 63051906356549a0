import { decode, encode } from '@msgpack/msgpack';
import type { Codec } from './Codec.js';
import { CodecError } from './Codec.js';

/** MessagePack: smaller bodies and binary data without base64. */
export class MsgpackCodec implements Codec {
  readonly name = 'msgpack';
  readonly contentType = 'application/msgpack';

  encode(value: unknown): Uint8Array {
    if (value === undefined) return new Uint8Array(0);
    return encode(value, { ignoreUndefined: true });
  }

  decode(body: Uint8Array): unknown {
    if (body.length === 0) return undefined;
    try {
      return decode(body);
    } catch (error) {
      throw new CodecError(`body is not valid MessagePack: ${(error as Error).message}`, { cause: error });
    }
  }
}
