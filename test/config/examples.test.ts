import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { CORE_VERSION, loadConfig } from '../../src/index.js';

describe('shipped config', () => {
  it.each(readdirSync(join(process.cwd(), 'config', 'examples')))('config/examples/%s is valid', async (file) => {
    await expect(loadConfig({ cwd: process.cwd(), env: {}, argv: ['--config', join('config', 'examples', file)] })).resolves.toBeDefined();
  });

  it('CORE_VERSION is the package version', () => {
    expect(CORE_VERSION).toBe(JSON.parse(readFileSync(join(process.cwd(), 'package.json'), 'utf8')).version);
  });
});
