import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { Gateway } from '../../src/gateway/Gateway.js';
import type { App } from '../../src/index.js';
import { TestApps } from '../../test/helpers/apps.js';
import { eventually } from '../../test/helpers/eventually.js';
import { post, startGateway } from '../gateway-xray/fixtures.js';
import type { SegmentDocument } from '../shared/xray/segmentDocument.js';
import { DaemonDouble, only } from '../shared/xray/testSupport.js';
import { Back, Front, received } from './fixtures.js';

/** The documents of one gateway request through front → back, by role. */
function chain(documents: readonly SegmentDocument[]) {
  const gateway = only(documents, (document) => document.name === 'tsmicro-gateway', 'gateway segment');
  const front = only(documents, (document) => document.name === 'front' && !document.type, 'front segment');
  const call = only(documents, (document) => document.type === 'subsegment' && document.name === 'back', 'remote subsegment for the call to back');
  const back = only(documents, (document) => document.name === 'back' && !document.type, 'back segment');
  return { gateway, front, call, back };
}

describe('wrapper-xray: a trace across the gateway and two services', () => {
  const apps = new TestApps();
  let daemon: DaemonDouble;
  let gateway: Gateway | undefined;
  let base: string;

  const wrappers = () => ({ wrappers: { plugins: ['xray'], xray: { daemonAddress: daemon.address, samplingRate: 1 } } });

  async function tracedGateway(xray: Record<string, unknown> = {}): Promise<App> {
    const app = await apps.started({ config: { gateway: { address: '127.0.0.1:0', plugins: ['xray'], xray: { daemonAddress: daemon.address, samplingRate: 1, ...xray } } } });
    ({ gateway, base } = await startGateway(app));
    return app;
  }

  beforeEach(async () => {
    received.length = 0;
    daemon = await DaemonDouble.start();
    await apps.started({ services: [Front], config: wrappers() });
    await apps.started({ services: [Back], config: wrappers() });
  });
  afterEach(async () => {
    await gateway?.stop();
    gateway = undefined;
    await apps.stopAll();
    expect(daemon.protocolErrors).toEqual([]);
    await daemon.close();
  });

  it('connects gateway segment → front segment → remote subsegment → back segment', async () => {
    await tracedGateway();
    const response = await post(base, '/front/relay', { item: 'tea' });
    const reply = (await response.json()) as { item: string; header: string };
    const { gateway: g, front, call, back } = chain(await daemon.waitForCount(4));
    for (const document of [front, call, back]) expect(document.trace_id).toBe(g.trace_id);
    expect(g).not.toHaveProperty('parent_id');
    expect(front.parent_id).toBe(g.id);
    expect(call.parent_id).toBe(front.id);
    expect(back.parent_id).toBe(call.id);
    expect(new Set([g.id, front.id, call.id, back.id]).size).toBe(4);
    expect(front).toMatchObject({ annotations: { endpoint: 'Front.relay' }, http: { response: { status: 200 } }, metadata: { tsmicro: { service: 'front', endpoint: 'Front.relay', kind: 'rpc' } } });
    expect(call).toMatchObject({ type: 'subsegment', namespace: 'remote', http: { response: { status: 200 } }, metadata: { tsmicro: { service: 'back', endpoint: 'Back.work' } } });
    for (const document of [g, front, call, back]) {
      expect(document).not.toHaveProperty('error');
      expect(document).not.toHaveProperty('fault');
      expect(document.end_time).toBeGreaterThanOrEqual(document.start_time);
    }
    // Each hop starts after the one that caused it (same process, same clock).
    expect(front.start_time).toBeGreaterThanOrEqual(g.start_time);
    expect(call.start_time).toBeGreaterThanOrEqual(front.start_time);
    expect(back.start_time).toBeGreaterThanOrEqual(call.start_time);
    // The handler sees its own segment as the parent of whatever it does next.
    expect(reply).toEqual({ item: 'tea', header: `Root=${g.trace_id};Parent=${back.id};Sampled=1` });
  });

  it('records a 4xx from the callee as an error at every hop, remote where another service raised it', async () => {
    await tracedGateway();
    expect((await post(base, '/front/relay-failure', { code: 409 })).status).toBe(409);
    const { gateway: g, front, call, back } = chain(await daemon.waitForCount(4));
    expect(back).toMatchObject({ error: true, http: { response: { status: 409 } }, cause: { exceptions: [{ message: 'refused with 409', type: '409 Conflict' }] }, metadata: { tsmicro: { code: 409, errorId: 'back' } } });
    expect(back.cause!.exceptions[0]).not.toHaveProperty('remote');
    expect(call).toMatchObject({ error: true, cause: { exceptions: [{ message: 'refused with 409', remote: true }] } });
    expect(front).toMatchObject({ error: true, cause: { exceptions: [{ remote: true }] } });
    expect(g).toMatchObject({ error: true, http: { response: { status: 409 } } });
    for (const document of [g, front, call, back]) expect(document).not.toHaveProperty('fault');
  });

  it('records a thrown Error as a fault (500), a throttle for 429, and a local 4xx as not remote', async () => {
    await tracedGateway();
    expect((await post(base, '/front/relay-failure', { code: 500 })).status).toBe(500);
    const failed = chain(await daemon.waitForCount(4));
    expect(failed.back).toMatchObject({ fault: true, http: { response: { status: 500 } }, cause: { exceptions: [{ message: 'disk on fire', type: 'Error' }] } });
    for (const document of [failed.gateway, failed.front, failed.call]) expect(document).toMatchObject({ fault: true });
    daemon.clear();
    expect((await post(base, '/front/relay-failure', { code: 429 })).status).toBe(429);
    const throttled = chain(await daemon.waitForCount(4));
    for (const document of Object.values(throttled)) expect(document).toMatchObject({ error: true, throttle: true });
    daemon.clear();
    expect((await post(base, '/front/refuse', {})).status).toBe(403);
    const [refused] = (await daemon.waitForCount(2)).filter((document) => document.name === 'front');
    expect(refused).toMatchObject({ error: true, cause: { exceptions: [{ message: 'not for you', type: '403 Forbidden' }] } });
    expect(refused!.cause!.exceptions[0]).not.toHaveProperty('remote');
  });

  it("carries the trace to subscribers: events published through the gateway, and by a handler", async () => {
    await tracedGateway();
    expect((await post(base, '/event/front.announced', { item: 'tea' })).status).toBe(202);
    let documents = await daemon.waitForCount(2);
    const g = only(documents, (document) => document.name === 'tsmicro-gateway', 'gateway segment');
    const subscriber = only(documents, (document) => document.name === 'back', 'subscriber segment');
    expect(subscriber).toMatchObject({ trace_id: g.trace_id, parent_id: g.id, annotations: { endpoint: 'front.announced' }, metadata: { tsmicro: { kind: 'event', endpoint: 'front.announced', attempt: 1 } } });
    expect(subscriber).not.toHaveProperty('http');
    await eventually(() => expect(received).toHaveLength(1));
    expect(received[0]).toEqual({ topic: 'front.announced', header: `Root=${g.trace_id};Parent=${subscriber.id};Sampled=1`, attempt: 1 });

    daemon.clear();
    await post(base, '/front/announce', { item: 'cake' });
    documents = await daemon.waitForCount(3);
    const front = only(documents, (document) => document.name === 'front', 'front segment');
    const announced = only(documents, (document) => document.name === 'back', 'subscriber segment');
    expect(announced.parent_id).toBe(front.id);
    expect(announced.trace_id).toBe(front.trace_id);
  });

  it('sends nothing for an unsampled trace, anywhere, and still propagates the decision', async () => {
    await tracedGateway({ samplingRate: 0, samplingReservoir: 0 });
    const reply = (await (await post(base, '/front/relay', { item: 'tea' })).json()) as { header: string };
    expect(reply.header).toMatch(/^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0$/);
    await post(base, '/event/front.announced', { item: 'tea' });
    await eventually(() => expect(received).toHaveLength(1));
    expect(received[0]!.header).toMatch(/;Sampled=0$/);
    // The barrier: a trace sampled upstream; once its four documents are in, an earlier one would be too.
    const root = '1-5759e988-bd862e3fe1be46a994272793';
    await post(base, '/front/relay', { item: 'tea' }, { 'x-amzn-trace-id': `Root=${root};Parent=53995c3f42cd8ad8;Sampled=1` });
    const documents = await daemon.waitForCount(4);
    expect(documents.map((document) => document.trace_id)).toEqual([root, root, root, root]);
    expect(chain(documents).gateway.parent_id).toBe('53995c3f42cd8ad8');
  });
});
