import { MicroError } from '../errors.js';
import type { Node, Service } from '../registry/Registry.js';
import type { RegistryCache } from '../registry/cache/RegistryCache.js';
import { candidates, describeVersions } from './filters.js';
import type { Next, SelectOptions, Selection, Selector, StrategyName } from './Selector.js';

export interface RegistrySelectorOptions {
  strategy?: StrategyName;
  /** How long a node that failed is avoided; doubles on each further failure, up to 16 times this. */
  penaltyMs?: number;
}

interface Penalty {
  until: number;
  failures: number;
}

const ERROR_ID = 'tsmicro.selector';
const onlyNodes = new WeakMap<readonly Selection[], Next>();

function onlyNode(pool: readonly Selection[]): Next {
  let next = onlyNodes.get(pool);
  if (!next) {
    const only = pool[0]!;
    next = () => only;
    onlyNodes.set(pool, next);
  }
  return next;
}

/** Shared by calls without options, so a call allocates none. */
const NO_OPTIONS: SelectOptions = Object.freeze({});

/**
 * Picks nodes from the (cached) registry with a random or round-robin strategy. A node marked as failing is
 * skipped while its penalty lasts, unless every candidate is penalised, in which case the one whose penalty ends
 * first is tried: a call is never refused only because every node once failed.
 */
export class RegistrySelector implements Selector {
  readonly name = 'registry';
  readonly #cache: RegistryCache;
  readonly #strategy: StrategyName;
  readonly #penaltyMs: number;
  readonly #penalties = new Map<string, Penalty>();
  readonly #turns = new Map<string, number>();

  constructor(cache: RegistryCache, options: RegistrySelectorOptions = {}) {
    this.#cache = cache;
    this.#strategy = options.strategy ?? 'random';
    this.#penaltyMs = options.penaltyMs ?? 5_000;
  }

  select(service: string, options: SelectOptions = NO_OPTIONS): Promise<Next> | Next {
    const cached = this.#cache.cached(service);
    if (cached) {
      // Failures are reported the same way on both paths: as a rejected promise.
      try {
        return this.#selectFrom(service, cached, options);
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return this.#cache.getService(service).then((services) => this.#selectFrom(service, services, options));
  }

  #selectFrom(service: string, services: readonly Service[], options: SelectOptions): Next {
    if (services.length === 0) throw MicroError.notFound(ERROR_ID, `service "${service}" not found in the ${this.#cache.registry.name} registry`);
    const pool = candidates(services, options);
    if (pool.length === 0) {
      const wanted = [options.version !== undefined ? `version ${options.version}` : '', options.metadata ? `metadata ${JSON.stringify(options.metadata)}` : ''].filter(Boolean).join(' and ');
      throw MicroError.notFound(ERROR_ID, `no node of service "${service}" matches ${wanted}; registered: ${describeVersions(services)}`);
    }
    // One node is the answer whatever was tried or marked: its Next is made once per registry answer (the
    // unfiltered pool is memoised per answer), not once per call.
    if (pool.length === 1) return onlyNode(pool);
    const strategy = options.strategy ?? this.#strategy;
    // Most calls pick once: the set of nodes tried is made only when a second pick needs it.
    let tried: Set<Selection> | undefined;
    return () => {
      const pick = this.#pick(service, pool, tried, strategy);
      (tried ??= new Set()).add(pick);
      return pick;
    };
  }

  mark(_service: string, node: Node, error?: Error): void {
    if (!error) {
      if (this.#penalties.size > 0) this.#penalties.delete(node.id);
      return;
    }
    const failures = (this.#penalties.get(node.id)?.failures ?? 0) + 1;
    const duration = this.#penaltyMs * Math.min(16, 2 ** (failures - 1));
    this.#penalties.set(node.id, { until: Date.now() + duration, failures });
  }

  reset(service: string): void {
    this.#turns.delete(service);
    this.#penalties.clear();
  }

  async close(): Promise<void> {
    this.#penalties.clear();
  }

  /**
   * Prefers nodes this call has not tried yet (a node it tried has just failed it), then nodes without a
   * penalty; among penalised nodes only, the one whose penalty ends first.
   */
  #pick(service: string, pool: Selection[], tried: Set<Selection> | undefined, strategy: StrategyName): Selection {
    let choices = pool;
    if (tried !== undefined || this.#penalties.size > 0) {
      const now = Date.now();
      const fresh = tried === undefined ? pool : pool.filter((selection) => !tried.has(selection));
      if (fresh.length > 0) choices = fresh;
      const rested = choices.filter((selection) => {
        const penalty = this.#penalties.get(selection.node.id);
        return !penalty || penalty.until <= now;
      });
      choices = rested.length > 0 ? rested : [this.#soonestBack(choices)];
    }
    if (choices.length === 1) return choices[0]!;
    if (strategy === 'roundrobin') {
      const turn = this.#turns.get(service) ?? Math.floor(Math.random() * choices.length);
      this.#turns.set(service, turn + 1);
      return choices[turn % choices.length]!;
    }
    return choices[Math.floor(Math.random() * choices.length)]!;
  }

  #soonestBack(choices: Selection[]): Selection {
    let best = choices[0]!;
    for (const selection of choices) {
      if ((this.#penalties.get(selection.node.id)?.until ?? 0) < (this.#penalties.get(best.node.id)?.until ?? 0)) best = selection;
    }
    return best;
  }
}
