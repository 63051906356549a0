import { afterAll, afterEach, beforeEach, expect, it } from '@jest/globals';
import * as jetstream from '@nats-io/jetstream';
import * as nats from '@nats-io/transport-node';
import { Tokens } from '../../src/index.js';
import { TestApps } from '../../test/helpers/apps.js';
import { captureLogger } from '../../test/helpers/captureLogger.js';
import { eventually, sleep, uniqueName } from '../../test/helpers/eventually.js';
import { requireServer } from '../../test/servers/testServers.js';
import { calls, resetCalls, Shop } from '../../test/unit/fixtures.js';
import { NatsConnector } from '../shared/nats/natsConnection.js';
import { silentLogger } from '../../src/logger/PinoLogger.js';

const server = await requireServer('nats');
/** This file's own subjects and stream on the shared server. */
const run = uniqueName('app').replace(/-/g, '_');
const stream = `TSMICRO_APP_${run}`.toUpperCase();

server.describe('NATS plugins in an App', () => {
  const apps = new TestApps();
  beforeEach(() => resetCalls());
  afterEach(() => apps.stopAll());
  afterAll(async () => {
    const connection = await nats.connect({ servers: server.address });
    await (await jetstream.jetstreamManager(connection)).streams.delete(stream).catch(() => undefined);
    await connection.close();
  });

  /** Registry, broker and transport all `nats`, chosen by plugin name, as a config file would. */
  const allNats = (mode: 'core' | 'jetstream') => ({
    registry: { plugin: 'nats', address: server.address, options: { prefix: `tsmicro.test.${run}.registry` } },
    broker: { plugin: 'nats', address: server.address, options: { jetstream: mode === 'jetstream', stream, subjectPrefix: `tsmicro.test.${run}.${mode}`, redeliveryDelay: '20ms' } },
    transport: { plugin: 'nats', address: server.address },
  });

  for (const mode of ['core', 'jetstream'] as const) {
    it(`${mode}: a decorated service is called and gets its events, with registry, broker and transport on NATS`, async () => {
      const shop = await apps.started({ services: [Shop], memory: false, config: allNats(mode) });
      expect([shop.get(Tokens.Registry).name, shop.get(Tokens.Broker).name, shop.get(Tokens.Transport).name]).toEqual(['nats', 'nats', 'nats']);
      const client = await apps.started({ memory: false, config: allNats(mode) });
      await expect(client.client.call('shop', 'Shop.place', { item: 'tea', quantity: 2 }, { metadata: { 'x-request-id': 'r1' } })).resolves.toMatchObject({ accepted: 'tea', metadata: { 'x-request-id': 'r1' } });
      await client.client.publish('shop.restocked', { item: 'tea', quantity: 5 }, { metadata: { 'x-trace': 't1' } });
      await client.client.publish('shop.restocked', { item: 'flaky', quantity: 1 });
      await eventually(() => expect(calls.events.map((event) => `${(event.payload as { item: string }).item}#${event.attempt}`).sort()).toEqual(['flaky#1', 'flaky#2', 'tea#1']), 10_000);
      expect(calls.events.find((event) => (event.payload as { item: string }).item === 'tea')!.metadata).toMatchObject({ 'x-trace': 't1' });
    });

    it(`${mode}: a malformed event published raw on a subscribed subject is logged and dropped; the subscription goes on`, async () => {
      const lines = captureLogger();
      await apps.started({ services: [Shop], memory: false, config: allNats(mode), logger: lines });
      const raw = await nats.connect({ servers: server.address });
      raw.publish(`tsmicro.test.${run}.${mode}.shop.restocked`, 'this is not json');
      raw.publish(`tsmicro.test.${run}.${mode}.shop.restocked`, JSON.stringify({ item: '', quantity: -1 }));
      await raw.flush();
      await raw.close();
      const client = await apps.started({ memory: false, config: allNats(mode) });
      await client.client.publish('shop.restocked', { item: 'valid', quantity: 1 });
      await eventually(() => expect(calls.events.map((event) => (event.payload as { item: string }).item)).toEqual(['valid']), 10_000);
      await eventually(() => expect(lines.lines.filter((line) => line.message === 'event rejected')).toHaveLength(2));
      // Dropped for good (JetStream: terminated), not redelivered.
      await sleep(500);
      expect(lines.lines.filter((line) => line.message === 'event rejected')).toHaveLength(2);
      expect(calls.events).toHaveLength(1);
    });
  }

  it('chosen by environment variables, JetStream included', async () => {
    const env = {
      MICRO_REGISTRY: 'nats',
      MICRO_REGISTRY_ADDRESS: server.address,
      MICRO_REGISTRY_NATS_PREFIX: `tsmicro.test.${run}.env`,
      MICRO_BROKER: 'nats',
      MICRO_BROKER_ADDRESS: `nats://${server.address}`,
      MICRO_BROKER_NATS_JETSTREAM: 'true',
      MICRO_BROKER_NATS_STREAM: stream,
      MICRO_BROKER_NATS_SUBJECT_PREFIX: `tsmicro.test.${run}.env`,
      MICRO_TRANSPORT: 'nats',
      MICRO_TRANSPORT_ADDRESS: server.address,
    };
    const shop = await apps.started({ services: [Shop], memory: false, sources: { env, argv: [] } });
    expect(shop.loaded.plugins.filter((plugin) => plugin.name === 'nats').map((plugin) => `${plugin.kind}:${plugin.origin}`).sort()).toEqual(['broker:modules/broker-nats', 'registry:modules/registry-nats', 'transport:modules/transport-nats']);
    const client = await apps.started({ memory: false, sources: { env, argv: [] } });
    await expect(client.client.call('shop', 'Shop.place', { item: 'env', quantity: 1 })).resolves.toMatchObject({ accepted: 'env' });
    await client.client.publish('shop.restocked', { item: 'env', quantity: 1 });
    await eventually(() => expect(calls.events).toHaveLength(1), 10_000);
  });

  it('shares one connection between the NATS plugins of a process with the same servers and credentials', async () => {
    const settings = { servers: [server.address], connectTimeoutMs: 3000, share: true };
    const [registry, broker, other] = [
      new NatsConnector(nats, settings, silentLogger),
      new NatsConnector(nats, { ...settings, servers: [`nats://${server.address}`] }, silentLogger),
      new NatsConnector(nats, { ...settings, token: 'different' }, silentLogger),
    ];
    const link = await registry.acquire();
    expect(await broker.acquire()).toBe(link);
    // Other credentials, another connection (this test server accepts any).
    expect(await other.acquire()).not.toBe(link);
    await other.release();
    await registry.release();
    expect(link.connection.isClosed()).toBe(false);
    await broker.release();
    expect(link.connection.isClosed()).toBe(true);
    const again = await registry.acquire();
    expect(again).not.toBe(link);
    await registry.release();
  });
});
