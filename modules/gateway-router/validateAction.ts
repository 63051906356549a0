import { validateHeaderName, validateHeaderValue } from 'node:http';
import { parseDuration } from '../../src/pluginKit.js';
import type { ProxyAction, ResponseAction } from './routeTypes.js';
import { describe, isPlainObject, type RuleProblems } from './ruleProblems.js';

const PROXY_FIELDS = ['url', 'stripPrefix', 'timeout', 'preserveHost', 'insecure', 'headers'];
const RESPONSE_FIELDS = ['status', 'headers', 'body'];
/** Framing and hop-by-hop headers: the gateway sets them for each connection, a rule cannot. */
const RESERVED_HEADERS = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'content-length', 'upgrade', 'te', 'trailer']);

/** `proxy: <url>` or `proxy: { url, stripPrefix, timeout, preserveHost, insecure, headers }`. */
export function readProxy(raw: unknown, defaultTimeoutMs: number, problems: RuleProblems): ProxyAction | undefined {
  const section = typeof raw === 'string' ? { url: raw } : raw;
  if (!isPlainObject(section)) return problems.add('proxy', `must be a URL or an object with ${PROXY_FIELDS.join(', ')}, got ${describe(raw)}`);
  problems.rejectUnknownKeys(section, PROXY_FIELDS, 'proxy.');
  const url = readUrl(section.url, problems);
  const stripPrefix = readBoolean(section.stripPrefix, 'proxy.stripPrefix', problems);
  const preserveHost = readBoolean(section.preserveHost, 'proxy.preserveHost', problems);
  const insecure = readBoolean(section.insecure, 'proxy.insecure', problems);
  const timeoutMs = section.timeout === undefined ? defaultTimeoutMs : parseDuration(section.timeout);
  if (!(timeoutMs >= 0)) problems.add('proxy.timeout', `must be a duration such as 500ms, 5s, 1m, a number of milliseconds, or 0 for none, got ${describe(section.timeout)}`);
  const headers = readHeaders(section.headers, 'proxy.headers', problems, false);
  if (!url || stripPrefix === undefined || preserveHost === undefined || insecure === undefined || !(timeoutMs >= 0) || !headers) return undefined;
  return { kind: 'proxy', url, stripPrefix, timeoutMs, preserveHost, insecure, headers: headers as Record<string, string> };
}

/** `response: { status, headers, body }`; a body that is not text is sent as JSON. Content-Type defaults to match. */
export function readResponse(raw: unknown, problems: RuleProblems): ResponseAction | undefined {
  if (!isPlainObject(raw)) return problems.add('response', `must be an object with ${RESPONSE_FIELDS.join(', ')}, got ${describe(raw)}`);
  problems.rejectUnknownKeys(raw, RESPONSE_FIELDS, 'response.');
  const status = raw.status ?? 200;
  const statusValid = typeof status === 'number' && Number.isInteger(status) && status >= 200 && status <= 599;
  if (!statusValid) problems.add('response.status', `must be a whole number from 200 to 599, got ${describe(raw.status)}`);
  const headers = readHeaders(raw.headers, 'response.headers', problems, true);
  if (headers && raw.body !== undefined && !('content-type' in headers)) headers['content-type'] = typeof raw.body === 'string' ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8';
  const body = raw.body === undefined ? Buffer.alloc(0) : Buffer.from(typeof raw.body === 'string' ? raw.body : JSON.stringify(raw.body), 'utf8');
  if ((status === 204 || status === 304) && body.length > 0) problems.add('response.body', `must be empty with status ${status}, which has no body`);
  if (!statusValid || !headers || ((status === 204 || status === 304) && body.length > 0)) return undefined;
  return { kind: 'response', status: status as number, headers, body };
}

function readUrl(raw: unknown, problems: RuleProblems): URL | undefined {
  const expected = 'must be an absolute http:// or https:// URL such as http://127.0.0.1:8081/base';
  if (typeof raw !== 'string') return problems.add('proxy.url', `${expected}, got ${describe(raw)}`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return problems.add('proxy.url', `${expected}, got ${describe(raw)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return problems.add('proxy.url', `${expected}, got ${describe(raw)}`);
  if (url.search || url.hash) return problems.add('proxy.url', `must not have a query or fragment (the request's query is passed on), got ${describe(raw)}`);
  if (url.username || url.password) return problems.add('proxy.url', 'must not hold credentials; set an authorization header in proxy.headers instead');
  return url;
}

function readBoolean(raw: unknown, field: string, problems: RuleProblems): boolean | undefined {
  if (raw === undefined) return false;
  if (typeof raw === 'boolean') return raw;
  return problems.add(field, `must be true or false, got ${describe(raw)}`);
}

/** Header names lower-cased; values checked now so that a bad one is a file error, not a failure per request. */
function readHeaders(raw: unknown, field: string, problems: RuleProblems, allowLists: boolean): Record<string, string | string[]> | undefined {
  if (raw === undefined) return {};
  if (!isPlainObject(raw)) return problems.add(field, `must be an object of header: value, got ${describe(raw)}`);
  const headers: Record<string, string | string[]> = {};
  let valid = true;
  for (const [name, value] of Object.entries(raw)) {
    const values = Array.isArray(value) && allowLists ? value : [value];
    const texts = values.map((item) => (typeof item === 'number' ? String(item) : item));
    if (RESERVED_HEADERS.has(name.toLowerCase())) {
      problems.add(`${field}.${name}`, 'is set by the gateway for each connection and cannot be configured');
      valid = false;
      continue;
    }
    try {
      validateHeaderName(name);
      if (texts.length === 0 || texts.some((text) => typeof text !== 'string')) throw new TypeError('value');
      for (const text of texts) validateHeaderValue(name, text);
    } catch {
      problems.add(`${field}.${name}`, `must be a valid header name with ${allowLists ? 'a text value or a list of them' : 'a text value'}, got ${describe(value)}`);
      valid = false;
      continue;
    }
    headers[name.toLowerCase()] = Array.isArray(value) && allowLists ? (texts as string[]) : (texts[0] as string);
  }
  return valid ? headers : undefined;
}
