/**
 * Request and response descriptions: the registry's Value trees (`{ name, type, values? }`, a `?` after the type
 * for an optional field), shown as nested lists, summarised on one line, and turned into a request skeleton.
 */
import { el } from './dom.js';

const MAX_DEPTH = 8;

function isOptional(value) {
  return value.type.endsWith('?');
}

function baseType(value) {
  return isOptional(value) ? value.type.slice(0, -1) : value.type;
}

function hasFields(value) {
  return Array.isArray(value.values) && value.values.length > 0;
}

/** `HelloRequest { name: string, age?: number }` */
export function summarizeValue(value, depth = 0) {
  if (!value) return 'not described';
  if (!hasFields(value) || depth >= MAX_DEPTH) return baseType(value);
  const fields = value.values.map((field) => `${field.name}${isOptional(field) ? '?' : ''}: ${summarizeValue(field, depth + 1)}`);
  return `${baseType(value)} { ${fields.join(', ')} }`;
}

/** The description as a tree: the type, then one line per field, nested fields indented under their parent. */
export function renderValue(value) {
  if (!value) return el('p', { className: 'value-none' }, 'Not described (the handler takes or returns an untyped value).');
  return el('div', { className: 'value' }, el('span', { className: 'value-type' }, baseType(value)), hasFields(value) ? renderFields(value.values, 1) : null);
}

function renderFields(fields, depth) {
  return el(
    'ul',
    { className: 'value-fields' },
    fields.map((field) =>
      el(
        'li',
        { className: 'value-field' },
        el('span', { className: 'field-name' }, field.name),
        ': ',
        el('span', { className: 'field-type' }, baseType(field)),
        isOptional(field) ? el('span', { className: 'field-optional' }, 'optional') : null,
        hasFields(field) && depth < MAX_DEPTH ? renderFields(field.values, depth + 1) : null,
      ),
    ),
  );
}

/**
 * A request to start editing from: every required field with an empty value of its type (`{ "name": "" }`).
 * Optional fields are left out, since an empty value could fail their validation; the tree above lists them.
 */
export function skeletonOf(value) {
  if (!value) return {};
  return sample(value, 0);
}

function sample(value, depth) {
  if (hasFields(value) && depth < MAX_DEPTH) {
    // fromEntries makes own properties even for a field named "__proto__".
    return Object.fromEntries(value.values.filter((field) => !isOptional(field)).map((field) => [field.name, sample(field, depth + 1)]));
  }
  const type = baseType(value);
  if (type === 'array' || type.endsWith('[]')) return [];
  switch (type) {
    case 'string':
    case 'date':
      return '';
    case 'number':
      return 0;
    case 'boolean':
      return false;
    case 'unknown':
      return null;
    default:
      // A class or `object` without described fields.
      return {};
  }
}
