/**
 * Focused profile of one 1,000-row lowdb commit (issue 12): preloads N records, then runs
 * write() of 1,000 new records COMMITS times, printing each write's time. Run under
 * `BENCH_PROFILE=commit.cpuprofile npx tsx bench/lowdbCommitProfile.ts 100000` to see where a
 * commit goes (the profile covers the commits only, not the preload).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Session } from 'node:inspector/promises';
import { writeFile } from 'node:fs/promises';
import { keyringFromMasterKey } from '../server/security/keyring.js';
import { LowdbStore } from '../server/store/lowdbStore.js';
import type { StoredRecord } from '../core/schema.js';
import { discardedWrite } from './discardedWrite.js';
import { copyOf, evaluatedTemplates } from './lowdbFixtures.js';

const size = Number(process.argv[2] ?? 100_000);
const commits = Number(process.argv[3] ?? 20);
const keyring = keyringFromMasterKey(randomBytes(32));
const templates = await evaluatedTemplates(keyring, 2_000);
const dataDir = await mkdtemp(path.join(os.tmpdir(), 'baobei-lowdb-prof-'));
try {
  const store = await LowdbStore.open({ dataDir, keyring, compactBytes: 2 ** 40 });
  for (let from = 0; from < size; from += 50_000)
    await store.write(async (tx) => {
      for (let n = from; n < Math.min(size, from + 50_000); n++)
        await tx.putRecord(copyOf(templates[n % templates.length]!, n + 1));
    });
  // Only the commits are profiled (BENCH_PROFILE=file.cpuprofile), not the preload.
  const profileFile = process.env['BENCH_PROFILE'];
  const session = profileFile ? new Session() : undefined;
  if (session) {
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
  }
  let next = size + 1;
  const times: number[] = [];
  const stageTimes: number[] = [];
  /** CPU time of the process per write() (user + system, all threads): less sensitive to other jobs than the wall clock. */
  const cpuTimes: number[] = [];
  const stageCpu: number[] = [];
  for (let c = 0; c < commits; c++) {
    const batch: StoredRecord[] = Array.from({ length: 1_000 }, () =>
      copyOf(templates[next % templates.length]!, next++),
    );
    let t = performance.now();
    const simCpu = process.cpuUsage();
    // Staged and sealed as the write below, then discarded: write() minus this is the commit.
    await discardedWrite(store, async (tx) => {
      for (const r of batch) await tx.putRecord(r);
    });
    stageTimes.push(performance.now() - t);
    const simUsed = process.cpuUsage(simCpu);
    stageCpu.push((simUsed.user + simUsed.system) / 1000);
    t = performance.now();
    const cpu = process.cpuUsage();
    await store.write(async (tx) => {
      for (const r of batch) await tx.putRecord(r);
    });
    times.push(performance.now() - t);
    const used = process.cpuUsage(cpu);
    cpuTimes.push((used.user + used.system) / 1000);
  }
  if (session && profileFile) {
    const { profile } = await session.post('Profiler.stop');
    await writeFile(profileFile, JSON.stringify(profile));
  }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
  console.log(
    `stored ${size}: write() median ${med(times).toFixed(1)} ms (CPU ${med(cpuTimes).toFixed(1)} ms), simulate ${med(stageTimes).toFixed(1)} ms (CPU ${med(stageCpu).toFixed(1)} ms), load ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  console.log(times.map((x) => x.toFixed(1)).join(' '));
  await store.close();
} finally {
  await rm(dataDir, { recursive: true, force: true });
}
