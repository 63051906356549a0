import { Handler, Service, Subscriber } from '../../src/index.js';
import type { Payload } from '../harness/protocol.js';
import type { HelloRequest } from './tsmicroDto.js';

/** Counts events for the harness: one counter per process. */
export const received = { events: 0 };

/**
 * The benchmark service, made per trial because the topic carries the trial's namespace (the NATS and Redis
 * servers are shared). With `dto`, the handler's request is that class, which tsmicro validates before it runs.
 */
export function benchServiceClass(topic: string, dto: typeof HelloRequest | undefined): new () => object {
  @Service({ name: 'bench', version: '1.0.0' })
  class BenchService {
    @Handler()
    hello(request: Payload): { greeting: string; n: number } {
      return { greeting: `Hello, ${request.name}`, n: request.n };
    }

    @Subscriber(topic)
    event(_event: Payload): void {
      received.events++;
    }
  }

  @Service({ name: 'bench', version: '1.0.0' })
  class ValidatedBenchService {
    // The DTO class is given explicitly: it is loaded only by the validating variant (see tsmicro.ts).
    @Handler({ name: 'BenchService.hello', request: dto })
    hello(request: HelloRequest): { greeting: string; n: number } {
      return { greeting: `Hello, ${request.name}`, n: request.n };
    }

    @Subscriber(topic)
    event(_event: Payload): void {
      received.events++;
    }
  }

  return dto ? ValidatedBenchService : BenchService;
}
