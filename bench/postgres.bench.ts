/**
 * PostgreSQL under the registration load (issue 12), each service its own process over real HTTP:
 * 8 clients × 200-row batches into lowdb, into PostgreSQL with one instance, with two instances on
 * disjoint customers (target ≥ 1.6× one instance), and with two instances where 10% of the rows
 * contend for customers other clients claim on both instances (target: 0 double grants). Every
 * run starts from an empty store. Prints figures, machine, load and ratios; asserts nothing.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import type { Registration, RowResult, SubmissionRow } from '../core/schema.js';
import { spawnService, type ChildService } from '../test/support/childService.js';
import { generateRegistrations } from './generate.js';
import {
  dropSchema,
  TEST_DATABASE_URL as DATABASE_URL,
  uniqueSchema,
} from '../test/support/postgresSchema.js';

const CLIENTS = 8;
const BATCH = 200;
const BATCHES_PER_CLIENT = Number(process.env['BENCH_PG_BATCHES'] ?? 6);
/** Share of each batch's rows that name a customer every client registers (the mixed load). */
const CONTENDED_SHARE = 0.1;
const TARGET_TWO_INSTANCES = 1.6;
/**
 * Share of individuals among the customers (the generator's default is 0.2). Individuals' names lock
 * as `nm:` keys, and common names (王伟) recur across clients: their batches then wait on each other.
 */
const INDIVIDUAL_SHARE = Number(process.env['BENCH_PG_INDIVIDUALS'] ?? 0.2);

const fmt = (n: number, d = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

function machine(): string {
  const cpus = os.cpus();
  return `${cpus[0]?.model ?? 'cpu'} × ${cpus.length}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, node ${process.version}`;
}

function load(): string {
  return os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
}

function asRow(reg: Registration, clientRowId: number, registrant: string): SubmissionRow {
  const row: SubmissionRow = { clientRowId, source: '展会', region: '上海' };
  for (const [k, v] of Object.entries(reg)) (row as Record<string, unknown>)[k] = v;
  row.registrant = registrant;
  return row;
}

interface Deployment {
  urls: string[];
  token: string;
  /** PostgreSQL: how many of the instances' backends wait on a lock right now. */
  waiting?: () => Promise<number>;
  close(): Promise<void>;
}

/**
 * BENCH_PG_OUTBOX_POLL_MS: the outbox worker's poll (default the service's 2 s). Each round is two
 * exclusive writes per instance, which wait for every running batch and hold back new ones.
 */
const OUTBOX_POLL_MS = process.env['BENCH_PG_OUTBOX_POLL_MS'];
const ENV: Record<string, string> = {
  BAOBEI_RATE_LIMIT: '100000',
  BAOBEI_JSON_LIMIT: '50mb',
  BAOBEI_SWEEP_SECONDS: '3600',
  LOG_LEVEL: 'warn',
  ...(OUTBOX_POLL_MS !== undefined ? { BAOBEI_OUTBOX_POLL_MS: OUTBOX_POLL_MS } : {}),
};

async function deploy(kind: 'lowdb' | 'postgres', instances: number): Promise<Deployment> {
  const key = randomBytes(32).toString('hex');
  const schema = uniqueSchema('bench');
  const env: Record<string, string> =
    kind === 'postgres'
      ? { ...ENV, BAOBEI_STORE: 'postgres', DATABASE_URL, BAOBEI_PG_SCHEMA: schema }
      : { ...ENV };
  const dirs: string[] = [];
  const services: ChildService[] = [];
  for (let i = 0; i < instances; i++) {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'baobei-pgbench-'));
    dirs.push(dataDir);
    services.push(await spawnService({ dataDir, key, env, timeoutMs: 60_000 }));
  }
  const token = (await readFile(path.join(dirs[0]!, 'admin.token'), 'utf8')).trim();
  const observer = kind === 'postgres' ? new pg.Client({ connectionString: DATABASE_URL }) : undefined;
  await observer?.connect();
  return {
    urls: services.map((s) => s.url),
    token,
    ...(observer
      ? {
          waiting: async () =>
            (
              await observer.query<{ n: number }>(
                `SELECT count(*)::int AS n FROM pg_stat_activity
                 WHERE wait_event_type = 'Lock' AND (strpos(query, $1) > 0 OR strpos(query, 'pg_advisory_xact_lock') > 0)`,
                [`"${schema}"`],
              )
            ).rows[0]?.n ?? 0,
        }
      : {}),
    async close() {
      await observer?.end();
      for (const s of services) await s.kill('SIGTERM');
      for (const dir of dirs) await rm(dir, { recursive: true, force: true });
      if (kind === 'postgres') {
        await dropSchema(DATABASE_URL, schema);
      }
    },
  };
}

async function send(url: string, token: string, rows: SubmissionRow[]): Promise<RowResult[]> {
  const res = await fetch(`${url}/api/registrations`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ rows }),
  });
  if (!res.ok) throw new Error(`HTTP ${res.status}: ${(await res.text()).slice(0, 300)}`);
  return ((await res.json()) as { results: RowResult[] }).results;
}

interface Outcome {
  rowsPerSecond: number;
  /** Share of samples (every 50 ms) in which at least one write waited on a lock, and the mean waiting. */
  lockWaits?: { share: number; mean: number };
  statuses: Map<string, number>;
  /** Per contended customer, how many of its rows were granted (pending or protected). */
  grants: number[];
}

/**
 * The load: CLIENTS clients, client c on instance c mod instances, each sending its batches one after
 * another. Batch rows are distinct customers; with `contended`, CONTENDED_SHARE of each batch's rows
 * are customers that every client registers in the same round (under its own registrant).
 */
async function run(
  deployment: Deployment,
  registrations: Registration[],
  contended: boolean,
): Promise<Outcome> {
  const perBatchContended = contended ? Math.round(BATCH * CONTENDED_SHARE) : 0;
  const contendedPool = registrations.slice(0, perBatchContended * BATCHES_PER_CLIENT);
  const fresh = registrations.slice(contendedPool.length);
  const grants = contendedPool.map(() => 0);
  const statuses = new Map<string, number>();
  // Warm-up: each instance answers one small batch first (module load, JIT, prepared statements).
  for (const [i, url] of deployment.urls.entries()) {
    await send(url, deployment.token, [asRow(fresh[fresh.length - 1 - i]!, 0, 'warmup')]);
  }
  let next = 0;
  const samples: number[] = [];
  let sampling = deployment.waiting !== undefined;
  const sampler = (async () => {
    while (sampling && deployment.waiting) {
      samples.push(await deployment.waiting());
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, c) => {
      const url = deployment.urls[c % deployment.urls.length]!;
      const registrant = `销售${String(c + 1).padStart(2, '0')}`;
      for (let b = 0; b < BATCHES_PER_CLIENT; b++) {
        const rows: SubmissionRow[] = [];
        const own = BATCH - perBatchContended;
        for (let i = 0; i < own; i++) rows.push(asRow(fresh[next++]!, rows.length, registrant));
        // The contended rows go in the middle of the batch, as a real sheet would have them anywhere.
        const at = Math.floor(own / 2);
        const shared = contendedPool
          .slice(b * perBatchContended, (b + 1) * perBatchContended)
          .map((reg, k) => asRow(reg, 10_000 + b * perBatchContended + k, registrant));
        rows.splice(at, 0, ...shared);
        const results = await send(url, deployment.token, rows);
        for (const result of results) {
          statuses.set(result.status, (statuses.get(result.status) ?? 0) + 1);
          const id = Number(result.clientRowId);
          if (id >= 10_000 && (result.status === 'pending' || result.status === 'protected')) {
            grants[id - 10_000] = (grants[id - 10_000] ?? 0) + 1;
          }
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  sampling = false;
  await sampler;
  const lockWaits =
    samples.length > 0
      ? {
          share: samples.filter((n) => n > 0).length / samples.length,
          mean: samples.reduce((a, b) => a + b, 0) / samples.length,
        }
      : undefined;
  return {
    rowsPerSecond: (CLIENTS * BATCHES_PER_CLIENT * BATCH) / seconds,
    statuses,
    grants,
    ...(lockWaits ? { lockWaits } : {}),
  };
}

function describe(label: string, outcome: Outcome): void {
  const statuses = [...outcome.statuses].map(([s, n]) => `${s} ${fmt(n)}`).join(', ');
  const waits = outcome.lockWaits
    ? `; a write waited on a lock in ${fmt(outcome.lockWaits.share * 100)}% of samples (mean ${fmt(outcome.lockWaits.mean, 1)} waiting)`
    : '';
  console.log(`${label}: ${fmt(outcome.rowsPerSecond)} rows/s (${statuses})${waits}; load ${load()}`);
}

async function main(): Promise<void> {
  console.log(`# PostgreSQL benchmark — ${machine()}`);
  console.log(
    `load: ${CLIENTS} clients × ${BATCHES_PER_CLIENT} batches × ${BATCH} rows = ${fmt(CLIENTS * BATCHES_PER_CLIENT * BATCH)} rows per run, ${INDIVIDUAL_SHARE * 100}% individuals, outbox poll ${OUTBOX_POLL_MS ?? 'default (2,000)'} ms, each service its own process, store empty at start; load average before ${load()}`,
  );
  const total = CLIENTS * BATCHES_PER_CLIENT * BATCH + 10;
  // No near-duplicates: the rows of different clients are different customers (the disjoint load).
  const registrations = generateRegistrations(total, 12, {
    nearDuplicateShare: 0,
    individualShare: INDIVIDUAL_SHARE,
  }).rows.map((r) => r.registration);

  const measure = async (kind: 'lowdb' | 'postgres', instances: number, contended: boolean) => {
    const deployment = await deploy(kind, instances);
    try {
      return await run(deployment, registrations, contended);
    } finally {
      await deployment.close();
    }
  };

  const lowdb = await measure('lowdb', 1, false);
  describe('lowdb, one process', lowdb);
  const one = await measure('postgres', 1, false);
  describe('PostgreSQL, one instance', one);
  console.log(
    `  PostgreSQL one instance / lowdb = ${fmt(one.rowsPerSecond / lowdb.rowsPerSecond, 2)}× (target ≥ 1×)`,
  );
  const two = await measure('postgres', 2, false);
  describe('PostgreSQL, two instances, disjoint customers', two);
  console.log(
    `  two instances / one instance = ${fmt(two.rowsPerSecond / one.rowsPerSecond, 2)}× (target ≥ ${TARGET_TWO_INSTANCES}×: ${fmt(two.rowsPerSecond / one.rowsPerSecond / TARGET_TWO_INSTANCES, 2)} of the target)`,
  );
  const mixed = await measure('postgres', 2, true);
  describe(`PostgreSQL, two instances, ${CONTENDED_SHARE * 100}% of rows contended`, mixed);
  const doubles = mixed.grants.filter((g) => g > 1).length;
  const ungranted = mixed.grants.filter((g) => g === 0).length;
  console.log(
    `  contended customers: ${fmt(mixed.grants.length)}, each claimed by ${CLIENTS} clients on 2 instances; double grants ${doubles} (target 0); customers granted to nobody ${ungranted}`,
  );
}

await main();
