import type { EventHandler, SubscribeOptions } from './Broker.js';

export interface LocalSubscription {
  readonly id: number;
  readonly topic: string;
  readonly handler: EventHandler;
  readonly options: Readonly<SubscribeOptions>;
  active: boolean;
}

/**
 * Subscriptions by topic, and the choice of who gets an event: every broadcast subscription, plus one member
 * of each queue group, taken in turn. Shared by the in-process brokers.
 */
export class SubscriberTable {
  readonly #byTopic = new Map<string, LocalSubscription[]>();
  /** Topics whose subscriptions all lack a queue: every event goes to all of them, so the list itself is the answer. */
  readonly #broadcastOnly = new Set<string>();
  readonly #turn = new Map<string, number>();
  #nextId = 1;

  add(topic: string, handler: EventHandler, options: SubscribeOptions): LocalSubscription {
    const subscription: LocalSubscription = { id: this.#nextId++, topic, handler, options: Object.freeze({ ...options }), active: true };
    this.#set(topic, [...(this.#byTopic.get(topic) ?? []), subscription]);
    return subscription;
  }

  remove(subscription: LocalSubscription): void {
    subscription.active = false;
    const rest = (this.#byTopic.get(subscription.topic) ?? []).filter((candidate) => candidate !== subscription);
    this.#set(subscription.topic, rest);
  }

  /** Lists are replaced, never changed in place, so one handed out by targets() stays valid. */
  #set(topic: string, list: LocalSubscription[]): void {
    if (list.length === 0) {
      this.#byTopic.delete(topic);
      this.#broadcastOnly.delete(topic);
      return;
    }
    this.#byTopic.set(topic, list);
    if (list.every((subscription) => !subscription.options.queue)) this.#broadcastOnly.add(topic);
    else this.#broadcastOnly.delete(topic);
  }

  get(id: number): LocalSubscription | undefined {
    for (const list of this.#byTopic.values()) for (const subscription of list) if (subscription.id === id) return subscription;
    return undefined;
  }

  /** Who receives one event published on `topic`. Read it, never change it. */
  targets(topic: string): readonly LocalSubscription[] {
    const all = this.#byTopic.get(topic);
    if (!all) return [];
    if (this.#broadcastOnly.has(topic)) return all;
    const targets: LocalSubscription[] = [];
    const groups = new Map<string, LocalSubscription[]>();
    for (const subscription of all) {
      const queue = subscription.options.queue;
      if (!queue) targets.push(subscription);
      else groups.set(queue, [...(groups.get(queue) ?? []), subscription]);
    }
    for (const [queue, members] of groups) targets.push(this.#pick(topic, queue, members));
    return targets;
  }

  /** The next member of `subscription`'s queue group after it, for a redelivery. */
  next(subscription: LocalSubscription): LocalSubscription | undefined {
    const queue = subscription.options.queue;
    if (!queue) return undefined;
    const members = (this.#byTopic.get(subscription.topic) ?? []).filter((candidate) => candidate.options.queue === queue);
    return members.length === 0 ? undefined : this.#pick(subscription.topic, queue, members);
  }

  /** Someone to take over an event whose subscriber has gone: only a member of the same group. */
  replacement(subscription: LocalSubscription): LocalSubscription | undefined {
    return this.next(subscription);
  }

  #pick(topic: string, queue: string, members: LocalSubscription[]): LocalSubscription {
    const key = `${topic}\u0000${queue}`;
    const turn = this.#turn.get(key) ?? 0;
    this.#turn.set(key, turn + 1);
    return members[turn % members.length]!;
  }
}
