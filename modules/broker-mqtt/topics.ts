import { createHash } from 'node:crypto';

/**
 * How tsmicro topic names become MQTT topics. A tsmicro topic is always ONE exact MQTT topic name, never a
 * filter, so subscribing to `orders.#` cannot turn into a wildcard subscription by accident:
 *
 * - `/` keeps its MQTT meaning (a level separator): `sensors/room1` ↔ `tsmicro/sensors/room1`, so devices and
 *   other MQTT clients can publish to hierarchical topics tsmicro subscribes to;
 * - `+` and `#` (wildcards in a filter, illegal in a published name) are escaped as `%2B` and `%23`;
 * - `%` itself is escaped as `%25`, so the mapping stays one-to-one (`a+b` and `a%2Bb` never collide);
 * - NUL (illegal in MQTT) is escaped as `%00`; a leading `$` (reserved for the broker, e.g. `$SYS`) as `%24`
 *   when no prefix protects it.
 */
const ESCAPED_IN_TOPIC = /[%+#\u0000]/g;
/** A share name is one level of `$share/<name>/<filter>`: `/` must be escaped there too. */
const ESCAPED_IN_SHARE_NAME = /[%+#/\u0000]/g;
/** MQTT strings are at most 65535 bytes of UTF-8. */
const MAX_TOPIC_BYTES = 65_535;

function percent(character: string): string {
  return `%${character.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`;
}

/** Refuses a prefix that would make every topic a wildcard or a broker-reserved name. */
export function checkTopicPrefix(prefix: string): void {
  if (/[+#\u0000]/.test(prefix)) throw new TypeError(`mqtt broker: topicPrefix "${prefix}" must not contain "+", "#" or NUL`);
  if (prefix.startsWith('$')) throw new TypeError(`mqtt broker: topicPrefix "${prefix}" must not start with "$" (reserved for the broker)`);
}

/** The MQTT topic name of tsmicro topic `topic`. */
export function mqttTopic(prefix: string, topic: string): string {
  if (typeof topic !== 'string' || topic === '') throw new TypeError('mqtt broker: a topic must be a non-empty string');
  let escaped = topic.replace(ESCAPED_IN_TOPIC, percent);
  if (prefix === '' && escaped.startsWith('$')) escaped = `%24${escaped.slice(1)}`;
  const name = prefix + escaped;
  if (Buffer.byteLength(name) > MAX_TOPIC_BYTES) throw new TypeError(`mqtt broker: topic "${topic.slice(0, 40)}…" is longer than MQTT allows`);
  return name;
}

/**
 * The filter a subscription subscribes to: the topic itself, or `$share/<queue>/<topic>` for a queue group, which
 * makes the broker give each event to one member of the group.
 */
export function subscriptionFilter(prefix: string, topic: string, queue: string | undefined): string {
  const name = mqttTopic(prefix, topic);
  if (!queue) return name;
  return `$share/${queue.replace(ESCAPED_IN_SHARE_NAME, percent)}/${name}`;
}

/**
 * The client id of a subscription's persistent session: stable across restarts of the process (so the session
 * and the events queued in it are found again), distinct per subscription filter, and per repeated subscription
 * to one filter (`occurrence`), so two subscriptions of one process never take each other's session over.
 */
export function sessionClientId(base: string, filter: string, occurrence: number): string {
  const digest = createHash('sha256').update(filter).digest('hex').slice(0, 12);
  return occurrence === 0 ? `${base}-${digest}` : `${base}-${digest}-${occurrence}`;
}
