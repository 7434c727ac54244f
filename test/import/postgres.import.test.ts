/**
 * The legacy import into PostgreSQL, the multi-instance store, against the embedded store: the
 * same sheet over the same stored records and bans gives the same report on both, and PostgreSQL
 * fetches the rows' look-ups a chunk of rows at a time (two statements per chunk) instead of two
 * round trips per row — 20,000 rows took 21–26 s that way, against ~5 s on lowdb.
 */
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  importSheet,
  PREFETCH_ROWS,
  type ImportOptions,
  type ReportRow,
} from '../../server/import/importSheet.js';
import { keyringFromMasterKey } from '../../server/security/keyring.js';
import { LowdbStore } from '../../server/store/lowdbStore.js';
import { PostgresStore } from '../../server/store/postgresStore.js';
import type { Store } from '../../server/store/store.js';
import { companyNameFor, creditCodeFor, phoneFor } from '../support/customers.js';
import { ADMIN, NOW, TODAY, tempDir } from './importHarness.js';

const DATABASE_URL = process.env.BAOBEI_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REGISTRANTS = ['王磊', '李娜', '周杰'];
/** Past two of importSheet's prefetch chunks, so look-ups reach records of earlier chunks. */
const ROWS = 2 * PREFETCH_ROWS + 600;

const HEADER = '客户名称,客户类型,统一社会信用代码,联系电话,客户来源,报备人,报备日期';

/** A CSV of rows: customer number, registrant index, registration day. */
function sheet(rows: readonly { customer: number; registrant: number; day: string }[]): Uint8Array {
  const lines = rows.map(
    ({ customer, registrant, day }) =>
      `${companyNameFor(customer)},企业,${creditCodeFor(customer)},${phoneFor(customer)},展会,${REGISTRANTS[registrant % 3]},${day}`,
  );
  return new TextEncoder().encode(`${HEADER}\n${lines.join('\n')}\n`);
}

/** Registration days from 2026-01-05 on, a few rows a day, so rows of a chunk share days with others. */
function dayOf(i: number): string {
  const day = new Date(Date.UTC(2026, 0, 5) + Math.floor(i / 9) * 86_400_000);
  return day.toISOString().slice(0, 10);
}

/** Customers registered before the import: 1,000–1,299 (some are repeated by the sheet). */
const STORED = sheet(
  Array.from({ length: 300 }, (_, i) => ({ customer: 1_000 + i, registrant: i, day: dayOf(i) })),
);

/**
 * The sheet: mostly new customers; every 5th row repeats a customer 1,100 rows earlier in claim
 * order (another chunk: a duplicate by the same registrant, else a conflict), every 40th a stored
 * one, and 李娜 registers a stored customer she is banned from (R27).
 */
const IMPORTED = sheet(
  Array.from({ length: ROWS }, (_, i) => {
    if (i === 777) return { customer: 1_010, registrant: 1, day: dayOf(i) };
    if (i % 40 === 0) return { customer: 1_000 + ((i / 40) % 300), registrant: i + 1, day: dayOf(i) };
    if (i % 5 === 0 && i >= 1_100) return { customer: 10_000 + i - 1_100, registrant: i % 2, day: dayOf(i) };
    return { customer: 10_000 + i, registrant: i, day: dayOf(i) };
  }),
);

const keyring = keyringFromMasterKey(randomBytes(32));
const options: ImportOptions = { fileName: 'sheet.csv', mode: 'submit', dryRun: false };
const deps = (store: Store) => ({ store, keyring, clock: () => NOW, actor: ADMIN });

/** The stored customers, then a false-info ban of 李娜 on customer 1,010 (R27). */
async function prepare(store: Store): Promise<void> {
  await importSheet(STORED, options, deps(store));
  await store.write(async (tx) => {
    const { items } = await tx.listRecords({ today: TODAY, limit: 1_000, offset: 0 });
    const banned = items.find((r) => r.registration.customerName === companyNameFor(1_010))!;
    await tx.addBan({
      registrant: '李娜',
      identity: banned.identity,
      until: '2027-06-01',
      recordNo: banned.no,
      at: NOW.toISOString(),
    });
  });
}

/** Report rows with each registration number replaced by what its record is (customer, registrant, claim). */
async function byRecord(rows: readonly ReportRow[], store: Store): Promise<unknown[]> {
  const { items } = await store.read((tx) => tx.listRecords({ today: TODAY, limit: 100_000, offset: 0 }));
  const names = new Map(
    items.map((r) => [r.no, `${r.registration.customerName}|${r.registration.registrant}|${r.claimedAt}`]),
  );
  const named = (no: string | undefined) =>
    no === undefined ? undefined : (names.get(no) ?? `missing ${no}`);
  return rows.map((row) => ({
    ...row,
    registrationNo: named(row.registrationNo),
    conflicts: row.conflicts.map((c) => ({ ...c, registrationNo: named(c.registrationNo) })),
  }));
}

describe('import into PostgreSQL', () => {
  const schema = `import_pg_${process.pid}_${randomBytes(4).toString('hex')}`;
  let dataDir: string;
  let lowdb: LowdbStore;
  let postgres: PostgresStore;
  const admin = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });

  beforeAll(async () => {
    dataDir = await tempDir();
    lowdb = await LowdbStore.open({ dataDir, keyring });
    postgres = await PostgresStore.open({ connectionString: DATABASE_URL, keyring, schema });
    await prepare(lowdb);
    await prepare(postgres);
  });

  afterAll(async () => {
    await lowdb.close();
    await postgres.close();
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('gives the report lowdb gives, with two statements per chunk of rows for the look-ups', async () => {
    const embedded = await importSheet(IMPORTED, options, deps(lowdb));
    const statements: string[] = [];
    const original = pg.Client.prototype.query as (...args: unknown[]) => unknown;
    // Every pool connection is a pg.Client: counting at its prototype counts every round trip.
    const counting = vi.spyOn(pg.Client.prototype, 'query').mockImplementation(function (
      this: pg.Client,
      ...args: unknown[]
    ) {
      const config = args[0] as string | { name?: string; text?: string };
      statements.push(typeof config === 'string' ? config : (config.name ?? config.text ?? ''));
      return original.apply(this, args) as never;
    });
    let multi;
    try {
      multi = await importSheet(IMPORTED, options, deps(postgres));
    } finally {
      counting.mockRestore();
    }

    // Numbers differ (PostgreSQL's sequence leaves the rest of a block as a gap): compared by record.
    expect(await byRecord(multi.report.rows, postgres)).toEqual(await byRecord(embedded.report.rows, lowdb));
    expect(multi.report.summary).toEqual(embedded.report.summary);
    // The sheet holds what the comparison needs: conflicts and duplicates across chunks, stored
    // customers, and the ban.
    const byStatus = embedded.report.summary.byStatus;
    expect(byStatus.conflict).toBeGreaterThan(100);
    expect(byStatus.duplicate).toBeGreaterThan(30);
    const bannedRow = embedded.report.rows.find((r) => r.row === 777 + 2)!;
    expect(bannedRow).toMatchObject({ status: 'rejected', errors: [{ code: 'registration.banned' }] });

    const named = (suffix: string) => statements.filter((s) => s.endsWith(suffix)).length;
    const chunks = Math.ceil(ROWS / PREFETCH_ROWS);
    expect(named('.prefetchRecords')).toBe(chunks);
    expect(named('.prefetchBans')).toBe(chunks);
    expect(named('.findRecordsByKeys')).toBe(0);
    expect(named('.findBans')).toBe(0);
    // Numbers come in blocks and records are written in batches: well under one statement a row.
    expect(statements.length).toBeLessThan(ROWS / 10);
  });
});
