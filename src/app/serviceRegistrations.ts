import type { ServiceDefinition } from '../decorators/readDefinition.js';
import type { Endpoint } from '../registry/Registry.js';
import type { HandlerRegistration, SubscriberRegistration } from '../server/Server.js';
import { describeType } from '../validation/describeType.js';
import { payloadClassOf } from '../validation/payloadClass.js';
import { payloadPreparer } from '../validation/validatePayload.js';

type Instance = Record<string, (...args: unknown[]) => unknown>;

/**
 * Turns a decorated class's metadata into what the server runs. Everything per endpoint (its payload class,
 * its validator, its description) is worked out here once, so a request does no reflection.
 */
export function handlerRegistrations(definition: ServiceDefinition, instance: object): HandlerRegistration[] {
  const target = instance as Instance;
  return definition.handlers.map((handler) => {
    const requestClass = payloadClassOf(handler.options.request, handler.parameterType);
    const method = target[handler.method]!;
    const metadata: Record<string, string> = { ...(handler.options.metadata ?? {}) };
    if (handler.options.idempotent) metadata.idempotent = 'true';
    const description: Endpoint = {
      name: handler.endpoint,
      request: describeType(requestClass ?? (handler.parameterType as Function | undefined), 'request'),
      response: describeType(handler.options.response, 'response'),
      metadata,
    };
    return {
      endpoint: handler.endpoint,
      prepare: requestClass ? payloadPreparer(requestClass, definition.options.name, `request to ${definition.options.name} ${handler.endpoint}`) : undefined,
      invoke: (request, context) => method.call(target, request, context),
      description,
    };
  });
}

export function subscriberRegistrations(definition: ServiceDefinition, instance: object): SubscriberRegistration[] {
  const target = instance as Instance;
  return definition.subscribers.map((subscriber) => {
    const payloadClass = payloadClassOf(subscriber.options.payload, subscriber.parameterType);
    const method = target[subscriber.method]!;
    const metadata: Record<string, string> = { ...(subscriber.options.metadata ?? {}), topic: subscriber.topic, subscriber: 'true' };
    if (subscriber.options.queue) metadata.queue = subscriber.options.queue;
    return {
      topic: subscriber.topic,
      queue: subscriber.options.queue,
      ack: subscriber.options.ack,
      prepare: payloadClass ? payloadPreparer(payloadClass, definition.options.name, `event on "${subscriber.topic}"`) : undefined,
      invoke: (payload, context) => method.call(target, payload, context),
      description: { name: `${subscriber.topic}:${subscriber.method}`, request: describeType(payloadClass, 'event'), response: null, metadata },
    };
  });
}
