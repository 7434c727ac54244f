/**
 * The add-in's workflows end to end: the fake Excel (enforcing office-js rules) on one side, the
 * real service over real HTTP on the other. A legacy sheet (title row, header, 50 rows from the
 * shared sample, read with exceljs) is prepared, checked, submitted, refreshed after a review, and
 * the reviewers' 待审核 sheet is built and applied.
 */
import path from 'node:path';
import { readFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FILLS, INVALID_CELL_FILL } from '../../core/annotation.js';
import { companyKey } from '../../core/companyName.js';
import { REVIEW_SHEET_NAME } from '../../core/reviewSheetPlan.js';
import { NOTE_MARKER } from '../../core/sheetNotes.js';
import type { CellValue } from '../../core/schema.js';
import { ApiError, createApiClient, type ApiClient } from '../../addin/apiClient.js';
import { createExcelGateway, type ExcelHost } from '../../addin/excelGateway.js';
import {
  createWorkflows,
  type WorkflowDeps,
  type WorkflowProgress,
  type Workflows,
} from '../../addin/workflows.js';
import { createFakeOffice, type FakeCell, type FakeOffice } from '../fakes/fakeExcel.js';
import { readSampleGrid } from '../fixtures/sampleGrid.js';
import { loadSampleTruths, SAMPLES_DIR, type SampleTruth } from '../fixtures/sampleRows.js';
import { companyNameFor, creditCodeFor, enterpriseRow, phoneFor } from '../support/customers.js';
import { startTestService, type TestService } from '../support/testService.js';

const SHEET = '报备登记';
const RED = `#${FILLS.red.fill}`;
const GREY = `#${FILLS.grey.fill}`;
const PALE = `#${FILLS.paleBlue.fill}`;
const GREEN = `#${FILLS.green.fill}`;
const VIOLET = `#${FILLS.violet.fill}`;
const INVALID_CELL = `#${FILLS[INVALID_CELL_FILL].fill}`;
const TRUTH = loadSampleTruths().find((t) => t.file === 'v1-title-row.xlsx') as SampleTruth;
/** Sheet columns of the sample (A…N) and the result columns the add-in appends (O…S). */
const COL = {
  phone: 'F',
  signDate: 'K',
  registeredAt: 'N',
  no: 'O',
  status: 'P',
  until: 'Q',
  conflict: 'R',
  hint: 'S',
};
const FIELD_COLUMN: Record<string, string> = { contactPhone: 'F', registeredAt: 'N' };

/** Excel keeps dates as serial days from 1899-12-30; exceljs gives the wall clock in UTC fields. */
function toSheetCell(value: CellValue): FakeCell {
  if (value instanceof Date) return (value.getTime() - Date.UTC(1899, 11, 30)) / 86_400_000;
  return value ?? null;
}

async function sampleValues(): Promise<FakeCell[][]> {
  const grid = await readSampleGrid(path.join(SAMPLES_DIR, 'v1-title-row.xlsx'));
  return grid.map((row) => row.map(toSheetCell));
}

function gatewayFor(fake: FakeOffice) {
  return createExcelGateway({ Excel: fake.Excel, Office: fake.Office } as unknown as ExcelHost);
}

const invalidRows = TRUTH.rows.filter((r) => r.invalidFields.length > 0).map((r) => r.row);

let svc: TestService;
let reviewerToken: string;

beforeEach(async () => {
  svc = await startTestService({ now: '2026-11-23T02:00:00.000Z' });
  reviewerToken = await svc.user('张敏', 'reviewer');
});

afterEach(async () => {
  await svc.close();
});

function api(token = svc.adminToken): ApiClient {
  return createApiClient({ baseUrl: svc.url, token });
}

async function setUp(apiVersion: string, extra: Partial<WorkflowDeps> = {}) {
  const fake = createFakeOffice({ apiVersion, sheets: [{ name: SHEET, values: await sampleValues() }] });
  const progress: WorkflowProgress[] = [];
  const workflows = createWorkflows({
    excel: gatewayFor(fake),
    api: api(),
    now: () => svc.now(),
    progress: (p) => progress.push(p),
    ...extra,
  });
  return { fake, workflows, progress };
}

async function storedCount(): Promise<number> {
  return (await api().listRegistrations({ limit: 1 })).total;
}

function column(fake: FakeOffice, letter: string, rows: readonly number[]): unknown[] {
  return rows.map((r) => fake.workbook.values(SHEET, `${letter}${r}`)[0]?.[0]);
}

describe('Prepare: detect and apply on a legacy sheet', () => {
  it('detects the header under the title row and maps every column with confidence', async () => {
    const { workflows, fake } = await setUp('1.18');
    const setup = await workflows.detect();
    expect(setup.sheetName).toBe(SHEET);
    expect(setup.headerRow).toBe(TRUTH.headerRow);
    expect(setup.dataRows).toBe(50);
    const mapped = Object.fromEntries(setup.columns.map((c) => [c.header, c.field]));
    expect(mapped).toEqual(TRUTH.mapping);
    for (const c of setup.columns) expect(c.confidence).toBeGreaterThan(0.5);
    expect(fake.syncCount()).toBe(1);
  });

  it('makes a table with validation, formats and result columns, and marks invalid cells with notes (ExcelApi 1.18) — sending nothing', async () => {
    const { workflows, fake } = await setUp('1.18');
    const setup = await workflows.detect();
    const result = await workflows.apply(setup);

    expect(result).toMatchObject({ invalidRows: invalidRows.length, tableCreated: true });
    expect(result.invalidCells).toBe(invalidRows.length);
    expect(fake.workbook.tables()).toEqual([{ name: 'Table1', sheet: SHEET, address: 'A2:S52' }]);
    expect(fake.workbook.values(SHEET, 'O2:S2')).toEqual([
      ['报备编号', '状态', '保护截止', '冲突说明', '提示'],
    ]);
    expect(fake.workbook.cell(SHEET, 'O2').bold).toBe(true);

    expect(fake.workbook.cell(SHEET, 'B3').validation?.rule).toEqual({
      list: { inCellDropDown: true, source: '企业,个人,其他' },
    });
    expect(fake.workbook.cell(SHEET, 'K52').validation?.rule).toMatchObject({
      date: { operator: 'Between' },
    });
    expect(fake.workbook.cell(SHEET, 'F3').validation?.rule).toHaveProperty('custom');
    expect(fake.workbook.cell(SHEET, 'C3').validation?.rule).toHaveProperty('custom');
    expect(fake.workbook.numberFormats(SHEET, 'J3:K3')).toEqual([['#,##0', 'yyyy-mm-dd']]);
    expect(fake.workbook.numberFormats(SHEET, 'N52')).toEqual([['yyyy-mm-dd']]);
    expect(fake.workbook.numberFormats(SHEET, 'O3:S3')).toEqual([['@', '@', '@', '@', '@']]);

    const expectedNotes = TRUTH.rows.flatMap((r) =>
      r.invalidFields.map((f) => `${FIELD_COLUMN[f] as string}${r.row}`),
    );
    const notes = fake.workbook.notes(SHEET);
    expect(notes.map((n) => n.address).sort()).toEqual(expectedNotes.sort());
    for (const n of notes) expect(n.content.startsWith(NOTE_MARKER)).toBe(true);
    for (const cell of expectedNotes) expect(fake.workbook.cell(SHEET, cell).fill).toBe(INVALID_CELL);
    expect(column(fake, COL.status, invalidRows)).toEqual(invalidRows.map(() => '信息有误'));
    expect(column(fake, COL.status, [3])).toEqual(['']);
    expect(fake.workbook.fills(SHEET, 'A4:S4')[0]?.filter((f) => f === VIOLET).length).toBe(18);
    expect(fake.workbook.formulaCells(SHEET)).toEqual([]);
    expect(await storedCount()).toBe(0);
  });

  it('without notes (ExcelApi 1.9) explains invalid cells in 冲突说明 instead', async () => {
    const { workflows, fake } = await setUp('1.9');
    await workflows.apply(await workflows.detect());
    expect(fake.workbook.notes(SHEET)).toEqual([]);
    const row4 = fake.workbook.values(SHEET, `${COL.conflict}4`)[0]?.[0];
    expect(row4).toContain('联系电话：电话号码格式不正确');
    const row23 = fake.workbook.values(SHEET, `${COL.conflict}23`)[0]?.[0];
    expect(row23).toContain('报备时间');
    expect(fake.workbook.cell(SHEET, 'F4').fill).toBe(INVALID_CELL);
  });

  it('leaves an existing table alone and finds its own result columns again', async () => {
    const { workflows, fake } = await setUp('1.18');
    const setup = await workflows.detect();
    await workflows.apply(setup);
    const again = await workflows.detect();
    expect(again.columns.filter((c) => c.field === null).map((c) => c.header)).toEqual([
      '报备编号',
      '状态',
      '保护截止',
      '冲突说明',
      '提示',
    ]);
    const second = await workflows.apply(again);
    expect(second.tableCreated).toBeNull();
    expect(fake.workbook.tables()).toHaveLength(1);
    expect(fake.workbook.values(SHEET, 'T2')).toEqual([['']]);
    expect(fake.workbook.notes(SHEET)).toHaveLength(invalidRows.length);
  });

  it("keeps people's notes and replaces only its own when a cell is fixed", async () => {
    const { workflows, fake } = await setUp('1.18');
    fake.workbook.addNote(SHEET, 'F4', '客户只留了座机');
    fake.workbook.addNote(SHEET, 'A5', '老客户');
    const setup = await workflows.detect();
    await workflows.apply(setup);
    const f4 = fake.workbook.notes(SHEET).find((n) => n.address === 'F4');
    expect(f4?.content.startsWith('客户只留了座机\n\n' + NOTE_MARKER)).toBe(true);

    fake.workbook.setValues(SHEET, 'F4', [['021-12345678']]);
    fake.workbook.setValues(SHEET, 'F18', [['13812345678']]);
    await workflows.check(setup);
    const notes = fake.workbook.notes(SHEET);
    expect(notes.find((n) => n.address === 'F4')?.content).toBe('客户只留了座机');
    expect(notes.find((n) => n.address === 'F18')).toBeUndefined();
    expect(notes.find((n) => n.address === 'A5')?.content).toBe('老客户');
  });
});

describe('Check, submit, refresh', () => {
  it('check writes the results back and saves nothing', async () => {
    const { workflows, fake, progress } = await setUp('1.18');
    const setup = await workflows.detect();
    const summary = await workflows.check(setup);

    expect(summary).toMatchObject({ rows: 50, invalidBeforeSend: invalidRows.length, skipped: 0 });
    expect(summary.byStatus.invalid).toBe(invalidRows.length);
    expect(await storedCount()).toBe(0);
    const rows = Array.from({ length: 50 }, (_, i) => i + 3);
    expect(column(fake, COL.no, rows).every((v) => v === '')).toBe(true);
    const statuses = column(fake, COL.status, rows);
    expect(new Set(statuses)).toEqual(new Set(['待审核', '冲突', '信息有误']));
    const conflicts = rows.filter((_, i) => statuses[i] === '冲突');
    expect(conflicts.length).toBe(summary.byStatus.conflict);
    expect(conflicts.length).toBeGreaterThanOrEqual(4);
    for (const row of conflicts) {
      expect(fake.workbook.cell(SHEET, `A${row}`).fill).toBe(RED);
      // Nothing was saved: a clash with an earlier row names that row, not a number.
      expect(fake.workbook.values(SHEET, `${COL.conflict}${row}`)[0]?.[0]).toMatch(/^与第 \d+ 行为同一客户/);
    }
    for (const row of invalidRows) expect(fake.workbook.cell(SHEET, `A${row}`).fill).toBe(VIOLET);
    expect(fake.workbook.values(SHEET, `${COL.status}3`)[0]?.[0]).toBe('待审核');
    expect(fake.workbook.cell(SHEET, 'A3').fill).toBe(PALE);
    expect(progress.some((p) => p.stage === 'sending' && p.done === 50 - invalidRows.length)).toBe(true);
  });

  it('submit writes numbers, status, dates and fills; a second submit sends nothing', async () => {
    const { workflows, fake } = await setUp('1.18');
    const setup = await workflows.detect();
    const summary = await workflows.submit(setup);
    const sent = 50 - invalidRows.length;
    expect(summary.invalidBeforeSend).toBe(invalidRows.length);
    expect(await storedCount()).toBe(sent);

    const saved = Array.from({ length: 50 }, (_, i) => i + 3).filter((r) => !invalidRows.includes(r));
    const numbers = column(fake, COL.no, saved) as string[];
    for (const no of numbers) expect(no).toMatch(/^BB-2026-\d{6}$/);
    expect(new Set(numbers).size).toBe(saved.length);
    for (const row of saved) {
      const status = fake.workbook.values(SHEET, `${COL.status}${row}`)[0]?.[0];
      expect(['待审核', '冲突']).toContain(status);
      expect(fake.workbook.cell(SHEET, `A${row}`).fill).toBe(status === '冲突' ? RED : PALE);
    }
    const conflictRow = saved.find(
      (r) => fake.workbook.values(SHEET, `${COL.status}${r}`)[0]?.[0] === '冲突',
    );
    expect(fake.workbook.values(SHEET, `${COL.conflict}${conflictRow}`)[0]?.[0]).toMatch(
      /^与第 \d+ 行（BB-2026-\d{6}）为同一客户/,
    );
    expect(fake.workbook.formulaCells(SHEET)).toEqual([]);

    const again = await workflows.submit(setup);
    expect(again).toMatchObject({ rows: invalidRows.length, skipped: sent });
    expect(await storedCount()).toBe(sent);
  });

  it('a retried submission replays under the same Idempotency-Key and registers nothing twice', async () => {
    let dropped = false;
    const keys: string[] = [];
    const flaky = async (input: string, init?: RequestInit) => {
      const res = await fetch(input, init);
      const key = new Headers(init?.headers).get('idempotency-key');
      if (key !== null) keys.push(key);
      // The service saved the rows, but the answer never reaches the task pane.
      if (key !== null && !dropped) {
        dropped = true;
        throw new TypeError('network connection lost');
      }
      return res;
    };
    const fake = createFakeOffice({
      apiVersion: '1.18',
      sheets: [{ name: SHEET, values: await sampleValues() }],
    });
    const workflows = createWorkflows({
      excel: gatewayFor(fake),
      api: createApiClient({ baseUrl: svc.url, token: svc.adminToken, fetch: flaky }),
      now: () => svc.now(),
    });
    const setup = await workflows.detect();
    await expect(workflows.submit(setup)).rejects.toMatchObject({ code: 'network.unreachable' });
    const sent = 50 - invalidRows.length;
    expect(await storedCount()).toBe(sent);
    expect(column(fake, COL.no, [3])).toEqual(['']);

    const summary = await workflows.submit(setup);
    expect(summary.rows).toBe(50);
    expect(keys).toHaveLength(2);
    expect(keys[0]).toBe(keys[1]);
    expect(keys[0]).toMatch(/:0$/);
    expect(await storedCount()).toBe(sent);
    expect(column(fake, COL.no, [3])[0]).toMatch(/^BB-2026-/);
  });

  it('submits in requests of 1,000 rows, one derived key per request', async () => {
    const seen: { key: string | null; rows: number }[] = [];
    const counting = async (input: string, init?: RequestInit) => {
      if (input.endsWith('/api/registrations') && init?.method === 'POST') {
        seen.push({
          key: new Headers(init.headers).get('idempotency-key'),
          rows: (JSON.parse(String(init.body)) as { rows: unknown[] }).rows.length,
        });
      }
      return await fetch(input, init);
    };
    const client = createApiClient({ baseUrl: svc.url, token: svc.adminToken, fetch: counting });
    const rows = Array.from({ length: 2_300 }, (_, i) => enterpriseRow(i, { clientRowId: i }));
    const results = await client.submit(rows, 'batch-7');
    expect(results).toHaveLength(2_300);
    expect(seen).toEqual([
      { key: 'batch-7:0', rows: 1000 },
      { key: 'batch-7:1', rows: 1000 },
      { key: 'batch-7:2', rows: 300 },
    ]);
    const replay = await client.submit(rows, 'batch-7');
    expect(replay.map((r) => r.registrationNo)).toEqual(results.map((r) => r.registrationNo));
    expect(await storedCount()).toBe(2_300);
  });

  it('refresh shows 保护中 and the protection end after a reviewer approves', async () => {
    const { workflows, fake } = await setUp('1.18');
    const setup = await workflows.detect();
    await workflows.submit(setup);
    const no = fake.workbook.values(SHEET, `${COL.no}3`)[0]?.[0] as string;
    const decided = await api(reviewerToken).review(no, { decision: 'approve', reason: '资料齐全' });
    expect(decided.status).toBe('protected');
    const other = fake.workbook.values(SHEET, `${COL.no}5`)[0]?.[0] as string;
    await api(reviewerToken).review(other, { decision: 'reject', reason: '联系人信息不实' });

    const summary = await workflows.refresh(setup);
    expect(summary.rows).toBe(50 - invalidRows.length);
    expect(summary.byStatus.protected).toBe(1);
    expect(fake.workbook.values(SHEET, `${COL.status}3:${COL.until}3`)).toEqual([
      ['保护中', decided.protectedUntil],
    ]);
    expect(decided.protectedUntil).toBe('2027-02-22');
    expect(fake.workbook.cell(SHEET, 'A3').fill).toBe(GREEN);
    expect(fake.workbook.cell(SHEET, `${COL.until}3`).formula).toBe(false);
    expect(fake.workbook.values(SHEET, `${COL.conflict}3`)[0]?.[0]).toBe('');
    expect(summary.byStatus.rejected).toBe(1);
    expect(fake.workbook.values(SHEET, `${COL.status}5`)).toEqual([['驳回']]);
    // A reviewer's reason is advice, not a clash: 提示, with 冲突说明 left empty.
    expect(fake.workbook.values(SHEET, `${COL.conflict}5:${COL.hint}5`)).toEqual([
      ['', '处理意见：联系人信息不实'],
    ]);
    expect(fake.workbook.cell(SHEET, 'A5').fill).toBe(GREY);
  });

  /** The sample's rows 3…52, A…N: what a person moves around. */
  function dataBlock(fake: FakeOffice): (string | number | boolean)[][] {
    return fake.workbook.values(SHEET, 'A3:N52');
  }

  /** A workflow whose service calls let `meanwhile` change the sheet while the request is on the wire. */
  function withMeanwhile(fake: FakeOffice, path: string, meanwhile: () => void): Workflows {
    const hooked = async (input: string, init?: RequestInit) => {
      const res = await fetch(input, init);
      if (input.includes(path)) meanwhile();
      return res;
    };
    return createWorkflows({
      excel: gatewayFor(fake),
      api: createApiClient({ baseUrl: svc.url, token: svc.adminToken, fetch: hooked }),
      now: () => svc.now(),
    });
  }

  it('puts every result on its row when rows are sorted and a row inserted while submit is on the wire', async () => {
    const fake = createFakeOffice({
      apiVersion: '1.18',
      sheets: [{ name: SHEET, values: await sampleValues() }],
    });
    const original = dataBlock(fake);
    const workflows = withMeanwhile(fake, '/api/registrations', () => {
      // Sorted backwards, and a blank row inserted above the data.
      fake.workbook.setValues(SHEET, 'A3:N3', [Array.from({ length: 14 }, () => '')]);
      fake.workbook.setValues(SHEET, 'A4:N53', [...original].reverse());
    });
    const summary = await workflows.submit(await workflows.detect());
    expect(summary.lostRows).toEqual([]);
    // Read back: every registration's customer is the customer on the row that shows its number.
    const numbered = fake.workbook
      .values(SHEET, `A4:${COL.no}53`)
      .filter((row) => typeof row[14] === 'string' && (row[14] as string).startsWith('BB-'));
    expect(numbered.length).toBe(50 - invalidRows.length);
    for (const row of numbered) {
      const stored = await api().getRegistration(row[14] as string);
      expect(companyKey(stored.registration.customerName)).toBe(companyKey(String(row[0])));
    }
    expect(fake.workbook.values(SHEET, `${COL.no}3:${COL.status}3`)).toEqual([['', '']]);
  });

  it('refresh follows rows sorted while it fetches; edited rows are reported, not overwritten', async () => {
    const { workflows, fake } = await setUp('1.18');
    const setup = await workflows.detect();
    await workflows.submit(setup);
    const no3 = fake.workbook.values(SHEET, `${COL.no}3`)[0]?.[0] as string;
    await api(reviewerToken).review(no3, { decision: 'approve', reason: '资料齐全' });
    const before = fake.workbook.values(SHEET, `A3:${COL.hint}52`);
    const sorting = withMeanwhile(fake, '/api/registrations', () => {
      fake.workbook.setValues(SHEET, `A3:${COL.hint}52`, [...before].reverse());
    });
    const summary = await sorting.refresh(setup);
    expect(summary.lostRows).toEqual([]);
    // Row 3 moved to row 52 and is the one shown protected; nothing else is.
    expect(fake.workbook.values(SHEET, `${COL.no}52:${COL.status}52`)).toEqual([[no3, '保护中']]);
    expect(fake.workbook.cell(SHEET, 'A52').fill).toBe(GREEN);
    expect(fake.workbook.values(SHEET, `${COL.status}3`)[0]?.[0]).not.toBe('保护中');

    const editing = withMeanwhile(fake, '/api/check', () => {
      fake.workbook.setValues(SHEET, 'A3:A4', [['x公司'], ['y公司']]);
    });
    fake.workbook.setValues(
      SHEET,
      `${COL.no}3:${COL.hint}52`,
      Array.from({ length: 50 }, () => ['', '', '', '', '']),
    );
    const checked = await editing.check(setup);
    expect(checked.lostRows.length).toBeGreaterThan(0);
    expect(checked.lostRows.every((r) => r === 3 || r === 4)).toBe(true);
    expect(fake.workbook.values(SHEET, `${COL.status}3:${COL.status}4`)).toEqual([[''], ['']]);
  });
});

describe('Review sheet', () => {
  it('lists pending and competing registrations ranked; posting decisions and rebuilding', async () => {
    const { workflows } = await setUp('1.18');
    await workflows.submit(await workflows.detect());

    const fake = createFakeOffice({ apiVersion: '1.18', sheets: [{ name: 'Sheet1' }] });
    const reviewer = createWorkflows({
      excel: gatewayFor(fake),
      api: api(reviewerToken),
      now: () => svc.now(),
    });
    const built = await reviewer.buildReviewSheet();
    expect(built.rows).toBe(50 - invalidRows.length);
    expect(fake.workbook.activeSheetName()).toBe(REVIEW_SHEET_NAME);
    const header = fake.workbook.values(REVIEW_SHEET_NAME, 'A1:R1')[0] as string[];
    expect(header).toEqual(
      expect.arrayContaining(['排名', '报备编号', '报备人', '排序依据', '决定', '处理意见', '共享对象']),
    );
    expect(fake.workbook.frozenRows(REVIEW_SHEET_NAME)).toBe(1);
    await expect(reviewer.detect()).rejects.toMatchObject({ code: 'sheet.is_review' });
    const at = (name: string) => String.fromCharCode(65 + header.indexOf(name));
    const decisionCol = at('决定');
    expect(fake.workbook.cell(REVIEW_SHEET_NAME, `${decisionCol}2`).validation?.rule).toEqual({
      list: { inCellDropDown: true, source: '通过,驳回,共享' },
    });

    const grid = fake.workbook.values(REVIEW_SHEET_NAME, `A1:R${built.rows + 1}`);
    const groupOf = (row: (string | number | boolean)[]) => row[header.indexOf('组')];
    const contested = grid
      .slice(1)
      .filter((r) => grid.slice(1).filter((o) => groupOf(o) === groupOf(r)).length > 1);
    expect(contested.length).toBeGreaterThanOrEqual(2);
    const first = contested.find((r) => r[header.indexOf('排名')] === 1)!;
    const rowNo = (r: (string | number | boolean)[]) => grid.indexOf(r) + 1;
    const noCol = header.indexOf('报备编号');
    const single = grid.slice(1).find((r) => !contested.includes(r))!;
    const unreasoned = grid.slice(1).find((r) => r !== single && !contested.includes(r))!;

    fake.workbook.setValues(REVIEW_SHEET_NAME, `${decisionCol}${rowNo(first)}`, [
      ['通过', '先报备，资料齐全'],
    ]);
    fake.workbook.setValues(REVIEW_SHEET_NAME, `${decisionCol}${rowNo(single)}`, [['驳回', '信息不实']]);
    fake.workbook.setValues(REVIEW_SHEET_NAME, `${decisionCol}${rowNo(unreasoned)}`, [['通过']]);

    const applied = await reviewer.applyReviewDecisions();
    expect(applied.decided).toBe(2);
    expect(applied.errors).toEqual([
      { row: rowNo(unreasoned), message: `第 ${rowNo(unreasoned)} 行请填写处理意见` },
    ]);
    expect((await api().getRegistration(String(first[noCol]))).status).toBe('protected');
    expect((await api().getRegistration(String(single[noCol]))).status).toBe('rejected');

    const rebuilt = fake.workbook.values(REVIEW_SHEET_NAME, 'A1:R200');
    const listed = rebuilt.map((r) => r[noCol]);
    expect(listed).not.toContain(first[noCol]);
    expect(listed).not.toContain(single[noCol]);
    const kept = rebuilt.findIndex((r) => r[noCol] === unreasoned[noCol]);
    expect(rebuilt[kept]?.[header.indexOf('决定')]).toBe('通过');
    expect(rebuilt[kept]?.[header.indexOf('处理结果')]).toContain('请填写处理意见');
    expect(fake.workbook.cell(REVIEW_SHEET_NAME, `A${kept + 1}`).fill).toBe(RED);
    expect(fake.workbook.formulaCells(REVIEW_SHEET_NAME)).toEqual([]);
  });

  it('asks for the review sheet first when there is none', async () => {
    const fake = createFakeOffice({ sheets: [{ name: 'Sheet1' }] });
    const reviewer = createWorkflows({ excel: gatewayFor(fake), api: api(reviewerToken) });
    await expect(reviewer.applyReviewDecisions()).rejects.toMatchObject({ code: 'review.sheet_missing' });
  });
});

describe('API client errors say what to do next', () => {
  it('a bad token: reconnect', async () => {
    const error = (await createApiClient({ baseUrl: svc.url, token: 'bb_wrong' })
      .policy()
      .catch((e: unknown) => e)) as ApiError;
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 401, code: 'auth.invalid' });
    expect(error.message).toContain('重新输入服务地址和访问令牌');
    expect(error.messageEn).toContain('Reconnect');
  });

  it('an unreachable service: check the service URL', async () => {
    const error = (await createApiClient({ baseUrl: 'http://127.0.0.1:9', token: 't' })
      .health()
      .catch((e: unknown) => e)) as ApiError;
    expect(error).toMatchObject({ status: 0, code: 'network.unreachable' });
    expect(error.message).toContain('请检查服务地址');
  });

  it('a sales user reading the review queue: ask an administrator', async () => {
    const sales = await svc.user('王磊', 'sales', '华东一部');
    const error = (await api(sales)
      .reviewQueue()
      .catch((e: unknown) => e)) as ApiError;
    expect(error).toMatchObject({ status: 403, code: 'auth.forbidden' });
    expect(error.message).toContain('联系管理员');
  });

  it('refuses to send the token to another host', async () => {
    await expect(
      api().downloadAnnotated('https://evil.example/api/imports/x/annotated.xlsx'),
    ).rejects.toMatchObject({
      code: 'request.invalid',
    });
  });

  it('uploads a legacy file and downloads the annotated workbook', async () => {
    const bytes = await readFile(path.join(SAMPLES_DIR, 'v1-title-row.xlsx'));
    const report = await api().uploadImport(new Blob([bytes]), '客户报备 v1.xlsx', {
      mode: 'submit',
      dryRun: true,
    });
    expect(report).toMatchObject({ file: '客户报备 v1.xlsx', dryRun: true, headerRow: 2 });
    expect(report.summary.rows).toBe(50);
    const annotated = await api().downloadAnnotated(report.annotatedUrl);
    expect(annotated.size).toBeGreaterThan(1000);
    expect(await storedCount()).toBe(0);
  });
});

describe('Too large a file', () => {
  let small: TestService;
  beforeEach(async () => {
    small = await startTestService({ env: { BAOBEI_UPLOAD_LIMIT_MB: '0.01' } });
  });
  afterEach(async () => {
    await small.close();
  });

  it('413: use a smaller file', async () => {
    const bytes = await readFile(path.join(SAMPLES_DIR, 'v1-title-row.xlsx'));
    const client = createApiClient({ baseUrl: small.url, token: small.adminToken });
    const error = (await client
      .uploadImport(new Blob([bytes]), 'v1.xlsx', { mode: 'submit', dryRun: true })
      .catch((e: unknown) => e)) as ApiError;
    expect(error).toMatchObject({ status: 413, code: 'upload.too_large' });
    expect(error.message).toContain('请换用较小的文件');
  });
});

describe('workflows without a header', () => {
  it('says to open the registration sheet', async () => {
    const fake = createFakeOffice({ sheets: [{ name: '杂项', values: [['hello'], ['world']] }] });
    const workflows: Workflows = createWorkflows({ excel: gatewayFor(fake), api: api() });
    await expect(workflows.detect()).rejects.toMatchObject({ code: 'sheet.no_header' });
  });
});

describe('rows that are no registration (example, total, note, repeated header)', () => {
  const header = ['序号', '客户名称', '客户类型', '统一社会信用代码', '联系人', '手机', '客户来源'];
  const customer = (n: number): FakeCell[] => [
    String(n),
    companyNameFor(n),
    '企业',
    creditCodeFor(n),
    '王芳',
    phoneFor(n),
    '展会',
  ];
  const hint = (fake: FakeOffice, row: number) => fake.workbook.values(SHEET, `L${row}`)[0]?.[0];
  const results = (fake: FakeOffice, row: number) => fake.workbook.values(SHEET, `H${row}:K${row}`)[0];

  it('writes on each such row, in 提示, why it was not registered; leaves it on a second submit and drops it once the row is a customer', async () => {
    const fake = createFakeOffice({
      apiVersion: '1.18',
      sheets: [
        {
          name: SHEET,
          values: [
            ['客户报备登记表'],
            header,
            ['示例', '上海某某科技有限公司', '企业', creditCodeFor(2), '张三', '13800000000', '展会'],
            customer(1),
            ['合计', '1 家'],
            ['注：本表由销售部填写。'],
            header,
          ],
        },
      ],
    });
    const workflows = createWorkflows({ excel: gatewayFor(fake), api: api(), now: () => svc.now() });
    const setup = await workflows.detect();
    const summary = await workflows.submit(setup);
    expect(summary).toMatchObject({ rows: 1, notRegistered: 4 });
    expect(await storedCount()).toBe(1);
    expect(fake.workbook.values(SHEET, 'H2:L2')[0]).toEqual([
      '报备编号',
      '状态',
      '保护截止',
      '冲突说明',
      '提示',
    ]);
    expect(hint(fake, 3)).toBe('填写示例，未登记 / Example row, not registered');
    expect(hint(fake, 5)).toBe('合计行，未登记 / Total row, not registered');
    expect(hint(fake, 6)).toBe('说明文字，未登记 / Note, not registered');
    expect(hint(fake, 7)).toBe('重复的表头，未登记 / Repeated header, not registered');
    // No number, no status, no fill on them; the customer's row has its own.
    for (const row of [3, 5, 6, 7]) {
      expect(results(fake, row)?.every((v) => v === '' || v === null)).toBe(true);
      expect(fake.workbook.cell(SHEET, `A${row}`).fill).toBeNull();
    }
    expect(fake.workbook.values(SHEET, 'I4')[0]?.[0]).toBe('待审核');
    expect(fake.workbook.cell(SHEET, 'A4').fill).toBe(PALE);

    // A second submit finds its own texts and leaves them: the rows are still no registration.
    const again = await workflows.submit(setup);
    expect(again).toMatchObject({ rows: 0, skipped: 1, notRegistered: 4 });
    expect(await storedCount()).toBe(1);
    expect([3, 5, 6, 7].map((row) => hint(fake, row))).toEqual([
      '填写示例，未登记 / Example row, not registered',
      '合计行，未登记 / Total row, not registered',
      '说明文字，未登记 / Note, not registered',
      '重复的表头，未登记 / Repeated header, not registered',
    ]);

    // The example row becomes a real customer, the note is deleted: the texts go.
    fake.workbook.setValues(SHEET, 'A3:G3', [customer(2)]);
    fake.workbook.setValues(SHEET, 'A6', [['']]);
    const third = await workflows.submit(setup);
    expect(third).toMatchObject({ rows: 1, notRegistered: 2 });
    expect(await storedCount()).toBe(2);
    expect(fake.workbook.values(SHEET, 'H3')[0]?.[0]).toMatch(/^BB-2026-\d{6}$/);
    expect(hint(fake, 3)).not.toContain('未登记');
    expect(hint(fake, 6) ?? '').toBe('');
  });

  it('the result headers follow the header when a row is inserted above it while submit is on the wire', async () => {
    // A first run makes the result columns: their headers go on the header row as it is at the write,
    // not on the row it was read from (then the title row), or the next run would add a second set.
    const fake = createFakeOffice({ apiVersion: '1.18', sheets: [{ name: SHEET, values: mixed() }] });
    const all = mixed();
    const above = changingMeanwhile(fake, '/api/registrations', () => {
      fake.workbook.setValues(SHEET, 'A1:G8', [blank(), ...all.map((r) => [...r, ...blank()].slice(0, 7))]);
    });
    const first = await above.submit(await above.detect());
    expect(first).toMatchObject({ rows: 1, lostRows: [] });
    // Row 3 is the header now; rows 1–2 (a blank row and the title) hold no result header.
    expect(fake.workbook.values(SHEET, 'H3:L3')[0]).toEqual([
      '报备编号',
      '状态',
      '保护截止',
      '冲突说明',
      '提示',
    ]);
    expect(
      fake.workbook
        .values(SHEET, 'H1:L2')
        .flat()
        .filter((v) => v !== '' && v !== null),
    ).toEqual([]);
    expect(fake.workbook.values(SHEET, 'H5')[0]?.[0]).toMatch(/^BB-2026-\d{6}$/);
    // The next run finds its result columns where they are and makes no second set.
    const next = await above.submit(await above.detect());
    expect(next).toMatchObject({ rows: 0 });
    const beyond = fake.workbook.values(SHEET, 'M1:T9').flat();
    expect(beyond.filter((v) => v !== '' && v !== null && v !== undefined)).toEqual([]);
  });

  /** Workflows whose `path` call lets `meanwhile` change the sheet while the request is on the wire. */
  function changingMeanwhile(fake: FakeOffice, path: string, meanwhile: () => void): Workflows {
    let done = false;
    const hooked = async (input: string, init?: RequestInit) => {
      const res = await fetch(input, init);
      if (!done && input.includes(path)) {
        done = true;
        meanwhile();
      }
      return res;
    };
    return createWorkflows({
      excel: gatewayFor(fake),
      api: createApiClient({ baseUrl: svc.url, token: svc.adminToken, fetch: hooked }),
      now: () => svc.now(),
    });
  }

  const mixed = (): FakeCell[][] => [
    ['客户报备登记表'],
    header,
    ['', '上海某公司', '企业', creditCodeFor(2), '张三', '13800000000', '展会'],
    customer(1),
    ['合计', '1 家'],
    ['注：本表由销售部填写。'],
    header,
  ];
  const blank = (): FakeCell[] => Array.from({ length: 7 }, () => '');

  it('the 提示 texts follow their rows when a row is inserted above them while submit is on the wire', async () => {
    const fake = createFakeOffice({ apiVersion: '1.18', sheets: [{ name: SHEET, values: mixed() }] });
    const rows = mixed().slice(2);
    const workflows = changingMeanwhile(fake, '/api/registrations', () => {
      // A row inserted at row 3: everything under the header one row down.
      fake.workbook.setValues(SHEET, 'A3:G8', [blank(), ...rows.map((r) => [...r, ...blank()].slice(0, 7))]);
    });
    const summary = await workflows.submit(await workflows.detect());
    expect(summary).toMatchObject({ rows: 1, notRegistered: 4, lostRows: [], hintsLeft: 0 });
    expect(fake.workbook.values(SHEET, 'H5')[0]?.[0]).toMatch(/^BB-2026-\d{6}$/);
    expect([3, 4, 5, 6, 7, 8].map((row) => hint(fake, row) ?? '')).toEqual([
      '',
      '填写示例，未登记 / Example row, not registered',
      '',
      '合计行，未登记 / Total row, not registered',
      '说明文字，未登记 / Note, not registered',
      '重复的表头，未登记 / Repeated header, not registered',
    ]);
  });

  it('the 提示 texts follow their rows when a row above them is deleted, and none lands on a moved header', async () => {
    const fake = createFakeOffice({ apiVersion: '1.18', sheets: [{ name: SHEET, values: mixed() }] });
    const rows = mixed().slice(2);
    const deleting = changingMeanwhile(fake, '/api/registrations', () => {
      // The example row deleted: the rows under it one row up.
      fake.workbook.setValues(SHEET, 'A3:G7', [
        ...rows.slice(1).map((r) => [...r, ...blank()].slice(0, 7)),
        blank(),
      ]);
    });
    const setup = await deleting.detect();
    const summary = await deleting.submit(setup);
    // The deleted example row's text had no row to go to: not written, and the pane says so (the
    // next run plans the texts from the sheet as it is then).
    expect(summary).toMatchObject({ rows: 1, notRegistered: 4, lostRows: [], hintsLeft: 1 });
    expect(fake.workbook.values(SHEET, 'H3')[0]?.[0]).toMatch(/^BB-2026-\d{6}$/);
    expect([3, 4, 5, 6, 7].map((row) => hint(fake, row) ?? '')).toEqual([
      '',
      '合计行，未登记 / Total row, not registered',
      '说明文字，未登记 / Note, not registered',
      '重复的表头，未登记 / Repeated header, not registered',
      '',
    ]);

    // A row inserted above the header: the texts wait for the next run rather than land on the header.
    const moved = createFakeOffice({ apiVersion: '1.18', sheets: [{ name: SHEET, values: mixed() }] });
    const all = mixed();
    const above = changingMeanwhile(moved, '/api/registrations', () => {
      moved.workbook.setValues(SHEET, 'A1:G8', [blank(), ...all.map((r) => [...r, ...blank()].slice(0, 7))]);
    });
    const left = await above.submit(await above.detect());
    const hints = moved.workbook.values(SHEET, 'L1:L8').map((r) => r[0] ?? '');
    expect(hints.filter((h) => typeof h === 'string' && h.includes('未登记'))).toEqual([]);
    // The pane is told: all four texts were left for the next run, which writes them.
    expect(left).toMatchObject({ notRegistered: 4, hintsLeft: 4 });
    const next = await above.submit(await above.detect());
    expect(next).toMatchObject({ notRegistered: 4, hintsLeft: 0 });
    expect(
      moved.workbook
        .values(SHEET, 'A1:T9')
        .flat()
        .filter((h) => typeof h === 'string' && h.includes('未登记')),
    ).toHaveLength(4);
  });
});
