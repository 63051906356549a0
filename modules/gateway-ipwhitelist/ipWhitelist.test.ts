import { afterEach, describe, expect, it } from '@jest/globals';
import { createServer } from 'node:http';
import { createGateway } from '../../src/gateway/createGateway.js';
import type { Gateway } from '../../src/gateway/Gateway.js';
import { TestApps } from '../../test/helpers/apps.js';
import { Greeter } from '../../test/gateway/fixtures.js';

/** Some containers have no IPv6, not even on loopback: there the IPv6 tests say so and are skipped. */
const hasIpv6 = await new Promise<boolean>((resolve) => {
  const probe = createServer();
  probe.once('error', () => resolve(false));
  probe.listen(0, '::1', () => probe.close(() => resolve(true)));
});
if (!hasIpv6) console.warn('gateway-ipwhitelist: this machine has no IPv6 loopback (::1); the IPv6 end-to-end tests are skipped');
const itWithIpv6 = hasIpv6 ? it : it.skip;

const refused = (address: string, via?: string) => ({
  id: 'tsmicro.gateway.ipwhitelist',
  code: 403,
  detail: `address ${address} is not allowed to use this gateway${via ? ` (forwarded by ${via})` : ''}`,
  status: 'Forbidden',
});

describe('ipwhitelist plugin', () => {
  const apps = new TestApps();
  const gateways: Gateway[] = [];

  afterEach(async () => {
    await Promise.all(gateways.splice(0).map((gateway) => gateway.stop()));
    await apps.stopAll();
  });

  /** A gateway with the whitelist chosen by config; returns its base URL (`host` is how clients reach it). */
  async function gatewayWith(ipwhitelist: object, options: { address?: string; host?: string; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
    await apps.started({ services: [Greeter] });
    const plugins = options.env?.MICRO_API_PLUGINS ? {} : { plugins: ['ipwhitelist'] };
    const app = await apps.started({ config: { gateway: { address: options.address ?? '127.0.0.1:0', accessLog: false, ...plugins, ipwhitelist } }, sources: { env: options.env ?? {}, argv: [] } });
    const gateway = createGateway(app);
    await gateway.start();
    gateways.push(gateway);
    return `http://${options.host ?? '127.0.0.1'}:${gateway.address!.split(':').at(-1)}`;
  }
  const status = async (url: string, headers: Record<string, string> = {}) => {
    const response = await fetch(url, { headers });
    return [response.status, response.status === 403 ? await response.json() : undefined];
  };

  it('lets allowed IPv4 clients through to every route, and refuses others with 403 naming the address', async () => {
    const open = await gatewayWith({ allow: ['192.0.2.1', '127.0.0.0/8'] });
    expect(await status(`${open}/health`)).toEqual([200, undefined]);
    const hello = await fetch(`${open}/greeter/say-hello`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"Ada"}' });
    expect([hello.status, await hello.json()]).toEqual([200, { greeting: 'Hello, Ada' }]);
    const closed = await gatewayWith({ allow: '10.0.0.0/8, 192.0.2.1' });
    const response = await fetch(`${closed}/greeter/say-hello`, { method: 'POST', body: '{"name":"Ada"}' });
    expect([response.status, response.headers.get('connection'), await response.json()]).toEqual([403, 'close', refused('127.0.0.1')]);
    expect(await status(`${closed}/health`)).toEqual([403, refused('127.0.0.1')]);
  });

  itWithIpv6('matches IPv6 clients against IPv6 addresses and ranges', async () => {
    const allowed = await gatewayWith({ allow: ['2001:db8::/32', '::1'] }, { address: '[::1]:0', host: '[::1]' });
    expect(await status(`${allowed}/health`)).toEqual([200, undefined]);
    const range = await gatewayWith({ allow: ['::/127'] }, { address: '[::1]:0', host: '[::1]' });
    expect(await status(`${range}/health`)).toEqual([200, undefined]);
    const refusedV6 = await gatewayWith({ allow: ['2001:db8::/32', '127.0.0.1'] }, { address: '[::1]:0', host: '[::1]' });
    expect(await status(`${refusedV6}/health`)).toEqual([403, refused('::1')]);
  });

  itWithIpv6('treats an IPv4 client of a dual-stack gateway (::ffff:127.0.0.1 on the socket) as IPv4, for IPv4 and mapped IPv6 rules', async () => {
    for (const allow of [['127.0.0.1'], ['::ffff:127.0.0.0/104']]) {
      const base = await gatewayWith({ allow }, { address: '[::]:0' });
      expect([allow, await status(`${base}/health`)]).toEqual([allow, [200, undefined]]);
    }
    const base = await gatewayWith({ allow: ['::1'] }, { address: '[::]:0' });
    expect(await status(`${base}/health`)).toEqual([403, refused('127.0.0.1')]);
  });

  it('believes X-Forwarded-For only from a trusted proxy, taking the right-most address that is not one', async () => {
    const behindProxy = await gatewayWith({ allow: ['203.0.113.0/24'], trustedProxies: ['127.0.0.1', '10.0.0.0/8'] });
    expect(await status(`${behindProxy}/health`, { 'x-forwarded-for': '203.0.113.5' })).toEqual([200, undefined]);
    expect(await status(`${behindProxy}/health`, { 'x-forwarded-for': '198.51.100.1, 203.0.113.5, 10.0.0.4' })).toEqual([200, undefined]);
    expect(await status(`${behindProxy}/health`, { 'x-forwarded-for': '203.0.113.5, 198.51.100.1' })).toEqual([403, refused('198.51.100.1', '127.0.0.1')]);
    expect(await status(`${behindProxy}/health`)).toEqual([403, refused('127.0.0.1')]);
    const untrusted = await gatewayWith({ allow: ['203.0.113.0/24'], trustedProxies: ['10.0.0.1'] });
    expect(await status(`${untrusted}/health`, { 'x-forwarded-for': '203.0.113.5' })).toEqual([403, refused('127.0.0.1')]);
  });

  it('reads Forwarded instead when told to, and then ignores X-Forwarded-For', async () => {
    const base = await gatewayWith({ allow: ['2001:db8::/32'], trustedProxies: ['127.0.0.1'], forwardedHeader: 'forwarded' });
    expect(await status(`${base}/health`, { forwarded: 'for="[2001:db8::7]:4711";proto=https' })).toEqual([200, undefined]);
    expect(await status(`${base}/health`, { 'x-forwarded-for': '2001:db8::7' })).toEqual([403, refused('127.0.0.1')]);
  });

  it('reads its list from MICRO_API_IP_WHITELIST, or from go-micro IP_WHITELIST', async () => {
    const micro = await gatewayWith({}, { env: { MICRO_API_PLUGINS: 'ipwhitelist', MICRO_API_IP_WHITELIST: '10.0.0.0/8,127.0.0.1' } });
    expect(await status(`${micro}/health`)).toEqual([200, undefined]);
    const legacy = await gatewayWith({}, { env: { MICRO_API_PLUGINS: 'ipwhitelist', IP_WHITELIST: '10.0.0.0/8' } });
    expect(await status(`${legacy}/health`)).toEqual([403, refused('127.0.0.1')]);
    const both = await gatewayWith({}, { env: { MICRO_API_PLUGINS: 'ipwhitelist', MICRO_API_IP_WHITELIST: '127.0.0.1', IP_WHITELIST: '10.0.0.0/8' } });
    expect(await status(`${both}/health`)).toEqual([200, undefined]);
  });

  it('refuses to start without a list, with an empty one, or with a malformed entry, naming the option and the entry', async () => {
    const create = (ipwhitelist: object, env: NodeJS.ProcessEnv = {}) => apps.create({ config: { gateway: { plugins: ['ipwhitelist'], ipwhitelist } }, sources: { env, argv: [] } });
    await expect(create({})).rejects.toThrow(
      "gateway.ipwhitelist.allow is not set: list the IP addresses and CIDR ranges allowed to use the gateway (env MICRO_API_IP_WHITELIST, or go-micro's IP_WHITELIST); without a list every request would be refused",
    );
    await expect(create({ allow: [] })).rejects.toThrow(
      'config value gateway.ipwhitelist.allow = [] (from code) is invalid: must list at least one IP address or CIDR range; an empty list would refuse every request',
    );
    await expect(create({}, { MICRO_API_IP_WHITELIST: '' })).rejects.toThrow(
      'config value gateway.ipwhitelist.allow = "" (from env MICRO_API_IP_WHITELIST) is invalid: must list at least one IP address or CIDR range; an empty list would refuse every request',
    );
    await expect(create({}, { MICRO_API_IP_WHITELIST: '10.0.0.1, 10.0.0.300' })).rejects.toThrow(
      'config value gateway.ipwhitelist.allow = "10.0.0.1, 10.0.0.300" (from env MICRO_API_IP_WHITELIST) is invalid: "10.0.0.300" is not an IP address or CIDR range (such as 10.0.0.7, 10.0.0.0/8, 2001:db8::1, 2001:db8::/32; host names are not resolved)',
    );
    await expect(create({}, { IP_WHITELIST: '10.0.0.0/40' })).rejects.toThrow(
      'config value gateway.ipwhitelist.legacyAllow = "10.0.0.0/40" (from env IP_WHITELIST) is invalid: "10.0.0.0/40" is not a CIDR range: the prefix length after "/" must be a whole number from 0 to 32',
    );
    await expect(create({ allow: ['10.0.0.1'], trustedProxies: ['proxy.internal'] })).rejects.toThrow(
      'config value gateway.ipwhitelist.trustedProxies = ["proxy.internal"] (from code) is invalid: "proxy.internal" is not an IP address or CIDR range (such as 10.0.0.7, 10.0.0.0/8, 2001:db8::1, 2001:db8::/32; host names are not resolved)',
    );
    await expect(create({ allow: ['10.0.0.1'], forwardedHeader: 'x-real-ip' })).rejects.toThrow(/^config value gateway.ipwhitelist.forwardedHeader = "x-real-ip" \(from code\) is invalid: must be one of/);
  });
});
