import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { distPath, NodeProcess } from '../helpers/childProcess.js';
import { eventually } from '../helpers/eventually.js';
import { EventStreamClient } from './support/eventStreamClient.js';

const CLI = distPath('src', 'cli', 'main.js');

// Each test starts Node processes: limits for a loaded machine, not expectations of speed.
jest.setTimeout(30_000);

/** `tsmicro web`, compiled, against the example greeter in another process, both on the default plugins. */
describe('tsmicro web, and the dashboard in tsmicro api', () => {
  const directory = mkdtempSync(join(tmpdir(), 'tsmicro-web-'));
  const env = { MICRO_REGISTRY_ADDRESS: directory, MICRO_LOG_LEVEL: 'warn' };
  let server: NodeProcess;

  beforeAll(async () => {
    server = new NodeProcess(distPath('examples', 'greeter', 'server.js'), [], env);
    await server.waitFor(/^ready /);
  });
  afterAll(async () => {
    server.kill('SIGTERM');
    await server.exited();
    rmSync(directory, { recursive: true, force: true });
  });

  it('has help that says what it serves and when to use tsmicro api instead', async () => {
    const help = new NodeProcess(CLI, ['web', '--help'], env);
    expect((await help.exited()).code).toBe(0);
    const text = help.lines.join('\n');
    expect(text).toMatch(/^Usage: tsmicro web \[options\]/);
    expect(text).toMatch(/--address <host:port>/);
    expect(text).toMatch(/"tsmicro api"/);
    const root = new NodeProcess(CLI, ['--help'], env);
    await root.exited();
    expect(root.lines.join('\n')).toMatch(/\n {2}web \[options\] +run the web dashboard at \//);
  });

  it('serves the dashboard at / with its API and live stream, calls through /rpc, and exits 0 on SIGTERM', async () => {
    const web = new NodeProcess(CLI, ['web', '--address', '127.0.0.1:0'], env);
    let stream: EventStreamClient | undefined;
    try {
      await eventually(() => expect(web.stderr).toMatch(/dashboard listening at http:\/\/\S+\/\n/), 15_000);
      const base = /dashboard listening at (http:\/\/\S+)\//.exec(web.stderr)![1]!;
      const page = await fetch(`${base}/`);
      expect([page.status, page.headers.get('content-type')]).toEqual([200, 'text/html; charset=utf-8']);
      // Compiled code finds the page's files in the repository's src/ (tsc does not copy them into dist/).
      expect((await fetch(`${base}/js/main.js`)).headers.get('content-type')).toBe('text/javascript; charset=utf-8');
      const { services } = (await (await fetch(`${base}/api/services`)).json()) as { services: { name: string }[] };
      expect(services.map((service) => service.name)).toEqual(['greeter']);
      const reply = await fetch(`${base}/rpc`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-caller': 'web' }, body: '{"service":"greeter","endpoint":"Greeter.sayHello","request":{"name":"Web"}}' });
      expect(await reply.json()).toEqual({ greeting: 'Hello, Web! (asked by web)' });
      // A tab left open must not keep the command from stopping.
      stream = await EventStreamClient.open(`${base}/api/events`);
      await eventually(() => expect(stream!.events.map((event) => event.event)).toContain('ready'));
      web.kill('SIGTERM');
      expect(await web.exited()).toEqual({ code: 0, signal: null });
      await eventually(() => expect(stream!.ended).toBe(true));
    } finally {
      stream?.close();
      web.kill('SIGKILL');
    }
  });

  it('tsmicro api serves the dashboard at gateway.dashboardPath, and refuses a path that would hide its routes', async () => {
    const api = new NodeProcess(CLI, ['api', '--address', '127.0.0.1:0'], { ...env, MICRO_API_DASHBOARD_PATH: '/ops' });
    try {
      await eventually(() => expect(api.stderr).toMatch(/gateway listening at http:\/\/\S+\n/), 15_000);
      const base = /gateway listening at (http:\/\/\S+)/.exec(api.stderr)![1]!;
      const page = await fetch(`${base}/ops/`);
      expect([page.status, page.headers.get('content-type')]).toEqual([200, 'text/html; charset=utf-8']);
      const { services } = (await (await fetch(`${base}/ops/api/services`)).json()) as { services: { name: string }[] };
      expect(services.map((service) => service.name)).toEqual(['greeter']);
      api.kill('SIGTERM');
      expect((await api.exited()).code).toBe(0);
    } finally {
      api.kill('SIGKILL');
    }
    const refused = new NodeProcess(CLI, ['api', '--address', '127.0.0.1:0'], { ...env, MICRO_API_DASHBOARD_PATH: '/' });
    expect((await refused.exited()).code).toBe(2);
    expect(refused.stderr).toMatch(/^tsmicro: gateway.dashboardPath "\/" would take every path of the gateway; /);
  });
});
