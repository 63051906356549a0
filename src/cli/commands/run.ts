import 'reflect-metadata/lite';
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ServiceClass } from '../../app/App.js';
import { SERVICE_KEY } from '../../decorators/metadata.js';
import { cliContext, CliError } from '../context.js';

/** Every exported class of the files that carries @Service. */
async function servicesIn(files: readonly string[]): Promise<ServiceClass[]> {
  const found: ServiceClass[] = [];
  for (const file of files) {
    let exports: Record<string, unknown>;
    try {
      exports = (await import(pathToFileURL(resolve(file)).href)) as Record<string, unknown>;
    } catch (error) {
      throw new CliError(`cannot load ${file}: ${(error as Error).message}`);
    }
    for (const value of Object.values(exports)) {
      if (typeof value === 'function' && Reflect.hasMetadata(SERVICE_KEY, value) && !found.includes(value as ServiceClass)) found.push(value as ServiceClass);
    }
  }
  if (found.length === 0) throw new CliError(`no exported @Service class in ${files.join(', ')}`);
  return found;
}

export function runCommand(program: Command): void {
  program
    .command('run')
    .description('run the @Service classes exported by compiled JavaScript files, until SIGINT or SIGTERM')
    .argument('<files...>', 'JavaScript modules that export decorated service classes')
    .addHelpText('after', '\nExample:\n  tsmicro run dist/services/greeter.js --registry memory')
    .action(async (files: string[], _options: unknown, command: Command) => {
      const context = cliContext(command);
      const app = await context.createApp(await servicesIn(files));
      await app.start();
      for (const server of app.servers) process.stderr.write(`serving ${server.options.name} ${server.options.version} at ${server.address}\n`);
      await app.stopOnSignal();
    });
}
