import type convict from 'convict';

/** One configurable value of a convict schema, with the names it goes by outside files. */
export interface SchemaLeaf {
  key: string;
  env?: string;
  arg?: string;
  doc?: string;
  default: unknown;
  sensitive: boolean;
  /** Object-valued leaves (maps) are replaced whole by a later source, never merged key by key. */
  isMap: boolean;
}

function isLeaf(node: unknown): node is convict.SchemaObj {
  return typeof node === 'object' && node !== null && 'default' in node;
}

/** Every leaf of a schema, depth first, keyed by dotted path. */
export function schemaLeaves(schema: object, prefix = ''): SchemaLeaf[] {
  const leaves: SchemaLeaf[] = [];
  for (const [name, node] of Object.entries(schema)) {
    const key = prefix ? `${prefix}.${name}` : name;
    if (isLeaf(node)) {
      const isMap = typeof node.default === 'object' && node.default !== null && !Array.isArray(node.default);
      leaves.push({ key, env: node.env, arg: node.arg, doc: node.doc, default: node.default, sensitive: node.sensitive === true, isMap });
    } else if (typeof node === 'object' && node !== null) {
      leaves.push(...schemaLeaves(node, key));
    }
  }
  return leaves;
}

export function getPath(object: unknown, key: string): unknown {
  let current = object;
  for (const part of key.split('.')) {
    if (typeof current !== 'object' || current === null || !(part in current)) return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

export function setPath(object: Record<string, unknown>, key: string, value: unknown): void {
  const parts = key.split('.');
  let current = object;
  for (const part of parts.slice(0, -1)) {
    if (typeof current[part] !== 'object' || current[part] === null) current[part] = {};
    current = current[part] as Record<string, unknown>;
  }
  current[parts.at(-1)!] = value;
}

/**
 * Keys in `values` that the schema does not declare. A map leaf accepts any keys below it; a plain object where
 * a scalar leaf is expected is reported too.
 */
export function unknownKeys(values: unknown, leaves: readonly SchemaLeaf[], prefix = ''): string[] {
  if (typeof values !== 'object' || values === null || Array.isArray(values)) return [];
  const out: string[] = [];
  for (const [name, value] of Object.entries(values)) {
    const key = prefix ? `${prefix}.${name}` : name;
    const leaf = leaves.find((candidate) => candidate.key === key);
    if (leaf) continue;
    const isBranch = leaves.some((candidate) => candidate.key.startsWith(`${key}.`));
    if (!isBranch) out.push(key);
    else out.push(...unknownKeys(value, leaves, key));
  }
  return out;
}
