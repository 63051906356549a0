/**
 * A client process: calls the greeter, shows a validation error, publishes an event. Exits 0 when each step
 * behaved as expected, 1 otherwise.
 */
import { App, MicroError } from '../../src/index.js';
import type { HelloReply } from './dto.js';

const app = await App.create({ config: { logger: { level: 'warn', format: 'pretty' } } });
await app.start();
let ok = true;
try {
  const reply = await app.client.call<HelloReply>('greeter', 'Greeter.sayHello', { name: 'Ada' }, { metadata: { 'X-Caller': 'example-client' } });
  console.log(`[client] Greeter.sayHello -> ${JSON.stringify(reply)}`);

  try {
    await app.client.call('greeter', 'Greeter.sayHello', { name: '', age: -3 });
    console.log('[client] expected a validation error, got a reply');
    ok = false;
  } catch (error) {
    if (!MicroError.is(error) || error.code !== 400) throw error;
    console.log(`[client] invalid request -> ${error.code} ${error.detail}`);
  }

  await app.client.publish('greeter.greeted', { name: 'Grace', at: Date.now() }, { metadata: { 'x-caller': 'example-client' } });
  console.log('[client] published greeter.greeted {"name":"Grace"}');
} catch (error) {
  console.log(`[client] failed: ${(error as Error).message}`);
  ok = false;
} finally {
  await app.stop();
}
process.exit(ok ? 0 : 1);
