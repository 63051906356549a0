import type { IncomingHttpHeaders } from 'node:http';
import type { AddressSet } from './addressEntries.js';
import { forwardedHops, normalizeAddress, type ForwardedHeaderName } from './clientAddress.js';

export interface AccessDecision {
  allowed: boolean;
  /** The client as decided: a canonical IP address, or the text found where one was expected. */
  client: string;
  /** The trusted proxy the request came through, when the client was read from a forwarding header. */
  via?: string;
}

/**
 * Who the client is and whether it may pass. The socket's peer is the client, unless the peer is a trusted proxy:
 * then the forwarding header is read from the right, skipping trusted proxies, and the first other address is the
 * client. Entries to its left were written by the client itself and prove nothing. Anything that is not an IP
 * address where one is expected ends the walk and is refused: fail closed.
 */
export class AccessPolicy {
  constructor(
    private readonly allow: AddressSet,
    private readonly trustedProxies: AddressSet,
    private readonly header: ForwardedHeaderName,
  ) {}

  decide(peer: string, headers: IncomingHttpHeaders): AccessDecision {
    const { client, address, via } = this.#client(peer, headers);
    return { allowed: address !== undefined && this.allow.has(address), client, ...(via ? { via } : {}) };
  }

  #client(peer: string, headers: IncomingHttpHeaders): { client: string; address?: string; via?: string } {
    const peerAddress = normalizeAddress(peer);
    // No address at all (a socket already closed): refused, where go-micro let the request through.
    if (peerAddress === undefined) return { client: peer || 'unknown' };
    if (this.trustedProxies.size === 0 || !this.trustedProxies.has(peerAddress)) return { client: peerAddress, address: peerAddress };
    const hops = forwardedHops(headers, this.header);
    let found: { client: string; address?: string } = { client: peerAddress, address: peerAddress };
    for (let index = hops.length - 1; index >= 0; index--) {
      const address = normalizeAddress(hops[index]!);
      found = { client: address ?? hops[index]!, address };
      if (address === undefined || !this.trustedProxies.has(address)) break;
    }
    // Every hop a trusted proxy (or no header): the request comes from the left-most of them.
    return found.client === peerAddress ? found : { ...found, via: peerAddress };
  }
}
