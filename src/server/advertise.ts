import { networkInterfaces } from 'node:os';
import { joinHostPort, parseHostPort } from '../transport/address.js';

/**
 * The address other processes can dial. A listener on every interface (0.0.0.0 or ::) cannot be dialled as
 * such, so the first non-internal IPv4 address stands in for it; loopback when the machine has none.
 */
export function advertisedAddress(listening: string): string {
  let parsed: { host: string; port: number };
  try {
    parsed = parseHostPort(listening);
  } catch {
    return listening;
  }
  if (parsed.host !== '0.0.0.0' && parsed.host !== '::') return listening;
  for (const addresses of Object.values(networkInterfaces())) {
    for (const address of addresses ?? []) if (address.family === 'IPv4' && !address.internal) return joinHostPort(address.address, parsed.port);
  }
  return joinHostPort('127.0.0.1', parsed.port);
}
