import type { Etcd3 } from 'etcd3';
import type { Logger } from '../../src/index.js';

interface HeldLease {
  id: string;
  ttlSeconds: number;
}

/** The lease a node key must be written with, and the one it replaces (to revoke once the key has moved). */
export interface LeaseChoice {
  id: string;
  replaced?: string;
}

/**
 * One etcd lease per registered node key, renewed by the registry's register() calls (the server's heartbeat),
 * never by a background keepalive: a frozen process must lose its entries after the TTL like with every other
 * registry, and "registered with a TTL" must mean what it says.
 *
 * A lease can disappear behind our back: it expired during a network partition, someone revoked it, or etcd came
 * back from a restart without its data. etcd answers a keepalive for an unknown lease with TTL 0 (not an error),
 * so that is checked, and a new lease is granted on the spot; the caller then rewrites the key.
 */
export class LeaseKeeper {
  readonly #held = new Map<string, HeldLease>();

  constructor(
    private readonly client: Etcd3,
    private readonly requestTimeoutMs: number,
    private readonly logger: Logger,
  ) {}

  /** Renews the key's lease, or grants a new one when there is none, it is gone, or the TTL changed. */
  async leaseFor(key: string, ttlSeconds: number): Promise<LeaseChoice> {
    const held = this.#held.get(key);
    if (held && held.ttlSeconds === ttlSeconds) {
      if (await this.#renew(held.id)) return { id: held.id };
      this.logger.warn('etcd registry: lease lost (expired, revoked, or etcd lost its data); registering again', { key, lease: held.id });
    }
    const granted = await this.client.leaseClient.leaseGrant({ TTL: ttlSeconds });
    // etcd may raise a short TTL to its minimum (2 s with default election settings).
    if (Number(granted.TTL) !== ttlSeconds) this.logger.debug('etcd registry: etcd granted another TTL than asked', { asked: ttlSeconds, granted: Number(granted.TTL) });
    this.#held.set(key, { id: granted.ID, ttlSeconds });
    // A TTL change leaves the old lease alive and holding the key until the key is rewritten on the new one.
    return held && held.ttlSeconds !== ttlSeconds ? { id: granted.ID, replaced: held.id } : { id: granted.ID };
  }

  /** Forgets the key's lease and revokes it; nothing else is bound to it (one lease per key). */
  async release(key: string): Promise<void> {
    const held = this.#held.get(key);
    if (!held) return;
    this.#held.delete(key);
    await this.revoke(held.id);
  }

  async revoke(id: string): Promise<void> {
    try {
      await this.client.leaseClient.leaseRevoke({ ID: id });
    } catch (error) {
      // Already expired or revoked is fine; anything else just leaves the lease to its TTL.
      this.logger.debug('etcd registry: lease revoke failed; it expires by itself', { lease: id, error: (error as Error).message });
    }
  }

  /** One keepalive round trip: true when etcd renewed the lease, false when it no longer knows it. */
  async #renew(id: string): Promise<boolean> {
    const stream = await this.client.leaseClient.leaseKeepAlive();
    try {
      const response = await new Promise<{ TTL: string }>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`lease keepalive not answered within ${this.requestTimeoutMs} ms`)), this.requestTimeoutMs);
        // The stream type only declares on(); the promise settles once, whatever else arrives.
        stream.on('data', (data: { TTL: string }) => {
          clearTimeout(timer);
          resolve(data);
        });
        stream.on('error', (error: Error) => {
          clearTimeout(timer);
          reject(error);
        });
        stream.write({ ID: id });
      });
      return Number(response.TTL) > 0;
    } finally {
      stream.end();
    }
  }
}
