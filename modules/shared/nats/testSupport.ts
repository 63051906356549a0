import { silentLogger } from '../../../src/logger/PinoLogger.js';
import type { Logger } from '../../../src/index.js';
import { NatsConnector, type NatsModule } from './natsConnection.js';

/**
 * For the NATS plugins' tests: a connector of its own per component (unshared unless asked), as two processes
 * would have. Tests import the client package themselves and pass it in, as the plugin loader does.
 */
export function testConnector(nats: NatsModule, address: string, options: { share?: boolean; logger?: Logger } = {}): NatsConnector {
  return new NatsConnector(nats, { servers: [address], connectTimeoutMs: 3000, share: options.share ?? false, name: 'tsmicro test' }, options.logger ?? silentLogger);
}

/** A test whose expectation failed: the thrown error, or a failure when the promise resolved. */
export function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error as Error,
  );
}
