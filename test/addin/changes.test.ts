/**
 * Correcting filed registrations from the sheet (issue 15): cells of registered rows edited, then
 * 提交更改 — only the changed fields PATCHed with the version the sheet last saw (报备快照), refusals
 * and stale versions written on the row, a corrected rejected row resubmitted (R13). The fake Excel
 * on one side, the real service over real HTTP on the other.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SNAPSHOT_SHEET_NAME } from '../../core/sheetChanges.js';
import { createApiClient, type ApiClient } from '../../addin/apiClient.js';
import { createExcelGateway, type ExcelHost } from '../../addin/excelGateway.js';
import { createWorkflows, type Workflows } from '../../addin/workflows.js';
import { createFakeOffice, type FakeCell, type FakeOffice } from '../fakes/fakeExcel.js';
import { companyNameFor, creditCodeFor, enterpriseRow, phoneFor } from '../support/customers.js';
import { startTestService, type TestService } from '../support/testService.js';

const SHEET = '客户报备';
const HEADER = [
  '客户名称',
  '客户类型',
  '统一社会信用代码',
  '联系电话',
  '所在地区',
  '客户来源',
  '报备人',
  '备注',
];
/** Columns: A…H the sheet's, I…M the result columns the add-in appends. */
const COL = { creditCode: 'C', notes: 'H', no: 'I', status: 'J', conflict: 'L', hint: 'M' };
const ROWS = 5;

function sheet(): FakeCell[][] {
  const grid: FakeCell[][] = [HEADER];
  for (let i = 0; i < ROWS; i++) {
    grid.push([companyNameFor(i), '企业', creditCodeFor(i), phoneFor(i), '上海', '展会', '王磊', null]);
  }
  return grid;
}

let svc: TestService;
let wang: string;
let zhou: string;
let zhang: string;
let fake: FakeOffice;
let sales: Workflows;

beforeEach(async () => {
  svc = await startTestService({ now: '2026-11-23T02:00:00.000Z' });
  wang = await svc.user('王磊', 'sales', '华东一部');
  zhou = await svc.user('周杰', 'sales', '华南二部');
  zhang = await svc.user('张敏', 'reviewer', '华东一部');
  fake = createFakeOffice({ apiVersion: '1.18', sheets: [{ name: SHEET, values: sheet() }] });
  sales = createWorkflows({
    excel: createExcelGateway({ Excel: fake.Excel, Office: fake.Office } as unknown as ExcelHost),
    api: client(wang),
    now: () => svc.now(),
  });
});

afterEach(async () => {
  await svc.close();
});

function client(token: string): ApiClient {
  return createApiClient({ baseUrl: svc.url, token });
}

function cell(letter: string, row: number): FakeCell {
  return fake.workbook.values(SHEET, `${letter}${row}`)[0]?.[0] ?? null;
}

/** Registers the sheet's rows and returns their numbers by sheet row (2…6). */
async function registerAll(): Promise<Map<number, string>> {
  await sales.submit();
  fake.workbook.activate(SHEET);
  const numbers = new Map<number, string>();
  for (let row = 2; row <= ROWS + 1; row++) numbers.set(row, String(cell(COL.no, row)));
  expect([...numbers.values()].every((n) => /^BB-/.test(n))).toBe(true);
  return numbers;
}

function seenVersion(no: string): number | undefined {
  const grid = fake.workbook.values(SNAPSHOT_SHEET_NAME, 'A1:D20');
  const found = grid.find((r) => r[0] === no);
  return found === undefined ? undefined : Number(found[1]);
}

describe('提交更改 from the sheet (issue 15)', () => {
  it('[R37] sends only the edited fields with the version the sheet saw; the change is in the history', async () => {
    const numbers = await registerAll();
    const no = numbers.get(4)!;
    expect(seenVersion(no)).toBe(1);
    // What the sheet saw is kept out of the way, on a hidden sheet.
    expect(fake.workbook.visibility(SNAPSHOT_SHEET_NAME)).toBe('Hidden');
    expect(fake.workbook.visibility(SHEET)).toBe('Visible');
    fake.workbook.setValues(SHEET, `${COL.notes}4`, [['客户改为按季度付款']]);
    fake.workbook.setValues(SHEET, 'E4', [['北京']]);

    const summary = await sales.submitChanges();
    expect(summary).toMatchObject({ changed: 1, refused: 0, resubmitted: 0, unseen: 0 });
    const record = await client(wang).getRegistration(no);
    expect(record.version).toBe(2);
    const changes = record.history.filter((h) => h.action === 'change');
    expect(changes.map((h) => h.details?.['field']).sort()).toEqual(['notes', 'region']);
    expect(changes.every((h) => h.by === '王磊' && h.reason === '在 Excel 报备表中更改')).toBe(true);
    expect(String(cell(COL.hint, 4))).toContain('已更改');
    expect(seenVersion(no)).toBe(2);
    // Untouched rows were not sent: still at version 1.
    expect((await client(wang).getRegistration(numbers.get(3)!)).version).toBe(1);

    // Pressed again with nothing new: nothing is sent, nothing changes.
    const again = await sales.submitChanges();
    expect(again.changed).toBe(0);
    expect((await client(wang).getRegistration(no)).version).toBe(2);
  });

  it("[R3] an identity change onto another registrant's customer is refused with the conflict view on the row", async () => {
    const numbers = await registerAll();
    const other = await client(zhou).submit([enterpriseRow(900)], 'zhou-900');
    expect(other[0]?.registrationNo).toMatch(/^BB-/);
    const no = numbers.get(3)!;
    fake.workbook.setValues(SHEET, `${COL.creditCode}3`, [[creditCodeFor(900)]]);

    const summary = await sales.submitChanges();
    expect(summary).toMatchObject({ changed: 0, refused: 1 });
    const conflict = String(cell(COL.conflict, 3));
    expect(conflict).toContain('更改未生效');
    expect(conflict).toContain('周杰');
    expect(conflict).toContain(other[0]!.registrationNo!);
    // The number stays on the row; the record and what the sheet saw are unchanged.
    expect(cell(COL.no, 3)).toBe(no);
    const record = await client(wang).getRegistration(no);
    expect(record.version).toBe(1);
    expect(record.registration.creditCode).toBe(creditCodeFor(3 - 2));
    expect(seenVersion(no)).toBe(1);
  });

  it('[R37] two tabs: a change made elsewhere meanwhile makes the sheet stale (412, refresh); after Refresh the edit goes through', async () => {
    const numbers = await registerAll();
    const no = numbers.get(5)!;
    // The other tab (or the web) changes the same registration first.
    await client(wang).change(no, { changes: { region: '杭州' }, reason: '另一个窗口' }, '"1"');
    fake.workbook.setValues(SHEET, `${COL.notes}5`, [['下周上门']]);

    const stale = await sales.submitChanges();
    expect(stale).toMatchObject({ changed: 0, refused: 1 });
    expect(String(cell(COL.conflict, 5))).toContain('刷新');
    expect((await client(wang).getRegistration(no)).version).toBe(2);

    await sales.refresh();
    fake.workbook.activate(SHEET);
    expect(seenVersion(no)).toBe(2);
    const applied = await sales.submitChanges();
    expect(applied).toMatchObject({ changed: 1, refused: 0 });
    const record = await client(wang).getRegistration(no);
    expect(record.version).toBe(3);
    // Only the sheet's own edit was sent: the other tab's change is kept.
    expect(record.registration.notes).toBe('下周上门');
    expect(record.registration.region).toBe('杭州');
  });

  it('[R13] a rejected registration corrected in the sheet is resubmitted for review, keeping its number', async () => {
    const numbers = await registerAll();
    const no = numbers.get(2)!;
    await client(zhang).review(no, { decision: 'reject', reason: '请补充备注' });
    await sales.refresh();
    fake.workbook.activate(SHEET);
    expect(String(cell(COL.status, 2))).toContain('驳回');
    fake.workbook.setValues(SHEET, `${COL.notes}2`, [['已补充：客户为集团子公司']]);

    const summary = await sales.submitChanges();
    expect(summary).toMatchObject({ changed: 1, resubmitted: 1, refused: 0 });
    const record = await client(wang).getRegistration(no);
    expect(record.status).toBe('pending');
    expect(record.registration.notes).toBe('已补充：客户为集团子公司');
    expect(record.history.map((h) => h.action)).toContain('resubmit');
    expect(cell(COL.no, 2)).toBe(no);
    expect(String(cell(COL.status, 2))).not.toContain('驳回');
  });

  it('rows sorted between Refresh and 提交更改 are known by their number: the change reaches the right registration', async () => {
    const numbers = await registerAll();
    await sales.refresh();
    fake.workbook.activate(SHEET);
    // Sort descending: row 2 ↔ row 6, 3 ↔ 5, result columns moving with their rows.
    const rows = fake.workbook.values(SHEET, `A2:M${ROWS + 1}`);
    fake.workbook.setValues(SHEET, `A2:M${ROWS + 1}`, [...rows].reverse());
    const moved = numbers.get(3)!;
    expect(cell(COL.no, 5)).toBe(moved);
    fake.workbook.setValues(SHEET, `${COL.notes}5`, [['排序后更改']]);

    const summary = await sales.submitChanges();
    expect(summary).toMatchObject({ changed: 1, refused: 0 });
    expect((await client(wang).getRegistration(moved)).registration.notes).toBe('排序后更改');
    expect((await client(wang).getRegistration(numbers.get(5)!)).version).toBe(1);
    expect(String(cell(COL.hint, 5))).toContain('已更改');
  });

  it('a broken formula (#REF!) in a registered row is no edit to send: the field is not emptied on the record', async () => {
    const numbers = await registerAll();
    const no = numbers.get(3)!;
    // The phone column's formula lost its source; the notes of the same row were really edited.
    fake.workbook.setValues(SHEET, 'D3', [['#REF!']]);
    fake.workbook.setValues(SHEET, `${COL.notes}3`, [['改了备注']]);

    for (const send of [() => sales.submitChanges(), async () => (await sales.submit()).changes]) {
      const summary = await send();
      expect(summary).toMatchObject({ changed: 0, refused: 1 });
      const record = await client(wang).getRegistration(no);
      expect(record.version).toBe(1);
      expect(record.registration.contactPhone).toBe(phoneFor(1).replaceAll(' ', ''));
      const said = `${String(cell(COL.conflict, 3))} ${String(cell(COL.hint, 3))}`;
      expect(said).toContain('更改未生效');
      expect(said).toContain('#REF!');
      expect(seenVersion(no)).toBe(1);
    }

    // The formula mended: the real edit goes through, and only it.
    fake.workbook.setValues(SHEET, 'D3', [[phoneFor(1)]]);
    expect(await sales.submitChanges()).toMatchObject({ changed: 1, refused: 0 });
    const record = await client(wang).getRegistration(no);
    expect(record.history.filter((h) => h.action === 'change').map((h) => h.details?.['field'])).toEqual([
      'notes',
    ]);
  });

  it('a 重复报备 row shows the number of the row it repeats: its cells are never sent as a change of that registration', async () => {
    // Row 7 repeats row 3's customer (the same credit code) with a note of its own.
    fake.workbook.setValues(SHEET, 'A7:H7', [
      [companyNameFor(1), '企业', creditCodeFor(1), phoneFor(1), '上海', '展会', '王磊', '重复行的备注'],
    ]);
    await sales.submit();
    fake.workbook.activate(SHEET);
    const no = String(cell(COL.no, 3));
    expect(cell(COL.no, 7)).toBe(no);
    expect(cell(COL.status, 7)).toBe('重复报备');

    for (let press = 0; press < 2; press++) {
      expect(await sales.submitChanges()).toMatchObject({ changed: 0, refused: 0 });
      expect((await client(wang).getRegistration(no)).version).toBe(1);
      expect(cell(COL.status, 7)).toBe('重复报备');
    }
    // The registration's own row is still changed as usual.
    fake.workbook.setValues(SHEET, `${COL.notes}3`, [['本行的备注']]);
    expect(await sales.submitChanges()).toMatchObject({ changed: 1, refused: 0 });
    const record = await client(wang).getRegistration(no);
    expect(record.version).toBe(2);
    expect(record.registration.notes).toBe('本行的备注');

    // Refresh puts the registration's status on both rows: two rows now claim the number and differ,
    // so neither is sent, and the row says why.
    await sales.refresh();
    fake.workbook.activate(SHEET);
    expect(await sales.submitChanges()).toMatchObject({ changed: 0, refused: 1 });
    expect((await client(wang).getRegistration(no)).version).toBe(2);
    const said = String(cell(COL.conflict, 7));
    expect(said).toContain('更改未生效');
    expect(said).toContain('第 3 行');
  });

  it('a change no correction can answer (the registration is closed) says to put the cells back, not to correct them', async () => {
    const numbers = await registerAll();
    const no = numbers.get(4)!;
    expect(
      (await svc.api(zhang).post(`/api/registrations/${no}/review`, { decision: 'approve', reason: '同意' }))
        .status,
    ).toBe(200);
    expect(
      (await svc.api(wang).post(`/api/registrations/${no}/close`, { outcome: 'signed', note: '已签约' }))
        .status,
    ).toBe(200);
    // The sheet knows it is signed (Refresh); the user then edits the row anyway.
    await sales.refresh();
    fake.workbook.activate(SHEET);
    fake.workbook.setValues(SHEET, `${COL.notes}4`, [['签约后补充的备注']]);

    expect(await sales.submitChanges()).toMatchObject({ changed: 0, refused: 1 });
    const said = `${String(cell(COL.conflict, 4))} ${String(cell(COL.hint, 4))}`;
    expect(said).toContain('更改未生效');
    expect(said).toContain('请把单元格改回原值');
    expect(said).not.toContain('请改正后再点');
    // Put back, the row is no longer sent.
    fake.workbook.setValues(SHEET, `${COL.notes}4`, [[null]]);
    expect(await sales.submitChanges()).toMatchObject({ changed: 0, refused: 0 });
  });

  it('Submit sends the edits of registered rows too', async () => {
    const numbers = await registerAll();
    fake.workbook.setValues(SHEET, `${COL.notes}6`, [['提交时一并更改']]);
    const summary = await sales.submit();
    expect(summary.changes).toMatchObject({ changed: 1, refused: 0 });
    expect((await client(wang).getRegistration(numbers.get(6)!)).registration.notes).toBe('提交时一并更改');
  });

  it('a copy of a registered row on another sheet is not an edit: its older cells never undo a change sent from the first', async () => {
    const numbers = await registerAll();
    const no = numbers.get(3)!;
    // The person keeps a copy of the registered rows on a second sheet (a monthly list).
    fake.workbook.addSheet('十一月', fake.workbook.values(SHEET, `A1:${COL.hint}${ROWS + 1}`));
    fake.workbook.setValues(SHEET, 'E3', [['北京']]);
    fake.workbook.activate(SHEET);
    expect(await sales.submitChanges()).toMatchObject({ changed: 1 });
    expect((await client(wang).getRegistration(no)).registration.region).toBe('北京');

    // Submit on the copy: its rows were never seen from that sheet, so nothing of them is sent.
    fake.workbook.activate('十一月');
    const copy = await sales.submit();
    expect(copy.changes).toMatchObject({ changed: 0, unseen: ROWS });
    expect((await client(wang).getRegistration(no)).registration.region).toBe('北京');

    // Refreshed, the copy is seen as it is; an edit made there afterwards is sent from there.
    await sales.refresh();
    fake.workbook.setValues('十一月', 'E3', [['广州']]);
    expect(await sales.submitChanges()).toMatchObject({ changed: 1, refused: 0 });
    expect((await client(wang).getRegistration(no)).registration.region).toBe('广州');
    // Back on the first sheet, untouched since its change: nothing is sent, nothing is undone.
    fake.workbook.activate(SHEET);
    expect(await sales.submitChanges()).toMatchObject({ changed: 0, refused: 0 });
    expect((await client(wang).getRegistration(no)).registration.region).toBe('广州');
  });

  it('a 报备快照 kept before sheets were recorded (four columns) still stands for the sheet', async () => {
    const numbers = await registerAll();
    fake.workbook.setValues(
      SNAPSHOT_SHEET_NAME,
      'E1',
      Array.from({ length: ROWS + 1 }, () => ['']),
    );
    fake.workbook.setValues(SHEET, `${COL.notes}5`, [['旧快照也能比较']]);
    fake.workbook.activate(SHEET);
    expect(await sales.submitChanges()).toMatchObject({ changed: 1, unseen: 0 });
    expect((await client(wang).getRegistration(numbers.get(5)!)).registration.notes).toBe('旧快照也能比较');
    expect((await client(wang).getRegistration(numbers.get(4)!)).version).toBe(1);
  });
});

describe('[R29] the first visit of a protection counted from it, changed from the sheet', () => {
  it('the holder’s change is refused with the granted days, and the row says to put the cell back', async () => {
    expect((await svc.api(svc.adminToken).put('/api/policy', { preset: 'channel' })).status).toBe(200);
    const VISIT_SHEET = '渠道报备';
    // 到访时间 in I; the add-in appends the result columns J…N.
    fake = createFakeOffice({
      apiVersion: '1.18',
      sheets: [
        {
          name: VISIT_SHEET,
          values: [
            [...HEADER, '到访时间'],
            [
              companyNameFor(0),
              '企业',
              creditCodeFor(0),
              phoneFor(0),
              '上海',
              '展会',
              '王磊',
              null,
              '2026-11-20',
            ],
          ],
        },
      ],
    });
    sales = createWorkflows({
      excel: createExcelGateway({ Excel: fake.Excel, Office: fake.Office } as unknown as ExcelHost),
      api: client(wang),
      now: () => svc.now(),
    });
    const at = (letter: string) => fake.workbook.values(VISIT_SHEET, `${letter}2`)[0]?.[0] ?? null;
    await sales.submit();
    fake.workbook.activate(VISIT_SHEET);
    const no = String(at('J'));
    expect(
      (await svc.api(zhang).post(`/api/registrations/${no}/review`, { decision: 'approve', reason: '同意' }))
        .status,
    ).toBe(200);
    await sales.refresh();
    fake.workbook.activate(VISIT_SHEET);
    // Pushed a week later, the visit would lengthen the holder's protection (2026-11-20 … 2026-12-19).
    fake.workbook.setValues(VISIT_SHEET, 'I2', [['2026-11-27']]);
    expect(await sales.submitChanges()).toMatchObject({ changed: 0, refused: 1 });
    const said = `${String(at('M'))} ${String(at('N'))}`;
    expect(said).toContain('更改未生效');
    expect(said).toContain('2026-12-19');
    expect(said).toContain('请把单元格改回原值');
    expect(said).not.toContain('请改正后再点');
    expect(await client(wang).getRegistration(no)).toMatchObject({
      version: 2,
      protectedFrom: '2026-11-20',
      protectedUntil: '2026-12-19',
    });
  });
});
