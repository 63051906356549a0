import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { distPath, NodeProcess } from '../helpers/childProcess.js';

const CLI = distPath('src', 'cli', 'main.js');

/** The tsmicro command against a greeter running on the defaults in another process. */
describe('tsmicro CLI', () => {
  const directory = mkdtempSync(join(tmpdir(), 'tsmicro-cli-'));
  const env = { MICRO_REGISTRY_ADDRESS: directory, MICRO_LOG_LEVEL: 'warn' };
  let server: NodeProcess;

  async function tsmicro(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const run = new NodeProcess(CLI, args, env);
    const { code } = await run.exited();
    return { code, stdout: run.lines.join('\n').trim(), stderr: run.stderr.trim() };
  }

  beforeAll(async () => {
    server = new NodeProcess(distPath('examples', 'greeter', 'server.js'), [], env);
    await server.waitFor(/^ready /);
  });
  afterAll(async () => {
    server.kill('SIGTERM');
    await server.exited();
    rmSync(directory, { recursive: true, force: true });
  });

  it('call prints the reply, and passes metadata and a timeout', async () => {
    const result = await tsmicro('call', 'greeter', 'Greeter.sayHello', '{"name":"Ada"}', '--metadata', 'x-caller=cli', '--timeout', '3s');
    expect(result).toEqual({ code: 0, stdout: JSON.stringify({ greeting: 'Hello, Ada! (asked by cli)' }, null, 2), stderr: '' });
    const json = await tsmicro('--output', 'json', 'call', 'greeter', 'Greeter.sayHello', '{"name":"Bo"}');
    expect(JSON.parse(json.stdout)).toEqual({ greeting: 'Hello, Bo! (asked by someone)' });
  });

  it('call fails with a one-line error and a non-zero exit', async () => {
    const unknownEndpoint = await tsmicro('call', 'greeter', 'Greeter.nope');
    expect(unknownEndpoint.code).toBe(1);
    expect(unknownEndpoint.stderr).toBe('tsmicro: 404 Not Found: unknown endpoint "Greeter.nope" of service "greeter"; it has: Debug.Health, Greeter.sayHello');
    const invalid = await tsmicro('call', 'greeter', 'Greeter.sayHello', '{"name":""}');
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toBe('tsmicro: 400 Bad Request: invalid request to greeter Greeter.sayHello: name: name should not be empty (isNotEmpty)');
    const badJson = await tsmicro('call', 'greeter', 'Greeter.sayHello', '{name:');
    expect(badJson.code).toBe(2);
    expect(badJson.stderr).toMatch(/^tsmicro: the request is not valid JSON: /);
    expect(badJson.stderr.split('\n')).toHaveLength(1);
    const unknownService = await tsmicro('call', 'nobody', 'X.y');
    expect(unknownService.stderr).toBe('tsmicro: 404 Not Found: service "nobody" not found in the file registry');
  });

  it('list services shows a table for people and JSON for scripts', async () => {
    const table = await tsmicro('list', 'services');
    expect(table.code).toBe(0);
    expect(table.stdout.split('\n')).toEqual(['SERVICE  VERSIONS', 'greeter  1.0.0']);
    const json = await tsmicro('list', 'services', '--output', 'json');
    expect(JSON.parse(json.stdout)).toEqual([{ name: 'greeter', versions: ['1.0.0'] }]);
    const all = await tsmicro('list', 'services', '--all', '-o', 'json');
    expect(JSON.parse(all.stdout).map((entry: { name: string }) => entry.name)).toEqual(['greeter', 'tsmicro.broker.greeter.greeted']);
  });

  it('get service shows versions, nodes and endpoints with their request and response', async () => {
    const result = await tsmicro('get', 'service', 'greeter');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^service {2}greeter\nversion {2}1\.0\.0\nmetadata example=true/);
    expect(result.stdout).toMatch(/greeter-[0-9a-f-]{36} +127\.0\.0\.1:\d+ +transport=tcp,broker=direct,registry=file/);
    expect(result.stdout).toMatch(/Greeter\.sayHello +HelloRequest \{ name: string, age: number\? \} +HelloReply \{ greeting: string \} +idempotent=true/);
    const json = await tsmicro('get', 'service', 'greeter', '-o', 'json');
    const [service] = JSON.parse(json.stdout);
    expect(service.endpoints.find((endpoint: { name: string }) => endpoint.name === 'Greeter.sayHello').request.values).toEqual([
      { name: 'name', type: 'string' },
      { name: 'age', type: 'number?' },
    ]);
    const missing = await tsmicro('get', 'service', 'ghost');
    expect([missing.code, missing.stderr]).toEqual([1, 'tsmicro: service "ghost" not found']);
  });

  it('publish delivers an event to the running service', async () => {
    const result = await tsmicro('publish', 'greeter.greeted', '{"name":"Cli","at":1}', '-m', 'x-caller=cli');
    expect(result).toEqual({ code: 0, stdout: 'published to greeter.greeted', stderr: '' });
    await server.waitFor(/event greeter.greeted: Cli \(metadata x-caller=cli\)/);
  });

  it('health calls every node', async () => {
    const result = await tsmicro('health', '-o', 'json');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual([expect.objectContaining({ service: 'greeter', version: '1.0.0', status: 'ok' })]);
    const table = await tsmicro('health', 'greeter');
    expect(table.stdout).toMatch(/^SERVICE +VERSION +NODE +ADDRESS +STATUS\ngreeter +1\.0\.0 +greeter-\S+ +127\.0\.0\.1:\d+ +ok$/);
  });

  it('config prints the effective values and their sources', async () => {
    const result = await tsmicro('config', '--client_retries', '3', '-o', 'json');
    expect(result.code).toBe(0);
    const { values, plugins } = JSON.parse(result.stdout);
    const byKey = Object.fromEntries(values.map((value: { key: string }) => [value.key, value]));
    expect(byKey['client.retries']).toEqual({ key: 'client.retries', value: 3, source: 'flag --client_retries' });
    expect(byKey['registry.address']).toEqual({ key: 'registry.address', value: directory, source: 'env MICRO_REGISTRY_ADDRESS' });
    expect(byKey['logger.level'].source).toBe('env MICRO_LOG_LEVEL');
    expect(byKey['codec.plugin']).toEqual({ key: 'codec.plugin', value: 'json', source: 'default' });
    expect(plugins.map((plugin: { kind: string; name: string }) => `${plugin.kind}:${plugin.name}`)).toContain('registry:file');
    const table = await tsmicro('config');
    expect(table.stdout).toMatch(/^KEY +VALUE +SOURCE\n/);
    expect(table.stdout).toMatch(/\nregistry\.address +\S+ +env MICRO_REGISTRY_ADDRESS\n/);
  });

  it('config errors end with a one-line message and exit 2, starting nothing', async () => {
    const result = await tsmicro('list', 'services', '--registry', 'consol');
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('tsmicro: unknown registry plugin "consol" (from flag --registry); did you mean "consul"? Known registry plugins: consul, etcd, file, kubernetes, memory, nats, redis');
    const usage = await tsmicro('call', 'greeter');
    expect([usage.code, usage.stderr]).toEqual([2, "tsmicro: missing required argument 'endpoint' (see tsmicro --help)"]);
  });

  it('every command has help', async () => {
    for (const command of ['run', 'call', 'list', 'get', 'publish', 'health', 'config', 'api']) {
      const result = await tsmicro(command, '--help');
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(new RegExp(`^Usage: tsmicro ${command} `));
    }
    const root = await tsmicro('--help');
    expect(root.stdout).toMatch(/--registry_address <value> +Address\(es\) of the registry plugin's server/);
  }, 30_000);

  it('api runs the gateway in front of the running services, until SIGTERM', async () => {
    const api = new NodeProcess(CLI, ['api', '--address', '127.0.0.1:0'], env);
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`api did not start: ${api.stderr}`)), 10_000);
        api.child.stderr!.on('data', () => api.stderr.includes('gateway listening at') && (clearTimeout(timer), resolve()));
      });
      const base = /gateway listening at (http:\/\/\S+)/.exec(api.stderr)![1];
      const response = await fetch(`${base}/greeter/say-hello`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-caller': 'http' }, body: '{"name":"Web"}' });
      expect(await response.json()).toEqual({ greeting: 'Hello, Web! (asked by http)' });
      api.kill('SIGTERM');
      expect((await api.exited()).code).toBe(0);
    } finally {
      api.kill('SIGKILL');
    }
  }, 30_000);

  it('run serves the @Service classes a file exports, until SIGTERM', async () => {
    const runDirectory = mkdtempSync(join(tmpdir(), 'tsmicro-cli-run-'));
    const runner = new NodeProcess(CLI, ['run', distPath('examples', 'greeter', 'GreeterService.js'), '--server_name', 'greeter2'], { ...env, MICRO_REGISTRY_ADDRESS: runDirectory });
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`run did not start: ${runner.stderr}`)), 10_000);
        runner.child.stderr!.on('data', () => runner.stderr.includes('serving greeter2 1.0.0 at') && (clearTimeout(timer), resolve()));
      });
      const call = new NodeProcess(CLI, ['call', 'greeter2', 'Greeter.sayHello', '{"name":"Run"}', '-o', 'json'], { ...env, MICRO_REGISTRY_ADDRESS: runDirectory });
      expect((await call.exited()).code).toBe(0);
      expect(JSON.parse(call.lines.join(''))).toEqual({ greeting: 'Hello, Run! (asked by someone)' });
      runner.kill('SIGTERM');
      expect((await runner.exited()).code).toBe(0);
    } finally {
      runner.kill('SIGKILL');
      rmSync(runDirectory, { recursive: true, force: true });
    }
    const none = await tsmicro('run', distPath('examples', 'greeter', 'dto.js'));
    expect([none.code, none.stderr]).toEqual([1, `tsmicro: no exported @Service class in ${distPath('examples', 'greeter', 'dto.js')}`]);
  }, 30_000);
});
