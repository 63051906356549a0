import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import { loadConfig, Tokens } from '../../src/index.js';
import { TestApps } from '../../test/helpers/apps.js';
import { Shop } from '../../test/unit/fixtures.js';
import { StaticSelector } from './StaticSelector.js';

describe('selector-static', () => {
  const apps = new TestApps();
  const directory = mkdtempSync(join(tmpdir(), 'tsmicro-static-'));
  afterEach(() => apps.stopAll());
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  it('derives addresses from the name, domain and port, or an explicit map', async () => {
    const selector = new StaticSelector({ domain: 'default.svc.cluster.local', port: 8080, services: { billing: '10.0.0.9:9000' } });
    expect((await selector.select('greeter'))().node.address).toBe('greeter.default.svc.cluster.local:8080');
    expect((await selector.select('billing'))().node.address).toBe('10.0.0.9:9000');
    expect(new StaticSelector({ domain: '', port: 0, services: {} }).addressOf('x')).toBe('x');
  });

  it('reads its options from go-micro env names', async () => {
    const { plugins } = await loadConfig({ env: { MICRO_SELECTOR: 'static', STATIC_SELECTOR_DOMAIN_NAME: 'svc.local', STATIC_SELECTOR_PORT_NUMBER: '9090' }, argv: [], cwd: directory });
    const selector = plugins.find((plugin) => plugin.kind === 'selector')!;
    expect(selector.origin).toBe('modules/selector-static');
    expect(selector.options).toEqual({ domain: 'svc.local', port: 9090, services: {} });
  });

  it('chosen by config, calls a server at its address without asking the registry', async () => {
    const server = await apps.started({ services: [Shop], memory: false, config: { registry: { address: join(directory, 'server-registry') } } });
    const address = server.servers[0]!.address!;
    // The client's registry is another, empty directory: only the static selector can find the shop.
    const client = await apps.started({ memory: false, config: { registry: { address: join(directory, 'client-registry') }, selector: { plugin: 'static', options: { services: { shop: address } } } } });
    expect(client.get(Tokens.Selector).name).toBe('static');
    expect(await client.get(Tokens.Registry).getService('shop')).toEqual([]);
    await expect(client.client.call('shop', 'Shop.place', { item: 'tea', quantity: 1 })).resolves.toMatchObject({ accepted: 'tea' });
  });
});
