import type * as Msgpack from '@msgpack/msgpack';
import type { Codec } from './Codec.js';
import { CodecError } from './Codec.js';

let library: typeof Msgpack | undefined;

/**
 * @msgpack/msgpack (16 modules) is required on the first body encoded or decoded, not imported: every process
 * registers this codec for reading, and most never see a MessagePack body. It ships CommonJS, so the first
 * use loads it synchronously, as `encode` and `decode` must be.
 */
function msgpack(): typeof Msgpack {
  return (library ??= process.getBuiltinModule('node:module').createRequire(import.meta.url)('@msgpack/msgpack') as typeof Msgpack);
}

/** MessagePack: smaller bodies and binary data without base64. */
export class MsgpackCodec implements Codec {
  readonly name = 'msgpack';
  readonly contentType = 'application/msgpack';

  encode(value: unknown): Uint8Array {
    if (value === undefined) return new Uint8Array(0);
    return msgpack().encode(value, { ignoreUndefined: true });
  }

  decode(body: Uint8Array): unknown {
    if (body.length === 0) return undefined;
    const { decode } = msgpack();
    try {
      return decode(body);
    } catch (error) {
      throw new CodecError(`body is not valid MessagePack: ${(error as Error).message}`, { cause: error });
    }
  }
}
