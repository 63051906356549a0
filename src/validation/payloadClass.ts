/** Constructors TypeScript emits for types that are not user classes: nothing to transform or validate. */
const BUILT_INS = new Set<unknown>([Object, String, Number, Boolean, Array, Promise, Function, Symbol, BigInt, Map, Set, Date, Uint8Array, Buffer, undefined, null]);

/** The class a payload should become, or undefined when the declared type is a primitive, interface or any. */
export function payloadClassOf(explicit: unknown, declared: unknown): (new () => object) | undefined {
  const candidate = explicit ?? declared;
  if (typeof candidate !== 'function' || BUILT_INS.has(candidate)) return undefined;
  return candidate as new () => object;
}
