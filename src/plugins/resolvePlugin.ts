import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ConfigError } from '../config/ConfigError.js';
import { BUILTIN_PLUGINS, builtinPlugin } from './builtin/index.js';
import { findPackage, isModuleNotFound } from './packages.js';
import { isPluginDefinition, type PluginDefinition, type PluginKind } from './PluginDefinition.js';
import { didYouMean } from './suggest.js';

// node:fs through getBuiltinModule: an ES import of it also evaluates its lazy getters (file streams, Utf8Stream,
// glob, …): memory and milliseconds at every start, for parts nothing here uses.
const { existsSync, readdirSync } = process.getBuiltinModule('node:fs');

export interface ResolvedPlugin {
  definition: PluginDefinition<unknown>;
  /** Where it came from: `built-in`, `modules/registry-consul`, `package tsmicro-registry-x`, a path. */
  origin: string;
}

/**
 * The modules/ folder of this package: next to src/ when running from source (tests), next to dist/src when
 * running compiled, so `modules/<kind>-<name>` resolves the same way in both.
 */
export function defaultModulesDirectory(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  return resolve(here, '..', '..', 'modules');
}

function modulePath(directory: string, folder: string): string | undefined {
  for (const file of ['index.js', 'index.ts']) {
    const path = join(directory, folder, file);
    if (existsSync(path)) return path;
  }
  return undefined;
}

/** Names a user can give for `kind`: built-ins and the modules/ folders. */
export function knownPluginNames(kind: PluginKind, modulesDirectory: string): string[] {
  const names = new Set(BUILTIN_PLUGINS.filter((plugin) => plugin.kind === kind).map((plugin) => plugin.name));
  if (existsSync(modulesDirectory)) {
    for (const folder of readdirSync(modulesDirectory)) if (folder.startsWith(`${kind}-`) && modulePath(modulesDirectory, folder)) names.add(folder.slice(kind.length + 1));
  }
  return [...names].sort();
}

async function importDefinition(url: string, what: string): Promise<PluginDefinition<unknown>> {
  const loaded = (await import(url)) as { default?: unknown; plugin?: unknown };
  const definition = loaded.default ?? loaded.plugin;
  if (!isPluginDefinition(definition)) {
    throw new ConfigError('PLUGIN_INVALID', `${what} is not a tsmicro plugin: its default export was not made with definePlugin()`);
  }
  return definition;
}

function isPath(name: string): boolean {
  return name.startsWith('.') || isAbsolute(name) || name.startsWith('file:');
}

/**
 * Finds the plugin a config names. In order: a path (`./x.js`, `/abs/x.js`), a built-in, `modules/<kind>-<name>`,
 * then an installed package (`tsmicro-<kind>-<name>`, `@tsmicro/<kind>-<name>`, or the name itself).
 * `where` names the config source for the error message.
 */
export async function resolvePlugin(kind: PluginKind, name: string, where: string, options: { cwd: string; modulesDirectory: string }): Promise<ResolvedPlugin> {
  if (isPath(name)) {
    const path = name.startsWith('file:') ? fileURLToPath(name) : resolve(options.cwd, name);
    if (!existsSync(path)) throw new ConfigError('PLUGIN_UNKNOWN', `${kind} plugin file ${path} (from ${where}) does not exist`);
    return { definition: await importDefinition(pathToFileURL(path).href, `the module at ${path}`), origin: path };
  }
  const builtin = builtinPlugin(kind, name);
  if (builtin) return { definition: builtin as PluginDefinition<unknown>, origin: 'built-in' };
  const folder = `${kind}-${name}`;
  const local = modulePath(options.modulesDirectory, folder);
  if (local) return { definition: await importDefinition(pathToFileURL(local).href, `modules/${folder}`), origin: `modules/${folder}` };
  for (const candidate of [`tsmicro-${kind}-${name}`, `@tsmicro/${kind}-${name}`, name]) {
    const url = findPackage(candidate, options.cwd);
    if (url) return { definition: await importDefinition(url, `package ${candidate}`), origin: `package ${candidate}` };
    try {
      return { definition: await importDefinition(candidate, `package ${candidate}`), origin: `package ${candidate}` };
    } catch (error) {
      if (!isModuleNotFound(error, candidate)) throw error;
    }
  }
  const known = knownPluginNames(kind, options.modulesDirectory);
  const hint = didYouMean(name, known);
  throw new ConfigError('PLUGIN_UNKNOWN', `unknown ${kind} plugin "${name}" (from ${where})${hint}${hint ? ' ' : '. '}Known ${kind} plugins: ${known.join(', ')}`);
}
