import { STATUS_CODES } from 'node:http';
import { MicroError, type WireError } from '../../../src/index.js';
import { newSegmentId } from './ids.js';

/** The fields of an X-Ray segment (or independently sent subsegment) document that tsmicro emits. */
export interface SegmentDocument {
  name: string;
  id: string;
  trace_id: string;
  parent_id?: string;
  /** Epoch seconds, fractional. */
  start_time: number;
  end_time: number;
  /** Set on subsegments sent as documents of their own; a segment has no type. */
  type?: 'subsegment';
  /** `remote` on a subsegment for a call to another service. */
  namespace?: 'remote';
  /** The AWS resource the service runs on (`AWS::EC2::Instance`, `AWS::ECS::Container`, …); segments only. */
  origin?: string;
  http?: { request?: HttpRequestFields; response?: { status?: number; content_length?: number } };
  error?: boolean;
  throttle?: boolean;
  fault?: boolean;
  cause?: { exceptions: ExceptionFields[] };
  annotations?: Record<string, string | number | boolean>;
  metadata?: Record<string, Record<string, unknown>>;
}

export interface HttpRequestFields {
  method?: string;
  url?: string;
  client_ip?: string;
  user_agent?: string;
  /** True when client_ip was read from X-Forwarded-For (so it is what the client said, not the socket's peer). */
  x_forwarded_for?: boolean;
}

export interface ExceptionFields {
  id: string;
  message: string;
  type?: string;
  /** True when the error was raised by a downstream service, not here. */
  remote?: boolean;
}

export interface StatusFlags {
  error?: true;
  throttle?: true;
  fault?: true;
}

/** X-Ray's meaning of a status: 4xx is an error (and 429 also a throttle), 5xx a fault. */
export function statusFlags(status: number): StatusFlags {
  if (status >= 500) return { fault: true };
  if (status === 429) return { error: true, throttle: true };
  if (status >= 400) return { error: true };
  return {};
}

/**
 * The status of what a handler or call threw: a MicroError's code when it is an HTTP error status, anything
 * else 500, as the gateway answers it (so a failure can never be recorded without a flag).
 */
export function statusOfError(error: unknown): number {
  return MicroError.is(error) && error.code >= 400 && error.code <= 599 ? error.code : 500;
}

const MAX_MESSAGE_LENGTH = 2048;

export function bounded(text: string, length: number): string {
  return text.length > length ? `${text.slice(0, length - 1)}…` : text;
}

/** A MicroError, or the wire form of one (what the gateway gets in its outcome). */
function isWireError(value: unknown): value is WireError {
  const candidate = value as Partial<WireError> | null;
  return typeof candidate === 'object' && candidate !== null && typeof candidate.code === 'number' && typeof candidate.detail === 'string';
}

/** `cause` for a failure: one exception with the error's detail; `remote` when another service raised it. */
export function causeOf(error: unknown, remote: boolean): { exceptions: ExceptionFields[] } {
  const exception: ExceptionFields = { id: newSegmentId(), message: '', remote };
  if (isWireError(error)) {
    exception.message = bounded(error.detail, MAX_MESSAGE_LENGTH);
    exception.type = `${error.code} ${error.status ?? STATUS_CODES[error.code] ?? ''}`.trim();
  } else if (error instanceof Error) {
    exception.message = bounded(error.message || error.name, MAX_MESSAGE_LENGTH);
    exception.type = error.name;
  } else {
    exception.message = bounded(String(error), MAX_MESSAGE_LENGTH);
  }
  if (!remote) delete exception.remote;
  return { exceptions: [exception] };
}

/** `cause` for an error status without an error object (a plugin's own 403, a dashboard 404). */
export function causeOfStatus(status: number): { exceptions: ExceptionFields[] } {
  return { exceptions: [{ id: newSegmentId(), message: `HTTP ${status} ${STATUS_CODES[status] ?? ''}`.trim(), type: `${status} ${STATUS_CODES[status] ?? ''}`.trim() }] };
}

/**
 * X-Ray accepts names of at most 200 Unicode letters, digits, whitespace and `_ . : / % & # = + \ - @`; other
 * characters make the daemon's upload rejected, so they become `_`.
 */
export const SEGMENT_NAME_PATTERN = /^[\p{L}\p{N}\s_.:/%&#=+\\@-]{1,200}$/u;

export function segmentName(raw: string): string {
  const cleaned = raw.replace(/[^\p{L}\p{N}\s_.:/%&#=+\\@-]/gu, '_').slice(0, 200);
  return cleaned === '' ? 'unnamed' : cleaned;
}

/** Annotation keys may only hold letters, digits and underscores (X-Ray indexes them for filter expressions). */
export function annotationsFrom(values: Readonly<Record<string, string>>): Record<string, string> {
  const annotations: Record<string, string> = {};
  for (const [key, value] of Object.entries(values)) annotations[key.replace(/[^A-Za-z0-9_]/g, '_')] = value;
  return annotations;
}

/** performance.now() + offset = epoch ms; re-anchored whenever the wall clock has moved away from it (NTP step, VM resume). */
let clockOffset = Date.now() - performance.now();

/**
 * Epoch milliseconds with sub-millisecond digits (X-Ray recommends microsecond resolution), kept within 1 ms of
 * the wall clock so segments from different hosts line up.
 */
export function preciseNowMs(): number {
  const precise = clockOffset + performance.now();
  const wall = Date.now();
  if (Math.abs(precise - wall) <= 1) return precise;
  clockOffset = wall - performance.now();
  return wall;
}

/** Start and end of a hop in epoch seconds; the end is measured on the monotonic clock, so it never precedes the start. */
export class Stopwatch {
  readonly startTime: number;
  readonly #startedAt = performance.now();

  constructor() {
    this.startTime = preciseNowMs() / 1000;
  }

  endTime(): number {
    return this.startTime + Math.max(0, performance.now() - this.#startedAt) / 1000;
  }
}
