/**
 * core/rowIdentity.ts on its own: where each row read earlier is now, by 报备编号 or identifying
 * cells — in place, sorted, inserted, identical twins, deleted or edited — and outcomes (with the
 * rows their clashes point at) moved accordingly.
 */
import { describe, expect, it } from 'vitest';
import {
  identityColumns,
  locateHeader,
  locateRows,
  relocateHints,
  relocateOutcomes,
  rowKey,
  rowsInPlace,
} from '../../core/rowIdentity.js';
import type { SheetCell } from '../../core/sheetGrid.js';
import type { SheetLayout } from '../../core/sheetLayout.js';
import type { RowOutcome } from '../../core/sheetResults.js';

/** A: 客户名称, B: 联系电话, C: 备注 (not identifying), D: 报备编号; header on row 1. */
const LAYOUT: SheetLayout = {
  sheetName: 'S',
  headerRow: 1,
  firstColumn: 1,
  lastDataRow: 5,
  fieldColumns: { customerName: 1, contactPhone: 2, notes: 3 },
  resultColumns: { registrationNo: 4, status: 5, protectedUntil: 6, conflict: 7, hint: 8 },
  missingResultColumns: [],
  rows: [],
};

const HEADER: SheetCell[] = ['客户名称', '联系电话', '备注', '报备编号'];
const BEFORE: SheetCell[][] = [
  HEADER,
  ['甲公司', '13800000001', 'a', ''],
  ['乙公司', '13800000002', 'b', 'BB-2026-000007'],
  ['丙公司', '13800000003', 'c', ''],
  ['丙公司', '13800000003', 'c2', ''],
];

function outcome(row: number, conflictRow?: number): RowOutcome {
  return {
    row,
    annotation: {
      status: 'pending',
      errors: [],
      warnings: [],
      conflicts:
        conflictRow === undefined ? [] : [{ row: conflictRow, matchedOn: 'name', strength: 'exact' }],
    },
  };
}

describe('row identity', () => {
  it('reads the registration number and identifying columns, and keys a row by number first', () => {
    expect(identityColumns(LAYOUT)).toEqual([1, 2, 4]);
    expect(rowKey(BEFORE, 3, LAYOUT)).toBe('no:BB-2026-000007');
    expect(rowKey(BEFORE, 2, LAYOUT)).toBe(
      rowKey([HEADER, ['甲公司', '13800000001', 'changed note', '']], 2, LAYOUT),
    );
    expect(rowKey([HEADER, ['', '', 'only a note', '']], 2, LAYOUT)).toBeNull();
  });

  it('reads a placeholder in an identifying cell as the blank it stands for, as the row parser does', () => {
    // 无 cleared to blank (or typed over it) between the read and the write keeps the row found.
    const blank = rowKey([HEADER, ['甲公司', '', 'a', '']], 2, LAYOUT);
    for (const placeholder of ['无', 'N/A', 'n.a.', '/', '—', '未填写'])
      expect(rowKey([HEADER, ['甲公司', placeholder, 'a', '']], 2, LAYOUT), placeholder).toBe(blank);
    // A row of placeholders alone is nothing to recognise a row by.
    expect(rowKey([HEADER, ['无', '—', 'a', '']], 2, LAYOUT)).toBeNull();
  });

  it('keeps rows in place when nothing moved', () => {
    expect(locateRows(LAYOUT, BEFORE, BEFORE, [2, 3, 4, 5])).toEqual({
      moved: new Map([
        [2, 2],
        [3, 3],
        [4, 4],
        [5, 5],
      ]),
      lost: [],
    });
  });

  it('follows rows sorted backwards with a row inserted on top; identical twins are paired in order', () => {
    const now = [HEADER, ['新客户', '1', '', ''], ...BEFORE.slice(1).reverse()];
    const { moved, lost } = locateRows(LAYOUT, BEFORE, now, [2, 3, 4, 5]);
    expect(lost).toEqual([]);
    expect(moved.get(2)).toBe(6);
    expect(moved.get(3)).toBe(5);
    expect([moved.get(4), moved.get(5)].sort()).toEqual([3, 4]);
    expect(new Set(moved.values()).size).toBe(4);
  });

  it('reports rows deleted or whose identifying cells were edited as lost', () => {
    const now = [HEADER, ['甲公司（已改名）', '13800000001', 'a', ''], BEFORE[2] as SheetCell[]];
    const { moved, lost } = locateRows(LAYOUT, BEFORE, now, [2, 3, 4]);
    expect(lost).toEqual([2, 4]);
    expect(moved.get(3)).toBe(3);
  });

  it('moves outcomes and the rows their clashes point at, and drops lost ones', () => {
    const relocation = {
      moved: new Map([
        [2, 7],
        [4, 9],
      ]),
      lost: [3],
    };
    const moved = relocateOutcomes([outcome(2, 4), outcome(3), outcome(4, 2)], relocation);
    expect(moved.map((o) => o.row)).toEqual([7, 9]);
    expect(moved[0]?.annotation.conflicts[0]?.row).toBe(9);
    expect(moved[1]?.annotation.conflicts[0]?.row).toBe(7);
  });
});

describe('where the header is now (the row a run heads the result columns it makes on)', () => {
  const TITLE: SheetCell[] = ['客户报备登记表'];
  const below = [TITLE, ...BEFORE];
  const layout = { ...LAYOUT, headerRow: 2 };
  it('stays where it was read while its identifying cells are there', () => {
    expect(locateHeader(layout, below, below)).toBe(2);
  });
  it('moves down with rows inserted above it and up with rows deleted above it', () => {
    expect(locateHeader(layout, below, [[], TITLE, ...BEFORE])).toBe(3);
    expect(locateHeader(layout, below, BEFORE)).toBe(1);
  });
  it('is the first matching row from the top, not a repeated header further down', () => {
    expect(locateHeader(layout, below, [[], TITLE, HEADER, ...BEFORE.slice(1), HEADER])).toBe(3);
  });
  it('is not found when its identifying cells were edited or it has none', () => {
    expect(
      locateHeader(layout, below, [TITLE, ['客户', '电话', '备注', '报备编号'], ...BEFORE.slice(1)]),
    ).toBeNull();
    expect(locateHeader({ ...LAYOUT, headerRow: 1 }, [[''], ...BEFORE], BEFORE)).toBeNull();
  });
});

describe("rows in place (what a skipped row's 提示 text waits for)", () => {
  const narrow = (grid: SheetCell[][]) => grid.map((r) => [r[0] ?? '', r[1] ?? '', '', r[3] ?? '']);
  it('holds while every identifying cell reads as before, other columns and rows past the end aside', () => {
    const edited = BEFORE.map((r) => [...r]);
    edited[1]![2] = 'edited note';
    expect(rowsInPlace(LAYOUT, BEFORE, [...narrow(edited), [], []])).toBe(true);
  });
  it('fails once a row was inserted, sorted or deleted', () => {
    expect(rowsInPlace(LAYOUT, BEFORE, [HEADER, ['丁公司', '13800000009', '', ''], ...BEFORE.slice(1)])).toBe(
      false,
    );
    expect(rowsInPlace(LAYOUT, BEFORE, [HEADER, ...BEFORE.slice(1).reverse()])).toBe(false);
    expect(rowsInPlace(LAYOUT, BEFORE, BEFORE.slice(0, 3))).toBe(false);
  });
});

describe('the 提示 texts of rows that are no registration', () => {
  /** 甲, a note (no identifying cell), 乙, a total naming 2 家 in 客户名称, 丙. */
  const SHEET: SheetCell[][] = [
    HEADER,
    ['甲公司', '13800000001', '', ''],
    ['', '', '注：本表由销售部填写。', ''],
    ['乙公司', '13800000002', '', ''],
    ['合计 2 家', '', '', ''],
    ['丙公司', '13800000003', '', ''],
  ];
  const HINTS = [
    { row: 3, text: 'note' },
    { row: 5, text: 'total' },
  ];
  const blank: SheetCell[] = ['', '', '', ''];

  it('stand as planned when nothing moved', () => {
    expect(relocateHints(LAYOUT, SHEET, SHEET, HINTS)).toEqual(HINTS);
  });

  it('follow rows inserted or deleted above them: a keyed row by its cells, a note by its neighbours', () => {
    const inserted = [HEADER, blank, ...SHEET.slice(1)];
    expect(relocateHints(LAYOUT, SHEET, inserted, HINTS)).toEqual([
      { row: 4, text: 'note' },
      { row: 6, text: 'total' },
    ]);
    const deleted = [HEADER, ...SHEET.slice(2)];
    expect(relocateHints(LAYOUT, SHEET, deleted, HINTS)).toEqual([
      { row: 2, text: 'note' },
      { row: 4, text: 'total' },
    ]);
  });

  it('leave a note with a blank row inserted beside it, or rows sorted around it, for the next run', () => {
    const beside = [HEADER, SHEET[1]!, blank, ...SHEET.slice(2)];
    expect(relocateHints(LAYOUT, SHEET, beside, HINTS)).toEqual([{ row: 6, text: 'total' }]);
    const sorted = [HEADER, SHEET[5]!, SHEET[4]!, SHEET[3]!, SHEET[2]!, SHEET[1]!];
    expect(relocateHints(LAYOUT, SHEET, sorted, HINTS)).toEqual([{ row: 3, text: 'total' }]);
  });

  it('take a stale text out of a blank row under the last customer, wherever it went', () => {
    const withBlank: SheetCell[][] = [...SHEET, blank];
    const stale = [{ row: 7, text: '' }];
    expect(relocateHints(LAYOUT, withBlank, [HEADER, blank, ...withBlank.slice(1)], stale)).toEqual([
      { row: 8, text: '' },
    ]);
  });

  it('write none when the header moved: its repeats would be taken for it', () => {
    expect(relocateHints(LAYOUT, SHEET, [blank, ...SHEET], HINTS)).toEqual([]);
  });
});
