import { describe, it } from '@jest/globals';
import { constants, mkdtempSync, rmSync } from 'node:fs';
import { access } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/**
 * Flags for a machine whose network is closed: without them Chromium keeps trying to reach Google's services
 * (component updates, sync, QUIC probes) and hangs waiting for them.
 */
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

type Describe = (title: string, body: () => void) => void;

/**
 * The `describe` for a browser test, as test/servers/testServers.ts's requireServer decides for servers: the real
 * one when Debian's chromium is installed; otherwise, under CI=true, one whose test fails saying what to install,
 * and elsewhere describe.skip with one line saying so. Call with top-level await, before any describe.
 */
export async function requireChromium(): Promise<{ available: boolean; describe: Describe }> {
  const installed = await access(CHROMIUM, constants.X_OK).then(() => true, () => false);
  if (installed) return { available: true, describe };
  const hint = `chromium is not installed at ${CHROMIUM}; install it with: npm run servers -- up chromium`;
  if (process.env.CI === 'true') {
    const failing: Describe = (title) =>
      describe(title, () => {
        it('needs chromium', () => {
          throw new Error(hint);
        });
      });
    return { available: false, describe: failing };
  }
  console.log(`skipped: ${hint}`);
  return { available: false, describe: describe.skip };
}

/** Headless Chromium with a fresh, empty profile, removed again by close(). */
export async function launchChromium(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const profile = mkdtempSync(join(tmpdir(), 'tsmicro-chromium-'));
  // launchPersistentContext, because Playwright refuses --user-data-dir in args: the profile is its first argument.
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS, viewport: { width: 1280, height: 900 } });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
