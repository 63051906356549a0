import convict from 'convict';
import { checkPlugin, importPluginPackages } from '../plugins/checkPlugin.js';
import { KIND_TOKEN, type PluginDefinition, type PluginKind } from '../plugins/PluginDefinition.js';
import { defaultModulesDirectory, resolvePlugin } from '../plugins/resolvePlugin.js';
import { didYouMean } from '../plugins/suggest.js';
import { ConfigError } from './ConfigError.js';
import { registerFormats } from './formats.js';
import type { MicroConfig } from './MicroConfig.js';
import { checkRelations, deepFreeze, type ConfigInput } from './configUtil.js';
import { coreSchema } from './schema.js';
import { getPath, schemaLeaves, setPath, unknownKeys, type SchemaLeaf } from './schemaLeaves.js';
import { conventionalFiles, envLayer, expandShorthand, flagsLayer, parseFlags, pick, readConfigFile, type ConfigLayer } from './sources.js';

/** The kinds chosen by a key of their own (`registry: consul`), one plugin each, options under `<kind>.options`. */
const CHOSEN_KINDS: readonly PluginKind[] = ['registry', 'broker', 'transport', 'codec', 'selector'];

/** The kinds chosen by a list (`wrappers.plugins: [xray]`), any number each, options under `<section>.<plugin name>`. */
const LISTED_KINDS: readonly { kind: PluginKind; section: string }[] = [
  { kind: 'wrapper', section: 'wrappers' },
  { kind: 'gateway', section: 'gateway' },
];

export interface LoadConfigOptions {
  /** Where `config/` and plugin packages are looked up; the process's working directory by default. */
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Command-line arguments to read flags from; `process.argv.slice(2)` by default. */
  argv?: readonly string[];
  /** Flags already parsed (by the CLI), by schema flag name; replaces `argv`. */
  flags?: Readonly<Record<string, string | undefined>>;
  /** Values from code: above schema defaults, below files, env and flags. */
  overrides?: ConfigInput;
  modulesDirectory?: string;
}

export interface ChosenPlugin {
  kind: PluginKind;
  /** Where its options live in the config; none for plugins chosen through `bindings` (they get their defaults). */
  optionsPath?: string;
  /** The name as configured (a path stays a path). */
  name: string;
  origin: string;
  definition: PluginDefinition<unknown>;
  options: Readonly<Record<string, unknown>>;
  packages: Readonly<Record<string, unknown>>;
}

export interface ConfigValue {
  key: string;
  value: unknown;
  source: string;
}

export interface LoadedConfig {
  config: Readonly<MicroConfig>;
  /** The directory config files and plugin packages were looked up in. */
  cwd: string;
  plugins: readonly ChosenPlugin[];
  /** Every leaf with its effective value and where it came from (`default`, `file …`, `env …`, `flag …`, `code`). */
  values: readonly ConfigValue[];
}

/** Core schema with each chosen plugin's options fragment at its options path (copied along the path, never mutated). */
function schemaWith(chosen: readonly ChosenPlugin[]): object {
  const schema: Record<string, unknown> = { ...coreSchema };
  const placed = new Set<string>();
  for (const kind of CHOSEN_KINDS) schema[kind] = { ...(coreSchema as Record<string, object>)[kind], options: {} };
  for (const plugin of chosen) {
    if (!plugin.optionsPath || placed.has(plugin.optionsPath)) continue;
    placed.add(plugin.optionsPath);
    const [section, key] = plugin.optionsPath.split('.') as [string, string];
    schema[section] = { ...(schema[section] as object), [key]: plugin.definition.options ?? {} };
  }
  return schema;
}

function describeValue(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : JSON.stringify(value) ?? String(value);
}

/** Turns convict's multi-line validation message into ours: key, value, source and what is expected. */
function invalidValues(error: Error, layers: readonly ConfigLayer[]): ConfigError {
  const problems = error.message.split('\n').map((line) => {
    const match = /^([\w.$-]+): (.*?)(?:: value was .*)?$/s.exec(line);
    if (!match) return line;
    const [, key, expected] = match;
    const found = pick(layers, key!);
    return `config value ${key} = ${describeValue(found?.value)} (from ${found?.source ?? 'default'}) is invalid: ${expected}`;
  });
  return new ConfigError('CONFIG_INVALID_VALUE', problems.join('; '), { cause: error });
}

/** Known keys as deep as `key` (`service` for a typo at the top, `registry.options.x` below), for suggestions. */
function keysAtDepthOf(key: string, leaves: readonly SchemaLeaf[]): string[] {
  const depth = key.split('.').length;
  const keys = new Set<string>();
  for (const leaf of leaves) {
    const parts = leaf.key.split('.');
    if (parts.length >= depth) keys.add(parts.slice(0, depth).join('.'));
  }
  return [...keys];
}

function rejectUnknownKeys(layers: readonly ConfigLayer[], leaves: readonly SchemaLeaf[]): void {
  for (const layer of layers) {
    if (!layer.strictKeys) continue;
    const [unknown] = unknownKeys(layer.values, leaves);
    if (unknown) throw new ConfigError('CONFIG_UNKNOWN_KEY', `unknown config key "${unknown}" in ${layer.label}${didYouMean(unknown, keysAtDepthOf(unknown, leaves))}`);
  }
}

async function choosePlugins(layers: readonly ConfigLayer[], cwd: string, modulesDirectory: string): Promise<ChosenPlugin[]> {
  const requests: { kind: PluginKind; name: string; where: string; section?: string }[] = [];
  for (const kind of CHOSEN_KINDS) {
    const found = pick(layers, `${kind}.plugin`);
    const fallback = (getPath(coreSchema, `${kind}.plugin`) as { default: string }).default;
    const name = typeof found?.value === 'string' && found.value !== '' ? found.value : fallback;
    requests.push({ kind, name, where: found?.source ?? 'default' });
  }
  const bindings = pick(layers, 'bindings');
  if (bindings && typeof bindings.value === 'object' && bindings.value !== null) {
    for (const [token, name] of Object.entries(bindings.value as Record<string, unknown>)) {
      const kind = CHOSEN_KINDS.find((candidate) => KIND_TOKEN[candidate]?.toLowerCase() === token.toLowerCase());
      if (!kind) {
        const tokens = CHOSEN_KINDS.map((candidate) => KIND_TOKEN[candidate]!);
        throw new ConfigError('CONFIG_INVALID_VALUE', `bindings.${token} (from ${bindings.source}) names no pluggable token${didYouMean(token, tokens)}; pluggable tokens: ${tokens.join(', ')}`);
      }
      requests.push({ kind, name: String(name), where: `${bindings.source} bindings.${token}` });
    }
  }
  for (const { kind, section } of LISTED_KINDS) {
    const listed = pick(layers, `${section}.plugins`);
    for (const name of listValue(listed?.value)) requests.push({ kind, name, where: listed!.source, section });
  }
  const chosen: ChosenPlugin[] = [];
  for (const request of requests) {
    const resolved = await resolvePlugin(request.kind, request.name, request.where, { cwd, modulesDirectory });
    await checkPlugin(request.kind, request.name, resolved);
    const packages = await importPluginPackages(request.kind, resolved.definition, cwd);
    const optionsPath = request.section ? `${request.section}.${resolved.definition.name}` : CHOSEN_KINDS.includes(request.kind) && !request.where.includes('bindings.') ? `${request.kind}.options` : undefined;
    chosen.push({ kind: request.kind, name: request.name, optionsPath, origin: resolved.origin, definition: resolved.definition, options: {}, packages });
  }
  return chosen;
}

/** A list as files give it (an array) or as env vars and flags give it (comma-separated). */
function listValue(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String).filter(Boolean);
  if (typeof value === 'string') return value.split(',').map((item) => item.trim()).filter(Boolean);
  return [];
}

/**
 * Reads the config, later sources winning: schema defaults → code → config/default.{json,yaml} →
 * config/<NODE_ENV> → the file named by --config or MICRO_CONFIG → environment → flags. Resolves and checks the
 * chosen plugins, validates everything against one schema (core plus the plugins' fragments) and freezes it.
 * Any problem is a ConfigError thrown before anything starts.
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<LoadedConfig> {
  registerFormats();
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  const modulesDirectory = options.modulesDirectory ?? defaultModulesDirectory();
  const argv = options.argv ?? process.argv.slice(2);
  const flagsFor = (leaves: readonly SchemaLeaf[]) => options.flags ?? parseFlags(argv, leaves);

  const coreLeaves = schemaLeaves(coreSchema);
  const explicitFile = flagsFor(coreLeaves).config ?? env.MICRO_CONFIG;
  const files: ConfigLayer[] = [];
  // In order, so the first file that fails is the one reported.
  for (const file of [...conventionalFiles(cwd, env.NODE_ENV), ...(explicitFile ? [explicitFile] : [])]) files.push(await readConfigFile(file, cwd));
  const code: ConfigLayer = { label: 'code', values: expandShorthand((options.overrides ?? {}) as Record<string, unknown>), strictKeys: true };
  const layersFor = (leaves: readonly SchemaLeaf[]): ConfigLayer[] => [code, ...files, envLayer(leaves, env), flagsLayer(leaves, flagsFor(leaves))];

  const chosen = await choosePlugins(layersFor(coreLeaves), cwd, modulesDirectory);
  const schema = schemaWith(chosen);
  const leaves = schemaLeaves(schema);
  const layers = layersFor(leaves);
  rejectUnknownKeys(layers, leaves);

  const merged: Record<string, unknown> = {};
  const values: ConfigValue[] = [];
  for (const leaf of leaves) {
    const found = pick(layers, leaf.key);
    if (found) setPath(merged, leaf.key, found.value);
  }
  const validated = convict<MicroConfig>(schema as convict.Schema<MicroConfig>, { env: {}, args: [] });
  try {
    validated.load(merged);
    validated.validate({ allowed: 'strict' });
  } catch (error) {
    throw invalidValues(error as Error, layers);
  }
  const config = validated.getProperties();
  const sources = new Map(leaves.map((leaf) => [leaf.key, pick(layers, leaf.key)?.source ?? 'default']));
  checkRelations(config, sources);
  for (const leaf of leaves) values.push({ key: leaf.key, value: leaf.sensitive ? '[redacted]' : getPath(config, leaf.key), source: sources.get(leaf.key)! });

  for (const plugin of chosen) plugin.options = deepFreeze(pluginOptions(plugin, config));
  return { config: deepFreeze(config), cwd, plugins: chosen, values };
}

/** A plugin's validated options: from its options path, else its fragment's defaults. */
function pluginOptions(plugin: ChosenPlugin, config: MicroConfig): Record<string, unknown> {
  const configured = plugin.optionsPath ? (getPath(config, plugin.optionsPath) as Record<string, unknown> | undefined) : undefined;
  if (configured) return configured;
  if (!plugin.definition.options) return {};
  return convict(plugin.definition.options as convict.Schema<Record<string, unknown>>, { env: {}, args: [] }).getProperties();
}
