/**
 * Legacy cells in a linked Google sheet read as the import and the add-in read them (core/row.ts,
 * core/cellText.ts): placeholders (N.A., 未填写, —/—) in optional cells are blank, never a bad value
 * or a customer; a blank 报备人 is missing. The real service over HTTP, the real googleapis client
 * against the fake Google server.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FakeGoogle } from '../fakes/fakeGoogle.js';
import type { RecordView } from '../../server/services/recordView.js';
import type { Api } from '../support/testService.js';
import { SERVICE_ACCOUNT, linkSheet, startSheetsService, type SheetsService } from './sheetsService.js';

const TAB = '报备';
const HEADER = ['客户名称', '客户类型', '地址', '联系人', '联系电话', '邮箱', '客户来源', '报备人'];
/** 0-based column of 状态 (the link appends 报备编号, 状态… after 报备人, H). */
const STATUS = 9;

describe('Google Sheets sync: legacy cells', () => {
  let fake: FakeGoogle;
  let sheets: SheetsService;
  let admin: Api;

  beforeEach(async () => {
    sheets = await startSheetsService({ dirPrefix: 'baobei-sheets-legacy-' });
    ({ fake, admin } = sheets);
    expect((await admin.post('/api/users', { name: '李娜', role: 'sales', team: '华东一部' })).status).toBe(
      201,
    );
  });

  afterEach(async () => {
    await sheets.close();
  });

  it('reads N.A. and 未填写 in optional cells as blank and registers no customer called N.A.', async () => {
    const id = fake.createSpreadsheet({
      sheets: [
        {
          title: TAB,
          values: [
            HEADER,
            [
              '上海甲乙丙科技有限公司',
              '企业',
              '上海市浦东新区张江路1号',
              '未填写',
              'N.A.',
              'n.a.',
              '展会',
              '李娜',
            ],
            ['N.A.', '企业', '北京市海淀区中关村大街1号', '张三', '13912345671', '', '展会', '李娜'],
            ['N.A.', '企业', '广州市天河区体育西路1号', '李四', '13912345672', '', '展会', '李娜'],
            [
              '杭州云帆网络科技有限公司',
              '企业',
              '杭州市西湖区文三路1号',
              '王五',
              '13912345673',
              '',
              '展会',
              '',
            ],
          ],
        },
      ],
      sharedWith: { [SERVICE_ACCOUNT]: 'writer' },
    });
    const linkId = await linkSheet(admin, id, TAB);
    const res = await admin.post<Record<string, unknown>>(`/api/sheets/${linkId}/sync`, {});
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ registered: 1, invalid: 3 });
    const all = (await admin.get<{ items: RecordView[] }>('/api/registrations?limit=100')).body.items;
    expect(all.map((r) => r.registration.customerName)).toEqual(['上海甲乙丙科技有限公司']);
    expect(all[0]!.registration).not.toHaveProperty('contactPhone');
    expect(all[0]!.registration).not.toHaveProperty('contactName');
    const values = fake.values(id, TAB);
    expect([2, 3, 4, 5].map((row) => values[row - 1]![STATUS])).toEqual([
      '待审核',
      '信息有误',
      '信息有误',
      '信息有误',
    ]);
    // The same wording as the import's report and the add-in's note.
    expect(fake.cell(id, TAB, 'A3').note ?? '').toContain('客户名称不能为空（「N.A.」表示未填写）');
    expect(fake.cell(id, TAB, 'H5').note ?? '').toContain(
      '报备人不能为空：表中有报备人列时，空白不由提交人代填',
    );
  });

  it('reads 首年 under 预计金额（万元） as the expected amount in 万元; 次年 beside it stays unmapped', async () => {
    const id = fake.createSpreadsheet({
      sheets: [
        {
          title: TAB,
          values: [
            ['客户名称', '客户类型', '地址', '联系电话', '客户来源', '报备人', '预计金额（万元）', ''],
            ['', '', '', '', '', '', '首年', '次年'],
            [
              '上海甲乙丙科技有限公司',
              '企业',
              '上海市浦东新区张江路1号',
              '13912345671',
              '展会',
              '李娜',
              50,
              80,
            ],
          ],
        },
      ],
      sharedWith: { [SERVICE_ACCOUNT]: 'writer' },
    });
    const linked = await admin.post<{
      id: string;
      mapping: { header: string; group?: string; field: string | null }[];
    }>('/api/sheets', {
      spreadsheet: id,
      sheet: TAB,
      team: '华东一部',
      owner: '王磊',
    });
    expect(linked.status, JSON.stringify(linked.body)).toBe(201);
    expect(linked.body.mapping.filter((c) => c.group !== undefined).map((c) => [c.header, c.field])).toEqual([
      ['首年', 'expectedAmount'],
      ['次年', null],
    ]);
    const res = await admin.post<Record<string, unknown>>(`/api/sheets/${linked.body.id}/sync`, {});
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ registered: 1 });
    const all = (await admin.get<{ items: RecordView[] }>('/api/registrations?limit=100')).body.items;
    expect(all.map((r) => r.registration.expectedAmount)).toEqual([500_000]);
  });

  it('gives a spread group header’s 万元 to the amounts under it only, not to a 单价 past its 备注, as the import reads a CSV', async () => {
    const id = fake.createSpreadsheet({
      sheets: [
        {
          title: TAB,
          values: [
            ['客户名称', '客户类型', '地址', '联系电话', '客户来源', '报备人', '预计金额（万元）', '', ''],
            ['', '', '', '', '', '', '预计签约金额', '备注', '预计签约单价'],
            [
              '上海甲乙丙科技有限公司',
              '企业',
              '上海市浦东新区张江路1号',
              '13912345671',
              '展会',
              '李娜',
              50,
              '二期',
              3000,
            ],
          ],
        },
      ],
      sharedWith: { [SERVICE_ACCOUNT]: 'writer' },
    });
    const linkId = await linkSheet(admin, id, TAB);
    const res = await admin.post<Record<string, unknown>>(`/api/sheets/${linkId}/sync`, {});
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ registered: 1 });
    const all = (await admin.get<{ items: RecordView[] }>('/api/registrations?limit=100')).body.items;
    expect(
      all.map((r) => [r.registration.expectedAmount, r.registration.notes, r.registration.expectedUnitPrice]),
    ).toEqual([[500_000, '二期', 3000]]);
  });
});
