/**
 * One process owns a data dir. The lock file holds the owner's pid and host (and, for a running
 * service, the URL it listens on, so the CLI finds it); a second process refuses with a message
 * naming the owner. A lock left by a process that died (SIGKILL, power
 * loss) is taken over at once, so a crashed service restarts without waiting for a timeout.
 */
import {
  closeSync,
  constants,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
  fsyncSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DomainError, problem } from '../../core/problem.js';

export interface DataDirLock {
  readonly file: string;
  release(): void;
}

export interface LockOwner {
  pid: number;
  host: string;
  since: string;
  purpose: string;
  /** Where the service holding the lock can be reached from this machine (`serve` only). */
  url?: string;
}

/** Dirs locked by this process: a second store in the same process must refuse too. */
const heldHere = new Set<string>();

export function lockDataDir(dataDir: string, purpose: string): DataDirLock {
  const file = path.join(dataDir, 'baobei.lock');
  if (heldHere.has(file)) throw heldBy(dataDir, readOwner(file));
  const me: LockOwner = { pid: process.pid, host: os.hostname(), since: new Date().toISOString(), purpose };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeOwner(file, me, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL);
      let released = false;
      heldHere.add(file);
      return {
        file,
        release() {
          if (released) return;
          released = true;
          heldHere.delete(file);
          rmSync(file, { force: true });
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = readOwner(file);
      if (owner && isAlive(owner)) throw heldBy(dataDir, owner);
      // The owner is gone: remove its stale lock and try once more (O_EXCL keeps this race-free).
      rmSync(file, { force: true });
    }
  }
  throw heldBy(dataDir, readOwner(file));
}

/**
 * Adds the running service's URL to the lock this process holds on the data dir (no-op when it
 * holds none, e.g. on PostgreSQL). Written beside and renamed over, so a reader never sees half.
 */
export function recordServiceUrl(dataDir: string, url: string): void {
  const file = path.join(dataDir, 'baobei.lock');
  if (!heldHere.has(file)) return;
  const owner = readOwner(file);
  if (!owner || owner.pid !== process.pid) return;
  const temp = `${file}.${process.pid}.tmp`;
  writeOwner(temp, { ...owner, url }, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC);
  renameSync(temp, file);
}

function writeOwner(file: string, owner: LockOwner, flags: number): void {
  const fd = openSync(file, flags, 0o600);
  try {
    writeSync(fd, JSON.stringify(owner));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** The owner of a data dir's lock, when a live process holds it. */
export function lockOwner(dataDir: string): LockOwner | undefined {
  const owner = readOwner(path.join(dataDir, 'baobei.lock'));
  return owner && isAlive(owner) ? owner : undefined;
}

function readOwner(file: string): LockOwner | undefined {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<LockOwner>;
    if (typeof parsed.pid !== 'number' || typeof parsed.host !== 'string') return undefined;
    return {
      pid: parsed.pid,
      host: parsed.host,
      since: String(parsed.since ?? ''),
      purpose: String(parsed.purpose ?? ''),
      ...(typeof parsed.url === 'string' ? { url: parsed.url } : {}),
    };
  } catch {
    return undefined;
  }
}

function isAlive(owner: LockOwner): boolean {
  // A lock from another host cannot be checked; treat it as held rather than risk two writers.
  if (owner.host !== os.hostname()) return true;
  if (owner.pid === process.pid) return false;
  try {
    process.kill(owner.pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function heldBy(dataDir: string, owner: LockOwner | undefined): DomainError {
  const who = owner
    ? `pid ${owner.pid} on ${owner.host} (${owner.purpose}, since ${owner.since})`
    : 'another process';
  return new DomainError(
    problem(
      'store.locked',
      `数据目录 ${dataDir} 正被另一个进程使用：${who}。同一数据目录只能由一个进程写入。`,
      `The data dir ${dataDir} is in use by ${who}. Only one process may write a data dir.`,
    ),
    { dataDir, owner: owner ?? null },
  );
}
