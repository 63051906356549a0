/**
 * The Redis layout of the registry, all under one prefix (default `tsmicro:registry:`):
 * - `<prefix>node:<service>:<version>:<node id>`: a string holding the node's entry (JSON), with the register TTL
 *   as its expiry; renewing is writing it again;
 * - `<prefix>index:<service>`: a set of the node keys of one service, so a lookup reads only that service (its
 *   members can outlive expired node keys: reads remove those);
 * - `<prefix>services`: a set of service names, for listServices;
 * - `<prefix>changes`: the pub/sub channel on which every registry announces what it changed.
 * Name parts are URI-encoded, so a `:` inside a service name cannot make two keys collide.
 */
export class RegistryKeys {
  constructor(readonly prefix: string) {}

  get services(): string {
    return `${this.prefix}services`;
  }

  get changes(): string {
    return `${this.prefix}changes`;
  }

  get nodePrefix(): string {
    return `${this.prefix}node:`;
  }

  index(service: string): string {
    return `${this.prefix}index:${encodeURIComponent(service)}`;
  }

  node(service: string, version: string, nodeId: string): string {
    return `${this.nodePrefix}${encodeURIComponent(service)}:${encodeURIComponent(version)}:${encodeURIComponent(nodeId)}`;
  }

  isNode(key: string): boolean {
    return key.startsWith(this.nodePrefix);
  }
}
