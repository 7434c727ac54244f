/**
 * A registration number typed by hand into 报备编号 of a linked Google sheet (issue 11). A number
 * this link did not write is adopted as the row's registration only when that registration exists,
 * is of the link's team and is of the row's customer; otherwise the row is flagged 编号无效, nothing
 * is adopted, and a later edit of the row changes no record. Clearing the number makes it a new row.
 * The real service over HTTP, the real googleapis client against the fake Google server.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FakeGoogle } from '../fakes/fakeGoogle.js';
import type { RecordView } from '../../server/services/recordView.js';
import type { RowResult } from '../../core/schema.js';
import { companyNameFor, enterpriseRow, phoneFor } from '../support/customers.js';
import { apiClient, type Api } from '../support/testService.js';
import { SERVICE_ACCOUNT, linkSheet, startSheetsService, type SheetsService } from './sheetsService.js';

const TAB = '报备';
const HEADER = ['客户名称', '联系人', '联系电话', '客户类型', '地址', '客户来源', '报备编号'];
/** 0-based columns of 报备编号 (G, typed by the user) and 状态 (appended by the link). */
const NO = 6;
const STATUS = 7;

function sheetRow(n: number, no = ''): string[] {
  return [companyNameFor(n), '张三', phoneFor(n), '企业', '上海市浦东新区张江路 100 号', '展会', no];
}

describe('Google Sheets sync: a registration number typed by hand (issue 11)', () => {
  let fake: FakeGoogle;
  let sheets: SheetsService;
  let admin: Api;

  beforeEach(async () => {
    sheets = await startSheetsService({ dirPrefix: 'baobei-sheets-typed-no-' });
    ({ fake, admin } = sheets);
  });

  afterEach(async () => {
    await sheets.close();
  });

  async function user(name: string, team: string): Promise<Api> {
    const res = await admin.post<{ token: string }>('/api/users', { name, role: 'sales', team });
    expect(res.status).toBe(201);
    return apiClient(sheets.service.url, res.body.token);
  }

  async function register(who: Api, n: number): Promise<string> {
    const res = await who.post<{ results: RowResult[] }>('/api/registrations', { rows: [enterpriseRow(n)] });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body.results[0]!.registrationNo!;
  }

  async function record(no: string): Promise<RecordView> {
    const res = await admin.get<RecordView>(`/api/registrations/${no}`);
    expect(res.status).toBe(200);
    return res.body;
  }

  it('an unknown number, another customer’s number and another team’s number are flagged, not adopted; a later edit changes no record', async () => {
    const liNo = await register(await user('李娜', '华东一部'), 8); // same team, customer 8
    const chenNo = await register(await user('陈晨', '华南二部'), 9); // another team, customer 9
    const ownNo = await register(await user('赵敏', '华东一部'), 4); // same team, customer 4: adopted
    const id = fake.createSpreadsheet({
      sheets: [
        {
          title: TAB,
          values: [
            HEADER,
            sheetRow(1, 'BB-2026-009999'), // no such registration
            sheetRow(2, liNo), // customer 8's number on customer 2's row
            sheetRow(9, chenNo), // another team's registration of the same customer
            sheetRow(4, ownNo), // the team's registration of this very customer
          ],
        },
      ],
      sharedWith: { [SERVICE_ACCOUNT]: 'writer' },
    });
    const linkId = await linkSheet(admin, id, TAB);
    const first = await admin.post<Record<string, unknown>>(`/api/sheets/${linkId}/sync`, {});
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(first.body).toMatchObject({ registered: 0, changed: 0, invalid: 3 });
    const values = fake.values(id, TAB);
    for (const [row, no] of [
      [2, 'BB-2026-009999'],
      [3, liNo],
      [4, chenNo],
    ] as const) {
      expect(values[row - 1]![NO], `row ${row}`).toBe(no);
      expect(values[row - 1]![STATUS], `row ${row}`).toBe('编号无效');
      expect(fake.cell(id, TAB, `A${row}`).note ?? '', `row ${row}`).toContain(no);
    }
    // The row of the team's own registration of its customer is adopted: nothing shown, as before.
    expect(values[4]![STATUS] ?? '').toBe('');

    // The rows are edited (contact person): no record changes, the adopted one goes through PATCH.
    const before = await Promise.all([liNo, chenNo, ownNo].map(record));
    for (const row of [3, 4, 5]) fake.editCells(id, TAB, `B${row}`, [['钱七']]);
    const second = await admin.post<Record<string, unknown>>(`/api/sheets/${linkId}/sync`, {});
    expect(second.status, JSON.stringify(second.body)).toBe(200);
    expect(second.body).toMatchObject({ changed: 1, refused: 0 });
    const [li, chen, own] = await Promise.all([liNo, chenNo, ownNo].map(record));
    expect(li!.registration.contactName).toBe(before[0]!.registration.contactName);
    expect(li!.version).toBe(before[0]!.version);
    expect(chen!.version).toBe(before[1]!.version);
    expect(own!.registration.contactName).toBe('钱七');

    // The unknown number cleared: the row is registered as the new row it is.
    fake.editCells(id, TAB, 'G2', [['']]);
    const third = await admin.post<Record<string, unknown>>(`/api/sheets/${linkId}/sync`, {});
    expect(third.status, JSON.stringify(third.body)).toBe(200);
    expect(third.body).toMatchObject({ registered: 1 });
    const row2 = fake.values(id, TAB)[1]!;
    expect(String(row2[NO])).toMatch(/^BB-2026-\d{6}$/);
    expect((await record(String(row2[NO]))).registration.customerName).toBe(companyNameFor(1));
  });
});
