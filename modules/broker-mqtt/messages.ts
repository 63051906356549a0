import type { IClientPublishOptions, IPublishPacket } from 'mqtt';
import type { Message } from '../../src/index.js';

const CONTENT_TYPE = 'content-type';

/**
 * A tsmicro message as an MQTT v5 publish: every header becomes a user property and the body is the payload,
 * untouched. The content type is also set as MQTT's own Content Type property, for consumers that are not
 * tsmicro. QoS 1, so the broker acknowledges (PUBACK) each event it has taken responsibility for.
 */
export function publishOptions(message: Message): IClientPublishOptions {
  const properties: NonNullable<IClientPublishOptions['properties']> = {};
  // Only when there are headers: mqtt-packet encodes an empty user property list into a PUBLISH that mosquitto
  // never acknowledges (seen with mqtt 5.16.0).
  if (Object.keys(message.headers).length > 0) properties.userProperties = { ...message.headers };
  const contentType = message.headers[CONTENT_TYPE];
  if (contentType) properties.contentType = contentType;
  return { qos: 1, properties };
}

/**
 * The headers of a received publish. Anything can publish to a subscribed topic, so this reads defensively:
 * keys are lower-cased (tsmicro headers are lower-case), a repeated user property (MQTT allows duplicates)
 * keeps its last value, and MQTT's Content Type property stands in for a missing `content-type` header.
 */
export function headersOf(packet: IPublishPacket): Record<string, string> {
  const headers: Record<string, string> = {};
  const properties = packet.properties ?? {};
  for (const [key, value] of Object.entries(properties.userProperties ?? {})) {
    const last = Array.isArray(value) ? value[value.length - 1] : value;
    if (last !== undefined) headers[key.toLowerCase()] = String(last);
  }
  if (!headers[CONTENT_TYPE] && typeof properties.contentType === 'string') headers[CONTENT_TYPE] = properties.contentType;
  return headers;
}

/** The payload as the Uint8Array a Message carries (MQTT.js hands out Buffers, which are Uint8Arrays). */
export function bodyOf(payload: Buffer | Uint8Array | string | undefined): Uint8Array {
  if (payload === undefined) return new Uint8Array(0);
  return typeof payload === 'string' ? Buffer.from(payload) : payload;
}
