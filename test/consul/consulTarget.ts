import { ConsulDouble, type ConsulDoubleOptions } from './ConsulDouble.js';

/**
 * Where the Consul tests run: a real agent when CONSUL_HTTP_ADDR is set (no double is started, and timings are
 * Consul's own), otherwise the double, with its reaper compressed from Consul's 30 s / 1 min so the tests that
 * wait for a critical service to be deregistered take seconds.
 */
export interface ConsulTarget {
  address: string;
  real: boolean;
  close(): Promise<void>;
}

export async function consulTarget(options: ConsulDoubleOptions = {}): Promise<ConsulTarget> {
  const real = process.env.CONSUL_HTTP_ADDR;
  if (real) return { address: real, real: true, close: async () => undefined };
  const double = new ConsulDouble({ timings: { reapIntervalMs: 100, minimumDeregisterAfterMs: 0 }, ...options });
  const address = await double.listen();
  return { address, real: false, close: () => double.close() };
}
