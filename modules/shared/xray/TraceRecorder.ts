import type { Logger } from '../../../src/index.js';
import { parseDaemonAddress } from './daemonAddress.js';
import { DaemonEmitter, type EmitterOptions } from './DaemonEmitter.js';
import { newSegmentId, newTraceId } from './ids.js';
import type { XRayOptions } from './options.js';
import { Sampler } from './Sampler.js';
import { annotationsFrom, type SegmentDocument } from './segmentDocument.js';
import { formatTraceHeader, headerForLog, parseTraceHeader, type TraceHeader } from './traceHeader.js';

/** One hop of a trace as this process records it: a segment or a subsegment, and the header for the next hop. */
export interface TraceHop {
  traceId: string;
  /** This hop's segment or subsegment id. */
  id: string;
  /** The caller's segment or subsegment id; absent for the first hop of a trace. */
  parentId?: string;
  sampled: boolean;
  /** `Root=<trace>;Parent=<this hop's id>;Sampled=0|1`, plus the fields we pass on unread. */
  header: string;
}

/**
 * What both plugins share: the sampling decision, the header rules and the sender. Documents for unsampled
 * hops are never built; their headers still travel, so the next hop honours the decision.
 */
export class TraceRecorder {
  readonly #sampler: Sampler;
  readonly #emitter: DaemonEmitter;
  readonly #logger: Logger;
  readonly #origin: string;
  readonly #annotations: Readonly<Record<string, string>>;

  constructor(options: Readonly<Omit<XRayOptions, 'name'>>, logger: Logger, emitterOptions: EmitterOptions = {}) {
    this.#logger = logger;
    this.#sampler = new Sampler({ rate: options.samplingRate, reservoir: options.samplingReservoir });
    this.#emitter = new DaemonEmitter(parseDaemonAddress(options.daemonAddress), logger, emitterOptions);
    this.#origin = options.origin;
    this.#annotations = annotationsFrom(options.annotations ?? {});
  }

  /**
   * The hop for a request or event received: it continues the trace the incoming header names (its Parent
   * becomes our parent, its Sampled decision is honoured), or starts a trace when there is no usable header.
   */
  receive(incoming: string | readonly string[] | undefined, where: string): TraceHop {
    const parsed = parseTraceHeader(incoming);
    if (parsed.kind === 'malformed') {
      this.#logger.debug('malformed X-Amzn-Trace-Id replaced by a new trace', { where, reason: parsed.reason, header: headerForLog(incoming) });
    }
    const upstream: TraceHeader = parsed.kind === 'valid' ? parsed.header : { root: newTraceId(), extra: [] };
    return this.#hop(upstream);
  }

  /**
   * The hop for an outgoing call: a child of the trace the call's header names, or undefined when the call is
   * not part of a trace (no header, or one we cannot read, which is passed on for the callee to judge), or
   * when the header names no Parent: a subsegment must hang under a segment of this process.
   */
  send(outgoing: string | undefined): TraceHop | undefined {
    const parsed = parseTraceHeader(outgoing);
    return parsed.kind === 'valid' && parsed.header.parent ? this.#hop(parsed.header) : undefined;
  }

  #hop(upstream: TraceHeader): TraceHop {
    const sampled = this.#sampler.decide(upstream.sampled);
    const id = newSegmentId();
    const header = formatTraceHeader({ root: upstream.root, parent: id, sampled, extra: upstream.extra });
    return { traceId: upstream.root, id, ...(upstream.parent ? { parentId: upstream.parent } : {}), sampled, header };
  }

  /** The fields every document of a hop starts with; `origin` and the configured annotations on segments only. */
  document(hop: TraceHop, name: string, startTime: number, endTime: number, kind: 'segment' | 'subsegment'): SegmentDocument {
    const document: SegmentDocument = { name, id: hop.id, trace_id: hop.traceId, start_time: startTime, end_time: endTime };
    if (hop.parentId) document.parent_id = hop.parentId;
    if (kind === 'subsegment') {
      document.type = 'subsegment';
      document.namespace = 'remote';
      return document;
    }
    if (this.#origin) document.origin = this.#origin;
    if (Object.keys(this.#annotations).length > 0) document.annotations = { ...this.#annotations };
    return document;
  }

  emit(document: SegmentDocument): void {
    this.#emitter.emit(document);
  }

  close(): void {
    this.#emitter.close();
  }
}
