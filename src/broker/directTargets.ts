import type { Node, Service } from '../registry/Registry.js';

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
