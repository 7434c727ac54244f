/**
 * Before → after of the lowdb commit in one process (issue 12): this checkout's LowdbStore and
 * another checkout's (a git worktree of the base, say), each with its own store of N records
 * reopened from its snapshot as `serve` has it, commit the same 1,000 new records in turn (the
 * order alternates). On a shared machine two processes run minutes apart see different loads; here
 * both see the same. Commit = write() − a discarded write of the same records (staged and sealed as
 * the write, then thrown away: a dry run no longer seals, so `simulate` would leave the sealing in
 * the difference for a checkout that has that change and not for one without), wall and CPU, with
 * the collector's pauses and young-generation collections inside write(). Prints; asserts nothing.
 *
 *   npx tsx --expose-gc bench/lowdbCommitAB.ts /path/to/base-checkout 100000 40
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { performance, PerformanceObserver } from 'node:perf_hooks';
import type { StoredRecord } from '../core/schema.js';
import { keyringFromMasterKey } from '../server/security/keyring.js';
import type { LowdbStore } from '../server/store/lowdbStore.js';
import type { WriteTx } from '../server/store/store.js';
import { discardedWrite } from './discardedWrite.js';
import { copyOf, evaluatedTemplates } from './lowdbFixtures.js';

const base = path.resolve(process.argv[2] ?? '');
const size = Number(process.argv[3] ?? 100_000);
const commits = Number(process.argv[4] ?? 40);
const here = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const checkouts = [base, here];
/** Records per preload transaction (the preload is not measured). */
const PRELOAD_BATCH = 50_000;

let gcMs = 0;
let scavenges = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    gcMs += entry.duration;
    if ((entry as { detail?: { kind?: number } }).detail?.kind === 1) scavenges++;
  }
}).observe({ entryTypes: ['gc'] });

const keyring = keyringFromMasterKey(randomBytes(32));
const templates = await evaluatedTemplates(keyring, 2_000);
const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
const stores: LowdbStore[] = [];
const dirs: string[] = [];
try {
  for (const checkout of checkouts) {
    const { LowdbStore: Store } = (await import(path.join(checkout, 'server/store/lowdbStore.ts'))) as {
      LowdbStore: typeof LowdbStore;
    };
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'baobei-lowdb-ab-'));
    dirs.push(dataDir);
    const options = { dataDir, keyring, compactBytes: 2 ** 40 };
    const preload = await Store.open(options);
    for (let from = 0; from < size; from += PRELOAD_BATCH)
      await preload.write(async (tx) => {
        for (let n = from; n < Math.min(size, from + PRELOAD_BATCH); n++)
          await tx.putRecord(copyOf(templates[n % templates.length]!, n + 1));
      });
    await preload.close();
    gc();
    stores.push(await Store.open(options));
  }
  gc();
  const figures = checkouts.map(() => ({
    wall: [] as number[],
    cpu: [] as number[],
    gc: [] as number[],
    scav: [] as number[],
  }));
  let next = size + 1;
  for (let c = 0; c < commits; c++) {
    const batch: StoredRecord[] = Array.from({ length: 1_000 }, () =>
      copyOf(templates[next % templates.length]!, next++),
    );
    const stage = async (tx: WriteTx) => {
      for (const r of batch) await tx.putRecord(r);
    };
    for (const i of c % 2 === 0 ? [0, 1] : [1, 0]) {
      const store = stores[i]!;
      let t = performance.now();
      let cpu = process.cpuUsage();
      await discardedWrite(store, stage);
      const simulated = performance.now() - t;
      let used = process.cpuUsage(cpu);
      const simulatedCpu = (used.user + used.system) / 1000;
      gcMs = 0;
      scavenges = 0;
      t = performance.now();
      cpu = process.cpuUsage();
      await store.write(stage);
      const written = performance.now() - t;
      used = process.cpuUsage(cpu);
      const f = figures[i]!;
      f.wall.push(written - simulated);
      f.cpu.push((used.user + used.system) / 1000 - simulatedCpu);
      f.gc.push(gcMs);
      f.scav.push(scavenges);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!.toFixed(1);
  const mean = (xs: number[]) => (xs.reduce((a, b) => a + b, 0) / xs.length).toFixed(1);
  for (const [i, checkout] of checkouts.entries()) {
    const f = figures[i]!;
    console.log(
      `${i === 0 ? 'base' : 'this'} (${checkout}) stored ${size}: commit median ${median(f.wall)} ms, mean ${mean(f.wall)}; CPU median ${median(f.cpu)} ms, mean ${mean(f.cpu)}; GC pauses in write() mean ${mean(f.gc)} ms, young collections per write() ${mean(f.scav)}`,
    );
  }
  console.log(
    `${commits} commits each; load ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join('/')}`,
  );
} finally {
  for (const store of stores) await store.close();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
}
