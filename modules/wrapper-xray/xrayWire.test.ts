import { describe, expect, it } from '@jest/globals';
import { captureLogger } from '../../test/helpers/captureLogger.js';
import { parseDaemonAddress } from '../shared/xray/daemonAddress.js';
import { DaemonEmitter } from '../shared/xray/DaemonEmitter.js';
import { DAEMON_HEADER, encodeSegment, MAX_DATAGRAM_BYTES } from '../shared/xray/datagram.js';
import { newSegmentId, newTraceId, SEGMENT_ID_PATTERN, TRACE_ID_PATTERN } from '../shared/xray/ids.js';
import { Sampler } from '../shared/xray/Sampler.js';
import { segmentName, statusFlags, type SegmentDocument } from '../shared/xray/segmentDocument.js';
import { DaemonDouble } from '../shared/xray/testSupport.js';
import { formatTraceHeader, parseTraceHeader } from '../shared/xray/traceHeader.js';

const ROOT = '1-5759e988-bd862e3fe1be46a994272793';
const PARENT = '53995c3f42cd8ad8';

describe('X-Ray wire format (shared by both plugins)', () => {
  it('makes ids in the documented shapes, the trace id carrying the start time', () => {
    expect(newSegmentId()).toMatch(SEGMENT_ID_PATTERN);
    const ids = new Set(Array.from({ length: 500 }, () => newSegmentId()));
    expect(ids.size).toBe(500);
    expect(newTraceId(0x5759e988 * 1000 + 999)).toMatch(/^1-5759e988-[0-9a-f]{24}$/);
    expect(newTraceId()).toMatch(TRACE_ID_PATTERN);
  });

  it('parses trace headers leniently: order, spacing, case, duplicates, bare ids, unknown fields', () => {
    const valid = (value: string) => {
      const parsed = parseTraceHeader(value);
      if (parsed.kind !== 'valid') throw new Error(`${value}: ${JSON.stringify(parsed)}`);
      return parsed.header;
    };
    expect(valid(`Root=${ROOT};Parent=${PARENT};Sampled=1`)).toEqual({ root: ROOT, parent: PARENT, sampled: true, extra: [] });
    expect(valid(`  Sampled = 0 ;parent=${PARENT} ; ROOT=${ROOT.toUpperCase()}  `)).toEqual({ root: ROOT, parent: PARENT, sampled: false, extra: [] });
    expect(valid(`Root=${ROOT};Sampled=?`)).toEqual({ root: ROOT, extra: [] });
    expect(valid(`Root=${ROOT};Sampled=maybe`)).toEqual({ root: ROOT, extra: [] });
    expect(valid(`Self=1-67891233-abcdef012345678912345678;Root=${ROOT};Lineage=10:1234abcd:3;Foo=bar`)).toEqual({ root: ROOT, extra: ['Lineage=10:1234abcd:3', 'Foo=bar'] });
    expect(valid(`Root=${ROOT};Parent=${PARENT}, Root=1-00000000-000000000000000000000000`).root).toBe(ROOT);
    expect(valid(ROOT)).toEqual({ root: ROOT, extra: [] });
    expect(parseTraceHeader([`Root=${ROOT}`, 'Root=other']).kind).toBe('valid');
  });

  it('tells an absent header from a malformed one', () => {
    expect(parseTraceHeader(undefined)).toEqual({ kind: 'absent' });
    expect(parseTraceHeader('  ')).toEqual({ kind: 'absent' });
    expect(parseTraceHeader('Parent=53995c3f42cd8ad8')).toEqual({ kind: 'malformed', reason: 'no Root field' });
    expect(parseTraceHeader('Root=1-zz-12')).toMatchObject({ kind: 'malformed', reason: expect.stringMatching(/^Root is not a trace id/) });
    expect(parseTraceHeader(`Root=${ROOT};Parent=123`)).toMatchObject({ kind: 'malformed', reason: expect.stringMatching(/^Parent is not a segment id/) });
    expect(parseTraceHeader(`Root=${ROOT};${'x'.repeat(2000)}`)).toMatchObject({ kind: 'malformed' });
  });

  it('formats headers as the documentation spells them', () => {
    expect(formatTraceHeader({ root: ROOT, parent: PARENT, sampled: true, extra: [] })).toBe(`Root=${ROOT};Parent=${PARENT};Sampled=1`);
    expect(formatTraceHeader({ root: ROOT, sampled: false, extra: ['Lineage=1:2:3'] })).toBe(`Root=${ROOT};Sampled=0;Lineage=1:2:3`);
    expect(formatTraceHeader({ root: ROOT, extra: [] })).toBe(`Root=${ROOT};Sampled=?`);
  });

  it('samples: upstream decisions win; otherwise the reservoir per second, then the rate', () => {
    const never = () => 0.99;
    const sampler = new Sampler({ rate: 0.5, reservoir: 2 }, never);
    expect(sampler.decide(false, 1000)).toBe(false);
    expect([sampler.decide(undefined, 1000), sampler.decide(undefined, 1100), sampler.decide(undefined, 1200)]).toEqual([true, true, false]);
    expect(sampler.decide(true, 1300)).toBe(true);
    expect(sampler.decide(undefined, 2000)).toBe(true);
    const rateOnly = new Sampler({ rate: 0.5, reservoir: 0 }, () => 0.49);
    expect(rateOnly.decide(undefined)).toBe(true);
    expect(new Sampler({ rate: 0, reservoir: 0 }, () => 0).decide(undefined)).toBe(false);
    expect(new Sampler({ rate: 1, reservoir: 0 }, () => 0.999999).decide(undefined)).toBe(true);
  });

  it('maps statuses to X-Ray flags and cleans names', () => {
    expect([200, 302, 400, 404, 429, 499, 500, 503].map(statusFlags)).toEqual([{}, {}, { error: true }, { error: true }, { error: true, throttle: true }, { error: true }, { fault: true }, { fault: true }]);
    expect(segmentName('orders.v2 @ eu-west/1')).toBe('orders.v2 @ eu-west/1');
    expect(segmentName('a;b<c>')).toBe('a_b_c_');
    expect(segmentName('n'.repeat(300))).toHaveLength(200);
  });

  it('encodes one datagram: the daemon header, a newline, the JSON; cut down in order when too large', () => {
    const document: SegmentDocument = { name: 'x', id: PARENT, trace_id: ROOT, start_time: 1, end_time: 2 };
    expect(encodeSegment(document)!.datagram.toString()).toBe(`{"format": "json", "version": 1}\n${JSON.stringify(document)}`);
    const big: SegmentDocument = {
      ...document,
      http: { request: { url: `http://h/${'u'.repeat(20_000)}`, user_agent: 'a'.repeat(5000) } },
      cause: { exceptions: [{ id: PARENT, message: 'm'.repeat(50_000) }, { id: PARENT, message: 'second' }] },
      annotations: { stage: 'prod' },
      metadata: { tsmicro: { blob: 'b'.repeat(30_000) } },
    };
    const encoded = encodeSegment(big)!;
    expect(encoded.datagram.length).toBeLessThanOrEqual(MAX_DATAGRAM_BYTES);
    const decoded = JSON.parse(encoded.datagram.toString().slice(DAEMON_HEADER.length)) as SegmentDocument;
    expect(encoded.truncated).toEqual(['metadata', 'cause']);
    expect(decoded.metadata).toEqual({ tsmicro: { truncated: ['metadata', 'cause'] } });
    expect(decoded.cause!.exceptions).toHaveLength(1);
    expect(decoded.cause!.exceptions[0]!.message).toHaveLength(256);
    expect(decoded.annotations).toEqual({ stage: 'prod' });
    expect(big.metadata).toEqual({ tsmicro: { blob: 'b'.repeat(30_000) } });
    expect(encodeSegment({ ...document, name: 'n'.repeat(70_000) })).toBeUndefined();
  });

  it('reads the daemon address forms the X-Ray SDKs accept', () => {
    expect(parseDaemonAddress('127.0.0.1:2000')).toEqual({ host: '127.0.0.1', port: 2000, type: 'udp4' });
    expect(parseDaemonAddress('xray-daemon:3000')).toEqual({ host: 'xray-daemon', port: 3000, type: 'udp4' });
    expect(parseDaemonAddress('[::1]:2000')).toEqual({ host: '::1', port: 2000, type: 'udp6' });
    expect(parseDaemonAddress(':2000')).toEqual({ host: '127.0.0.1', port: 2000, type: 'udp4' });
    expect(parseDaemonAddress('tcp:10.0.0.1:2000 udp:10.0.0.2:2001')).toEqual({ host: '10.0.0.2', port: 2001, type: 'udp4' });
    expect(parseDaemonAddress('UDP:10.0.0.2:2001 tcp:10.0.0.1:2000')).toEqual({ host: '10.0.0.2', port: 2001, type: 'udp4' });
    for (const bad of ['localhost', '10.0.0.1:0', '10.0.0.1:70000', 'tcp:10.0.0.1:2000', 'a:1 b:2', '']) expect(() => parseDaemonAddress(bad)).toThrow(/must be host:port/);
  });

  it('drops what it cannot send with one throttled warning', async () => {
    const logger = captureLogger();
    const daemon = await DaemonDouble.start();
    const blocked = new DaemonEmitter(parseDaemonAddress(daemon.address), logger, { maxPending: 0 });
    const document: SegmentDocument = { name: 'x', id: PARENT, trace_id: ROOT, start_time: 1, end_time: 2 };
    for (let i = 0; i < 5; i++) blocked.emit(document);
    await daemon.close();
    expect(logger.lines.map((line) => [line.level, line.message])).toEqual([['warn', 'X-Ray segments dropped: too many sends waiting for the network']]);
  });

  it('sends after close on a new socket: segments of requests finishing while a gateway stops still go out', async () => {
    const daemon = await DaemonDouble.start();
    try {
      const emitter = new DaemonEmitter(parseDaemonAddress(daemon.address), captureLogger());
      const document: SegmentDocument = { name: 'before', id: PARENT, trace_id: ROOT, start_time: 1, end_time: 2 };
      emitter.emit(document);
      await daemon.waitForCount(1);
      emitter.close();
      emitter.emit({ ...document, name: 'after' });
      expect((await daemon.waitForCount(2)).map((item) => item.name)).toEqual(['before', 'after']);
      emitter.close();
    } finally {
      await daemon.close();
    }
  });
});
