/**
 * The Sheets sync end to end: the real service over HTTP, the real googleapis client against the
 * fake Google server. Link → rows typed → sync → results in the sheet; a no-change sync reads
 * nothing; calls per sync: four and the identity re-read; the crash between registering and
 * writing back registers nothing twice; an unshared sheet and a renamed header are recorded on the link; a second link of the
 * same tab is 409 sheets.already_linked.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeGoogle } from '../fakes/fakeGoogle.js';
import { apiClient, type Api } from '../support/testService.js';
import type { RecordView } from '../../server/services/recordView.js';
import { LINK_COLLECTION, sheetLinkSchema } from '../../server/sheets/sheetLinks.js';
import { describeSync, type SyncView } from '../../server/sheets/sheetsCommand.js';
import { SERVICE_ACCOUNT, linkSheet, startSheetsService, type SheetsService } from './sheetsService.js';

const SA = SERVICE_ACCOUNT;
const TAB = '报备';

describe('Google Sheets sync (issue 11)', () => {
  let fake: FakeGoogle;
  let sheets: SheetsService;
  let admin: Api;
  let id: string;

  beforeEach(async () => {
    sheets = await startSheetsService({ dirPrefix: 'baobei-sheets-' });
    ({ fake, admin } = sheets);
    id = fake.createSpreadsheet({
      sheets: [
        {
          title: TAB,
          values: [
            ['客户名称', '联系人', '联系电话', '客户类型', '地址', '客户来源'],
            ['上海华信科技有限公司', '张三', '13812345678', '企业', '上海市浦东新区张江路 100 号', '展会'],
            [
              '杭州云帆网络科技有限公司',
              '李四',
              '13987654321',
              '企业',
              '杭州市西湖区文三路 200 号',
              '转介绍',
            ],
          ],
        },
      ],
      sharedWith: { [SA]: 'writer' },
    });
  });

  afterEach(async () => {
    await sheets.close();
  });

  async function link(): Promise<string> {
    const res = await admin.post<{ id: string; shareWith: string }>('/api/sheets', {
      spreadsheet: `https://docs.google.com/spreadsheets/d/${id}/edit#gid=0`,
      sheet: TAB,
      team: '华东一部',
      owner: '王磊',
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.shareWith).toBe(SA);
    return res.body.id;
  }

  async function sync(linkId: string): Promise<{ status: number; body: Record<string, unknown> }> {
    return admin.post(`/api/sheets/${linkId}/sync`, {});
  }

  it('registers typed rows, writes numbers, status and fills back in 5 calls (one the re-read); a no-change sync is one call', async () => {
    const linkId = await link();
    expect(fake.values(id, TAB)[0]).toEqual([
      '客户名称',
      '联系人',
      '联系电话',
      '客户类型',
      '地址',
      '客户来源',
      '报备编号',
      '状态',
      '保护截止',
      '冲突说明',
      '提示',
    ]);
    fake.clearCalls();
    const first = await sync(linkId);
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(first.body.registered, JSON.stringify([first.body, fake.values(id, TAB)])).toBe(2);
    // files.get, the read (values, notes, row keys), the re-read of the identity column just before
    // writing, one values.batchUpdate, one spreadsheets.batchUpdate (fills, notes, row keys).
    expect(fake.callCounts()).toEqual({
      'drive.files.get': 1,
      'spreadsheets.get': 2,
      'spreadsheets.values.batchUpdate': 1,
      'spreadsheets.batchUpdate': 1,
    });
    const rows = fake.values(id, TAB);
    expect(String(rows[1]?.[6])).toMatch(/^BB-2026-\d{6}$/);
    expect(String(rows[2]?.[6])).toMatch(/^BB-2026-\d{6}$/);
    expect(fake.cell(id, TAB, 'A2').background).not.toBeNull();

    // Our own write-back moved the version: the next sync reads, finds nothing new, registers nothing.
    const second = await sync(linkId);
    expect(second.body.registered).toBe(0);
    fake.clearCalls();
    const third = await sync(linkId);
    expect(third.body.skipped).toBe(true);
    expect(fake.calls.length).toBe(1);
  });

  /** A tab whose amounts sit under a merged 金额（万元） group header (Google gives the merge's other cells empty). */
  const groupedSpreadsheet = (): string =>
    fake.createSpreadsheet({
      sheets: [
        {
          title: TAB,
          values: [
            ['客户信息', '', '', '', '', '', '金额（万元）', ''],
            ['客户名称', '联系人', '联系电话', '客户类型', '地址', '客户来源', '预计金额', '预计单价'],
            [
              '上海华信科技有限公司',
              '张三',
              '13812345678',
              '企业',
              '上海市浦东新区张江路 100 号',
              '展会',
              50,
              0.12,
            ],
          ],
        },
      ],
      sharedWith: { [SA]: 'writer' },
    });

  it('amounts under a merged 金额（万元） group header are registered in that unit, as the import reads them', async () => {
    // The group cell sits in the first column of its merge: Google gives the others empty.
    const grouped = groupedSpreadsheet();
    const linkId = await linkSheet(admin, grouped, TAB);
    const first = await sync(linkId);
    expect(first.body.registered, JSON.stringify(first.body)).toBe(1);
    // The header is the lower row: the result headers go there, the number under them.
    expect(fake.values(grouped, TAB)[1]?.[8]).toBe('报备编号');
    const no = String(fake.values(grouped, TAB)[2]?.[8]);
    const amounts = async (): Promise<unknown[]> => {
      const res = await admin.get<RecordView>(`/api/registrations/${no}`);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return [res.body.registration.expectedAmount, res.body.registration.expectedUnitPrice];
    };
    expect(await amounts()).toEqual([500_000, 1200]);
    // Read again (our write-back moved the version): the same cells, no change sent.
    const second = await sync(linkId);
    expect(second.body).toMatchObject({ registered: 0, changed: 0, refused: 0 });
    expect(await amounts()).toEqual([500_000, 1200]);
  });

  it('a link made before group headers were kept reads its rows as they were registered: an edit sends that edit alone, not the amount in the group unit', async () => {
    const grouped = groupedSpreadsheet();
    const linkId = await linkSheet(admin, grouped, TAB);
    // As such a link is stored: without `groups`. Its row was registered as read then (¥50).
    await sheets.service.store.write(async (tx) => {
      const { groups, ...before } = sheetLinkSchema.parse(await tx.getDoc(LINK_COLLECTION, linkId));
      expect(groups).toMatchObject({ '7': '金额（万元）', '8': '金额（万元）' });
      await tx.putDoc(LINK_COLLECTION, linkId, before);
    });
    expect((await sync(linkId)).body.registered).toBe(1);
    const no = String(fake.values(grouped, TAB)[2]?.[8]);
    // Someone edits the row's 联系人: the tab is read again, and only that edit is sent.
    fake.editCells(grouped, TAB, 'B3', [['李四']]);
    expect((await sync(linkId)).body).toMatchObject({ changed: 1, refused: 0 });
    const record = (await admin.get<RecordView>(`/api/registrations/${no}`)).body;
    expect([record.registration.contactName, record.registration.expectedAmount]).toEqual(['李四', 50]);
  });

  it("a template's example row (填写示例) under the header is not registered; the rows under it are", async () => {
    const withExample = fake.createSpreadsheet({
      sheets: [
        {
          title: TAB,
          values: [
            ['序号', '客户名称', '联系人', '联系电话', '客户类型', '地址', '客户来源'],
            [
              '示例',
              '上海华信科技有限公司',
              '王芳',
              '13912345678',
              '企业',
              '上海市浦东新区张江路 100 号',
              '展会',
            ],
            ['', '上海某某科技有限公司', '张三', '13800000000', '企业', '上海市浦东新区XX路 1 号', '展会'],
            [
              '1',
              '杭州云帆网络科技有限公司',
              '李四',
              '13987654321',
              '企业',
              '杭州市西湖区文三路 200 号',
              '转介绍',
            ],
          ],
        },
      ],
      sharedWith: { [SA]: 'writer' },
    });
    const linkId = await linkSheet(admin, withExample, TAB);
    const first = await sync(linkId);
    expect(first.body.registered, JSON.stringify(first.body)).toBe(1);
    const rows = fake.values(withExample, TAB);
    expect(rows[0]?.[7]).toBe('报备编号');
    expect([rows[1]?.[7] ?? '', rows[2]?.[7] ?? '']).toEqual(['', '']);
    expect(String(rows[3]?.[7])).toMatch(/^BB-2026-\d{6}$/);
  });

  it('rows that are no registration (example, total, note, repeated header) get why in 提示, once; the text goes when the row holds a customer', async () => {
    const header = ['序号', '客户名称', '联系人', '联系电话', '客户类型', '地址', '客户来源'];
    const tab = fake.createSpreadsheet({
      sheets: [
        {
          title: TAB,
          values: [
            header,
            [
              '示例',
              '上海某某科技有限公司',
              '张三',
              '13800000000',
              '企业',
              '上海市浦东新区XX路 1 号',
              '展会',
            ],
            [
              '1',
              '杭州云帆网络科技有限公司',
              '李四',
              '13987654321',
              '企业',
              '杭州市西湖区文三路 200 号',
              '转介绍',
            ],
            ['合计', '1 家'],
            ['注：本表由销售部填写。'],
            header,
          ],
        },
      ],
      sharedWith: { [SA]: 'writer' },
    });
    const linkId = await linkSheet(admin, tab, TAB);
    fake.clearCalls();
    const first = await sync(linkId);
    expect(first.body.registered, JSON.stringify(first.body)).toBe(1);
    // No call more than a sync that registers rows makes: the texts go with the result cells.
    expect(fake.callCounts()).toEqual({
      'drive.files.get': 1,
      'spreadsheets.get': 2,
      'spreadsheets.values.batchUpdate': 1,
      'spreadsheets.batchUpdate': 1,
    });
    const hintOf = (row: number) => fake.values(tab, TAB)[row - 1]?.[11] ?? '';
    const resultsOf = (row: number) => (fake.values(tab, TAB)[row - 1] ?? []).slice(7, 11).join('');
    expect(fake.values(tab, TAB)[0]?.[11]).toBe('提示');
    expect([2, 4, 5, 6].map(hintOf)).toEqual([
      '填写示例，未登记 / Example row, not registered',
      '合计行，未登记 / Total row, not registered',
      '说明文字，未登记 / Note, not registered',
      '重复的表头，未登记 / Repeated header, not registered',
    ]);
    for (const row of [2, 4, 5, 6]) {
      expect(resultsOf(row)).toBe('');
      expect(fake.cell(tab, TAB, `A${row}`).background).toBeNull();
    }
    expect(fake.cell(tab, TAB, 'A3').background).not.toBeNull();

    // The next sync finds its own texts and writes nothing; the one after stops at the version.
    const second = await sync(linkId);
    expect(second.body.registered).toBe(0);
    expect((await sync(linkId)).body.skipped).toBe(true);

    // The example row becomes a real customer and the note is deleted: their texts go.
    fake.editCells(tab, TAB, 'A2', [
      ['2', '上海华信科技有限公司', '王芳', '13912345678', '企业', '上海市浦东新区张江路 100 号', '展会'],
    ]);
    fake.editCells(tab, TAB, 'A5', [['']]);
    const fourth = await sync(linkId);
    expect(fourth.body.registered, JSON.stringify(fourth.body)).toBe(1);
    expect(String(fake.values(tab, TAB)[1]?.[7])).toMatch(/^BB-2026-\d{6}$/);
    expect(hintOf(2)).not.toContain('未登记');
    expect(hintOf(5)).toBe('');
    expect(hintOf(4)).toBe('合计行，未登记 / Total row, not registered');
  });

  it("reports the rows that are no registration with the import's codes and words; a dry run lists the 提示 texts it would write, and writes none", async () => {
    const header = ['序号', '客户名称', '联系人', '联系电话', '客户类型', '地址', '客户来源'];
    const values = [
      header,
      ['', '上海某公司', '张三', '13800000000', '企业', '上海市浦东新区XX路 1 号', '展会'],
      ['1', '杭州云帆网络科技有限公司', '李四', '13987654321', '企业', '杭州市西湖区文三路 200 号', '转介绍'],
      ['合计', '1 家'],
      ['注：本表由销售部填写。'],
      header,
    ];
    const tab = fake.createSpreadsheet({ sheets: [{ title: TAB, values }], sharedWith: { [SA]: 'writer' } });
    const linkId = await linkSheet(admin, tab, TAB);
    const before = fake.values(tab, TAB);
    const expectedHints = [
      { row: 2, text: '填写示例，未登记 / Example row, not registered' },
      { row: 4, text: '合计行，未登记 / Total row, not registered' },
      { row: 5, text: '说明文字，未登记 / Note, not registered' },
      { row: 6, text: '重复的表头，未登记 / Repeated header, not registered' },
    ];
    type Report = {
      notRegistered: number;
      notRegisteredRows: {
        row: number;
        skipped: string;
        reason: { code: string; message: string; messageEn: string };
      }[];
      hints: { row: number; text: string }[];
    };

    const dry = await admin.post<Report>(`/api/sheets/${linkId}/sync?dryRun=true`, {});
    expect(dry.status, JSON.stringify(dry.body)).toBe(200);
    expect(dry.body.notRegistered).toBe(4);
    expect(dry.body.notRegisteredRows.map((r) => [r.row, r.skipped, r.reason.code])).toEqual([
      [2, 'example', 'row.example'],
      [4, 'total', 'row.total'],
      [5, 'note', 'row.note'],
      [6, 'header-repeat', 'row.header_repeat'],
    ]);
    // The words of the import's report: the row, and for the example the column that shows it.
    expect(dry.body.notRegisteredRows[0]!.reason.message).toContain('第 2 行是填写示例（见 B 列“客户名称”）');
    expect(dry.body.notRegisteredRows[1]!.reason.messageEn).toBe('Row 4 is a total row; not registered');
    expect(dry.body.hints).toEqual(expectedHints);
    expect(fake.values(tab, TAB)).toEqual(before);

    const real = await admin.post<Report & { registered: number }>(`/api/sheets/${linkId}/sync`, {});
    expect(real.body.registered, JSON.stringify(real.body)).toBe(1);
    expect(real.body.notRegistered).toBe(4);
    expect(real.body.hints).toEqual(expectedHints);
    expect(expectedHints.map((h) => fake.values(tab, TAB)[h.row - 1]?.[11])).toEqual(
      expectedHints.map((h) => h.text),
    );
    // The texts are in place: the next sync still counts the rows and writes no text.
    const again = await admin.post<Report>(`/api/sheets/${linkId}/sync`, {});
    expect([again.body.notRegistered, again.body.hints]).toEqual([4, []]);
  });

  describe('the rows that are no registration, in the report', () => {
    const header = ['序号', '客户名称', '联系人', '联系电话', '客户类型', '地址', '客户来源'];
    const values = () => [
      header,
      ['', '上海某公司', '张三', '13800000000', '企业', '上海市浦东新区XX路 1 号', '展会'],
      ['1', '杭州云帆网络科技有限公司', '李四', '13987654321', '企业', '杭州市西湖区文三路 200 号', '转介绍'],
      ['合计', '1 家'],
      ['注：本表由销售部填写。'],
      header,
    ];
    type Report = {
      skipped: boolean;
      calls: number;
      notRegistered: number;
      notRegisteredRows: { row: number; skipped: string; reason: { message: string } }[];
      notRegisteredAsOf?: string;
      hints: { row: number; text: string }[];
    };

    it('a sync that stops at the unchanged version carries the last read’s rows, saying from when; an upgraded link reads once', async () => {
      const tab = fake.createSpreadsheet({
        sheets: [{ title: TAB, values: values() }],
        sharedWith: { [SA]: 'writer' },
      });
      const linkId = await linkSheet(admin, tab, TAB);
      const first = await admin.post<Report>(`/api/sheets/${linkId}/sync`, {});
      expect(first.body).toMatchObject({ skipped: false, notRegistered: 4 });
      expect(first.body.notRegisteredAsOf).toBeUndefined();
      // Our write-back moved the version: this one reads, finds the texts in place and writes nothing.
      const second = await admin.post<Report>(`/api/sheets/${linkId}/sync`, {});
      expect(second.body).toMatchObject({ skipped: false, notRegistered: 4, hints: [] });
      const read = second.body.notRegisteredRows;

      const third = await admin.post<Report>(`/api/sheets/${linkId}/sync`, {});
      expect(third.body).toMatchObject({
        skipped: true,
        calls: 1,
        notRegistered: 4,
        notRegisteredTruncated: false,
        hints: [],
      });
      expect(third.body.notRegisteredRows).toEqual(read);
      expect(third.body.notRegisteredAsOf).toBe('2026-11-23T02:00:00.000Z');

      // A link synced by a build that kept no such rows: its next sync reads the tab, though the
      // version is unchanged, rather than report none.
      await sheets.service.store.write(async (tx) => {
        const { lastRead, ...before } = sheetLinkSchema.parse(await tx.getDoc(LINK_COLLECTION, linkId));
        expect(lastRead?.notRegisteredRows).toHaveLength(4);
        await tx.putDoc(LINK_COLLECTION, linkId, before);
      });
      const upgraded = await admin.post<Report>(`/api/sheets/${linkId}/sync`, {});
      expect(upgraded.body).toMatchObject({ skipped: false, calls: 2, notRegistered: 4, hints: [] });
      expect(upgraded.body.notRegisteredAsOf).toBeUndefined();
      expect((await admin.post<Report>(`/api/sheets/${linkId}/sync`, {})).body).toMatchObject({
        skipped: true,
        notRegistered: 4,
      });
    });

    it('rows inserted between the read and the write-back: the rows reported and the 提示 texts come from the same read', async () => {
      const tab = fake.createSpreadsheet({
        sheets: [{ title: TAB, values: values() }],
        sharedWith: { [SA]: 'writer' },
      });
      const linkId = await linkSheet(admin, tab, TAB);
      // A row inserted above the example while the sync registers: after its read, before its re-read.
      fake.beforeCall('spreadsheets.get', () => fake.insertRows(tab, TAB, 2), 2);
      const res = await admin.post<Report>(`/api/sheets/${linkId}/sync`, {});
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body.hints.map((h) => h.row)).toEqual([3, 5, 6, 7]);
      expect(res.body.notRegisteredRows.map((r) => [r.row, r.skipped])).toEqual([
        [3, 'example'],
        [5, 'total'],
        [6, 'note'],
        [7, 'header-repeat'],
      ]);
      expect(res.body.notRegisteredRows[0]!.reason.message).toContain('第 3 行是填写示例');
      expect(fake.values(tab, TAB)[2]?.[11]).toBe('填写示例，未登记 / Example row, not registered');
    });

    it('a tab with more than 200 such rows: the report lists the first 200 and says it is cut, and the link keeps no more', async () => {
      const notes = Array.from({ length: 250 }, (_, i) => [`注：第 ${i + 1} 条填写说明。`]);
      const tab = fake.createSpreadsheet({
        sheets: [{ title: TAB, values: [...values().slice(0, 3), ...notes] }],
        sharedWith: { [SA]: 'writer' },
      });
      const linkId = await linkSheet(admin, tab, TAB);
      type Cut = Report & { notRegisteredTruncated: boolean };
      const first = await admin.post<Cut & SyncView>(`/api/sheets/${linkId}/sync`, {});
      expect(first.status, JSON.stringify(first.body).slice(0, 500)).toBe(200);
      expect(first.body).toMatchObject({ notRegistered: 251, notRegisteredTruncated: true });
      // The example row, then the first 199 notes (rows 4…202), in the order of the tab.
      expect(first.body.notRegisteredRows.map((r) => r.row)).toEqual([
        2,
        ...notes.slice(0, 199).map((_, i) => i + 4),
      ]);
      // Every row still gets its 提示: the cap is on the report, not on the sheet.
      expect(first.body.hints).toHaveLength(251);
      expect(fake.values(tab, TAB)[252]?.[11]).toBe('说明文字，未登记 / Note, not registered');
      expect(describeSync(first.body)).toContain('…另 231 行 / 231 more');
      const kept = async () =>
        (
          await sheets.service.store.read(async (tx) =>
            sheetLinkSchema.parse(await tx.getDoc(LINK_COLLECTION, linkId)),
          )
        ).lastRead;
      expect((await kept())?.notRegistered).toBe(251);
      expect((await kept())?.notRegisteredRows).toHaveLength(200);

      await admin.post(`/api/sheets/${linkId}/sync`, {});
      const skipped = await admin.post<Cut>(`/api/sheets/${linkId}/sync`, {});
      expect(skipped.body).toMatchObject({ skipped: true, notRegistered: 251, notRegisteredTruncated: true });
      expect(skipped.body.notRegisteredRows).toEqual(first.body.notRegisteredRows);

      // A link stored before the cap kept every row and no count: its rows are counted, and cut when read.
      await sheets.service.store.write(async (tx) => {
        const link = sheetLinkSchema.parse(await tx.getDoc(LINK_COLLECTION, linkId));
        const row = link.lastRead!.notRegisteredRows[1]!;
        const rows = [2, ...notes.map((_, i) => i + 4)].map((r) => ({ ...row, row: r }));
        await tx.putDoc(LINK_COLLECTION, linkId, {
          ...link,
          lastRead: { at: link.lastRead!.at, notRegisteredRows: rows },
        });
      });
      const old = await admin.post<Cut>(`/api/sheets/${linkId}/sync`, {});
      expect(old.body).toMatchObject({ skipped: true, notRegistered: 251, notRegisteredTruncated: true });
      expect(old.body.notRegisteredRows).toHaveLength(200);

      // The OpenAPI document names the flag, as every field of the answer, as one every sync answer has.
      type Schema = { required?: string[]; properties?: Record<string, { type?: string }> };
      const doc = await admin.get<{
        paths: Record<
          string,
          Record<string, { responses: Record<string, { content: Record<string, { schema: Schema }> }> }>
        >;
      }>('/api/openapi.json');
      const schema =
        doc.body.paths['/api/sheets/{id}/sync']?.post?.responses['200']?.content['application/json']?.schema;
      expect(schema?.required).toEqual(expect.arrayContaining(Object.keys(first.body)));
      expect(schema?.properties?.notRegisteredTruncated?.type).toBe('boolean');
    });

    it('rows inserted between the read and a write-back with no 提示 text to write: the rows reported are where they are now', async () => {
      const rows = values();
      // An invalid row (its phone too short) under the registered one: fixed later, it is the only
      // row written, and it already carries its key — nothing else asks for the whole tab again.
      rows.splice(3, 0, [
        '2',
        '苏州远景科技有限公司',
        '王五',
        '123',
        '企业',
        '苏州市工业园区星湖街 1 号',
        '展会',
      ]);
      const tab = fake.createSpreadsheet({
        sheets: [{ title: TAB, values: rows }],
        sharedWith: { [SA]: 'writer' },
      });
      const linkId = await linkSheet(admin, tab, TAB);
      const first = await admin.post<Report & { invalid: number }>(`/api/sheets/${linkId}/sync`, {});
      expect(first.body).toMatchObject({ invalid: 1, notRegistered: 4 });
      expect((await admin.post<Report>(`/api/sheets/${linkId}/sync`, {})).body.hints).toEqual([]);

      fake.editCells(tab, TAB, 'D4', [['13700000000']]);
      // A row inserted above the example after the sync's read, before its re-read.
      fake.beforeCall('spreadsheets.get', () => fake.insertRows(tab, TAB, 2), 2);
      const res = await admin.post<Report & { registered: number }>(`/api/sheets/${linkId}/sync`, {});
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body).toMatchObject({ registered: 1, hints: [], calls: 5, notRegistered: 4 });
      expect(String(fake.values(tab, TAB)[4]?.[7])).toMatch(/^BB-2026-/);
      expect(res.body.notRegisteredRows.map((r) => [r.row, r.skipped])).toEqual([
        [3, 'example'],
        [6, 'total'],
        [7, 'note'],
        [8, 'header-repeat'],
      ]);
      expect(res.body.notRegisteredRows[1]!.reason.message).toContain('第 6 行是合计行');
      // What the link keeps for the next unchanged sync is the same.
      const link = await sheets.service.store.read(async (tx) =>
        sheetLinkSchema.parse(await tx.getDoc(LINK_COLLECTION, linkId)),
      );
      expect(link.lastRead?.notRegisteredRows.map((r) => r.row)).toEqual([3, 6, 7, 8]);
    });
  });

  it('a crash between registering and writing back never registers a row twice', async () => {
    const linkId = await link();
    fake.injectFault({ method: 'spreadsheets.values.batchUpdate', status: 500, times: 2 });
    const failed = await sync(linkId);
    expect(failed.status).not.toBe(200);
    expect(fake.values(id, TAB)[1]?.[6] ?? '').toBe('');
    const listed = await admin.get<{ items: { error?: { code: string } }[] }>('/api/sheets');
    expect(listed.body.items[0]?.error).toBeDefined();

    const again = await sync(linkId);
    expect(again.status, JSON.stringify(again.body)).toBe(200);
    expect(again.body.registered).toBe(0);
    const regs = await admin.get<{ items: unknown[] }>('/api/registrations');
    expect(regs.body.items).toHaveLength(2);
    expect(String(fake.values(id, TAB)[1]?.[6])).toMatch(/^BB-2026-/);
  });

  it('an unshared sheet and a renamed header are recorded on the link; a second link is 409', async () => {
    const linkId = await link();
    const dup = await admin.post<{ error: { code: string } }>('/api/sheets', {
      spreadsheet: id,
      sheet: TAB,
      team: '华东一部',
    });
    expect(dup.status).toBe(409);
    expect(dup.body.error.code).toBe('sheets.already_linked');

    fake.unshare(id, SA);
    const denied = await sync(linkId);
    expect(denied.status).toBeGreaterThanOrEqual(400);
    const listed = await admin.get<{ items: { error?: { message: string } }[] }>('/api/sheets');
    expect(listed.body.items[0]?.error?.message).toContain(SA);

    fake.share(id, SA);
    fake.editCells(id, TAB, 'B1', [['联络人']]);
    const renamed = await sync(linkId);
    expect(renamed.status).toBe(422);
    const after = await admin.get<{ items: { error?: { code: string } }[] }>('/api/sheets');
    expect(after.body.items[0]?.error?.code).toBe('sheets.header_changed');
  });

  it('rows inserted above the header while a sync works: no result header is written (linking wrote them), the results follow their rows, and the next sync stops at the moved header', async () => {
    const linkId = await link();
    // The result headers are linking's: written just after its read, on the header row it found.
    expect(fake.values(id, TAB)[0]?.slice(6)).toEqual(['报备编号', '状态', '保护截止', '冲突说明', '提示']);
    fake.editCells(id, TAB, 'A4', [
      ['苏州远景科技有限公司', '王五', '123', '企业', '苏州市工业园区星湖街 1 号', '展会'],
    ]);
    expect((await sync(linkId)).body).toMatchObject({ registered: 2, invalid: 1 });
    await sync(linkId);
    // The invalid row fixed: the only row written, keyed, so the re-read is the number column alone
    // (it checks no header); two title rows go in above the header after the read.
    fake.editCells(id, TAB, 'C4', [['13700000000']]);
    fake.beforeCall('spreadsheets.get', () => fake.insertRows(id, TAB, 1, 2), 2);
    const res = await sync(linkId);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.registered).toBe(1);
    const rows = fake.values(id, TAB);
    expect(rows.slice(0, 2).every((r) => r.every((c) => c === ''))).toBe(true);
    expect(rows.flat().filter((c) => c === '报备编号')).toHaveLength(1);
    expect(String(rows[5]?.[6])).toMatch(/^BB-2026-/);
    expect(rows[5]?.[0]).toBe('苏州远景科技有限公司');

    fake.clearCalls();
    const moved = await sync(linkId);
    expect(moved.status).toBe(422);
    expect((moved.body as { error: { code: string } }).error.code).toBe('sheets.header_changed');
    expect(Object.keys(fake.callCounts())).toEqual(['drive.files.get', 'spreadsheets.get']);
  });

  it('unlinking deletes what the link kept of its rows; another link keeps its own', async () => {
    const first = await link();
    const otherId = fake.createSpreadsheet({
      sheets: [{ title: TAB, values: fake.values(id, TAB).slice(0, 2) }],
      sharedWith: { [SA]: 'writer' },
    });
    const second = (
      await admin.post<{ id: string }>('/api/sheets', {
        spreadsheet: otherId,
        sheet: TAB,
        team: '华东一部',
        owner: '王磊',
      })
    ).body.id;
    expect((await sync(first)).body.registered).toBe(2);
    expect((await sync(second)).body.registered).toBe(0); // the same customers: duplicates
    const kept = (linkId: string) =>
      sheets.service.store.read(async (tx) =>
        (
          await Promise.all(
            ['sheet-rows', 'sheet-claims'].map((c) => tx.listDocs(c, { prefix: `${linkId}|` })),
          )
        ).flat(),
      );
    expect((await kept(first)).length).toBeGreaterThan(0);
    const secondBefore = await kept(second);
    expect(secondBefore.length).toBeGreaterThan(0);

    const res = await fetch(`${sheets.service.url}/api/sheets/${first}`, {
      method: 'DELETE',
      headers: {
        authorization: `Bearer ${(await readFile(path.join(sheets.dataDir, 'admin.token'), 'utf8')).trim()}`,
      },
    });
    expect(res.status).toBe(204);
    expect(await kept(first)).toEqual([]);
    expect(await kept(second)).toEqual(secondBefore);
  });

  it('[R34] a number of another team typed into the sheet shows nothing of that registration', async () => {
    const created = await admin.post<{ token: string }>('/api/users', {
      name: '周杰',
      role: 'sales',
      team: '华南二部',
    });
    expect(created.status).toBe(201);
    const zhou = apiClient(sheets.service.url, created.body.token);
    const registered = await zhou.post<{ results: { registrationNo?: string }[] }>('/api/registrations', {
      rows: [
        {
          customerName: '深圳南山远航贸易有限公司',
          customerType: 'enterprise',
          contactPhone: '13700000009',
          address: '深圳市南山区科技园 1 号',
          source: '展会',
        },
      ],
    });
    expect(registered.status, JSON.stringify(registered.body)).toBe(200);
    const otherNo = registered.body.results[0]!.registrationNo!;
    const approved = await admin.post<{ protectedUntil: string }>(`/api/registrations/${otherNo}/review`, {
      decision: 'approve',
      reason: '资料齐全',
    });
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    const protectedUntil = approved.body.protectedUntil;

    const linkId = await link();
    expect((await sync(linkId)).body.registered).toBe(2);
    fake.editCells(id, TAB, 'A4', [
      ['深圳南山远航贸易有限公司', '赵六', '13700000009', '企业', '深圳', '展会', otherNo],
    ]);
    expect((await sync(linkId)).status).toBe(200);
    // Not the team's registration: the number is not adopted, and nothing of it is shown.
    expect(fake.values(id, TAB)[3]?.[7]).toBe('编号无效');
    expect(fake.values(id, TAB)[3]).not.toContain(protectedUntil);
    // An edit of the row is no change of that registration either.
    fake.editCells(id, TAB, 'B4', [['赵七']]);
    expect((await sync(linkId)).status).toBe(200);
    const row = fake.values(id, TAB)[3] ?? [];
    expect(row).not.toContain(protectedUntil);
    expect(row.join('|')).not.toMatch(/保护中|已保护|protected/);
    const record = await admin.get<{ version: number }>(`/api/registrations/${otherNo}`);
    expect(record.body.version).toBe(2);
  });

  it('[R38] a disabled owner (a leaver handed over) registers nothing more: the sync is refused, as is a new link', async () => {
    const linkId = await link();
    expect((await admin.post('/api/users', { name: '李娜', role: 'sales', team: '华东一部' })).status).toBe(
      201,
    );
    const users = await admin.get<{ items: { id: string; name: string }[] }>('/api/users');
    const ownerId = users.body.items.find((u) => u.name === '王磊')!.id;
    expect((await admin.post(`/api/users/${ownerId}/hand-over`, { to: '李娜' })).status).toBe(200);

    const refused = await sync(linkId);
    expect(refused.status).toBe(422);
    expect(refused.body).toMatchObject({ error: { code: 'sheets.owner_unknown', field: 'owner' } });
    expect((await admin.get<{ items: unknown[] }>('/api/registrations')).body.items).toEqual([]);
    expect(fake.values(id, TAB)[1]?.[6] ?? '').toBe('');
    const listed = await admin.get<{ items: { error?: { code: string } }[] }>('/api/sheets');
    expect(listed.body.items[0]?.error?.code).toBe('sheets.owner_unknown');

    const other = fake.createSpreadsheet({
      sheets: [{ title: TAB, values: [['客户名称', '联系电话', '客户来源']] }],
      sharedWith: { [SA]: 'writer' },
    });
    const relink = await admin.post<{ error: { code: string } }>('/api/sheets', {
      spreadsheet: other,
      sheet: TAB,
      team: '华东一部',
      owner: '王磊',
    });
    expect(relink.status).toBe(422);
    expect(relink.body.error.code).toBe('sheets.owner_unknown');
  });
});
