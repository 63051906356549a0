import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { distPath, NodeProcess } from '../helpers/childProcess.js';

const CLI = distPath('src', 'cli', 'main.js');

/** The CLI turns on Node's compile cache before loading anything else; where it goes is Node's setting. */
describe('tsmicro CLI compile cache', () => {
  const directory = mkdtempSync(join(tmpdir(), 'tsmicro-cli-cache-'));
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  async function version(env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const run = new NodeProcess(CLI, ['--version'], env);
    const closed = new Promise((resolve) => run.child.once('close', resolve));
    const { code } = await run.exited();
    await closed;
    return { code, stdout: run.lines.join('\n').trim(), stderr: run.stderr.trim() };
  }

  const cachedFiles = (cache: string): string[] => readdirSync(cache, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile()).map((entry) => entry.name);

  it('writes the compiled modules to <tmpdir>/node-compile-cache unasked, and runs the same from the cache', async () => {
    const temporary = join(directory, 'tmp');
    mkdirSync(temporary);
    expect(await version({ TMPDIR: temporary })).toEqual({ code: 0, stdout: '0.1.0', stderr: '' });
    // commander, inversify and tsmicro's own modules: far more than the two entry files.
    expect(cachedFiles(join(temporary, 'node-compile-cache')).length).toBeGreaterThan(100);
    expect(await version({ TMPDIR: temporary })).toEqual({ code: 0, stdout: '0.1.0', stderr: '' });
  });

  it('goes where NODE_COMPILE_CACHE says', async () => {
    const cache = join(directory, 'cache');
    expect(await version({ NODE_COMPILE_CACHE: cache })).toEqual({ code: 0, stdout: '0.1.0', stderr: '' });
    expect(cachedFiles(cache).length).toBeGreaterThan(100);
  });

  it('is off with NODE_DISABLE_COMPILE_CACHE=1, and a cache location that cannot be written only means no cache', async () => {
    const off = join(directory, 'off');
    expect(await version({ NODE_COMPILE_CACHE: off, NODE_DISABLE_COMPILE_CACHE: '1' })).toEqual({ code: 0, stdout: '0.1.0', stderr: '' });
    expect(existsSync(off)).toBe(false);
    const file = join(directory, 'a-file');
    writeFileSync(file, '');
    expect(await version({ NODE_COMPILE_CACHE: join(file, 'cache') })).toEqual({ code: 0, stdout: '0.1.0', stderr: '' });
  });
});
