/**
 * core's sheet plans without Excel (core/sheetGrid, sheetWrite, sheetNotes, sheetSetup, sheetLayout,
 * sheetRows, sheetResults, sheetPrepare, reviewSheetPlan; once one file, core/sheetPlan.ts):
 * addresses, the request budget and the getRanges limit, notes that keep people's text, validation
 * formulas within Excel's limit, the layout from a user's mapping, what is written back, and the
 * review sheet's decisions.
 */
import { describe, expect, it } from 'vitest';
import { FILLS } from '../../core/annotation.js';
import { DEFAULT_POLICY } from '../../core/policy.js';
import { problem } from '../../core/problem.js';
import { planReviewSheet, readReviewDecisions } from '../../core/reviewSheetPlan.js';
import {
  cellAddress,
  columnLetters,
  parseCellAddress,
  rangeAddress,
  type SheetCell,
} from '../../core/sheetGrid.js';
import { planLayout, planSkippedRowHints } from '../../core/sheetLayout.js';
import { NOTE_MARKER, planNoteChanges } from '../../core/sheetNotes.js';
import { MAX_VALIDATION_FORMULA, validationFor } from '../../core/sheetPrepare.js';
import { outcomeOfLocalErrors, outcomeOfResult, planResults } from '../../core/sheetResults.js';
import { readRows } from '../../core/sheetRows.js';
import { describeSheet, resultColumnOfHeader, type SheetSetup } from '../../core/sheetSetup.js';
import {
  batchOps,
  chunkAddresses,
  estimateOpBytes,
  MAX_ADDRESS_CHARS,
  utf8Length,
  WRITE_BUDGET_BYTES,
  type SheetOp,
} from '../../core/sheetWrite.js';
import type { Field, RowResult } from '../../core/schema.js';
import { parseRow } from '../../core/row.js';
import { relocateOutcomes } from '../../core/rowIdentity.js';
import { creditCodeFor } from '../support/customers.js';

const HEADER = ['客户名称', '客户类型', '统一社会信用代码', '联系电话', '客户来源', '报备人'];

function sheet(rows: SheetCell[][]): SheetCell[][] {
  return [['客户报备登记表'], [...HEADER], ...rows];
}

function setupOf(grid: SheetCell[][]): SheetSetup {
  const setup = describeSheet('报备', grid);
  if (setup === null) throw new Error('no header');
  return setup;
}

const good: SheetCell[] = ['上海华信科技有限公司', '企业', creditCodeFor(1), '13912345678', '展会', '王磊'];

describe('A1 addresses', () => {
  it('names columns and ranges as Excel does', () => {
    expect([1, 26, 27, 52, 703, 16384].map(columnLetters)).toEqual(['A', 'Z', 'AA', 'AZ', 'AAA', 'XFD']);
    expect(cellAddress(5, 18)).toBe('R5');
    expect(rangeAddress(5, 1, 9, 18)).toBe('A5:R9');
    expect(rangeAddress(5, 3, 5, 3)).toBe('C5');
  });

  it('reads the cell of a note location, sheet-qualified or not', () => {
    expect(parseCellAddress("'客户 表'!$E$5")).toEqual({ row: 5, column: 5 });
    expect(parseCellAddress('报备!AB12')).toEqual({ row: 12, column: 28 });
    expect(parseCellAddress('c3')).toEqual({ row: 3, column: 3 });
    expect(parseCellAddress('A1:B2')).toBeNull();
  });
});

describe('request budget and the getRanges limit', () => {
  it('cuts address lists into strings under 8,192 characters, losing none', () => {
    const addresses = Array.from({ length: 5_000 }, (_, i) => rangeAddress(i * 2 + 3, 1, i * 2 + 3, 18));
    const chunks = chunkAddresses(addresses);
    expect(chunks.length).toBeGreaterThan(5);
    for (const chunk of chunks) expect(chunk.length).toBeLessThanOrEqual(MAX_ADDRESS_CHARS);
    expect(chunks.join(',').split(',')).toEqual(addresses);
  });

  it('counts bytes as UTF-8, as the request travels', () => {
    for (const text of ['abc', '客户名称', 'é', '😀 BB-2026-000001', '']) {
      expect(utf8Length(text)).toBe(new TextEncoder().encode(text).length);
    }
  });

  it('batches operations in order under the budget, splitting a values block too large for one', () => {
    const wide = Array.from({ length: 4_000 }, (_, i) => [`第 ${i} 行：${'说明'.repeat(300)}`]);
    const ops: SheetOp[] = [
      { kind: 'numberFormat', address: 'R3:R4002', format: '@' },
      { kind: 'values', address: 'R3:R4002', values: wide },
      { kind: 'fill', color: '#FFC7CE', addresses: 'A3:R3' },
      { kind: 'table', address: 'A2:R4002' },
    ];
    const batches = batchOps(ops);
    expect(batches.length).toBeGreaterThan(1);
    for (const batch of batches) {
      expect(batch.reduce((n, op) => n + estimateOpBytes(op), 0)).toBeLessThanOrEqual(WRITE_BUDGET_BYTES);
    }
    const flat = batches.flat();
    expect(flat[0]?.kind).toBe('numberFormat');
    expect(flat.at(-1)?.kind).toBe('table');
    const values = flat.filter((op): op is Extract<SheetOp, { kind: 'values' }> => op.kind === 'values');
    expect(values.flatMap((op) => op.values)).toEqual(wide);
    expect(values[0]?.address.startsWith('R3:')).toBe(true);
    expect(values.at(-1)?.address.endsWith(':R4002')).toBe(true);
  });
});

describe('notes', () => {
  const plan = { notes: { F4: '电话号码格式不正确' }, scope: { rows: [4, 5], columns: [1, 6] } };

  it("adds the product's note with its marker, next to a person's note when there is one", () => {
    expect(planNoteChanges([], plan)).toEqual([
      { action: 'add', cell: 'F4', content: `${NOTE_MARKER}\n电话号码格式不正确` },
    ]);
    expect(planNoteChanges([{ address: '报备!$F$4', content: '客户只留了座机' }], plan)).toEqual([
      { action: 'update', cell: 'F4', content: `客户只留了座机\n\n${NOTE_MARKER}\n电话号码格式不正确` },
    ]);
  });

  it("removes its stale notes in scope and keeps people's text and notes outside the scope", () => {
    const existing = [
      { address: 'F4', content: `${NOTE_MARKER}\n电话号码格式不正确` },
      { address: 'A5', content: `老客户\n\n${NOTE_MARKER}\n客户名称不能为空` },
      { address: 'F5', content: `${NOTE_MARKER}\n旧的说明` },
      { address: 'F9', content: `${NOTE_MARKER}\n不在本次范围` },
      { address: 'B4', content: '人写的备注' },
    ];
    expect(planNoteChanges(existing, plan)).toEqual([
      { action: 'update', cell: 'A5', content: '老客户' },
      { action: 'delete', cell: 'F5' },
    ]);
  });

  it("leaves a person's note in scope as it is, down to its last line break, when it holds nothing of ours", () => {
    const existing = [{ address: 'A5', content: '老客户\n下周回访\n' }];
    expect(planNoteChanges(existing, plan).filter((c) => c.cell === 'A5')).toEqual([]);
  });
});

describe('data validation', () => {
  it("keeps every formula within Excel's 255 characters, even at the sheet's far corner", () => {
    for (const field of [
      'contactPhone',
      'creditCode',
      'customerType',
      'expectedSignDate',
      'registeredAt',
    ] as Field[]) {
      const validation = validationFor(field, 'XFD1048575');
      expect(validation).not.toBeNull();
      const formula = validation?.rule.custom?.formula ?? '';
      expect(formula.length).toBeLessThanOrEqual(MAX_VALIDATION_FORMULA);
      if (formula !== '') expect(formula).toContain('XFD1048575');
    }
    expect(validationFor('notes', 'A1')).toBeNull();
  });
});

describe('layout', () => {
  it('recognises result columns by header text in any script and never maps them', () => {
    expect(resultColumnOfHeader('報備編號')).toBe('registrationNo');
    expect(resultColumnOfHeader(' Registration no. ')).toBe('registrationNo');
    expect(resultColumnOfHeader('冲突说明')).toBe('conflict');
    expect(resultColumnOfHeader('客户名称')).toBeNull();
    const grid = sheet([[...good, 'BB-2026-000007', '待审核']]);
    (grid[1] as SheetCell[]).push('报备编号', '状态');
    const setup = setupOf(grid);
    expect(setup.columns.slice(-2).map((c) => c.field)).toEqual([null, null]);
    const layout = planLayout(grid, setup);
    expect(layout.resultColumns).toEqual({
      registrationNo: 7,
      status: 8,
      protectedUntil: 9,
      conflict: 10,
      hint: 11,
    });
    expect(layout.missingResultColumns).toEqual(['protectedUntil', 'conflict', 'hint']);
    expect(resultColumnOfHeader('提示')).toBe('hint');
    expect(layout.rows[0]).toMatchObject({ row: 3, kind: 'data', registrationNo: 'BB-2026-000007' });
  });

  it('appends result columns after the last column holding anything, notes to the right included', () => {
    const grid = sheet([good, [...good.slice(0, 5), '王磊', '', '', '客户另有联系人']]);
    const layout = planLayout(grid, setupOf(grid));
    expect(layout.resultColumns.registrationNo).toBe(10);
    expect(layout.firstColumn).toBe(1);
  });

  it('refuses one field on two columns, and a header that moved since detection', () => {
    const grid = sheet([good]);
    const setup = setupOf(grid);
    const twice = {
      ...setup,
      columns: setup.columns.map((c) => (c.column === 5 ? { ...c, field: 'customerName' as Field } : c)),
    };
    expect(() => planLayout(grid, twice)).toThrow(expect.objectContaining({ code: 'mapping.duplicate' }));
    const shifted = [['客户报备登记表'], [], ...grid.slice(1)];
    expect(() => planLayout(shifted, setup)).toThrow(
      expect.objectContaining({ code: 'sheet.header_changed' }),
    );
  });

  it('parses rows as the service will; without a 报备人 column the signed-in user stands in', () => {
    const grid = [
      ['客户名称', '客户类型', '统一社会信用代码', '客户来源'],
      ['上海华信科技有限公司', '企业', creditCodeFor(1), '展会'],
      [],
      ['合计', '', '', ''],
    ];
    const layout = planLayout(grid, setupOf(grid));
    const rows = readRows(layout, grid, { referenceDate: '2026-11-23', policy: DEFAULT_POLICY });
    expect(rows).toHaveLength(1);
    expect(rows[0]?.errors).toEqual([]);
    expect(rows[0]?.submission).toEqual({
      clientRowId: 2,
      customerName: '上海华信科技有限公司',
      customerType: '企业',
      creditCode: creditCodeFor(1),
      source: '展会',
    });
  });

  it('an error cell (#N/A, #REF!) is invalid and unsent, worded by its address; its field keeps no other error', () => {
    const grid = [
      ['客户名称', '客户类型', '统一社会信用代码', '客户来源'],
      ['上海华信科技有限公司', '企业', creditCodeFor(1), '展会'],
      ['', '企业', creditCodeFor(2), '展会'],
    ];
    const layout = planLayout(grid, setupOf(grid));
    const rows = readRows(
      layout,
      grid,
      { referenceDate: '2026-11-23', policy: DEFAULT_POLICY },
      { errorCells: [{ row: 3, column: 1, value: '#N/A' }] },
    );
    expect(rows.map((r) => r.errors)).toEqual([
      [],
      [
        {
          code: 'cell.error_value',
          message: '单元格 A3 是 Excel 错误值 #N/A（公式出错）：请改正公式或填入内容',
          messageEn:
            'Cell A3 holds the Excel error #N/A (a broken formula): fix the formula or type the value',
          field: 'customerName',
        },
      ],
    ]);
    expect(rows[1]?.submission).not.toHaveProperty('customerName');
  });

  it("leaves a template's example row (填写示例) out of the rows sent and the data count; a near miss is sent", () => {
    const grid = [
      ['序号', '客户名称', '客户类型', '统一社会信用代码', '联系人', '手机', '客户来源'],
      ['示例', '上海华信科技有限公司', '企业', creditCodeFor(1), '王芳', '13912345678', '展会'],
      ['', '上海某某科技有限公司', '企业', creditCodeFor(2), '张三', '13800000000', '展会'],
      ['1', '宁波XXL服饰有限公司', '企业', creditCodeFor(3), '张三', '13800000000', '展会'],
    ];
    const setup = setupOf(grid);
    expect(setup.dataRows).toBe(1);
    const layout = planLayout(grid, setup);
    expect(layout.rows.map((r) => [r.row, r.kind])).toEqual([
      [2, 'example'],
      [3, 'example'],
      [4, 'data'],
    ]);
    const rows = readRows(layout, grid, { referenceDate: '2026-11-23', policy: DEFAULT_POLICY });
    expect(rows.map((r) => r.row)).toEqual([4]);
  });

  it('[R8] reads the mobile column as the phone and the other phone column when the mobile cell is blank', () => {
    const grid = [
      ['客户名称', '客户类型', '统一社会信用代码', '电话', '手机', '客户来源'],
      ['上海华信科技有限公司', '企业', creditCodeFor(1), '021-12345678', '13912345678', '展会'],
      ['杭州云帆网络科技有限公司', '企业', creditCodeFor(2), '0571-8765432', '', '展会'],
      ['南京远航贸易有限公司', '企业', creditCodeFor(3), '025-5556666', '无', '展会'],
    ];
    const setup = setupOf(grid);
    expect(setup.columns.map((c) => c.field)).toEqual([
      'customerName',
      'customerType',
      'creditCode',
      null,
      'contactPhone',
      'source',
    ]);
    const layout = planLayout(grid, setup);
    expect(layout.phoneFallbackColumn).toBe(4);
    const rows = readRows(layout, grid, { referenceDate: '2026-11-23', policy: DEFAULT_POLICY });
    expect(rows.map((r) => r.submission.contactPhone)).toEqual([
      '13912345678',
      '0571-8765432',
      '025-5556666',
    ]);
    expect(rows.map((r) => r.errors)).toEqual([[], [], []]);
  });

  it('[R8] notes a bad phone on the cell it was read from: the other phone column when the mobile cell is blank', () => {
    const grid = [
      ['客户名称', '客户类型', '统一社会信用代码', '电话', '手机', '客户来源'],
      // Read from 电话 (手机 blank or a placeholder): the note goes on 电话, the number to correct.
      ['上海华信科技有限公司', '企业', creditCodeFor(1), '12345', null, '展会'],
      ['杭州云帆网络科技有限公司', '企业', creditCodeFor(2), '0571-123', '无', '展会'],
      // Read from 手机.
      ['南京远航贸易有限公司', '企业', creditCodeFor(3), '025-5556666', '123', '展会'],
      // Nothing in either: the note goes on 手机, the column to fill in.
      ['朱勇', '个人', null, null, null, '展会'],
    ];
    const layout = planLayout(grid, setupOf(grid));
    const rows = readRows(layout, grid, { referenceDate: '2026-11-23', policy: DEFAULT_POLICY });
    expect(rows.map((r) => r.errors.map((e) => [e.code, e.field]))).toEqual([
      [['phone.invalid', 'contactPhone']],
      [['phone.invalid', 'contactPhone']],
      [['phone.invalid', 'contactPhone']],
      [['field.required', 'contactPhone']],
    ]);
    const outcomes = rows.map(outcomeOfLocalErrors);
    const write = planResults(layout, outcomes, { notes: true });
    expect(Object.keys(write.notes?.notes ?? {})).toEqual(['D2', 'D3', 'E4', 'E5']);
    // Stale notes of earlier runs on 电话 are in the write's scope too.
    expect(write.notes?.scope.columns).toContain(4);
    const marked = write.ops.find(
      (op): op is Extract<SheetOp, { kind: 'fill' }> =>
        op.kind === 'fill' && op.color === `#${FILLS.violetDeep.fill}`,
    );
    expect(marked?.addresses.split(',').sort()).toEqual(['D2', 'D3', 'E4', 'E5']);
    // Rows that moved meanwhile keep where their notes go.
    const moved = relocateOutcomes(outcomes, { moved: new Map([[2, 12]]), lost: [] });
    expect(Object.keys(planResults(layout, moved, { notes: true }).notes?.notes ?? {})).toEqual(['D12']);
  });

  it('[R8] reads the other phone column when its header sits in the row above (a two-row header), as the import does', () => {
    // 电话 and 手机 are merged down over both header rows: the header row's own cells are empty.
    const grid = [
      ['客户名称', '客户类型', '统一社会信用代码', '电话', '手机', '客户来源', '金额（万元）', null],
      [null, null, null, null, null, null, '预计金额', '预计单价'],
      ['上海华信科技有限公司', '企业', creditCodeFor(1), '021-12345678', '13912345678', '展会', 50, 1],
      ['杭州云帆网络科技有限公司', '企业', creditCodeFor(2), '0571-8765432', null, '展会', 50, 1],
    ];
    const setup = setupOf(grid);
    expect(setup.headerRow).toBe(2);
    expect(setup.columns.find((c) => c.field === 'contactPhone')?.header).toBe('手机');
    const layout = planLayout(grid, setup);
    expect(layout.phoneFallbackColumn).toBe(4);
    const rows = readRows(layout, grid, { referenceDate: '2026-11-23', policy: DEFAULT_POLICY });
    expect(rows.map((r) => r.submission.contactPhone)).toEqual(['13912345678', '0571-8765432']);
  });

  it('reads amounts under a header that names its unit (预计金额（万元）) in that unit, as the import does', () => {
    const grid = [
      ['客户名称', '客户类型', '统一社会信用代码', '客户来源', '预计金额（万元）', '预计单价'],
      ['上海华信科技有限公司', '企业', creditCodeFor(1), '展会', 50, 1200],
      ['杭州云帆网络科技有限公司', '企业', creditCodeFor(2), '展会', '1.5', '3000'],
      ['南京远航贸易有限公司', '企业', creditCodeFor(3), '展会', '80万元', null],
    ];
    const layout = planLayout(grid, setupOf(grid));
    const rows = readRows(layout, grid, { referenceDate: '2026-11-23', policy: DEFAULT_POLICY });
    expect(rows.map((r) => [r.submission.expectedAmount, r.submission.expectedUnitPrice])).toEqual([
      [500_000, 1200],
      [15_000, '3000'],
      // A cell naming its own unit keeps it.
      ['80万元', undefined],
    ]);
    expect(rows.every((r) => r.errors.length === 0)).toBe(true);
  });

  it('reads amounts under a merged group header that names the unit (金额（万元） over 预计金额 | 预计单价), as the import does', () => {
    // The group cell sits in the first column of its merge (Excel and Google Sheets give the others empty).
    const grid = [
      ['客户信息', null, null, null, '金额（万元）', null],
      ['客户名称', '客户类型', '统一社会信用代码', '客户来源', '预计金额', '预计单价'],
      ['上海华信科技有限公司', '企业', creditCodeFor(1), '展会', 50, 0.12],
      ['杭州云帆网络科技有限公司', '企业', creditCodeFor(2), '展会', '1.5', null],
      ['南京远航贸易有限公司', '企业', creditCodeFor(3), '展会', '80万元', '3000元'],
    ];
    const setup = setupOf(grid);
    // The header row is the lower one, right above the data, as for any two-row header.
    expect(setup.headerRow).toBe(2);
    expect(setup.dataRows).toBe(3);
    const layout = planLayout(grid, setup);
    expect(layout.fieldColumns).toMatchObject({ expectedAmount: 5, expectedUnitPrice: 6 });
    const rows = readRows(layout, grid, { referenceDate: '2026-11-23', policy: DEFAULT_POLICY });
    expect(rows.map((r) => r.row)).toEqual([3, 4, 5]);
    expect(rows.map((r) => [r.submission.expectedAmount, r.submission.expectedUnitPrice])).toEqual([
      [500_000, 1200],
      [15_000, undefined],
      // A cell naming its own unit keeps it.
      ['80万元', '3000元'],
    ]);
    expect(rows.every((r) => r.errors.length === 0)).toBe(true);
  });

  it('gives a group header unit only to the amounts under it, not to a unit price past its 备注 (a CSV-like sheet), as the import does', () => {
    // A sheet pasted from a CSV: no merge bounds 预计金额（万元）, its blank neighbours carry it right.
    const grid = [
      ['客户名称', '客户类型', '统一社会信用代码', '客户来源', '预计金额（万元）', null, null],
      [null, null, null, null, '预计签约金额', '备注', '预计签约单价'],
      ['上海华信科技有限公司', '企业', creditCodeFor(1), '展会', 50, '二期', 3000],
    ];
    const layout = planLayout(grid, setupOf(grid));
    expect(layout.fieldColumns).toMatchObject({ expectedAmount: 5, notes: 6, expectedUnitPrice: 7 });
    const rows = readRows(layout, grid, { referenceDate: '2026-11-23', policy: DEFAULT_POLICY });
    expect(
      rows.map((r) => [r.submission.expectedAmount, r.submission.notes, r.submission.expectedUnitPrice]),
    ).toEqual([[500_000, '二期', 3000]]);
  });
});

describe('rows that are no registration', () => {
  const RESULTS = ['报备编号', '状态', '保护截止', '冲突说明', '提示'];
  const EXAMPLE = '填写示例，未登记 / Example row, not registered';
  const NOTE = '说明文字，未登记 / Note, not registered';
  const pad = (cells: SheetCell[]): SheetCell[] => [...cells, ...Array<SheetCell>(6 - cells.length).fill('')];

  it("writes each its 提示 text where it changes, keeps a person's text there, and clears the text of a row emptied since", () => {
    const grid = sheet([]);
    grid[1] = [...HEADER, ...RESULTS];
    grid.push(
      [...pad(['上海某某科技有限公司', '企业', '', '13800000000', '展会', '张三']), '', '', '', '', ''],
      [...good, '', '', '', '', ''],
      [...pad(['注：本表由销售部填写。']), '', '', '', '', NOTE],
      [...HEADER, ...RESULTS],
      [...pad([]), '', '', '', '', NOTE],
      [...pad(['合计', '1 家']), '', '', '', '', '待核对'],
    );
    const layout = planLayout(grid, setupOf(grid));
    expect(layout.rows.map((r) => [r.row, r.kind])).toEqual([
      [3, 'example'],
      [4, 'data'],
      [5, 'note'],
      [6, 'header-repeat'],
      [8, 'total'],
    ]);
    // Row 5 has its text already, row 6 holds the header's own 提示, row 8 a person's words.
    expect(planSkippedRowHints(layout)).toEqual([
      { row: 3, text: EXAMPLE },
      { row: 7, text: '' },
    ]);
    const write = planResults(layout, [], { notes: true, hints: planSkippedRowHints(layout) });
    expect(write.ops).toEqual([
      { kind: 'numberFormat', address: 'K3', format: '@' },
      { kind: 'values', address: 'K3', values: [[EXAMPLE]] },
      { kind: 'numberFormat', address: 'K7', format: '@' },
      { kind: 'values', address: 'K7', values: [['']] },
    ]);
  });
});

describe('results written back', () => {
  const grid = sheet([
    good,
    good,
    ['', '', '', '', '', ''],
    ['上海某某公司', '企业', '', '12345', '展会', '王磊'],
    good,
  ]);
  const layout = planLayout(grid, setupOf(grid));
  const rows = readRows(layout, grid, { referenceDate: '2026-11-23', policy: DEFAULT_POLICY });
  const pending: RowResult = {
    status: 'pending',
    registrationNo: 'BB-2026-000001',
    errors: [],
    warnings: [],
    conflicts: [],
  };
  const clash: RowResult = {
    status: 'conflict',
    registrationNo: 'BB-2026-000002',
    errors: [],
    warnings: [],
    conflicts: [
      {
        registrationNo: 'BB-2026-000001',
        status: 'pending',
        holder: { name: '王磊' },
        matchedOn: 'creditCode',
        strength: 'exact',
      },
    ],
  };
  const byNo = new Map([['BB-2026-000001', 3]]);
  const invalid = rows.find((r) => r.row === 6)!;
  const write = planResults(
    layout,
    [
      outcomeOfResult(3, pending, byNo),
      outcomeOfResult(4, clash, byNo),
      outcomeOfLocalErrors(invalid),
      outcomeOfResult(7, pending, byNo),
    ],
    { notes: true, guardGrid: grid },
  );

  it('writes the five result cells as text, in one block per run of rows, with headers when missing', () => {
    const values = write.ops.filter((op): op is Extract<SheetOp, { kind: 'values' }> => op.kind === 'values');
    expect(values.map((op) => op.address)).toEqual(['G2:K2', 'G3:K4', 'G6:K7']);
    expect(values[0]?.values).toEqual([['报备编号', '状态', '保护截止', '冲突说明', '提示']]);
    expect(values[1]?.values[1]?.[3]).toBe('与第 3 行（BB-2026-000001）为同一客户：信用代码相同');
    expect(values[2]?.values[0]?.slice(0, 2)).toEqual(['', '信息有误']);
    const formats = write.ops
      .filter((op) => op.kind === 'numberFormat')
      .map((op) => (op as { format: string }).format);
    expect(new Set(formats)).toEqual(new Set(['@']));
  });

  it('fills rows by status in one getRanges per colour, then invalid cells a deeper violet on top', () => {
    const fills = write.ops.filter((op): op is Extract<SheetOp, { kind: 'fill' }> => op.kind === 'fill');
    expect(fills).toEqual([
      { kind: 'fill', color: `#${FILLS.paleBlue.fill}`, addresses: 'A3:K3,A7:K7' },
      { kind: 'fill', color: `#${FILLS.red.fill}`, addresses: 'A4:K4' },
      { kind: 'fill', color: `#${FILLS.violet.fill}`, addresses: 'A6:K6' },
      { kind: 'fill', color: `#${FILLS.violetDeep.fill}`, addresses: 'D6,C6' },
    ]);
  });

  it('[R4] colours and writes what only needs a look as the import does: amber, advice in 提示, 冲突说明 empty', () => {
    const late: RowResult = {
      ...pending,
      warnings: [
        problem(
          'registration.late',
          '超过首次接触后 3 个工作日才报备（R4）',
          'Registered late (R4)',
          'registeredAt',
        ),
        problem('customer.identification', '企业客户建议填写统一社会信用代码或地址', 'Add the credit code'),
      ],
    };
    const possible: RowResult = {
      ...pending,
      warnings: [problem('match.possible', '发现可能是同一客户的报备，请审核人确认', 'Possible match')],
      conflicts: [{ ...clash.conflicts[0]!, registrationNo: 'BB-2026-000009', strength: 'possible' }],
    };
    const advice: RowResult = {
      ...pending,
      warnings: [problem('registeredAt.ignored', '报备时间以系统收到的时间为准', 'Time of receipt counts')],
    };
    const written = planResults(
      layout,
      [outcomeOfResult(3, late, byNo), outcomeOfResult(4, possible, byNo), outcomeOfResult(7, advice, byNo)],
      { notes: false },
    );
    const cells = written.ops.filter(
      (op): op is Extract<SheetOp, { kind: 'values' }> => op.kind === 'values',
    );
    const byRow = new Map([
      [3, cells[1]?.values[0]],
      [4, cells[1]?.values[1]],
      [7, cells[2]?.values[0]],
    ]);
    expect(byRow.get(3)?.slice(3)).toEqual([
      '',
      '超过首次接触后 3 个工作日才报备（R4）；企业客户建议填写统一社会信用代码或地址',
    ]);
    expect(byRow.get(4)?.slice(3)).toEqual([
      '可能与 BB-2026-000009（王磊，待审核）为同一客户：信用代码相同',
      '',
    ]);
    expect(byRow.get(7)?.slice(3)).toEqual(['', '报备时间以系统收到的时间为准']);
    const fills = written.ops.filter((op): op is Extract<SheetOp, { kind: 'fill' }> => op.kind === 'fill');
    expect(fills).toEqual([
      { kind: 'fill', color: `#${FILLS.paleBlue.fill}`, addresses: 'A7:K7' },
      { kind: 'fill', color: `#${FILLS.amber.fill}`, addresses: 'A3:K4' },
    ]);
  });

  it('notes invalid cells, owns the notes of the rows it writes, and guards the rows it read', () => {
    expect(write.notes?.notes).toEqual({
      C6: expect.stringContaining('统一社会信用代码'),
      D6: expect.stringContaining('电话号码格式不正确'),
    });
    expect(write.notes?.scope.rows).toEqual([3, 4, 6, 7]);
    expect(write.guard).toEqual({
      address: 'A3:A7',
      values: [
        ['上海华信科技有限公司'],
        ['上海华信科技有限公司'],
        [''],
        ['上海某某公司'],
        ['上海华信科技有限公司'],
      ],
    });
  });
});

describe('review sheet', () => {
  const groups = [
    {
      customer: '上海华信科技有限公司',
      competitors: [
        {
          registrationNo: 'BB-2026-000001',
          registrant: '王磊',
          team: '华东一部',
          status: 'pending' as const,
          claimedAt: '2026-11-20T02:05:00.000Z',
          rank: 1,
          needsReview: true,
          reasons: [{ message: '报备时间最早（R17）' }],
          expectedAmount: 500000,
          followUps: 2,
        },
        {
          registrationNo: 'BB-2026-000002',
          registrant: '李娜',
          status: 'conflict' as const,
          claimedAt: '2026-11-21T02:05:00.000Z',
          rank: 2,
          needsReview: true,
          reasons: [],
          followUps: 0,
        },
      ],
    },
  ];

  it('lists competitors ranked, Shanghai times, a decision drop-down, and keeps failed decisions', () => {
    const carry = new Map([
      [
        'BB-2026-000002',
        { decision: '共享', reason: '双方协商', shareWith: 'BB-2026-000001', outcome: '不能共享' },
      ],
    ]);
    const { write, rows } = planReviewSheet(groups, carry);
    expect(rows).toBe(2);
    const values = write.ops.filter((op): op is Extract<SheetOp, { kind: 'values' }> => op.kind === 'values');
    const [header, first, second] = values[0]?.values ?? [];
    expect(header).toContain('决定');
    expect(first?.slice(0, 8)).toEqual([
      1,
      '上海华信科技有限公司',
      1,
      'BB-2026-000001',
      '王磊',
      '华东一部',
      '待审核',
      '2026-11-20 10:05',
    ]);
    expect(second?.slice(-4)).toEqual(['共享', '双方协商', 'BB-2026-000001', '不能共享']);
    expect(write.ops).toContainEqual(expect.objectContaining({ kind: 'validation', address: 'O2:O3' }));
    expect(write).toMatchObject({ sheetName: '待审核', sheet: 'replace', activate: true });
  });

  it('reads decisions and says what is wrong with the rest', () => {
    const grid: SheetCell[][] = [
      [
        '组',
        '客户名称',
        '排名',
        '报备编号',
        '报备人',
        '部门',
        '状态',
        '报备时间',
        '预计签约金额',
        '预计签约单价',
        '预计签约时间',
        '跟进次数',
        '份额(%)',
        '排序依据',
        '决定',
        '处理意见',
        '共享对象',
        '处理结果',
      ],
      [
        1,
        'x',
        1,
        'BB-2026-000001',
        '王磊',
        '',
        '待审核',
        '',
        '',
        '',
        '',
        0,
        '',
        '',
        '通过',
        '先报备',
        '',
        '',
      ],
      [1, 'x', 2, 'BB-2026-000002', '李娜', '', '冲突', '', '', '', '', 0, '', '', '共享', '协商', '', ''],
      [2, 'y', 1, 'BB-2026-000003', '李娜', '', '待审核', '', '', '', '', 0, '', '', '驳回', '', '', ''],
      [3, 'z', 1, 'BB-2026-000004', '李娜', '', '待审核', '', '', '', '', 0, '', '', '搁置', '再看', '', ''],
      [4, 'w', 1, 'BB-2026-000005', '李娜', '', '待审核', '', '', '', '', 0, '', '', '', '', '', ''],
    ];
    const { decisions, errors } = readReviewDecisions(grid);
    expect(decisions.map((d) => [d.row, d.registrationNo, d.body])).toEqual([
      [2, 'BB-2026-000001', { decision: 'approve', reason: '先报备' }],
    ]);
    expect(errors.map((e) => [e.row, e.message])).toEqual([
      [3, '第 3 行选择共享时，请在「共享对象」填写另一方的报备编号'],
      [4, '第 4 行请填写处理意见'],
      [5, '第 5 行的决定「搁置」无法识别：应为 通过、驳回 或 共享'],
    ]);
    expect(() => readReviewDecisions([['hello']])).toThrow(
      expect.objectContaining({ code: 'review.sheet_invalid' }),
    );
  });
});

describe('a blank 报备人 (R2): every path reads it alike', () => {
  it('[R2] a blank cell in a 报备人 column is missing even when the caller names a stand-in (the sync’s link owner)', () => {
    const grid: SheetCell[][] = [[...HEADER], good, [...good.slice(0, 5), null], [...good.slice(0, 5), '  ']];
    const layout = planLayout(grid, setupOf(grid));
    const rows = readRows(layout, grid, {
      referenceDate: '2026-11-23',
      policy: DEFAULT_POLICY,
      defaultRegistrant: '王磊',
    });
    expect(rows.map((r) => r.errors.map((e) => [e.code, e.field]))).toEqual([
      [],
      [['field.required', 'registrant']],
      [['field.required', 'registrant']],
    ]);
    // Word for word what the import says of the same row (its raw row carries the blank cell).
    const imported = parseRow(
      { customerName: '上海华信科技有限公司', registrant: null },
      { referenceDate: '2026-11-23', policy: DEFAULT_POLICY, defaultRegistrant: '王磊' },
    ).errors.find((e) => e.field === 'registrant')!;
    expect(rows[1]!.errors[0]).toEqual(imported);
  });

  it('[R2] without a 报备人 column the caller stands in', () => {
    const grid: SheetCell[][] = [HEADER.slice(0, 5), good.slice(0, 5)];
    const layout = planLayout(grid, setupOf(grid));
    const context = { referenceDate: '2026-11-23' as const, policy: DEFAULT_POLICY };
    expect(readRows(layout, grid, { ...context, defaultRegistrant: '王磊' })[0]!.errors).toEqual([]);
    // The add-in names no one: the service fills in the signed-in user.
    expect(readRows(layout, grid, context)[0]!.errors).toEqual([]);
  });
});
