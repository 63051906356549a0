import { describe, expect, it } from '@jest/globals';
import type { NatsConnection } from '@nats-io/transport-node';
import { FlushBatch, FlushFailure } from './FlushBatch.js';

/** A connection whose flushes (PINGs) are counted and answered (PONG) by the test. */
function fakeConnection() {
  const pongs: { resolve: () => void; reject: (error: Error) => void }[] = [];
  const connection = {
    flush: () => new Promise<void>((resolve, reject) => pongs.push({ resolve, reject })),
  } as unknown as NatsConnection;
  return { connection, pongs };
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

/** Whether `promise` has settled, without waiting for it. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  promise.then(
    () => (done = true),
    () => (done = true),
  );
  await Promise.resolve();
  await Promise.resolve();
  return done;
}

describe('broker-nats FlushBatch', () => {
  it('confirms every publish of a turn with one PING, and none before its PONG', async () => {
    const { connection, pongs } = fakeConnection();
    const batch = new FlushBatch(() => connection, 5000);
    const confirmations = Array.from({ length: 40 }, () => batch.confirm());
    expect(pongs).toHaveLength(0);
    await nextTurn();
    expect(pongs).toHaveLength(1);
    expect(await settled(confirmations[0]!)).toBe(false);
    pongs[0]!.resolve();
    await Promise.all(confirmations);
  });

  it('sends the PING of a full batch at once, and the rest of the turn gets its own', async () => {
    const { connection, pongs } = fakeConnection();
    const batch = new FlushBatch(() => connection, 5000, 64);
    const full = Array.from({ length: 64 }, () => batch.confirm());
    expect(pongs).toHaveLength(1);
    const rest = Array.from({ length: 36 }, () => batch.confirm());
    expect(rest[0]).not.toBe(full[0]);
    await nextTurn();
    expect(pongs).toHaveLength(2);
    pongs[1]!.resolve();
    await Promise.all(rest);
    // Each batch is settled by its own PONG.
    expect(await settled(full[0]!)).toBe(false);
    pongs[0]!.resolve();
    await Promise.all(full);
  });

  it('makes a publish issued after the PING went out wait for the next PING', async () => {
    const { connection, pongs } = fakeConnection();
    const batch = new FlushBatch(() => connection, 5000);
    const first = batch.confirm();
    await nextTurn();
    const second = batch.confirm();
    expect(second).not.toBe(first);
    pongs[0]!.resolve();
    await first;
    // The first PONG says nothing about a PUB written after its PING.
    expect(await settled(second)).toBe(false);
    await nextTurn();
    expect(pongs).toHaveLength(2);
    pongs[1]!.resolve();
    await second;
  });

  it('rejects the whole batch when no PONG comes in time, or the flush fails', async () => {
    const { connection, pongs } = fakeConnection();
    const batch = new FlushBatch(() => connection, 50);
    const late = [batch.confirm(), batch.confirm()];
    const failures = await Promise.all(late.map((promise) => promise.then(() => undefined, (error: unknown) => error)));
    expect(failures.every((failure) => failure instanceof FlushFailure && failure.timedOut)).toBe(true);
    pongs[0]!.resolve(); // A PONG after the deadline changes nothing.

    const failing = batch.confirm();
    await nextTurn();
    pongs[1]!.reject(new Error('connection closed'));
    await expect(failing).rejects.toMatchObject({ timedOut: false, cause: { message: 'connection closed' } });
  });

  it('rejects at once when the connection refuses the PING', async () => {
    const connection = {
      flush: () => {
        throw new Error('closed');
      },
    } as unknown as NatsConnection;
    await expect(new FlushBatch(() => connection, 5000).confirm()).rejects.toMatchObject({ timedOut: false, cause: { message: 'closed' } });
  });
});
