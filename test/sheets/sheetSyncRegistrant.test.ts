/**
 * The 报备人 column of a linked Google sheet (issue 11): a row is registered for the person it
 * names only when that person is an enabled user of the link's team; any other name makes the row
 * invalid with a note on 报备人 saying why, and nothing is registered for it. A blank 报备人 is
 * missing (R2), as in the import and the add-in: the link's owner stands in only for a sheet without
 * a 报备人 column. The real service over HTTP, the real googleapis client against the fake Google server.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FakeGoogle } from '../fakes/fakeGoogle.js';
import type { RecordView } from '../../server/services/recordView.js';
import { companyNameFor, phoneFor } from '../support/customers.js';
import type { Api } from '../support/testService.js';
import { SERVICE_ACCOUNT, linkSheet, startSheetsService, type SheetsService } from './sheetsService.js';

const TAB = '报备';
const HEADER = ['客户名称', '联系人', '联系电话', '客户类型', '地址', '客户来源', '报备人'];
/** 0-based columns of 报备编号 and 状态 (appended by the link after 报备人, G). */
const NO = 7;
const STATUS = 8;

function sheetRow(n: number, registrant: string): string[] {
  return [companyNameFor(n), '张三', phoneFor(n), '企业', '上海市浦东新区张江路 100 号', '展会', registrant];
}

describe('Google Sheets sync: the 报备人 column (issue 11)', () => {
  let fake: FakeGoogle;
  let sheets: SheetsService;
  let admin: Api;

  beforeEach(async () => {
    sheets = await startSheetsService({ dirPrefix: 'baobei-sheets-registrant-' });
    ({ fake, admin } = sheets);
    for (const [name, team] of [
      ['李娜', '华东一部'],
      ['陈晨', '华南二部'],
      ['周周', '华东一部'],
    ] as const) {
      expect((await admin.post('/api/users', { name, role: 'sales', team })).status).toBe(201);
    }
    const users = await admin.get<{ items: { id: string; name: string }[] }>('/api/users');
    const zhou = users.body.items.find((u) => u.name === '周周')!;
    expect((await admin.post(`/api/users/${zhou.id}/disable`, {})).status).toBe(200);
  });

  afterEach(async () => {
    await sheets.close();
  });

  async function registrations(): Promise<RecordView[]> {
    return (await admin.get<{ items: RecordView[] }>('/api/registrations?limit=100')).body.items;
  }

  it('a name that is not an enabled user of the link’s team makes the row invalid, with a note on 报备人; nothing is registered for it', async () => {
    const id = fake.createSpreadsheet({
      sheets: [
        {
          title: TAB,
          values: [
            HEADER,
            sheetRow(1, '李娜'), // of the link's team
            sheetRow(2, '陈晨'), // of another team
            sheetRow(3, '无此人'), // no such user
            sheetRow(4, '周周'), // disabled
            sheetRow(5, ''), // blank: missing, not the link's owner
            sheetRow(6, '李娜'),
          ],
        },
      ],
      sharedWith: { [SERVICE_ACCOUNT]: 'writer' },
    });
    const linkId = await linkSheet(admin, id, TAB);
    const res = await admin.post<Record<string, unknown>>(`/api/sheets/${linkId}/sync`, {});
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ registered: 2, invalid: 4 });

    const all = await registrations();
    expect(all.map((r) => [r.registration.customerName, r.registration.registrant, r.team]).sort()).toEqual(
      [
        [companyNameFor(1), '李娜', '华东一部'],
        [companyNameFor(6), '李娜', '华东一部'],
      ].sort(),
    );
    const values = fake.values(id, TAB);
    expect(String(values[1]![NO])).toMatch(/^BB-2026-\d{6}$/);
    expect(String(values[6]![NO])).toMatch(/^BB-2026-\d{6}$/);
    // The blank 报备人: invalid, with the wording the import and the add-in give the same row.
    expect(values[5]![NO] ?? '').toBe('');
    expect(values[5]![STATUS]).toBe('信息有误');
    expect(fake.cell(id, TAB, 'G6').note ?? '').toContain(
      '报备人不能为空：表中有报备人列时，空白不由提交人代填',
    );
    for (const [row, name] of [
      [3, '陈晨'],
      [4, '无此人'],
      [5, '周周'],
    ] as const) {
      expect(values[row - 1]![NO] ?? '', `row ${row}`).toBe('');
      expect(values[row - 1]![STATUS], `row ${row}`).toBe('信息有误');
      const note = fake.cell(id, TAB, `G${row}`).note ?? '';
      expect(note, `row ${row}`).toContain(name);
      expect(note, `row ${row}`).toContain('华东一部');
    }

    // The row naming another team's user is given a colleague of the team: it is registered then.
    fake.editCells(id, TAB, 'G3', [['李娜']]);
    const again = await admin.post<Record<string, unknown>>(`/api/sheets/${linkId}/sync`, {});
    expect(again.status, JSON.stringify(again.body)).toBe(200);
    expect(again.body).toMatchObject({ registered: 1, invalid: 3 });
    const row3 = fake.values(id, TAB)[2]!;
    expect(String(row3[NO])).toMatch(/^BB-2026-\d{6}$/);
    expect(fake.cell(id, TAB, 'G3').note ?? '').toBe('');
    expect((await registrations()).map((r) => r.registration.registrant).sort()).toEqual([
      '李娜',
      '李娜',
      '李娜',
    ]);
  });

  it('a disabled owner registers nothing: the link cannot be made with them, and a link whose owner was disabled stops with the error on it', async () => {
    const users = await admin.get<{ items: { id: string; name: string }[] }>('/api/users');
    const id = fake.createSpreadsheet({
      sheets: [{ title: TAB, values: [HEADER, sheetRow(1, '')] }],
      sharedWith: { [SERVICE_ACCOUNT]: 'writer' },
    });
    const refused = await admin.post<{ error: { code: string; message: string } }>('/api/sheets', {
      spreadsheet: id,
      sheet: TAB,
      team: '华东一部',
      owner: '周周',
    });
    expect(refused.status).toBe(422);
    expect(refused.body.error.code).toBe('sheets.owner_unknown');
    expect(refused.body.error.message).toContain('周周');

    const linkId = await linkSheet(admin, id, TAB);
    const wang = users.body.items.find((u) => u.name === '王磊')!;
    expect((await admin.post(`/api/users/${wang.id}/disable`, {})).status).toBe(200);
    const res = await admin.post<{ error: { code: string; message: string } }>(
      `/api/sheets/${linkId}/sync`,
      {},
    );
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('sheets.owner_unknown');
    expect(res.body.error.message).toContain('王磊');
    expect(await registrations()).toHaveLength(0);
    const links = await admin.get<{ items: { id: string; error?: { code: string } }[] }>('/api/sheets');
    expect(links.body.items.find((l) => l.id === linkId)?.error?.code).toBe('sheets.owner_unknown');
    expect(fake.values(id, TAB)[1]![NO] ?? '').toBe('');
  });
});
