import { METHODS, validateHeaderName } from 'node:http';
import type { FieldCondition, HostCondition, RouteConditions } from './routeTypes.js';
import { describe, isPlainObject, type RuleProblems } from './ruleProblems.js';

const MATCH_FIELDS = ['methods', 'host', 'path', 'headers', 'query'];
const HOST_NAME = /^(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)*(:\d{1,5})?$/i;
const HOST_IPV6 = /^\[[0-9a-f:.]+\](:\d{1,5})?$/i;

/** The `match` section of a rule; absent means every request (path `/`). */
export function readConditions(raw: unknown, problems: RuleProblems): RouteConditions | undefined {
  if (raw === undefined) return { path: '/', headers: [], query: [] };
  if (!isPlainObject(raw)) return problems.add('match', `must be an object with ${MATCH_FIELDS.join(', ')}, got ${describe(raw)}`);
  problems.rejectUnknownKeys(raw, MATCH_FIELDS, 'match.');
  const methods = readMethods(raw.methods, problems);
  const host = readHost(raw.host, problems);
  const path = readPath(raw.path, problems);
  const headers = readFields(raw.headers, 'match.headers', problems, (name) => {
    validateHeaderName(name);
    return name.toLowerCase();
  });
  const query = readFields(raw.query, 'match.query', problems, (name) => name);
  if (methods === null || host === null || path === undefined || !headers || !query) return undefined;
  return { methods, host, path, headers, query };
}

/** `null` when invalid (a problem was added), `undefined` when absent. */
function readMethods(raw: unknown, problems: RuleProblems): ReadonlySet<string> | undefined | null {
  if (raw === undefined) return undefined;
  const list = typeof raw === 'string' ? [raw] : raw;
  if (!Array.isArray(list) || list.some((method) => typeof method !== 'string')) {
    problems.add('match.methods', `must be a method name or a list of them, got ${describe(raw)}`);
    return null;
  }
  if (list.length === 0) {
    problems.add('match.methods', 'is an empty list; leave it out to match every method');
    return null;
  }
  const unknown = list.filter((method: string) => !METHODS.includes(method.toUpperCase()));
  if (unknown.length > 0) {
    problems.add('match.methods', `${unknown.map(describe).join(', ')} ${unknown.length === 1 ? 'is not an HTTP method' : 'are not HTTP methods'}`);
    return null;
  }
  return new Set(list.map((method: string) => method.toUpperCase()));
}

function readHost(raw: unknown, problems: RuleProblems): HostCondition | undefined | null {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !(HOST_NAME.test(raw) || HOST_IPV6.test(raw))) {
    problems.add('match.host', `must be a host name with an optional port (api.example.com, *.example.com, 127.0.0.1:8080, [::1]:8080), got ${describe(raw)}`);
    return null;
  }
  const lower = raw.toLowerCase();
  const wildcard = lower.startsWith('*.');
  const withPort = /:\d+$/.test(lower) && (!lower.startsWith('[') || lower.includes(']:'));
  return { pattern: wildcard ? lower.slice(1) : lower, wildcard, withPort };
}

function readPath(raw: unknown, problems: RuleProblems): string | undefined {
  if (raw === undefined) return '/';
  if (typeof raw !== 'string' || !raw.startsWith('/') || /[?#\s]/.test(raw)) {
    return problems.add('match.path', `must be a path prefix starting with "/", without a query or spaces, got ${describe(raw)}`);
  }
  // Requests are matched on their normalised path (dot segments resolved, percent-encoded), so the prefix is too.
  return new URL(`http://route${raw}`).pathname;
}

/** `headers` or `query`: name → exact value (string or number), `true` (present) or `false` (absent). */
function readFields(raw: unknown, field: string, problems: RuleProblems, normalise: (name: string) => string): FieldCondition[] | undefined {
  if (raw === undefined) return [];
  if (!isPlainObject(raw)) return problems.add(field, `must be an object of name: value, got ${describe(raw)}`);
  const conditions: FieldCondition[] = [];
  let valid = true;
  for (const [name, value] of Object.entries(raw)) {
    let key: string;
    try {
      key = normalise(name);
    } catch {
      problems.add(`${field}.${name}`, 'is not a valid header name');
      valid = false;
      continue;
    }
    if (typeof value === 'string' || typeof value === 'number') conditions.push({ name: key, expect: { kind: 'equals', value: String(value) } });
    else if (value === true) conditions.push({ name: key, expect: { kind: 'present' } });
    else if (value === false) conditions.push({ name: key, expect: { kind: 'absent' } });
    else {
      problems.add(`${field}.${name}`, `must be an exact value (text), true (present) or false (absent), got ${describe(value)}`);
      valid = false;
    }
  }
  return valid ? conditions : undefined;
}
