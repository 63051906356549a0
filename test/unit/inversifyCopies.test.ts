import * as inversifyPackage from 'inversify';
import * as tsmicro from '../../src/index.js';
import { Handler, Service, Tokens, type Client, type Logger } from '../../src/index.js';
import { TestApps } from '../helpers/apps.js';

/**
 * tsmicro takes inversify from its one-file build (`#inversify`, docs/adr/0006-bundled-inversify.md) and exports
 * its API; code written against the `inversify` package itself (older services, third-party plugins) must keep
 * working beside it, with the two copies sharing bindings, decorator metadata and module ids.
 */
describe("tsmicro's inversify beside the inversify package", () => {
  const apps = new TestApps();
  afterEach(() => apps.stopAll());

  it('really are two copies here, so the tests below prove they interoperate', () => {
    expect(tsmicro.ContainerModule).not.toBe(inversifyPackage.ContainerModule);
    expect(tsmicro.inject).not.toBe(inversifyPackage.inject);
  });

  it("injects a service's dependencies whichever copy's decorators it uses", async () => {
    @Service({ name: 'mixed', version: '1.0.0' })
    class Mixed {
      constructor(
        @inversifyPackage.inject(Tokens.Client) readonly client: Client,
        @tsmicro.inject(Tokens.Logger) readonly logger: Logger,
      ) {}

      @Handler()
      async ping(): Promise<{ client: boolean; logger: boolean }> {
        return { client: typeof this.client.call === 'function', logger: typeof this.logger.warn === 'function' };
      }
    }
    await apps.started({ services: [Mixed] });
    const caller = await apps.started();
    await expect(caller.client.call('mixed', 'Mixed.ping', {})).resolves.toEqual({ client: true, logger: true });
  });

  it("loads container modules of either copy into tsmicro's container, in order, the later rebinding the earlier", async () => {
    const marker = Symbol.for('test.inversifyCopies.marker');
    const app = await apps.create({
      extraModules: [
        new inversifyPackage.ContainerModule(({ bind }) => void bind(marker).toConstantValue('package')),
        new tsmicro.ContainerModule(({ rebind }) => void rebind(marker).toConstantValue('tsmicro')),
      ],
    });
    expect(app.get(marker)).toBe('tsmicro');
  });
});
