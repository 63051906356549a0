import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from '@jest/globals';
import { distPath, NodeProcess } from '../helpers/childProcess.js';

it('npm start: the greeter example runs its two processes and exits 0', async () => {
  const directory = mkdtempSync(join(tmpdir(), 'tsmicro-example-'));
  try {
    const run = new NodeProcess(distPath('examples', 'greeter', 'run.js'), [], { MICRO_REGISTRY_ADDRESS: directory });
    const { code } = await run.exited();
    expect({ code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    expect(run.lines).toContain('[run] done: call, validation error and events all worked');
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}, 30_000);
