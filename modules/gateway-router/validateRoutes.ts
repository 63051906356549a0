import type { Route } from './routeTypes.js';
import { describe, isPlainObject, RuleProblems } from './ruleProblems.js';
import { readProxy, readResponse } from './validateAction.js';
import { readConditions } from './validateMatch.js';

const RULE_FIELDS = ['name', 'match', 'priority', 'weight', 'proxy', 'response'];

/** A routes file that parsed but does not describe valid rules; `problems` name the rule and field of each. */
export class InvalidRoutesError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join('; '));
    this.name = 'InvalidRoutesError';
  }
}

export interface RouteDefaults {
  /** Upstream timeout for proxy rules that do not set one. */
  timeoutMs: number;
}

/**
 * Checks a parsed routes document (`{ routes: [...] }`) and builds its rules. Every problem in the file is
 * reported at once; any problem rejects the whole file, so a half-valid file never replaces working routes.
 */
export function validateRoutes(document: unknown, defaults: RouteDefaults): Route[] {
  const problems: string[] = [];
  const top = new RuleProblems('the file', problems);
  if (!isPlainObject(document)) throw new InvalidRoutesError([`the file must hold an object with a "routes" list, got ${describe(document)}`]);
  top.rejectUnknownKeys(document, ['routes']);
  if (!Array.isArray(document.routes)) throw new InvalidRoutesError([...problems, `routes: must be a list of rules, got ${document.routes === undefined ? 'nothing' : describe(document.routes)}`]);
  const routes: Route[] = [];
  const names = new Map<string, number>();
  document.routes.forEach((raw, index) => {
    const route = readRule(raw, index, defaults, problems);
    const name = isPlainObject(raw) && typeof raw.name === 'string' ? raw.name : undefined;
    if (name !== undefined && names.has(name)) problems.push(`routes[${index}] ("${name}"): name: also the name of routes[${names.get(name)}]; names must be unique`);
    if (name !== undefined && !names.has(name)) names.set(name, index);
    if (route) routes.push(route);
  });
  if (problems.length > 0) throw new InvalidRoutesError(problems);
  return routes;
}

function readRule(raw: unknown, index: number, defaults: RouteDefaults, problems: string[]): Route | undefined {
  const named = isPlainObject(raw) && typeof raw.name === 'string' && raw.name !== '' ? ` ("${raw.name}")` : '';
  const rule = new RuleProblems(`routes[${index}]${named}`, problems);
  if (!isPlainObject(raw)) return rule.add('', `must be an object with match and either proxy or response, got ${describe(raw)}`);
  rule.rejectUnknownKeys(raw, RULE_FIELDS);
  if (raw.name !== undefined && (typeof raw.name !== 'string' || raw.name === '')) rule.add('name', `must be non-empty text, got ${describe(raw.name)}`);
  const when = readConditions(raw.match, rule);
  const priority = raw.priority ?? 0;
  if (typeof priority !== 'number' || !Number.isInteger(priority)) rule.add('priority', `must be a whole number (higher wins), got ${describe(raw.priority)}`);
  const weight = raw.weight ?? 1;
  if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0) rule.add('weight', `must be a number of 0 or more (0 turns the rule off), got ${describe(raw.weight)}`);
  let action;
  if (raw.proxy !== undefined && raw.response !== undefined) rule.add('', 'has both "proxy" and "response"; a rule does one or the other');
  else if (raw.proxy !== undefined) action = readProxy(raw.proxy, defaults.timeoutMs, rule);
  else if (raw.response !== undefined) action = readResponse(raw.response, rule);
  else rule.add('', 'needs either "proxy" (forward the request) or "response" (answer it)');
  if (!when || !action || typeof priority !== 'number' || !Number.isInteger(priority) || typeof weight !== 'number' || !(weight >= 0) || !Number.isFinite(weight)) return undefined;
  return { index, label: rule.label, when, priority, weight, action };
}
