import { PassThrough } from 'node:stream';
import { describe, expect, it } from '@jest/globals';
import { PinoLogger } from '../../src/logger/PinoLogger.js';

/** The default logger opens pino on its first enabled line; what it writes does not depend on when that is. */
describe('PinoLogger', () => {
  const collect = (stream: PassThrough): (() => string) => {
    let text = '';
    stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
    return () => text;
  };

  it('writes nothing below its level, and lines from children made before the first line carry their bindings', () => {
    const destination = new PassThrough();
    const text = collect(destination);
    const root = PinoLogger.create({ level: 'info', format: 'pretty', destination });
    const child = root.child({ component: 'server' }).child({ service: 'greeter' });
    child.debug('below the level');
    expect(text()).toBe('');
    child.info('service started', { address: '127.0.0.1:1' });
    root.warn('root line');
    const lines = text();
    expect(lines).toMatch(/INFO: service started\n\s+component: "server"\n\s+service: "greeter"\n\s+address: "127.0.0.1:1"\n/);
    expect(lines).toMatch(/WARN: root line\n/);
    expect(lines).not.toMatch(/below the level/);
  });

  it('at silent, writes nothing at all', () => {
    const destination = new PassThrough();
    const text = collect(destination);
    const logger = PinoLogger.create({ level: 'silent', format: 'pretty', destination });
    logger.error('never');
    logger.child({ component: 'x' }).error('never either');
    expect(text()).toBe('');
  });
});
