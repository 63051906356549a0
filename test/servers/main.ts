/**
 * `npm run servers -- up [name…]`: installs any missing server from Debian's packages, starts each on 127.0.0.1
 * on its own port, and waits until it answers; fast when they already run. `down` stops them, `status` says which
 * answer. Data and logs live in $TSMICRO_SERVERS_DIR (default <tmp>/tsmicro-servers/<name>).
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SERVERS, serverNamed, type ServerDefinition } from './definitions.js';
import { installMissing, TOOLS } from './install.js';
import { ServerInstance } from './ServerInstance.js';

export function sharedDirectory(definition: ServerDefinition): string {
  return join(process.env.TSMICRO_SERVERS_DIR ?? join(tmpdir(), 'tsmicro-servers'), definition.name);
}

/** The port of the shared instance: from the address env var when set, else the server's usual port. */
export function sharedPort(definition: ServerDefinition): number {
  const address = process.env[definition.addressEnv];
  return address ? Number(address.split(':').at(-1)) : definition.defaultPort;
}

export function sharedInstance(definition: ServerDefinition): ServerInstance {
  return new ServerInstance(definition, sharedPort(definition), sharedDirectory(definition));
}

async function main(argv: string[]): Promise<number> {
  const [action = 'up', ...names] = argv;
  const toolNames = new Set(TOOLS.map((tool) => tool.name));
  const definitions = (names.length > 0 ? names.filter((name) => !toolNames.has(name)) : Object.keys(SERVERS)).map(serverNamed);
  if (action === 'up') {
    // Tools (a browser) come with a full `up`, or when named; they are installed, not started.
    const tools = TOOLS.filter((tool) => names.length === 0 || names.includes(tool.name));
    installMissing([...definitions, ...tools]);
    await Promise.all(
      definitions.map(async (definition) => {
        const instance = sharedInstance(definition);
        const running = await instance.answers();
        const started = Date.now();
        if (!running) await instance.start();
        console.log(`${definition.name.padEnd(10)} ${instance.address}  ${running ? 'already running' : `started in ${Date.now() - started} ms`}  (${definition.addressEnv})`);
      }),
    );
  } else if (action === 'down') {
    for (const definition of definitions) await sharedInstance(definition).stop();
  } else if (action === 'status') {
    let allUp = true;
    for (const definition of definitions) {
      const instance = sharedInstance(definition);
      const up = await instance.answers();
      allUp &&= up;
      console.log(`${definition.name.padEnd(10)} ${instance.address}  ${up ? 'answers' : 'not running'}`);
    }
    return allUp ? 0 : 1;
  } else {
    console.error(`usage: npm run servers -- up|down|status [${Object.keys(SERVERS).join('|')}…]`);
    return 2;
  }
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: Error) => {
      console.error(`servers: ${error.message}`);
      process.exit(1);
    },
  );
}
