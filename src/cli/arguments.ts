import { parseDuration } from '../config/formats.js';
import { CliError } from './context.js';

/** `--metadata k=v` may be given many times. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function parseMetadata(pairs: readonly string[] = []): Record<string, string> {
  const metadata: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new CliError(`--metadata "${pair}" is not key=value`, 2);
    metadata[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return metadata;
}

export function parseJson(text: string | undefined, what: string): unknown {
  if (text === undefined || text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new CliError(`${what} is not valid JSON: ${(error as Error).message}`, 2);
  }
}

export function parseTimeout(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const ms = parseDuration(text);
  if (!Number.isFinite(ms) || ms <= 0) throw new CliError(`--timeout "${text}" is not a duration such as 500ms, 5s or 1m`, 2);
  return ms;
}
