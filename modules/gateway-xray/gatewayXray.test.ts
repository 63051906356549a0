import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { Gateway } from '../../src/gateway/Gateway.js';
import { TestApps } from '../../test/helpers/apps.js';
import { captureLogger } from '../../test/helpers/captureLogger.js';
import { Greeter } from '../../test/gateway/fixtures.js';
import { eventually } from '../../test/helpers/eventually.js';
import { calls, resetCalls, Shop } from '../../test/unit/fixtures.js';
import { MAX_DATAGRAM_BYTES } from '../shared/xray/datagram.js';
import { SEGMENT_ID_PATTERN, TRACE_ID_PATTERN } from '../shared/xray/ids.js';
import { DaemonDouble, only } from '../shared/xray/testSupport.js';
import { Limits, post, startGateway } from './fixtures.js';

const UPSTREAM_ROOT = '1-5759e988-bd862e3fe1be46a994272793';
const UPSTREAM_PARENT = '53995c3f42cd8ad8';

describe('gateway-xray', () => {
  const apps = new TestApps();
  const logger = captureLogger();
  let daemon: DaemonDouble;
  let gateway: Gateway | undefined;
  let base: string;

  /** A gateway whose plugins and X-Ray options come from config, as a deployment would set them. */
  async function tracedGateway(xray: Record<string, unknown> = {}): Promise<void> {
    const app = await apps.started({ logger, config: { gateway: { address: '127.0.0.1:0', plugins: ['xray'], xray: { daemonAddress: daemon.address, samplingRate: 1, ...xray } } } });
    ({ gateway, base } = await startGateway(app));
  }

  beforeEach(async () => {
    logger.lines.length = 0;
    resetCalls();
    daemon = await DaemonDouble.start();
    await apps.started({ services: [Greeter, Shop, Limits] });
  });
  afterEach(async () => {
    await gateway?.stop();
    gateway = undefined;
    await apps.stopAll();
    expect(daemon.protocolErrors).toEqual([]);
    await daemon.close();
  });

  it('sends a segment per request with the documented fields, and returns the trace header to the client', async () => {
    await tracedGateway();
    const started = Date.now() / 1000;
    const response = await post(base, '/greeter/echo-metadata', {}, { 'user-agent': 'xray-test/1.0' });
    expect(response.status).toBe(200);
    const seenByService = (await response.json()) as Record<string, string>;
    const [segment] = await daemon.waitForCount(1);
    expect(segment).toEqual({
      name: 'tsmicro-gateway',
      id: expect.stringMatching(SEGMENT_ID_PATTERN),
      trace_id: expect.stringMatching(TRACE_ID_PATTERN),
      start_time: expect.any(Number),
      end_time: expect.any(Number),
      http: {
        request: { method: 'POST', url: `${base}/greeter/echo-metadata`, client_ip: '127.0.0.1', user_agent: 'xray-test/1.0' },
        response: { status: 200, content_length: Number(response.headers.get('content-length')) },
      },
      metadata: { tsmicro: { handledBy: 'endpoint' } },
    });
    // A new trace's id carries the time it began; times are fractional epoch seconds.
    expect(Math.abs(parseInt(segment!.trace_id.split('-')[1]!, 16) - Math.floor(segment!.start_time))).toBeLessThanOrEqual(1);
    expect(segment!.start_time).toBeGreaterThanOrEqual(Math.floor(started));
    expect(segment!.end_time).toBeGreaterThanOrEqual(segment!.start_time);
    const header = `Root=${segment!.trace_id};Parent=${segment!.id};Sampled=1`;
    expect(response.headers.get('x-amzn-trace-id')).toBe(header);
    expect(seenByService['x-amzn-trace-id']).toBe(header);
  });

  it('sets error, throttle and fault from the status, with the cause', async () => {
    await tracedGateway();
    expect((await post(base, '/no/such/route/here', {})).status).toBe(404);
    expect((await post(base, '/limits/busy', {})).status).toBe(429);
    expect((await post(base, '/shop/fail', {})).status).toBe(500);
    const documents = await daemon.waitForCount(3);
    const byStatus = (status: number) => only(documents, (document) => document.http?.response?.status === status, `segment with status ${status}`);
    expect(byStatus(404)).toMatchObject({ error: true, cause: { exceptions: [{ message: 'no route for POST /no/such/route/here', type: '404 Not Found' }] } });
    expect(byStatus(404).cause!.exceptions[0]).not.toHaveProperty('remote');
    expect(byStatus(429)).toMatchObject({ error: true, throttle: true, cause: { exceptions: [{ message: 'slow down', remote: true }] } });
    expect(byStatus(500)).toMatchObject({ fault: true, cause: { exceptions: [{ message: 'stock database is down', type: '500 Internal Server Error', remote: true }] } });
    expect(byStatus(404)).not.toHaveProperty('fault');
    expect(byStatus(429)).not.toHaveProperty('fault');
    expect(byStatus(500)).not.toHaveProperty('error');
    for (const document of documents) expect(document.cause!.exceptions[0]!.id).toMatch(SEGMENT_ID_PATTERN);
  });

  it('continues the trace an incoming header names, read leniently, and passes unknown fields on', async () => {
    await tracedGateway();
    const incoming = ` sampled=1 ; Parent=${UPSTREAM_PARENT.toUpperCase()};Root=${UPSTREAM_ROOT}; Self=1-67891233-abcdef012345678912345678;Lineage=10:1234abcd:3`;
    const response = await post(base, '/greeter/echo-metadata', {}, { 'x-amzn-trace-id': incoming });
    const [segment] = await daemon.waitForCount(1);
    expect(segment).toMatchObject({ trace_id: UPSTREAM_ROOT, parent_id: UPSTREAM_PARENT });
    const header = `Root=${UPSTREAM_ROOT};Parent=${segment!.id};Sampled=1;Lineage=10:1234abcd:3`;
    expect(response.headers.get('x-amzn-trace-id')).toBe(header);
    expect(((await response.json()) as Record<string, string>)['x-amzn-trace-id']).toBe(header);
  });

  it('honours Sampled=0 from upstream: nothing is sent, the decision still travels', async () => {
    await tracedGateway();
    const unsampled = await post(base, '/greeter/echo-metadata', {}, { 'x-amzn-trace-id': `Root=${UPSTREAM_ROOT};Parent=${UPSTREAM_PARENT};Sampled=0` });
    expect(((await unsampled.json()) as Record<string, string>)['x-amzn-trace-id']).toMatch(new RegExp(`^Root=${UPSTREAM_ROOT};Parent=[0-9a-f]{16};Sampled=0$`));
    expect(unsampled.headers.get('x-amzn-trace-id')).toMatch(/;Sampled=0$/);
    // A sampled request afterwards is the barrier: when its segment has arrived, an earlier one would have too.
    const sampled = await post(base, '/greeter/say-hello', { name: 'x' });
    const root = /Root=([^;]+)/.exec(sampled.headers.get('x-amzn-trace-id')!)![1];
    const documents = await daemon.waitForCount(1);
    expect(documents.map((document) => document.trace_id)).toEqual([root]);
  });

  it('decides locally with samplingRate 0 (and no reservoir): nothing is sent, Sampled=0 is propagated', async () => {
    await tracedGateway({ samplingRate: 0, samplingReservoir: 0 });
    for (let i = 0; i < 3; i++) {
      const response = await post(base, '/greeter/echo-metadata', {});
      expect(response.headers.get('x-amzn-trace-id')).toMatch(/^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0$/);
      expect(((await response.json()) as Record<string, string>)['x-amzn-trace-id']).toBe(response.headers.get('x-amzn-trace-id'));
    }
    // Sampled=? asks us to decide; Sampled=1 from upstream is honoured even at rate 0, and is the barrier.
    expect((await post(base, '/greeter/say-hello', { name: 'x' }, { 'x-amzn-trace-id': `Root=${UPSTREAM_ROOT};Sampled=?` })).headers.get('x-amzn-trace-id')).toMatch(/;Sampled=0$/);
    await post(base, '/greeter/say-hello', { name: 'x' }, { 'x-amzn-trace-id': `Root=${UPSTREAM_ROOT};Sampled=1` });
    const documents = await daemon.waitForCount(1);
    expect(documents).toHaveLength(1);
    expect(documents[0]).toMatchObject({ trace_id: UPSTREAM_ROOT });
    expect(documents[0]).not.toHaveProperty('parent_id');
  });

  it('replaces a malformed header with a new root, logged at debug', async () => {
    await tracedGateway();
    for (const malformed of ['Root=not-a-trace-id;Parent=53995c3f42cd8ad8;Sampled=1', `Root=${UPSTREAM_ROOT};Parent=xyz;Sampled=1`, 'Parent=53995c3f42cd8ad8;Sampled=1', ';;;']) {
      const response = await post(base, '/greeter/say-hello', { name: 'x' }, { 'x-amzn-trace-id': malformed });
      expect(response.status).toBe(200);
      expect(response.headers.get('x-amzn-trace-id')).not.toContain(UPSTREAM_ROOT);
      expect(response.headers.get('x-amzn-trace-id')).toMatch(/^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=1$/);
    }
    const documents = await daemon.waitForCount(4);
    for (const document of documents) expect(document).not.toHaveProperty('parent_id');
    const debug = logger.lines.filter((line) => line.level === 'debug' && line.fields.component === 'xray');
    expect(debug.map((line) => [line.message, line.fields.header])).toEqual([
      ['malformed X-Amzn-Trace-Id replaced by a new trace', 'Root=not-a-trace-id;Parent=53995c3f42cd8ad8;Sampled=1'],
      ['malformed X-Amzn-Trace-Id replaced by a new trace', `Root=${UPSTREAM_ROOT};Parent=xyz;Sampled=1`],
      ['malformed X-Amzn-Trace-Id replaced by a new trace', 'Parent=53995c3f42cd8ad8;Sampled=1'],
      ['malformed X-Amzn-Trace-Id replaced by a new trace', ';;;'],
    ]);
  });

  it('takes the client address from X-Forwarded-For and the scheme from X-Forwarded-Proto, and names the segment from config', async () => {
    await tracedGateway({ name: 'edge api', origin: 'AWS::ECS::Container', annotations: { stage: 'test', 'team-name': 'core' } });
    await post(base, '/greeter/say-hello?lang=en', { name: 'x' }, { 'x-forwarded-for': '203.0.113.7, 10.0.0.2', 'x-forwarded-proto': 'https' });
    const [segment] = await daemon.waitForCount(1);
    expect(segment).toMatchObject({
      name: 'edge api',
      origin: 'AWS::ECS::Container',
      annotations: { stage: 'test', team_name: 'core' },
      http: { request: { url: `https://${gateway!.address}/greeter/say-hello?lang=en`, client_ip: '203.0.113.7', x_forwarded_for: true } },
    });
  });

  it('publishes events with the trace header (and leaves the health path untraced)', async () => {
    await tracedGateway();
    const response = await post(base, '/event/shop.restocked', { item: 'tea', quantity: 1 });
    expect(response.status).toBe(202);
    const [segment] = await daemon.waitForCount(1);
    expect(segment!.metadata).toEqual({ tsmicro: { handledBy: 'event' } });
    await eventually(() => expect(calls.events).toHaveLength(1));
    expect(calls.events[0]!.metadata['x-amzn-trace-id']).toBe(`Root=${segment!.trace_id};Parent=${segment!.id};Sampled=1`);
  });

  it('still sends the segment when the client goes away before the response', async () => {
    await tracedGateway();
    const abort = new AbortController();
    const request = post(base, '/shop/slow', { ms: 400 }, {}, abort.signal).catch((error: { name: string }) => error.name);
    await eventually(() => expect(calls.total).toBe(1));
    abort.abort();
    expect(await request).toBe('AbortError');
    const [segment] = await daemon.waitForCount(1);
    expect(segment).toMatchObject({ error: true, cause: { exceptions: [{ type: 'ClientClosedRequest' }] }, http: { request: { method: 'POST' } } });
    expect(segment!.http).not.toHaveProperty('response');
    // The reply the service still sends later must not produce a second segment: a sampled request after it is the barrier.
    await new Promise((resolve) => setTimeout(resolve, 500));
    await post(base, '/greeter/say-hello', { name: 'x' });
    expect(await daemon.waitForCount(2)).toHaveLength(2);
  });

  it('cuts a segment down to one datagram, and never breaks a request when the daemon is not there', async () => {
    await tracedGateway({ annotations: { huge: 'x'.repeat(70_000) } });
    await post(base, '/greeter/say-hello', { name: 'x' });
    const [segment] = await daemon.waitForCount(1);
    expect(segment).not.toHaveProperty('annotations');
    expect(segment!.metadata).toEqual({ tsmicro: { truncated: ['metadata', 'cause', 'http.request', 'annotations'] } });
    expect(daemon.datagramSizes[0]).toBeLessThanOrEqual(MAX_DATAGRAM_BYTES);
    expect(logger.lines.some((line) => line.level === 'warn' && line.message === 'X-Ray segment cut down to fit one UDP datagram')).toBe(true);

    await gateway!.stop();
    const gone = await DaemonDouble.start();
    const address = gone.address;
    await gone.close();
    await tracedGateway({ daemonAddress: address });
    for (let i = 0; i < 3; i++) expect((await post(base, '/greeter/say-hello', { name: 'x' })).status).toBe(200);
  });
});
