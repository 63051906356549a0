import type { Msg, NatsConnection } from '@nats-io/transport-node';
import type { NatsLink } from '../shared/nats/natsConnection.js';
import { chunkEntries, WIRE_VERSION, type Announcement, type Query, type QueryReply, type WireEntry } from './wire.js';

/** Room left in a message for the JSON around the entries. */
const ENVELOPE_BYTES = 512;

/** The registry's subjects and the messages it publishes on them, each under the server's max_payload. */
export class RegistryWire {
  readonly querySubject: string;
  readonly watchSubject: string;

  constructor(
    private readonly link: NatsLink,
    prefix: string,
    private readonly owner: string,
    private readonly confirmTimeoutMs: number,
  ) {
    this.querySubject = `${prefix}.query`;
    this.watchSubject = `${prefix}.watch`;
  }

  get connection(): NatsConnection {
    return this.link.connection;
  }

  query(from: string, service: string | undefined): string {
    const query: Query = { v: WIRE_VERSION, from };
    if (service !== undefined) query.service = service;
    return JSON.stringify(query);
  }

  /**
   * Publishes the announcement and resolves once the server has it (a flush), so a register that resolved is
   * seen by every watcher connected at that moment. While the server is unreachable it rejects after the
   * confirm timeout; the announcement still goes out when the connection comes back.
   */
  async announce(action: Announcement['action'], entries: readonly WireEntry[], timeoutMs = this.confirmTimeoutMs): Promise<void> {
    for (const chunk of this.chunks(entries)) {
      const announcement: Announcement = { v: WIRE_VERSION, owner: this.owner, action, entries: chunk };
      this.connection.publish(this.watchSubject, JSON.stringify(announcement));
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`nats registry: the NATS server did not confirm the ${action} announcement within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([this.connection.flush(), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The entries in groups that each fit in one message; throws for an entry that fits in none. */
  chunks(entries: readonly WireEntry[]): WireEntry[][] {
    return chunkEntries(entries, this.link.maxPayload - ENVELOPE_BYTES);
  }

  /** Answers a query in as many parts as the entries need; the last part says so. */
  reply(message: Msg, entries: readonly WireEntry[], ttlMs: number): void {
    const chunks = this.chunks(entries);
    chunks.forEach((chunk, index) => {
      const reply: QueryReply = { v: WIRE_VERSION, owner: this.owner, last: index === chunks.length - 1, ttlMs, entries: chunk };
      message.respond(JSON.stringify(reply));
    });
  }
}
