import { daemonAddressFormat } from './daemonAddress.js';
import { SEGMENT_NAME_PATTERN } from './segmentDocument.js';

/** The options both X-Ray plugins take (under `gateway.xray` and `wrappers.xray`). */
export interface XRayOptions {
  /** Segment name; the wrapper's empty default means "the service's name". */
  name: string;
  daemonAddress: string;
  samplingRate: number;
  samplingReservoir: number;
  origin: string;
  annotations: Record<string, string>;
}

const NAME_RULE = 'must be at most 200 letters, digits, spaces and _ . : / % & # = + \\ - @';

export function segmentNameFormat(allowEmpty: boolean): (value: unknown) => void {
  return (value) => {
    if (typeof value !== 'string' || (value === '' ? !allowEmpty : !SEGMENT_NAME_PATTERN.test(value))) throw new Error(NAME_RULE);
  };
}

/** Convict turns an env var's text into a number (the default is one) before this check runs. */
function samplingRateFormat(rate: unknown): void {
  if (typeof rate !== 'number' || !Number.isFinite(rate) || rate < 0 || rate > 1) throw new Error('must be a number from 0 to 1 (the share of requests traced beyond the reservoir)');
}

function originFormat(value: unknown): void {
  if (typeof value !== 'string' || (value !== '' && !/^AWS::[A-Za-z0-9]+::[A-Za-z0-9]+$/.test(value))) throw new Error('must be empty or an AWS resource type such as AWS::EC2::Instance or AWS::ECS::Container');
}

/**
 * The schema fragment shared by both plugins. The env names are shared too: one daemon and one sampling policy
 * per host is the usual deployment, and `AWS_XRAY_DAEMON_ADDRESS` is the name every X-Ray SDK reads.
 */
export function commonOptionsSchema() {
  return {
    daemonAddress: { doc: 'UDP address of the X-Ray daemon: host:port, or "tcp:host:port udp:host:port"', format: daemonAddressFormat, default: '127.0.0.1:2000', env: 'AWS_XRAY_DAEMON_ADDRESS' },
    samplingRate: { doc: 'Share (0..1) of requests traced beyond the reservoir, when no upstream decided', format: samplingRateFormat, default: 0.05, env: 'MICRO_XRAY_SAMPLING_RATE' },
    samplingReservoir: { doc: 'Requests traced per second before samplingRate applies, when no upstream decided', format: 'non-negative-int', default: 1, env: 'MICRO_XRAY_SAMPLING_RESERVOIR' },
    origin: { doc: 'The AWS resource type the service runs on (AWS::EC2::Instance, AWS::ECS::Container, …); empty for none', format: originFormat, default: '', env: 'MICRO_XRAY_ORIGIN' },
    annotations: { doc: 'Annotations added to every segment, k=v pairs (indexed by X-Ray for filter expressions)', format: 'string-map', default: {}, env: 'MICRO_XRAY_ANNOTATIONS' },
  } as const;
}
