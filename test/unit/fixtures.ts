import { inject } from 'inversify';
import { IsInt, IsNotEmpty, IsString, Min } from 'class-validator';
import { Handler, MicroError, Service, Subscriber, Tokens, type CallContext, type Client, type EventContext } from '../../src/index.js';

export class Order {
  @IsString()
  @IsNotEmpty()
  item!: string;

  @IsInt()
  @Min(1)
  quantity!: number;
}

/** Invocation counts shared by every instance, so a test can see how often a handler really ran. */
export const calls = { total: 0, orders: [] as string[], events: [] as { payload: unknown; attempt: number; metadata: Record<string, string> }[] };

export function resetCalls(): void {
  calls.total = 0;
  calls.orders = [];
  calls.events = [];
}

@Service({ name: 'shop', version: '1.0.0' })
export class Shop {
  constructor(@inject(Tokens.Client) private readonly client: Client) {}

  @Handler()
  async place(order: Order, context: CallContext): Promise<{ accepted: string; quantity: number; metadata: Record<string, string> }> {
    calls.total++;
    calls.orders.push(order.item);
    return { accepted: order.item, quantity: order.quantity, metadata: { ...context.metadata } };
  }

  @Handler()
  async fail(): Promise<void> {
    calls.total++;
    throw new Error('stock database is down');
  }

  @Handler()
  async conflict(): Promise<void> {
    calls.total++;
    throw new MicroError('shop', 409, 'order already placed');
  }

  @Handler({ idempotent: true })
  async slow(request: { ms: number }, context: CallContext): Promise<{ remainingAtStart: number }> {
    calls.total++;
    const remainingAtStart = context.deadline - Date.now();
    await new Promise((resolve) => setTimeout(resolve, request.ms).unref());
    return { remainingAtStart };
  }

  @Handler()
  async unsafe(request: { ms: number }): Promise<string> {
    calls.total++;
    await new Promise((resolve) => setTimeout(resolve, request.ms ?? 0).unref());
    return 'done';
  }

  @Handler({ idempotent: true })
  async safe(request: { ms: number }): Promise<string> {
    calls.total++;
    await new Promise((resolve) => setTimeout(resolve, request.ms ?? 0).unref());
    return 'done';
  }

  @Handler()
  async big(request: { bytes: number }): Promise<string> {
    return 'x'.repeat(request.bytes);
  }

  /** Calls `pricing` on behalf of its caller: metadata and deadline flow on without being passed. */
  @Handler()
  async quote(request: { item: string }): Promise<unknown> {
    return this.client.call('pricing', 'Pricing.price', { item: request.item }, { metadata: { 'x-hop': 'shop' } });
  }

  @Subscriber('shop.restocked', { queue: 'shop' })
  async restocked(event: Order, context: EventContext): Promise<void> {
    calls.events.push({ payload: event, attempt: context.attempt, metadata: { ...context.metadata } });
    if (event.item === 'flaky' && context.attempt === 1) throw new Error('try again');
  }
}

@Service({ name: 'pricing' })
export class Pricing {
  @Handler()
  async price(request: { item: string }, context: CallContext): Promise<{ item: string; metadata: Record<string, string>; remaining: number }> {
    return { item: request.item, metadata: { ...context.metadata }, remaining: context.deadline - Date.now() };
  }
}
