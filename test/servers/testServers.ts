import { describe, it } from '@jest/globals';
import { createServer } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serverNamed } from './definitions.js';
import { sharedInstance } from './main.js';
import { ServerInstance } from './ServerInstance.js';

/**
 * For a test file that needs a real server. Resolves the address of the shared instance (started by
 * `npm run servers -- up`). When it does not answer: under CI=true the returned `describe` fails the run (a
 * missing server is a failure there); elsewhere it skips the tests, printing one line that says what to start.
 * Call with top-level await, before any describe.
 */
type Describe = (title: string, body: () => void) => void;

export async function requireServer(name: string): Promise<{ address: string; available: boolean; describe: Describe }> {
  const definition = serverNamed(name);
  const instance = sharedInstance(definition);
  if (await instance.answers()) return { address: instance.address, available: true, describe };
  const hint = `${definition.name} is not answering on ${instance.address}; start it with: npm run servers -- up ${definition.name}`;
  if (process.env.CI === 'true') {
    const failing: Describe = (title) =>
      describe(title, () => {
        it(`needs ${definition.name}`, () => {
          throw new Error(hint);
        });
      });
    return { address: instance.address, available: false, describe: failing };
  }
  console.log(`skipped: ${hint}`);
  return { address: instance.address, available: false, describe: describe.skip };
}


function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
    server.once('error', reject);
  });
}

/**
 * A server of the test's own, on a free port with fresh data, for tests that stop and restart it. The caller
 * destroys it in afterAll. Needs the server installed (`npm run servers -- up <name>` installs it).
 */
export async function privateServer(name: string): Promise<ServerInstance> {
  const definition = serverNamed(name);
  // etcd and Kafka also take port + 1 (peers, controller), RabbitMQ port + 20000 (distribution): all must be free.
  let port = await freePort();
  while (port + 20000 > 65535 || !(await isFree(port + 1)) || !(await isFree(port + 20000))) port = await freePort();
  const instance = new ServerInstance(definition, port, mkdtempSync(join(tmpdir(), `tsmicro-${name}-`)));
  await instance.start();
  return instance;
}
