import type { Node, Service } from '../registry/Registry.js';

export type StrategyName = 'random' | 'roundrobin';
export const STRATEGIES: readonly StrategyName[] = ['random', 'roundrobin'];

/** One candidate: a node and the version of the service it runs (whose endpoints the client may read). */
export interface Selection {
  service: Service;
  node: Node;
}

export interface SelectOptions {
  /** Only nodes of this version. */
  version?: string;
  /** Only nodes whose metadata has all these pairs (node metadata first, then the version's). */
  metadata?: Record<string, string>;
  strategy?: StrategyName;
}

/** Picks the next node to try; each call may return a different node. Throws MicroError when none is left. */
export type Next = () => Selection;

/**
 * Chooses nodes for a call. `mark` reports how a call to a node went, so the next pick avoids a node that just
 * failed; `reset` forgets the marks of a service.
 */
export interface Selector {
  readonly name: string;
  /**
   * A selector that already knows the service's nodes may answer synchronously: the client then spends no
   * promise on selection, which is a measurable share of a small call. Failures are always a rejected promise.
   */
  select(service: string, options?: SelectOptions): Promise<Next> | Next;
  mark(service: string, node: Node, error?: Error): void;
  reset(service: string): void;
  close(): Promise<void>;
}
