import { runInContext } from '../../src/context/Context.js';
import { MicroError, type CallContext, type HandlerWrapper, type Logger, type WrappedEndpoint } from '../../src/index.js';
import { causeOf, segmentName, statusFlags, statusOfError, Stopwatch } from '../shared/xray/segmentDocument.js';
import { TRACE_METADATA_KEY } from '../shared/xray/traceHeader.js';
import type { TraceHop, TraceRecorder } from '../shared/xray/TraceRecorder.js';
import { withMetadataEntry } from './tracedContext.js';

/** Every node serves it and health checkers call it constantly: tracing it would bury the real traffic. */
const UNTRACED_ENDPOINTS = new Set(['Debug.Health']);

/**
 * A segment per handled call or event. A service receiving a traced call records a *segment* of its own (not
 * a subsegment of its caller's): in X-Ray each service's work is a segment, linked to the caller's segment or
 * subsegment by `parent_id`, and subsegments describe work inside one service's segment.
 *
 * The handler runs with the trace header rewritten to Parent = this segment, in its context and in the context
 * the client reads, so the calls it makes (through the call wrapper) and the events it publishes hang under it.
 */
export function tracingHandlerWrapper(recorder: TraceRecorder, name: string, logger: Logger): HandlerWrapper {
  return (next, endpoint) => {
    if (UNTRACED_ENDPOINTS.has(endpoint.endpoint)) return next;
    const documentName = segmentName(name || endpoint.service);
    return async (payload, context) => {
      let hop: TraceHop;
      try {
        hop = recorder.receive(context.metadata[TRACE_METADATA_KEY], `${endpoint.service} ${endpoint.endpoint}`);
      } catch (error) {
        logger.warn('X-Ray tracing skipped for a handler', { endpoint: endpoint.endpoint, error: (error as Error).message });
        return next(payload, context);
      }
      const stopwatch = new Stopwatch();
      const traced = withMetadataEntry(context, TRACE_METADATA_KEY, hop.header);
      let failure: { error: unknown } | undefined;
      try {
        return await runInContext(traced, () => next(payload, traced));
      } catch (error) {
        failure = { error };
        throw error;
      } finally {
        if (hop.sampled) {
          // Inside `finally`: a throw here would replace the handler's own reply or error.
          try {
            recorder.emit(handlerSegment(recorder, hop, documentName, stopwatch, endpoint, context, failure));
          } catch (error) {
            logger.warn('X-Ray segment for a handler could not be built', { endpoint: endpoint.endpoint, error: (error as Error).message });
          }
        }
      }
    };
  };
}

function handlerSegment(recorder: TraceRecorder, hop: TraceHop, name: string, stopwatch: Stopwatch, endpoint: WrappedEndpoint, context: CallContext, failure: { error: unknown } | undefined) {
  const document = recorder.document(hop, name, stopwatch.startTime, stopwatch.endTime(), 'segment');
  const status = failure ? statusOfError(failure.error) : 200;
  // RPC codes are HTTP statuses by design, so http.response.status gives X-Ray's console and filters the
  // outcome; an event has no response to describe.
  if (endpoint.kind === 'rpc') document.http = { response: { status } };
  document.annotations = { endpoint: endpoint.endpoint, ...document.annotations };
  const details: Record<string, unknown> = { service: endpoint.service, endpoint: endpoint.endpoint, kind: endpoint.kind };
  const attempt = (context as { attempt?: unknown }).attempt;
  if (endpoint.kind === 'event' && typeof attempt === 'number') details.attempt = attempt;
  if (failure) {
    Object.assign(document, statusFlags(status));
    // An error another service raised (and this handler passed on) carries that service's name as its id.
    const remote = MicroError.is(failure.error) && failure.error.id !== endpoint.service;
    document.cause = causeOf(failure.error, remote);
    details.code = status;
    if (MicroError.is(failure.error)) details.errorId = failure.error.id;
  }
  document.metadata = { tsmicro: details };
  return document;
}
