/**
 * The embedded store's cost against its size (issue 12), a section of `service.bench.ts`: for each
 * store size, one 1,000-row commit (median of 10; wall clock and CPU), start-up (a fresh process
 * opening the data dir: snapshot only, and snapshot plus the 10 commits' journal as a crash leaves
 * it), the files' size and the RSS of the opened store — each with its ratio to the target
 * or floor, and the load average when it was taken. Prints; asserts nothing.
 *
 *   npx tsx bench/lowdbSizes.ts 10000 100000 1000000     (this section alone)
 *
 * The stored records are sealed copies of records the real row evaluation produced (lowdbFixtures),
 * written straight into a snapshot in the store's format — one record per line — so 1M stored takes
 * a minute to make, not the hours of a million evaluations. Opening it is the store's own parse and
 * checks. Each measurement runs in its own process with Node's default heap limit, as `serve` would.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import type { StoredRecord } from '../core/schema.js';
import { keyringFromMasterKey, type Keyring } from '../server/security/keyring.js';
import { LowdbStore } from '../server/store/lowdbStore.js';
import { sealRecord } from '../server/store/recordCodec.js';
import type { WriteTx } from '../server/store/store.js';
import { discardedWrite } from './discardedWrite.js';
import { copyOf, evaluatedTemplates } from './lowdbFixtures.js';

const COMMIT_ROWS = 1_000;
const COMMITS = 10;
const TEMPLATES = 2_000;
/** Issue 12: a 1,000-row commit ≤ 20 ms at 100k stored, flat from 10k to 1M. */
const TARGET_COMMIT_MS = 20;
/** Issue 12: start-up ≤ 5 s at 100k stored (read pro rata for other sizes). */
const TARGET_START_MS_100K = 5_000;
/** Wait after opening before the memory is read (see openOnly). */
const SETTLE_MS = 3_000;
/** Snapshot bytes written per write call while generating. */
const GENERATE_CHUNK_BYTES = 8 * 1024 * 1024;

const fmt = (n: number, d = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join('/');

export function machine(): string {
  const cpus = os.cpus();
  return `${cpus[0]?.model ?? 'cpu'} × ${cpus.length}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, node ${process.version}`;
}

/**
 * A data dir holding `size` sealed records: the store writes its empty snapshot (head, keyCheck),
 * then the records are appended to it line by line in the same format (`"no":{sealed},`).
 */
async function generateStore(
  dataDir: string,
  keyring: Keyring,
  size: number,
  templates: StoredRecord[],
): Promise<void> {
  await (await LowdbStore.open({ dataDir, keyring })).close();
  const file = path.join(dataDir, 'baobei.json');
  const empty = await readFile(file, 'utf8');
  const TAIL = '\n}}';
  if (!empty.endsWith(`"records":{\n${TAIL}`))
    throw new Error('snapshot format changed: update the generator');
  const handle = await open(file, 'w');
  try {
    let chunk = empty.slice(0, -TAIL.length);
    for (let n = 1; n <= size; n++) {
      const record = copyOf(templates[n % templates.length]!, n);
      chunk += `${n > 1 ? ',\n' : ''}${JSON.stringify(record.no)}:${JSON.stringify(sealRecord(record, keyring))}`;
      if (chunk.length >= GENERATE_CHUNK_BYTES) {
        await handle.write(chunk);
        chunk = '';
      }
    }
    await handle.write(chunk + TAIL);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

interface OpenFigures {
  ms: number;
  /** CPU time of the open (all threads): less sensitive to other jobs than the wall clock. */
  cpuMs: number;
  rssMiB: number;
  heapMiB: number;
  records: number;
  load: string;
}

interface CommitFigures {
  /** write() minus a discarded write() of the same records: apply + journal + fsync (staging is per row). */
  commitMs: number[];
  writeMs: number[];
  writeCpuMs: number[];
  simulateCpuMs: number[];
  /** Appending the same bytes with fdatasync: the floor no journal can go under. */
  floorMs: number[];
  journalBytes: number;
  load: string;
}

/** Runs this file as a child (its memory and heap limit are its own); the last stdout line is JSON. */
function child<T>(args: string[]): T | { failed: string } {
  const out = spawnSync(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url), ...args],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  if (out.status !== 0) {
    const why =
      (out.stderr || '').split('\n').find((l) => /heap|memory|Error/i.test(l)) ?? `exit ${out.status}`;
    return { failed: why.trim().slice(0, 160) };
  }
  return JSON.parse(out.stdout.trim().split('\n').pop()!) as T;
}

async function openOnly(dataDir: string, keyHex: string): Promise<void> {
  const keyring = keyringFromMasterKey(Buffer.from(keyHex, 'hex'));
  const t = performance.now();
  const cpu = process.cpuUsage();
  const store = await LowdbStore.open({ dataDir, keyring });
  const ms = performance.now() - t;
  const used = process.cpuUsage(cpu);
  const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
  gc();
  // The collector frees a dead array buffer (the snapshot's bytes, 1.4 GB at 1M) concurrently after
  // a full collection: read the memory once that is done, not while it still counts.
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  gc();
  const mem = process.memoryUsage();
  const count = await store.read(async (tx) =>
    (await tx.countRecords({ today: '2026-11-23' })).reduce((n, c) => n + c.count, 0),
  );
  const figures: OpenFigures = {
    ms,
    cpuMs: (used.user + used.system) / 1000,
    rssMiB: mem.rss / 2 ** 20,
    heapMiB: mem.heapUsed / 2 ** 20,
    records: count,
    load: load(),
  };
  console.log(JSON.stringify(figures));
  process.exit(0); // without close: leave the files as they are (a crash copy stays a crash copy)
}

async function commitsOnly(
  dataDir: string,
  keyHex: string,
  templatesFile: string,
  from: number,
): Promise<void> {
  const keyring = keyringFromMasterKey(Buffer.from(keyHex, 'hex'));
  const templates = JSON.parse(await readFile(templatesFile, 'utf8')) as StoredRecord[];
  const store = await LowdbStore.open({ dataDir, keyring });
  const journal = path.join(dataDir, 'baobei.journal');
  const figures: CommitFigures = {
    commitMs: [],
    writeMs: [],
    writeCpuMs: [],
    simulateCpuMs: [],
    floorMs: [],
    journalBytes: 0,
    load: '',
  };
  let next = from;
  for (let c = 0; c < COMMITS; c++) {
    const batch = Array.from({ length: COMMIT_ROWS }, () =>
      copyOf(templates[next % templates.length]!, next++),
    );
    const stage = async (tx: WriteTx) => {
      for (const r of batch) await tx.putRecord(r);
    };
    let cpu = process.cpuUsage();
    let t = performance.now();
    // Staged and sealed as the write below, then discarded (simulate stages records unsealed).
    await discardedWrite(store, stage);
    const staged = performance.now() - t;
    let used = process.cpuUsage(cpu);
    figures.simulateCpuMs.push((used.user + used.system) / 1000);
    const before = existsSync(journal) ? (await stat(journal)).size : 0;
    cpu = process.cpuUsage();
    t = performance.now();
    await store.write(stage);
    const written = performance.now() - t;
    used = process.cpuUsage(cpu);
    figures.writeCpuMs.push((used.user + used.system) / 1000);
    figures.writeMs.push(written);
    figures.commitMs.push(Math.max(0, written - staged));
    const lineBytes = (await stat(journal)).size - before;
    figures.journalBytes += lineBytes;
    // The floor: the same number of bytes appended and fdatasynced to a file beside the journal.
    const floorFile = path.join(dataDir, 'floor.bin');
    const bytes = Buffer.alloc(lineBytes, 0x61);
    t = performance.now();
    const handle = await open(floorFile, 'a');
    await handle.write(bytes);
    await handle.datasync();
    await handle.close();
    figures.floorMs.push(performance.now() - t);
  }
  await rm(path.join(dataDir, 'floor.bin'), { force: true });
  figures.load = load();
  console.log(JSON.stringify(figures));
  process.exit(0); // without close: the journal stays uncompacted for the crash-copy start-up
}

async function fileMiB(dir: string, name: string): Promise<number> {
  const file = path.join(dir, name);
  return existsSync(file) ? (await stat(file)).size / 2 ** 20 : 0;
}

async function measure(size: number, templates: StoredRecord[], templatesFile: string): Promise<void> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'baobei-lowdb-sizes-'));
  const key = randomBytes(32);
  const keyHex = key.toString('hex');
  try {
    const t = performance.now();
    await generateStore(dataDir, keyringFromMasterKey(key), size, templates);
    const generateS = (performance.now() - t) / 1000;
    const snapshotMiB = await fileMiB(dataDir, 'baobei.json');
    const clean = child<OpenFigures>(['--open', dataDir, keyHex]);
    // The commits leave their journal uncompacted (the child exits without close): that data dir
    // is then the crash copy whose start-up replays the journal.
    const commits = child<CommitFigures>(['--commits', dataDir, keyHex, templatesFile, String(size + 1)]);
    const journalMiB = await fileMiB(dataDir, 'baobei.journal');
    const replay = child<OpenFigures>(['--open', dataDir, keyHex]);
    const startTarget = (TARGET_START_MS_100K * size) / 100_000;
    const cells = [`| ${fmt(size)}`];
    if ('failed' in commits) cells.push(`failed: ${commits.failed}`, '', '', '');
    else {
      const commit = median(commits.commitMs);
      const floor = median(commits.floorMs);
      const cpu = median(commits.writeCpuMs) - median(commits.simulateCpuMs);
      // The mean as well: a young-generation collection lands in write() or in simulate() by
      // chance, which moves the median of 10 by as much as the commit itself.
      cells.push(
        `${fmt(commit, 1)} ms, mean ${fmt(mean(commits.commitMs), 1)} (${fmt(commit / TARGET_COMMIT_MS, 2)}× target, ${fmt(commit / floor, 1)}× floor ${fmt(floor, 1)} ms); CPU ≈ ${fmt(cpu, 1)} ms, mean ${fmt(mean(commits.writeCpuMs) - mean(commits.simulateCpuMs), 1)}`,
        `${fmt(median(commits.writeMs), 1)} ms`,
        `${fmt(commits.journalBytes / COMMITS / 2 ** 20, 2)} MiB`,
        commits.load,
      );
    }
    if ('failed' in clean) cells.push(`failed: ${clean.failed}`, '');
    else
      cells.push(
        `${fmt(clean.ms / 1000, 2)} s (${fmt(clean.ms / TARGET_START_MS_100K, 2)}× the 100k target, ${fmt(clean.ms / startTarget, 2)}× pro rata; CPU ${fmt(clean.cpuMs / 1000, 2)} s) at load ${clean.load}`,
        `${fmt(clean.rssMiB)} MiB (heap ${fmt(clean.heapMiB)} MiB)`,
      );
    cells.push('failed' in replay ? `failed: ${replay.failed}` : `${fmt(replay.ms / 1000, 2)} s`);
    cells.push(`${fmt(snapshotMiB, 1)} MiB + ${fmt(journalMiB, 1)} MiB journal`, `${fmt(generateS, 1)} s |`);
    console.log(cells.join(' | '));
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** Prints the table for the given store sizes. */
export async function benchLowdbSizes(sizes: readonly number[]): Promise<void> {
  console.log(`## lowdb store: cost against size — ${machine()}`);
  console.log(
    `targets (issue 12): 1,000-row commit ≤ ${TARGET_COMMIT_MS} ms at 100k and flat 10k→1M; start-up ≤ ${TARGET_START_MS_100K / 1000} s at 100k. Floor of a commit: appending and fdatasyncing its bytes. Load average (1/5/15 min) next to each figure; 2 cores shared with other jobs.`,
  );
  const keyring = keyringFromMasterKey(randomBytes(32));
  const templates = await evaluatedTemplates(keyring, TEMPLATES);
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'baobei-lowdb-sizes-tpl-'));
  const templatesFile = path.join(tmp, 'templates.json');
  await writeFile(templatesFile, JSON.stringify(templates));
  console.log(
    '| stored | 1,000-row commit (median of 10: apply + journal + fsync) | write() incl. sealing 1,000 rows | journal per commit | load (commits) | start-up, snapshot | RSS after open | start-up, + 10-commit journal | files | generated in |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  try {
    for (const size of sizes) await measure(size, templates, templatesFile);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** Sizes from the command line or BENCH_LOWDB_SIZES (default 10k, 100k and 1M). */
export function lowdbSizes(args: readonly string[]): number[] {
  const text =
    args.length > 0 ? args.join(' ') : (process.env['BENCH_LOWDB_SIZES'] ?? '10000 100000 1000000');
  return text
    .split(/\s+/)
    .filter((word) => word !== '' && word !== 'none')
    .map(Number);
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const args = process.argv.slice(2);
  if (args[0] === '--open') await openOnly(args[1]!, args[2]!);
  else if (args[0] === '--commits') await commitsOnly(args[1]!, args[2]!, args[3]!, Number(args[4]));
  else await benchLowdbSizes(lowdbSizes(args));
}
