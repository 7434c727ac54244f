/**
 * Where everything is on a sheet, from its values and the user's mapping (core/sheetSetup): the
 * field and result columns, the rows under the header and what kind each is, money units and the
 * second phone column read as the import reads the same sheet; and the 提示 texts of the rows that
 * are no registration. Every later plan (rows read, results, prepare) starts from this layout.
 */
import { RESULT_HEADERS } from './annotation.js';
import type { ExampleEvidence } from './exampleRow.js';
import { classifyRow, exampleEvidenceOf, type RowKind } from './headers.js';
import { moneyUnitsOfColumns } from './money.js';
import { phoneFallbackColumn } from './phoneColumns.js';
import { DomainError, problem } from './problem.js';
import { FIELD_SPECS, REGISTRATION_NO, type Field, type ResultColumn } from './schema.js';
import {
  cellAt,
  columnLetters,
  isBlank,
  lastUsedColumn,
  range1,
  textOf,
  type SheetGrid,
} from './sheetGrid.js';
import { detectionFor, resultColumnOfHeader, type SheetSetup } from './sheetSetup.js';
import { isSkippedRowHint, skippedRowHint } from './skippedRowHint.js';

export interface SheetRow {
  row: number;
  kind: RowKind;
  /** The 报备编号 already in the row, when it holds a well-formed one. */
  registrationNo: string | null;
  /** What its 提示 cell holds now ('' when empty): a skipped row's text is written only where it changes. */
  hint: string;
  /** For an example row: the column that shows it, named in the reason (core/skippedRow.ts). */
  evidence?: ExampleEvidence;
}

export interface SheetLayout {
  sheetName: string;
  headerRow: number;
  /** First column with header text: where a table and a row fill start. */
  firstColumn: number;
  /** Last row holding a registration (the header row when there is none). */
  lastDataRow: number;
  fieldColumns: Partial<Record<Field, number>>;
  /** 1-based column of each result column: found by header text, else appended after the last column. */
  resultColumns: Record<ResultColumn, number>;
  /** Result columns that have no header yet (Prepare writes them). */
  missingResultColumns: ResultColumn[];
  /** The rows under the header that are not blank. */
  rows: SheetRow[];
  /** Blank rows whose 提示 still holds a skipped row's text (core/skippedRowHint.ts): emptied since. */
  emptiedHintRows?: number[];
  /**
   * Money columns whose header, or merged group header above it, names a unit (预计金额（万元）, 金额
   * （万元） over 预计金额): a plain number under it is read in that unit, as the import reads the same
   * sheet (core/money.ts `moneyUnitsOfColumns`, `inHeaderUnit`).
   */
  moneyUnits?: Partial<Record<Field, number>>;
  /**
   * A second phone column (电话 beside 手机, unmapped), read when the contactPhone cell is empty
   * (core/phoneColumns.ts), as the import reads the same sheet.
   */
  phoneFallbackColumn?: number;
  /**
   * The header is in an Excel table that ends right where the missing result columns start: they are
   * added as table columns (table.columns.add), so that sorting the table moves results with rows.
   */
  appendToTable?: boolean;
}

/** Where everything is, from the sheet's values and the user's mapping. */
export function planLayout(grid: SheetGrid, setup: SheetSetup): SheetLayout {
  const fieldColumns: Partial<Record<Field, number>> = {};
  const columnsByField = new Map<Field, number[]>();
  for (const c of setup.columns) {
    if (c.field === null) continue;
    columnsByField.set(c.field, [...(columnsByField.get(c.field) ?? []), c.column]);
  }
  for (const [field, columns] of columnsByField) {
    if (columns.length > 1) {
      const letters = columns.map(columnLetters).join('、');
      throw new DomainError(
        problem(
          'mapping.duplicate',
          `「${FIELD_SPECS[field].zh}」被指定给了多列（${letters}），请只保留一列`,
          `"${FIELD_SPECS[field].en}" is assigned to several columns (${columns.map(columnLetters).join(', ')}); keep one`,
          field,
        ),
      );
    }
    fieldColumns[field] = columns[0] as number;
  }

  const header = grid[setup.headerRow - 1] ?? [];
  // Rows inserted above the header, or columns moved, since the mapping was made: map again.
  // (A two-row header may name a column from the cell above, leaving the header-row cell empty.)
  const moved = setup.columns.filter((c) => {
    const text = textOf(cellAt(grid, setup.headerRow, c.column));
    return c.field !== null && text !== '' && text !== c.header.trim();
  });
  const mapped = setup.columns.filter((c) => c.field !== null);
  const inPlace = mapped.filter((c) => textOf(cellAt(grid, setup.headerRow, c.column)) === c.header.trim());
  if (moved.length > 0 || (mapped.length > 0 && inPlace.length === 0)) {
    const where = (moved.length > 0 ? moved : mapped)
      .map((c) => `${columnLetters(c.column)}${setup.headerRow}「${c.header}」`)
      .join('、');
    throw new DomainError(
      problem(
        'sheet.header_changed',
        `表头与识别时不同（${where}），请重新识别表头`,
        `The header is not where it was detected (${where}); detect the header again`,
      ),
    );
  }
  const found: Partial<Record<ResultColumn, number>> = {};
  header.forEach((cell, i) => {
    const column = resultColumnOfHeader(textOf(cell));
    if (column !== null && found[column] === undefined) found[column] = i + 1;
  });
  for (const c of setup.columns) {
    const result = resultColumnOfHeader(c.header);
    if (c.field !== null && result !== null) {
      throw new DomainError(
        problem(
          'mapping.result_column',
          `第 ${columnLetters(c.column)} 列「${c.header}」是结果列，不能指定为「${FIELD_SPECS[c.field].zh}」`,
          `Column ${columnLetters(c.column)} "${c.header}" is a result column and cannot hold "${FIELD_SPECS[c.field].en}"`,
          c.field,
        ),
      );
    }
  }

  const allRows = range1(1, grid.length);
  let next = Math.max(lastUsedColumn(grid, allRows), ...Object.values(found)) + 1;
  const missingResultColumns: ResultColumn[] = [];
  const resultColumns = {} as Record<ResultColumn, number>;
  for (const { key } of RESULT_HEADERS) {
    const at = found[key];
    if (at !== undefined) resultColumns[key] = at;
    else {
      resultColumns[key] = next++;
      missingResultColumns.push(key);
    }
  }

  const detection = detectionFor(setup);
  const rows: SheetRow[] = [];
  const emptiedHintRows: number[] = [];
  let lastDataRow = setup.headerRow;
  for (let row = setup.headerRow + 1; row <= grid.length; row++) {
    const cells = grid[row - 1] ?? [];
    const kind = classifyRow(cells, detection);
    const hint = textOf(cellAt(grid, row, resultColumns.hint));
    if (kind === 'blank') {
      if (isSkippedRowHint(hint)) emptiedHintRows.push(row);
      continue;
    }
    const no = textOf(cellAt(grid, row, resultColumns.registrationNo));
    const evidence = kind === 'example' ? exampleEvidenceOf(cells, detection) : null;
    rows.push({
      row,
      kind,
      registrationNo: REGISTRATION_NO.test(no) ? no : null,
      hint,
      ...(evidence !== null ? { evidence } : {}),
    });
    if (kind === 'data') lastDataRow = row;
  }
  const headerColumns = header.flatMap((cell, i) => (isBlank(cell ?? '') ? [] : [i + 1]));
  // As the import reads the same sheet: a money column's own header's unit, else its group's.
  const moneyUnits = moneyUnitsOfColumns(mapped);
  const fieldAt = new Map((Object.entries(fieldColumns) as [Field, number][]).map(([f, c]) => [c, f]));
  // Each column's header as the header row writes it, else as detected: a two-row header names a
  // column merged down over both rows (电话) from the row above, and the import reads it so.
  const headerTexts = new Map(setup.columns.map((c) => [c.column, c.header]));
  header.forEach((cell, i) => {
    if (!isBlank(cell ?? '')) headerTexts.set(i + 1, textOf(cell ?? ''));
  });
  const phoneFallback = phoneFallbackColumn(
    [...headerTexts]
      .sort(([a], [b]) => a - b)
      .map(([column, text]) => ({ column, header: text, field: fieldAt.get(column) ?? null })),
  );
  return {
    ...(phoneFallback !== null ? { phoneFallbackColumn: phoneFallback } : {}),
    sheetName: setup.sheetName,
    headerRow: setup.headerRow,
    firstColumn: Math.min(...headerColumns, ...Object.values(fieldColumns), resultColumns.registrationNo),
    lastDataRow,
    fieldColumns,
    resultColumns,
    missingResultColumns,
    rows,
    emptiedHintRows,
    moneyUnits,
  };
}

/** A row's 提示 text to write: a skipped row's reason, or '' to take a stale one out. */
export interface HintWrite {
  row: number;
  text: string;
}

/**
 * The 提示 cells of the rows that are no registration (example, total, note, header repeated) that
 * must change: each gets its kind's text unless it already has it, and keeps a person's own text
 * there (a repeated header copied with 提示 in it). A row that no longer is such a row loses the
 * text: emptied, or registered already (a data row without a number gets its results anyway).
 */
export function planSkippedRowHints(layout: SheetLayout): HintWrite[] {
  const writes: HintWrite[] = (layout.emptiedHintRows ?? []).map((row) => ({ row, text: '' }));
  for (const r of layout.rows) {
    if (r.kind === 'data' || r.kind === 'blank') {
      if (r.kind === 'data' && r.registrationNo !== null && isSkippedRowHint(r.hint))
        writes.push({ row: r.row, text: '' });
      continue;
    }
    const text = skippedRowHint(r.kind);
    if (r.hint !== text && (r.hint === '' || isSkippedRowHint(r.hint))) writes.push({ row: r.row, text });
  }
  return writes.sort((a, b) => a.row - b.row);
}

/** How many rows under the header are no registration (blank rows are not counted). */
export function countSkippedRows(layout: SheetLayout): number {
  return layout.rows.filter((r) => r.kind !== 'data' && r.kind !== 'blank').length;
}
