import type { Command } from 'commander';
import { createGateway } from '../../gateway/createGateway.js';
import { gatewayMounts } from '../../gateway/mounts.js';
import { cliContext } from '../context.js';

export function apiCommand(program: Command): void {
  program
    .command('api')
    .description('run the API gateway (and the dashboard at gateway.dashboardPath) until SIGINT or SIGTERM')
    .option('--address <host:port>', 'where the gateway listens (gateway.address, MICRO_API_ADDRESS)')
    .addHelpText('after', '\nExamples:\n  tsmicro api --address 127.0.0.1:8080\n  MICRO_API_PLUGINS=ipwhitelist,router tsmicro api')
    .action(async (options: { address?: string }, command: Command) => {
      const context = cliContext(command);
      const app = await context.createApp([], options.address ? { gateway: { address: options.address } } : {});
      // Built before anything starts: a bad dashboard path is a config error with nothing left running.
      const gateway = createGateway(app, gatewayMounts(app));
      await app.start();
      try {
        await gateway.start();
      } catch (error) {
        await app.stop();
        throw error;
      }
      process.stderr.write(`gateway listening at http://${gateway.address}\n`);
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          process.removeListener('SIGINT', stop);
          process.removeListener('SIGTERM', stop);
          void gateway.stop().then(() => app.stop()).then(resolve);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
    });
}
