import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import type { ServerDefinition } from './definitions.js';

export function isInstalled(definition: ServerDefinition): boolean {
  if (isAbsolute(definition.binary)) return existsSync(definition.binary);
  return (process.env.PATH ?? '').split(delimiter).some((directory) => existsSync(join(directory, definition.binary)));
}

const POLICY = '/usr/sbin/policy-rc.d';

/**
 * Installs missing servers from Debian's packages. The packages' own init scripts would start system-wide
 * instances on the default ports; a policy-rc.d that refuses keeps them from starting, since we start our own.
 */
export function installMissing(definitions: readonly ServerDefinition[]): void {
  const missing = definitions.filter((definition) => !isInstalled(definition));
  if (missing.length > 0) installPackages(missing);
  for (const definition of definitions) definition.ensure?.();
}

function installPackages(missing: readonly ServerDefinition[]): void {
  const packages = missing.flatMap((definition) => definition.packages);
  if (process.getuid?.() !== 0) {
    throw new Error(`not installed: ${missing.map((definition) => definition.name).join(', ')}; install with: sudo apt-get install -y ${packages.join(' ')}`);
  }
  const ownPolicy = !existsSync(POLICY);
  if (ownPolicy) writeFileSync(POLICY, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
  try {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const install = () => spawnSync('apt-get', ['install', '-y', '-qq', ...packages], { env, stdio: ['ignore', 'ignore', 'inherit'] });
    if (install().status !== 0) {
      execFileSync('apt-get', ['update', '-qq'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
      if (install().status !== 0) throw new Error(`apt-get install ${packages.join(' ')} failed`);
    }
  } finally {
    if (ownPolicy) rmSync(POLICY, { force: true });
  }
}

/** Programs the tests use that are not servers: the dashboard test drives Debian's Chromium. */
export const TOOLS: readonly ServerDefinition[] = [
  { name: 'chromium', packages: ['chromium'], binary: '/usr/bin/chromium' } as ServerDefinition,
];
