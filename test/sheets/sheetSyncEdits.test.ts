/**
 * The Sheets sync under what people do to a sheet between syncs (issues 11 and 15, Google side):
 * sort, insert and delete rows; an Excel user and a sheet row claiming one customer; edits of a
 * registered row (non-identity → PATCH path, identity onto someone else's customer → refused);
 * a review in the service shown on the row at the next read; quota exhaustion; a deleted tab; a
 * dry run. The real service over HTTP, the real googleapis client
 * against the fake Google server (set-up as in sheetSync.test.ts, with a clock the test moves).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeGoogle } from '../fakes/fakeGoogle.js';
import type { RunningService } from '../../server/service.js';
import type { RecordView } from '../../server/services/recordView.js';
import type { RowResult } from '../../core/schema.js';
import { companyNameFor, enterpriseRow, phoneFor } from '../support/customers.js';
import { apiClient, type Api } from '../support/testService.js';
import { SERVICE_ACCOUNT, startSheetsService, type SheetsService, linkSheet } from './sheetsService.js';

const SA = SERVICE_ACCOUNT;
const TAB = '报备';
const HEADER = ['客户名称', '联系人', '联系电话', '客户类型', '地址', '客户来源', '客户需求'];
/** 0-based columns of the result headers the link appends after 客户需求 (G). */
const NO = 7;
const STATUS = 8;
const PROTECTED_UNTIL = 9;
const CONFLICT = 10;

type Cell = string | number | boolean;

/** A sheet row for customer `n`: the same name and phone as enterpriseRow(n) uses over the API. */
function sheetRow(n: number, need = ''): string[] {
  return [companyNameFor(n), '张三', phoneFor(n), '企业', '上海市浦东新区张江路 100 号', '展会', need];
}

interface Link {
  id: string;
  error?: { code: string; message: string };
  lastSyncAt?: string;
}

describe('Google Sheets sync: edits between syncs (issues 11, 15)', () => {
  let fake: FakeGoogle;
  let sheets: SheetsService;
  let service: RunningService;
  let admin: Api;
  let id: string;
  /** The fake's clock (its per-minute quotas) and the service's, moved by the tests. */
  let googleNow: number;
  let serviceNow: Date;

  beforeEach(async () => {
    googleNow = Date.parse('2026-11-23T02:00:00.000Z');
    serviceNow = new Date('2026-11-23T02:00:00.000Z');
    sheets = await startSheetsService({
      dirPrefix: 'baobei-sheets-edits-',
      googleNow: () => googleNow,
      serviceNow: () => serviceNow,
    });
    ({ fake, service, admin } = sheets);
    id = fake.createSpreadsheet({
      sheets: [{ title: TAB, values: [HEADER, sheetRow(1), sheetRow(2), sheetRow(3), sheetRow(4)] }],
      sharedWith: { [SA]: 'writer' },
    });
  });

  afterEach(async () => {
    await sheets.close();
  });

  function later(minutes: number): void {
    serviceNow = new Date(serviceNow.getTime() + minutes * 60_000);
  }

  function link(sheet = TAB, spreadsheet = id): Promise<string> {
    return linkSheet(admin, spreadsheet, sheet);
  }

  async function sync(
    linkId: string,
    query = '',
  ): Promise<{ status: number; body: Record<string, unknown> }> {
    return admin.post(`/api/sheets/${linkId}/sync${query}`, {});
  }

  async function synced(linkId: string): Promise<Record<string, unknown>> {
    const res = await sync(linkId);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body;
  }

  async function links(): Promise<Link[]> {
    return (await admin.get<{ items: Link[] }>('/api/sheets')).body.items;
  }

  async function registrations(): Promise<RecordView[]> {
    return (await admin.get<{ items: RecordView[] }>('/api/registrations?limit=100')).body.items;
  }

  async function record(no: string): Promise<RecordView> {
    const res = await admin.get<RecordView>(`/api/registrations/${no}`);
    expect(res.status).toBe(200);
    return res.body;
  }

  async function salesperson(name: string): Promise<Api> {
    const res = await admin.post<{ token: string }>('/api/users', { name, role: 'sales', team: '华东一部' });
    expect(res.status).toBe(201);
    return apiClient(service.url, res.body.token);
  }

  async function registerViaApi(who: Api, n: number): Promise<RowResult> {
    const res = await who.post<{ results: RowResult[] }>('/api/registrations', { rows: [enterpriseRow(n)] });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body.results[0]!;
  }

  /** Data rows as customer name → the row's result cells. */
  function rowsByName(sheetId = id, tab = TAB): Map<string, Cell[]> {
    const out = new Map<string, Cell[]>();
    for (const r of fake.values(sheetId, tab).slice(1)) {
      if (r[0] === undefined || r[0] === '') continue;
      expect(out.has(String(r[0])), `customer ${String(r[0])} on two rows`).toBe(false);
      out.set(String(r[0]), r);
    }
    return out;
  }

  it('sort, insert and delete between syncs: every number and status stays on its own row, nothing registered twice', async () => {
    const linkId = await link();
    expect((await synced(linkId)).registered).toBe(4);
    const first = rowsByName();
    const noOf = new Map([...first].map(([name, r]) => [name, String(r[NO])]));
    for (const no of noOf.values()) expect(no).toMatch(/^BB-2026-\d{6}$/);
    expect(new Set(noOf.values()).size).toBe(4);
    // The register agrees with the sheet: each number is the record of that row's customer.
    for (const [name, no] of noOf) expect((await record(no)).registration.customerName).toBe(name);

    // A person sorts the data rows by name descending, inserts a row above row 3 and types a new
    // customer into it, and deletes customer 2's row.
    fake.sortRows(id, TAB, { fromRow: 2, column: 'A', descending: true });
    expect(
      fake
        .values(id, TAB)
        .slice(1)
        .map((r) => r[0]),
    ).not.toEqual([...first.keys()]);
    fake.insertRows(id, TAB, 3);
    fake.editCells(id, TAB, 'A3', [sheetRow(5)]);
    const rowOf2 = fake.values(id, TAB).findIndex((r) => r[0] === companyNameFor(2)) + 1;
    fake.deleteRows(id, TAB, rowOf2);
    // And a new row typed below the others, before the sync, is sorted in among them.
    const last = fake.values(id, TAB).length;
    fake.editCells(id, TAB, `A${last + 1}`, [sheetRow(6)]);
    fake.sortRows(id, TAB, { fromRow: 2, column: 'A' });

    const second = await synced(linkId);
    expect(second.registered).toBe(2);
    expect(second.changed).toBe(0);
    const after = rowsByName();
    expect(after.size).toBe(5);
    expect(after.has(companyNameFor(2))).toBe(false);
    for (const n of [1, 3, 4]) {
      const r = after.get(companyNameFor(n))!;
      expect(r[NO], `customer ${n}`).toBe(noOf.get(companyNameFor(n)));
      expect(r[STATUS]).toBe('待审核');
    }
    for (const n of [5, 6]) {
      const r = after.get(companyNameFor(n))!;
      expect(String(r[NO])).toMatch(/^BB-2026-\d{6}$/);
      expect((await record(String(r[NO]))).registration.customerName).toBe(companyNameFor(n));
    }
    const all = await registrations();
    expect(all).toHaveLength(6);
    expect(new Set(all.map((r) => r.registration.customerName)).size).toBe(6);

    // Sorting the result back again changes nothing in the register.
    fake.sortRows(id, TAB, { fromRow: 2, column: 'A', descending: true });
    const third = await synced(linkId);
    expect(third).toMatchObject({ registered: 0, changed: 0, refused: 0 });
    expect(await registrations()).toHaveLength(6);
    for (const [name, r] of rowsByName()) expect(r[NO]).toBe(after.get(name)![NO]);
  });

  it('an Excel user and a sheet row claiming one customer: the earlier claim wins, as between two API users', async () => {
    const li = await salesperson('李娜');
    const zhao = await salesperson('赵敏');
    const linkId = await link();

    // Customer 7: 李娜 registers it over the API (as the add-in does) before the sheet row is synced.
    const liFirst = await registerViaApi(li, 7);
    expect(liFirst.status).toBe('pending');
    later(5);
    const last = fake.values(id, TAB).length;
    fake.editCells(id, TAB, `A${last + 1}`, [sheetRow(7)]);
    // Control: a second API user claiming customer 7 at the same moment.
    const control = await registerViaApi(zhao, 7);
    expect(control.status).toBe('conflict');
    const body = await synced(linkId);
    expect(body.registered).toBe(5);
    const row7 = rowsByName().get(companyNameFor(7))!;
    const sheetNo = String(row7[NO]);
    expect(sheetNo).toMatch(/^BB-2026-\d{6}$/);
    // The same decision as the control: conflict, and the losing row says with whom.
    expect((await record(sheetNo)).status).toBe((await record(control.registrationNo!)).status);
    expect(row7[STATUS]).toBe('冲突');
    expect(String(row7[CONFLICT])).toContain(liFirst.registrationNo!);
    expect((await record(liFirst.registrationNo!)).status).toBe('pending');

    // Customer 1 was registered from the sheet first: 李娜 registering it later loses to the sheet's owner.
    later(5);
    const liLater = await registerViaApi(li, 1);
    expect(liLater.status).toBe('conflict');
    expect(liLater.conflicts[0]?.holder.name).toBe('王磊');
    expect(liLater.conflicts[0]?.registrationNo).toBe(rowsByName().get(companyNameFor(1))![NO]);
    // The sheet's row for customer 1 is untouched by the later claim.
    const again = await synced(linkId);
    expect(again).toMatchObject({ registered: 0, changed: 0, refused: 0 });
    expect(rowsByName().get(companyNameFor(1))![STATUS]).toBe('待审核');
  });

  it('a registered row: a need edit goes through PATCH (history); an identity edit onto another’s customer is refused and marked', async () => {
    const li = await salesperson('李娜');
    const linkId = await link();
    await synced(linkId);
    const no = String(rowsByName().get(companyNameFor(1))![NO]);
    const before = await record(no);
    const rowIndex = fake.values(id, TAB).findIndex((r) => r[0] === companyNameFor(1)) + 1;

    later(60);
    fake.editCells(id, TAB, `G${rowIndex}`, [['仓储管理系统']]);
    const edited = await synced(linkId);
    expect(edited).toMatchObject({ changed: 1, refused: 0, registered: 0 });
    const changedRecord = await record(no);
    expect(changedRecord.registration.need).toBe('仓储管理系统');
    expect(changedRecord.version).toBe(before.version + 1);
    const changes = changedRecord.history.filter((h) => h.action === 'change');
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({ by: '王磊', details: { field: 'need', to: '仓储管理系统' } });
    expect(fake.values(id, TAB)[rowIndex - 1]?.[STATUS]).toBe('待审核');

    // Customer 8 is 李娜's; the row's name is changed onto it.
    const liNo = (await registerViaApi(li, 8)).registrationNo!;
    later(60);
    fake.editCells(id, TAB, `A${rowIndex}`, [[companyNameFor(8)]]);
    const refused = await synced(linkId);
    expect(refused).toMatchObject({ changed: 0, refused: 1, registered: 0 });
    const row = fake.values(id, TAB)[rowIndex - 1]!;
    expect(row[NO]).toBe(no);
    expect(row[STATUS]).toBe('已变更，未生效');
    expect(String(row[CONFLICT])).toMatch(/^更改被拒绝：.+/);
    const unchanged = await record(no);
    expect(unchanged.registration.customerName).toBe(companyNameFor(1));
    expect(unchanged.version).toBe(changedRecord.version);
    expect((await record(liNo)).status).toBe('pending');

    // Not retried while the cells stay as they are; no second registration of customer 8.
    const quiet = await synced(linkId);
    expect(quiet).toMatchObject({ changed: 0, refused: 0, registered: 0 });
    expect((await record(no)).version).toBe(changedRecord.version);
    expect(
      (await registrations()).filter((r) => r.registration.customerName === companyNameFor(8)),
    ).toHaveLength(1);

    // The row is put back as it was (the hint says so): the mark goes, the record's status returns.
    fake.editCells(id, TAB, `A${rowIndex}`, [[companyNameFor(1)]]);
    const restored = await synced(linkId);
    expect(restored).toMatchObject({ changed: 0, refused: 0, registered: 0 });
    const back = fake.values(id, TAB)[rowIndex - 1]!;
    expect(back[NO]).toBe(no);
    expect(back[STATUS]).toBe('待审核');
    expect(back[CONFLICT] ?? '').toBe('');
    expect((await record(no)).version).toBe(changedRecord.version);
  });

  it('a registration reviewed in the service: the next sync that reads the sheet shows its status and protection end on its row', async () => {
    const linkId = await link();
    await synced(linkId);
    const no1 = String(rowsByName().get(companyNameFor(1))![NO]);
    const no2 = String(rowsByName().get(companyNameFor(2))![NO]);
    later(60);
    const approved = await admin.post<RecordView>(`/api/registrations/${no1}/review`, {
      decision: 'approve',
      reason: '资料齐全',
    });
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    const rejected = await admin.post<RecordView>(`/api/registrations/${no2}/review`, {
      decision: 'reject',
      reason: '资料不全',
    });
    expect(rejected.status, JSON.stringify(rejected.body)).toBe(200);
    const protectedUntil = (await record(no1)).protectedUntil!;
    expect(protectedUntil).toMatch(/^\d{4}-\d{2}-\d{2}$/);

    // Someone types a new customer: the sync reads the sheet, registers it and brings the other
    // rows up to date; nothing is registered or changed twice.
    const last = fake.values(id, TAB).length;
    fake.editCells(id, TAB, `A${last + 1}`, [sheetRow(5)]);
    expect(await synced(linkId)).toMatchObject({ registered: 1, changed: 0, refused: 0 });
    const rows = rowsByName();
    expect(rows.get(companyNameFor(1))![STATUS]).toBe('保护中');
    expect(rows.get(companyNameFor(1))![NO]).toBe(no1);
    expect(rows.get(companyNameFor(1))![PROTECTED_UNTIL]).toBe(protectedUntil);
    expect(rows.get(companyNameFor(2))![STATUS]).toBe('驳回');
    expect(rows.get(companyNameFor(3))![STATUS]).toBe('待审核');
    expect((await record(no1)).version).toBe(approved.body.version);
    expect(await registrations()).toHaveLength(5);

    // Shown as they are: the next sync (our write-back moved the version) reads and writes nothing.
    fake.clearCalls();
    expect(await synced(linkId)).toMatchObject({ registered: 0, changed: 0 });
    expect(fake.calls.map((c) => c.method)).not.toContainEqual(expect.stringMatching(/batchUpdate/));
  });

  it('a registered row whose edited cell is a formula error is not sent: the field is not emptied on the record', async () => {
    const linkId = await link();
    await synced(linkId);
    const no = String(rowsByName().get(companyNameFor(2))![NO]);
    const before = await record(no);
    const rowIndex = fake.values(id, TAB).findIndex((r) => r[0] === companyNameFor(2)) + 1;

    later(60);
    // The phone became a broken formula; the need of the same row was really edited.
    fake.editCells(id, TAB, `C${rowIndex}`, [['=1/0']]);
    fake.editCells(id, TAB, `G${rowIndex}`, [['仓储管理系统']]);
    const broken = await synced(linkId);
    expect(broken).toMatchObject({ changed: 0, refused: 1, registered: 0 });
    const kept = await record(no);
    expect(kept.version).toBe(before.version);
    expect(kept.registration.contactPhone).toBe(before.registration.contactPhone);
    const row = fake.values(id, TAB)[rowIndex - 1]!;
    expect(row[NO]).toBe(no);
    expect(row[STATUS]).toBe('已变更，未生效');
    expect(String(row[CONFLICT])).toContain('错误值');

    // The formula mended: the need edit goes through, and only it.
    later(60);
    fake.editCells(id, TAB, `C${rowIndex}`, [[phoneFor(2)]]);
    expect(await synced(linkId)).toMatchObject({ changed: 1, refused: 0 });
    const after = await record(no);
    expect(after.registration.need).toBe('仓储管理系统');
    expect(after.registration.contactPhone).toBe(before.registration.contactPhone);
    expect(after.history.filter((h) => h.action === 'change').map((h) => h.details?.['field'])).toEqual([
      'need',
    ]);
  });

  it('quota exhausted (429 after the per-minute quota): the error is recorded on the link; a sync in the next minute succeeds, registering nothing twice', async () => {
    const linkId = await link(); // one Sheets read this minute (the header)
    // Two reads a minute: the sync's values.batchGet passes, the tab-id lookup before the write-back
    // (spreadsheets.get, once per process) is refused — the quota runs out mid-sync, after the submit.
    fake.setQuotas({ sheetsReadPerMinutePerUser: 2 });
    fake.clearCalls();
    const failed = await admin.post<{ error: { code: string; details: { operation: string } } }>(
      `/api/sheets/${linkId}/sync`,
      {},
    );
    expect(failed.status).toBeGreaterThanOrEqual(400);
    expect(failed.body.error.code).toBe('google.rate_limited');
    // Retried, then given up (two tries in this test's client), and nothing written.
    const refusedOp = failed.body.error.details.operation;
    expect(fake.calls.filter((c) => c.method === refusedOp && c.status === 429)).toHaveLength(2);
    expect(fake.calls.map((c) => c.method)).not.toContain('spreadsheets.values.batchUpdate');
    const [errored] = await links();
    expect(errored?.error?.code).toBe('google.rate_limited');
    expect(errored?.error?.message).toContain('429');
    expect(errored?.lastSyncAt).toBeUndefined();
    // Still refused within the same minute.
    expect((await sync(linkId)).status).toBeGreaterThanOrEqual(400);

    googleNow += 60_000; // Google refills quotas every minute
    await synced(linkId);
    const [cleared] = await links();
    expect(cleared?.error).toBeUndefined();
    expect(cleared?.lastSyncAt).toBeDefined();
    const rows = rowsByName();
    expect(rows.size).toBe(4);
    for (const r of rows.values()) expect(String(r[NO])).toMatch(/^BB-2026-\d{6}$/);
    const all = await registrations();
    expect(all).toHaveLength(4);
    expect(new Set(all.map((r) => r.no))).toEqual(new Set([...rows.values()].map((r) => String(r[NO]))));
  });

  it('a deleted tab: the error on its link names the tab; another link syncs on', async () => {
    fake.deleteSpreadsheet(id);
    id = fake.createSpreadsheet({
      sheets: [
        { title: TAB, values: [HEADER, sheetRow(1), sheetRow(2)] },
        { title: '华南', values: [HEADER, sheetRow(3)] },
      ],
      sharedWith: { [SA]: 'writer' },
    });
    const gone = await link(TAB);
    const other = await link('华南');
    await synced(gone);
    fake.deleteSheet(id, TAB);
    fake.editCells(id, '华南', 'A3', [sheetRow(4)]);

    const failed = await sync(gone);
    expect(failed.status).toBeGreaterThanOrEqual(400);
    const ok = await synced(other);
    expect(ok.registered).toBe(2);
    const all = await links();
    const goneLink = all.find((l) => l.id === gone)!;
    expect(goneLink.error?.code, JSON.stringify(goneLink.error)).toMatch(/tab_missing/);
    expect(goneLink.error?.message).toContain(TAB);
    expect(all.find((l) => l.id === other)!.error).toBeUndefined();
    expect(rowsByName(id, '华南').size).toBe(2);
    expect(await registrations()).toHaveLength(4);
  });

  it('a dry run registers nothing and writes nothing to the sheet, for new rows and for edited ones', async () => {
    const linkId = await link();
    const sheetBefore = fake.values(id, TAB);
    const versionBefore = fake.version(id);
    fake.clearCalls();
    const dry = await sync(linkId, '?dryRun=true');
    expect(dry.status, JSON.stringify(dry.body)).toBe(200);
    expect(dry.body).toMatchObject({ dryRun: true, registered: 0 });
    expect(fake.calls.map((c) => c.method)).not.toContainEqual(expect.stringMatching(/batchUpdate/));
    expect(fake.values(id, TAB)).toEqual(sheetBefore);
    expect(fake.version(id)).toBe(versionBefore);
    expect(await registrations()).toHaveLength(0);

    // The real sync afterwards still registers every row (the dry run did not mark the version read).
    expect((await synced(linkId)).registered).toBe(4);
    const no = String(rowsByName().get(companyNameFor(2))![NO]);
    const rowIndex = fake.values(id, TAB).findIndex((r) => r[0] === companyNameFor(2)) + 1;
    fake.editCells(id, TAB, `G${rowIndex}`, [['ERP 升级']]);
    const edited = fake.values(id, TAB);
    const version = fake.version(id);
    const versionOfRecord = (await record(no)).version;
    fake.clearCalls();
    expect((await sync(linkId, '?dryRun=true')).status).toBe(200);
    expect(fake.calls.map((c) => c.method)).not.toContainEqual(expect.stringMatching(/batchUpdate/));
    expect(fake.values(id, TAB)).toEqual(edited);
    expect(fake.version(id)).toBe(version);
    expect((await record(no)).version).toBe(versionOfRecord);
    expect((await synced(linkId)).changed).toBe(1);
    expect((await record(no)).registration.need).toBe('ERP 升级');
  });
});
