import { inject } from 'inversify';
import { Handler, Service, Subscriber, Tokens, type CallContext, type Client, type Logger } from '../../src/index.js';
import { GreetedEvent, HelloReply, HelloRequest } from './dto.js';

/** The example service: one validated endpoint, and a subscriber that the instances share through a queue. */
@Service({ name: 'greeter', version: '1.0.0', metadata: { example: 'true' } })
export class Greeter {
  readonly greeted: string[] = [];

  constructor(
    @inject(Tokens.Client) private readonly client: Client,
    @inject(Tokens.Logger) private readonly logger: Logger,
  ) {}

  @Handler({ response: HelloReply, idempotent: true })
  async sayHello(request: HelloRequest, context: CallContext): Promise<HelloReply> {
    const from = context.metadata['x-caller'] ?? 'someone';
    // Publishing from inside a handler carries the caller's metadata on to the event.
    await this.client.publish('greeter.greeted', { name: request.name, at: Date.now() });
    return { greeting: `Hello, ${request.name}! (asked by ${from})` };
  }

  @Subscriber('greeter.greeted', { queue: 'greeter' })
  async onGreeted(event: GreetedEvent, context: CallContext): Promise<void> {
    this.greeted.push(event.name);
    this.logger.info('greeted', { name: event.name, caller: context.metadata['x-caller'] });
  }
}
