import { extname, isAbsolute, join, resolve } from 'node:path';
import { ConfigError } from './ConfigError.js';
import { PLUGIN_KINDS } from '../plugins/PluginDefinition.js';
import type { SchemaLeaf } from './schemaLeaves.js';
import { getPath, setPath } from './schemaLeaves.js';

// node:fs through getBuiltinModule: an ES import of it also evaluates its lazy getters (file streams, Utf8Stream,
// glob, …): memory and milliseconds at every start, for parts nothing here uses.
const { existsSync, readFileSync } = process.getBuiltinModule('node:fs');
// Likewise node:util, whose ES facade loads parts nothing here uses.
const { parseArgs } = process.getBuiltinModule('node:util');

/** Values from one place, and how to name that place in messages: `file config/x.json`, `env MICRO_X`, … */
export interface ConfigLayer {
  label: string;
  values: Record<string, unknown>;
  /** Env and flag layers name each value by its own variable or flag; files and code use `label`. */
  labels?: Map<string, string>;
  /** Only files are checked for unknown keys by name; env vars and flags outside the schema are not ours. */
  strictKeys: boolean;
}

/** `registry: "consul"` is short for `registry: { plugin: "consul" }`. */
export function expandShorthand(values: Record<string, unknown>): Record<string, unknown> {
  const out = { ...values };
  for (const kind of PLUGIN_KINDS) if (typeof out[kind] === 'string') out[kind] = { plugin: out[kind] };
  return out;
}

/** The YAML parser (about 70 modules) is imported only when a YAML file is actually read. */
async function parseYaml(text: string): Promise<unknown> {
  const { parse } = await import('yaml');
  return parse(text);
}

export async function readConfigFile(path: string, cwd: string): Promise<ConfigLayer> {
  const full = isAbsolute(path) ? path : resolve(cwd, path);
  let text: string;
  try {
    text = readFileSync(full, 'utf8');
  } catch (error) {
    throw new ConfigError('CONFIG_FILE', `cannot read config file ${full}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error });
  }
  let values: unknown;
  const extension = extname(full).toLowerCase();
  try {
    if (extension === '.yaml' || extension === '.yml') values = await parseYaml(text);
    else if (extension === '.json') values = JSON.parse(text);
    else throw new Error(`unsupported extension "${extension}"; use .json, .yaml or .yml`);
  } catch (error) {
    throw new ConfigError('CONFIG_FILE', `config file ${full} cannot be parsed: ${(error as Error).message}`, { cause: error });
  }
  if (values === null || values === undefined) values = {};
  if (typeof values !== 'object' || Array.isArray(values)) throw new ConfigError('CONFIG_FILE', `config file ${full} must hold an object at the top level`);
  return { label: `file ${full}`, values: expandShorthand(values as Record<string, unknown>), strictKeys: true };
}

/** `config/default`, then `config/<NODE_ENV>`, each as .json, .yaml or .yml when present. */
export function conventionalFiles(cwd: string, nodeEnv: string | undefined): string[] {
  const names = ['default', ...(nodeEnv ? [nodeEnv] : [])];
  const found: string[] = [];
  for (const name of names) {
    for (const extension of ['.json', '.yaml', '.yml']) {
      const path = join(cwd, 'config', `${name}${extension}`);
      if (existsSync(path)) found.push(path);
    }
  }
  return found;
}

export function envLayer(leaves: readonly SchemaLeaf[], env: NodeJS.ProcessEnv): ConfigLayer {
  const values: Record<string, unknown> = {};
  const labels = new Map<string, string>();
  for (const leaf of leaves) {
    const value = leaf.env ? env[leaf.env] : undefined;
    if (value === undefined) continue;
    setPath(values, leaf.key, value);
    labels.set(leaf.key, `env ${leaf.env}`);
  }
  return { label: 'env', values, labels, strictKeys: false };
}

/** Flags by their schema names (`registry_address` → `registry.address`), values as given. */
export function flagsLayer(leaves: readonly SchemaLeaf[], flags: Readonly<Record<string, string | undefined>>): ConfigLayer {
  const values: Record<string, unknown> = {};
  const labels = new Map<string, string>();
  for (const leaf of leaves) {
    const value = leaf.arg ? flags[leaf.arg] : undefined;
    if (value === undefined) continue;
    setPath(values, leaf.key, value);
    labels.set(leaf.key, `flag --${leaf.arg}`);
  }
  return { label: 'flags', values, labels, strictKeys: false };
}

/** Reads `--name value` and `--name=value` for the schema's flags (and `--config`) out of an argv. */
export function parseFlags(argv: readonly string[], leaves: readonly SchemaLeaf[]): Record<string, string | undefined> {
  const options: Record<string, { type: 'string' }> = { config: { type: 'string' } };
  for (const leaf of leaves) if (leaf.arg) options[leaf.arg] = { type: 'string' };
  const { values } = parseArgs({ args: [...argv], options, strict: false, allowPositionals: true });
  const flags: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(values)) if (typeof value === 'string') flags[name] = value;
  return flags;
}

/** The value a leaf finally gets, and from where; `undefined` when no layer sets it. */
export function pick(layers: readonly ConfigLayer[], key: string): { value: unknown; source: string } | undefined {
  for (let index = layers.length - 1; index >= 0; index--) {
    const layer = layers[index]!;
    const value = getPath(layer.values, key);
    if (value !== undefined) return { value, source: layer.labels?.get(key) ?? layer.label };
  }
  return undefined;
}
