import { readFileSync } from 'node:fs';
import { request as httpRequest, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface ConsulClientOptions {
  /** `host:port`, or a URL with its scheme (`https://consul.internal:8501`). */
  address: string;
  token: string;
  datacenter: string;
  tls: boolean;
  caFile: string;
  certFile: string;
  keyFile: string;
  insecureSkipVerify: boolean;
  timeoutMs: number;
}

export interface ConsulResponse {
  status: number;
  text: string;
  index: number;
}

/** A Consul answer that was not 2xx: the status, and Consul's own message. */
export class ConsulHttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
    method: string,
    path: string,
  ) {
    const hint = status === 403 ? ' (check the ACL token: registry.options.token / CONSUL_HTTP_TOKEN)' : '';
    super(`consul: ${method} ${path} answered ${status}: ${body.trim() || '(empty)'}${hint}`);
    this.name = 'ConsulHttpError';
  }
}

/** The agent HTTP API over node:http(s): token, datacenter, TLS with a custom CA or client certificate. */
export class ConsulClient {
  readonly #base: URL;
  readonly #tls: Pick<RequestOptions & { ca?: Buffer; cert?: Buffer; key?: Buffer; rejectUnauthorized?: boolean }, 'ca' | 'cert' | 'key' | 'rejectUnauthorized'>;

  constructor(private readonly options: ConsulClientOptions) {
    const withScheme = /^[a-z]+:\/\//.test(options.address) ? options.address : `${options.tls ? 'https' : 'http'}://${options.address}`;
    this.#base = new URL(withScheme);
    if (!this.#base.port) this.#base.port = this.#base.protocol === 'https:' ? '8501' : '8500';
    this.#tls = {
      ca: options.caFile ? readFileSync(options.caFile) : undefined,
      cert: options.certFile ? readFileSync(options.certFile) : undefined,
      key: options.keyFile ? readFileSync(options.keyFile) : undefined,
      rejectUnauthorized: !options.insecureSkipVerify,
    };
  }

  get address(): string {
    return this.#base.host;
  }

  /**
   * One request. Every call the registry makes is idempotent, so a request that met a connection the agent had
   * already closed (a kept-alive socket after an agent restart) is sent once more on a fresh one.
   */
  async send(method: 'GET' | 'PUT', path: string, options: { query?: Record<string, string>; body?: unknown; signal?: AbortSignal; timeoutMs?: number } = {}): Promise<ConsulResponse> {
    try {
      return await this.#send(method, path, options);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ECONNRESET' && code !== 'EPIPE') throw error;
      return this.#send(method, path, options);
    }
  }

  async #send(method: 'GET' | 'PUT', path: string, options: { query?: Record<string, string>; body?: unknown; signal?: AbortSignal; timeoutMs?: number }): Promise<ConsulResponse> {
    const url = new URL(path, this.#base);
    if (this.options.datacenter) url.searchParams.set('dc', this.options.datacenter);
    for (const [key, value] of Object.entries(options.query ?? {})) url.searchParams.set(key, value);
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const headers: Record<string, string> = {};
    if (this.options.token) headers['X-Consul-Token'] = this.options.token;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const response = await new Promise<ConsulResponse>((resolve, reject) => {
      const requester = url.protocol === 'https:' ? httpsRequest : httpRequest;
      const request = requester(url, { method, headers, signal: options.signal, timeout: options.timeoutMs ?? this.options.timeoutMs, ...(url.protocol === 'https:' ? this.#tls : {}) }, (incoming) => {
        let text = '';
        incoming.setEncoding('utf8');
        incoming.on('data', (chunk: string) => (text += chunk));
        incoming.on('end', () => resolve({ status: incoming.statusCode ?? 0, text, index: Number(incoming.headers['x-consul-index'] ?? 0) }));
        incoming.on('error', reject);
      });
      request.on('timeout', () => request.destroy(new Error(`consul: ${method} ${url.pathname} timed out`)));
      request.on('error', reject);
      request.end(body);
    });
    if (response.status < 200 || response.status >= 300) throw new ConsulHttpError(response.status, response.text, method, url.pathname);
    return response;
  }

  async json<T>(path: string, query: Record<string, string> = {}, signal?: AbortSignal, timeoutMs?: number): Promise<{ value: T; index: number }> {
    const response = await this.send('GET', path, { query, signal, timeoutMs });
    return { value: JSON.parse(response.text) as T, index: response.index };
  }
}
