/**
 * What a sync that reads the tab costs the store: the registered rows' states, claims and records
 * are read together for the tab, not one store read (on PostgreSQL, one round trip) per row. Both
 * adapters; PostgreSQL in a fresh schema per test. The real service over HTTP, the fake Google.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { STATUS_LABELS } from '../../core/schema.js';
import type { RecordView } from '../../server/services/recordView.js';
import type { ReadTx } from '../../server/store/store.js';
import { companyNameFor, phoneFor } from '../support/customers.js';
import { SERVICE_ACCOUNT, startSheetsService, type SheetsService, linkSheet } from './sheetsService.js';
import { dropSchema, TEST_DATABASE_URL as DATABASE_URL } from '../support/postgresSchema.js';

const TAB = '报备';
const HEADER = ['客户名称', '联系人', '联系电话', '客户类型', '地址', '客户来源'];
/** 0-based columns of the result headers the link appends after 客户来源 (F). */
const NO = 6;
const STATUS = 7;

function sheetRow(n: number): string[] {
  return [companyNameFor(n), '张三', phoneFor(n), '企业', '上海市浦东新区张江路 100 号', '展会'];
}

for (const storeKind of ['lowdb', 'postgres'] as const) {
  describe(`Google Sheets sync: store reads per sync (${storeKind})`, () => {
    let sheets: SheetsService;
    let schema: string | undefined;
    /** Store reads, and statements any pg client sent, since the last reset. */
    const counted = { reads: 0, statements: 0 };

    beforeEach(async () => {
      schema = storeKind === 'postgres' ? `sheets_reads_${randomBytes(6).toString('hex')}` : undefined;
      sheets = await startSheetsService({
        dirPrefix: 'baobei-sheets-reads-',
        env: {
          // No outbox poll during a sync: the statements counted are the sync's.
          BAOBEI_OUTBOX_POLL_MS: '600000',
          ...(schema !== undefined
            ? { BAOBEI_STORE: 'postgres', DATABASE_URL, BAOBEI_PG_SCHEMA: schema }
            : {}),
        },
      });
      const store = sheets.service.store;
      const read = store.read.bind(store);
      store.read = <T>(fn: (tx: ReadTx) => Promise<T>): Promise<T> => {
        counted.reads++;
        return read(fn);
      };
      const query = pg.Client.prototype.query;
      vi.spyOn(pg.Client.prototype, 'query').mockImplementation(function (
        this: pg.Client,
        ...args: unknown[]
      ): unknown {
        counted.statements++;
        return (query as (...a: unknown[]) => unknown).apply(this, args);
      } as typeof query);
    });

    afterEach(async () => {
      vi.restoreAllMocks();
      await sheets.close();
      if (schema !== undefined) await dropSchema(DATABASE_URL, schema);
    });

    /** Links a tab of `rows`, registers them, approves one; the counts of the next sync (which reads the tab). */
    async function syncOfRegisteredRows(first: number, rows: number): Promise<typeof counted> {
      const { fake, admin: api } = sheets;
      const values = [HEADER, ...Array.from({ length: rows }, (_, i) => sheetRow(first + i))];
      const id = fake.createSpreadsheet({
        sheets: [{ title: TAB, values }],
        sharedWith: { [SERVICE_ACCOUNT]: 'writer' },
      });
      const linkId = await linkSheet(api, id, TAB);
      const registered = await api.post<{ registered: number }>(`/api/sheets/${linkId}/sync`, {});
      expect(registered.body.registered).toBe(rows);
      // Reviewed in the service: the next read of the tab shows it on its (unchanged) row.
      const no = String(fake.values(id, TAB)[1]![NO]);
      const review = await api.post<RecordView>(`/api/registrations/${no}/review`, {
        decision: 'approve',
        reason: '资料齐全',
      });
      expect(review.status, JSON.stringify(review.body)).toBe(200);
      counted.reads = 0;
      counted.statements = 0;
      // Our write-back moved the file's version: this sync reads the tab, every row registered and unchanged.
      const res = await api.post<Record<string, unknown>>(`/api/sheets/${linkId}/sync`, {});
      const after = { ...counted };
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body).toMatchObject({ skipped: false, registered: 0, changed: 0, invalid: 0 });
      const shown = fake.values(id, TAB).slice(1);
      expect(shown.map((r) => r[STATUS])).toEqual([
        STATUS_LABELS.protected.zh,
        ...Array<string>(rows - 1).fill(STATUS_LABELS.pending.zh),
      ]);
      return after;
    }

    it('reads the store as often for 8 registered rows as for 2 (the records, states and claims of the tab at once)', async () => {
      const small = await syncOfRegisteredRows(1, 2);
      const large = await syncOfRegisteredRows(11, 8);
      expect(large.reads).toBe(small.reads);
      // On PostgreSQL, round trips: the same statements whatever the number of rows.
      expect(large.statements).toBe(small.statements);
    });
  });
}
