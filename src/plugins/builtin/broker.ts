import { ContainerModule } from '#inversify';
import { DIRECT_BROKER_DEFAULTS, directBroker, type DirectBrokerPluginOptions } from '../../app/factories.js';
import { sharedMemoryWorld } from '../../app/memoryModule.js';
import { MemoryBroker } from '../../broker/MemoryBroker.js';
import { Tokens } from '../../tokens.js';
import { CORE_VERSION } from '../../version.js';
import { definePlugin } from '../PluginDefinition.js';

const redelivery = {
  maxAttempts: { doc: 'Deliveries of a nacked event before it is dropped', format: 'positive-int', default: DIRECT_BROKER_DEFAULTS.maxAttempts, env: 'MICRO_BROKER_MAX_ATTEMPTS' },
  redeliveryDelay: { doc: 'Wait before a nacked event is delivered again, times the attempt number', format: 'duration', default: DIRECT_BROKER_DEFAULTS.redeliveryDelay, env: 'MICRO_BROKER_REDELIVERY_DELAY' },
};

export const directBrokerPlugin = definePlugin<DirectBrokerPluginOptions>({
  name: 'direct',
  kind: 'broker',
  description: 'Subscribers advertised in the registry, events sent over the transport (the default); broker.address is where a subscribing process listens',
  provides: ['Broker'],
  requires: ['RegistryCache', 'Transport'],
  core: CORE_VERSION,
  options: {
    deliveryTimeout: { doc: 'How long a publish waits for a subscriber process to accept an event', format: 'duration', default: DIRECT_BROKER_DEFAULTS.deliveryTimeout, env: 'MICRO_BROKER_DELIVERY_TIMEOUT' },
    ...redelivery,
  },
  create: ({ options, config }) =>
    new ContainerModule(({ rebind }) => {
      rebind(Tokens.Broker)
        .toDynamicValue((context) => directBroker(context, config, options))
        .inSingletonScope();
    }),
});

export const memoryBrokerPlugin = definePlugin<{ maxAttempts: number; redeliveryDelay: number }>({
  name: 'memory',
  kind: 'broker',
  description: 'In process memory, shared by the apps of one process',
  provides: ['Broker'],
  core: CORE_VERSION,
  options: redelivery,
  create: ({ options }) =>
    new ContainerModule(({ rebind }) => {
      rebind(Tokens.Broker)
        .toDynamicValue(
          (context) =>
            new MemoryBroker(sharedMemoryWorld.broker, { maxAttempts: options.maxAttempts, redeliveryDelayMs: options.redeliveryDelay, logger: context.get(Tokens.Logger).child({ component: 'broker' }) }),
        )
        .inSingletonScope();
    }),
});
