/**
 * Google Sheets sync (issue 11) against the fake Google server, in process: a 10,000-row sheet's
 * first sync (every row new), the sync right after it (our write-back moved Drive's version, so the
 * tab is read again and nothing is registered or written), no-change syncs (the version alone), a
 * sync after a person sorted every row (nothing to write) and one after one row was fixed. Per sync:
 * API calls (as the fake logged them), wall time, and the ratio to the service's own evaluation of
 * the same rows — RegistrationService.submit of the rows the sync reads, on a fresh store — i.e. what
 * the sync adds on top of registering (reading, hashing, claims, write-back, colours and notes).
 * Prints; asserts nothing. `BENCH_SHEET_ROWS` changes the row count; `BENCH_SHEET_STORE=postgres`
 * runs the service on PostgreSQL (`BAOBEI_TEST_DATABASE_URL`, a schema of its own, dropped after),
 * where every store read is a round trip (the baseline stays on lowdb).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import pg from 'pg';
import { dayOf } from '../core/day.js';
import { DEFAULT_POLICY } from '../core/policy.js';
import { CUSTOMER_TYPE_LABELS } from '../core/schema.js';
import { type SheetGrid } from '../core/sheetGrid.js';
import { planLayout } from '../core/sheetLayout.js';
import { readRows } from '../core/sheetRows.js';
import { describeSheet } from '../core/sheetSetup.js';
import { loadConfig } from '../server/config.js';
import { createLogger } from '../server/logger.js';
import { keyringFromMasterKey } from '../server/security/keyring.js';
import { startService } from '../server/service.js';
import type { Actor } from '../server/services/actor.js';
import { RegistrationService } from '../server/services/registrationService.js';
import { GoogleSheetsClient } from '../server/sheets/googleClient.js';
import { GoogleRateLimiter } from '../server/sheets/googleRateLimiter.js';
import { LowdbStore } from '../server/store/lowdbStore.js';
import type { ReadTx, Store } from '../server/store/store.js';
import { FakeGoogle } from '../test/fakes/fakeGoogle.js';
import { generateRegistrations } from './generate.js';
import {
  dropSchema,
  TEST_DATABASE_URL as DATABASE_URL,
  uniqueSchema,
} from '../test/support/postgresSchema.js';
import { fmt, machine } from './machineLine.js';

const ROWS = Number(process.env['BENCH_SHEET_ROWS'] ?? 10_000);
const STORE = process.env['BENCH_SHEET_STORE'] === 'postgres' ? 'postgres' : 'lowdb';
const SA = 'baobei-sync@baobei-bench.iam.gserviceaccount.com';
const TAB = '报备';
const TEAM = '华东一部';
const OWNER = '王磊';
const NOW = new Date('2026-11-23T02:00:00.000Z');
const HEADER = ['客户名称', '客户类型', '统一社会信用代码', '联系人', '联系电话', '邮箱', '区域', '客户来源'];

function sheetValues(): string[][] {
  const { rows } = generateRegistrations(ROWS, 11);
  return [
    HEADER,
    ...rows.map(({ registration: r }) => [
      r.customerName ?? '',
      CUSTOMER_TYPE_LABELS[r.customerType ?? 'enterprise'].zh,
      r.creditCode ?? '',
      r.contactName ?? '',
      r.contactPhone ?? '',
      r.email ?? '',
      '上海',
      '展会',
    ]),
  ];
}

/** The service's own evaluation of the rows the sync reads: one submit on a fresh store. */
async function baseline(grid: SheetGrid): Promise<{ ms: number; sent: number; registered: number }> {
  const setup = describeSheet(TAB, grid);
  if (setup === null) throw new Error('the bench sheet has no header');
  const rows = readRows(planLayout(grid, setup), grid, {
    referenceDate: dayOf(NOW),
    policy: DEFAULT_POLICY,
    defaultRegistrant: OWNER,
  })
    .filter((r) => r.errors.length === 0 && r.registrationNo === null)
    .map((r) => r.submission);
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'baobei-bench-sheets-base-'));
  const keyring = keyringFromMasterKey(randomBytes(32));
  const store = await LowdbStore.open({ dataDir, keyring, purpose: 'bench' });
  try {
    const service = new RegistrationService({ store, keyring, clock: () => NOW });
    const actor: Actor = { id: 'bench-owner', name: OWNER, role: 'reviewer', team: TEAM };
    const t = performance.now();
    const { results } = await service.submit(actor, rows, { idempotencyKey: 'bench', body: rows });
    const ms = performance.now() - t;
    return {
      ms,
      sent: rows.length,
      registered: results.filter((r) => r.registrationNo !== undefined).length,
    };
  } finally {
    await store.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/**
 * Counts the service's store reads and, on PostgreSQL, every statement any pg client sends (the
 * service runs in this process): the round trips a sync costs beyond Google's.
 */
function countStoreTraffic(store: Store): { reads: number; queries: number } {
  const counted = { reads: 0, queries: 0 };
  const read = store.read.bind(store);
  store.read = <T>(fn: (tx: ReadTx) => Promise<T>): Promise<T> => {
    counted.reads++;
    return read(fn);
  };
  const query = pg.Client.prototype.query;
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]): unknown {
    counted.queries++;
    return (query as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof query;
  return counted;
}

async function main(): Promise<void> {
  console.log(`# Google Sheets sync benchmark (fake Google, in process, ${STORE}) — ${machine()}`);
  console.log('(a shared 2-core machine gives noisy figures: compare runs taken together)');
  const fake = await new FakeGoogle().start();
  const clock = { now: () => Date.now(), sleep: async () => {} };
  const google = new GoogleSheetsClient({
    auth: { accessToken: fake.issueToken(SA), identity: SA },
    rootUrl: fake.url,
    clock,
    rateLimiter: new GoogleRateLimiter(clock),
    random: () => 0,
  });
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'baobei-bench-sheets-'));
  const schema = uniqueSchema('bench_sheets');
  const config = loadConfig({
    ...(STORE === 'postgres' ? { BAOBEI_STORE: 'postgres', DATABASE_URL, BAOBEI_PG_SCHEMA: schema } : {}),
    PORT: '0',
    HOST: '127.0.0.1',
    BAOBEI_DATA_DIR: dataDir,
    BAOBEI_KEY: randomBytes(32).toString('hex'),
    LOG_LEVEL: 'warn',
    BAOBEI_SWEEP_SECONDS: '3600',
    BAOBEI_SHEETS_SYNC_SECONDS: '3600',
  });
  const service = await startService(config, {
    logger: createLogger('warn', new Writable({ write: (_c: Buffer, _e, cb) => cb() })),
    clock: () => NOW,
    google,
  });
  try {
    const token = (await readFile(path.join(dataDir, 'admin.token'), 'utf8')).trim();
    const api = async (route: string, body: unknown): Promise<Record<string, unknown>> => {
      const res = await fetch(new URL(route, service.url), {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const json = (await res.json()) as Record<string, unknown>;
      if (!res.ok) throw new Error(`${route}: HTTP ${res.status} ${JSON.stringify(json)}`);
      return json;
    };
    await api('/api/users', { name: OWNER, role: 'reviewer', team: TEAM });
    const values = sheetValues();
    const id = fake.createSpreadsheet({ sheets: [{ title: TAB, values }], sharedWith: { [SA]: 'writer' } });
    const link = await api('/api/sheets', { spreadsheet: id, sheet: TAB, team: TEAM, owner: OWNER });
    // The grid as the first sync reads it (the link added the result headers).
    const grid: SheetGrid = fake.values(id, TAB);

    const figures: {
      label: string;
      ms: number;
      calls: Record<string, number>;
      /** Bytes sent to and received from Google in this sync. */
      sent: number;
      received: number;
      /** store.read calls, and statements sent to PostgreSQL (each a round trip), in this sync. */
      storeReads: number;
      queries: number;
      report: Record<string, unknown>;
    }[] = [];
    const counted = countStoreTraffic(service.store);
    // Sync 2 re-reads (our write-back moved the version) and writes nothing: every row, invalid ones
    // included, already shows its result; sync 3 and 4 are the version check alone. Then a person
    // sorts every row (sync 5: rows known by number and row key, nothing to write) and fixes one
    // invalid row (sync 6: that row alone is registered and written, after the identity re-read).
    const steps: [string, () => void][] = [
      ['sync 1 (all rows new)', () => {}],
      ['sync 2 (after our write-back)', () => {}],
      ['sync 3 (no change)', () => {}],
      ['sync 4 (no change)', () => {}],
      ['sync 5 (all rows sorted by phone)', () => fake.sortRows(id, TAB, { fromRow: 2, column: 'E' })],
      ['sync 6 (one invalid row fixed)', () => fixOneInvalidRow()],
    ];
    const fixOneInvalidRow = (): void => {
      const rows = fake.values(id, TAB);
      const status = HEADER.length + 1;
      const at = rows.findIndex((r, i) => i > 0 && r[status] === '信息有误' && r[0] !== '');
      if (at < 0) throw new Error('the bench sheet has no invalid row');
      // A valid row of its own: a name, an enterprise, a phone and a contact nobody else holds.
      fake.editCells(id, TAB, `A${at + 1}`, [['上海修正科技有限公司', '企业', '', '周七', '13700001234']]);
    };
    for (const [label, edit] of steps) {
      edit();
      fake.clearCalls();
      counted.reads = 0;
      counted.queries = 0;
      const t = performance.now();
      const report = await api(`/api/sheets/${String(link['id'])}/sync`, {});
      figures.push({
        label,
        ms: performance.now() - t,
        calls: fake.callCounts(),
        sent: fake.calls.reduce((n, c) => n + c.requestBytes, 0),
        received: fake.calls.reduce((n, c) => n + c.responseBytes, 0),
        storeReads: counted.reads,
        queries: counted.queries,
        report,
      });
    }
    const base = await baseline(grid);

    console.log(`sheet: ${fmt(ROWS)} data rows, ${HEADER.length} input columns`);
    console.log(
      `baseline: RegistrationService.submit of the same ${fmt(base.sent)} rows on a fresh store: ` +
        `${fmt(base.ms)} ms (${fmt(base.registered)} numbered)`,
    );
    for (const f of figures) {
      const total = Object.values(f.calls).reduce((a, b) => a + b, 0);
      const r = f.report;
      console.log(
        `${f.label.padEnd(42)} ${fmt(f.ms).padStart(8)} ms  ×${fmt(f.ms / base.ms, 2)} baseline  ` +
          `${total} API calls ${JSON.stringify(f.calls)} ` +
          `(${fmt(f.sent / 2 ** 20, 1)} MB sent, ${fmt(f.received / 2 ** 20, 1)} MB received)  registered ${String(r['registered'])}, ` +
          `changed ${String(r['changed'])}, invalid ${String(r['invalid'])}, skipped ${String(r['skipped'])}; ` +
          `${fmt(f.storeReads)} store reads${STORE === 'postgres' ? `, ${fmt(f.queries)} SQL statements` : ''}`,
      );
    }
    const regs = fake
      .values(id, TAB)
      .slice(1)
      .filter((row) => /^BB-/.test(String(row[HEADER.length] ?? '')));
    console.log(`rows with a registration number written back: ${fmt(regs.length)}`);
  } finally {
    await service.close();
    await fake.close();
    await rm(dataDir, { recursive: true, force: true });
    if (STORE === 'postgres') {
      await dropSchema(DATABASE_URL, schema);
    }
  }
}

await main();
