import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

/** Compiled scripts live in dist/ (npm test builds first), since a child process cannot run TypeScript. */
export function distPath(...parts: string[]): string {
  return join(process.cwd(), 'dist', ...parts);
}

/** A Node child process whose standard output is read line by line. */
export class NodeProcess {
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  stderr = '';
  #listeners: (() => void)[] = [];
  #exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(script: string, args: string[] = [], env: NodeJS.ProcessEnv = {}) {
    this.child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let partial = '';
    this.child.stdout!.on('data', (chunk: Buffer) => {
      partial += chunk.toString();
      const parts = partial.split('\n');
      partial = parts.pop()!;
      this.lines.push(...parts);
      for (const listener of this.#listeners) listener();
    });
    this.child.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.#exit = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  /** Resolves with the first line matching `pattern`; rejects after `timeoutMs` showing what was printed. */
  waitFor(pattern: RegExp, timeoutMs = 10_000): Promise<string> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const line = this.lines.find((candidate) => pattern.test(candidate));
        if (line === undefined) return false;
        clearTimeout(timer);
        this.#listeners = this.#listeners.filter((listener) => listener !== onLine);
        resolve(line);
        return true;
      };
      const onLine = (): void => void check();
      const timer = setTimeout(() => {
        this.#listeners = this.#listeners.filter((listener) => listener !== onLine);
        reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms\nstdout:\n${this.lines.join('\n')}\nstderr:\n${this.stderr}`));
      }, timeoutMs);
      if (!check()) this.#listeners.push(onLine);
    });
  }

  exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return this.#exit;
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
  }
}
