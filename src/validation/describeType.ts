import 'reflect-metadata/lite';
import type { Value } from '../registry/Registry.js';
import { classValidator } from './validationLibraries.js';

const PRIMITIVES = new Map<unknown, string>([
  [String, 'string'],
  [Number, 'number'],
  [Boolean, 'boolean'],
  [Date, 'date'],
  [Object, 'object'],
  [Array, 'array'],
]);

/** Element types class-validator can tell us about for `{ each: true }` arrays. */
const EACH_TYPES: Record<string, string> = { isString: 'string', isNumber: 'number', isInt: 'number', isBoolean: 'boolean', isDate: 'date', isUUID: 'string', isEmail: 'string' };

/**
 * Describes a payload class as a go-micro Value tree: its validated properties, their types, and nested classes
 * recursively. The registry carries it so the CLI, the gateway and the dashboard can show what an endpoint takes.
 */
export function describeType(type: Function | undefined, name: string, depth = 0): Value | null {
  if (!type) return null;
  const primitive = PRIMITIVES.get(type);
  if (primitive) return { name, type: primitive };
  const value: Value = { name, type: type.name, values: [] };
  if (depth >= 6) return value;
  const metadatas = classValidator().getMetadataStorage().getTargetValidationMetadatas(type, '', true, false);
  const properties = [...new Set(metadatas.map((metadata) => metadata.propertyName))];
  for (const property of properties) {
    const declared: unknown = Reflect.getMetadata('design:type', type.prototype, property);
    const constraints = metadatas.filter((metadata) => metadata.propertyName === property);
    const optional = constraints.some((metadata) => metadata.type === 'conditionalValidation');
    let field: Value;
    if (declared === Array) {
      const each = constraints.find((metadata) => metadata.each && EACH_TYPES[metadata.name ?? '']);
      field = { name: property, type: each ? `${EACH_TYPES[each.name!]}[]` : 'array' };
    } else if (typeof declared === 'function' && !PRIMITIVES.has(declared)) {
      field = describeType(declared, property, depth + 1) ?? { name: property, type: 'object' };
    } else {
      field = { name: property, type: PRIMITIVES.get(declared) ?? 'unknown' };
    }
    if (optional) field.type = `${field.type}?`;
    value.values!.push(field);
  }
  return value;
}
