import type { Variant } from './protocol.js';

export type Framework = 'tsmicro' | 'moleculer' | 'nestjs' | 'raw';

/** One cell of the table: a framework on a transport row. */
export interface Scenario {
  id: string;
  /** The table row: the transport, with `+validation` for the runs that validate requests. */
  row: string;
  variant: Variant;
  framework: Framework;
  validate: boolean;
  /** The adapter module, relative to the compiled bench/ directory. */
  adapter: string;
  /** Peer adapters need bench/node_modules (npm --prefix bench ci); the smoke test runs only the others. */
  peer: boolean;
}

const ADAPTERS: Record<Framework, (variant: Variant) => string> = {
  tsmicro: () => 'adapters/tsmicro.js',
  moleculer: () => 'peers/moleculer.js',
  nestjs: () => 'peers/nest.js',
  raw: (variant) => (variant === 'nats' ? 'adapters/rawNats.js' : variant === 'redis' ? 'adapters/rawRedis.js' : 'adapters/rawTcp.js'),
};

function scenario(variant: Variant, framework: Framework, validate = false): Scenario {
  const row = validate ? `${variant}+validation` : variant;
  return { id: `${framework}/${row}`, row, variant, framework, validate, adapter: ADAPTERS[framework](variant), peer: framework === 'moleculer' || framework === 'nestjs' };
}

/** Every scenario of the issue: four transport rows, and TCP again with request validation on. */
export const SCENARIOS: readonly Scenario[] = [
  scenario('tcp', 'tsmicro'),
  scenario('tcp', 'moleculer'),
  scenario('tcp', 'nestjs'),
  scenario('tcp', 'raw'),
  scenario('nats', 'tsmicro'),
  scenario('nats', 'moleculer'),
  scenario('nats', 'nestjs'),
  scenario('nats', 'raw'),
  scenario('redis', 'tsmicro'),
  scenario('redis', 'moleculer'),
  scenario('redis', 'nestjs'),
  scenario('redis', 'raw'),
  scenario('memory', 'tsmicro'),
  scenario('memory', 'moleculer'),
  scenario('tcp', 'tsmicro', true),
  scenario('tcp', 'moleculer', true),
  scenario('tcp', 'nestjs', true),
];

/** Start to registered is measured for the frameworks that have a registry, on their zero-server defaults. */
export const STARTUP_SCENARIOS: readonly Scenario[] = [scenario('tcp', 'tsmicro'), scenario('tcp', 'moleculer')];

/** `--only tcp,nats` keeps rows; `--only tsmicro` keeps frameworks; ids (`tsmicro/tcp`) work too. */
export function selectScenarios(all: readonly Scenario[], only: string[] | undefined, withPeers: boolean): Scenario[] {
  return all.filter(
    (candidate) =>
      (withPeers || !candidate.peer) &&
      (!only || only.length === 0 || only.some((word) => word === candidate.id || word === candidate.row || word === candidate.variant || word === candidate.framework)),
  );
}
