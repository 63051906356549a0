import type { Command } from 'commander';
import { collect, parseJson, parseMetadata, parseTimeout } from '../arguments.js';
import { cliContext, withApp } from '../context.js';

export function callCommand(program: Command): void {
  program
    .command('call')
    .description('call an endpoint and print its reply')
    .argument('<service>', 'service name, e.g. greeter')
    .argument('<endpoint>', 'endpoint name, e.g. Greeter.sayHello')
    .argument('[request]', 'the request as JSON', '{}')
    .option('-m, --metadata <key=value>', 'metadata sent with the call (repeatable)', collect, [])
    .option('-t, --timeout <duration>', 'how long to wait for the reply, e.g. 2s')
    .option('-a, --address <host:port>', 'call this node instead of letting the selector choose')
    .addHelpText('after', `\nExample:\n  tsmicro call greeter Greeter.sayHello '{"name":"Ada"}' --metadata x-request-id=1`)
    .action(async (service: string, endpoint: string, request: string, options: { metadata: string[]; timeout?: string; address?: string }, command: Command) => {
      const context = cliContext(command);
      const body = parseJson(request, 'the request');
      const metadata = parseMetadata(options.metadata);
      const timeoutMs = parseTimeout(options.timeout);
      const reply = await withApp(context, (app) => app.client.call(service, endpoint, body, { metadata, timeoutMs, address: options.address }));
      context.out.value(reply ?? null);
    });
}
