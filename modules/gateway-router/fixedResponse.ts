import type { ServerResponse } from 'node:http';
import type { ResponseAction } from './routeTypes.js';

/** Answers with a rule's fixed status, headers and body (Node leaves the body out for HEAD, 204 and 304). */
export function sendFixedResponse(response: ServerResponse, action: ResponseAction): void {
  const headers: Record<string, string | string[]> = { ...action.headers };
  if (action.status !== 204 && action.status !== 304) headers['content-length'] = String(action.body.length);
  response.writeHead(action.status, headers);
  response.end(action.body);
}
