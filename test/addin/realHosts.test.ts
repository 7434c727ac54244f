/**
 * What real Excel hosts do that the add-in must survive (issue 8), through the workflows, against the
 * stricter fake and the real service over HTTP: an office.js without notes on a host that reports
 * ExcelApi 1.18, cell edit mode, protected sheets, error cells, the 1904 date system, headers Excel
 * would rename in a table, threaded comments where a note should go, getRanges area limits; and
 * every Excel error code turned into a message that says what to do.
 */
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FILLS, INVALID_CELL_FILL } from '../../core/annotation.js';
import { dayOf } from '../../core/day.js';
import { DATE_1904_OFFSET_DAYS } from '../../core/sheetRows.js';
import type { CellValue } from '../../core/schema.js';
import { createApiClient } from '../../addin/apiClient.js';
import { createExcelGateway, sheetErrorOf, SheetError, type ExcelHost } from '../../addin/excelGateway.js';
import { createWorkflows, type Workflows } from '../../addin/workflows.js';
import {
  createFakeOffice,
  type FakeCell,
  type FakeOffice,
  type FakeOfficeOptions,
} from '../fakes/fakeExcel.js';
import { readSampleGrid } from '../fixtures/sampleGrid.js';
import { loadSampleTruths, SAMPLES_DIR, type SampleTruth } from '../fixtures/sampleRows.js';
import { startTestService, type TestService } from '../support/testService.js';

const SHEET = '报备登记';
const INVALID_CELL = `#${FILLS[INVALID_CELL_FILL].fill}`;
const TRUTH = loadSampleTruths().find((t) => t.file === 'v1-title-row.xlsx') as SampleTruth;
const invalidRows = TRUTH.rows.filter((r) => r.invalidFields.length > 0).map((r) => r.row);

function toSheetCell(value: CellValue, date1904: boolean): FakeCell {
  if (value instanceof Date) {
    const serial = (value.getTime() - Date.UTC(1899, 11, 30)) / 86_400_000;
    return date1904 ? serial - DATE_1904_OFFSET_DAYS : serial;
  }
  return value ?? null;
}

async function sampleValues(date1904 = false): Promise<FakeCell[][]> {
  const grid = await readSampleGrid(path.join(SAMPLES_DIR, 'v1-title-row.xlsx'));
  return grid.map((row) => row.map((v) => toSheetCell(v, date1904)));
}

let svc: TestService;

beforeEach(async () => {
  svc = await startTestService({ now: '2026-11-23T02:00:00.000Z' });
});

afterEach(async () => {
  await svc.close();
});

async function setUp(
  options: Partial<FakeOfficeOptions> = {},
  values?: FakeCell[][],
  sheet: Partial<NonNullable<FakeOfficeOptions['sheets']>[number]> = {},
): Promise<{ fake: FakeOffice; workflows: Workflows }> {
  const fake = createFakeOffice({
    apiVersion: '1.18',
    ...options,
    sheets: [{ name: SHEET, values: values ?? (await sampleValues(options.date1904 === true)), ...sheet }],
  });
  const workflows = createWorkflows({
    excel: createExcelGateway({ Excel: fake.Excel, Office: fake.Office } as unknown as ExcelHost),
    api: createApiClient({ baseUrl: svc.url, token: svc.adminToken }),
    now: () => svc.now(),
  });
  return { fake, workflows };
}

async function storedCount(): Promise<number> {
  return (await createApiClient({ baseUrl: svc.url, token: svc.adminToken }).listRegistrations({ limit: 1 }))
    .total;
}

describe('the host’s actual API surface', () => {
  it('a host reporting ExcelApi 1.18 whose office.js has no Worksheet.notes: no notes, explanations in 冲突说明', async () => {
    const { fake, workflows } = await setUp({ apiVersion: '1.18', servedApiVersion: '1.9' });
    const result = await workflows.apply(await workflows.detect());
    expect(result.invalidRows).toBe(invalidRows.length);
    expect(fake.workbook.notes(SHEET)).toEqual([]);
    expect(fake.workbook.values(SHEET, 'R4')[0]?.[0]).toContain('联系电话：电话号码格式不正确');
    const summary = await workflows.check();
    expect(summary.rows).toBe(50);
  });

  it('waits while the user edits a cell (delayForCellEdit) and writes once editing ends', async () => {
    const { fake, workflows } = await setUp();
    const setup = await workflows.detect();
    fake.setCellEditMode(true);
    let finished = false;
    const running = workflows.check(setup).then((s) => {
      finished = true;
      return s;
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(finished).toBe(false);
    fake.setCellEditMode(false);
    const summary = await running;
    expect(summary.rows).toBe(50);
    expect(fake.workbook.values(SHEET, 'P4')).toEqual([['信息有误']]);
  });

  it('refuses a protected sheet before sending anything, saying how to unprotect it', async () => {
    const { workflows } = await setUp({}, undefined, { protected: true });
    const error = await workflows.submit(await workflows.detect()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SheetError);
    expect(error).toMatchObject({ code: 'sheet.protected' });
    expect((error as SheetError).message).toContain('撤消工作表保护');
    expect((error as SheetError).messageEn).toContain('Unprotect Sheet');
    expect(await storedCount()).toBe(0);
  });

  it('maps every Excel error code to a bilingual message that says what to do, never the raw error', () => {
    const codes = [
      ['InvalidOperationInCellEditMode', 'excel.cell_edit', 'Enter'],
      ['AccessDenied', 'sheet.protected', 'Unprotect'],
      ['ItemNotFound', 'excel.not_found', 'detect the header'],
      ['InvalidArgument', 'excel.invalid_argument', 'split the sheet'],
      ['GeneralException', 'excel.general', 'reopen'],
      ['RequestPayloadSizeLimitExceeded', 'excel.payload', 'smaller'],
      ['ResponsePayloadSizeLimitExceeded', 'excel.payload', 'smaller'],
      ['ApiNotFound', 'excel.unsupported', 'update Office'],
    ] as const;
    for (const [code, own, advice] of codes) {
      const mapped = sheetErrorOf(Object.assign(new Error('raw'), { code }));
      expect(mapped, code).toBeInstanceOf(SheetError);
      expect(mapped?.code).toBe(own);
      expect(mapped?.messageEn).toContain(advice);
      expect(mapped?.message).toMatch(/[\u4e00-\u9fff]/);
      expect(mapped?.message).not.toContain('raw');
      expect(mapped?.message).toContain(code);
    }
    expect(sheetErrorOf(Object.assign(new Error('x'), { code: 'ItemNotFound' }), '报备')?.code).toBe(
      'sheet.not_found',
    );
    expect(sheetErrorOf(new Error('plain'))).toBeUndefined();
  });
});

describe('reads as Excel gives them', () => {
  it('an error cell (#REF!) is an invalid cell with a note, never sent as a customer name', async () => {
    const values = await sampleValues();
    (values[4] as FakeCell[])[0] = '#REF!'; // row 5's customer name: a broken formula
    const { fake, workflows } = await setUp({}, values);
    const summary = await workflows.check(await workflows.detect());
    expect(summary.invalidBeforeSend).toBe(invalidRows.length + 1);
    expect(fake.workbook.values(SHEET, 'P5')).toEqual([['信息有误']]);
    expect(fake.workbook.cell(SHEET, 'A5').fill).toBe(INVALID_CELL);
    const note = fake.workbook.notes(SHEET).find((n) => n.address === 'A5');
    expect(note?.content).toContain('#REF!');
  });

  it('reads dates right in a workbook using the 1904 date system', async () => {
    const { fake, workflows } = await setUp({ date1904: true });
    await workflows.submit(await workflows.detect());
    const no = fake.workbook.values(SHEET, 'O3')[0]?.[0] as string;
    expect(no).toMatch(/^BB-/);
    const stored = await createApiClient({ baseUrl: svc.url, token: svc.adminToken }).getRegistration(no);
    expect(dayOf(new Date(stored.claimedAt))).toBe(TRUTH.rows[0]?.registeredDay);
  });
});

describe('tables, notes and writes as Excel does them', () => {
  it('makes no table over a header Excel would rename (blank, repeated cells); Check keeps working', async () => {
    const values = await sampleValues();
    const header = values[1] as FakeCell[];
    header[7] = ''; // a blank header cell between mapped columns (所在地区 gone)
    header[8] = '备注';
    header[9] = '备注';
    const { fake, workflows } = await setUp({}, values);
    const setup = await workflows.detect();
    const result = await workflows.apply(setup);
    expect(result.tableCreated).toBe(false);
    expect(result.tableError).toContain('H2');
    expect(result.tableErrorEn).toContain('no table was made');
    expect(fake.workbook.tables()).toEqual([]);
    expect(fake.workbook.values(SHEET, 'H2:J2')).toEqual([['', '备注', '备注']]);
    const summary = await workflows.check(setup);
    expect(summary.rows).toBe(50);
  });

  it('adds the result columns to a table the header is already in (table.columns.add), so they sort with it', async () => {
    const { fake, workflows } = await setUp();
    await fake.Excel.run(async (context) => {
      const sheet = context.workbook.worksheets.getItem(SHEET);
      sheet.tables.add(sheet.getRange('A2:N52'), true);
      await context.sync();
    });
    const setup = await workflows.detect();
    const result = await workflows.apply(setup);
    expect(result.tableCreated).toBeNull();
    expect(fake.workbook.tables()).toEqual([{ name: 'Table1', sheet: SHEET, address: 'A2:S52' }]);
    expect(fake.workbook.values(SHEET, 'O2:S2')).toEqual([
      ['报备编号', '状态', '保护截止', '冲突说明', '提示'],
    ]);
    expect(fake.payloads().some((p) => p.failed !== undefined)).toBe(false);
    const summary = await workflows.check(setup);
    expect(summary.rows).toBe(50);
    expect(fake.workbook.values(SHEET, 'P4')).toEqual([['信息有误']]);
    expect(fake.workbook.values(SHEET, 'T2:T4')).toEqual([[''], [''], ['']]);
  });

  it('refuses result columns a table sort would leave behind (a column of the user’s own between table and results), sending nothing', async () => {
    const values = await sampleValues();
    // The user's own column right of the table, outside it: results would go after it, outside too.
    (values[1] as FakeCell[])[14] = '我的备注';
    for (let r = 2; r < 52; r++) (values[r] as FakeCell[])[14] = `备注${r + 1}`;
    const { fake, workflows } = await setUp({}, values);
    await fake.Excel.run(async (context) => {
      const sheet = context.workbook.worksheets.getItem(SHEET);
      sheet.tables.add(sheet.getRange('A2:N52'), true);
      await context.sync();
    });
    const setup = await workflows.detect();
    // Excel sorts a table's own columns only: a 报备编号 outside it would stay on the row it was
    // written to and name another customer once the table is sorted.
    for (const step of [() => workflows.apply(setup), () => workflows.submit(setup)]) {
      await expect(step()).rejects.toMatchObject({
        code: 'sheet.results_outside_table',
        message: expect.stringContaining('调整表格大小') as unknown,
        messageEn: expect.stringContaining('Resize Table') as unknown,
      });
    }
    expect(await storedCount()).toBe(0);
    expect(fake.workbook.values(SHEET, 'P2:T2')).toEqual([['', '', '', '', '']]);

    // With the table resized over the user's column (Table Design > Resize Table), the results join it.
    const resized = await setUp({}, values);
    await resized.fake.Excel.run(async (context) => {
      const sheet = context.workbook.worksheets.getItem(SHEET);
      sheet.tables.add(sheet.getRange('A2:O52'), true);
      await context.sync();
    });
    const again = await resized.workflows.detect();
    await resized.workflows.apply(again);
    expect(resized.fake.workbook.tables()).toEqual([{ name: 'Table1', sheet: SHEET, address: 'A2:T52' }]);
    expect((await resized.workflows.submit(again)).rows).toBe(50);
  });

  it('a table beside the data that only shares the header row (a legend) refuses nothing', async () => {
    const values = await sampleValues();
    (values[1] as FakeCell[])[20] = '等级';
    (values[1] as FakeCell[])[21] = '含义';
    (values[2] as FakeCell[])[20] = 'A';
    (values[2] as FakeCell[])[21] = '重点客户';
    const { fake, workflows } = await setUp({}, values);
    await fake.Excel.run(async (context) => {
      const sheet = context.workbook.worksheets.getItem(SHEET);
      sheet.tables.add(sheet.getRange('U2:V3'), true);
      await context.sync();
    });
    const setup = await workflows.detect();
    await workflows.apply(setup);
    expect((await workflows.submit(setup)).rows).toBe(50);
  });

  it('refuses result columns already outside the table the header is in (a table made over the data only)', async () => {
    const values = await sampleValues();
    // Result columns from earlier runs, and a table the user made later over the data only.
    ['报备编号', '状态', '保护截止', '冲突说明', '提示'].forEach((h, i) => {
      (values[1] as FakeCell[])[14 + i] = h;
    });
    const { fake, workflows } = await setUp({}, values);
    await fake.Excel.run(async (context) => {
      const sheet = context.workbook.worksheets.getItem(SHEET);
      sheet.tables.add(sheet.getRange('A2:N52'), true);
      await context.sync();
    });
    const setup = await workflows.detect();
    for (const step of [() => workflows.check(setup), () => workflows.refresh(setup)]) {
      await expect(step()).rejects.toMatchObject({ code: 'sheet.results_outside_table' });
    }
    expect(
      fake.workbook
        .values(SHEET, 'P3:P52')
        .flat()
        .every((v) => v === ''),
    ).toBe(true);
  });

  it('a table Excel refuses over merged cells costs only the table: formats, results and notes stay', async () => {
    const { fake, workflows } = await setUp({}, undefined, { merged: ['L10:M10'] });
    const result = await workflows.apply(await workflows.detect());
    expect(result.tableCreated).toBe(false);
    expect(result.tableError).toContain('InvalidArgument');
    expect(fake.workbook.tables()).toEqual([]);
    expect(fake.workbook.values(SHEET, 'O2:S2')).toEqual([
      ['报备编号', '状态', '保护截止', '冲突说明', '提示'],
    ]);
    expect(fake.workbook.notes(SHEET)).toHaveLength(invalidRows.length);
    expect((await workflows.check()).rows).toBe(50);
  });

  it('skips a note where a threaded comment is, and says so; everything else is written', async () => {
    const { fake, workflows } = await setUp({}, undefined, { comments: ['F4'] });
    const result = await workflows.apply(await workflows.detect());
    expect(result.warnings.map((w) => w.code)).toEqual(['notes.comment_cells']);
    expect(fake.workbook.notes(SHEET).some((n) => n.address === 'F4')).toBe(false);
    expect(fake.workbook.notes(SHEET).length).toBe(invalidRows.length - 1);
    expect(fake.workbook.cell(SHEET, 'F4').fill).toBe(INVALID_CELL);
    expect(fake.workbook.values(SHEET, 'P4')).toEqual([['信息有误']]);
  });

  it('splits a getRanges call the host refuses for its area count and retries once', async () => {
    // Every other row has a bad phone: hundreds of separate areas to colour.
    const header: FakeCell[] = ['客户名称', '联系电话', '报备人', '地址', '客户来源'];
    const rows: FakeCell[][] = Array.from({ length: 700 }, (_, i) => [
      `测试客户${i}有限公司`,
      i % 2 === 0 ? '12345' : `1380000${String(i).padStart(4, '0')}`,
      '王磊',
      `上海市浦东新区世纪大道${i}号`,
      '展会',
    ]);
    const refused = await setUp({ rangesAreaLimit: 200 }, [header, ...rows]);
    const summary = await refused.workflows.check(await refused.workflows.detect());
    expect(summary.invalidBeforeSend).toBe(350);
    const fills = refused.fake.workbook.fills(SHEET, 'B2:B701').map((r) => r[0]);
    expect(fills.filter((f) => f === INVALID_CELL).length).toBe(350);
    expect(refused.fake.payloads().some((p) => p.failed === 'InvalidArgument')).toBe(true);

    const tooStrict = await setUp({ rangesAreaLimit: 60 }, [header, ...rows]);
    const error = await tooStrict.workflows
      .check(await tooStrict.workflows.detect())
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'excel.invalid_argument' });
    // Results went first: every row has its status even though colouring failed.
    expect(tooStrict.fake.workbook.values(SHEET, 'G2:G3')).toEqual([['信息有误'], ['待审核']]);
  });
});
