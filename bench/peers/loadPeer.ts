import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

/**
 * The peer frameworks are dependencies of bench/package.json only. Compiled adapters live in dist/bench/, outside
 * bench/node_modules' reach, so packages are resolved from bench/ explicitly (CommonJS and ES modules alike).
 */
const fromBench = createRequire(new URL('../../../bench/package.json', import.meta.url));

export async function loadPeer<T>(name: string): Promise<T> {
  const namespace = (await import(pathToFileURL(fromBench.resolve(name)).href)) as T & { default?: T };
  // A CommonJS package imported as a module: its exports are on `default`.
  return (namespace.default && typeof namespace.default === 'object' ? { ...namespace.default, ...namespace } : namespace) as T;
}
