import convict from 'convict';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses `250ms`, `5s`, `1.5m`, `2h`, or a bare number of milliseconds. */
export function parseDuration(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value !== 'string') return Number.NaN;
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(value);
  if (!match) return Number.NaN;
  return Math.round(Number(match[1]) * UNITS[match[2] ?? 'ms']!);
}

/** Parses `k=v,k2=v2` (the form env vars and flags give) or passes an object through. */
export function parseStringMap(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const out: Record<string, string> = {};
  for (const pair of value.split(',')) {
    if (pair.trim() === '') continue;
    const at = pair.indexOf('=');
    if (at <= 0) return value;
    out[pair.slice(0, at).trim()] = pair.slice(at + 1).trim();
  }
  return out;
}

let registered = false;

/** Adds the formats the schema uses; convict keeps formats globally, so this runs once. */
export function registerFormats(): void {
  if (registered) return;
  registered = true;
  convict.addFormats({
    duration: {
      coerce: parseDuration,
      validate(value: unknown) {
        if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new Error('must be a duration such as 500ms, 5s, 1m, or a number of milliseconds');
      },
    },
    'string-map': {
      coerce: parseStringMap,
      validate(value: unknown) {
        if (typeof value !== 'object' || value === null || Array.isArray(value) || Object.values(value).some((entry) => typeof entry !== 'string')) {
          throw new Error('must be an object of strings, or k=v pairs separated by commas');
        }
      },
    },
    'host-port': {
      validate(value: unknown) {
        if (typeof value !== 'string' || (value !== '' && !/^(?:\[[^\]]+\]|[^:\s]*):\d{1,5}$/.test(value))) throw new Error('must be host:port, [ipv6]:port or :port');
      },
    },
    // What a transport listens on: host:port for TCP, a subject or queue name for brokers the transport rides on.
    'listen-address': {
      validate(value: unknown) {
        if (typeof value !== 'string' || /\s/.test(value)) throw new Error('must be host:port (or, for a broker-based transport, a subject or queue name) without spaces');
      },
    },
    'positive-int': {
      coerce: (value: unknown) => (typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value),
      validate(value: unknown) {
        if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw new Error('must be a whole number of 1 or more');
      },
    },
    'non-negative-int': {
      coerce: (value: unknown) => (typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value),
      validate(value: unknown) {
        if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw new Error('must be a whole number of 0 or more');
      },
    },
  });
}
