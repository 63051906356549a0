import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { distPath, NodeProcess } from '../helpers/childProcess.js';

/**
 * What a service on the defaults loads is part of its start-up time and idle memory: packages only some
 * configurations use are loaded when they are used, and the first use behaves exactly as before.
 */
describe('start-up footprint of a service on the defaults', () => {
  let directory: string;
  beforeEach(() => (directory = mkdtempSync(join(tmpdir(), 'tsmicro-footprint-'))));
  afterEach(() => rmSync(directory, { recursive: true, force: true }));

  it('loads no logger, YAML parser, semver, MessagePack or HTTP stack until something needs them; the first warning then loads pino and writes its usual line', async () => {
    const preload = `--import=${pathToFileURL(distPath('test', 'fixtures', 'recordModules.js')).href}`;
    const service = new NodeProcess(distPath('test', 'fixtures', 'quietService.js'), [directory], { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} ${preload}` });
    const closed = new Promise((resolve) => service.child.once('close', resolve));
    const { code } = await service.exited();
    await closed;
    expect([code, service.stderr.split('\n').filter((line) => line !== '' && !line.startsWith('{'))]).toEqual([0, []]);
    const [started, warned] = service.lines.map((line) => JSON.parse(line) as { packages: string[]; builtins?: string[]; files?: string[] });
    expect(started!.packages).toEqual(expect.arrayContaining(['convict']));
    for (const name of ['pino', 'pino-pretty', 'yaml', 'semver', '@msgpack/msgpack', 'class-validator']) expect(started!.packages).not.toContain(name);
    for (const name of ['http', 'internal/deps/undici/undici', 'worker_threads']) expect(started!.builtins).not.toContain(name);
    expect(warned!.packages).toContain('pino');

    // inversify comes as one file built from the installed package (docs/adr/0006-bundled-inversify.md), not as
    // the package's ≈ 240 modules.
    expect(started!.files).toContain('dist/vendor/inversify.js');
    expect(started!.files!.filter((file) => /node_modules\/(inversify|@inversifyjs)\//.test(file))).toEqual([]);

    const logLines = service.stderr.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(logLines).toEqual([expect.objectContaining({ level: 40, msg: 'quiet service warns', attempt: 1, component: 'fixture', pid: service.child.pid, time: expect.any(Number) })]);
  });
});
