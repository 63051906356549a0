import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import { App, FileRegistry, MicroError } from '../../src/index.js';
import { silentLogger } from '../../src/logger/PinoLogger.js';
import { distPath, NodeProcess } from '../helpers/childProcess.js';
import { eventually } from '../helpers/eventually.js';

/**
 * Real OS processes on the zero-dependency defaults: the file registry in a directory of this test's own, the
 * TCP transport and the direct broker.
 */
describe('separate processes on the defaults', () => {
  const directory = mkdtempSync(join(tmpdir(), 'tsmicro-procs-'));
  const env = { MICRO_REGISTRY_ADDRESS: directory, MICRO_LOG_LEVEL: 'warn' };
  const processes: NodeProcess[] = [];
  const spawnNode = (script: string, extraEnv: NodeJS.ProcessEnv = {}): NodeProcess => {
    const started = new NodeProcess(distPath('examples', 'greeter', script), [], { ...env, ...extraEnv });
    processes.push(started);
    return started;
  };
  afterEach(async () => {
    for (const started of processes.splice(0)) {
      started.kill('SIGCONT');
      started.kill('SIGKILL');
      await started.exited();
    }
  });
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  const registry = (): FileRegistry => new FileRegistry({ directory, pollIntervalMs: 100 });

  it('one process serves; another calls it, gets a validation error and publishes; the server stops cleanly', async () => {
    const server = spawnNode('server.js');
    await server.waitFor(/^ready /);
    const client = spawnNode('client.js');
    expect((await client.exited()).code).toBe(0);
    expect(client.lines).toContain('[client] Greeter.sayHello -> {"greeting":"Hello, Ada! (asked by example-client)"}');
    expect(client.lines.find((line) => line.startsWith('[client] invalid request -> 400'))).toMatch(/name: name should not be empty \(isNotEmpty\); age: age must not be less than 0 \(min\)/);
    await server.waitFor(/event greeter.greeted: Ada \(metadata x-caller=example-client\)/);
    await server.waitFor(/event greeter.greeted: Grace \(metadata x-caller=example-client\)/);

    server.kill('SIGTERM');
    expect((await server.exited()).code).toBe(0);
    expect(server.lines).toContain('[server] stopped');
    expect(await registry().getService('greeter')).toEqual([]);
  }, 30_000);

  it('this test process calls and publishes to a service in another process', async () => {
    const server = spawnNode('server.js');
    await server.waitFor(/^ready /);
    const app = await App.create({ logger: silentLogger, sources: { env, argv: [] } });
    await app.start();
    try {
      const reply = await app.client.call('greeter', 'Greeter.sayHello', { name: 'Linus' });
      expect(reply).toEqual({ greeting: 'Hello, Linus! (asked by someone)' });
      const error = await app.client.call('greeter', 'Greeter.sayHello', 'not an object').catch((caught: MicroError) => caught);
      expect((error as MicroError).code).toBe(400);
      await app.client.publish('greeter.greeted', { name: 'Margaret', at: 1 });
      await server.waitFor(/event greeter.greeted: Margaret/);
    } finally {
      await app.stop();
    }
  }, 30_000);

  it('a killed process disappears from the registry without waiting for its TTL', async () => {
    const server = spawnNode('server.js', { MICRO_REGISTER_TTL: '60s', MICRO_REGISTER_INTERVAL: '20s' });
    await server.waitFor(/^ready /);
    const reader = registry();
    expect((await reader.getService('greeter'))[0]!.nodes).toHaveLength(1);
    server.kill('SIGKILL');
    await server.exited();
    await eventually(async () => expect(await reader.getService('greeter')).toEqual([]), 2000);
    await eventually(() => expect(readdirSync(directory).filter((name) => name.startsWith('greeter@'))).toEqual([]), 2000);
  }, 30_000);

  it('a process that stops renewing (frozen) disappears after its TTL, and comes back when it resumes', async () => {
    const server = spawnNode('server.js', { MICRO_REGISTER_TTL: '1500ms', MICRO_REGISTER_INTERVAL: '300ms' });
    await server.waitFor(/^ready /);
    const reader = registry();
    const watcher = await reader.watch({ service: 'greeter' });
    try {
      server.kill('SIGSTOP');
      const deleted = await watcher.next();
      expect(deleted.action).toBe('delete');
      expect(await reader.getService('greeter')).toEqual([]);
      server.kill('SIGCONT');
      expect((await watcher.next()).action).toBe('create');
      expect((await reader.getService('greeter'))[0]!.nodes).toHaveLength(1);
    } finally {
      watcher.stop();
      await reader.close();
    }
  }, 30_000);
});
