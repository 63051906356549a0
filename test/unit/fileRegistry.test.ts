import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { FileRegistry } from '../../src/index.js';
import { captureLogger } from '../helpers/captureLogger.js';
import { sampleService } from '../contracts/registryContract.js';

describe('FileRegistry specifics', () => {
  const root = mkdtempSync(join(tmpdir(), 'tsmicro-file-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('skips a file it cannot read and says which', async () => {
    const directory = join(root, 'unreadable');
    const logger = captureLogger();
    const registry = new FileRegistry({ directory, logger });
    await registry.register(sampleService('good'), { ttlMs: 60_000 });
    writeFileSync(join(directory, 'broken@0000.json'), '{ not json');
    expect((await registry.listServices()).map((service) => service.name)).toEqual(['good']);
    expect(logger.lines.find((line) => line.level === 'warn')!.fields.files).toEqual(['broken@0000.json']);
    await registry.close();
  });

  it('keeps entries of processes on the same host that are alive, and drops those whose process is gone', async () => {
    const directory = join(root, 'pids');
    const registry = new FileRegistry({ directory });
    await registry.register(sampleService('alive'), { ttlMs: 60_000 });
    const dead = { format: 1, service: { name: 'dead', version: '1', metadata: {}, endpoints: [] }, node: { id: 'dead-1', address: '127.0.0.1:1', metadata: {} }, expiresAt: Date.now() + 60_000, pid: 2 ** 22 + 12345, host: (await import('node:os')).hostname() };
    writeFileSync(join(directory, 'dead@1111.json'), JSON.stringify(dead));
    expect((await registry.listServices()).map((service) => service.name)).toEqual(['alive']);
    await registry.close();
  });

  it('explains a directory it cannot create', async () => {
    // A file where a directory should be: refused even for root, unlike a permission bit.
    const blocker = join(root, 'not-a-directory');
    writeFileSync(blocker, 'x');
    const registry = new FileRegistry({ directory: join(blocker, 'registry') });
    await expect(registry.register(sampleService('x'))).rejects.toThrow(/^file registry: cannot create directory .*not-a-directory\/registry \(ENOTDIR\); set registry.address to a writable directory$/);
  });
});
