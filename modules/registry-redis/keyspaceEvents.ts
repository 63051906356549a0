import type { Redis } from 'ioredis';
import type { Logger } from '../../src/index.js';

/**
 * Expiries publish nothing by themselves: a TTL that lapses is only visible through Redis keyspace notifications
 * (`notify-keyspace-events` with E for keyevent channels, x for expired, e for evicted) or by reading again.
 * - `configure` (default): use them, adding the missing flags with CONFIG SET when the server allows it (managed
 *   services often disable CONFIG; then polling takes over);
 * - `existing`: use them only when the operator has enabled them; never change server config;
 * - `off`: rely on polling alone.
 * A server restart forgets a CONFIG SET that is not in its config file, so this runs again after each reconnect.
 */
export type KeyspaceMode = 'configure' | 'existing' | 'off';

export const KEYSPACE_MODES: readonly KeyspaceMode[] = ['configure', 'existing', 'off'];

const NEEDED = ['E', 'x', 'e'];

/** The flags with ours added; `A` already stands for every event class (x and e included). */
export function withExpiryEvents(flags: string): string {
  const classes = flags.includes('A') ? NEEDED.filter((flag) => flag === 'E') : NEEDED;
  return flags + classes.filter((flag) => !flags.includes(flag)).join('');
}

function hasExpiryEvents(flags: string): boolean {
  return flags.includes('E') && (flags.includes('A') || flags.includes('x'));
}

export function keyeventChannels(db: number): string[] {
  return [`__keyevent@${db}__:expired`, `__keyevent@${db}__:evicted`];
}

/** Makes sure expiry notifications flow when the mode allows; true when they do. Never throws. */
export async function ensureKeyspaceEvents(client: Redis, mode: KeyspaceMode, logger: Logger): Promise<boolean> {
  if (mode === 'off') return false;
  let flags: string;
  try {
    const reply = (await client.call('CONFIG', 'GET', 'notify-keyspace-events')) as string[];
    flags = String(reply?.[1] ?? '');
  } catch (error) {
    logger.info('redis registry: cannot read notify-keyspace-events; expiries are found by polling', { error: (error as Error).message });
    return false;
  }
  if (hasExpiryEvents(flags)) return true;
  if (mode === 'existing') {
    logger.info('redis registry: keyspace notifications for expiries are off on the server; expiries are found by polling', { flags });
    return false;
  }
  try {
    await client.call('CONFIG', 'SET', 'notify-keyspace-events', withExpiryEvents(flags));
    logger.info('redis registry: enabled keyspace notifications for expired and evicted keys', { before: flags, after: withExpiryEvents(flags) });
    return true;
  } catch (error) {
    logger.warn('redis registry: cannot enable keyspace notifications; expiries are found by polling', { error: (error as Error).message });
    return false;
  }
}
