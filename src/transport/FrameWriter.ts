import { encodeFrame, frameBound, isLargeBody, writeFrameInPlace } from './framing.js';
import type { Message } from './Transport.js';

/** Frames are encoded into slabs of this size; one is replaced only when full, so it rarely allocates. */
const SLAB_BYTES = 64 * 1024;
/** Most messages held back for one write; see push(). */
const DEFAULT_FLUSH_EVERY = 16;

/**
 * Encodes frames straight into a shared slab and hands the stream one buffer per batch: the frames pushed in
 * the same tick leave in one write, so many requests in flight cost few syscalls, no buffer per frame and no
 * trip per frame through the stream's own buffering (cork, write, writev).
 *
 * A written region of the slab is never touched again — the stream may still hold it — and later frames go
 * after it; a full slab is replaced by a new one and freed once its writes are done.
 */
export class FrameWriter {
  #slab = Buffer.allocUnsafe(SLAB_BYTES);
  /** Where the frames not yet written start, and where the next frame goes. */
  #start = 0;
  #end = 0;
  #pending = 0;
  #scheduled = false;

  constructor(
    private readonly write: (chunk: Buffer) => void,
    private readonly maxSize: number,
    private readonly flushEvery = DEFAULT_FLUSH_EVERY,
  ) {}

  /** Queues the frame of `message` for this tick's write. Throws TransportError `too_large` and writes nothing. */
  push(message: Message): void {
    const bound = isLargeBody(message.body) ? Infinity : frameBound(message);
    if (bound > SLAB_BYTES / 4) {
      // A large body is written as its own buffer rather than copied (and a large frame measured exactly first,
      // since its bound may be far over its size); the frames before it go first.
      const buffers = encodeFrame(message, this.maxSize);
      this.flush();
      for (const buffer of buffers) this.write(buffer);
      return;
    }
    if (this.#end + bound > this.#slab.length) {
      this.flush();
      this.#slab = Buffer.allocUnsafe(SLAB_BYTES);
      this.#start = 0;
      this.#end = 0;
    }
    // Written in one pass: measuring first (a scan of every name and value) cost about as much as writing.
    this.#end = writeFrameInPlace(message, this.#slab, this.#end, this.maxSize);
    // Not the whole tick in one go: writing every `flushEvery` frames lets the peer start on the first ones while
    // this side prepares the rest, so both sides work at once instead of taking turns (measured on 2 cores with
    // 64 calls in flight: about 1.5× the throughput of one write per tick).
    if (++this.#pending >= this.flushEvery) this.flush();
    else if (!this.#scheduled) {
      this.#scheduled = true;
      process.nextTick(this.#flushTick);
    }
  }

  /** Writes what is queued now. */
  flush(): void {
    this.#pending = 0;
    if (this.#end === this.#start) return;
    const chunk = this.#slab.subarray(this.#start, this.#end);
    this.#start = this.#end;
    this.write(chunk);
  }

  readonly #flushTick = (): void => {
    this.#scheduled = false;
    this.flush();
  };
}
