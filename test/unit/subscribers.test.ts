import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { Service, Subscriber, type App, type EventContext } from '../../src/index.js';
import { TestApps } from '../helpers/apps.js';
import { captureLogger } from '../helpers/captureLogger.js';
import { eventually, sleep } from '../helpers/eventually.js';
import { calls, Order, resetCalls, Shop } from './fixtures.js';

describe('subscribers', () => {
  const apps = new TestApps();
  const logger = captureLogger();
  let client: App;
  beforeEach(async () => {
    resetCalls();
    logger.lines.length = 0;
    await apps.started({ services: [Shop], logger });
    client = await apps.started();
  });
  afterEach(() => apps.stopAll());

  it('get a validated instance of their payload class', async () => {
    await client.client.publish('shop.restocked', { item: 'tea', quantity: 3 });
    await eventually(() => expect(calls.events).toHaveLength(1));
    expect(calls.events[0]!.payload).toBeInstanceOf(Order);
  });

  it('reject an invalid event: logged, not handled, not redelivered', async () => {
    await client.client.publish('shop.restocked', { item: '', quantity: 0 });
    await eventually(() => expect(logger.lines.some((line) => line.message === 'event rejected')).toBe(true));
    const line = logger.lines.find((candidate) => candidate.message === 'event rejected')!;
    expect(line.level).toBe('error');
    expect(line.fields.topic).toBe('shop.restocked');
    expect(String(line.fields.error)).toMatch(/item: item should not be empty.*quantity: quantity must not be less than 1/);
    await sleep(200);
    expect(calls.events).toHaveLength(0);
    expect(logger.lines.filter((candidate) => candidate.message === 'event rejected')).toHaveLength(1);
  });

  it('get a failed event again (ack after success)', async () => {
    await client.client.publish('shop.restocked', { item: 'flaky', quantity: 1 });
    await eventually(() => expect(calls.events.map((event) => event.attempt)).toEqual([1, 2]));
  });

  it('can ack by hand through the event context', async () => {
    const seen: number[] = [];
    @Service({ name: 'manual' })
    class Manual {
      @Subscriber('manual.topic', { ack: 'manual', queue: 'manual' })
      async handle(_payload: unknown, context: EventContext): Promise<void> {
        seen.push(context.attempt);
        if (context.attempt === 1) await context.nack();
        else await context.ack();
      }
    }
    await apps.started({ services: [Manual] });
    await client.client.publish('manual.topic', { any: 'thing' });
    await eventually(() => expect(seen).toEqual([1, 2]));
    await sleep(150);
    expect(seen).toEqual([1, 2]);
  });
});
