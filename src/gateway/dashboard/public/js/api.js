/**
 * Talking to the server: the dashboard's JSON API (relative URLs, so the page works wherever it is mounted) and
 * the gateway's rpcPath for calls.
 */

async function getJson(url) {
  const response = await fetch(url, { headers: { accept: 'application/json' }, cache: 'no-store' });
  const body = await readBody(response);
  if (!response.ok) throw new Error(errorText(response, body));
  return body.json;
}

/** `{ rpcPath }`: where the page sends calls. */
export function fetchConfig() {
  return getJson('api/config');
}

export async function fetchServices() {
  return (await getJson('api/services')).services;
}

/** The service, or null when it is not registered (any more). */
export async function fetchService(name) {
  const response = await fetch(`api/services/${encodeURIComponent(name)}`, { headers: { accept: 'application/json' }, cache: 'no-store' });
  const body = await readBody(response);
  if (response.status === 404) return null;
  if (!response.ok) throw new Error(errorText(response, body));
  return body.json;
}

/**
 * Calls an endpoint through the gateway. Never throws: the outcome says what happened, for the page to show.
 * { kind: 'reply', status, body, json, ms } | { kind: 'error', status, body, json, ms } | { kind: 'unreachable', message, ms }
 */
export async function callEndpoint(rpcPath, service, endpoint, request) {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  let response;
  try {
    response = await fetch(rpcPath, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ service, endpoint, request }),
    });
  } catch (error) {
    return { kind: 'unreachable', message: error.message, ms: elapsed() };
  }
  const body = await readBody(response);
  return { kind: response.ok ? 'reply' : 'error', status: response.status, statusText: response.statusText, ...body, ms: elapsed() };
}

/** The body as text, and as JSON when it parses (`json` is undefined otherwise, and for an empty body). */
async function readBody(response) {
  const text = await response.text().catch(() => '');
  if (text === '') return { text, json: undefined };
  try {
    return { text, json: JSON.parse(text) };
  } catch {
    return { text, json: undefined };
  }
}

function errorText(response, body) {
  const detail = body.json && typeof body.json.detail === 'string' ? body.json.detail : body.text.slice(0, 300);
  return `${response.status} ${response.statusText}${detail ? `: ${detail}` : ''}`;
}
