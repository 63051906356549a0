import { request as httpRequest, type Agent, type ClientRequest, type IncomingMessage, type OutgoingHttpHeaders, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { pipeline } from 'node:stream';
import { MicroError } from '../../src/index.js';
import type { GatewayExchange } from '../../src/gateway/GatewayPlugin.js';
import { sendError } from '../../src/gateway/http.js';
import type { Logger } from '../../src/index.js';
import { downstreamResponseHeaders, hasRequestBody } from './forwardHeaders.js';
import type { ProxyAction, Route } from './routeTypes.js';

export const ROUTER_ERROR_ID = 'tsmicro.gateway.router';

/** Methods a client may send twice with the effect of once (RFC 9110 §9.2.2). */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

/** The upstream stayed silent for longer than the rule's timeout. */
class UpstreamTimeoutError extends Error {
  readonly code = 'UPSTREAM_TIMEOUT';
  constructor(readonly timeoutMs: number) {
    super(`no data from the upstream for ${timeoutMs} ms`);
  }
}

export interface ProxyTarget {
  route: Route & { action: ProxyAction };
  /** Path and query asked of the upstream. */
  path: string;
  headers: OutgoingHttpHeaders;
  agent: Agent;
}

/**
 * One request forwarded to an upstream: the request body streamed up, the response streamed back, with
 * backpressure both ways. Failures before the response starts become a 502 (504 on timeout) wire error; after
 * it started, the client's connection is cut so that it cannot take a truncated body for a whole one.
 */
export class ProxyCall {
  #upstream: ClientRequest | undefined;
  #attempts = 0;
  /** The upstream's response has begun: from then on the response stream alone decides how this ends. */
  #responded = false;
  #clientGone = false;
  #finished = false;

  constructor(
    private readonly exchange: GatewayExchange,
    private readonly target: ProxyTarget,
    private readonly logger: Logger,
  ) {}

  start(): void {
    const { response } = this.exchange;
    // A client that goes away takes its upstream request with it.
    response.once('close', () => {
      if (response.writableFinished) return;
      this.#clientGone = true;
      this.#upstream?.destroy();
    });
    this.#send();
  }

  #send(): void {
    this.#attempts++;
    const { action } = this.target.route;
    const url = action.url;
    const options: RequestOptions & { rejectUnauthorized?: boolean } = {
      protocol: url.protocol,
      hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: url.port || undefined,
      path: this.target.path,
      method: this.exchange.request.method,
      headers: this.target.headers,
      agent: this.target.agent,
    };
    if (url.protocol === 'https:') options.rejectUnauthorized = !action.insecure;
    let upstream: ClientRequest;
    try {
      upstream = (url.protocol === 'https:' ? httpsRequest : httpRequest)(options);
    } catch (error) {
      return this.#fail(error as Error);
    }
    this.#upstream = upstream;
    if (action.timeoutMs > 0) upstream.setTimeout(action.timeoutMs, () => upstream.destroy(new UpstreamTimeoutError(action.timeoutMs)));
    upstream.once('response', (upstreamResponse) => this.#respond(upstreamResponse));
    upstream.on('error', (error) => this.#upstreamFailed(upstream, error));
    // However the upstream request ends, body the client is still sending must be read off (and dropped), or the
    // client's connection stays stuck mid-request: a destroyed upstream does not always report an error to the pipe.
    upstream.once('close', () => {
      if (upstream === this.#upstream) this.#discardRequestBody();
    });
    if (hasRequestBody(this.exchange.request)) this.exchange.request.pipe(upstream);
    else upstream.end();
  }

  #respond(upstreamResponse: IncomingMessage): void {
    const { response } = this.exchange;
    this.#responded = true;
    if (response.destroyed) return void upstreamResponse.destroy();
    try {
      response.writeHead(upstreamResponse.statusCode ?? 502, downstreamResponseHeaders(upstreamResponse));
    } catch (error) {
      upstreamResponse.destroy();
      return this.#fail(error as Error);
    }
    // On error pipeline destroys the client's response, which cuts its connection: a truncated body must look broken.
    pipeline(upstreamResponse, response, (error) => {
      if (error && !this.#clientGone) this.#log('the upstream response broke off; the client connection was cut', error);
      this.#finished = true;
    });
  }

  #upstreamFailed(upstream: ClientRequest, error: Error): void {
    if (upstream !== this.#upstream || this.#clientGone) return;
    if (this.#responded) {
      // Typically the upstream answered early (a 401, a 413) and stopped reading the body: its answer still stands.
      this.#discardRequestBody();
      return;
    }
    // A pooled connection the upstream closed just as it was reused (its keep-alive timeout raced our request): one
    // retry on a new connection, for idempotent requests without a body only, since the upstream may have run it.
    const stale = upstream.reusedSocket && (error as NodeJS.ErrnoException).code === 'ECONNRESET';
    const replayable = IDEMPOTENT.has(this.exchange.request.method ?? '') && !hasRequestBody(this.exchange.request);
    if (stale && replayable && this.#attempts === 1) return this.#send();
    this.#fail(error);
  }

  #fail(error: Error): void {
    if (this.#finished) return;
    this.#finished = true;
    const { response } = this.exchange;
    if (response.destroyed || response.writableEnded) return;
    if (response.headersSent) {
      this.#log('the upstream failed while answering; the client connection was cut', error);
      return void response.destroy();
    }
    const { route } = this.target;
    const timedOut = error instanceof UpstreamTimeoutError;
    const status = timedOut ? 504 : 502;
    this.#log(timedOut ? 'the upstream did not answer in time' : 'the upstream cannot be reached', error, status);
    // The detail names the rule, not the upstream's address, which clients have no business knowing.
    const detail = timedOut ? `the upstream of ${route.label} did not answer within ${route.action.timeoutMs} ms` : `the upstream of ${route.label} cannot be reached: ${describeError(error)}`;
    this.#discardRequestBody();
    sendError(response, new MicroError(ROUTER_ERROR_ID, status, detail));
  }

  /** Reads and drops the rest of the client's body, so it gets the answer and its connection stays usable. */
  #discardRequestBody(): void {
    const { request } = this.exchange;
    request.unpipe();
    if (!request.complete) request.resume();
  }

  #log(message: string, error: Error, status?: number): void {
    const { route } = this.target;
    this.logger.warn(message, { route: route.label, upstream: `${route.action.url.origin}${this.target.path}`, status, error: error.message, code: (error as NodeJS.ErrnoException).code });
  }
}

function describeError(error: Error): string {
  return (error as NodeJS.ErrnoException).code ?? error.message;
}
