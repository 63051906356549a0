import type { Msg } from '@nats-io/transport-node';
import { Headers, MicroError } from '../../src/index.js';
import type { NatsModule } from '../shared/nats/natsConnection.js';
import { ENCODED_HEADER } from '../shared/nats/natsHeaders.js';

/**
 * The few control messages the NATS transport adds on top of plain messages. A listener has two subjects:
 * its address (what the registry holds; a queue group, so several listeners may share a well-known name) takes
 * only `open` requests; each accepted socket then talks to the listener's own session subject, so a socket stays
 * with the listener that accepted it and a closed listener can still finish the sockets it has.
 *
 *   client → address  request  {control: open, inbox}          → {control: accept, session} | {control: refuse}
 *   client → session  publish  reply=inbox, the message        (data)
 *   server → inbox    publish  the message                     (data)
 *   either → peer     publish  {control: close}                (the other side closed)
 */
export const CONTROL_HEADER = 'tsmicro-transport';
export const INBOX_HEADER = 'tsmicro-inbox';
export const SESSION_HEADER = 'tsmicro-session';

export const Control = { open: 'open', accept: 'accept', refuse: 'refuse', close: 'close' } as const;

const RESERVED = new Set([CONTROL_HEADER, INBOX_HEADER, SESSION_HEADER, ENCODED_HEADER]);

export function isTransportHeader(name: string): boolean {
  return RESERVED.has(name);
}

export function controlOf(message: Msg): string | undefined {
  return message.headers?.get(CONTROL_HEADER) || undefined;
}

export function controlHeaders(nats: NatsModule, control: string, extra: Record<string, string> = {}) {
  const headers = nats.headers();
  headers.set(CONTROL_HEADER, control);
  for (const [name, value] of Object.entries(extra)) headers.set(name, value);
  return headers;
}

/** NATS's "no responders" status: nobody subscribes to the subject a message with a reply subject went to. */
export function isNoResponders(message: Msg): boolean {
  return message.data.length === 0 && message.headers?.status === '503';
}

/** `127.0.0.1:0`, `:8080`, `[::1]:0` or empty: the server's default address, not a subject chosen by the user. */
export function looksLikeHostPort(address: string): boolean {
  const trimmed = address.trim();
  return trimmed === '' || /^(?:\[[^\]]*\]|[^:\s]*):\d{1,5}$/.test(trimmed);
}

/** A subject a listener can use as its address: NATS tokens, no wildcards, no spaces. */
export function assertSubject(subject: string): void {
  if (!/^[^\s*>.]+(?:\.[^\s*>.]+)*$/.test(subject)) {
    throw new TypeError(`nats transport: "${subject}" is not a valid subject (dot-separated tokens, no spaces or wildcards)`);
  }
}

/**
 * An error reply for one request, in the RPC layer's wire form, so a request the transport refuses fails by
 * itself (with `unhandled`, a retry elsewhere is safe) instead of timing out.
 */
export function errorReply(nats: NatsModule, requestId: string, error: MicroError, unhandled: boolean) {
  const headers = nats.headers();
  headers.set(Headers.id, requestId);
  headers.set(Headers.error, error.toWire());
  if (unhandled) headers.set(Headers.unhandled, 'true');
  return headers;
}
