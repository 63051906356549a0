import { createServer as createHttpServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

/**
 * A proxy in front of the mock API server for what the mock does not do: check who is calling (it records the
 * Authorization header and can serve HTTPS with a test certificate, as a cluster's API server does) and refuse a
 * verb with the 403 Status a real API server sends when RBAC is missing.
 */
export class ApiProxy {
  readonly authorizations: string[] = [];
  forbid: string | undefined;
  readonly #server: Server;

  constructor(
    private readonly target: string,
    tls?: { key: string; cert: string },
  ) {
    const handler = (incoming: IncomingMessage, outgoing: ServerResponse): void => this.#handle(incoming, outgoing);
    this.#server = tls ? createHttpsServer(tls, handler) : createHttpServer(handler);
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    return (this.#server.address() as AddressInfo).port;
  }

  #handle(incoming: IncomingMessage, outgoing: ServerResponse): void {
    this.authorizations.push(incoming.headers.authorization ?? '');
    if (this.forbid && incoming.method === this.forbid) {
      const message = `pods "x" is forbidden: User "system:serviceaccount:default:default" cannot ${incoming.method.toLowerCase()} resource "pods" in API group "" in the namespace "default"`;
      outgoing.writeHead(403, { 'content-type': 'application/json' });
      outgoing.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message, reason: 'Forbidden', code: 403 }));
      return;
    }
    const upstream = request(new URL(incoming.url ?? '/', this.target), { method: incoming.method, headers: { ...incoming.headers, host: new URL(this.target).host } }, (response) => {
      outgoing.writeHead(response.statusCode ?? 502, response.headers);
      response.pipe(outgoing);
    });
    upstream.on('error', () => outgoing.destroy());
    incoming.pipe(upstream);
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise((resolve) => this.#server.close(resolve));
  }
}
