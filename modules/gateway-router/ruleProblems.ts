import { didYouMean } from '../../src/plugins/suggest.js';

/**
 * Collects what is wrong with one rule of a routes file, each problem naming the rule and the field, so a user
 * can fix a whole file in one go instead of one error per reload.
 */
export class RuleProblems {
  constructor(
    readonly label: string,
    private readonly problems: string[],
  ) {}

  add(field: string, message: string): undefined {
    this.problems.push(field ? `${this.label}: ${field}: ${message}` : `${this.label}: ${message}`);
    return undefined;
  }

  /**
   * Unknown keys are errors, not ignored: a misspelt field that is silently dropped is how go-micro's router lost
   * its `insecure` setting (its JSON tag said "bool").
   */
  rejectUnknownKeys(value: Record<string, unknown>, known: readonly string[], prefix = ''): void {
    for (const key of Object.keys(value)) {
      if (!known.includes(key)) this.add(`${prefix}${key}`, `unknown field${didYouMean(key, known)}; known fields: ${known.join(', ')}`);
    }
  }
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A value as a message shows it: strings quoted, lists and objects named, long text cut. */
export function describe(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (isPlainObject(value)) return 'an object';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
