import { describe, expect, it } from '@jest/globals';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { pathToFileURL } from 'node:url';
import { requestFacts, type RequestFacts } from './requestFacts.js';
import type { ProxyAction, Route } from './routeTypes.js';
import { parseRoutesText, resolveRoutesPath, routesFromText } from './routesFile.js';
import { RoutingTable } from './RoutingTable.js';
import { upstreamPath } from './upstreamPath.js';
import { InvalidRoutesError, validateRoutes } from './validateRoutes.js';

const defaults = { timeoutMs: 30_000 };
const fixed = { response: { status: 200 } };

function facts(url: string, options: { method?: string; headers?: IncomingHttpHeaders } = {}): RequestFacts {
  const request = { url, method: options.method ?? 'GET', headers: { host: 'api.example.com', ...options.headers } } as unknown as IncomingMessage;
  return requestFacts(request)!;
}

function problemsOf(document: unknown): readonly string[] {
  try {
    validateRoutes(document, defaults);
  } catch (error) {
    return (error as InvalidRoutesError).problems;
  }
  throw new Error('expected the routes to be refused');
}

/** Which rule (by name) a request picks. */
function pick(rules: object[], request: RequestFacts, random = () => 0): string | undefined {
  const routes = validateRoutes({ routes: rules }, defaults);
  return new RoutingTable(routes).choose(request, random)?.label.replace(/^routes\[\d+\] \("(.*)"\)$/, '$1');
}

describe('router rules', () => {
  it('matches on each field: methods, host, path prefix, headers (value, presence, absence), query', () => {
    const rule = (name: string, match: object) => ({ name, match, ...fixed });
    expect(pick([rule('m', { methods: ['post', 'PUT'] })], facts('/', { method: 'PUT' }))).toBe('m');
    expect(pick([rule('m', { methods: 'POST' })], facts('/'))).toBeUndefined();
    expect(pick([rule('h', { host: 'API.example.com' })], facts('/', { headers: { host: 'api.example.com:8080' } }))).toBe('h');
    expect(pick([rule('h', { host: 'api.example.com:9090' })], facts('/', { headers: { host: 'api.example.com:8080' } }))).toBeUndefined();
    expect(pick([rule('h', { host: '*.example.com' })], facts('/', { headers: { host: 'eu.api.example.com' } }))).toBe('h');
    expect(pick([rule('h', { host: '*.example.com' })], facts('/', { headers: { host: 'example.com' } }))).toBeUndefined();
    expect(pick([rule('h', { host: '[::1]:8080' })], facts('/', { headers: { host: '[::1]:8080' } }))).toBe('h');
    expect(pick([rule('p', { path: '/api' })], facts('/api/orders?x=1'))).toBe('p');
    expect(pick([rule('p', { path: '/api' })], facts('/api'))).toBe('p');
    expect(pick([rule('p', { path: '/api' })], facts('/apis'))).toBeUndefined();
    expect(pick([rule('p', { path: '/api/' })], facts('/api'))).toBeUndefined();
    const headers = { 'X-Canary': 'yes', authorization: true, 'x-debug': false };
    expect(pick([rule('hd', { headers })], facts('/', { headers: { 'x-canary': 'yes', authorization: 'Bearer t' } }))).toBe('hd');
    expect(pick([rule('hd', { headers })], facts('/', { headers: { 'x-canary': 'no', authorization: 'Bearer t' } }))).toBeUndefined();
    expect(pick([rule('hd', { headers })], facts('/', { headers: { 'x-canary': 'yes' } }))).toBeUndefined();
    expect(pick([rule('hd', { headers })], facts('/', { headers: { 'x-canary': 'yes', authorization: 'x', 'x-debug': '1' } }))).toBeUndefined();
    const query = { version: 2, debug: true, legacy: false };
    expect(pick([rule('q', { query })], facts('/?version=1&version=2&debug'))).toBe('q');
    expect(pick([rule('q', { query })], facts('/?version=1&debug'))).toBeUndefined();
    expect(pick([rule('q', { query })], facts('/?version=2&debug&legacy=1'))).toBeUndefined();
  });

  it('matches the normalised path, so dot segments cannot climb out of a prefix', () => {
    const rules = [{ name: 'public', match: { path: '/public' }, ...fixed }];
    expect(pick(rules, facts('/public/../admin'))).toBeUndefined();
    expect(pick(rules, facts('/public/%2e%2e/admin'))).toBeUndefined();
    expect(pick(rules, facts('/admin/../public/x'))).toBe('public');
    expect(facts('//evil.example/x').path).toBe('//evil.example/x');
    expect(facts('http://other.example:81/a?b=1')).toMatchObject({ host: 'other.example:81', path: '/a', search: '?b=1' });
    expect(requestFacts({ url: '*', method: 'OPTIONS', headers: {} } as unknown as IncomingMessage)).toBeUndefined();
  });

  it('takes the highest priority, splits equal priorities by weight, and skips rules of weight 0', () => {
    const rules = [
      { name: 'low', priority: 1, ...fixed },
      { name: 'a', priority: 5, weight: 3, ...fixed },
      { name: 'b', priority: 5, weight: 1, ...fixed },
      { name: 'other-path', priority: 9, match: { path: '/other' }, ...fixed },
    ];
    expect(pick(rules, facts('/'), () => 0)).toBe('a');
    expect(pick(rules, facts('/'), () => 0.74)).toBe('a');
    expect(pick(rules, facts('/'), () => 0.76)).toBe('b');
    expect(pick(rules, facts('/other'), () => 0.9)).toBe('other-path');
    const drained = rules.map((rule) => (rule.priority === 5 ? { ...rule, weight: 0 } : rule));
    expect(pick(drained, facts('/'))).toBe('low');
  });

  it('joins the upstream path, stripping the prefix when asked, and keeps the query as sent', () => {
    const proxyOf = (url: string, stripPrefix: boolean, path: string): string => {
      const [route] = validateRoutes({ routes: [{ match: { path }, proxy: { url, stripPrefix } }] }, defaults) as [Route & { action: ProxyAction }];
      return upstreamPath(route.action, route.when.path, facts(`${path === '/' ? '' : path}/7?full=1&a=%20b`));
    };
    expect(proxyOf('http://up/api', true, '/orders')).toBe('/api/7?full=1&a=%20b');
    expect(proxyOf('http://up/api/', true, '/orders/')).toBe('/api/7?full=1&a=%20b');
    expect(proxyOf('http://up', false, '/orders')).toBe('/orders/7?full=1&a=%20b');
    expect(proxyOf('http://up/base', false, '/orders')).toBe('/base/orders/7?full=1&a=%20b');
    expect(proxyOf('http://up/base', true, '/')).toBe('/base/7?full=1&a=%20b');
    const [exact] = validateRoutes({ routes: [{ match: { path: '/orders' }, proxy: { url: 'http://up/api', stripPrefix: true } }] }, defaults) as [Route & { action: ProxyAction }];
    expect(upstreamPath(exact.action, '/orders', facts('/orders'))).toBe('/api');
  });

  it('names the rule and the field of every problem in a file', () => {
    expect(
      problemsOf({
        routes: [
          { name: 'orders', match: { methods: ['GETT'], path: 'orders' }, proxy: { url: 'orders:8080', insecure: 'yes', timeot: '5s' } },
          { match: { host: 'http://x/' }, response: { status: 99, headers: { 'content-length': '3' } } },
          { name: 'both', proxy: 'http://a', response: {} },
          { name: 'neither', priority: 1.5, weight: -1 },
          'not a rule',
          { name: 'orders', match: { headers: { 'x-a': ['list'] }, query: { q: null } }, response: { status: 204, body: 'x' } },
        ],
        extra: true,
      }),
    ).toEqual([
      'the file: extra: unknown field; known fields: routes',
      'routes[0] ("orders"): match.methods: "GETT" is not an HTTP method',
      'routes[0] ("orders"): match.path: must be a path prefix starting with "/", without a query or spaces, got "orders"',
      'routes[0] ("orders"): proxy.timeot: unknown field; did you mean "timeout"?; known fields: url, stripPrefix, timeout, preserveHost, insecure, headers',
      'routes[0] ("orders"): proxy.url: must be an absolute http:// or https:// URL such as http://127.0.0.1:8081/base, got "orders:8080"',
      'routes[0] ("orders"): proxy.insecure: must be true or false, got "yes"',
      'routes[1]: match.host: must be a host name with an optional port (api.example.com, *.example.com, 127.0.0.1:8080, [::1]:8080), got "http://x/"',
      'routes[1]: response.status: must be a whole number from 200 to 599, got 99',
      'routes[1]: response.headers.content-length: is set by the gateway for each connection and cannot be configured',
      'routes[2] ("both"): has both "proxy" and "response"; a rule does one or the other',
      'routes[3] ("neither"): priority: must be a whole number (higher wins), got 1.5',
      'routes[3] ("neither"): weight: must be a number of 0 or more (0 turns the rule off), got -1',
      'routes[3] ("neither"): needs either "proxy" (forward the request) or "response" (answer it)',
      'routes[4]: must be an object with match and either proxy or response, got "not a rule"',
      'routes[5] ("orders"): match.headers.x-a: must be an exact value (text), true (present) or false (absent), got a list',
      'routes[5] ("orders"): match.query.q: must be an exact value (text), true (present) or false (absent), got null',
      'routes[5] ("orders"): response.body: must be empty with status 204, which has no body',
      'routes[5] ("orders"): name: also the name of routes[0]; names must be unique',
    ]);
    expect(problemsOf({ rules: [] })).toEqual(['the file: rules: unknown field; did you mean "routes"?; known fields: routes', 'routes: must be a list of rules, got nothing']);
    expect(problemsOf(null)).toEqual(['the file must hold an object with a "routes" list, got null']);
  });

  it("rejects go-micro's field names instead of ignoring them (its Insecure setting was read from a key named \"bool\")", () => {
    expect(problemsOf({ routes: [{ request: { method: 'GET', path: '/' }, type: 'proxy', proxy: { url: 'https://a', bool: true } }] })).toEqual([
      'routes[0]: request: unknown field; known fields: name, match, priority, weight, proxy, response',
      'routes[0]: type: unknown field; known fields: name, match, priority, weight, proxy, response',
      'routes[0]: proxy.bool: unknown field; known fields: url, stripPrefix, timeout, preserveHost, insecure, headers',
    ]);
    const [route] = validateRoutes({ routes: [{ proxy: { url: 'https://a', insecure: true, timeout: '2s' } }] }, defaults);
    expect(route!.action).toMatchObject({ kind: 'proxy', insecure: true, timeoutMs: 2000 });
  });

  it('parses JSON and YAML by extension and says where a file does not parse', () => {
    const yaml = 'routes:\n  - match: { path: /a }\n    response: { status: 201, body: { ok: true } }\n';
    const [route] = routesFromText(yaml, '/r/routes.yml', defaults);
    expect(route!.action).toEqual({ kind: 'response', status: 201, headers: { 'content-type': 'application/json; charset=utf-8' }, body: Buffer.from('{"ok":true}') });
    expect(() => parseRoutesText('{"routes": [', '/r/routes.json')).toThrow(/^routes file \/r\/routes.json is not valid JSON: /);
    expect(() => parseRoutesText('routes: [a, b', '/r/routes.yaml')).toThrow(/^routes file \/r\/routes.yaml is not valid YAML: .*line 1/);
    expect(() => parseRoutesText('{}', '/r/routes.txt')).toThrow('routes file /r/routes.txt has the extension ".txt"; name it .json, .yaml or .yml');
    expect(() => routesFromText('{"routes": [{}]}', '/r/routes.json', defaults)).toThrow(
      'routes file /r/routes.json is invalid: routes[0]: needs either "proxy" (forward the request) or "response" (answer it)',
    );
  });

  it("resolves the file option: relative to the working directory, absolute, go-micro's file:<path>, and file:// URLs", () => {
    expect(resolveRoutesPath('config/routes.yaml', '/srv/app')).toBe('/srv/app/config/routes.yaml');
    expect(resolveRoutesPath('/etc/routes.json', '/srv/app')).toBe('/etc/routes.json');
    expect(resolveRoutesPath('file:routes.json', '/srv/app')).toBe('/srv/app/routes.json');
    expect(resolveRoutesPath('file:/etc/routes.json', '/srv/app')).toBe('/etc/routes.json');
    expect(resolveRoutesPath(pathToFileURL('/etc/my routes.json').href, '/srv/app')).toBe('/etc/my routes.json');
  });
});
