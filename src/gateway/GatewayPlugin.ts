import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Metadata } from '../context/Context.js';
import type { WireError } from '../errors.js';

/** One HTTP request as gateway plugins see it. */
export interface GatewayExchange {
  readonly request: IncomingMessage;
  readonly response: ServerResponse;
  /** The peer address of the socket (IPv4-mapped IPv6 unwrapped): who really connected. */
  readonly remoteAddress: string;
  readonly startedAt: number;
  /** Metadata added to the RPC calls and events this request makes (e.g. a trace header). */
  readonly metadata: Metadata;
  /** Anything a plugin needs to keep between onRequest and onResponse, by plugin name. */
  readonly state: Map<string, unknown>;
}

export interface GatewayOutcome {
  status: number;
  /** The wire error when the gateway answered with one. */
  error?: WireError;
  /** What handled it: 'rpc', 'event', 'endpoint', 'health', 'dashboard', a plugin's name, or 'none'. */
  handledBy: string;
}

/**
 * A gateway plugin (router, AWS X-Ray, IP whitelist…): hooks around every HTTP request. Plugins run in the order
 * `gateway.plugins` lists them. Bound (several) under `Tokens.GatewayPlugin` by their container modules.
 */
export interface GatewayPlugin {
  readonly name: string;
  /**
   * Before the gateway routes the request. Return true when the plugin has answered it itself (a proxy, a 403):
   * routing stops and later plugins' onRequest hooks do not run.
   */
  onRequest?(exchange: GatewayExchange): boolean | void | Promise<boolean | void>;
  /** After the response has been sent, with its status. */
  onResponse?(exchange: GatewayExchange, outcome: GatewayOutcome): void;
  /** Releases what the plugin holds (file watchers, sockets) when the gateway stops. */
  close?(): void | Promise<void>;
}
