/**
 * Where a PostgreSQL registration batch's CPU goes (issue 12), against lowdb on the same load:
 * BENCH_PG_COST_CLIENTS concurrent in-process `RegistrationService.submit` calls × BENCH_PG_COST_BATCHES
 * batches × 200 new customers into an empty store, the two stores alternated BENCH_PG_COST_RUNS
 * times. CPU is what it measures, not wall time, because the machine is shared: the service's from
 * `process.cpuUsage`, the backends' from `/proc/<pid>/stat` of the connections this process used
 * (by their backend pid: other services on the same server also name themselves `baobei`), WAL bytes
 * per row, statements per batch with their wall time, and which statements wait on a lock (sampled
 * every 25 ms). In-process, so it leaves HTTP and JSON out: postgres.bench.ts measures those.
 * Per-statement server CPU: run with PGOPTIONS='-c log_executor_stats=on -c log_min_error_statement=log'
 * and read the server log. Needs the server on this machine (/proc). Prints; asserts nothing.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import type { Registration, SubmissionRow } from '../core/schema.js';
import { keyringFromMasterKey } from '../server/security/keyring.js';
import { RegistrationService } from '../server/services/registrationService.js';
import { LowdbStore } from '../server/store/lowdbStore.js';
import { PostgresStore } from '../server/store/postgresStore.js';
import type { Store } from '../server/store/store.js';
import { generateRegistrations } from './generate.js';
import {
  dropSchema,
  TEST_DATABASE_URL as DATABASE_URL,
  uniqueSchema,
} from '../test/support/postgresSchema.js';

const CLIENTS = Number(process.env['BENCH_PG_COST_CLIENTS'] ?? 8);
const BATCHES = Number(process.env['BENCH_PG_COST_BATCHES'] ?? 4);
const RUNS = Number(process.env['BENCH_PG_COST_RUNS'] ?? 3);
const BATCH = 200;
const CLOCK_TICKS_PER_SECOND = 100;

const fmt = (n: number, d = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

interface StatementStats {
  count: number;
  ms: number;
}

/**
 * Every query this process sends, by statement name (or its text's start), and the backend pid of
 * each connection it went through. Wrapping the prototype is the one place all pool clients share.
 */
const statements = new Map<string, StatementStats>();
const backendPids = new Set<number>();
let counting = false;
/** The benchmark's own connection (lock sampling, WAL position): not the store's work. */
let uncounted: pg.Client | undefined;
type QueryFn = (this: pg.Client, ...args: unknown[]) => unknown;
const clientPrototype = pg.Client.prototype as unknown as { query: QueryFn };
const originalQuery = clientPrototype.query;
clientPrototype.query = function (this: pg.Client, ...args: unknown[]): unknown {
  const result = originalQuery.apply(this, args);
  if (this === uncounted) return result;
  const pid = (this as unknown as { processID?: number }).processID;
  if (pid !== undefined) backendPids.add(pid);
  if (!counting) return result;
  const config = args[0];
  const name =
    typeof config === 'string'
      ? config.slice(0, 40)
      : typeof config === 'object' && config !== null && 'name' in config && typeof config.name === 'string'
        ? config.name
        : 'other';
  const stats = statements.get(name) ?? { count: 0, ms: 0 };
  statements.set(name, stats);
  stats.count++;
  const started = performance.now();
  if (result instanceof Promise) {
    const settle = () => (stats.ms += performance.now() - started);
    result.then(settle, settle);
  }
  return result;
};

/** User + system CPU ticks of each pid (a pid that has exited counts 0). */
function cpuTicks(pids: Iterable<number>): Map<number, { user: number; system: number }> {
  const ticks = new Map<number, { user: number; system: number }>();
  for (const pid of pids) {
    try {
      // Fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      ticks.set(pid, { user: Number(fields[11]), system: Number(fields[12]) });
    } catch {
      // The backend has gone (the pool closed it): its time before that is lost to the figure.
    }
  }
  return ticks;
}

function asRow(reg: Registration, clientRowId: number, registrant: string): SubmissionRow {
  const row: SubmissionRow = { clientRowId, source: '展会', region: '上海' };
  for (const [k, v] of Object.entries(reg)) (row as Record<string, unknown>)[k] = v;
  row.registrant = registrant;
  return row;
}

interface Outcome {
  rowsPerSecond: number;
  serviceUs: number;
  serviceSystemUs: number;
  backendUs?: number;
  backendSystemUs?: number;
  walBytes?: number;
  waits: Map<string, number>;
}

async function measure(
  kind: 'lowdb' | 'postgres',
  registrations: Registration[],
  observer: pg.Client,
): Promise<Outcome> {
  const keyring = keyringFromMasterKey(randomBytes(32));
  const schema = uniqueSchema('pgcost');
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'baobei-pgcost-'));
  const store: Store =
    kind === 'postgres'
      ? await PostgresStore.open({ connectionString: DATABASE_URL, keyring, schema })
      : await LowdbStore.open({ dataDir, keyring, purpose: 'bench' });
  backendPids.clear();
  try {
    const service = new RegistrationService({
      store,
      keyring,
      clock: () => new Date('2026-11-23T02:00:00.000Z'),
    });
    const actor = (c: number) => ({
      id: `u${c}`,
      name: `销售${String(c + 1).padStart(2, '0')}`,
      role: 'sales' as const,
      team: '华东一部',
    });
    // Warm-up, all clients at once so that the pool's connections exist before the measurement.
    await Promise.all(
      Array.from({ length: CLIENTS }, (_, c) =>
        service.submit(actor(c), [asRow(registrations[registrations.length - 1 - c]!, 0, actor(c).name)]),
      ),
    );
    statements.clear();
    const waits = new Map<string, number>();
    let samples = 0;
    let sampling = kind === 'postgres';
    const sampler = (async () => {
      while (sampling) {
        samples++;
        const waiting = await observer.query<{ wait_event: string; query: string }>(
          `SELECT wait_event, left(query, 60) AS query FROM pg_stat_activity
           WHERE wait_event_type = 'Lock' AND strpos(query, $1) > 0`,
          [`"${schema}"`],
        );
        for (const row of waiting.rows) {
          const key = `${row.wait_event}: ${row.query.replaceAll(`"${schema}"`, 'S').replace(/\s+/g, ' ')}`;
          waits.set(key, (waits.get(key) ?? 0) + 1);
        }
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    })();
    const wal0 =
      kind === 'postgres'
        ? (await observer.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0]!.lsn
        : undefined;
    // The pool's connections are known after the warm-up; any opened later start from zero.
    const before = cpuTicks(backendPids);
    const cpu0 = process.cpuUsage();
    counting = true;
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CLIENTS }, async (_, c) => {
        for (let b = 0; b < BATCHES; b++) {
          const rows: SubmissionRow[] = [];
          for (let i = 0; i < BATCH; i++) rows.push(asRow(registrations[next++]!, i, actor(c).name));
          await service.submit(actor(c), rows);
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    counting = false;
    const cpu = process.cpuUsage(cpu0);
    sampling = false;
    await sampler;
    const rows = CLIENTS * BATCHES * BATCH;
    const outcome: Outcome = {
      rowsPerSecond: rows / seconds,
      serviceUs: (cpu.user + cpu.system) / rows,
      serviceSystemUs: cpu.system / rows,
      waits: new Map([...waits].map(([key, n]) => [key, n / Math.max(1, samples)])),
    };
    if (kind === 'postgres') {
      const after = cpuTicks(backendPids);
      let user = 0;
      let system = 0;
      for (const [pid, t] of after) {
        user += t.user - (before.get(pid)?.user ?? 0);
        system += t.system - (before.get(pid)?.system ?? 0);
      }
      const usPerTick = 1e6 / CLOCK_TICKS_PER_SECOND;
      outcome.backendUs = ((user + system) * usPerTick) / rows;
      outcome.backendSystemUs = (system * usPerTick) / rows;
      const wal = await observer.query<{ bytes: string }>(
        'SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn)::text AS bytes',
        [wal0],
      );
      // The whole server's WAL: other sessions' writes in the meantime count too.
      outcome.walBytes = Number(wal.rows[0]!.bytes) / rows;
    }
    return outcome;
  } finally {
    await store.close();
    await rm(dataDir, { recursive: true, force: true });
    if (kind === 'postgres') await dropSchema(DATABASE_URL, schema);
  }
}

function describe(kind: string, outcome: Outcome): void {
  const backend =
    outcome.backendUs !== undefined
      ? `; backends ${fmt(outcome.backendUs)} µs (system ${fmt(outcome.backendSystemUs ?? 0)}); together ${fmt(outcome.serviceUs + outcome.backendUs)} µs; WAL ${fmt(outcome.walBytes ?? 0)} B`
      : '';
  console.log(
    `${kind}: ${fmt(outcome.rowsPerSecond)} rows/s; per row: service ${fmt(outcome.serviceUs)} µs (system ${fmt(outcome.serviceSystemUs)})${backend}; load ${os.loadavg()[0]!.toFixed(1)}`,
  );
}

async function main(): Promise<void> {
  const cpus = os.cpus();
  console.log(
    `# PostgreSQL cost per row — ${cpus[0]?.model ?? 'cpu'} × ${cpus.length}, node ${process.version}; ${CLIENTS} clients × ${BATCHES} batches × ${BATCH} rows, ${RUNS} alternated runs; load ${os.loadavg()[0]!.toFixed(1)}`,
  );
  const registrations = generateRegistrations(CLIENTS * BATCHES * BATCH + CLIENTS, 12, {
    nearDuplicateShare: 0,
    individualShare: 0.2,
  }).rows.map((r) => r.registration);
  const observer = new pg.Client({ connectionString: DATABASE_URL });
  await observer.connect();
  uncounted = observer;
  try {
    for (let run = 1; run <= RUNS; run++) {
      describe('lowdb', await measure('lowdb', registrations, observer));
      const postgres = await measure('postgres', registrations, observer);
      describe('PostgreSQL', postgres);
      if (run === RUNS) {
        const batches = CLIENTS * BATCHES;
        console.log('  statements per batch (PostgreSQL, last run): count, wall ms (waits included)');
        for (const [name, s] of [...statements].sort((a, b) => b[1].ms - a[1].ms)) {
          console.log(
            `    ${name.padEnd(40)} ${fmt(s.count / batches, 1).padStart(5)} ${fmt(s.ms / batches, 1).padStart(8)}`,
          );
        }
        console.log('  writers waiting on a lock, mean per sample:');
        for (const [key, n] of [...postgres.waits].sort((a, b) => b[1] - a[1])) {
          console.log(`    ${fmt(n, 2)}  ${key}`);
        }
      }
    }
  } finally {
    await observer.end();
  }
}

await main();
