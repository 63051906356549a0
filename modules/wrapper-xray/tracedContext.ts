import type { CallContext } from '../../src/index.js';

/**
 * The handler's context with one metadata entry replaced, everything else (the deadline, the signal, an event's
 * ack/nack and attempt) answered by the original. A Proxy rather than a copy because the contexts are class
 * instances with private state: a spread copy would lose their methods, and a prototype-linked object would
 * break their private fields. Methods are bound to the original once, so `context.ack` stays one function.
 */
export function withMetadataEntry<T extends CallContext>(context: T, key: string, value: string): T {
  const metadata = { ...context.metadata, [key]: value };
  const bound = new Map<PropertyKey, unknown>();
  return new Proxy(context, {
    get(target, property) {
      if (property === 'metadata') return metadata;
      const found: unknown = Reflect.get(target, property, target);
      if (typeof found !== 'function') return found;
      if (!bound.has(property)) bound.set(property, (found as (...args: unknown[]) => unknown).bind(target));
      return bound.get(property);
    },
  });
}
