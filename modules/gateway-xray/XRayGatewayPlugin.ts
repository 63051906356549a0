import type { GatewayExchange, GatewayOutcome, GatewayPlugin } from '../../src/gateway/GatewayPlugin.js';
import type { Logger } from '../../src/index.js';
import { newSegmentId } from '../shared/xray/ids.js';
import { causeOf, causeOfStatus, segmentName, statusFlags, Stopwatch, type SegmentDocument } from '../shared/xray/segmentDocument.js';
import { TRACE_HEADER, TRACE_METADATA_KEY } from '../shared/xray/traceHeader.js';
import type { TraceHop, TraceRecorder } from '../shared/xray/TraceRecorder.js';
import { httpRequestFields, httpResponseFields } from './httpFields.js';

const STATE_KEY = 'xray';
/** The id the gateway's own errors carry; any other id means a service (or the client calling one) raised it. */
const GATEWAY_ERROR_ID = 'tsmicro.gateway';

interface RequestTrace {
  hop: TraceHop;
  stopwatch: Stopwatch;
  /** Set once the segment is recorded (or known not to be), so a response that ends twice records once. */
  done: boolean;
}

/**
 * A segment per gateway request. The trace header (Root, Parent = this segment, Sampled) goes into the request's
 * metadata, so every call and event the gateway makes for the request carries it, and back to the HTTP client
 * in the X-Amzn-Trace-Id response header. The segment is sent when the response has finished.
 */
/** The status the gateway reports when the client closed the connection before the response (nginx's 499). */
const CLIENT_GONE = 499;

export class XRayGatewayPlugin implements GatewayPlugin {
  readonly name = 'xray';
  readonly #recorder: TraceRecorder;
  readonly #segmentName: string;
  readonly #logger: Logger;
  readonly #healthPath: string;

  constructor(recorder: TraceRecorder, name: string, logger: Logger, healthPath: string) {
    this.#recorder = recorder;
    this.#segmentName = segmentName(name);
    this.#logger = logger;
    this.#healthPath = healthPath;
  }

  onRequest(exchange: GatewayExchange): void {
    // Load balancers poll the health path every few seconds; tracing it would fill the reservoir with noise.
    if (exchange.request.url?.split('?')[0] === this.#healthPath) return;
    try {
      const hop = this.#recorder.receive(exchange.request.headers[TRACE_METADATA_KEY], 'gateway request');
      exchange.metadata[TRACE_METADATA_KEY] = hop.header;
      if (!exchange.response.headersSent) exchange.response.setHeader(TRACE_HEADER, hop.header);
      const trace: RequestTrace = { hop, stopwatch: new Stopwatch(), done: !hop.sampled };
      exchange.state.set(STATE_KEY, trace);
    } catch (error) {
      // Tracing must never stop a request: without a header the request simply goes untraced.
      this.#logger.warn('X-Ray tracing skipped for a request', { error: (error as Error).message });
    }
  }

  onResponse(exchange: GatewayExchange, outcome: GatewayOutcome): void {
    const trace = exchange.state.get(STATE_KEY) as RequestTrace | undefined;
    if (!trace || trace.done) return;
    // 499: the client went away before the answer. The segment is still worth sending (a slow call the client
    // gave up on is exactly what one looks for in a trace), without a response it never got.
    if (outcome.status === CLIENT_GONE) return this.#clientGone(exchange, trace);
    trace.done = true;
    const document = this.#segment(exchange, trace);
    document.http!.response = httpResponseFields(exchange, outcome.status);
    Object.assign(document, statusFlags(outcome.status));
    if (outcome.status >= 400) document.cause = outcome.error ? causeOf(outcome.error, outcome.error.id !== GATEWAY_ERROR_ID) : causeOfStatus(outcome.status);
    document.metadata = { tsmicro: { handledBy: outcome.handledBy, ...(outcome.error ? { errorId: outcome.error.id } : {}) } };
    this.#recorder.emit(document);
  }

  #clientGone(exchange: GatewayExchange, trace: RequestTrace): void {
    trace.done = true;
    const document = this.#segment(exchange, trace);
    document.error = true;
    document.cause = { exceptions: [{ id: newSegmentId(), message: 'the client closed the connection before the response was sent', type: 'ClientClosedRequest' }] };
    this.#recorder.emit(document);
  }

  #segment(exchange: GatewayExchange, trace: RequestTrace): SegmentDocument {
    const document = this.#recorder.document(trace.hop, this.#segmentName, trace.stopwatch.startTime, trace.stopwatch.endTime(), 'segment');
    document.http = { request: httpRequestFields(exchange) };
    return document;
  }

  close(): void {
    this.#recorder.close();
  }
}
