import { HANDLERS_KEY, SERVICE_KEY, SUBSCRIBERS_KEY, type HandlerMetadata, type ServiceOptions, type SubscriberMetadata } from './metadata.js';

export interface ServiceDefinition {
  options: Required<Pick<ServiceOptions, 'name' | 'version'>> & { metadata: Record<string, string> };
  handlers: (HandlerMetadata & { endpoint: string })[];
  subscribers: SubscriberMetadata[];
}

/** Collects own and inherited metadata along the prototype chain; a subclass's entry overrides its parent's. */
function collect<T extends { method: string }>(key: symbol, type: Function): T[] {
  const chain: Function[] = [];
  for (let current: Function | null = type; current && current !== Function.prototype; current = Object.getPrototypeOf(current)) chain.unshift(current);
  const byMethod = new Map<string, T[]>();
  for (const klass of chain) {
    const own: T[] = Reflect.getOwnMetadata(key, klass) ?? [];
    const methods = new Set(own.map((item) => item.method));
    for (const method of methods) byMethod.set(method, own.filter((item) => item.method === method));
  }
  return [...byMethod.values()].flat();
}

/** Reads what the decorators recorded on a class. Throws when the class is not a usable service. */
export function readDefinition(type: Function): ServiceDefinition {
  const options: ServiceOptions | undefined = Reflect.getMetadata(SERVICE_KEY, type);
  const handlers = collect<HandlerMetadata>(HANDLERS_KEY, type);
  const subscribers = collect<SubscriberMetadata>(SUBSCRIBERS_KEY, type);
  if (!options) {
    const what = handlers.length + subscribers.length > 0 ? 'has @Handler/@Subscriber methods but no @Service decorator' : 'is not decorated with @Service';
    throw new TypeError(`class ${type.name || '(anonymous)'} ${what}`);
  }
  const seen = new Set<string>();
  const named = handlers.map((handler) => {
    const endpoint = handler.options.name ?? `${type.name}.${handler.method}`;
    if (seen.has(endpoint)) throw new TypeError(`service "${options.name}": endpoint "${endpoint}" is declared twice`);
    seen.add(endpoint);
    return { ...handler, endpoint };
  });
  return { options: { name: options.name, version: options.version ?? 'latest', metadata: { ...(options.metadata ?? {}) } }, handlers: named, subscribers };
}
