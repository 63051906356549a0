import { appendOwn, SUBSCRIBERS_KEY, type SubscriberOptions } from './metadata.js';

/**
 * Subscribes a method to a topic. With `queue`, the instances of the service share the events (each event is
 * handled once per queue); without, every instance gets every event. The method receives the payload (validated
 * like a handler's request) and an event context with `ack()`/`nack()` for `ack: 'manual'`.
 *
 * @example
 *   @Subscriber('user.created', { queue: 'mailer' })
 *   async welcome(event: UserCreated) { ... }
 */
export function Subscriber(topic: string, options: SubscriberOptions = {}): MethodDecorator {
  if (typeof topic !== 'string' || topic === '') throw new TypeError('@Subscriber: topic must be a non-empty string');
  return (target, propertyKey) => {
    if (typeof propertyKey !== 'string') throw new TypeError('@Subscriber: symbol-named methods cannot subscribe');
    const parameterTypes: unknown[] = Reflect.getMetadata('design:paramtypes', target, propertyKey) ?? [];
    appendOwn(SUBSCRIBERS_KEY, target.constructor, { method: propertyKey, topic, options, parameterType: parameterTypes[0] });
  };
}
