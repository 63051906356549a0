import { request, type IncomingHttpHeaders, type ClientRequest } from 'node:http';

export interface StreamEvent {
  event: string;
  data: string;
}

/**
 * A raw Server-Sent Events reader over node:http, as a test sees the wire: the status and headers, each event,
 * the comments (keep-alives), the `retry:` hints, and whether the server ended the stream.
 */
export class EventStreamClient {
  readonly events: StreamEvent[] = [];
  readonly comments: string[] = [];
  readonly retries: number[] = [];
  status = 0;
  headers: IncomingHttpHeaders = {};
  /** The body of a refused stream (a JSON error). */
  body = '';
  ended = false;
  #request: ClientRequest | undefined;
  #buffer = '';

  /** Resolves once the response headers have arrived. */
  static open(url: string): Promise<EventStreamClient> {
    const client = new EventStreamClient();
    return new Promise((resolve, reject) => {
      client.#request = request(url, { headers: { accept: 'text/event-stream' } }, (response) => {
        client.status = response.statusCode ?? 0;
        client.headers = response.headers;
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => client.#read(chunk));
        response.on('end', () => (client.ended = true));
        response.on('close', () => (client.ended = true));
        resolve(client);
      });
      client.#request.on('error', (error) => (client.status === 0 ? reject(error) : (client.ended = true)));
      client.#request.end();
    });
  }

  /** The parsed data of the `change` events received so far. */
  changes<T = { action: string; service: string; version: string; nodes: { id: string; address: string }[] }>(): T[] {
    return this.events.filter((event) => event.event === 'change').map((event) => JSON.parse(event.data) as T);
  }

  close(): void {
    this.#request?.destroy();
  }

  #read(chunk: string): void {
    if (this.status !== 200) {
      this.body += chunk;
      return;
    }
    this.#buffer += chunk;
    let end: number;
    while ((end = this.#buffer.indexOf('\n\n')) >= 0) {
      const block = this.#buffer.slice(0, end);
      this.#buffer = this.#buffer.slice(end + 2);
      let event = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) this.comments.push(line.slice(1).trim());
        else if (line.startsWith('event: ')) event = line.slice('event: '.length);
        else if (line.startsWith('data: ')) data.push(line.slice('data: '.length));
        else if (line.startsWith('retry: ')) this.retries.push(Number(line.slice('retry: '.length)));
      }
      if (data.length > 0) this.events.push({ event, data: data.join('\n') });
    }
  }
}
