import type { Command } from 'commander';
import { BROKER_SERVICE_PREFIX } from '../../broker/DirectBroker.js';
import type { Value } from '../../registry/Registry.js';
import { Tokens } from '../../tokens.js';
import { cliContext, CliError, withApp } from '../context.js';

/** `{ name: string, age?: number, address: Address { city: string } }`: a Value tree on one line. */
export function describeValue(value: Value | null): string {
  if (!value) return '-';
  if (!value.values || value.values.length === 0) return value.type;
  const fields = value.values.map((field) => `${field.name}: ${field.values?.length ? describeValue(field) : field.type}`);
  return `${value.type} { ${fields.join(', ')} }`;
}

const metadataText = (metadata: Record<string, string>): string =>
  Object.entries(metadata)
    .map(([key, value]) => `${key}=${value}`)
    .join(',') || '-';

export function listCommand(program: Command): void {
  program
    .command('list')
    .description('list what the registry holds')
    .argument('<what>', '"services"')
    .option('--all', 'include the broker\'s own entries (tsmicro.broker.<topic>)')
    .action(async (what: string, options: { all?: boolean }, command: Command) => {
      if (what !== 'services') throw new CliError(`list: unknown "${what}"; try: tsmicro list services`, 2);
      const context = cliContext(command);
      const services = await withApp(context, (app) => app.get(Tokens.Registry).listServices());
      const byName = new Map<string, string[]>();
      for (const service of services) {
        if (!options.all && service.name.startsWith(BROKER_SERVICE_PREFIX)) continue;
        byName.set(service.name, [...(byName.get(service.name) ?? []), service.version]);
      }
      const names = [...byName.keys()].sort();
      context.out.table(
        ['SERVICE', 'VERSIONS'],
        names.map((name) => [name, byName.get(name)!.sort().join(', ')]),
        names.map((name) => ({ name, versions: byName.get(name)!.sort() })),
      );
    });
}

export function getCommand(program: Command): void {
  program
    .command('get')
    .description('show a service: versions, nodes, endpoints with their request and response')
    .argument('<what>', '"service"')
    .argument('<name>', 'service name')
    .action(async (what: string, name: string, _options: unknown, command: Command) => {
      if (what !== 'service') throw new CliError(`get: unknown "${what}"; try: tsmicro get service <name>`, 2);
      const context = cliContext(command);
      const services = await withApp(context, (app) => app.get(Tokens.Registry).getService(name));
      if (services.length === 0) throw new CliError(`service "${name}" not found`);
      if (context.out.format === 'json') return context.out.value(services);
      for (const service of services) {
        context.out.line(`service  ${service.name}\nversion  ${service.version}\nmetadata ${metadataText(service.metadata)}\n`);
        context.out.table(['NODE', 'ADDRESS', 'METADATA'], service.nodes.map((node) => [node.id, node.address, metadataText(node.metadata)]));
        context.out.line('');
        context.out.table(
          ['ENDPOINT', 'REQUEST', 'RESPONSE', 'METADATA'],
          service.endpoints.map((endpoint) => [endpoint.name, describeValue(endpoint.request), describeValue(endpoint.response), metadataText(endpoint.metadata)]),
        );
        context.out.line('');
      }
    });
}
