import { afterEach, describe, expect, it } from '@jest/globals';
import type { Broker, BrokerEvent, Message, SubscribeOptions } from '../../src/index.js';
import { eventually, sleep, uniqueName } from '../helpers/eventually.js';

export interface BrokerContractOptions {
  /** A new broker on the shared backend: two calls stand for two processes. Not yet connected. */
  create(): Promise<Broker> | Broker;
  /** How long after subscribe() a publish is sure to reach the new subscription. */
  subscribeSettleMs?: number;
  /** Does a nacked event come back? (in-memory and direct brokers: yes; core NATS: no) */
  redelivers: boolean;
  /** How long to wait for events that should not arrive, before concluding they did not. */
  quietMs?: number;
  /**
   * The broker keeps a queue group's events while none of its members runs, and a group sees every event
   * published once subscribe() has resolved (RabbitMQ, Kafka, Redis Streams, JetStream). The in-memory and core
   * NATS brokers do not.
   */
  durableQueues?: boolean;
  skip?: Record<string, string>;
}

interface Recorder {
  events: BrokerEvent[];
  bodies: () => string[];
}

function recorder(onEvent?: (event: BrokerEvent) => void | Promise<void>): Recorder & { handler: (event: BrokerEvent) => Promise<void> } {
  const events: BrokerEvent[] = [];
  return {
    events,
    bodies: () => events.map((event) => Buffer.from(event.message.body).toString()),
    handler: async (event) => {
      events.push(event);
      await onEvent?.(event);
    },
  };
}

const message = (body: string, headers: Record<string, string> = {}): Message => ({ headers, body: Buffer.from(body) });

/** The broker contract: every broker, default or plugin, passes it unchanged. */
export function runBrokerContract(label: string, options: BrokerContractOptions): void {
  const settle = options.subscribeSettleMs ?? 0;
  const quiet = options.quietMs ?? 500;
  const test = (name: string, fn: () => Promise<void>, timeout?: number): void => {
    const reason = options.skip?.[name];
    if (reason) it.skip(`${name} (skipped: ${reason})`, fn);
    else it(name, fn, timeout ?? 20_000);
  };
  /** A test of a capability the broker declares; shown as skipped, with the reason, for brokers without it. */
  const testIf = (capability: boolean | undefined, missing: string, name: string, fn: () => Promise<void>, timeout?: number): void => {
    if (capability) test(name, fn, timeout);
    else it.skip(`${name} (skipped: ${missing})`, fn);
  };

  describe(`broker contract: ${label}`, () => {
    const opened: Broker[] = [];
    const open = async (): Promise<Broker> => {
      const broker = await options.create();
      await broker.connect();
      opened.push(broker);
      return broker;
    };
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((broker) => broker.disconnect()));
    });
    const subscribe = async (broker: Broker, topic: string, handler: (event: BrokerEvent) => Promise<void>, subscribeOptions?: SubscribeOptions) => {
      const subscription = await broker.subscribe(topic, handler, subscribeOptions);
      return subscription;
    };

    test('has a name', async () => {
      const broker = await open();
      expect(broker.name.length).toBeGreaterThan(0);
    });

    test('delivers headers and body intact to a subscriber in another instance', async () => {
      const [publisher, subscriber] = [await open(), await open()];
      const topic = uniqueName('topic');
      const got = recorder();
      const subscription = await subscribe(subscriber, topic, got.handler);
      expect(subscription.topic).toBe(topic);
      await sleep(settle);
      const body = Buffer.from([0, 1, 2, 254, 255]);
      await publisher.publish(topic, { headers: { 'content-type': 'application/octet-stream', 'x-trace': 'abc', 'x-unicode': 'é→世' }, body });
      await eventually(() => expect(got.events).toHaveLength(1));
      const event = got.events[0]!;
      expect(event.topic).toBe(topic);
      expect(event.attempt).toBe(1);
      expect(Buffer.from(event.message.body)).toEqual(body);
      expect(event.message.headers).toMatchObject({ 'content-type': 'application/octet-stream', 'x-trace': 'abc', 'x-unicode': 'é→世' });
    });

    test('publishing with no subscriber resolves', async () => {
      const publisher = await open();
      await expect(publisher.publish(uniqueName('empty'), message('nobody'))).resolves.toBeUndefined();
    });

    test('gives every event to every subscription without a queue (broadcast)', async () => {
      const [publisher, first, second] = [await open(), await open(), await open()];
      const topic = uniqueName('broadcast');
      const [a, b] = [recorder(), recorder()];
      await subscribe(first, topic, a.handler);
      await subscribe(second, topic, b.handler);
      await sleep(settle);
      for (let i = 0; i < 10; i++) await publisher.publish(topic, message(`e${i}`));
      await eventually(() => {
        expect(a.bodies().sort()).toEqual([...Array(10).keys()].map((i) => `e${i}`).sort());
        expect(b.bodies().sort()).toEqual([...Array(10).keys()].map((i) => `e${i}`).sort());
      });
    });

    test('gives each event to one member of a queue group', async () => {
      const [publisher, first, second] = [await open(), await open(), await open()];
      const topic = uniqueName('queue');
      const [a, b] = [recorder(), recorder()];
      await subscribe(first, topic, a.handler, { queue: 'workers' });
      await subscribe(second, topic, b.handler, { queue: 'workers' });
      await sleep(settle);
      const sent = [...Array(40).keys()].map((i) => `e${i}`);
      for (const body of sent) await publisher.publish(topic, message(body));
      await eventually(() => expect([...a.bodies(), ...b.bodies()].sort()).toEqual([...sent].sort()));
      await sleep(quiet);
      expect(a.events.length + b.events.length).toBe(sent.length);
      expect(a.events.length).toBeGreaterThan(0);
      expect(b.events.length).toBeGreaterThan(0);
    });

    test('each queue group and each broadcast subscription gets every event', async () => {
      const [publisher, one, two, three, four] = [await open(), await open(), await open(), await open(), await open()];
      const topic = uniqueName('mixed');
      const [mailerA, mailerB, audit, spy] = [recorder(), recorder(), recorder(), recorder()];
      await subscribe(one, topic, mailerA.handler, { queue: 'mailer' });
      await subscribe(two, topic, mailerB.handler, { queue: 'mailer' });
      await subscribe(three, topic, audit.handler, { queue: 'audit' });
      await subscribe(four, topic, spy.handler);
      await sleep(settle);
      for (let i = 0; i < 12; i++) await publisher.publish(topic, message(`e${i}`));
      await eventually(() => {
        expect(mailerA.events.length + mailerB.events.length).toBe(12);
        expect(audit.events).toHaveLength(12);
        expect(spy.events).toHaveLength(12);
      });
      await sleep(quiet);
      expect(mailerA.events.length + mailerB.events.length).toBe(12);
    });

    test('keeps topics apart', async () => {
      const [publisher, subscriber] = [await open(), await open()];
      const [left, right] = [uniqueName('left'), uniqueName('right')];
      const [l, r] = [recorder(), recorder()];
      await subscribe(subscriber, left, l.handler);
      await subscribe(subscriber, right, r.handler);
      await sleep(settle);
      await publisher.publish(left, message('to-left'));
      await eventually(() => expect(l.bodies()).toEqual(['to-left']));
      await sleep(quiet);
      expect(r.events).toHaveLength(0);
    });

    test('stops delivering after unsubscribe, while other subscriptions go on', async () => {
      const [publisher, subscriber] = [await open(), await open()];
      const topic = uniqueName('unsub');
      const [leaving, staying] = [recorder(), recorder()];
      const subscription = await subscribe(subscriber, topic, leaving.handler);
      await subscribe(subscriber, topic, staying.handler);
      await sleep(settle);
      await publisher.publish(topic, message('before'));
      await eventually(() => expect(leaving.events).toHaveLength(1));
      await subscription.unsubscribe();
      await sleep(settle);
      await publisher.publish(topic, message('after'));
      await eventually(() => expect(staying.bodies()).toEqual(['before', 'after']));
      await sleep(quiet);
      expect(leaving.bodies()).toEqual(['before']);
    });

    testIf(options.redelivers, 'the broker does not redeliver', 'redelivers an event whose handler fails (ack on success)', async () => {
      const [publisher, subscriber] = [await open(), await open()];
      const topic = uniqueName('retry');
      const got = recorder((event) => {
        if (event.attempt === 1) throw new Error('transient failure');
      });
      await subscribe(subscriber, topic, got.handler, { queue: 'retrying', ack: 'on-success' });
      await sleep(settle);
      await publisher.publish(topic, message('flaky'));
      await eventually(() => expect(got.events.length).toBeGreaterThanOrEqual(2), 15_000);
      expect(got.events[1]!.attempt).toBeGreaterThanOrEqual(2);
      expect(got.bodies()[1]).toBe('flaky');
    });

    test('does not redeliver when acked before the handler runs (ack on receipt)', async () => {
      const [publisher, subscriber] = [await open(), await open()];
      const topic = uniqueName('receipt');
      const got = recorder(() => {
        throw new Error('fails after ack');
      });
      await subscribe(subscriber, topic, got.handler, { queue: 'once', ack: 'on-receipt' });
      await sleep(settle);
      await publisher.publish(topic, message('once'));
      await eventually(() => expect(got.events).toHaveLength(1));
      await sleep(quiet * 2);
      expect(got.events).toHaveLength(1);
    });

    test('a manual nack without requeue drops the event; a manual ack keeps it from coming back', async () => {
      const [publisher, subscriber] = [await open(), await open()];
      const topic = uniqueName('manual');
      const got = recorder(async (event) => {
        const body = Buffer.from(event.message.body).toString();
        if (body === 'reject') await event.nack({ requeue: false });
        else await event.ack();
      });
      await subscribe(subscriber, topic, got.handler, { queue: 'manual', ack: 'manual' });
      await sleep(settle);
      await publisher.publish(topic, message('reject'));
      await publisher.publish(topic, message('accept'));
      await eventually(() => expect(got.bodies().sort()).toEqual(['accept', 'reject']));
      await sleep(quiet * 2);
      expect(got.events).toHaveLength(2);
    });

    testIf(options.redelivers, 'the broker does not redeliver', 'a manual nack with requeue brings the event back', async () => {
      const [publisher, subscriber] = [await open(), await open()];
      const topic = uniqueName('requeue');
      const got = recorder(async (event) => {
        if (event.attempt === 1) await event.nack({ requeue: true });
        else await event.ack();
      });
      await subscribe(subscriber, topic, got.handler, { queue: 'manual', ack: 'manual' });
      await sleep(settle);
      await publisher.publish(topic, message('again'));
      await eventually(() => expect(got.events.length).toBeGreaterThanOrEqual(2), 15_000);
    });

    testIf(options.durableQueues, 'queue groups are not durable on this broker', 'a queue group gets the events published while none of its members was subscribed', async () => {
      const publisher = await open();
      const topic = uniqueName('durable');
      const queue = uniqueName('keepers');
      const first = await open();
      const early = recorder();
      const subscription = await subscribe(first, topic, early.handler, { queue });
      await sleep(settle);
      await publisher.publish(topic, message('while-up'));
      await eventually(() => expect(early.bodies()).toEqual(['while-up']));
      await subscription.unsubscribe();
      for (let i = 0; i < 5; i++) await publisher.publish(topic, message(`while-down-${i}`));
      const later = recorder();
      await subscribe(await open(), topic, later.handler, { queue });
      await eventually(() => expect(later.bodies().sort()).toEqual([...Array(5).keys()].map((i) => `while-down-${i}`)), 30_000);
    }, 60_000);

    testIf(options.durableQueues, 'queue groups are not durable on this broker', 'a new queue group gets every event published once subscribe() has resolved', async () => {
      const [publisher, subscriber] = [await open(), await open()];
      const topic = uniqueName('fresh');
      const got = recorder();
      await subscribe(subscriber, topic, got.handler, { queue: uniqueName('fresh-group') });
      for (let i = 0; i < 5; i++) await publisher.publish(topic, message(`e${i}`));
      await eventually(() => expect(got.bodies().sort()).toEqual([...Array(5).keys()].map((i) => `e${i}`)), 30_000);
    }, 60_000);

    test('disconnect ends the subscriptions of that instance', async () => {
      const [publisher, subscriber] = [await open(), await open()];
      const topic = uniqueName('disconnect');
      const got = recorder();
      await subscribe(subscriber, topic, got.handler);
      await sleep(settle);
      await publisher.publish(topic, message('before'));
      await eventually(() => expect(got.events).toHaveLength(1));
      await subscriber.disconnect();
      await sleep(settle);
      await publisher.publish(topic, message('after')).catch(() => undefined);
      await sleep(quiet);
      expect(got.bodies()).toEqual(['before']);
    });
  });
}
