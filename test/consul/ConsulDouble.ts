import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { parseGoDuration } from './goDuration.js';
import { CONSUL_TIMINGS, ConsulState, type AgentService, type ConsulTimings } from './ConsulState.js';

export interface ConsulDoubleOptions {
  datacenter?: string;
  /** When set, every request must carry this token (X-Consul-Token, Authorization: Bearer, or ?token=). */
  aclToken?: string;
  tls?: { key: string; cert: string };
  timings?: Partial<ConsulTimings>;
  nodeName?: string;
}

const MAX_WAIT_MS = 10 * 60_000;
const DEFAULT_WAIT_MS = 5 * 60_000;

/**
 * A stand-in for a Consul agent, written from Consul's HTTP API documentation and covering exactly the endpoints
 * the registry-consul plugin calls: service register/deregister, TTL check pass, health service (with ?passing),
 * catalog services, blocking queries (index + wait, X-Consul-Index), ACL tokens and datacenters. No Consul server
 * can be installed on this machine; the same tests run against a real agent when CONSUL_HTTP_ADDR is set.
 */
export class ConsulDouble {
  readonly state: ConsulState;
  readonly #server: Server;
  readonly #options: ConsulDoubleOptions;
  readonly #datacenter: string;
  readonly #node: string;

  constructor(options: ConsulDoubleOptions = {}) {
    this.#options = options;
    this.#datacenter = options.datacenter ?? 'dc1';
    this.#node = options.nodeName ?? 'tsmicro-double';
    this.state = new ConsulState({ ...CONSUL_TIMINGS, ...options.timings });
    const handler = (request: IncomingMessage, response: ServerResponse): void => void this.#handle(request, response);
    this.#server = options.tls ? createHttpsServer(options.tls, handler) : createHttpServer(handler);
  }

  async listen(port = 0): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(port, '127.0.0.1', resolve));
    return `127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.state.close();
    this.#server.closeAllConnections();
    await new Promise((resolve) => this.#server.close(resolve));
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://consul');
    const send = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      const text = typeof body === 'string' ? body : JSON.stringify(body);
      response.writeHead(status, { 'Content-Type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json', ...headers });
      response.end(text);
    };
    try {
      if (this.#options.aclToken) {
        const token = request.headers['x-consul-token'] ?? request.headers.authorization?.replace(/^Bearer /, '') ?? url.searchParams.get('token');
        if (token !== this.#options.aclToken) return send(403, 'Permission denied');
      }
      const dc = url.searchParams.get('dc');
      if (dc && dc !== this.#datacenter) return send(500, 'No path to datacenter');
      const route = `${request.method} ${url.pathname}`;
      let match: RegExpExecArray | null;
      if (route === 'PUT /v1/agent/service/register') return this.#register(await readJson(request), send);
      if ((match = /^PUT \/v1\/agent\/service\/deregister\/(.+)$/.exec(route))) {
        const id = decodeURIComponent(match[1]!);
        return this.state.deregister(id) ? send(200, '') : send(404, `Unknown service ID "${id}". Ensure that the service ID is passed, not the service name.`);
      }
      if ((match = /^PUT \/v1\/agent\/check\/pass\/(.+)$/.exec(route))) {
        const id = decodeURIComponent(match[1]!);
        const outcome = this.state.pass(id, url.searchParams.get('note') ?? '');
        if (outcome === 'unknown') return send(404, `Unknown check ID "${id}". Ensure that the check ID is passed, not the check name.`);
        if (outcome === 'no-ttl') return send(500, `CheckID "${id}" does not have associated TTL`);
        return send(200, '');
      }
      if (route === 'GET /v1/status/leader') return send(200, '127.0.0.1:8300');
      if (route === 'GET /v1/catalog/services') return this.#blocking(url, send, () => this.#catalogServices());
      if ((match = /^GET \/v1\/health\/service\/(.+)$/.exec(route))) {
        const name = decodeURIComponent(match[1]!);
        const passing = url.searchParams.has('passing') && url.searchParams.get('passing') !== 'false';
        return this.#blocking(url, send, () => this.#healthService(name, passing));
      }
      if (/^(GET|PUT) \/v1\//.test(route)) return send(404, `the Consul double does not implement ${route}`);
      return send(405, 'method not allowed');
    } catch (error) {
      send(400, `Request decode failed: ${(error as Error).message}`);
    }
  }

  #register(body: Record<string, unknown>, send: (status: number, body: unknown) => void): void {
    const name = body.Name;
    if (typeof name !== 'string' || name === '') return send(400, 'Missing service name');
    const check = (body.Check ?? (Array.isArray(body.Checks) ? body.Checks[0] : undefined)) as Record<string, unknown> | undefined;
    let checkSpec: { ttlMs: number; deregisterAfterMs: number; status?: 'passing' | 'warning' | 'critical' } | undefined;
    if (check) {
      const ttlMs = typeof check.TTL === 'string' ? parseGoDuration(check.TTL) : 0;
      const deregisterAfterMs = typeof check.DeregisterCriticalServiceAfter === 'string' ? parseGoDuration(check.DeregisterCriticalServiceAfter) : 0;
      if (Number.isNaN(ttlMs) || Number.isNaN(deregisterAfterMs)) return send(400, 'Invalid check: durations must look like "10s" or "1m"');
      if (ttlMs <= 0) return send(400, 'Invalid check: the double supports TTL checks only');
      checkSpec = { ttlMs, deregisterAfterMs, status: check.Status as 'passing' | undefined };
    }
    const service: AgentService = {
      ID: typeof body.ID === 'string' && body.ID !== '' ? body.ID : name,
      Service: name,
      Tags: Array.isArray(body.Tags) ? body.Tags.map(String) : [],
      Address: typeof body.Address === 'string' ? body.Address : '',
      Port: typeof body.Port === 'number' ? body.Port : 0,
      Meta: (body.Meta as Record<string, string>) ?? {},
    };
    this.state.register(service, checkSpec);
    send(200, '');
  }

  async #blocking(url: URL, send: (status: number, body: unknown, headers?: Record<string, string>) => void, read: () => unknown): Promise<void> {
    const index = Number(url.searchParams.get('index') ?? '0');
    if (index > 0) {
      const wait = url.searchParams.has('wait') ? parseGoDuration(url.searchParams.get('wait')!) : DEFAULT_WAIT_MS;
      const bounded = Math.min(Number.isNaN(wait) ? DEFAULT_WAIT_MS : wait, MAX_WAIT_MS);
      // Consul adds up to wait/16 of jitter so that many watchers do not wake at once.
      await this.state.waitBeyond(index, bounded + Math.random() * (bounded / 16));
    }
    send(200, read(), { 'X-Consul-Index': String(this.state.index), 'X-Consul-KnownLeader': 'true', 'X-Consul-LastContact': '0' });
  }

  #catalogServices(): Record<string, string[]> {
    const out: Record<string, string[]> = { consul: [] };
    for (const service of this.state.services.values()) out[service.Service] = [...new Set([...(out[service.Service] ?? []), ...service.Tags])];
    return out;
  }

  #healthService(name: string, passingOnly: boolean): unknown[] {
    const node = { ID: '00000000-0000-0000-0000-000000000001', Node: this.#node, Address: '127.0.0.1', Datacenter: this.#datacenter, TaggedAddresses: {}, Meta: {} };
    const serfHealth = { Node: this.#node, CheckID: 'serfHealth', Name: 'Serf Health Status', Status: 'passing', Output: 'Agent alive and reachable', ServiceID: '', ServiceName: '' };
    const entries = [];
    for (const service of this.state.services.values()) {
      if (service.Service !== name) continue;
      const checks = this.state.checksOf(service.ID).map(({ CheckID, Name, Status, Output, ServiceID, ServiceName }) => ({ Node: this.#node, CheckID, Name, Status, Output, ServiceID, ServiceName }));
      if (passingOnly && checks.some((check) => check.Status !== 'passing')) continue;
      entries.push({ Node: node, Service: { ...service, Weights: { Passing: 1, Warning: 1 } }, Checks: [serfHealth, ...checks] });
    }
    return entries;
  }
}

function readJson(request: IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    let text = '';
    request.on('data', (chunk: Buffer) => (text += chunk.toString()));
    request.on('end', () => {
      try {
        resolve(text === '' ? {} : (JSON.parse(text) as Record<string, unknown>));
      } catch (error) {
        reject(error);
      }
    });
    request.on('error', reject);
  });
}
