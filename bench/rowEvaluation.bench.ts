/**
 * Per-row cost of check and submit (issue 12: ≤ 60 µs per row at 100,000 stored registrations):
 * parsing and normalising the row, hashing its identity keys, the look-ups, the decision, sealing
 * the record and serialising the answer — with the garbage collector's time included, and without
 * the store's file commit (submit runs in a write that is discarded before its commit, so every
 * batch meets the same 100,000 records and no file is written). The floor is what an HTTP request
 * must do anyway: JSON parse + zod validation of the batch. Prints; asserts nothing.
 *
 * `--profile FILE` writes a V8 CPU profile of the measured part only (not of the store's build);
 * `--heap-profile FILE` a sampling heap profile of what that part allocates (collected objects too).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { DEFAULT_POLICY } from '../core/policy.js';
import type { Registration, SubmissionRow } from '../core/schema.js';
import { rowsBodySchema } from '../server/http/apiSchemas.js';
import { keyringFromMasterKey } from '../server/security/keyring.js';
import type { Actor } from '../server/services/actor.js';
import { RegistrationService } from '../server/services/registrationService.js';
import { evaluateRow } from '../server/services/rowEvaluation.js';
import { LowdbStore } from '../server/store/lowdbStore.js';
import type { Store, WriteTx } from '../server/store/store.js';
import { discardedWrite } from './discardedWrite.js';
import { generateQueries, generateRegistrations } from './generate.js';
import { fmt, machine } from './machineLine.js';

const STORED = Number(process.env['BENCH_STORED'] ?? 100_000);
const BATCH = 1_000;
/** Measured batches per case (after one warm-up batch). */
const BATCHES = Number(process.env['BENCH_BATCHES'] ?? 10);
/** Users in the store (each row looks up its registrant's team): a sales organisation has hundreds. */
const USERS = Number(process.env['BENCH_USERS'] ?? 0);
/**
 * Share (0–1) of the stored records that have ended (expired a year ago), spread evenly: a store kept
 * 10 years (R39) is mostly ended records, which match but never count as candidates.
 */
const ENDED = Number(process.env['BENCH_ENDED'] ?? 0);
/** False-info bans (R27) in the store, on the first stored customers: each row looks its bans up. */
const BANS = Number(process.env['BENCH_BANS'] ?? 0);
const TARGET_US = 60;
const NOW = new Date('2026-11-23T02:00:00.000Z');
const ADMIN: Actor = { id: 'bench-admin', name: '管理员', role: 'admin' };

function asRow(reg: Registration, i: number): SubmissionRow {
  const row: SubmissionRow = { clientRowId: i, source: '展会', region: '上海' };
  for (const [k, v] of Object.entries(reg)) (row as Record<string, unknown>)[k] = v;
  return row;
}

/**
 * The store as the service sees it, except that a write is discarded before its commit (records are
 * still staged and sealed as a commit needs them; `simulate` would stage them unsealed).
 */
function withoutCommit(store: Store): Store {
  return Object.assign(Object.create(store) as Store, {
    write: <T>(fn: (tx: WriteTx) => Promise<T>): Promise<T> => discardedWrite(store, fn),
    appendAudit: async () => undefined,
  });
}

/** Garbage-collection time observed while `fn` runs. */
async function withGcTime<T>(fn: () => Promise<T>): Promise<{ value: T; gcMs: number }> {
  let gcMs = 0;
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) gcMs += entry.duration;
  });
  observer.observe({ entryTypes: ['gc'] });
  const value = await fn();
  // GC entries are delivered asynchronously: let the last ones arrive.
  await new Promise((resolve) => setTimeout(resolve, 10));
  observer.disconnect();
  return { value, gcMs };
}

interface CaseFigures {
  label: string;
  usPerRow: number;
  cpuUsPerRow: number;
  gcShare: number;
  p50BatchMs: number;
}

async function measure(
  label: string,
  batches: string[],
  run: (body: string) => Promise<void>,
): Promise<CaseFigures> {
  await run(batches[0]!);
  (globalThis as { gc?: () => void }).gc?.();
  const latencies: number[] = [];
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  const { gcMs } = await withGcTime(async () => {
    for (const body of batches.slice(1)) {
      const t = performance.now();
      await run(body);
      latencies.push(performance.now() - t);
    }
  });
  const ms = performance.now() - start;
  const cpu = process.cpuUsage(cpuStart);
  const rows = (batches.length - 1) * BATCH;
  latencies.sort((a, b) => a - b);
  return {
    label,
    usPerRow: (ms * 1000) / rows,
    cpuUsPerRow: (cpu.user + cpu.system) / rows,
    gcShare: gcMs / ms,
    p50BatchMs: latencies[Math.floor(latencies.length / 2)]!,
  };
}

async function main(): Promise<void> {
  const profileAt = process.argv.indexOf('--profile');
  const profileFile = profileAt >= 0 ? process.argv[profileAt + 1] : undefined;
  const heapAt = process.argv.indexOf('--heap-profile');
  const heapFile = heapAt >= 0 ? process.argv[heapAt + 1] : undefined;
  console.log(`# per-row evaluation benchmark — ${machine()}`);
  console.log('(a shared 2-core machine gives noisy figures: compare runs taken together)');

  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'baobei-bench-rows-'));
  const keyring = keyringFromMasterKey(randomBytes(32));
  const generated = generateRegistrations(STORED, 7);
  let t = performance.now();
  const built = await LowdbStore.open({ dataDir, keyring, purpose: 'bench' });
  await built.write(async (tx) => {
    for (let u = 0; u < USERS; u++) {
      await tx.putUser({
        id: `bench-user-${u}`,
        name: `销售${u}`,
        role: 'sales',
        team: `团队${u % 10}`,
        tokenHash: `bench-token-${u}`,
        createdAt: NOW.toISOString(),
      });
    }
    for (const [i, g] of generated.rows.entries()) {
      const e = await evaluateRow(asRow(g.registration, i), {
        tx,
        actor: ADMIN,
        policy: DEFAULT_POLICY,
        now: NOW,
        keyring,
      });
      if (e.record && i % 100 < ENDED * 100) {
        e.record.status = 'expired';
        e.record.protectedUntil = '2025-11-22';
      }
      if (e.record) await tx.putRecord(e.record);
      if (e.record && i < BANS) {
        await tx.addBan({
          registrant: e.record.registration.registrant,
          identity: e.record.identity,
          until: '2027-12-31',
          recordNo: e.record.no,
          at: NOW.toISOString(),
        });
      }
    }
  });
  // Closed and opened again, as a running service finds it: the build's one big commit would
  // otherwise start a compaction of the whole store in the background, which then shares the CPU
  // with the measured batches (it was ~25% of the measured CPU at 100k).
  await built.close();
  const store = await LowdbStore.open({ dataDir, keyring, purpose: 'bench' });
  console.log(
    `store: ${fmt(STORED)} registrations (${fmt(ENDED * 100)}% ended), ${fmt(BANS)} bans and ${fmt(USERS)} users built in ${fmt((performance.now() - t) / 1000, 1)} s`,
  );

  const queries = generateQueries(generated, (BATCHES + 1) * BATCH * 2);
  const bodies: string[] = [];
  for (let b = 0; b < queries.length / BATCH; b++) {
    const rows = queries
      .slice(b * BATCH, (b + 1) * BATCH)
      .map((q, i) => asRow(q.registration, b * BATCH + i));
    bodies.push(JSON.stringify({ rows }));
  }
  const checkBodies = bodies.slice(0, BATCHES + 1);
  const submitBodies = bodies.slice(BATCHES + 1);

  const service = new RegistrationService({ store: withoutCommit(store), keyring, clock: () => NOW });
  const parse = (body: string): SubmissionRow[] => rowsBodySchema.parse(JSON.parse(body)).rows;
  // Parsing is the floor and is not counted in the cases: they start from the parsed rows, as the
  // service does after its route has validated the body. Answers are serialised, as HTTP does.
  const parsedCheck = new Map(checkBodies.map((b) => [b, parse(b)]));
  const parsedSubmit = new Map(submitBodies.map((b) => [b, parse(b)]));

  const session = profileFile !== undefined || heapFile !== undefined ? new Session() : undefined;
  if (session) session.connect();
  if (session && profileFile !== undefined) {
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 100 });
    await session.post('Profiler.start');
  }
  if (session && heapFile !== undefined) {
    await session.post('HeapProfiler.enable');
    await session.post('HeapProfiler.startSampling', {
      samplingInterval: 4096,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
  }
  t = performance.now();
  const check = await measure('check', checkBodies, async (body) => {
    JSON.stringify(await service.check(ADMIN, parsedCheck.get(body)!));
  });
  const submit = await measure('submit (no commit)', submitBodies, async (body) => {
    JSON.stringify((await service.submit(ADMIN, parsedSubmit.get(body)!)).results);
  });
  if (session && profileFile !== undefined) {
    const { profile } = await session.post('Profiler.stop');
    await writeFile(profileFile, JSON.stringify(profile));
    console.log(`CPU profile of the measured part: ${profileFile}`);
  }
  if (session && heapFile !== undefined) {
    const { profile } = await session.post('HeapProfiler.stopSampling');
    await writeFile(heapFile, JSON.stringify(profile));
    console.log(`heap allocation profile of the measured part: ${heapFile}`);
  }
  session?.disconnect();
  const floor = await measure('floor', bodies.slice(0, BATCHES + 1), async (body) => {
    parse(body);
  });

  for (const c of [check, submit]) {
    console.log(
      `${c.label}: ${fmt(c.usPerRow, 1)} µs/row wall (CPU ${fmt(c.cpuUsPerRow, 1)} µs/row, GC ${fmt(c.gcShare * 100)}% of wall), ` +
        `${fmt(c.usPerRow / TARGET_US, 2)}× the ${TARGET_US} µs target; 1,000-row batch p50 ${fmt(c.p50BatchMs, 1)} ms ` +
        `= ${fmt(c.p50BatchMs / floor.p50BatchMs, 1)}× the floor`,
    );
  }
  console.log(
    `floor: JSON parse + zod of a 1,000-row batch ${fmt(floor.p50BatchMs, 1)} ms p50 = ${fmt(floor.usPerRow, 1)} µs/row ` +
      `(GC ${fmt(floor.gcShare * 100)}%)`,
  );
  await store.close();
  await rm(dataDir, { recursive: true, force: true });
}

await main();
