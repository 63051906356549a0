import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { createGateway } from '../../src/gateway/createGateway.js';
import type { Gateway } from '../../src/gateway/Gateway.js';
import type { Logger } from '../../src/index.js';
import type { TestApps } from '../../test/helpers/apps.js';

/** A real HTTP server on 127.0.0.1 standing in for an upstream; it records what it was sent. */
export interface Upstream {
  url: string;
  port: number;
  server: Server;
  requests: { method: string; url: string; headers: IncomingHttpHeaders }[];
  close(): Promise<void>;
}

export async function startUpstream(handle: (request: IncomingMessage, response: ServerResponse) => void): Promise<Upstream> {
  const requests: Upstream['requests'] = [];
  const server = createServer((request, response) => {
    requests.push({ method: request.method!, url: request.url!, headers: request.headers });
    handle(request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}`, port, server, requests, close: () => closeServer(server) };
}

export function closeServer(server: Server | HttpsServer): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** A port nothing listens on (it was free a moment ago): connections to it are refused. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await closeServer(server);
  return port;
}

/** A directory for routes files, removed by `remove()`. */
export class RoutesDirectory {
  readonly path = mkdtempSync(join(tmpdir(), 'tsmicro-router-'));

  /** Writes in place (JSON or YAML by the name's extension); returns the absolute path. */
  write(name: string, routes: unknown): string {
    const file = join(this.path, name);
    writeFileSync(file, typeof routes === 'string' ? routes : name.endsWith('.json') ? JSON.stringify(routes, null, 2) : toYaml(routes));
    return file;
  }

  /** Replaces the file the way editors and deploy tools do: write a temporary file, rename it over. */
  replace(name: string, routes: unknown): string {
    const temporary = this.write(`.${name}.tmp`, typeof routes === 'string' ? routes : JSON.stringify(routes));
    const file = join(this.path, name);
    renameSync(temporary, file);
    return file;
  }

  remove(): void {
    rmSync(this.path, { recursive: true, force: true });
  }
}

export interface StartedGateway {
  gateway: Gateway;
  base: string;
  port: number;
}

/** A gateway on a started app, with the gateway config given (plugins chosen by config, as in production). */
export async function startGateway(apps: TestApps, gateway: Record<string, unknown>, logger?: Logger): Promise<StartedGateway> {
  const app = await apps.started({ ...(logger ? { logger } : {}), config: { gateway: { address: '127.0.0.1:0', accessLog: false, ...gateway } } });
  const started = createGateway(app);
  await started.start();
  // Gateway.address is host:port; the port is after the last colon whatever the host.
  const port = Number(started.address!.split(':').at(-1));
  return { gateway: started, base: `http://127.0.0.1:${port}`, port };
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** A request with node:http, which (unlike fetch) sends any header given, hop-by-hop ones included. */
export function send(port: number, options: { method?: string; path?: string; headers?: OutgoingHttpHeaders; body?: string | Buffer; host?: string }): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const outgoing = request({ host: options.host ?? '127.0.0.1', port, method: options.method ?? 'GET', path: options.path ?? '/', headers: options.headers, agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode!, headers: response.headers, body: Buffer.concat(chunks) }));
      response.on('error', reject);
    });
    outgoing.on('error', reject);
    outgoing.end(options.body);
  });
}

export const jsonOf = (response: RawResponse): unknown => JSON.parse(response.body.toString('utf8'));
