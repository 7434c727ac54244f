/**
 * A placeholder (无, N/A, —) and a blank cell are the same value to the sync (core/row.ts reads the
 * one as the other): turning one into the other in a registered row is no edit, sends no change and
 * leaves the record's version alone — also for rows whose state an older build stored, hashed over
 * the placeholder as typed (docs/sheets.md "Upgrading"). The real service over HTTP, the real
 * googleapis client against the fake Google server.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FakeGoogle } from '../fakes/fakeGoogle.js';
import type { RecordView } from '../../server/services/recordView.js';
import { ROW_COLLECTION, rowKey, rowStateSchema } from '../../server/sheets/sheetLinks.js';
import { hashOf } from '../../server/sheets/sheetTabRead.js';
import type { Api } from '../support/testService.js';
import { SERVICE_ACCOUNT, linkSheet, startSheetsService, type SheetsService } from './sheetsService.js';

const TAB = '报备';
const HEADER = ['客户名称', '联系人', '联系电话', '客户类型', '地址', '客户来源'];
/** 0-based column of 报备编号 (the link appends it after 客户来源, F). */
const NO = 6;
const ROW = ['上海甲乙丙科技有限公司', '无', '13912345671', '企业', '上海市浦东新区张江路1号', '展会'];

describe('Google Sheets sync: a placeholder is a blank', () => {
  let fake: FakeGoogle;
  let sheets: SheetsService;
  let admin: Api;
  let id: string;

  beforeEach(async () => {
    sheets = await startSheetsService({ dirPrefix: 'baobei-sheets-placeholder-' });
    ({ fake, admin } = sheets);
    id = fake.createSpreadsheet({
      sheets: [{ title: TAB, values: [HEADER, ROW] }],
      sharedWith: { [SERVICE_ACCOUNT]: 'writer' },
    });
  });

  afterEach(async () => {
    await sheets.close();
  });

  async function synced(linkId: string): Promise<Record<string, unknown>> {
    const res = await admin.post<Record<string, unknown>>(`/api/sheets/${linkId}/sync`, {});
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body;
  }

  async function record(no: string): Promise<RecordView> {
    const res = await admin.get<RecordView>(`/api/registrations/${no}`);
    expect(res.status).toBe(200);
    return res.body;
  }

  function changedFields(view: RecordView): unknown[] {
    return view.history.filter((h) => h.action === 'change').map((h) => h.details?.['field']);
  }

  /** Registers the row, and returns its number and the record's version then. */
  async function registered(linkId: string): Promise<{ no: string; version: number }> {
    expect((await synced(linkId)).registered).toBe(1);
    const no = String(fake.values(id, TAB)[1]?.[NO]);
    expect(no).toMatch(/^BB-2026-\d{6}$/);
    // The write-back moved the file's version: this sync reads and finds nothing to do.
    expect(await synced(linkId)).toMatchObject({ changed: 0, refused: 0 });
    return { no, version: (await record(no)).version };
  }

  it('无 → blank → N/A in an optional cell is no edit; a real edit beside it sends that field only', async () => {
    const linkId = await linkSheet(admin, id, TAB);
    const { no, version } = await registered(linkId);
    expect((await record(no)).registration).not.toHaveProperty('contactName');

    fake.editCells(id, TAB, 'B2', [['']]);
    expect(await synced(linkId)).toMatchObject({ skipped: false, changed: 0, refused: 0, invalid: 0 });
    fake.editCells(id, TAB, 'B2', [['N/A']]);
    expect(await synced(linkId)).toMatchObject({ skipped: false, changed: 0, refused: 0, invalid: 0 });
    expect((await record(no)).version).toBe(version);

    fake.editCells(id, TAB, 'E2', [['上海市浦东新区张江路2号']]);
    expect(await synced(linkId)).toMatchObject({ changed: 1, refused: 0 });
    const after = await record(no);
    expect(after.version).toBe(version + 1);
    expect(after.registration.address).toBe('上海市浦东新区张江路2号');
    expect(changedFields(after)).toEqual(['address']);
  });

  it('upgrading: a row state an older build hashed over 无 as typed is not taken for an edit', async () => {
    const linkId = await linkSheet(admin, id, TAB);
    const { no, version } = await registered(linkId);
    // What an older build stored for the row: its cells as typed, 无 included, and their hash.
    await sheets.service.store.write(async (tx) => {
      const state = rowStateSchema.parse(await tx.getDoc(ROW_COLLECTION, rowKey(linkId, no)));
      const cells = { ...state.cells, contactName: '无' };
      await tx.putDoc(ROW_COLLECTION, rowKey(linkId, no), { ...state, cells, hash: hashOf(cells) });
    });
    // Any edit elsewhere moves the file's version, so the next sync reads the row.
    fake.editCells(id, TAB, 'A3', [['']]);
    expect(await synced(linkId)).toMatchObject({ skipped: false, changed: 0, refused: 0 });
    fake.editCells(id, TAB, 'B2', [['']]);
    expect(await synced(linkId)).toMatchObject({ skipped: false, changed: 0, refused: 0 });
    expect((await record(no)).version).toBe(version);

    // A real edit after the upgrade sends what changed, not the placeholder's field as emptied.
    fake.editCells(id, TAB, 'E2', [['上海市浦东新区张江路2号']]);
    expect(await synced(linkId)).toMatchObject({ changed: 1, refused: 0 });
    const after = await record(no);
    expect(after.version).toBe(version + 1);
    expect(changedFields(after)).toEqual(['address']);
  });
});
