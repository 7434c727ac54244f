/**
 * Row identity in the Google Sheets sync (issue 11): a row is its registration number once it has
 * one, before that the row key the sync keeps on it as ROW developer metadata — never its position.
 * People sort, insert, delete and copy rows between syncs, and between a sync's read and its write
 * (the fake's beforeCall runs their edit there); every result lands on its own row, a copied row
 * carrying another row's number is flagged and never applied to that registration, and a sync
 * writes only rows whose result changed (no change: one call). The real service over HTTP, the real
 * googleapis client against the fake Google server.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { STATUS_LABELS } from '../../core/schema.js';
import type { RecordView } from '../../server/services/recordView.js';
import {
  identifyRows,
  ROW_KEY_METADATA,
  rowsByIdentity,
  type RowFacts,
} from '../../server/sheets/sheetRowIdentity.js';
import type { FakeGoogle } from '../fakes/fakeGoogle.js';
import { companyNameFor, enterpriseRow, phoneFor } from '../support/customers.js';
import { apiClient, type Api } from '../support/testService.js';
import { SERVICE_ACCOUNT, startSheetsService, type SheetsService, linkSheet } from './sheetsService.js';

const TAB = '报备';
const HEADER = ['客户名称', '联系人', '联系电话', '客户类型', '地址', '客户来源', '客户需求'];
/** 0-based columns of the result headers the link appends after 客户需求 (G). */
const NO = 7;
const STATUS = 8;
const CONFLICT = 10;
const PENDING = STATUS_LABELS.pending.zh;
const DUPLICATE = STATUS_LABELS.duplicate.zh;
const INVALID = STATUS_LABELS.invalid.zh;

type Cell = string | number | boolean;

function sheetRow(n: number, need = ''): string[] {
  return [companyNameFor(n), '张三', phoneFor(n), '企业', '上海市浦东新区张江路 100 号', '展会', need];
}

/** A row core refuses (a phone of five digits): invalid, annotated, never registered. */
function invalidRow(n: number): string[] {
  return [companyNameFor(n), '李四', '12345', '企业', '上海市浦东新区张江路 100 号', '展会', ''];
}

describe('Google Sheets sync: row identity (issue 11)', () => {
  let fake: FakeGoogle;
  let sheets: SheetsService | undefined;
  let admin: Api;
  let id: string;

  async function start(rows: string[][], options: { rowMetadataFollowsSort?: boolean } = {}): Promise<void> {
    sheets = await startSheetsService({ dirPrefix: 'baobei-sheets-identity-', google: options });
    ({ fake, admin } = sheets);
    id = fake.createSpreadsheet({
      sheets: [{ title: TAB, values: [HEADER, ...rows] }],
      sharedWith: { [SERVICE_ACCOUNT]: 'writer' },
    });
  }

  afterEach(async () => {
    await sheets?.close();
    sheets = undefined;
  });

  function link(): Promise<string> {
    return linkSheet(admin, id, TAB);
  }

  /** One sync; the calls it made, by method. */
  async function synced(
    linkId: string,
  ): Promise<{ body: Record<string, number>; calls: Record<string, number> }> {
    fake.clearCalls();
    const res = await admin.post<Record<string, number>>(`/api/sheets/${linkId}/sync`, {});
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return { body: res.body, calls: fake.callCounts() };
  }

  async function salesperson(name: string): Promise<Api> {
    const res = await admin.post<{ token: string }>('/api/users', { name, role: 'sales', team: '华东一部' });
    expect(res.status).toBe(201);
    return apiClient(sheets!.service.url, res.body.token);
  }

  async function registrations(): Promise<RecordView[]> {
    return (await admin.get<{ items: RecordView[] }>('/api/registrations?limit=100')).body.items;
  }

  async function record(no: string): Promise<RecordView> {
    const res = await admin.get<RecordView>(`/api/registrations/${no}`);
    expect(res.status).toBe(200);
    return res.body;
  }

  /** Data rows with their sheet row, their row key (metadata) and their cells. */
  function rows(): { row: number; key: string | undefined; cells: Cell[] }[] {
    return fake
      .values(id, TAB)
      .map((cells, i) => ({
        row: i + 1,
        key: fake.rowMetadata(id, TAB, i + 1).find((m) => m.metadataKey === ROW_KEY_METADATA)?.metadataValue,
        cells,
      }))
      .slice(1)
      .filter((r) => r.cells.some((c) => c !== ''));
  }

  /** Row key → the row's cells (inputs and results): what must not change when rows move. */
  function byKey(): Map<string, Cell[]> {
    const out = new Map<string, Cell[]>();
    for (const r of rows()) {
      expect(r.key, `row ${r.row} has no row key`).toBeDefined();
      expect(out.has(r.key!), `row key ${r.key} on two rows`).toBe(false);
      out.set(r.key!, r.cells);
    }
    return out;
  }

  it('identical rows keep their own results through sort, insert and delete; a twin typed again is a new row', async () => {
    // Customer 1 twice (one registers, the other is its duplicate), an invalid row twice, customer 2.
    await start([sheetRow(1), invalidRow(7), sheetRow(2), sheetRow(1), invalidRow(7)]);
    const linkId = await link();
    const first = await synced(linkId);
    expect(first.body).toMatchObject({ registered: 2, invalid: 2 });
    const before = byKey();
    expect(before.size).toBe(5);
    const statuses = [...before.values()].map((c) => c[STATUS]).sort();
    expect(statuses).toEqual([DUPLICATE, INVALID, INVALID, PENDING, PENDING].sort());
    const no1 = [...before.values()].find((c) => c[0] === companyNameFor(1) && c[STATUS] === PENDING)![NO];
    expect((await record(String(no1))).registration.customerName).toBe(companyNameFor(1));

    // A person sorts by name descending, inserts two empty rows at the top and deletes customer 2.
    fake.sortRows(id, TAB, { fromRow: 2, column: 'A', descending: true });
    fake.insertRows(id, TAB, 2, 2);
    const rowOf2 = rows().find((r) => r.cells[0] === companyNameFor(2))!.row;
    const keyOf2 = rows().find((r) => r.cells[0] === companyNameFor(2))!.key!;
    fake.deleteRows(id, TAB, rowOf2);
    fake.sortRows(id, TAB, { fromRow: 2, column: 'A' });

    const second = await synced(linkId);
    expect(second.body).toMatchObject({ registered: 0, changed: 0, refused: 0 });
    // Nothing moved on any row: every key still shows the same cells.
    const after = byKey();
    before.delete(keyOf2);
    expect(after).toEqual(before);
    expect(await registrations()).toHaveLength(2);
    // Nothing to write (each row already shows its result): files.get and the read only.
    expect(second.calls).toEqual({ 'drive.files.get': 1, 'spreadsheets.get': 1 });

    // Customer 1 typed once more: a third twin, a new row of its own (its own key, its own result).
    const last = fake.values(id, TAB).length;
    fake.editCells(id, TAB, `A${last + 1}`, [sheetRow(1)]);
    const third = await synced(linkId);
    expect(third.body).toMatchObject({ registered: 0 });
    const now = byKey();
    expect(now.size).toBe(5);
    for (const [key, cells] of before) expect(now.get(key), key).toEqual(cells);
    const added = [...now].find(([key]) => !before.has(key))!;
    expect(added[1][STATUS]).toBe(DUPLICATE);
    expect(added[1][NO]).toBe(no1);
    expect(await registrations()).toHaveLength(2);
    // Only the new row was written: one fill, one row key.
    const write = fake.calls.find((c) => c.method === 'spreadsheets.batchUpdate')!;
    expect(write.requestKinds?.filter((k) => k === 'repeatCell')).toHaveLength(1);
    expect(write.requestKinds?.filter((k) => k === 'createDeveloperMetadata')).toHaveLength(1);
  });

  it('a copied row carrying a registered number is a new row: flagged with a note, never applied to that registration', async () => {
    await start([sheetRow(1), sheetRow(2)]);
    const linkId = await link();
    await synced(linkId);
    const original = rows().find((r) => r.cells[0] === companyNameFor(1))!;
    const no = String(original.cells[NO]);
    const recordBefore = await record(no);

    // A person copies customer 1's row (number and all) to the top as a template and types another
    // customer's name and phone into it.
    fake.insertRows(id, TAB, 2);
    fake.editCells(id, TAB, 'A2', [original.cells]);
    fake.editCells(id, TAB, 'A2', [[companyNameFor(9), '王五', phoneFor(9)]]);
    const second = await synced(linkId);
    expect(second.body).toMatchObject({ registered: 0, changed: 0, refused: 0 });
    const copy = rows().find((r) => r.cells[0] === companyNameFor(9))!;
    expect(copy.row).toBe(2);
    expect(copy.cells[NO]).toBe(no);
    expect(copy.cells[STATUS]).toBe('编号重复');
    const originalRow = rows().find((r) => r.cells[0] === companyNameFor(1))!.row;
    expect(String(copy.cells[CONFLICT])).toContain(`第 ${originalRow} 行`);
    expect(fake.cell(id, TAB, 'A2').note).toContain('复制的行');
    expect(copy.key?.startsWith('copy:')).toBe(true);
    // The original keeps its number and status; the registration is untouched.
    const kept = rows().find((r) => r.cells[0] === companyNameFor(1))!;
    expect(kept.cells[NO]).toBe(no);
    expect(kept.cells[STATUS]).toBe(PENDING);
    expect(kept.key).toBe(original.key);
    const recordAfter = await record(no);
    expect(recordAfter.registration).toEqual(recordBefore.registration);
    expect(recordAfter.version).toBe(recordBefore.version);

    // Sorted so that the copy comes after the original: still the copy that is flagged.
    fake.sortRows(id, TAB, { fromRow: 2, column: 'A', descending: true });
    await synced(linkId);
    for (const r of rows()) {
      if (r.cells[0] === companyNameFor(9)) expect(r.cells[STATUS]).toBe('编号重复');
      if (r.cells[0] === companyNameFor(1)) expect(r.cells[STATUS]).toBe(PENDING);
    }
    expect((await record(no)).version).toBe(recordBefore.version);

    // The person clears the copied number: the row is registered as the new customer it now is.
    const copyRow = rows().find((r) => r.cells[0] === companyNameFor(9))!.row;
    fake.editCells(id, TAB, `H${copyRow}`, [['']]);
    const third = await synced(linkId);
    expect(third.body).toMatchObject({ registered: 1 });
    const registered = rows().find((r) => r.cells[0] === companyNameFor(9))!;
    expect(registered.cells[NO]).not.toBe(no);
    expect((await record(String(registered.cells[NO]))).registration.customerName).toBe(companyNameFor(9));
    expect(fake.cell(id, TAB, `A${registered.row}`).note).toBeNull();
    expect(await registrations()).toHaveLength(3);
  });

  it('a sort between the read and the write: the identity column is re-read and every number lands on its customer', async () => {
    await start([sheetRow(3), sheetRow(1), sheetRow(4), sheetRow(2)]);
    const linkId = await link();
    // The person sorts while the first sync is registering: after its read, before its re-read.
    fake.beforeCall('spreadsheets.get', () => fake.sortRows(id, TAB, { fromRow: 2, column: 'A' }), 2);
    const first = await synced(linkId);
    expect(first.body.registered).toBe(4);
    expect(first.calls).toEqual({
      'drive.files.get': 1,
      'spreadsheets.get': 2,
      'spreadsheets.values.batchUpdate': 1,
      'spreadsheets.batchUpdate': 1,
    });
    for (const r of rows()) {
      expect(r.cells[STATUS]).toBe(PENDING);
      expect((await record(String(r.cells[NO]))).registration.customerName, `row ${r.row}`).toBe(r.cells[0]);
    }

    // Two registered rows renamed onto customers 李娜 holds (refused, marked), then, between the
    // read and the write, sorted and a row inserted: the re-read is of the number column alone (the
    // rows are known by number), and each mark lands on its own row.
    const li = await salesperson('李娜');
    for (const n of [8, 9]) {
      const res = await li.post('/api/registrations', { rows: [enterpriseRow(n)] });
      expect(res.status).toBe(200);
    }
    const noOf = new Map(rows().map((r) => [String(r.cells[0]), String(r.cells[NO])]));
    const rowOf = (name: string) => rows().find((r) => r.cells[0] === name)!.row;
    fake.editCells(id, TAB, `A${rowOf(companyNameFor(1))}`, [[companyNameFor(8)]]);
    fake.editCells(id, TAB, `A${rowOf(companyNameFor(3))}`, [[companyNameFor(9)]]);
    fake.beforeCall(
      'spreadsheets.get',
      () => {
        fake.sortRows(id, TAB, { fromRow: 2, column: 'A', descending: true });
        fake.insertRows(id, TAB, 3);
      },
      2,
    );
    const second = await synced(linkId);
    expect(second.body).toMatchObject({ refused: 2, changed: 0, registered: 0 });
    expect(second.calls['spreadsheets.get']).toBe(2);
    const [read, reread] = fake.calls.filter((c) => c.method === 'spreadsheets.get');
    expect(reread!.responseBytes).toBeLessThan(read!.responseBytes);
    const now = rows();
    expect(now).toHaveLength(4);
    for (const r of now) {
      const name = String(r.cells[0]);
      if (name === companyNameFor(8) || name === companyNameFor(9)) {
        expect(r.cells[NO]).toBe(
          noOf.get(name === companyNameFor(8) ? companyNameFor(1) : companyNameFor(3)),
        );
        expect(r.cells[STATUS], `row ${r.row}`).toBe('已变更，未生效');
      } else {
        expect(r.cells[NO]).toBe(noOf.get(name));
        expect(r.cells[STATUS], `row ${r.row}`).toBe(PENDING);
        expect(r.cells[CONFLICT] ?? '').toBe('');
      }
    }
    expect(await registrations()).toHaveLength(6);
  });

  it.each([
    ['spreadsheets.batchUpdate', 'nothing written'],
    ['spreadsheets.values.batchUpdate', 'keys and fills written, numbers not'],
  ])(
    'a crash in %s (%s), then a sort: nothing registered twice, each number on its customer',
    async (method) => {
      await start([sheetRow(1), sheetRow(2), sheetRow(3)]);
      const linkId = await link();
      fake.injectFault({ method, status: 500, times: 2 });
      const failed = await admin.post(`/api/sheets/${linkId}/sync`, {});
      expect(failed.status).not.toBe(200);
      expect(rows().every((r) => (r.cells[NO] ?? '') === '')).toBe(true);
      const keyed = method === 'spreadsheets.values.batchUpdate';
      expect(rows().every((r) => (r.key !== undefined) === keyed)).toBe(true);
      fake.sortRows(id, TAB, { fromRow: 2, column: 'A', descending: true });
      const again = await synced(linkId);
      expect(again.body.registered).toBe(0);
      expect(await registrations()).toHaveLength(3);
      for (const r of rows()) {
        expect(r.key).toBeDefined();
        expect((await record(String(r.cells[NO]))).registration.customerName).toBe(r.cells[0]);
      }
    },
  );

  it('calls per sync: first ≤ 5 (the fifth is the re-read), then 2 after our own write, then 1 — invalid rows included', async () => {
    await start([sheetRow(1), invalidRow(5), sheetRow(2), invalidRow(6)]);
    const linkId = await link();
    const first = await synced(linkId);
    expect(first.calls).toEqual({
      'drive.files.get': 1,
      'spreadsheets.get': 2,
      'spreadsheets.values.batchUpdate': 1,
      'spreadsheets.batchUpdate': 1,
    });
    expect(first.body).toMatchObject({ registered: 2, invalid: 2, calls: 5 });
    const second = await synced(linkId);
    expect(second.calls).toEqual({ 'drive.files.get': 1, 'spreadsheets.get': 1 });
    expect(second.body.calls).toBe(2);
    const third = await synced(linkId);
    expect(third.calls).toEqual({ 'drive.files.get': 1 });
    expect(third.body).toMatchObject({ skipped: true, calls: 1 });

    // One invalid row fixed: only that row is written.
    const bad = rows().find((r) => r.cells[0] === companyNameFor(5))!;
    fake.editCells(id, TAB, `C${bad.row}`, [[phoneFor(5)]]);
    const fourth = await synced(linkId);
    expect(fourth.body).toMatchObject({ registered: 1, invalid: 1, calls: 5 });
    const write = fake.calls.find((c) => c.method === 'spreadsheets.batchUpdate')!;
    expect(write.requestKinds?.filter((k) => k === 'repeatCell')).toHaveLength(1);
    // Its key was made when it was first written (invalid); it keeps it.
    expect(write.requestKinds).not.toContain('createDeveloperMetadata');
    const fixed = rows().find((r) => r.cells[0] === companyNameFor(5))!;
    expect(fixed.key).toBe(bad.key);
    expect(fixed.cells[STATUS]).toBe(PENDING);
    expect(fake.cell(id, TAB, `C${fixed.row}`).note).toBeNull();
    expect((await synced(linkId)).calls).toEqual({ 'drive.files.get': 1, 'spreadsheets.get': 1 });
    expect((await synced(linkId)).calls).toEqual({ 'drive.files.get': 1 });
  });

  it('registered rows keep their numbers through a sort when row metadata stays put (rowMetadataFollowsSort: false)', async () => {
    await start([sheetRow(2), sheetRow(1), invalidRow(8), sheetRow(3)], { rowMetadataFollowsSort: false });
    const linkId = await link();
    await synced(linkId);
    fake.sortRows(id, TAB, { fromRow: 2, column: 'A', descending: true });
    const second = await synced(linkId);
    expect(second.body).toMatchObject({ registered: 0, changed: 0, refused: 0, invalid: 1 });
    for (const r of rows()) {
      if (r.cells[0] === companyNameFor(8)) {
        expect(r.cells[STATUS]).toBe(INVALID);
        continue;
      }
      expect(r.cells[STATUS]).toBe(PENDING);
      expect((await record(String(r.cells[NO]))).registration.customerName).toBe(r.cells[0]);
    }
    expect(await registrations()).toHaveLength(3);
  });
});

describe('identifyRows (which row is which, without Google)', () => {
  const fact = (row: number, no: string | null, metadataKey?: string, hash = 'h'): RowFacts => ({
    row,
    no,
    metadataKey,
    hash,
  });

  it('derives hash#rank for rows without a key, skipping ranks already on other rows', () => {
    const ids = identifyRows(
      [fact(2, null, 'h#1'), fact(3, null), fact(4, null), fact(5, null, undefined, 'g')],
      new Map(),
    );
    expect([...ids.values()].map((i) => [i.row, i.key, i.keyed, i.identity])).toEqual([
      [2, 'h#1', true, 'key:h#1'],
      [3, 'h#2', false, 'key:h#2'],
      [4, 'h#3', false, 'key:h#3'],
      [5, 'g#1', false, 'key:g#1'],
    ]);
  });

  it('a key found on two rows belongs to the first; the second is treated as having none', () => {
    const ids = identifyRows([fact(2, null, 'k'), fact(3, null, 'k')], new Map());
    expect(ids.get(2)).toMatchObject({ key: 'k', keyed: true });
    expect(ids.get(3)).toMatchObject({ key: 'h#1', keyed: false });
  });

  it('a number on two rows: the row with the bound key owns it wherever it is; the other is a copy', () => {
    const rows = [fact(2, 'BB-2026-000001', undefined, 'c'), fact(3, 'BB-2026-000001', 'h#1')];
    const ids = identifyRows(rows, new Map([['BB-2026-000001', 'h#1']]));
    expect(ids.get(3)).toMatchObject({ owner: true, identity: 'no:BB-2026-000001' });
    expect(ids.get(2)).toMatchObject({ owner: false, key: 'copy:c#1', identity: 'key:copy:c#1' });
    // Without a bound key: the first row not already known as a copy.
    const unbound = identifyRows(
      [fact(2, 'BB-2026-000001', 'copy:c#1'), fact(3, 'BB-2026-000001')],
      new Map(),
    );
    expect(unbound.get(3)?.owner).toBe(true);
    expect(unbound.get(2)?.owner).toBe(false);
  });

  it('from the number column alone (no cells): owners and keyed rows have identities, others none', () => {
    const ids = identifyRows(
      [
        { row: 2, no: 'BB-2026-000002', metadataKey: undefined, hash: undefined },
        { row: 3, no: null, metadataKey: 'k', hash: undefined },
        { row: 4, no: 'BB-2026-000002', metadataKey: undefined, hash: undefined },
      ],
      new Map(),
    );
    expect([...rowsByIdentity(ids).keys()]).toEqual(['no:BB-2026-000002', 'key:k']);
    expect(ids.get(4)?.identity).toBeUndefined();
  });
});
