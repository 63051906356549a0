import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

type Argument = string | Buffer | number;

/**
 * A Lua script run by its SHA1 (EVALSHA), loaded again with EVAL when the server does not know it: after a
 * restart the script cache is empty, and that must not turn into an error for the caller.
 */
export class LuaScript {
  readonly sha: string;

  constructor(readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(client: Redis, keys: readonly string[], args: readonly Argument[]): Promise<unknown> {
    try {
      return await client.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!String((error as Error).message).startsWith('NOSCRIPT')) throw error;
      return client.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}
