import { inject, Handler, Service, Subscriber, Tokens, type CallContext, type Client } from '../../src/index.js';
import { GreetedEvent, HelloReply, HelloRequest } from './dto.js';

/** The example service: one validated endpoint, and a subscriber that the instances share through a queue. */
@Service({ name: 'greeter', version: '1.0.0', metadata: { example: 'true' } })
export class Greeter {
  /** Who was greeted, in order; the example prints it and the tests read it. */
  readonly greeted: string[] = [];
  onGreeted: (event: GreetedEvent, caller: string | undefined) => void = () => undefined;

  constructor(@inject(Tokens.Client) private readonly client: Client) {}

  @Handler({ response: HelloReply, idempotent: true })
  async sayHello(request: HelloRequest, context: CallContext): Promise<HelloReply> {
    const caller = context.metadata['x-caller'] ?? 'someone';
    // Published from inside the handler, so the caller's metadata travels on with the event.
    await this.client.publish('greeter.greeted', { name: request.name, at: Date.now() });
    return { greeting: `Hello, ${request.name}! (asked by ${caller})` };
  }

  @Subscriber('greeter.greeted', { queue: 'greeter' })
  async greetedEvent(event: GreetedEvent, context: CallContext): Promise<void> {
    this.greeted.push(event.name);
    this.onGreeted(event, context.metadata['x-caller']);
  }
}
