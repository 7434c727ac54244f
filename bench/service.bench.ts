/**
 * The registration service under load: batches of 1,000 rows over real HTTP into a lowdb store
 * already holding 100,000 registrations — rows/s and p50/p99 batch latency alone and with 20
 * concurrent clients, the data file's size and the time one commit takes. The floor is what no
 * implementation can skip: JSON parse + zod validation of the same batch. Then the embedded store
 * against its size (bench/lowdbSizes.ts: 10k/100k/1M stored, BENCH_LOWDB_SIZES; `none` skips it).
 * Prints; asserts nothing.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { dayOf } from '../core/day.js';
import { DEFAULT_POLICY } from '../core/policy.js';
import type { Registration, SubmissionRow } from '../core/schema.js';
import { loadConfig } from '../server/config.js';
import { rowsBodySchema } from '../server/http/apiSchemas.js';
import { createLogger } from '../server/logger.js';
import { keyringFromMasterKey } from '../server/security/keyring.js';
import { startService } from '../server/service.js';
import { evaluateRow } from '../server/services/rowEvaluation.js';
import { LowdbStore } from '../server/store/lowdbStore.js';
import { generateQueries, generateRegistrations } from './generate.js';
import { benchLowdbSizes, lowdbSizes } from './lowdbSizes.js';

const STORED = Number(process.env['BENCH_STORED'] ?? 100_000);
const BATCH = 1_000;
const ALONE_BATCHES = 10;
const CLIENTS = 20;
const BATCHES_PER_CLIENT = 2;

function machine(): string {
  const cpus = os.cpus();
  return `${cpus[0]?.model ?? 'cpu'} × ${cpus.length}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, node ${process.version}`;
}

function asRow(reg: Registration, i: number): SubmissionRow {
  const row: SubmissionRow = { clientRowId: i, source: '展会', region: '上海' };
  for (const [k, v] of Object.entries(reg)) (row as Record<string, unknown>)[k] = v;
  return row;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const fmt = (n: number, d = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

async function main(): Promise<void> {
  console.log(`# service benchmark — ${machine()}`);
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'baobei-bench-'));
  const key = randomBytes(32);
  const keyring = keyringFromMasterKey(key);
  const now = new Date('2026-11-23T02:00:00.000Z');

  // 1. A store already holding STORED registrations (one transaction, as a history import would).
  const generated = generateRegistrations(
    STORED + ALONE_BATCHES * BATCH + CLIENTS * BATCHES_PER_CLIENT * BATCH,
    7,
  );
  const stored = generated.rows.slice(0, STORED);
  let t = performance.now();
  const store = await LowdbStore.open({ dataDir, keyring });
  await store.write(async (tx) => {
    for (const [i, g] of stored.entries()) {
      const e = await evaluateRow(asRow(g.registration, i), {
        tx,
        actor: { id: 'bench', name: 'admin', role: 'admin' },
        policy: DEFAULT_POLICY,
        now,
        keyring,
      });
      if (e.record) await tx.putRecord(e.record);
    }
  });
  const preloadMs = performance.now() - t;
  // Time per commit: a one-field change still rewrites (and fsyncs) the whole file.
  const commits: number[] = [];
  for (let i = 0; i < 5; i++) {
    t = performance.now();
    await store.write((tx) => tx.putPolicy({ ...DEFAULT_POLICY, reviewWorkdays: 7 + (i % 2) }));
    commits.push(performance.now() - t);
  }
  await store.close();
  const fileBytes = (await stat(path.join(dataDir, 'baobei.json'))).size;
  console.log(
    `store: ${fmt(STORED)} registrations loaded in ${fmt(preloadMs / 1000, 1)} s; baobei.json ${fmt(fileBytes / 2 ** 20, 1)} MiB; one commit ${fmt(median(commits))} ms (median of 5)`,
  );

  // 2. The real service on that data dir.
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    BAOBEI_DATA_DIR: dataDir,
    BAOBEI_KEY: key.toString('hex'),
    BAOBEI_RATE_LIMIT: '100000',
    BAOBEI_JSON_LIMIT: '50mb',
    BAOBEI_SWEEP_SECONDS: '3600',
  });
  const running = await startService(config, { logger: createLogger('silent'), clock: () => now });
  const { readFile } = await import('node:fs/promises');
  const token = (await readFile(path.join(dataDir, 'admin.token'), 'utf8')).trim();
  const queries = generateQueries(generated, ALONE_BATCHES * BATCH + CLIENTS * BATCHES_PER_CLIENT * BATCH);
  const bodies: string[] = [];
  for (let b = 0; b < queries.length / BATCH; b++) {
    const rows = queries
      .slice(b * BATCH, (b + 1) * BATCH)
      .map((q, i) => asRow(q.registration, b * BATCH + i));
    bodies.push(JSON.stringify({ rows }));
  }

  const send = async (body: string): Promise<number> => {
    const start = performance.now();
    const res = await fetch(`${running.url}/api/registrations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body,
    });
    if (!res.ok) throw new Error(`HTTP ${res.status}: ${(await res.text()).slice(0, 300)}`);
    await res.arrayBuffer();
    return performance.now() - start;
  };

  // Floor: parse + validate the same batch bodies.
  const floor: number[] = [];
  for (const body of bodies.slice(0, ALONE_BATCHES)) {
    const start = performance.now();
    rowsBodySchema.parse(JSON.parse(body));
    floor.push(performance.now() - start);
  }
  const floorMedian = median(floor);

  // 3. Alone: one client, batch after batch.
  const alone: number[] = [];
  t = performance.now();
  for (const body of bodies.slice(0, ALONE_BATCHES)) alone.push(await send(body));
  const aloneMs = performance.now() - t;
  report('alone (1 client)', alone, ALONE_BATCHES * BATCH, aloneMs, floorMedian);

  // 4. Twenty clients at once.
  const rest = bodies.slice(ALONE_BATCHES);
  const concurrent: number[] = [];
  t = performance.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, c) => {
      for (let b = 0; b < BATCHES_PER_CLIENT; b++)
        concurrent.push(await send(rest[c * BATCHES_PER_CLIENT + b]!));
    }),
  );
  const concurrentMs = performance.now() - t;
  report(
    `${CLIENTS} concurrent clients`,
    concurrent,
    CLIENTS * BATCHES_PER_CLIENT * BATCH,
    concurrentMs,
    floorMedian,
  );
  console.log(
    `floor: JSON parse + zod validation of one ${fmt(BATCH)}-row batch ${fmt(floorMedian, 1)} ms (median)`,
  );
  const finalBytes = (await stat(path.join(dataDir, 'baobei.json'))).size;
  console.log(`baobei.json after the run: ${fmt(finalBytes / 2 ** 20, 1)} MiB; today ${dayOf(now)}`);
  await running.close();
  await rm(dataDir, { recursive: true, force: true });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function report(label: string, latencies: number[], rows: number, wallMs: number, floorMs: number): void {
  const sorted = [...latencies].sort((a, b) => a - b);
  const p50 = percentile(sorted, 50);
  const p99 = percentile(sorted, 99);
  console.log(
    `${label}: ${fmt(rows / (wallMs / 1000))} rows/s; batch latency p50 ${fmt(p50)} ms, p99 ${fmt(p99)} ms; p50 = ${fmt(p50 / floorMs, 1)}× the floor`,
  );
}

await main();

// The embedded store at 10k/100k/1M stored (issue 12): commit, start-up, files, RSS.
if (process.env['BENCH_LOWDB_SIZES'] !== 'none') await benchLowdbSizes(lowdbSizes([]));
