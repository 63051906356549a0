import { readFileSync } from 'node:fs';

/** The machine's CPU time counters (all cores), in clock ticks. */
export interface CpuCounters {
  steal: number;
  total: number;
}

/**
 * Reads the `cpu` line of /proc/stat; undefined where there is none (not Linux). On a virtual machine, `steal`
 * is time the hypervisor ran other guests while this one wanted the CPU: a trial that saw much of it measured a
 * slower machine, which the report shows next to the numbers instead of leaving it to be guessed from spread.
 */
export function cpuCounters(): CpuCounters | undefined {
  let line: string;
  try {
    line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
  } catch {
    return undefined;
  }
  // cpu  user nice system idle iowait irq softirq steal guest guest_nice (guest time is already in user)
  const fields = line.trim().split(/\s+/).slice(1, 9).map(Number);
  if (fields.length < 8 || fields.some((value) => !Number.isFinite(value))) return undefined;
  return { steal: fields[7]!, total: fields.reduce((sum, value) => sum + value, 0) };
}

/** Percentage of the machine's CPU time stolen between two readings. */
export function stealPercent(from: CpuCounters | undefined, to: CpuCounters | undefined): number | undefined {
  if (!from || !to || to.total <= from.total) return undefined;
  return ((to.steal - from.steal) * 100) / (to.total - from.total);
}
