import { appendOwn, HANDLERS_KEY, type HandlerOptions } from './metadata.js';

/**
 * Exposes a method as an endpoint, `<Class>.<method>` unless named. The method receives the request (validated
 * when its type is a class with class-validator decorators) and the call context, and returns the reply.
 *
 * @example
 *   @Handler({ idempotent: true })
 *   async sayHello(request: HelloRequest, context: CallContext): Promise<HelloReply> { ... }
 */
export function Handler(options: HandlerOptions = {}): MethodDecorator {
  return (target, propertyKey) => {
    if (typeof propertyKey !== 'string') throw new TypeError('@Handler: symbol-named methods cannot be endpoints');
    const parameterTypes: unknown[] = Reflect.getMetadata('design:paramtypes', target, propertyKey) ?? [];
    appendOwn(HANDLERS_KEY, target.constructor, { method: propertyKey, options, parameterType: parameterTypes[0] });
  };
}
