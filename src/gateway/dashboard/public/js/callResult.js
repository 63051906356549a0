/**
 * What a call came back with: the reply, or the wire error (`{ id, code, detail, status, violations }`) with
 * one row per failing field and constraint, or why the gateway could not be reached.
 */
import { el, truncate } from './dom.js';

/** Replies can be large (a report, a file as text): the page shows the start of them. */
const MAX_SHOWN = 200_000;

export function renderCallResult(outcome) {
  if (outcome.kind === 'unreachable') {
    return result('error', 'Could not reach the gateway', outcome.ms, el('p', { className: 'result-detail' }, outcome.message));
  }
  if (outcome.kind === 'reply') {
    if (outcome.status === 204 || outcome.text === '') return result('ok', `${outcome.status} ${outcome.statusText || 'No Content'}`, outcome.ms, el('p', { className: 'result-detail' }, 'The endpoint returned nothing.'));
    const shown = outcome.json === undefined ? outcome.text : JSON.stringify(outcome.json, null, 2);
    return result('ok', `${outcome.status} ${outcome.statusText || 'OK'}`, outcome.ms, el('pre', { className: 'result-body' }, truncate(shown, MAX_SHOWN)));
  }
  return renderError(outcome);
}

/** The client-side refusal: the text in the editor is not JSON, so nothing was sent. */
export function renderInvalidJson(message) {
  return el(
    'div',
    { className: 'result error', role: 'alert' },
    el('div', { className: 'result-status' }, 'Not sent: the request is not valid JSON'),
    el('p', { className: 'result-detail' }, message),
  );
}

function renderError(outcome) {
  const wire = isWireError(outcome.json) ? outcome.json : undefined;
  if (!wire) {
    return result('error', `${outcome.status} ${outcome.statusText}`, outcome.ms, outcome.text ? el('pre', { className: 'result-body' }, truncate(outcome.text, MAX_SHOWN)) : null);
  }
  return result(
    'error',
    `${wire.code} ${typeof wire.status === 'string' ? wire.status : outcome.statusText}`,
    outcome.ms,
    el('p', { className: 'result-detail' }, wire.detail),
    el('p', { className: 'result-meta' }, `error id: ${wire.id ?? '-'} · HTTP ${outcome.status}`),
    Array.isArray(wire.violations) && wire.violations.length > 0 ? renderViolations(wire.violations) : null,
  );
}

function renderViolations(violations) {
  const rows = violations.flatMap((violation) =>
    Object.entries(violation.constraints ?? {}).map(([constraint, message]) =>
      el('tr', { dataset: { field: String(violation.field) } }, el('td', { className: 'violation-field' }, String(violation.field)), el('td', {}, constraint), el('td', {}, String(message))),
    ),
  );
  return el(
    'table',
    { className: 'violations' },
    el('caption', {}, 'Invalid fields'),
    el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Field'), el('th', { scope: 'col' }, 'Constraint'), el('th', { scope: 'col' }, 'Message'))),
    el('tbody', {}, rows),
  );
}

function isWireError(value) {
  return typeof value === 'object' && value !== null && typeof value.code === 'number' && typeof value.detail === 'string';
}

function result(kind, status, ms, ...body) {
  return el(
    'div',
    { className: `result ${kind}`, role: kind === 'error' ? 'alert' : 'status' },
    el('div', { className: 'result-status' }, status, el('span', { className: 'result-time' }, `${ms} ms`)),
    body,
  );
}
