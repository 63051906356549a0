import type { Message } from '../../src/index.js';
import type { KafkaRecord } from './kafkaLibrary.js';

/**
 * How an event is a Kafka record: the body is the value, each tsmicro header is a record header (UTF-8 name and
 * value), and `PublishOptions.key` is the record key. Nothing is wrapped, so other Kafka tools read the events
 * as they are, and events other tools produce are read the same way.
 */
export interface RecordToProduce {
  topic: string;
  key?: Buffer;
  value: Buffer;
  headers: Map<Buffer, Buffer>;
}

/** A record that is not a tsmicro event: dead-lettered with this message as the reason, never handled. */
export class UnreadableRecordError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnreadableRecordError';
  }
}

export function encodeRecord(topic: string, message: Message, key: string | undefined): RecordToProduce {
  const headers = new Map<Buffer, Buffer>();
  for (const [name, value] of Object.entries(message.headers ?? {})) headers.set(Buffer.from(name), Buffer.from(String(value)));
  const body = message.body ?? new Uint8Array(0);
  return { topic, value: Buffer.from(body.buffer, body.byteOffset, body.byteLength), headers, ...(key === undefined ? {} : { key: Buffer.from(key) }) };
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function text(bytes: Buffer, what: string): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    throw new UnreadableRecordError(`${what} is not valid UTF-8`);
  }
}

/**
 * The event a consumed record carries. A record without a value (a tombstone), or with a header that has no
 * value or whose name or value is not UTF-8, cannot be a tsmicro event: UnreadableRecordError. A header repeated
 * in one record keeps its last value, as Kafka's own `lastHeader` does.
 */
export function decodeRecord(record: KafkaRecord): Message {
  if (record.value === undefined || record.value === null) throw new UnreadableRecordError('the record has no value (a tombstone)');
  const headers: Record<string, string> = {};
  for (const [rawName, rawValue] of record.headerEntries) {
    if (!rawName || rawName.length === 0) throw new UnreadableRecordError('a header has an empty name');
    const name = text(rawName, 'a header name');
    if (rawValue === undefined || rawValue === null) throw new UnreadableRecordError(`header "${name}" has no value`);
    // defineProperty, not assignment: a header named __proto__ must stay a header, not replace the prototype.
    Object.defineProperty(headers, name, { value: text(rawValue, `the value of header "${name}"`), enumerable: true, writable: true, configurable: true });
  }
  return { headers, body: record.value };
}
