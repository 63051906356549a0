import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { Gateway } from '../../src/gateway/Gateway.js';
import { loadConfig, Tokens } from '../../src/index.js';
import { TestApps } from '../../test/helpers/apps.js';
import { post, startGateway } from '../gateway-xray/fixtures.js';
import { DaemonDouble, only } from '../shared/xray/testSupport.js';
import { Back, Front } from './fixtures.js';

describe('wrapper-xray', () => {
  const apps = new TestApps();
  const directory = mkdtempSync(join(tmpdir(), 'tsmicro-xray-'));
  let daemon: DaemonDouble;
  let gateway: Gateway | undefined;

  const xray = (extra: Record<string, unknown> = {}) => ({ daemonAddress: daemon.address, samplingRate: 1, ...extra });

  beforeEach(async () => {
    daemon = await DaemonDouble.start();
  });
  afterEach(async () => {
    await gateway?.stop();
    gateway = undefined;
    await apps.stopAll();
    expect(daemon.protocolErrors).toEqual([]);
    await daemon.close();
  });
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  it('works without a gateway: a call that carries no trace starts one at the first service', async () => {
    await apps.started({ services: [Front, Back], config: { wrappers: { plugins: ['xray'], xray: xray({ name: 'shop-floor' }) } } });
    // The caller has the wrapper too, but outside any handler there is no segment to hang a subsegment on.
    const client = await apps.started({ config: { wrappers: { plugins: ['xray'], xray: xray() } } });
    await client.client.call('front', 'Front.relay', { item: 'tea' });
    const documents = await daemon.waitForCount(3);
    const front = only(documents, (document) => !document.type && document.annotations?.endpoint === 'Front.relay', 'front segment');
    const call = only(documents, (document) => document.type === 'subsegment', 'remote subsegment');
    const back = only(documents, (document) => !document.type && document.annotations?.endpoint === 'Back.work', 'back segment');
    expect(front).not.toHaveProperty('parent_id');
    expect(call.parent_id).toBe(front.id);
    expect(back.parent_id).toBe(call.id);
    // The name option replaces every service's own name; the subsegment keeps the callee's name.
    expect([front.name, call.name, back.name]).toEqual(['shop-floor', 'back', 'shop-floor']);
  });

  it('works next to gateway-xray in one process: the gateway call gets a remote subsegment of its own', async () => {
    await apps.started({ services: [Front], config: { wrappers: { plugins: ['xray'], xray: xray() } } });
    await apps.started({ services: [Back] });
    const app = await apps.started({ config: { gateway: { address: '127.0.0.1:0', plugins: ['xray'], xray: xray() }, wrappers: { plugins: ['xray'], xray: xray() } } });
    let base: string;
    ({ gateway, base } = await startGateway(app));
    expect((await post(base, '/front/relay', { item: 'tea' })).status).toBe(200);
    // back has no wrapper: its call is the front's remote subsegment, and no segment of its own.
    const documents = await daemon.waitForCount(4);
    const g = only(documents, (document) => document.name === 'tsmicro-gateway', 'gateway segment');
    const gatewayCall = only(documents, (document) => document.type === 'subsegment' && document.name === 'front', 'gateway call subsegment');
    const front = only(documents, (document) => document.name === 'front' && !document.type, 'front segment');
    const frontCall = only(documents, (document) => document.type === 'subsegment' && document.name === 'back', 'front call subsegment');
    expect(gatewayCall).toMatchObject({ parent_id: g.id, namespace: 'remote', trace_id: g.trace_id });
    expect(front).toMatchObject({ parent_id: gatewayCall.id, trace_id: g.trace_id });
    expect(frontCall).toMatchObject({ parent_id: front.id, trace_id: g.trace_id });
    expect(documents).toHaveLength(4);
  });

  it('does not trace health checks', async () => {
    await apps.started({ services: [Front], config: { wrappers: { plugins: ['xray'], xray: xray() } } });
    const client = await apps.started();
    await client.client.call('front', 'Debug.Health', {});
    await client.client.call('front', 'Front.announce', { item: 'barrier' });
    const documents = await daemon.waitForCount(1);
    expect(documents.map((document) => document.annotations?.endpoint)).toEqual(['Front.announce']);
  });

  it('binds one handler wrapper and one call wrapper, alongside other wrappers', async () => {
    const app = await apps.create({ config: { wrappers: { plugins: ['xray'], xray: xray() } } });
    expect(app.container.getAll(Tokens.HandlerWrapper)).toHaveLength(1);
    expect(app.container.getAll(Tokens.CallWrapper)).toHaveLength(1);
    expect(app.loaded.plugins.find((plugin) => plugin.kind === 'wrapper')).toMatchObject({ origin: 'modules/wrapper-xray', optionsPath: 'wrappers.xray' });
  });

  it('reads its options from the X-Ray and tsmicro env names, shared with the gateway plugin', async () => {
    const env = { MICRO_WRAPPERS: 'xray', MICRO_API_PLUGINS: 'xray', AWS_XRAY_DAEMON_ADDRESS: 'tcp:10.0.0.5:2000 udp:10.0.0.5:2001', MICRO_XRAY_SAMPLING_RATE: '0.25', MICRO_XRAY_SAMPLING_RESERVOIR: '3', MICRO_XRAY_NAME: 'orders', MICRO_API_XRAY_NAME: 'edge' };
    const { plugins } = await loadConfig({ env, argv: [], cwd: directory });
    const common = { daemonAddress: 'tcp:10.0.0.5:2000 udp:10.0.0.5:2001', samplingRate: 0.25, samplingReservoir: 3, origin: '', annotations: {} };
    expect(plugins.find((plugin) => plugin.kind === 'wrapper')!.options).toEqual({ ...common, name: 'orders' });
    expect(plugins.find((plugin) => plugin.kind === 'gateway')!.options).toEqual({ ...common, name: 'edge' });
    const defaults = await loadConfig({ env: { MICRO_WRAPPERS: 'xray' }, argv: [], cwd: directory });
    expect(defaults.plugins.find((plugin) => plugin.kind === 'wrapper')!.options).toEqual({ name: '', daemonAddress: '127.0.0.1:2000', samplingRate: 0.05, samplingReservoir: 1, origin: '', annotations: {} });
  });

  it('refuses bad options before anything starts, naming the key, value and source', async () => {
    const load = (env: Record<string, string>) => loadConfig({ env: { MICRO_WRAPPERS: 'xray', ...env }, argv: [], cwd: directory });
    await expect(load({ MICRO_XRAY_SAMPLING_RATE: '1.5' })).rejects.toThrow('config value wrappers.xray.samplingRate = "1.5" (from env MICRO_XRAY_SAMPLING_RATE) is invalid: must be a number from 0 to 1');
    await expect(load({ AWS_XRAY_DAEMON_ADDRESS: 'localhost' })).rejects.toThrow(/wrappers.xray.daemonAddress = "localhost" \(from env AWS_XRAY_DAEMON_ADDRESS\) is invalid: must be host:port/);
    await expect(load({ MICRO_XRAY_NAME: 'bad;name' })).rejects.toThrow(/wrappers.xray.name = "bad;name" .* must be at most 200 letters/);
    await expect(load({ MICRO_XRAY_ORIGIN: 'EC2' })).rejects.toThrow(/wrappers.xray.origin = "EC2" .* AWS::EC2::Instance/);
  });
});
