/**
 * The import's modes: a dry run saves nothing; submit saves (and the registrations are there to GET
 * afterwards); the same file again is all duplicates; rows register for their 报备人 or for the caller;
 * history mode is for administrators only and migrates the master register — rows keep their dates,
 * land protected or expired by today's date, status and approval-date columns override, and the
 * earliest of overlapping claims holds (R17).
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { dayOf } from '../../core/day.js';
import type { ImportReport } from '../../server/import/importSheet.js';
import { STANDARD_HEADER, csvOf, standardCsvRows, xlsxOf } from '../fixtures/legacySheets.js';
import { startTestService, type TestService } from '../support/testService.js';
import { ADMIN, REVIEWER, SALES, openTempStore, runImport, type TempStore } from './importHarness.js';

interface Uploaded extends ImportReport {
  id: string;
  annotatedUrl: string;
}

async function upload(
  service: TestService,
  token: string,
  bytes: Uint8Array,
  fields: Record<string, string>,
  fileName = 'legacy.csv',
): Promise<{ status: number; body: Uploaded & { error?: { code: string; field?: string } } }> {
  const form = new FormData();
  form.set('file', new Blob([new Uint8Array(bytes)]), fileName);
  for (const [k, v] of Object.entries(fields)) form.set(k, v);
  const res = await fetch(`${service.url}/api/imports`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
    body: form,
  });
  return { status: res.status, body: (await res.json()) as Uploaded & { error?: { code: string } } };
}

describe('dry run, submit and a second import (over HTTP, as a sales user)', () => {
  let service: TestService;
  let token: string;
  // Four customers for 王磊, the caller.
  const file = Buffer.from(csvOf([STANDARD_HEADER, ...standardCsvRows(4, '王磊')]));

  beforeAll(async () => {
    service = await startTestService();
    token = await service.user('王磊', 'sales', '华东一部');
  });
  afterAll(async () => {
    await service.close();
  });

  async function listed(): Promise<{ total: number; items: { no: string }[] }> {
    const res = await service
      .api(token)
      .get<{ total: number; items: { no: string }[] }>('/api/registrations');
    expect(res.status).toBe(200);
    return res.body;
  }

  it('a dry run checks every row and saves nothing', async () => {
    const res = await upload(service, token, file, { dryRun: 'true' });
    expect(res.status).toBe(200);
    expect(res.body.dryRun).toBe(true);
    expect(res.body.rows.map((r) => r.status)).toEqual(['pending', 'pending', 'pending', 'pending']);
    for (const r of res.body.rows) expect(r.registrationNo).toBeUndefined();
    expect((await listed()).total).toBe(0);
  });

  it('submit saves: every row gets a number, and GET shows the registration', async () => {
    const res = await upload(service, token, file, { mode: 'submit', dryRun: 'false' });
    expect(res.status).toBe(201);
    const numbers = res.body.rows.map((r) => r.registrationNo);
    for (const no of numbers) expect(no).toMatch(/^BB-2026-\d{6}$/);
    expect(new Set(numbers).size).toBe(4);
    for (const [i, no] of numbers.entries()) {
      const got = await service
        .api(token)
        .get<{ no: string; status: string; registration: { customerName: string } }>(
          `/api/registrations/${no}`,
        );
      expect(got.status).toBe(200);
      expect(got.body.no).toBe(no);
      expect(got.body.status).toBe('pending');
      expect(got.body.registration.customerName).toBe(standardCsvRows(4, '王磊')[i]![0]);
    }
    expect((await listed()).total).toBe(4);
  });

  it('the same file again: every row is a duplicate of its registration, nothing new saved', async () => {
    const first = (await listed()).items.map((i) => i.no).sort();
    const res = await upload(service, token, file, { dryRun: 'false' });
    expect(res.body.rows.map((r) => r.status)).toEqual(['duplicate', 'duplicate', 'duplicate', 'duplicate']);
    for (const r of res.body.rows) {
      expect(r.conflicts.some((c) => c.strength === 'exact' && first.includes(c.registrationNo ?? ''))).toBe(
        true,
      );
    }
    expect((await listed()).items.map((i) => i.no).sort()).toEqual(first);
  });

  it('history mode is refused for a sales user', async () => {
    const res = await upload(service, token, file, { mode: 'history' });
    expect(res.status).toBe(403);
    expect(res.body.error).toMatchObject({ code: 'import.history_forbidden', field: 'mode' });
  });
});

describe('whose registrations (submit)', () => {
  let temp: TempStore;
  beforeEach(async () => {
    temp = await openTempStore();
  });
  afterEach(async () => {
    await temp.dispose();
  });

  it('[R2] rows register for their 报备人; a blank 报备人 cell is an error on that row', async () => {
    const rows = standardCsvRows(3, '李娜');
    rows[1]![5] = '';
    const { report } = await runImport(Buffer.from(csvOf([STANDARD_HEADER, ...rows])), temp, {
      actor: ADMIN,
    });
    expect(report.rows.map((r) => r.status)).toEqual(['pending', 'invalid', 'pending']);
    expect(report.rows[1]!.errors).toEqual([
      expect.objectContaining({ field: 'registrant', code: 'field.required' }),
    ]);
    const records = await temp.records();
    expect(records.map((r) => r.registration.registrant)).toEqual(['李娜', '李娜']);
    expect(records.map((r) => r.submittedBy)).toEqual([ADMIN.name, ADMIN.name]);
  });

  it('a sheet without a 报备人 column registers for the caller', async () => {
    const rows = standardCsvRows(2, 'x').map((r) => r.slice(0, 5));
    const { report } = await runImport(Buffer.from(csvOf([STANDARD_HEADER.slice(0, 5), ...rows])), temp, {
      actor: SALES,
    });
    expect(report.rows.map((r) => r.status)).toEqual(['pending', 'pending']);
    expect((await temp.records()).map((r) => r.registration.registrant)).toEqual([SALES.name, SALES.name]);
  });

  it('a sales user cannot register for someone else', async () => {
    const { report } = await runImport(
      Buffer.from(csvOf([STANDARD_HEADER, ...standardCsvRows(1, '李娜')])),
      temp,
      {
        actor: SALES,
      },
    );
    expect(report.rows[0]).toMatchObject({
      status: 'invalid',
      errors: [expect.objectContaining({ field: 'registrant' })],
    });
  });

  it('a dry run leaves nothing on disk', async () => {
    const { report } = await runImport(
      Buffer.from(csvOf([STANDARD_HEADER, ...standardCsvRows(3, '王磊')])),
      temp,
      {
        dryRun: true,
      },
    );
    expect(report.summary.byStatus).toEqual({ pending: 3 });
    await temp.reopen();
    expect(await temp.records()).toEqual([]);
  });
});

describe('history mode', () => {
  let temp: TempStore;
  beforeEach(async () => {
    temp = await openTempStore();
  });
  afterEach(async () => {
    await temp.dispose();
  });

  it.each([SALES, REVIEWER])('is refused for a $role (import.history_forbidden)', async (actor) => {
    const bytes = Buffer.from(csvOf([STANDARD_HEADER, ...standardCsvRows(1, actor.name)]));
    await expect(runImport(bytes, temp, { mode: 'history', actor })).rejects.toMatchObject({
      name: 'ImportError',
      code: 'import.history_forbidden',
    });
    expect(await temp.records()).toEqual([]);
  });

  it('reads 无 or — in 审批日期 as not approved, as a placeholder in any other field', async () => {
    const header = [...STANDARD_HEADER, '状态', '审批日期'];
    const [c0, c1, c2] = standardCsvRows(3, '王磊').map((r) => r.slice(0, 5));
    const bytes = await xlsxOf([
      {
        name: '历史台账',
        rows: [
          header,
          [...c0!, '王磊', '2026-10-01', null, '—'],
          [...c1!, '王磊', '2026-10-01', '驳回', '无'],
          [...c2!, '王磊', '2026-10-01', null, '2026-10-10'],
        ],
      },
    ]);
    const { report } = await runImport(bytes, temp, {
      fileName: 'history.xlsx',
      mode: 'history',
      actor: ADMIN,
    });
    expect(report.rows.map((r) => [r.row, r.status, r.errors.map((e) => e.code)])).toEqual([
      [2, 'protected', []],
      [3, 'rejected', []],
      [4, 'protected', []],
    ]);
  });

  it('[R25][R17] rows keep their dates, land protected or expired by today, status and approval columns override, the earliest claim holds', async () => {
    // Clock: 2026-11-23. Protection: 3 months from approval, taken as the registration day.
    const header = [...STANDARD_HEADER, '状态', '审批日期'];
    const [c0, c1, c2, c3, c4, c5, c6] = standardCsvRows(7, '王磊').map((r) => r.slice(0, 5));
    const bytes = await xlsxOf([
      {
        name: '历史台账',
        rows: [
          header,
          [...c0!, '王磊', '2026-10-01', null, null], // 2: protected until 2026-12-31
          [...c1!, '王磊', '2026-06-01', null, null], // 3: ended 2026-08-31 → expired
          [...c2!, '王磊', '2026-10-01', '已签约', null], // 4: signed
          [...c3!, '王磊', '2026-10-01', '已过期', null], // 5: expired, though its dates say protected
          [...c4!, '王磊', '2026-10-01', '驳回', null], // 6: rejected
          [...c5!, '王磊', '2026-06-01', null, '2026-10-10'], // 7: approved late → protected to 2027-01-09
          [...c6!, '李娜', '2026-10-15', null, null], // 8: later claim of customer 6 → conflict
          [...c6!, '周杰', '2026-10-02', null, null], // 9: the earliest claim of customer 6 → protected
        ],
      },
    ]);
    const { report } = await runImport(bytes, temp, {
      fileName: 'history.xlsx',
      mode: 'history',
      actor: ADMIN,
    });
    expect(report.mode).toBe('history');
    expect(report.rows.map((r) => [r.row, r.status])).toEqual([
      [2, 'protected'],
      [3, 'expired'],
      [4, 'signed'],
      [5, 'expired'],
      [6, 'rejected'],
      [7, 'protected'],
      [8, 'conflict'],
      [9, 'protected'],
    ]);
    expect(report.rows[6]!.conflicts).toEqual([expect.objectContaining({ row: 9, strength: 'exact' })]);
    expect(report.rows[7]!.conflicts).toEqual([]);

    const records = new Map((await temp.records()).map((r) => [r.no, r]));
    const at = (row: number) => records.get(report.rows.find((r) => r.row === row)!.registrationNo!)!;
    expect(records.size).toBe(8);
    // Registration dates kept (Shanghai days), not the day of the import.
    expect([2, 3, 4, 5, 6, 7, 8, 9].map((row) => dayOf(at(row).claimedAt))).toEqual([
      '2026-10-01',
      '2026-06-01',
      '2026-10-01',
      '2026-10-01',
      '2026-10-01',
      '2026-06-01',
      '2026-10-15',
      '2026-10-02',
    ]);
    expect([at(2).protectedFrom, at(2).protectedUntil]).toEqual(['2026-10-01', '2026-12-31']);
    expect(at(3).protectedUntil! < '2026-11-23').toBe(true);
    expect(dayOf(at(7).approvedAt!)).toBe('2026-10-10');
    expect([at(7).protectedFrom, at(7).protectedUntil]).toEqual(['2026-10-10', '2027-01-09']);
    expect(at(8).status).toBe('conflict');
    expect(at(9).protectedUntil).toBe('2027-01-01');
  });
});
