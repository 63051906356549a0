import { conditionsMatch, type RequestFacts } from './requestFacts.js';
import type { Route } from './routeTypes.js';

/**
 * The rules of one version of the routes file. The highest priority among the matching rules wins; several
 * matching rules of that priority share the traffic by weight (weighted random). Rules of weight 0 are off, so
 * draining a rule lets lower-priority ones take over.
 */
export class RoutingTable {
  readonly #routes: readonly Route[];

  constructor(routes: readonly Route[]) {
    // Stable sort: among equal priorities the file's order is kept, which keeps weighted picks reproducible in tests.
    this.#routes = [...routes].sort((a, b) => b.priority - a.priority);
  }

  get size(): number {
    return this.#routes.length;
  }

  /** `random` returns a number in [0, 1), like Math.random (tests pass their own). */
  choose(facts: RequestFacts, random: () => number = Math.random): Route | undefined {
    const candidates: Route[] = [];
    for (const route of this.#routes) {
      if (candidates.length > 0 && route.priority < candidates[0]!.priority) break;
      if (route.weight > 0 && conditionsMatch(route.when, facts)) candidates.push(route);
    }
    if (candidates.length <= 1) return candidates[0];
    const total = candidates.reduce((sum, route) => sum + route.weight, 0);
    let ticket = random() * total;
    for (const route of candidates) {
      ticket -= route.weight;
      if (ticket < 0) return route;
    }
    return candidates.at(-1);
  }
}
