import { BlockList, isIP } from 'node:net';

const EXAMPLES = 'such as 10.0.0.7, 10.0.0.0/8, 2001:db8::1, 2001:db8::/32';

/** The entries of an option: a list (files, code) or comma-separated text (env vars); null when unset. */
export function entriesOf(value: unknown): string[] {
  if (typeof value === 'string') return value.split(',').map((entry) => entry.trim()).filter(Boolean);
  if (Array.isArray(value) && value.every((entry) => typeof entry === 'string')) return value.map((entry: string) => entry.trim());
  throw new Error(`must be a list of IP addresses and CIDR ranges (${EXAMPLES}), or the same separated by commas`);
}

interface ParsedEntry {
  address: string;
  family: 'ipv4' | 'ipv6';
  /** Absent for a single address. */
  prefix?: number;
}

/** `10.0.0.7`, `10.0.0.0/8`, `2001:db8::1`, `2001:db8::/32`; anything else throws, naming the entry. */
export function parseEntry(entry: string): ParsedEntry {
  const slash = entry.indexOf('/');
  const address = slash < 0 ? entry : entry.slice(0, slash);
  const version = address.includes('%') ? 0 : isIP(address);
  if (version === 0) throw new Error(`${JSON.stringify(entry)} is not an IP address or CIDR range (${EXAMPLES}; host names are not resolved)`);
  const family = version === 4 ? 'ipv4' : 'ipv6';
  if (slash < 0) return { address, family };
  const prefixText = entry.slice(slash + 1);
  const longest = version === 4 ? 32 : 128;
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > longest) {
    throw new Error(`${JSON.stringify(entry)} is not a CIDR range: the prefix length after "/" must be a whole number from 0 to ${longest}`);
  }
  return { address, family, prefix: Number(prefixText) };
}

/**
 * A convict format for a list of addresses: checks every entry so that a typo stops the boot with the entry named
 * (and, through the config loader, where the value came from). `null` means unset.
 */
export function addressListFormat(options: { required: boolean }): (value: unknown) => void {
  return (value) => {
    if (value === null || value === undefined) return;
    const entries = entriesOf(value);
    if (entries.length === 0 && options.required) throw new Error('must list at least one IP address or CIDR range; an empty list would refuse every request');
    for (const entry of entries) parseEntry(entry);
  };
}

/**
 * A set of addresses and ranges, IPv4 and IPv6, matched by node:net's BlockList. BlockList also matches IPv4
 * rules against IPv4-mapped IPv6 addresses (`::ffff:10.0.0.7`, `::ffff:a00:7`) and the other way round.
 */
export class AddressSet {
  readonly #list = new BlockList();
  readonly size: number;

  constructor(entries: readonly string[]) {
    for (const entry of entries) {
      const { address, family, prefix } = parseEntry(entry);
      if (prefix === undefined) this.#list.addAddress(address, family);
      else this.#list.addSubnet(address, prefix, family);
    }
    this.size = entries.length;
  }

  /** `address` as normalizeAddress returns it; anything that is not an IP address is in no set. */
  has(address: string): boolean {
    const version = isIP(address);
    return version !== 0 && this.#list.check(address, version === 4 ? 'ipv4' : 'ipv6');
  }
}
