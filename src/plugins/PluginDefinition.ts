import type convict from 'convict';
import type { ContainerModule } from '#inversify';
import type { MicroConfig } from '../config/MicroConfig.js';
import type { TokenName } from '../tokens.js';

/** Which slot a plugin fills; each kind is chosen by its own config key (`registry: consul`, …). */
export type PluginKind = 'registry' | 'broker' | 'transport' | 'codec' | 'selector' | 'gateway' | 'wrapper';

/** The token a plugin of each kind must provide. */
export const KIND_TOKEN: Readonly<Record<PluginKind, TokenName | undefined>> = {
  registry: 'Registry',
  broker: 'Broker',
  transport: 'Transport',
  codec: 'Codec',
  selector: 'Selector',
  gateway: 'GatewayPlugin',
  wrapper: undefined,
};

export const PLUGIN_KINDS = Object.keys(KIND_TOKEN) as PluginKind[];

/** An npm package a plugin needs, installed by the user only when they choose the plugin. */
export interface PluginPackage {
  name: string;
  /** The semver range the plugin was tested with, for the install command. */
  range: string;
  /**
   * Needed only for some options: imported when installed, otherwise absent from `packages`. The plugin names it
   * with `missingPackage()` when an option that needs it is chosen.
   */
  optional?: boolean;
}

export interface PluginContext<TOptions> {
  /** The plugin's options (`<kind>.options`), validated against its schema fragment and frozen. */
  options: Readonly<TOptions>;
  /** `<kind>.address`, split on commas; empty when not set. */
  addresses: readonly string[];
  config: Readonly<MicroConfig>;
  /** The plugin's npm packages, imported by the loader: a plugin never imports them itself at load time. */
  packages: Readonly<Record<string, unknown>>;
  /** The directory config was read from (where `config/` is): resolve relative paths in options against it. */
  cwd: string;
}

/**
 * A plugin: metadata the loader checks before anything starts, an options schema fragment, and a factory for
 * the container module that rebinds the tokens it provides.
 */
export interface PluginDefinition<TOptions = Record<string, unknown>> {
  readonly name: string;
  readonly kind: PluginKind;
  readonly description: string;
  /** Tokens the module rebinds. */
  readonly provides: readonly TokenName[];
  /** Tokens that must be bound for the module to work (core binds every contract token). */
  readonly requires?: readonly TokenName[];
  /** The tsmicro versions it works with, as a semver range. */
  readonly core: string;
  readonly packages?: readonly PluginPackage[];
  /** Its options, in convict's schema form; they live under `<kind>.options`. */
  readonly options?: convict.Schema<TOptions>;
  create(context: PluginContext<TOptions>): ContainerModule | Promise<ContainerModule>;
}

const BRAND = Symbol.for('tsmicro.plugin');

/**
 * Declares a plugin. The default export of a plugin module (modules/<kind>-<name>/index.ts, an npm package or a
 * file) is what this returns.
 *
 * @example
 *   export default definePlugin({ name: 'static', kind: 'selector', provides: ['Selector'], core: '^0.1.0', ... });
 */
export function definePlugin<TOptions>(definition: PluginDefinition<TOptions>): PluginDefinition<TOptions> {
  Object.defineProperty(definition, BRAND, { value: true });
  return Object.freeze(definition);
}

export function isPluginDefinition(value: unknown): value is PluginDefinition<unknown> {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
}
