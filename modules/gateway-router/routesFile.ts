import { readFile } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import type { Route } from './routeTypes.js';
import { validateRoutes, type RouteDefaults } from './validateRoutes.js';

/** Why a routes file cannot be used: `reason` completes "routes file <file> …". */
export class RoutesFileError extends Error {
  constructor(
    readonly file: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`routes file ${file} ${reason}`, options);
    this.name = 'RoutesFileError';
  }
}

/**
 * The absolute path of the routes file an option names: a path (relative ones from the working directory),
 * go-micro's `file:<path>` form, or a `file://` URL. go-micro's router only recognised the literal word `file`
 * here, so `file:routes.json` never loaded; all three forms are tested.
 */
export function resolveRoutesPath(option: string, cwd: string = process.cwd()): string {
  const value = option.trim();
  if (value.startsWith('file://')) return fileURLToPath(value);
  return resolve(cwd, value.startsWith('file:') ? value.slice('file:'.length) : value);
}

/** Parses by extension: `.json`, or `.yaml`/`.yml`. */
export function parseRoutesText(text: string, file: string): unknown {
  const extension = extname(file).toLowerCase();
  if (extension === '.json') {
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new RoutesFileError(file, `is not valid JSON: ${(error as Error).message}`, { cause: error });
    }
  }
  if (extension === '.yaml' || extension === '.yml') {
    try {
      return parseYaml(text);
    } catch (error) {
      // yaml's messages carry a code frame over several lines; the first line says what and where.
      throw new RoutesFileError(file, `is not valid YAML: ${(error as Error).message.split('\n')[0]}`, { cause: error });
    }
  }
  throw new RoutesFileError(file, `has the extension "${extension}"; name it .json, .yaml or .yml`);
}

/** Parses and validates; any problem is a RoutesFileError whose reason says which rule and field. */
export function routesFromText(text: string, file: string, defaults: RouteDefaults): Route[] {
  const document = parseRoutesText(text, file);
  try {
    return validateRoutes(document, defaults);
  } catch (error) {
    throw new RoutesFileError(file, `is invalid: ${(error as Error).message}`, { cause: error });
  }
}

export async function readRoutesText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new RoutesFileError(file, `cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error });
  }
}
