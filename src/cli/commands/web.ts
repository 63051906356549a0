import type { Command } from 'commander';
import { createWebGateway } from '../../gateway/dashboard/createWebGateway.js';
import { cliContext } from '../context.js';

const HELP = `
The dashboard lists the registry's services, updating live as they start and
stop. A service shows its versions, nodes and endpoints, with their request and
response described field by field; an endpoint can be called with JSON.

Served: the dashboard at /, gateway.rpcPath (the page calls endpoints through
it) and gateway.healthPath. For the whole API gateway, with the dashboard at
gateway.dashboardPath, run "tsmicro api" instead.

Examples:
  tsmicro web --address 127.0.0.1:8082
  tsmicro web --registry consul --registry_address 127.0.0.1:8500`;

export function webCommand(program: Command): void {
  program
    .command('web')
    .description('run the web dashboard at / (services, endpoints, live changes, calls) until SIGINT or SIGTERM')
    .option('--address <host:port>', 'where the dashboard listens (gateway.address, MICRO_API_ADDRESS)')
    .addHelpText('after', HELP)
    .action(async (options: { address?: string }, command: Command) => {
      const context = cliContext(command);
      const app = await context.createApp([], options.address ? { gateway: { address: options.address } } : {});
      await app.start();
      const { gateway } = createWebGateway(app);
      try {
        await gateway.start();
      } catch (error) {
        await app.stop();
        throw error;
      }
      process.stderr.write(`dashboard listening at http://${gateway.address}/\n`);
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          process.removeListener('SIGINT', stop);
          process.removeListener('SIGTERM', stop);
          // Open tabs' event streams are ended by gateway.stop(), so it does not wait for them to close.
          void gateway.stop().then(() => app.stop()).then(resolve);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
    });
}
