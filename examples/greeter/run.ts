/**
 * `npm start`: runs the greeter service and a client as two separate processes on the embedded defaults,
 * prints what happens, and exits 0 when the call, the validation error and the event all went as expected.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
const TIMEOUT_MS = 20_000;

function start(script: string): { child: ChildProcess; lines: string[]; waitFor: (pattern: RegExp) => Promise<string> } {
  const child = spawn(process.execPath, [join(here, script)], { stdio: ['ignore', 'pipe', 'inherit'], env: process.env });
  const lines: string[] = [];
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  let buffered = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      lines.push(line);
      console.log(line);
      for (const waiter of [...waiters]) if (waiter.pattern.test(line)) waiters.splice(waiters.indexOf(waiter), 1) && waiter.resolve(line);
    }
  });
  const waitFor = (pattern: RegExp): Promise<string> => {
    const seen = lines.find((line) => pattern.test(line));
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => waiters.push({ pattern, resolve }));
  };
  return { child, lines, waitFor };
}

function exited(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    child.once('exit', (code) => resolve(code ?? 1));
  });
}

const timer = setTimeout(() => {
  console.error(`example did not finish within ${TIMEOUT_MS} ms`);
  process.exit(1);
}, TIMEOUT_MS);

const server = start('server.js');
const ready = await server.waitFor(/^ready /);
console.log(`[run] greeter service is up at ${ready.slice(6)}; starting the client process`);
const client = start('client.js');
const clientCode = await exited(client.child);
// Two events reach the service: one published by its own handler, one by the client.
await Promise.race([Promise.all([server.waitFor(/event greeter.greeted: Ada/), server.waitFor(/event greeter.greeted: Grace/)]), exited(server.child)]);
server.child.kill('SIGTERM');
const serverCode = await exited(server.child);
clearTimeout(timer);
const ok = clientCode === 0 && serverCode === 0 && server.lines.some((line) => line.includes('Grace'));
console.log(ok ? '[run] done: call, validation error and events all worked' : `[run] failed (client exit ${clientCode}, server exit ${serverCode})`);
process.exit(ok ? 0 : 1);
