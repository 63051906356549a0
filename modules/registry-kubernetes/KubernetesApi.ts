import { request as httpRequest } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import type WebSocket from 'ws';

export interface ApiAccess {
  /** `https://10.0.0.1:443`, `http://127.0.0.1:6443`. */
  server: string;
  /** Adds credentials and TLS settings (from a kubeconfig or the service account) to request options. */
  authorise(options: RequestOptions): Promise<void>;
}

/** The API server said no: the message names the RBAC verb and resource that were missing. */
export class KubernetesForbiddenError extends Error {
  constructor(verb: string, resource: string, namespace: string, detail: string) {
    super(
      `kubernetes registry: not allowed to ${verb} ${resource} in namespace "${namespace}" (403: ${detail}); ` +
        `grant the pod's service account the RBAC verb "${verb}" on "${resource}" (the registry needs get, list, watch and patch on pods)`,
    );
    this.name = 'KubernetesForbiddenError';
  }
}

export class KubernetesApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'KubernetesApiError';
  }
}

type WebSocketModule = { default?: typeof WebSocket; WebSocket?: typeof WebSocket };

/** Just the pod calls the registry makes, over node:http(s), and watches over WebSocket (as kubectl's older clients did). */
export class KubernetesApi {
  constructor(
    private readonly access: ApiAccess,
    private readonly ws: WebSocketModule,
    private readonly timeoutMs: number,
  ) {}

  /** `patch` says which kind of PATCH body this is: a JSON merge patch, or a JSON patch (a list of operations). */
  async request<T>(method: 'GET' | 'PATCH' | 'POST' | 'DELETE', path: string, verb: string, namespace: string, body?: unknown, patch: 'merge' | 'json' = 'merge'): Promise<T> {
    const url = new URL(path, this.access.server);
    const options: RequestOptions = { method, headers: { Accept: 'application/json' }, timeout: this.timeoutMs };
    if (body !== undefined) {
      // For labels and annotations both patch kinds do what go-micro's strategic merge patch does, and unlike it
      // every API server (the mock included) accepts them.
      const patchType = patch === 'merge' ? 'application/merge-patch+json' : 'application/json-patch+json';
      (options.headers as Record<string, string>)['Content-Type'] = method === 'PATCH' ? patchType : 'application/json';
    }
    await this.access.authorise(options);
    const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
      const request = send(url, options, (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
        response.on('error', reject);
      });
      request.on('timeout', () => request.destroy(new Error(`kubernetes: ${method} ${url.pathname} timed out after ${this.timeoutMs} ms`)));
      request.on('error', reject);
      request.end(body === undefined ? undefined : JSON.stringify(body));
    });
    if (status === 403) throw new KubernetesForbiddenError(verb, 'pods', namespace, messageOf(text));
    if (status < 200 || status >= 300) throw new KubernetesApiError(status, `kubernetes: ${method} ${url.pathname} answered ${status}: ${messageOf(text)}`);
    return JSON.parse(text) as T;
  }

  /** Opens a watch; events arrive as `{ type, object }`. The caller reconnects when `onClose` runs. */
  async watch(path: string, onEvent: (event: { type: string; object: unknown }) => void, onClose: (error?: Error) => void): Promise<() => void> {
    const url = new URL(path, this.access.server);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    const options: RequestOptions = { headers: {} };
    await this.access.authorise(options);
    const Socket = (this.ws.WebSocket ?? this.ws.default)!;
    const socket = new Socket(url, { headers: options.headers as Record<string, string>, ca: options.ca, cert: options.cert, key: options.key, rejectUnauthorized: options.rejectUnauthorized, handshakeTimeout: this.timeoutMs });
    let failure: Error | undefined;
    socket.on('message', (data: WebSocket.RawData) => {
      try {
        onEvent(JSON.parse(data.toString()) as { type: string; object: unknown });
      } catch (error) {
        failure = error as Error;
      }
    });
    socket.on('unexpected-response', (_request, response) => {
      failure = response.statusCode === 403 ? new KubernetesForbiddenError('watch', 'pods', url.pathname.split('/')[4] ?? '', `HTTP ${response.statusCode}`) : new Error(`kubernetes: watch answered ${response.statusCode}`);
      socket.terminate();
    });
    socket.on('error', (error: Error) => (failure ??= error));
    socket.on('close', () => onClose(failure));
    return () => socket.terminate();
  }
}

function messageOf(text: string): string {
  try {
    const status = JSON.parse(text) as { message?: string };
    return status.message ?? text;
  } catch {
    return text.trim() || '(empty)';
  }
}
