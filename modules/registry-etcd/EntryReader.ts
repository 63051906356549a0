import type { IKeyValue } from 'etcd3';
import type { Logger } from '../../src/index.js';
import type { NodeEntry } from '../../src/registry/serviceModel.js';
import { decodeEntry } from './entries.js';

/** Remembered (key, revision) pairs are forgotten past this many, so a flood of junk cannot grow memory. */
const MAX_REMEMBERED = 1000;

/**
 * Turns stored key-values into node entries, skipping (with one warning per key and revision, not one per read)
 * whatever is not a tsmicro node entry: a junk key under the prefix must never reach a selector, and must not
 * flood the log on every lookup either.
 */
export class EntryReader {
  readonly #warned = new Set<string>();

  constructor(
    private readonly prefix: string,
    private readonly logger: Logger,
  ) {}

  read(kv: IKeyValue): NodeEntry | undefined {
    const key = kv.key.toString();
    const decoded = decodeEntry(this.prefix, key, kv.value.toString());
    if (!('invalid' in decoded)) return decoded;
    const seen = `${key}@${kv.mod_revision}`;
    if (!this.#warned.has(seen)) {
      if (this.#warned.size >= MAX_REMEMBERED) this.#warned.clear();
      this.#warned.add(seen);
      this.logger.warn('etcd registry: skipped a key that is not a tsmicro node entry', { key, reason: decoded.invalid });
    }
    return undefined;
  }

  /** The valid entries of a range read, by key. */
  snapshot(kvs: readonly IKeyValue[]): Map<string, NodeEntry> {
    const entries = new Map<string, NodeEntry>();
    for (const kv of kvs) {
      const entry = this.read(kv);
      if (entry) entries.set(kv.key.toString(), entry);
    }
    return entries;
  }
}
