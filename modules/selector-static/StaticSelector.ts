import { MicroError, type Next, type Node, type Selection, type Selector } from '../../src/index.js';

export interface StaticSelectorOptions {
  /** Appended to the service name: `greeter` → `greeter.<domain>`. */
  domain: string;
  /** Appended as `:<port>` when not 0. */
  port: number;
  /** Explicit addresses by service name, taking precedence over name + domain + port. */
  services: Record<string, string>;
}

/**
 * go-micro's static selector: no registry lookup; the address is derived from the service name, as when a
 * DNS name or a Kubernetes Service fronts every instance (`greeter.default.svc.cluster.local:8080`). Load
 * balancing is left to whatever answers that name.
 */
export class StaticSelector implements Selector {
  readonly name = 'static';

  constructor(private readonly options: StaticSelectorOptions) {}

  addressOf(service: string): string {
    const explicit = this.options.services[service];
    if (explicit) return explicit;
    const host = this.options.domain ? `${service}.${this.options.domain}` : service;
    return this.options.port > 0 ? `${host}:${this.options.port}` : host;
  }

  async select(service: string): Promise<Next> {
    if (service === '') throw MicroError.badRequest('tsmicro.selector', 'static selector: empty service name');
    const address = this.addressOf(service);
    const selection: Selection = { service: { name: service, version: '', metadata: {}, endpoints: [], nodes: [] }, node: { id: service, address, metadata: {} } };
    selection.service.nodes.push(selection.node);
    return () => selection;
  }

  mark(_service: string, _node: Node, _error?: Error): void {
    // One address per service: there is no other node to prefer.
  }

  reset(_service: string): void {}

  async close(): Promise<void> {}
}
