import { afterAll, afterEach, beforeAll, expect, it } from '@jest/globals';
import { MicroError, Tokens } from '../../src/index.js';
import { TestApps } from '../../test/helpers/apps.js';
import { eventually, sleep } from '../../test/helpers/eventually.js';
import { privateServer, requireServer } from '../../test/servers/testServers.js';
import type { ServerInstance } from '../../test/servers/ServerInstance.js';
import { Shop } from '../../test/unit/fixtures.js';

const shared = await requireServer('nats');

shared.describe('transport-nats faults (private server)', () => {
  let instance: ServerInstance;
  const apps = new TestApps();
  beforeAll(async () => {
    instance = await privateServer('nats');
  }, 30_000);
  afterEach(() => apps.stopAll());
  afterAll(async () => {
    await apps.stopAll();
    await instance?.destroy();
  });

  const config = () => ({
    transport: { plugin: 'nats', address: instance.address, dialTimeout: '1s' },
    registry: 'memory',
    broker: 'memory',
  });

  it('calls resume by themselves after the NATS server restarts; calls during the outage fail, none hang', async () => {
    await apps.started({ services: [Shop], memory: false, config: config() });
    const client = await apps.started({ memory: false, config: config() });
    expect(client.get(Tokens.Transport).name).toBe('nats');
    const outcome = { ok: 0, failed: 0, codes: new Map<number, number>() };
    let running = true;
    const caller = (async () => {
      while (running) {
        try {
          await client.client.call('shop', 'Shop.safe', { ms: 0 }, { timeoutMs: 1000 });
          outcome.ok++;
        } catch (error) {
          outcome.failed++;
          const code = MicroError.is(error) ? error.code : 0;
          outcome.codes.set(code, (outcome.codes.get(code) ?? 0) + 1);
        }
        await sleep(10);
      }
    })();
    await eventually(() => expect(outcome.ok).toBeGreaterThan(20));
    const before = outcome.ok;
    // A restart with a two-second outage: calls made meanwhile fail within their deadline.
    await instance.stop();
    await sleep(2000);
    await instance.start();
    await eventually(() => expect(outcome.ok).toBeGreaterThan(before + 20), 15_000);
    running = false;
    await caller;
    // After the restart nothing is left broken: many calls at once all succeed.
    const burst = await Promise.all([...Array(50).keys()].map(() => client.client.call('shop', 'Shop.safe', { ms: 0 }).then(() => 'ok', (error: Error) => error.message)));
    expect(burst.filter((result) => result !== 'ok')).toEqual([]);
    console.log(`transport-nats restart: ${outcome.ok} calls ok, ${outcome.failed} failed during the outage (by code: ${JSON.stringify(Object.fromEntries(outcome.codes))})`);
  }, 45_000);
});
