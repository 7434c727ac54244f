/**
 * The embedded store's cost against its size (issue 12): for each store size, the time of one
 * 1,000-row commit (median of 10), start-up (a fresh process opening the data dir: snapshot only,
 * and snapshot plus an uncompacted journal as a crash leaves it), the files' size and the RSS of
 * the opened store, each with its ratio to the issue's target. Prints; asserts nothing.
 *
 *   npx tsx bench/lowdbStore.bench.ts [SIZES…]     e.g. 10000 100000 1000000 (default 10k 100k)
 *   BENCH_LOWDB_SIZES="10000 100000 1000000" npm run bench lowdbStore
 *
 * Stored records are copies of 2,000 records the real row evaluation produced, each with its own
 * number and identity keys (so the key index and the file have the real sizes); generating 1M
 * through the evaluation would take longer than the figures it serves.
 */
import { spawnSync } from 'node:child_process';
import { cp, mkdtemp, rm, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { DEFAULT_POLICY } from '../core/policy.js';
import type { IdentityKeys, Registration, StoredRecord, SubmissionRow } from '../core/schema.js';
import { keyringFromMasterKey } from '../server/security/keyring.js';
import { evaluateRow } from '../server/services/rowEvaluation.js';
import { LowdbStore } from '../server/store/lowdbStore.js';
import type { WriteTx } from '../server/store/store.js';
import { generateRegistrations } from './generate.js';

const COMMIT_ROWS = 1_000;
const COMMITS = 10;
const TEMPLATES = 2_000;
/** Preloaded in transactions of this many records (one journal line each). */
const PRELOAD_CHUNK = 50_000;
const TARGET_COMMIT_MS = 20;
const TARGET_START_MS_100K = 5_000;

const fmt = (n: number, d = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function machine(): string {
  const cpus = os.cpus();
  return `${cpus[0]?.model ?? 'cpu'} × ${cpus.length}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, node ${process.version}`;
}

function asRow(reg: Registration, i: number): SubmissionRow {
  const row: SubmissionRow = { clientRowId: i, source: '展会', region: '上海' };
  for (const [k, v] of Object.entries(reg)) (row as Record<string, unknown>)[k] = v;
  return row;
}

/** A copy of a template with its own number and identity: distinct index keys of the same length. */
function copyOf(template: StoredRecord, n: number): StoredRecord {
  const tag = `~${n.toString(36)}`;
  const id: IdentityKeys = template.identity;
  return {
    ...template,
    no: `BB-2026-${String(n).padStart(7, '0')}`,
    identity: {
      ...id,
      name: id.name + tag,
      creditCode: id.creditCode === null ? null : id.creditCode + tag,
      phone: id.phone === null ? null : id.phone + tag,
      maskedPhone: id.maskedPhone === null ? null : id.maskedPhone + tag,
      nameBlocks: id.nameBlocks.map((b) => b + tag),
    },
  };
}

async function dirBytes(dir: string, name: string): Promise<number> {
  const file = path.join(dir, name);
  return existsSync(file) ? (await stat(file)).size : 0;
}

/** Start-up in a fresh process (its RSS is then the store's alone). */
function openInChild(dataDir: string, key: Buffer): { ms: number; rssMiB: number } {
  const self = fileURLToPath(import.meta.url);
  const out = spawnSync(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', self, '--open', dataDir, key.toString('hex')],
    {
      encoding: 'utf8',
    },
  );
  if (out.status !== 0) throw new Error(`open failed: ${out.stderr}`);
  return JSON.parse(out.stdout.trim().split('\n').pop()!) as { ms: number; rssMiB: number };
}

async function openOnly(dataDir: string, keyHex: string): Promise<void> {
  const t = performance.now();
  // warnRecords unset; a large compactBytes so the bench's close does not compact the copy.
  const store = await LowdbStore.open({ dataDir, keyring: keyringFromMasterKey(Buffer.from(keyHex, 'hex')) });
  const ms = performance.now() - t;
  (globalThis as { gc?: () => void }).gc?.();
  const rssMiB = process.memoryUsage().rss / 2 ** 20;
  console.log(JSON.stringify({ ms, rssMiB }));
  process.exit(0); // without close: leave the files as they are (a crash copy stays a crash copy)
  void store;
}

async function measure(size: number, templates: StoredRecord[]): Promise<void> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'baobei-lowdb-bench-'));
  const key = randomBytes(32);
  const keyring = keyringFromMasterKey(key);
  try {
    let t = performance.now();
    const store = await LowdbStore.open({ dataDir, keyring });
    for (let from = 0; from < size; from += PRELOAD_CHUNK) {
      await store.write(async (tx) => {
        for (let n = from; n < Math.min(size, from + PRELOAD_CHUNK); n++)
          await tx.putRecord(copyOf(templates[n % templates.length]!, n + 1));
      });
    }
    await store.close();
    const preloadS = (performance.now() - t) / 1000;
    const clean = openInChild(dataDir, key);

    const reopened = await LowdbStore.open({ dataDir, keyring });
    // The commit is what write() adds to the same work discarded by simulate(): staging (sealing
    // 1,000 records) is per-row work; the commit is the change applied, journalled and fsynced.
    const commits: number[] = [];
    const writes: number[] = [];
    let next = size + 1;
    for (let c = 0; c < COMMITS; c++) {
      const batch = Array.from({ length: COMMIT_ROWS }, () =>
        copyOf(templates[next % templates.length]!, next++),
      );
      const stage = async (tx: WriteTx) => {
        for (const r of batch) await tx.putRecord(r);
      };
      t = performance.now();
      await reopened.simulate(stage);
      const staged = performance.now() - t;
      t = performance.now();
      await reopened.write(stage);
      const written = performance.now() - t;
      writes.push(written);
      commits.push(Math.max(0, written - staged));
    }
    const crashDir = await mkdtemp(path.join(os.tmpdir(), 'baobei-lowdb-bench-crash-'));
    for (const name of ['baobei.json', 'baobei.journal'])
      await cp(path.join(dataDir, name), path.join(crashDir, name));
    const snapshotMiB = (await dirBytes(dataDir, 'baobei.json')) / 2 ** 20;
    const journalMiB = (await dirBytes(dataDir, 'baobei.journal')) / 2 ** 20;
    await reopened.close();
    const withJournal = openInChild(crashDir, key);
    await rm(crashDir, { recursive: true, force: true });

    const commit = median(commits);
    const startTarget = (TARGET_START_MS_100K * size) / 100_000;
    console.log(
      [
        `| ${fmt(size)}`,
        `${fmt(commit, 1)} ms (${fmt(commit / TARGET_COMMIT_MS, 2)}× target)`,
        `${fmt(median(writes), 1)} ms`,
        `${fmt(clean.ms / 1000, 2)} s (${fmt(clean.ms / startTarget, 2)}× pro-rata target)`,
        `${fmt(withJournal.ms / 1000, 2)} s`,
        `${fmt(snapshotMiB, 1)} MiB + ${fmt(journalMiB, 1)} MiB journal`,
        `${fmt(clean.rssMiB)} MiB`,
        `${fmt(preloadS, 1)} s |`,
      ].join(' | '),
    );
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === '--open') return openOnly(args[1]!, args[2]!);
  const sizes = (args.length > 0 ? args : (process.env['BENCH_LOWDB_SIZES'] ?? '10000 100000').split(/\s+/))
    .filter(Boolean)
    .map(Number);
  console.log(`# lowdb store: cost against size — ${machine()}`);
  console.log(
    `targets (issue 12): 1,000-row commit ≤ ${TARGET_COMMIT_MS} ms at 100k and flat 10k→1M; start-up ≤ ${TARGET_START_MS_100K / 1000} s at 100k (pro rata for other sizes)`,
  );
  const now = new Date('2026-11-23T02:00:00.000Z');
  const keyring = keyringFromMasterKey(randomBytes(32));
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'baobei-lowdb-bench-tpl-'));
  const store = await LowdbStore.open({ dataDir: tmp, keyring });
  const templates: StoredRecord[] = [];
  await store.simulate(async (tx) => {
    for (const [i, g] of generateRegistrations(TEMPLATES, 11).rows.entries()) {
      const e = await evaluateRow(asRow(g.registration, i), {
        tx,
        actor: { id: 'bench', name: 'admin', role: 'admin' },
        policy: DEFAULT_POLICY,
        now,
        keyring,
      });
      if (e.record) templates.push(e.record);
    }
  });
  await store.close();
  await rm(tmp, { recursive: true, force: true });
  console.log(
    '| stored | 1,000-row commit (median of 10) | write() incl. sealing 1,000 rows | start-up, snapshot | start-up, + journal of 10 commits | files | RSS after open | preload |',
  );
  console.log('|---|---|---|---|---|---|---|---|');
  for (const size of sizes) await measure(size, templates);
}

await main();
