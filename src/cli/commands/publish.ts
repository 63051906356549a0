import type { Command } from 'commander';
import { collect, parseJson, parseMetadata } from '../arguments.js';
import { cliContext, withApp } from '../context.js';

export function publishCommand(program: Command): void {
  program
    .command('publish')
    .description('publish an event to a topic')
    .argument('<topic>', 'topic, e.g. greeter.greeted')
    .argument('<event>', 'the event as JSON')
    .option('-m, --metadata <key=value>', 'metadata sent with the event (repeatable)', collect, [])
    .addHelpText('after', `\nExample:\n  tsmicro publish greeter.greeted '{"name":"Ada","at":1}'`)
    .action(async (topic: string, event: string, options: { metadata: string[] }, command: Command) => {
      const context = cliContext(command);
      const payload = parseJson(event, 'the event');
      const metadata = parseMetadata(options.metadata);
      await withApp(context, (app) => app.client.publish(topic, payload, { metadata }));
      context.out.line(`published to ${topic}`, { published: topic });
    });
}
