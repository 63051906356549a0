import type { Msg } from '@nats-io/transport-node';
import type { NatsModule } from '../shared/nats/natsConnection.js';
import { ENCODED_HEADER } from '../shared/nats/natsHeaders.js';

/**
 * The few control messages the NATS transport adds on top of plain messages. A listener has two subjects:
 * its address (what the registry holds; a queue group, so several listeners may share a well-known name) takes
 * only `open` requests; each accepted socket then talks to the listener's own session subject, so a socket stays
 * with the listener that accepted it and a closed listener can still finish the sockets it has.
 *
 *   client → address  request  {control: open, inbox, wire: frame}  → {control: accept, session, wire: frame} | {control: refuse}
 *   client → session  publish  reply=inbox, the message             (data)
 *   server → inbox    publish  the message                          (data)
 *   either → peer     publish  {control: close}                     (the other side closed)
 *
 * Control messages are NATS headers with an empty payload. Data messages are in the form the two ends agreed
 * on at `open` (dataWire.ts): the client offers `wire: frame`, and a listener that can read frames says so in
 * its `accept`; a peer that offers or answers nothing (an older tsmicro) gets tsmicro headers as NATS headers.
 */
export const CONTROL_HEADER = 'tsmicro-transport';
export const INBOX_HEADER = 'tsmicro-inbox';
export const SESSION_HEADER = 'tsmicro-session';
/** On `open` and `accept`: the data form this end reads and writes. */
export const WIRE_HEADER = 'tsmicro-wire';
export const FRAME_WIRE = 'frame';

export const Control = { open: 'open', accept: 'accept', refuse: 'refuse', close: 'close' } as const;

const RESERVED = new Set([CONTROL_HEADER, INBOX_HEADER, SESSION_HEADER, WIRE_HEADER, ENCODED_HEADER]);

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
