/**
 * The one error that crosses every transport: `{ id, code, detail, status }`, the shape go-micro uses, so a
 * gateway or another language can read it. `id` names where the error was raised (a service name or a
 * framework component), `code` is an HTTP status, `detail` is a sentence for people.
 *
 * @example
 *   throw MicroError.badRequest('greeter', 'name must not be empty');
 */
export interface WireError {
  id: string;
  code: number;
  detail: string;
  status: string;
  /** Every failing field of a rejected request or event (validation errors only). */
  violations?: FieldViolation[];
}

/** One failing field: its dotted path and the failed constraints (constraint name → message). */
export interface FieldViolation {
  field: string;
  constraints: Record<string, string>;
}

/** The status texts of the codes the framework raises; other codes keep the text they were given. */
const STATUS_TEXT: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

export function statusText(code: number): string {
  return STATUS_TEXT[code] ?? 'Unknown';
}

const BRAND = Symbol.for('tsmicro.MicroError');

export class MicroError extends Error implements WireError {
  readonly id: string;
  readonly code: number;
  readonly detail: string;
  readonly status: string;
  readonly violations?: FieldViolation[];
  /**
   * True when the request is known not to have reached a handler (no connection, server draining), so
   * sending it again cannot run it twice. Local only: never on the wire.
   */
  readonly notDelivered: boolean;

  constructor(id: string, code: number, detail: string, options: { violations?: FieldViolation[]; notDelivered?: boolean; cause?: unknown } = {}) {
    super(detail, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MicroError';
    this.id = id;
    this.code = code;
    this.detail = detail;
    this.status = statusText(code);
    if (options.violations) this.violations = options.violations;
    this.notDelivered = options.notDelivered ?? false;
    Object.defineProperty(this, BRAND, { value: true });
  }

  /** Works across duplicated copies of this package, where `instanceof` would not. */
  static is(value: unknown): value is MicroError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
  }

  static badRequest(id: string, detail: string, violations?: FieldViolation[]): MicroError {
    return new MicroError(id, 400, detail, { violations });
  }
  static notFound(id: string, detail: string): MicroError {
    return new MicroError(id, 404, detail);
  }
  static timeout(id: string, detail: string): MicroError {
    return new MicroError(id, 408, detail);
  }
  static tooLarge(id: string, detail: string): MicroError {
    return new MicroError(id, 413, detail);
  }
  static internal(id: string, detail: string): MicroError {
    return new MicroError(id, 500, detail);
  }
  static unavailable(id: string, detail: string, notDelivered = false): MicroError {
    return new MicroError(id, 503, detail, { notDelivered });
  }

  toJSON(): WireError {
    const wire: WireError = { id: this.id, code: this.code, detail: this.detail, status: this.status };
    if (this.violations) wire.violations = this.violations;
    return wire;
  }

  /** The wire form, as a string for a transport header. */
  toWire(): string {
    return JSON.stringify(this.toJSON());
  }
}

/**
 * Normalises anything a handler throws into a MicroError at the boundary. A plain Error keeps its message but
 * never its stack: stacks stay in the server's log.
 */
export function toMicroError(error: unknown, id: string): MicroError {
  if (MicroError.is(error)) return error;
  if (error instanceof Error) return new MicroError(id, 500, error.message || error.name, { cause: error });
  return new MicroError(id, 500, typeof error === 'string' ? error : 'handler failed with a non-Error value');
}

/**
 * Reads an error received from the wire. Anything that is not a well-formed WireError becomes a 500 whose
 * detail is the raw text, so nothing a peer sends is lost.
 */
export function parseWireError(text: string, fallbackId: string, notDelivered = false): MicroError {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return new MicroError(fallbackId, 500, text);
  }
  if (typeof value !== 'object' || value === null) return new MicroError(fallbackId, 500, text);
  const wire = value as Partial<WireError>;
  const code = typeof wire.code === 'number' && Number.isInteger(wire.code) && wire.code >= 100 && wire.code < 600 ? wire.code : 500;
  const detail = typeof wire.detail === 'string' ? wire.detail : text;
  const id = typeof wire.id === 'string' && wire.id !== '' ? wire.id : fallbackId;
  const violations = Array.isArray(wire.violations) ? wire.violations : undefined;
  return new MicroError(id, code, detail, { violations, notDelivered });
}
