import { Handler, MicroError, Service } from '../../src/index.js';
import { createGateway } from '../../src/gateway/createGateway.js';
import type { Gateway } from '../../src/gateway/Gateway.js';
import type { App } from '../../src/index.js';

/** A service that answers with the statuses the gateway tests need beyond the shared fixtures' 200, 409 and 500. */
@Service({ name: 'limits' })
export class Limits {
  @Handler()
  async busy(): Promise<void> {
    throw new MicroError('limits', 429, 'slow down');
  }

  @Handler()
  async verbose(request: { bytes: number }): Promise<void> {
    throw new MicroError('limits', 500, 'x'.repeat(request.bytes));
  }
}

/** A started gateway on `app`, and its base URL. */
export async function startGateway(app: App): Promise<{ gateway: Gateway; base: string }> {
  const gateway = createGateway(app);
  await gateway.start();
  return { gateway, base: `http://${gateway.address}` };
}

export function post(base: string, path: string, body: unknown, headers: Record<string, string> = {}, signal?: AbortSignal): Promise<Response> {
  return fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body), signal });
}
