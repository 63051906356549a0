import { inject, Handler, MicroError, Service, Subscriber, Tokens, type CallContext, type Client, type EventContext } from '../../src/index.js';

/** What the subscriber saw, for the event tests. */
export const received: { topic: string; header: string | undefined; attempt: number }[] = [];

/** Service A of the trace tests: calls B, passes B's failures on, publishes events. */
@Service({ name: 'front' })
export class Front {
  constructor(@inject(Tokens.Client) private readonly client: Client) {}

  @Handler()
  async relay(request: { item: string }): Promise<unknown> {
    return this.client.call('back', 'Back.work', { item: request.item });
  }

  @Handler()
  async relayFailure(request: { code: number }): Promise<unknown> {
    return this.client.call('back', 'Back.fail', request);
  }

  @Handler()
  async announce(request: { item: string }): Promise<{ announced: string }> {
    await this.client.publish('front.announced', { item: request.item });
    return { announced: request.item };
  }

  @Handler()
  async refuse(): Promise<void> {
    throw new MicroError('front', 403, 'not for you');
  }
}

/** Service B: answers with the trace header its handler sees, fails on request, subscribes to A's events. */
@Service({ name: 'back' })
export class Back {
  @Handler()
  async work(request: { item: string }, context: CallContext): Promise<{ item: string; header: string | undefined }> {
    return { item: request.item, header: context.metadata['x-amzn-trace-id'] };
  }

  @Handler()
  async fail(request: { code: number }): Promise<void> {
    if (request.code === 500) throw new Error('disk on fire');
    throw new MicroError('back', request.code, `refused with ${request.code}`);
  }

  @Subscriber('front.announced')
  async announced(_event: { item: string }, context: EventContext): Promise<void> {
    received.push({ topic: context.endpoint, header: context.metadata['x-amzn-trace-id'], attempt: context.attempt });
    // The context the wrapper hands on must still settle the event and know its attempt.
    if (typeof context.ack !== 'function') throw new Error('event context lost its methods');
  }
}
