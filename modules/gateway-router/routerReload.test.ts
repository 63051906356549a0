import { afterAll, afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { unlinkSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createGateway } from '../../src/gateway/createGateway.js';
import type { Gateway } from '../../src/gateway/Gateway.js';
import { TestApps } from '../../test/helpers/apps.js';
import { captureLogger } from '../../test/helpers/captureLogger.js';
import { eventually } from '../../test/helpers/eventually.js';
import { RoutesDirectory, startGateway, type StartedGateway } from './testSupport.js';

/** A routes document whose one rule answers GET /v with `body`. */
const version = (body: string) => ({ routes: [{ name: 'v', match: { path: '/v' }, response: { body } }] });

describe('router plugin: the routes file', () => {
  const apps = new TestApps();
  const logger = captureLogger();
  let directory: RoutesDirectory;
  const gateways: Gateway[] = [];

  beforeEach(() => {
    directory = new RoutesDirectory();
    logger.lines.length = 0;
  });
  afterEach(async () => {
    await Promise.all(gateways.splice(0).map((gateway) => gateway.stop()));
    await apps.stopAll();
    directory.remove();
  });
  afterAll(() => apps.stopAll());

  async function gatewayOn(file: string): Promise<StartedGateway> {
    const started = await startGateway(apps, { plugins: ['router'], router: { file } }, logger);
    gateways.push(started.gateway);
    return started;
  }
  const bodyAt = async (base: string): Promise<string> => (await fetch(`${base}/v`)).text();
  const logged = (message: string) => logger.lines.filter((line) => line.message === message).map((line) => line.fields.reason);

  it('takes a changed file into use: written in place, and replaced by rename (twice, so the watch follows)', async () => {
    const file = directory.write('routes.json', version('one'));
    const { base } = await gatewayOn(file);
    expect(await bodyAt(base)).toBe('one');
    directory.write('routes.json', version('two'));
    await eventually(async () => expect(await bodyAt(base)).toBe('two'));
    directory.replace('routes.json', version('three'));
    await eventually(async () => expect(await bodyAt(base)).toBe('three'));
    directory.replace('routes.json', version('four'));
    await eventually(async () => expect(await bodyAt(base)).toBe('four'));
    expect(logger.lines.find((line) => line.message === 'routes loaded')?.fields).toMatchObject({ component: 'gateway', plugin: 'router', file, routes: 1 });
    expect(logger.lines.filter((line) => line.message === 'routes reloaded').length).toBeGreaterThanOrEqual(3);
  });

  it('keeps the routes in force when the file becomes bad, logging why, and takes the next good file', async () => {
    const file = directory.write('routes.yaml', version('one'));
    const { base } = await gatewayOn(file);
    directory.replace('routes.yaml', 'routes: [ {');
    await eventually(() => expect(logged('routes file rejected; the previous routes stay in force')).toEqual([expect.stringMatching(/^is not valid YAML: .*line 1/)]));
    expect(await bodyAt(base)).toBe('one');
    directory.replace('routes.yaml', 'routes:\n  - name: v\n    match: { path: /v }\n    proxy: { url: "orders:8080" }\n');
    await eventually(() => expect(logged('routes file rejected; the previous routes stay in force')).toHaveLength(2));
    expect(logged('routes file rejected; the previous routes stay in force')[1]).toBe(
      'is invalid: routes[0] ("v"): proxy.url: must be an absolute http:// or https:// URL such as http://127.0.0.1:8081/base, got "orders:8080"',
    );
    expect(logger.lines.find((line) => line.level === 'error')?.fields).toMatchObject({ file, routes: 1 });
    expect(await bodyAt(base)).toBe('one');
    unlinkSync(file);
    await eventually(() => expect(logged('routes file cannot be read; the previous routes stay in force')).toContain('cannot be read: ENOENT'));
    expect(await bodyAt(base)).toBe('one');
    directory.write('routes.yaml', version('two'));
    await eventually(async () => expect(await bodyAt(base)).toBe('two'));
  });

  it('refuses to start with a bad file, before anything serves', async () => {
    const create = (file?: string) => apps.create({ config: { gateway: { plugins: ['router'], ...(file === undefined ? {} : { router: { file } }) } } });
    await expect(create()).rejects.toThrow('gateway.router.file is not set: the router plugin needs a routes file (gateway.router.file, env MICRO_API_ROUTER_FILE)');
    const missing = join(directory.path, 'missing.json');
    await expect(create(missing)).rejects.toThrow(`routes file ${missing} (gateway.router.file) cannot be read: ENOENT`);
    const broken = directory.write('broken.json', '{"routes": [');
    await expect(create(broken)).rejects.toThrow(new RegExp(`^routes file ${broken} \\(gateway.router.file\\) is not valid JSON: `));
    const invalid = directory.write('invalid.json', { routes: [{ name: 'a', match: { methods: 'FETCH' }, response: { status: 200 } }, { proxy: 'ftp://x' }] });
    await expect(create(invalid)).rejects.toMatchObject({
      name: 'ConfigError',
      code: 'CONFIG_FILE',
      message: `routes file ${invalid} (gateway.router.file) is invalid: routes[0] ("a"): match.methods: "FETCH" is not an HTTP method; routes[1]: proxy.url: must be an absolute http:// or https:// URL such as http://127.0.0.1:8081/base, got "ftp://x"`,
    });
  });

  it("loads the file from a relative path, an absolute one, go-micro's file:<path> form and a file:// URL, and follows its changes", async () => {
    const file = directory.write('routes.json', version('start'));
    const forms = [relative(process.cwd(), file), file, `file:${relative(process.cwd(), file)}`, pathToFileURL(file).href];
    const bases: string[] = [];
    for (const [index, form] of forms.entries()) {
      // Chosen through env vars, as a deployment does (go-micro's router dropped the config its flag built).
      const app = await apps.started({ logger, config: { gateway: { address: '127.0.0.1:0' } }, sources: { env: { MICRO_API_PLUGINS: 'router', MICRO_API_ROUTER_FILE: form }, argv: [] } });
      const gateway = createGateway(app);
      await gateway.start();
      gateways.push(gateway);
      bases.push(`http://${gateway.address}`);
      expect([index, await bodyAt(bases[index]!)]).toEqual([index, 'start']);
    }
    directory.write('routes.json', version('changed'));
    for (const [index, base] of bases.entries()) await eventually(async () => expect([index, await bodyAt(base)]).toEqual([index, 'changed']));
  });
});
