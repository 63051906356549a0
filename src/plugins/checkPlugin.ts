import { ConfigError } from '../config/ConfigError.js';
import { CORE_VERSION } from '../version.js';
import { findPackage, importPackage, isModuleNotFound } from './packages.js';
import { KIND_TOKEN, type PluginDefinition, type PluginKind, type PluginPackage } from './PluginDefinition.js';
import type { ResolvedPlugin } from './resolvePlugin.js';

/**
 * Ranges every plugin in this repository states: the built-ins `CORE_VERSION`, the modules `^CORE_VERSION`. Both
 * are valid and satisfied by this core, so semver (about 50 modules) is loaded only for any other range.
 */
const SATISFIED_RANGES: ReadonlySet<string> = new Set([CORE_VERSION, `^${CORE_VERSION}`]);

async function checkCoreRange(label: string, range: string): Promise<void> {
  if (SATISFIED_RANGES.has(range)) return;
  const { default: semver } = await import('semver');
  if (!semver.validRange(range)) {
    throw new ConfigError('PLUGIN_INVALID', `${label} declares an invalid core version range "${range}"`);
  }
  if (!semver.satisfies(CORE_VERSION, range, { includePrerelease: true })) {
    throw new ConfigError('PLUGIN_INCOMPATIBLE', `${label} supports tsmicro ${range}, but this is tsmicro ${CORE_VERSION}; use a plugin version made for ${CORE_VERSION}`);
  }
}

/**
 * Checks a plugin's metadata against the slot it was chosen for, before anything is loaded: its kind, the
 * token it must provide, and the core versions it supports.
 */
export async function checkPlugin(kind: PluginKind, requested: string, resolved: ResolvedPlugin): Promise<void> {
  const { definition, origin } = resolved;
  const label = `${kind} plugin "${requested}" (${origin})`;
  const byName = !(requested.startsWith('.') || requested.startsWith('/') || requested.startsWith('file:'));
  if (byName && definition.name !== requested) {
    throw new ConfigError('PLUGIN_INVALID', `${label} declares the name "${definition.name}"; a plugin found by name must carry that name`);
  }
  if (definition.kind !== kind) {
    throw new ConfigError('PLUGIN_INVALID', `${label} is a ${definition.kind} plugin named "${definition.name}", not a ${kind} plugin`);
  }
  const token = KIND_TOKEN[kind];
  if (token && !definition.provides.includes(token)) {
    throw new ConfigError('PLUGIN_INVALID', `${label} does not provide the ${token} token (it provides: ${definition.provides.join(', ') || 'nothing'})`);
  }
  await checkCoreRange(label, definition.core);
}

/** The install command for a plugin's packages, e.g. `npm install nats@^2.29.0`. */
export function installCommand(definition: PluginDefinition<unknown>, only?: PluginPackage): string {
  const packages = only ? [only] : (definition.packages ?? []).filter((pkg) => !pkg.optional);
  return `npm install ${packages.map((pkg) => `${pkg.name}@${pkg.range}`).join(' ')}`;
}

/**
 * The error for an optional package that an option needs, for a plugin's create():
 * `if (options.jetstream && !packages['@nats-io/jetstream']) throw missingPackage(definition, 'jetstream', pkg)`.
 */
export function missingPackage(definition: PluginDefinition<unknown>, option: string, pkg: PluginPackage): ConfigError {
  return new ConfigError('PLUGIN_PACKAGE_MISSING', `${definition.kind} plugin "${definition.name}" needs the npm package "${pkg.name}" for the option ${option}, which is not installed; install it with: ${installCommand(definition, pkg)}`);
}

/**
 * Imports the npm packages a chosen plugin needs, from the user's project. A missing one is named with the exact
 * install command; this is the only place optional dependencies are ever imported.
 */
export async function importPluginPackages(kind: PluginKind, definition: PluginDefinition<unknown>, cwd: string): Promise<Record<string, unknown>> {
  const packages: Record<string, unknown> = {};
  for (const pkg of definition.packages ?? []) {
    try {
      packages[pkg.name] = await importPackage(pkg.name, cwd);
    } catch (error) {
      if (!isModuleNotFound(error, pkg.name) && findPackage(pkg.name, cwd)) throw error;
      if (pkg.optional) continue;
      throw new ConfigError(
        'PLUGIN_PACKAGE_MISSING',
        `${kind} plugin "${definition.name}" needs the npm package "${pkg.name}", which is not installed; install it with: ${installCommand(definition)}`,
        { cause: error },
      );
    }
  }
  return packages;
}
