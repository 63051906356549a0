import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

// node:fs through getBuiltinModule: an ES import of it also evaluates its lazy getters (file streams, Utf8Stream,
// glob, …): memory and milliseconds at every start, for parts nothing here uses.
const { existsSync, readFileSync } = process.getBuiltinModule('node:fs');

/** The `import` entry of a package.json `exports` value, following nested conditions. */
function importEntry(exports: unknown): string | undefined {
  if (typeof exports === 'string') return exports;
  if (typeof exports !== 'object' || exports === null) return undefined;
  const record = exports as Record<string, unknown>;
  if ('.' in record) return importEntry(record['.']);
  for (const condition of ['import', 'node', 'default']) {
    const entry = importEntry(record[condition]);
    if (entry) return entry;
  }
  return undefined;
}

/**
 * Finds an installed package the way Node would from `cwd` (the user's project), and returns the URL of its
 * ES module entry. Undefined when it is not installed there.
 */
export function findPackage(name: string, cwd: string): string | undefined {
  for (let directory = cwd; ; directory = dirname(directory)) {
    const root = join(directory, 'node_modules', name);
    const manifest = join(root, 'package.json');
    if (existsSync(manifest)) {
      const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as { exports?: unknown; main?: string; module?: string };
      const entry = importEntry(pkg.exports) ?? pkg.module ?? pkg.main ?? 'index.js';
      return pathToFileURL(join(root, entry)).href;
    }
    if (dirname(directory) === directory) return undefined;
  }
}

/**
 * Imports a package from the user's project, falling back to normal resolution from this file (the project
 * that installed tsmicro usually installed the package next to it). Rejects with ERR_MODULE_NOT_FOUND when
 * neither finds it.
 */
export async function importPackage(name: string, cwd: string): Promise<unknown> {
  const url = findPackage(name, cwd);
  return url ? import(url) : import(name);
}

export function isModuleNotFound(error: unknown, name: string): boolean {
  const code = (error as NodeJS.ErrnoException)?.code;
  return (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && String((error as Error).message).includes(name);
}
