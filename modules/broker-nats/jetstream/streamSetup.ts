import type { JetStreamManager, StreamInfo } from '@nats-io/jetstream';
import type { Logger } from '../../../src/index.js';

export interface StreamSpec {
  name: string;
  /** `<prefix>.>`: every topic of this broker. */
  subject: string;
  /** How long the stream keeps an event; 0 for as long as the server's limits allow. */
  maxAgeMs: number;
}

const NANOS_PER_MS = 1_000_000;
/** JetStream drops a second publish with the same `micro-event-id` within this window. */
const DUPLICATE_WINDOW_MS = 120_000;

const isNotFound = (error: unknown): boolean => /not found/i.test((error as Error)?.message ?? '');

/**
 * Creates the stream, or updates it to capture our subjects and keep events as long as configured: the options
 * are the source of truth, so changing `maxAge` and restarting applies it. A subject space another stream owns
 * is an error that says so.
 */
export async function ensureStream(jsm: JetStreamManager, spec: StreamSpec, logger: Logger): Promise<StreamInfo> {
  const maxAge = spec.maxAgeMs * NANOS_PER_MS;
  let info: StreamInfo | undefined;
  try {
    info = await jsm.streams.info(spec.name);
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  const config = info?.config;
  try {
    if (!info || !config) {
      const created = await jsm.streams.add({
        name: spec.name,
        subjects: [spec.subject],
        retention: 'limits',
        storage: 'file',
        max_age: maxAge,
        duplicate_window: spec.maxAgeMs > 0 ? Math.min(DUPLICATE_WINDOW_MS, spec.maxAgeMs) * NANOS_PER_MS : DUPLICATE_WINDOW_MS * NANOS_PER_MS,
      });
      logger.info('broker: created JetStream stream', { stream: spec.name, subject: spec.subject });
      return created;
    }
    const subjects = config.subjects ?? [];
    if (subjects.includes(spec.subject) && config.max_age === maxAge) return info;
    const updated = await jsm.streams.update(spec.name, { ...config, subjects: subjects.includes(spec.subject) ? subjects : [...subjects, spec.subject], max_age: maxAge });
    logger.info('broker: updated JetStream stream', { stream: spec.name, subject: spec.subject, maxAgeMs: spec.maxAgeMs });
    return updated;
  } catch (error) {
    const message = (error as Error).message;
    // Another process created it between our info and add: what it created is what we wanted.
    if (!info && /already in use/i.test(message)) return ensureStream(jsm, spec, logger);
    if (/overlap/i.test(message)) throw new Error(`nats broker: the subjects ${spec.subject} of stream ${spec.name} overlap another stream's; choose another subjectPrefix or stream name`, { cause: error });
    throw new Error(`nats broker: cannot set up JetStream stream ${spec.name}: ${message}`, { cause: error });
  }
}
