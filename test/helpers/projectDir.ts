import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** A throwaway project directory with files written into it: config files, plugin modules, packages. */
export class ProjectDir {
  readonly path: string;

  constructor(root = tmpdir()) {
    mkdirSync(root, { recursive: true });
    this.path = mkdtempSync(join(root, 'tsmicro-project-'));
  }

  write(relative: string, content: string | object): string {
    const full = join(this.path, relative);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
    return full;
  }

  remove(): void {
    rmSync(this.path, { recursive: true, force: true });
  }
}
