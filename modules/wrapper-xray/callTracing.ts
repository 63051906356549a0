import { MicroError, type CallWrapper, type Logger, type OutgoingCall } from '../../src/index.js';
import { causeOf, segmentName, statusFlags, statusOfError, Stopwatch, type SegmentDocument } from '../shared/xray/segmentDocument.js';
import { TRACE_METADATA_KEY } from '../shared/xray/traceHeader.js';
import type { TraceHop, TraceRecorder } from '../shared/xray/TraceRecorder.js';

const UNTRACED_ENDPOINTS = new Set(['Debug.Health']);
/** Errors the client raises itself (timeouts, no node reachable) rather than ones the callee answered. */
const CLIENT_ERROR_ID = 'tsmicro.client';

/**
 * A remote subsegment per outgoing call made inside a traced request: `namespace: "remote"`, named after the
 * called service (X-Ray names the downstream node from it when the callee sends no segment), parent_id = the
 * caller's segment. The call's trace header is rewritten to Parent = this subsegment, so the callee's segment
 * hangs under it. A call outside any trace passes untouched: a subsegment needs a segment to belong to, and the
 * callee starts the trace itself. One subsegment covers the call's retries, as the caller experiences them.
 */
export function tracingCallWrapper(recorder: TraceRecorder, logger: Logger): CallWrapper {
  return (next) => async (call) => {
    if (UNTRACED_ENDPOINTS.has(call.endpoint)) return next(call);
    const hop = recorder.send(call.metadata[TRACE_METADATA_KEY]);
    if (!hop) return next(call);
    const traced = { ...call, metadata: { ...call.metadata, [TRACE_METADATA_KEY]: hop.header } };
    if (!hop.sampled) return next(traced);
    const stopwatch = new Stopwatch();
    let failure: { error: unknown } | undefined;
    try {
      return await next(traced);
    } catch (error) {
      failure = { error };
      throw error;
    } finally {
      // Inside `finally`: a throw here would replace the call's own reply or error.
      try {
        recorder.emit(callSubsegment(recorder, hop, call, stopwatch, failure));
      } catch (error) {
        logger.warn('X-Ray subsegment for a call could not be built', { service: call.service, endpoint: call.endpoint, error: (error as Error).message });
      }
    }
  };
}

function callSubsegment(recorder: TraceRecorder, hop: TraceHop, call: OutgoingCall, stopwatch: Stopwatch, failure: { error: unknown } | undefined): SegmentDocument {
  const document = recorder.document(hop, segmentName(call.service), stopwatch.startTime, stopwatch.endTime(), 'subsegment');
  const status = failure ? statusOfError(failure.error) : 200;
  document.http = { response: { status } };
  const details: Record<string, unknown> = { service: call.service, endpoint: call.endpoint };
  if (failure) {
    Object.assign(document, statusFlags(status));
    document.cause = causeOf(failure.error, !(MicroError.is(failure.error) && failure.error.id === CLIENT_ERROR_ID));
    details.code = status;
  }
  document.metadata = { tsmicro: details };
  return document;
}
