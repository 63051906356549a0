import type { Channel } from 'amqplib';

/** What the exchanges and queues look like; the same for every broker instance of an application. */
export interface Topology {
  /** The topic exchange events are published to. */
  exchange: string;
  /** Where rejected events go ('' for nowhere: they are dropped). */
  deadLetterExchange: string;
  /** A queue bound to the dead-letter exchange for every topic, so dead letters are kept ('' for none). */
  deadLetterQueue: string;
  /** Queue groups unused this long are deleted by RabbitMQ (0: never). */
  queueExpiryMs: number;
}

/**
 * `<exchange>.retry`: a direct exchange every subscription queue is bound to by its own name. A copy of a failed
 * event is published there with the topic as routing key and the queue as BCC, so it reaches only its own queue,
 * and if it is dead-lettered later it still goes to the dead-letter exchange under its topic (BCC keys are not kept).
 */
export function retryExchange(topology: Topology): string {
  return `${topology.exchange}.retry`;
}

/** `<exchange>.<topic>.<queue>`: the durable queue shared by one queue group of one topic. */
export function groupQueueName(topology: Topology, topic: string, queue: string): string {
  return `${topology.exchange}.${topic}.${queue}`;
}

/** The AMQP names this broker creates must fit AMQP's short strings. */
export function checkName(what: string, name: string): void {
  if (name === '') throw new TypeError(`rabbitmq broker: the ${what} must not be empty`);
  if (Buffer.byteLength(name) > 255) throw new TypeError(`rabbitmq broker: the ${what} "${name.slice(0, 40)}…" is over 255 bytes`);
}

/** Declares the exchanges (and the dead-letter queue); idempotent, so every channel runs it after (re)connecting. */
export async function declareExchanges(channel: Channel, topology: Topology): Promise<void> {
  await channel.assertExchange(topology.exchange, 'topic', { durable: true });
  await channel.assertExchange(retryExchange(topology), 'direct', { durable: true });
  if (!topology.deadLetterExchange) return;
  await channel.assertExchange(topology.deadLetterExchange, 'topic', { durable: true });
  if (!topology.deadLetterQueue) return;
  await channel.assertQueue(topology.deadLetterQueue, { durable: true });
  await channel.bindQueue(topology.deadLetterQueue, topology.deadLetterExchange, '#');
}

/**
 * Declares the queue of a subscription and returns its name. A queue group gets a durable queue that outlives its
 * members (events wait there while none runs); a broadcast subscription gets an exclusive queue of its own,
 * deleted with its connection.
 */
export async function declareQueue(channel: Channel, topology: Topology, topic: string, queue: string | undefined): Promise<string> {
  const args: Record<string, unknown> = {};
  if (topology.deadLetterExchange) args['x-dead-letter-exchange'] = topology.deadLetterExchange;
  if (!queue) {
    const declared = await channel.assertQueue('', { exclusive: true, autoDelete: true, durable: false, arguments: args });
    return declared.queue;
  }
  if (topology.queueExpiryMs > 0) args['x-expires'] = topology.queueExpiryMs;
  const declared = await channel.assertQueue(groupQueueName(topology, topic, queue), { durable: true, arguments: args });
  return declared.queue;
}

/** Binds a subscription's queue to its topic, and to the retry exchange by its own name. */
export async function bindQueue(channel: Channel, topology: Topology, queue: string, topic: string): Promise<void> {
  await channel.bindQueue(queue, topology.exchange, topic);
  await channel.bindQueue(queue, retryExchange(topology), queue);
}
