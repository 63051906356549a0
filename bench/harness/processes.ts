import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { OrchestratorMessage, WorkerMessage, WorkerSpec } from './protocol.js';

const here = dirname(fileURLToPath(import.meta.url));

/** The compiled worker: next to this file when running compiled, in dist/ when this file runs as TypeScript (Jest). */
export const WORKER_SCRIPT = fileURLToPath(import.meta.url).endsWith('.ts') ? resolve(here, '../../dist/bench/harness/worker.js') : resolve(here, 'worker.js');
/** The project root: worker processes run there, so tsmicro finds plugin packages as an application would. */
export const PROJECT_ROOT = resolve(WORKER_SCRIPT, '../../../..');

/** A worker process with typed messages and the tail of its stderr for error reports. */
export class Worker {
  readonly child: ChildProcess;
  #stderr = '';
  readonly #exited: Promise<number | null>;

  constructor(readonly spec: WorkerSpec) {
    // BENCH_WORKER_FLAGS profiles the workers: BENCH_WORKER_FLAGS="--cpu-prof --cpu-prof-dir=/tmp/prof".
    const flags = (process.env.BENCH_WORKER_FLAGS ?? '').split(' ').filter(Boolean);
    this.child = spawn(process.execPath, [...flags, '--expose-gc', WORKER_SCRIPT, JSON.stringify(spec)], { cwd: PROJECT_ROOT, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    this.child.stderr!.on('data', (chunk: Buffer) => (this.#stderr = (this.#stderr + chunk.toString()).slice(-4000)));
    this.#exited = new Promise((done) => this.child.once('exit', (code) => done(code)));
    this.child.on('error', () => undefined);
  }

  get stderr(): string {
    return this.#stderr;
  }

  on(listener: (message: WorkerMessage) => void): void {
    this.child.on('message', (message) => listener(message as WorkerMessage));
  }

  /** Best effort: a worker that has just exited cannot take a late credit or sample, and needs none. */
  send(message: OrchestratorMessage): void {
    if (this.child.connected) this.child.send(message, () => undefined);
  }

  /** The first message of `type`, failing on a `failed` message, an early exit, or after `timeoutMs`. */
  next<T extends WorkerMessage['type']>(type: T, timeoutMs: number): Promise<Extract<WorkerMessage, { type: T }>> {
    return new Promise((resolvePromise, reject) => {
      const what = `${this.spec.role} ${this.spec.adapter} (${this.spec.env.variant})`;
      const timer = setTimeout(() => finish(new Error(`${what}: no "${type}" within ${timeoutMs} ms\n${this.#stderr}`)), timeoutMs);
      const onMessage = (message: WorkerMessage): void => {
        if (message.type === type) finish(undefined, message as Extract<WorkerMessage, { type: T }>);
        else if (message.type === 'failed') finish(new Error(`${what} failed: ${message.error}`));
      };
      const onExit = (code: number | null): void => finish(new Error(`${what} exited (${code}) before "${type}"\n${this.#stderr}`));
      const finish = (error?: Error, message?: Extract<WorkerMessage, { type: T }>): void => {
        clearTimeout(timer);
        this.child.off('message', onMessage);
        this.child.off('exit', onExit);
        if (error) reject(error);
        else resolvePromise(message!);
      };
      this.child.on('message', onMessage);
      this.child.once('exit', onExit);
    });
  }

  /** Asks the worker to stop, and kills it if it has not exited after `graceMs`. */
  async stop(graceMs = 5000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.send({ type: 'stop' });
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.#exited;
    clearTimeout(timer);
  }

  exited(): Promise<number | null> {
    return this.#exited;
  }
}
