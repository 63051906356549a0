import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { NodeEntry } from '../serviceModel.js';

// node:fs through getBuiltinModule: an ES import of it also evaluates its lazy getters (file streams, Utf8Stream,
// glob, …): memory and milliseconds at every start, for parts nothing here uses.
const { promises: fs, renameSync, rmSync, writeFileSync } = process.getBuiltinModule('node:fs');

/**
 * The on-disk form of the file registry: one JSON file per node, named `<service>@<hash>.json` so a lookup by
 * service reads only that service's files. Files are written to a temporary name and renamed into place, so a
 * reader never sees half a file.
 */
export interface EntryFile extends NodeEntry {
  format: 1;
  /** The owning process, so a reader on the same host can tell a killed process from a slow one. */
  pid: number;
  host: string;
}

const HOST = hostname();

export function servicePrefix(name: string): string {
  return `${encodeURIComponent(name)}@`;
}

export function fileNameOf(entry: NodeEntry): string {
  const hash = createHash('sha1').update(`${entry.service.version}\u0000${entry.node.id}`).digest('hex').slice(0, 24);
  return `${servicePrefix(entry.service.name)}${hash}.json`;
}

/**
 * Written synchronously. An entry is under a kilobyte, in a directory local to the machine: writing it to the page
 * cache and renaming it costs about 0.1 ms of the event loop, less than one of the four thread-pool round trips
 * (open, write, close, rename) the asynchronous calls make. On a busy machine each of those waits for a pool
 * thread and then for the event loop, and the first also starts the pool: 5–25 ms measured between a service
 * being ready and its entry being visible, here under load. Reads stay asynchronous (a directory may hold many entries).
 */
export async function writeEntry(directory: string, entry: NodeEntry): Promise<void> {
  const file: EntryFile = { format: 1, ...entry, pid: process.pid, host: HOST };
  const name = fileNameOf(entry);
  const temporary = join(directory, `.${name}.${randomBytes(6).toString('hex')}.tmp`);
  writeFileSync(temporary, JSON.stringify(file));
  try {
    renameSync(temporary, join(directory, name));
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}

export async function removeEntry(directory: string, entry: NodeEntry): Promise<void> {
  await fs.rm(join(directory, fileNameOf(entry)), { force: true });
}

/** True when the entry's process is known to be gone: same host and no such pid. */
export function ownerIsDead(file: EntryFile): boolean {
  if (file.host !== HOST || file.pid === process.pid) return false;
  try {
    process.kill(file.pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

function parseEntry(text: string): EntryFile | undefined {
  try {
    const value = JSON.parse(text) as EntryFile;
    if (value?.format !== 1 || typeof value.service?.name !== 'string' || typeof value.node?.id !== 'string') return undefined;
    return value;
  } catch {
    return undefined;
  }
}

export interface ReadResult {
  /** Live entries by file name. */
  live: Map<string, EntryFile>;
  /** Files that could not be parsed: reported, never fatal. */
  unreadable: string[];
}

/**
 * Reads the entries whose file names start with `prefix` ('' for all). Dead entries are removed from disk: at
 * once when their process is gone, after `graceMs` past their expiry otherwise (a paused owner may renew late,
 * and removing a file it has just rewritten would drop a live node until its next renewal).
 */
export async function readEntries(directory: string, prefix: string, now: number, graceMs: number): Promise<ReadResult> {
  const live = new Map<string, EntryFile>();
  const unreadable: string[] = [];
  let names: string[];
  try {
    names = await fs.readdir(directory);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { live, unreadable };
    throw error;
  }
  await Promise.all(
    names
      .filter((name) => name.endsWith('.json') && !name.startsWith('.') && name.startsWith(prefix))
      .map(async (name) => {
        const path = join(directory, name);
        let text: string;
        try {
          text = await fs.readFile(path, 'utf8');
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ENOENT') unreadable.push(name);
          return;
        }
        const file = parseEntry(text);
        if (!file) {
          unreadable.push(name);
          return;
        }
        const expired = file.expiresAt !== 0 && file.expiresAt <= now;
        const dead = ownerIsDead(file);
        if (!expired && !dead) live.set(name, file);
        else if (dead || file.expiresAt + graceMs <= now) await fs.rm(path, { force: true });
      }),
  );
  return { live, unreadable };
}
