import type { Node, Service } from '../registry/Registry.js';
import { BATCH_METADATA, BATCH_VERSION } from './eventBatch.js';

/** Who receives an event: every broadcast subscription, and one member of each queue group. */
export interface Targets {
  broadcast: Node[];
  groups: Map<string, Node[]>;
}

/** The registry cache hands out the same arrays until something changes, so the grouping is kept per answer. */
const targetsByAnswer = new WeakMap<readonly Service[], Targets>();

/** The subscription nodes of a topic grouped for delivery; worked out once per registry answer, not per event. */
export function subscriberTargets(services: readonly Service[]): Targets {
  let targets = targetsByAnswer.get(services);
  if (targets) return targets;
  const broadcast: Node[] = [];
  const groups = new Map<string, Node[]>();
  for (const service of services) {
    for (const node of service.nodes) {
      const queue = node.metadata.queue ?? '';
      if (queue === '') broadcast.push(node);
      else groups.set(queue, [...(groups.get(queue) ?? []), node]);
    }
  }
  targets = { broadcast, groups };
  targetsByAnswer.set(services, targets);
  return targets;
}

/** How many deliveries an event to these services makes: one per broadcast subscription and per queue group. */
export function countTargets(services: readonly Service[]): number {
  const { broadcast, groups } = subscriberTargets(services);
  return broadcast.length + groups.size;
}

const batchIds = new WeakMap<Node, number | null>();

/**
 * The subscription id to put in a batch for `node`, or undefined when its process does not take batches (it
 * does not advertise them, or its id is not a number): then events go to it one request each.
 */
export function batchSubscriber(node: Node): number | undefined {
  let id = batchIds.get(node);
  if (id === undefined) {
    const subscriber = Number(node.metadata.subscriber);
    id = node.metadata[BATCH_METADATA] === BATCH_VERSION && Number.isInteger(subscriber) && subscriber >= 0 && subscriber <= 0xffffffff ? subscriber : null;
    batchIds.set(node, id);
  }
  return id ?? undefined;
}
