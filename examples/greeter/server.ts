/**
 * The greeter service as its own process, on the defaults (file registry, TCP transport, direct broker).
 * Prints "ready <address>" when registered, and a line per event; stops cleanly on SIGINT/SIGTERM.
 */
import { App } from '../../src/index.js';
import { Greeter } from './GreeterService.js';

const app = await App.create({ services: [Greeter], config: { logger: { level: 'warn', format: 'pretty' } } });
const greeter = app.get(Greeter);
greeter.onGreeted = (event, caller) => console.log(`[server] event greeter.greeted: ${event.name} (metadata x-caller=${caller ?? '-'})`);
await app.start();
console.log(`ready ${app.servers[0]!.address}`);
await app.stopOnSignal();
console.log('[server] stopped');
