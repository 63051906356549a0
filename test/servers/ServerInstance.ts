import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ServerDefinition } from './definitions.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * One running server: its own port and data directory, started detached (it outlives the launcher), with its
 * output in `<directory>/server.log` and its pid in `<directory>/server.pid`. Tests use instances of their own to
 * stop and restart a server mid-run without disturbing other tests.
 */
export class ServerInstance {
  constructor(
    readonly definition: ServerDefinition,
    readonly port: number,
    readonly directory: string,
  ) {
    mkdirSync(directory, { recursive: true });
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  get logFile(): string {
    return join(this.directory, 'server.log');
  }

  async answers(): Promise<boolean> {
    try {
      await this.definition.probe(this.port);
      return true;
    } catch {
      return false;
    }
  }

  /** Starts the server unless it already answers, and waits until it does. */
  async start(): Promise<void> {
    if (await this.answers()) return;
    const { command, args, env } = this.definition.command(this.port, this.directory);
    const log = openSync(this.logFile, 'a');
    const child = spawn(command, args, { cwd: this.directory, env: { ...process.env, ...env }, stdio: ['ignore', log, log], detached: true });
    writeFileSync(join(this.directory, 'server.pid'), String(child.pid));
    let exited: string | undefined;
    child.once('exit', (code, signal) => (exited = `exited with ${code ?? signal}`));
    child.unref();
    const deadline = Date.now() + this.definition.startTimeoutMs;
    while (Date.now() < deadline) {
      if (await this.answers()) return;
      if (exited) break;
      await sleep(200);
    }
    const tail = existsSync(this.logFile) ? readFileSync(this.logFile, 'utf8').split('\n').slice(-15).join('\n') : '';
    throw new Error(`${this.definition.name} did not answer on ${this.address} (${exited ?? `timed out after ${this.definition.startTimeoutMs} ms`}); log ${this.logFile}:\n${tail}`);
  }

  #pid(): number | undefined {
    const file = join(this.directory, 'server.pid');
    if (!existsSync(file)) return undefined;
    const pid = Number(readFileSync(file, 'utf8'));
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  }

  /** Stops the server: SIGTERM (a clean shutdown that persists what the server persists), SIGKILL after a while. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 20_000): Promise<void> {
    const pid = this.#pid();
    if (pid === undefined) return;
    const alive = (): boolean => {
      try {
        process.kill(-pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    try {
      process.kill(-pid, signal);
    } catch {
      // Already gone.
    }
    const deadline = Date.now() + timeoutMs;
    while (alive() && Date.now() < deadline) await sleep(100);
    if (alive()) process.kill(-pid, 'SIGKILL');
    while (alive()) await sleep(50);
    // The port may linger a moment after the process is gone.
    while (await this.answers()) await sleep(100);
    rmSync(join(this.directory, 'server.pid'), { force: true });
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** Stops the server and deletes its data. */
  async destroy(): Promise<void> {
    await this.stop('SIGKILL');
    rmSync(this.directory, { recursive: true, force: true });
  }
}
