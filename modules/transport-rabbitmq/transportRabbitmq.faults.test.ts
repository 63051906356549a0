import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { MicroError, Tokens } from '../../src/index.js';
import { TestApps } from '../../test/helpers/apps.js';
import { eventually, sleep } from '../../test/helpers/eventually.js';
import { privateServer, requireServer } from '../../test/servers/testServers.js';
import type { ServerInstance } from '../../test/servers/ServerInstance.js';
import { Shop } from '../../test/unit/fixtures.js';

// The shared server only tells whether RabbitMQ is installed and expected here; the faults hit a private one.
const shared = await requireServer('rabbitmq');

shared.describe('transport-rabbitmq faults (private RabbitMQ)', () => {
  const apps = new TestApps();
  let instance: ServerInstance;
  beforeAll(async () => {
    instance = await privateServer('rabbitmq');
  }, 90_000);
  afterAll(async () => {
    await apps.stopAll();
    await instance?.destroy();
  }, 60_000);

  it('calls resume after RabbitMQ restarts, and the server keeps its registered address', async () => {
    const config = { transport: { plugin: 'rabbitmq', address: instance.address, options: { reconnectMaxDelay: '1s' } }, registry: 'memory', broker: 'memory' };
    const shop = await apps.started({ services: [Shop], memory: false, config });
    const client = await apps.started({ memory: false, config });
    const address = shop.servers[0]!.address;
    const order = (item: string) => client.client.call('shop', 'Shop.place', { item, quantity: 1 }, { timeoutMs: 1000 });
    await expect(order('before')).resolves.toMatchObject({ accepted: 'before' });

    // A steady stream of calls while the server goes away and comes back.
    const outcome = { ok: 0, failed: 0, codes: {} as Record<number, number> };
    let running = true;
    const stream = (async () => {
      for (let i = 0; running; i++) {
        try {
          await order(`during-${i}`);
          outcome.ok++;
        } catch (error) {
          outcome.failed++;
          const code = MicroError.is(error) ? error.code : 0;
          outcome.codes[code] = (outcome.codes[code] ?? 0) + 1;
        }
        await sleep(50);
      }
    })();
    await sleep(300);
    await instance.restart();
    const restartedAt = Date.now();
    await eventually(() => expect(order('after')).resolves.toMatchObject({ accepted: 'after' }), 30_000, 200);
    const recoveredInMs = Date.now() - restartedAt;
    running = false;
    await stream;
    console.log(`transport across a RabbitMQ restart: ${outcome.ok} calls ok, ${outcome.failed} failed (by code ${JSON.stringify(outcome.codes)}); calls worked again ${recoveredInMs} ms after the server answered`);

    expect(shop.servers[0]!.address).toBe(address);
    expect((await client.get(Tokens.Registry).getService('shop'))[0]!.nodes[0]!.address).toBe(address);
    expect(outcome.ok).toBeGreaterThan(0);
    // Failures during the outage are the retryable kinds, never a hang past the deadline or a handler error.
    for (const code of Object.keys(outcome.codes).map(Number)) expect([408, 502, 503]).toContain(code);
    // Many calls in flight work again on the restored connections.
    const replies = await Promise.all([...Array(50).keys()].map((i) => order(`burst-${i}`)));
    expect(replies).toHaveLength(50);
  }, 90_000);
});
