import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import { Tokens } from '../../src/index.js';
import { silentLogger } from '../../src/logger/PinoLogger.js';
import { runRegistryContract, sampleService } from '../../test/contracts/registryContract.js';
import { ConsulDouble } from '../../test/consul/ConsulDouble.js';
import { consulTarget } from '../../test/consul/consulTarget.js';
import { TestApps } from '../../test/helpers/apps.js';
import { eventually, uniqueName } from '../../test/helpers/eventually.js';
import { Shop } from '../../test/unit/fixtures.js';
import { ConsulClient, type ConsulClientOptions } from './ConsulClient.js';
import { ConsulRegistry, deregisterAfterMs } from './ConsulRegistry.js';
import { decodeTags, encodeTags } from './consulTags.js';

const target = await consulTarget();
afterAll(() => target.close());

const clientOptions = (address: string, extra: Partial<ConsulClientOptions> = {}): ConsulClientOptions => ({
  address,
  token: process.env.CONSUL_HTTP_TOKEN ?? '',
  datacenter: '',
  tls: false,
  caFile: '',
  certFile: '',
  keyFile: '',
  insecureSkipVerify: false,
  timeoutMs: 5000,
  ...extra,
});
const registryAt = (address: string, extra: Partial<ConsulClientOptions> = {}) => new ConsulRegistry(new ConsulClient(clientOptions(address, extra)), { allowStale: true, watchWaitMs: 2000 }, silentLogger);

runRegistryContract(`consul (${target.real ? `real agent at ${target.address}` : 'agent double'})`, {
  create: () => registryAt(target.address),
  ttlMs: target.real ? 3000 : 1000,
  expiryGraceMs: 4000,
});

describe('registry-consul specifics', () => {
  const apps = new TestApps();
  afterEach(() => apps.stopAll());

  it('writes go-micro tags: hex(zlib(json)) per endpoint, node metadata pair and version, and reads the legacy forms', () => {
    const service = sampleService('tags');
    const tags = encodeTags({ version: '1.2.3', endpoints: service.endpoints, nodeMetadata: { zone: 'a' }, serviceMetadata: {} });
    const inflate = (tag: string) => inflateSync(Buffer.from(tag.slice(2), 'hex')).toString();
    expect(tags.map((tag) => tag.slice(0, 2))).toEqual(['t-', 'e-', 'v-']);
    expect(JSON.parse(inflate(tags[0]!))).toEqual({ zone: 'a' });
    expect(JSON.parse(inflate(tags[1]!))).toEqual(service.endpoints[0]);
    expect(inflate(tags[2]!)).toBe('1.2.3');
    const legacy = decodeTags(['v=0.9', `e=${JSON.stringify({ name: 'Old.call', request: null, response: null, metadata: {} })}`, 't={"k":"v"}', 'unrelated-tag', 'e-nothex']);
    expect(legacy).toMatchObject({ version: '0.9', nodeMetadata: { k: 'v' }, endpoints: [{ name: 'Old.call' }] });
  });

  it('registers a TTL check that deregisters a critical service after max(ttl, 1m) + 5s', () => {
    expect(deregisterAfterMs(30_000)).toBe(65_000);
    expect(deregisterAfterMs(90_000)).toBe(95_000);
  });

  it('a node whose TTL check lapses disappears at once from queries, and is deregistered by the agent later', async () => {
    if (target.real) return; // a real agent reaps after at least 65 s; the contract suite covers the lapse itself
    const double = new ConsulDouble({ timings: { reapIntervalMs: 100, minimumDeregisterAfterMs: 0 } });
    const registry = registryAt(await double.listen());
    const service = sampleService(uniqueName('lapse'));
    await registry.register(service, { ttlMs: 300 });
    expect(await registry.getService(service.name)).toHaveLength(1);
    await eventually(async () => expect(await registry.getService(service.name)).toEqual([]), 3000);
    // Lapsed, not yet reaped: Consul still lists it, critical.
    expect(double.state.services.has(service.nodes[0]!.id)).toBe(true);
    // The plugin asked for max(ttl, 1m) + 5 s; with the reaper's minimum compressed to 0 the double honours it.
    expect(double.state.checks.get(`service:${service.nodes[0]!.id}`)!.deregisterAfterMs).toBe(65_000);
    await registry.close();
    await double.close();
  });

  it('re-registers by itself when the agent has forgotten the service (agent restart)', async () => {
    const double = new ConsulDouble();
    const address = await double.listen();
    const registry = registryAt(address);
    const service = sampleService(uniqueName('forgotten'));
    await registry.register(service, { ttlMs: 5000 });
    await double.close();
    const restarted = new ConsulDouble();
    await restarted.listen(Number(address.split(':')[1]));
    expect(await registry.getService(service.name)).toEqual([]);
    await registry.register(service, { ttlMs: 5000 });
    expect((await registry.getService(service.name))[0]!.nodes).toHaveLength(1);
    await registry.close();
    await restarted.close();
  });

  it('sends the ACL token, and says so when the agent refuses', async () => {
    const double = new ConsulDouble({ aclToken: 'secret-token' });
    const address = await double.listen();
    await expect(registryAt(address).getService('x')).rejects.toThrow('consul: GET /v1/health/service/x answered 403: Permission denied (check the ACL token: registry.options.token / CONSUL_HTTP_TOKEN)');
    const registry = registryAt(address, { token: 'secret-token' });
    await registry.register(sampleService('acl'), { ttlMs: 5000 });
    expect(await registry.getService('acl')).toHaveLength(1);
    await double.close();
  });

  it('queries the configured datacenter', async () => {
    const double = new ConsulDouble({ datacenter: 'eu-1' });
    const address = await double.listen();
    await expect(registryAt(address, { datacenter: 'us-1' }).listServices()).rejects.toThrow(/answered 500: No path to datacenter/);
    await expect(registryAt(address, { datacenter: 'eu-1' }).listServices()).resolves.toEqual([]);
    await double.close();
  });

  it('talks HTTPS to an agent with its own CA, and refuses an unverified certificate', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'tsmicro-consul-tls-'));
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(directory, 'key.pem'), '-out', join(directory, 'cert.pem')], { stdio: 'ignore' });
      const double = new ConsulDouble({ tls: { key: readFileSync(join(directory, 'key.pem'), 'utf8'), cert: readFileSync(join(directory, 'cert.pem'), 'utf8') } });
      const address = await double.listen();
      await expect(registryAt(address, { tls: true }).listServices()).rejects.toThrow(/self-signed certificate/);
      await expect(registryAt(address, { tls: true, caFile: join(directory, 'cert.pem') }).listServices()).resolves.toEqual([]);
      await expect(registryAt(`https://${address}`, { caFile: join(directory, 'cert.pem') }).listServices()).resolves.toEqual([]);
      await double.close();
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('chosen by config, carries a call between two apps', async () => {
    const config = { registry: { plugin: 'consul', address: target.address, options: { watchWait: '2s' } }, server: { registerTtl: '5s', registerInterval: '1s' } };
    const server = await apps.started({ services: [Shop], memory: false, config });
    expect(server.get(Tokens.Registry).name).toBe('consul');
    const client = await apps.started({ memory: false, config });
    await expect(client.client.call('shop', 'Shop.place', { item: 'tea', quantity: 1 })).resolves.toMatchObject({ accepted: 'tea' });
    const [entry] = await client.get(Tokens.Registry).getService('shop');
    expect(entry!.nodes[0]!.metadata).toMatchObject({ registry: 'consul', transport: 'tcp' });
    expect(entry!.endpoints.find((endpoint) => endpoint.name === 'Shop.place')!.request!.type).toBe('Order');
  });
});
