import type { ServerResponse } from 'node:http';
import { MicroError } from '../../errors.js';
import type { WatchResult } from '../../registry/Registry.js';
import type { GatewayExchange } from '../GatewayPlugin.js';
import type { ChangeFeed } from './ChangeFeed.js';
import { isHiddenService } from './serviceCatalog.js';

export interface EventStreamLimits {
  /** Most event streams open at once (one per dashboard tab); more are refused with 503. */
  maxStreams: number;
  /** How often a comment is sent on a quiet stream, so proxies and load balancers do not close it as idle. */
  keepAliveMs: number;
  /** A tab that does not read (suspended laptop, stalled proxy) is dropped once this much is queued for it. */
  maxBufferedBytes: number;
  /** The reconnection delay the browser is told to use after a stream ends. */
  retryMs: number;
}

export const DEFAULT_EVENT_STREAM_LIMITS: EventStreamLimits = { maxStreams: 100, keepAliveMs: 15_000, maxBufferedBytes: 1024 * 1024, retryMs: 2000 };

/** What a tab hears of one change: enough to know what to fetch again, not the whole service. */
export interface ChangeEvent {
  action: WatchResult['action'];
  service: string;
  version: string;
  nodes: { id: string; address: string }[];
}

const ERROR_ID = 'tsmicro.dashboard';

interface OpenStream {
  response: ServerResponse;
  keepAlive: NodeJS.Timeout;
  unsubscribe: () => void;
}

/**
 * The Server-Sent Events side of the dashboard (`<path>/api/events`): `event: ready` once the registry is being
 * watched, then `event: change` per change of a visible service. Streams are bounded in number and in what they
 * may queue; each is cleaned up when its tab goes away.
 */
export class EventStreams {
  readonly #feed: ChangeFeed;
  readonly #limits: EventStreamLimits;
  readonly #open = new Set<OpenStream>();
  /** Streams waiting for the watch to start count against the limit too. */
  #opening = 0;
  #closed = false;

  constructor(feed: ChangeFeed, limits: Partial<EventStreamLimits> = {}) {
    this.#feed = feed;
    this.#limits = { ...DEFAULT_EVENT_STREAM_LIMITS, ...limits };
  }

  get openCount(): number {
    return this.#open.size;
  }

  async open({ response }: GatewayExchange): Promise<void> {
    if (this.#closed) throw MicroError.unavailable(ERROR_ID, 'the dashboard is stopping');
    if (this.#open.size + this.#opening >= this.#limits.maxStreams) {
      response.setHeader('retry-after', String(Math.ceil(this.#limits.retryMs / 1000)));
      throw MicroError.unavailable(ERROR_ID, `too many open dashboard event streams (${this.#limits.maxStreams}); close some dashboard tabs`);
    }
    this.#opening++;
    let stream: OpenStream | undefined;
    let endedEarly = false;
    let unsubscribe: () => void;
    try {
      unsubscribe = await this.#feed.subscribe({
        change: (result) => stream && this.#change(stream, result),
        ended: () => (stream ? this.#end(stream) : (endedEarly = true)),
      });
    } catch (error) {
      throw MicroError.unavailable(ERROR_ID, `cannot watch the registry: ${(error as Error).message}`);
    } finally {
      this.#opening--;
    }
    if (this.#closed || endedEarly) {
      unsubscribe();
      throw MicroError.unavailable(ERROR_ID, this.#closed ? 'the dashboard is stopping' : 'the registry watch ended; try again');
    }
    // The tab may have gone while the watch was starting.
    if (response.destroyed || response.socket?.destroyed) {
      unsubscribe();
      return void response.end();
    }
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      // The stream is never reused for another request: closing the socket with it lets the gateway stop at once.
      connection: 'close',
      // Reverse proxies such as nginx would otherwise buffer the stream and deliver changes late.
      'x-accel-buffering': 'no',
    });
    const opened: OpenStream = { response, unsubscribe, keepAlive: setInterval(() => this.#write(opened, ': keep-alive\n\n'), this.#limits.keepAliveMs) };
    opened.keepAlive.unref();
    stream = opened;
    this.#open.add(opened);
    response.once('close', () => this.#end(opened));
    this.#write(opened, `retry: ${this.#limits.retryMs}\n\n`);
    this.#write(opened, 'event: ready\ndata: {}\n\n');
  }

  /** Ends every stream (the gateway is stopping); the tabs reconnect to whatever serves next. */
  close(): void {
    this.#closed = true;
    for (const stream of [...this.#open]) this.#end(stream);
  }

  #change(stream: OpenStream, result: WatchResult): void {
    if (isHiddenService(result.service.name)) return;
    const event: ChangeEvent = {
      action: result.action,
      service: result.service.name,
      version: result.service.version,
      nodes: result.service.nodes.map((node) => ({ id: node.id, address: node.address })),
    };
    // JSON.stringify escapes newlines inside strings, so the data is always one line of the SSE format.
    this.#write(stream, `event: change\ndata: ${JSON.stringify(event)}\n\n`);
  }

  #write(stream: OpenStream, text: string): void {
    if (!this.#open.has(stream)) return;
    // The socket can be gone before its 'close' event has run; writing then would only raise an error.
    if (stream.response.destroyed || stream.response.writableEnded) return this.#end(stream);
    stream.response.write(text);
    // Not waiting for 'drain' on purpose: one stalled tab must not hold up the others, so it is dropped instead
    // and reconnects (and refetches) when it reads again.
    if (stream.response.writableLength > this.#limits.maxBufferedBytes) this.#end(stream);
  }

  #end(stream: OpenStream): void {
    if (!this.#open.delete(stream)) return;
    clearInterval(stream.keepAlive);
    stream.unsubscribe();
    if (!stream.response.writableEnded) stream.response.end();
  }
}
