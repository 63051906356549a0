import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { FieldCondition, HostCondition, RouteConditions } from './routeTypes.js';

/** What rules look at in a request, worked out once per request. */
export interface RequestFacts {
  readonly method: string;
  /** Lower-case Host (with its port, if any); '' when the request has none. */
  readonly host: string;
  /**
   * The normalised path: dot segments resolved and percent-encoding made canonical, as WHATWG URL does. Rules match
   * it and the proxy forwards it, so `/public/../admin` cannot match `/public` and then reach `/admin` upstream.
   */
  readonly path: string;
  /** The query exactly as the client sent it, with its `?`, or ''. */
  readonly search: string;
  readonly headers: IncomingHttpHeaders;
  readonly query: URLSearchParams;
}

/** Undefined for request targets that are not paths or http(s) URLs (`OPTIONS *`): no rule can match them. */
export function requestFacts(request: IncomingMessage): RequestFacts | undefined {
  const target = request.url ?? '/';
  const isPath = target.startsWith('/');
  let url: URL;
  try {
    // Prefixing keeps `//x/y` a path instead of a host (new URL('//x/y', base) would read x as the host).
    url = new URL(isPath ? `http://gateway${target}` : target);
  } catch {
    return undefined;
  }
  if (!isPath && url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  const queryAt = target.indexOf('?');
  return {
    method: request.method ?? 'GET',
    // An absolute-form target (`GET http://host/path`) names the host itself, and then Host is ignored (RFC 9112 §3.2.2).
    host: (isPath ? (request.headers.host ?? '') : url.host).toLowerCase(),
    path: url.pathname,
    search: queryAt >= 0 ? target.slice(queryAt) : '',
    headers: request.headers,
    query: url.searchParams,
  };
}

export function conditionsMatch(when: RouteConditions, facts: RequestFacts): boolean {
  return (
    (when.methods === undefined || when.methods.has(facts.method)) &&
    (when.host === undefined || hostMatches(when.host, facts.host)) &&
    pathMatches(when.path, facts.path) &&
    when.headers.every((condition) => fieldMatches(condition, headerValues(facts.headers, condition.name))) &&
    when.query.every((condition) => fieldMatches(condition, facts.query.getAll(condition.name)))
  );
}

/** Whole segments: `/api` matches `/api` and `/api/…` but not `/apis`; a prefix ending in `/` is taken as written. */
export function pathMatches(prefix: string, path: string): boolean {
  return prefix === '/' || path === prefix || path.startsWith(prefix.endsWith('/') ? prefix : `${prefix}/`);
}

function hostMatches(condition: HostCondition, host: string): boolean {
  const subject = condition.withPort ? host : withoutPort(host);
  return condition.wildcard ? subject.length > condition.pattern.length && subject.endsWith(condition.pattern) : subject === condition.pattern;
}

function withoutPort(host: string): string {
  if (host.startsWith('[')) return host.slice(0, host.indexOf(']') + 1);
  return host.replace(/:\d*$/, '');
}

function headerValues(headers: IncomingHttpHeaders, name: string): string[] {
  const value = headers[name];
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

function fieldMatches(condition: FieldCondition, values: readonly string[]): boolean {
  const { expect } = condition;
  if (expect.kind === 'present') return values.length > 0;
  if (expect.kind === 'absent') return values.length === 0;
  return values.includes(expect.value);
}
