/**
 * What the Excel add-in does to a sheet, decided as plain data: where the header, the fields and
 * the result columns are; which rows are sent; how the sheet is prepared (table, validation, number
 * formats, invalid cells marked); what is written back from row results (cells via core/annotation,
 * fills grouped by colour, notes); the 待审核 review sheet; and how writes are cut into batches that
 * stay under Excel on the web's request limits. The add-in's Excel module only executes these plans.
 *
 * Over 600 lines as one file, not yet split by concept: addresses, layout and reading, the write
 * batches, result write-back, preparation and the 待审核 sheet share the grid and op types. The
 * sheets built from row 1 (mySheetPlan, poolSheetPlan, reportSheetPlan) already stand alone; the
 * 待审核 sheet and the write batches are the next to move.
 */
import {
  annotateRow,
  FILLS,
  INVALID_CELL_FILL,
  RESULT_HEADERS,
  type AnnotatedConflict,
  type AnnotationInput,
} from './annotation.js';
import { excelErrorProblem } from './cellText.js';
import { dayOf } from './day.js';
import type { ExampleEvidence } from './exampleRow.js';
import {
  classifyRow,
  detectHeader,
  exampleEvidenceOf,
  type FieldCandidate,
  type HeaderDetection,
  type RowKind,
} from './headers.js';
import { inHeaderUnit, moneyUnitsOfColumns } from './money.js';
import { phoneCellOf, phoneFallbackColumn, phoneReadFromFallback } from './phoneColumns.js';
import { DomainError, problem, type Problem } from './problem.js';
import { parseRow, type RowContext } from './row.js';
import {
  CUSTOMER_TYPE_LABELS,
  GRADES,
  FIELD_SPECS,
  RESULT_COLUMNS,
  STATUS_LABELS,
  type Field,
  type RecordStatus,
  type ResultColumn,
  type RowResult,
  type RowStatus,
  type SubmissionRow,
} from './schema.js';
import { toSimplified } from './simplified.js';
import { isSkippedRowHint, skippedRowHint } from './skippedRowHint.js';

// ---------------------------------------------------------------------------------------------------
// Cells, grids and A1 addresses

/** A cell as Excel's API hands it over: `''` for an empty cell, numbers for dates (serials). */
export type SheetCell = string | number | boolean | null;
/** A sheet's values from A1: `grid[0]` is row 1, `grid[r][0]` column A. Rows may be shorter than others. */
export type SheetGrid = readonly (readonly SheetCell[])[];

/** 1 → A, 27 → AA. */
export function columnLetters(column: number): string {
  let letters = '';
  for (let n = column; n > 0; n = Math.floor((n - 1) / 26)) {
    letters = String.fromCharCode(65 + ((n - 1) % 26)) + letters;
  }
  return letters;
}

export function cellAddress(row: number, column: number): string {
  return `${columnLetters(column)}${row}`;
}

/** `A5:D9`, or `A5` for a single cell. */
export function rangeAddress(top: number, left: number, bottom: number, right: number): string {
  const start = cellAddress(top, left);
  return top === bottom && left === right ? start : `${start}:${cellAddress(bottom, right)}`;
}

/**
 * The cell of an address such as `E5`, `$E$5`, `Sheet1!E5` or `'客户 表'!$E$5` (what Excel returns for
 * a note's location); null for anything else.
 */
export function parseCellAddress(address: string): { row: number; column: number } | null {
  const bang = address.lastIndexOf('!');
  const local = bang >= 0 ? address.slice(bang + 1) : address;
  const match = /^\$?([A-Za-z]{1,3})\$?(\d{1,7})$/.exec(local.trim());
  if (!match) return null;
  const letters = (match[1] as string).toUpperCase();
  let column = 0;
  for (const ch of letters) column = column * 26 + (ch.charCodeAt(0) - 64);
  return { row: Number(match[2]), column };
}

function cellAt(grid: SheetGrid, row: number, column: number): SheetCell {
  return grid[row - 1]?.[column - 1] ?? '';
}

function isBlank(value: SheetCell): boolean {
  return value === null || value === '' || (typeof value === 'string' && value.trim() === '');
}

function textOf(value: SheetCell): string {
  return value === null ? '' : String(value).trim();
}

/** Width of the grid: the last column holding anything. */
function lastUsedColumn(grid: SheetGrid, rows: Iterable<number>): number {
  let last = 0;
  for (const row of rows) {
    const cells = grid[row - 1] ?? [];
    for (let c = cells.length; c > last; c--) {
      if (!isBlank(cells[c - 1] ?? '')) {
        last = c;
        break;
      }
    }
  }
  return last;
}

function range1(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
}

// ---------------------------------------------------------------------------------------------------
// Header and mapping (Prepare step 1)

export interface ColumnChoice {
  /** 1-based (A = 1). */
  column: number;
  header: string;
  /**
   * In a two-row header, the merged group cell above the column (金额（万元） over 预计金额): a money
   * column takes its unit from it when its own header names none (core/money.ts moneyUnitsOfColumns).
   */
  group?: string;
  field: Field | null;
  /** 0..1; 0 when unmapped. */
  confidence: number;
  alternatives: FieldCandidate[];
}

export interface SheetSetup {
  sheetName: string;
  /** 1-based row of the header line right above the data. */
  headerRow: number;
  columns: ColumnChoice[];
  /** Rows under the header that hold a registration (blank, total and note rows not counted). */
  dataRows: number;
}

/** Which result column a header cell is, by its text (报备编号, Registration no., 報備編號…). */
export function resultColumnOfHeader(text: string): ResultColumn | null {
  const key = headerKey(text);
  if (key === '') return null;
  for (const { key: column, zh, en } of RESULT_HEADERS) {
    if (key === headerKey(zh) || key === headerKey(en)) return column;
  }
  return null;
}

function headerKey(text: string): string {
  return toSimplified(text.normalize('NFKC'))
    .replace(/[\s*※:：]/g, '')
    .toLowerCase();
}

/**
 * The header and column mapping of a sheet, with confidence and alternatives per column, ready for
 * the user to correct. Result columns the product wrote earlier are recognised and never mapped to a
 * field. Null when no header can be found.
 */
export function describeSheet(sheetName: string, grid: SheetGrid): SheetSetup | null {
  const detection = detectHeader(grid);
  if (detection === null || detection.columns.every((c) => c.field === null)) return null;
  const columns = detection.columns.map((c): ColumnChoice => {
    if (resultColumnOfHeader(c.header) !== null) {
      return { column: c.column, header: c.header, field: null, confidence: 0, alternatives: [] };
    }
    return {
      column: c.column,
      header: c.header,
      ...(c.group !== undefined ? { group: c.group } : {}),
      field: c.field,
      confidence: c.confidence,
      alternatives: (c.alternatives ?? []).map((a) => ({ ...a })),
    };
  });
  const setup: SheetSetup = { sheetName, headerRow: detection.headerRow, columns, dataRows: 0 };
  const probe = detectionFor(setup);
  let dataRows = 0;
  for (let row = setup.headerRow + 1; row <= grid.length; row++) {
    if (classifyRow(grid[row - 1] ?? [], probe) === 'data') dataRows++;
  }
  return { ...setup, dataRows };
}

/** classifyRow reads only the header texts of a detection; the user's setup carries them. */
function detectionFor(setup: SheetSetup): HeaderDetection {
  return {
    headerRow: setup.headerRow,
    headerRows: [setup.headerRow],
    dataStartRow: setup.headerRow + 1,
    columns: setup.columns.map((c) => ({
      column: c.column,
      header: c.header,
      field: c.field,
      confidence: c.confidence,
    })),
    unmapped: [],
    confidence: 1,
  };
}

// ---------------------------------------------------------------------------------------------------
// Layout

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

const REGISTRATION_NO = /^BB-\d{4}-\d{6,}$/;

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

// ---------------------------------------------------------------------------------------------------
// Rows to send, and what is wrong with them before anything is sent

export interface LocalRow {
  row: number;
  /** The row as sent: mapped, non-empty cells only, `clientRowId` = the sheet row. */
  submission: SubmissionRow;
  /** What core's row parser finds wrong; rows with errors are not sent. */
  errors: Problem[];
  registrationNo: string | null;
  /**
   * Fields read from another column than their own: contactPhone from the second phone column when
   * the mobile cell is blank. A note on the field goes there, on the value that was read.
   */
  readFrom?: Partial<Record<Field, number>>;
}

/**
 * Stands in for the signed-in user when the sheet has no 报备人 column: the service fills in the
 * caller (R2), so locally the registrant is present.
 */
const SIGNED_IN_USER = '（当前用户）';

/** What the sheet's reader knows beyond its values. */
export interface ReadOptions {
  /** Cells holding an Excel error (#REF!, #N/A…), 1-based: invalid, never sent as data. */
  errorCells?: readonly { row: number; column: number; value: string }[];
  /** The workbook counts serials from 1904-01-01: date serials are moved onto the 1900 system. */
  date1904?: boolean;
}

/** Days between the 1900 and 1904 date systems' day zero. */
export const DATE_1904_OFFSET_DAYS = 1462;

/** A field's cell in a row; contactPhone falls back to the second phone column when blank. */
export function fieldCell(
  layout: SheetLayout,
  grid: SheetGrid,
  row: number,
  field: Field,
  column: number,
): SheetCell {
  const cell = cellAt(grid, row, column);
  if (field !== 'contactPhone' || layout.phoneFallbackColumn === undefined) return cell;
  return phoneCellOf(cell, cellAt(grid, row, layout.phoneFallbackColumn));
}

/** Every data row, parsed by core exactly as the service will parse it. */
export function readRows(
  layout: SheetLayout,
  grid: SheetGrid,
  context: RowContext,
  options: ReadOptions = {},
): LocalRow[] {
  const errorAt = new Map((options.errorCells ?? []).map((e) => [`${e.row}:${e.column}`, e.value]));
  // R2: the caller (the signed-in user, the link's owner) stands in only for a sheet without a
  // 报备人 column. A blank cell in that column is missing, as the import reads it: blank cells are
  // left out of the submission, and the stand-in would otherwise fill them (core/row.ts registrantOf).
  const { defaultRegistrant, ...rest } = context;
  const ctx: RowContext =
    layout.fieldColumns.registrant === undefined
      ? { ...rest, defaultRegistrant: defaultRegistrant ?? SIGNED_IN_USER }
      : rest;
  const out: LocalRow[] = [];
  for (const r of layout.rows) {
    if (r.kind !== 'data') continue;
    const submission: SubmissionRow = { clientRowId: r.row };
    const cellErrors: Problem[] = [];
    for (const [field, column] of Object.entries(layout.fieldColumns) as [Field, number][]) {
      const error = errorAt.get(`${r.row}:${column}`);
      if (error !== undefined) {
        // A broken formula's #REF! is not a customer name: the cell is invalid and stays unsent.
        cellErrors.push(excelErrorProblem(field, error, cellAddress(r.row, column)));
        continue;
      }
      let value = fieldCell(layout, grid, r.row, field, column);
      const kind = FIELD_SPECS[field].kind;
      if (options.date1904 === true && typeof value === 'number' && (kind === 'day' || kind === 'instant')) {
        value += DATE_1904_OFFSET_DAYS;
      }
      const unit = layout.moneyUnits?.[field];
      // A sheet cell in, a sheet cell out: only a number or a plain-number text is scaled.
      if (unit !== undefined) value = inHeaderUnit(value, unit) as SheetCell;
      if (!isBlank(value)) submission[field] = typeof value === 'string' ? value.trim() : value;
    }
    const parsed = parseRow(submission, ctx);
    const errors = [
      ...cellErrors,
      ...parsed.errors.filter((e) => !cellErrors.some((c) => c.field === e.field)),
    ];
    const local: LocalRow = { row: r.row, submission, errors, registrationNo: r.registrationNo };
    const phoneColumn = layout.fieldColumns.contactPhone;
    const fallback = layout.phoneFallbackColumn;
    if (
      phoneColumn !== undefined &&
      fallback !== undefined &&
      phoneReadFromFallback(cellAt(grid, r.row, phoneColumn), cellAt(grid, r.row, fallback))
    ) {
      local.readFrom = { contactPhone: fallback };
    }
    out.push(local);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Write operations, as the Excel module executes them

export type ValidationOperator =
  | 'Between'
  | 'NotBetween'
  | 'EqualTo'
  | 'NotEqualTo'
  | 'GreaterThan'
  | 'LessThan'
  | 'GreaterThanOrEqualTo'
  | 'LessThanOrEqualTo';

/** The shape of Excel's DataValidationRule, one criterion at a time. */
export interface ValidationRule {
  list?: { inCellDropDown: boolean; source: string };
  date?: { formula1: string; formula2?: string; operator: ValidationOperator };
  textLength?: { formula1: number; formula2?: number; operator: ValidationOperator };
  custom?: { formula: string };
}

export interface ValidationAlert {
  showAlert: boolean;
  style: 'Stop' | 'Warning' | 'Information';
  title: string;
  message: string;
}

export type NoteChange =
  | { action: 'add'; cell: string; content: string }
  | { action: 'update'; cell: string; content: string }
  | { action: 'delete'; cell: string };

export type SheetOp =
  /** Values of a rectangular range; `''` empties a cell. */
  | { kind: 'values'; address: string; values: SheetCell[][] }
  /** One number format for every cell of the range. */
  | { kind: 'numberFormat'; address: string; format: string }
  /** Replaces the range's data validation. */
  | { kind: 'validation'; address: string; rule: ValidationRule; alert: ValidationAlert }
  /** One fill colour for several ranges at once (`A5:R9,A11:R11`), under 8,192 characters. */
  | { kind: 'fill'; color: string; addresses: string }
  /** Bold on the header fill the import uses too. */
  | { kind: 'headerStyle'; address: string }
  /** Width in points of the columns of the range. */
  | { kind: 'columnWidth'; address: string; width: number }
  | { kind: 'freezeRows'; count: number }
  /** Makes the range (header included) an Excel table. */
  | { kind: 'table'; address: string }
  /** Adds columns, with these headers, at the end of the table holding `anchor` (a header cell). */
  | { kind: 'tableColumns'; anchor: string; names: string[] }
  | { kind: 'note'; change: NoteChange };

/** Notes the product owns start with this line, so a run can replace them and leave people's notes alone. */
export const NOTE_MARKER = '【报备检查】';

/** Notes to place on the sheet, and where stale ones of the product may be removed. */
export interface NotePlan {
  /** Cell (A1, no sheet) → the product's text for it. */
  notes: Record<string, string>;
  /** Rows and columns whose product notes this write owns: stale ones there are removed. */
  scope: { rows: number[]; columns: number[] };
}

export interface SheetWrite {
  sheetName: string;
  /** `existing`: the sheet must exist; `replace`: create it, or clear it when it exists. */
  sheet: 'existing' | 'replace';
  /** Cells that must still hold these values, or nothing is written (the sheet changed meanwhile). */
  guard?: { address: string; values: SheetCell[][] };
  notes?: NotePlan;
  ops: SheetOp[];
  /** Show the sheet when done (the review sheet the user asked for). */
  activate?: boolean;
  /** A sheet the add-in keeps for itself (报备快照): created hidden (Worksheet.visibility, ExcelApi 1.1). */
  hidden?: boolean;
}

const DATE_FORMAT = 'yyyy-mm-dd';
const MONEY_FORMAT = '#,##0';
const TEXT_FORMAT = '@';

/** Excel on the web refuses requests over 5 MB; a batch is kept under 4 MB. */
export const WRITE_BUDGET_BYTES = 4 * 1024 * 1024;
/** What one operation adds to a request besides its data: the object path and the action envelope. */
export const OP_OVERHEAD_BYTES = 400;
/** getRange/getRanges refuse addresses of 8,192 characters or more; address lists stay under 8,000. */
export const MAX_ADDRESS_CHARS = 8_000;
/**
 * Areas per getRanges call. Hosts refuse long area lists below the character limit (reported around
 * 300 areas, with InvalidArgument or GeneralException); the gateway also splits and retries once.
 */
export const MAX_RANGES_AREAS = 250;
/** Rows per values block: blocks are what a write can be cut at. */
const VALUES_BLOCK_ROWS = 500;

/** UTF-8 length of a string (the request travels as UTF-8). */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

export function estimateOpBytes(op: SheetOp): number {
  return utf8Length(JSON.stringify(op)) + OP_OVERHEAD_BYTES;
}

/**
 * Cuts operations, in order, into batches of at most `budget` bytes each (one sync each). A values
 * block too large on its own is split by rows.
 */
export function batchOps(ops: readonly SheetOp[], budget = WRITE_BUDGET_BYTES): SheetOp[][] {
  const batches: SheetOp[][] = [];
  let current: SheetOp[] = [];
  let size = 0;
  const push = (op: SheetOp) => {
    const bytes = estimateOpBytes(op);
    if (bytes > budget) {
      if (op.kind !== 'values' || op.values.length < 2) {
        throw new Error(`one ${op.kind} operation is larger than the request budget (${bytes} bytes)`);
      }
      for (const half of splitValues(op)) push(half);
      return;
    }
    if (size + bytes > budget && current.length > 0) {
      batches.push(current);
      current = [];
      size = 0;
    }
    current.push(op);
    size += bytes;
  };
  for (const op of ops) push(op);
  if (current.length > 0) batches.push(current);
  return batches;
}

function splitValues(op: Extract<SheetOp, { kind: 'values' }>): SheetOp[] {
  const [start, end] = op.address.split(':');
  const from = parseCellAddress(start as string);
  const to = parseCellAddress(end ?? (start as string));
  if (from === null || to === null) throw new Error(`cannot split ${op.address}`);
  const half = Math.ceil(op.values.length / 2);
  return [
    {
      kind: 'values',
      address: rangeAddress(from.row, from.column, from.row + half - 1, to.column),
      values: op.values.slice(0, half),
    },
    {
      kind: 'values',
      address: rangeAddress(from.row + half, from.column, to.row, to.column),
      values: op.values.slice(half),
    },
  ];
}

/** Consecutive numbers as [first, last] runs. */
function runsOf(numbers: readonly number[]): [number, number][] {
  const sorted = [...new Set(numbers)].sort((a, b) => a - b);
  const runs: [number, number][] = [];
  for (const n of sorted) {
    const last = runs[runs.length - 1];
    if (last !== undefined && last[1] === n - 1) last[1] = n;
    else runs.push([n, n]);
  }
  return runs;
}

/** Addresses joined with commas into strings that each stay under the getRanges limits (characters, areas). */
export function chunkAddresses(
  addresses: readonly string[],
  maxChars = MAX_ADDRESS_CHARS,
  maxAreas = MAX_RANGES_AREAS,
): string[] {
  const chunks: string[] = [];
  let current = '';
  let areas = 0;
  for (const address of addresses) {
    if (current !== '' && (current.length + 1 + address.length > maxChars || areas >= maxAreas)) {
      chunks.push(current);
      current = '';
      areas = 0;
    }
    current = current === '' ? address : `${current},${address}`;
    areas++;
  }
  if (current !== '') chunks.push(current);
  return chunks;
}

function fillOps(color: string, addresses: readonly string[]): SheetOp[] {
  return chunkAddresses(addresses).map((chunk) => ({ kind: 'fill', color, addresses: chunk }));
}

/** Values for rows that may not be consecutive: one block per run of rows, cut into blocks of 500. */
function rowValueOps(
  rows: readonly number[],
  left: number,
  right: number,
  valuesOf: (row: number) => SheetCell[],
  format?: string,
): SheetOp[] {
  const ops: SheetOp[] = [];
  for (const [first, last] of runsOf(rows)) {
    for (let top = first; top <= last; top += VALUES_BLOCK_ROWS) {
      const bottom = Math.min(last, top + VALUES_BLOCK_ROWS - 1);
      const address = rangeAddress(top, left, bottom, right);
      if (format !== undefined) ops.push({ kind: 'numberFormat', address, format });
      ops.push({ kind: 'values', address, values: range1(top, bottom).map(valuesOf) });
    }
  }
  return ops;
}

/** Existing notes merged with the product's: people's text is kept, the product's part replaced. */
export function planNoteChanges(
  existing: readonly { address: string; content: string }[],
  plan: NotePlan,
): NoteChange[] {
  const changes: NoteChange[] = [];
  const rows = new Set(plan.scope.rows);
  const columns = new Set(plan.scope.columns);
  const seen = new Set<string>();
  for (const note of existing) {
    const at = parseCellAddress(note.address);
    if (at === null) continue;
    const cell = cellAddress(at.row, at.column);
    seen.add(cell);
    const ours = plan.notes[cell];
    const inScope = rows.has(at.row) && columns.has(at.column);
    if (ours === undefined && !inScope) continue;
    const content = noteWithOurs(note.content, ours);
    if (content === note.content) continue;
    changes.push(content === '' ? { action: 'delete', cell } : { action: 'update', cell, content });
  }
  for (const [cell, text] of Object.entries(plan.notes)) {
    if (!seen.has(cell)) changes.push({ action: 'add', cell, content: noteWithOurs('', text) });
  }
  return changes;
}

/**
 * A cell's note with the product's part set to `ours` (undefined: taken out). What people wrote
 * before the marker is kept as it is; the Excel add-in and the Google Sheets sync both write so.
 */
export function noteWithOurs(existing: string, ours: string | undefined): string {
  const markerAt = existing.indexOf(NOTE_MARKER);
  // Nothing of ours in it and nothing to add: a person's note is not rewritten, not even trimmed.
  if (markerAt < 0 && (ours === undefined || ours === '')) return existing;
  const people = (markerAt >= 0 ? existing.slice(0, markerAt) : existing).trimEnd();
  return [people, ours === undefined || ours === '' ? '' : `${NOTE_MARKER}\n${ours}`]
    .filter((part) => part !== '')
    .join('\n\n');
}

// ---------------------------------------------------------------------------------------------------
// Results written back

/** One row's result as core/annotation takes it. */
export interface RowOutcome {
  row: number;
  annotation: AnnotationInput;
  /** Fields whose note goes on another column than their own (LocalRow.readFrom). */
  readFrom?: Partial<Record<Field, number>>;
}

/**
 * A service row result as the annotation shows it. A clash with another row of the same run points
 * at that row (as the import does): by the number that row got on submit, or by its clientRowId —
 * the sheet row — in a check, where nothing was saved.
 */
export function outcomeOfResult(
  row: number,
  result: RowResult,
  rowByNo: ReadonlyMap<string, number>,
): RowOutcome {
  const conflicts = result.conflicts.map((c): AnnotatedConflict => {
    const other =
      typeof c.clientRowId === 'number'
        ? c.clientRowId
        : c.registrationNo === undefined
          ? undefined
          : rowByNo.get(c.registrationNo);
    if (other !== undefined && other !== row) {
      return { row: other, registrationNo: c.registrationNo, matchedOn: c.matchedOn, strength: c.strength };
    }
    return {
      registrationNo: c.registrationNo,
      status: c.status,
      holder: c.holder,
      protectedUntil: c.protectedUntil,
      matchedOn: c.matchedOn,
      strength: c.strength,
    };
  });
  return {
    row,
    annotation: {
      status: result.status,
      registrationNo: result.registrationNo,
      protectedUntil: result.protectedUntil,
      reviewDueBy: result.reviewDueBy,
      errors: result.errors,
      warnings: result.warnings,
      conflicts,
    },
  };
}

/** A row core finds invalid before sending: nothing was sent, so nothing was saved. */
export function outcomeOfLocalErrors(row: LocalRow): RowOutcome {
  const annotation: AnnotationInput = { status: 'invalid', errors: row.errors, warnings: [], conflicts: [] };
  return row.readFrom === undefined
    ? { row: row.row, annotation }
    : { row: row.row, annotation, readFrom: row.readFrom };
}

/** A registration as the service lists it, as far as refreshing a row needs it. */
export interface RegistrationState {
  no: string;
  status: RecordStatus;
  protectedUntil?: string | undefined;
  reviewDueBy?: string | undefined;
  reason?: string | undefined;
  conflictKind?: 'competing' | 'queued' | undefined;
  blockedBy?: string[] | undefined;
  /** Under service cadences (R31, R32, R42): the next visit's due day and the lapse day. */
  service?: { nextDue?: string | undefined; lapsesOn?: string | undefined } | undefined;
}

/** A row's current state from the service (Refresh): the decision's reason, or what it waits for. */
export function outcomeOfState(row: number, state: RegistrationState): RowOutcome {
  const notes: Problem[] = [];
  const blockers = (state.blockedBy ?? []).join('、');
  if (state.status === 'conflict' && blockers !== '') {
    notes.push(
      state.conflictKind === 'queued'
        ? problem(
            'conflict.queued',
            `排在 ${blockers} 之后，其保护期结束后转为待审核`,
            `Queued behind ${blockers}`,
          )
        : problem(
            'conflict.competing',
            `与 ${blockers} 竞争同一客户，等待审核人裁定`,
            `Competing with ${blockers}`,
          ),
    );
  }
  if (state.reason !== undefined && state.reason !== '') {
    notes.push(problem('decision.reason', `处理意见：${state.reason}`, `Reason: ${state.reason}`));
  }
  // R31/R42: the next visit's due day goes to 提示 (a column the sheet has anyway), with the lapse day.
  const due = state.service?.nextDue;
  const lapses = state.service?.lapsesOn;
  if (due !== undefined || lapses !== undefined) {
    notes.push(
      problem(
        'service.due',
        [
          ...(due !== undefined ? [`下次跟进截止 ${due}`] : []),
          ...(lapses !== undefined ? [`未跟进将于 ${lapses} 失效回到公海`] : []),
        ].join('，'),
        [
          ...(due !== undefined ? [`next visit due by ${due}`] : []),
          ...(lapses !== undefined ? [`lapses into the pool on ${lapses} without one`] : []),
        ].join('; '),
      ),
    );
  }
  return {
    row,
    annotation: {
      status: state.status,
      registrationNo: state.no,
      protectedUntil: state.protectedUntil,
      reviewDueBy: state.reviewDueBy,
      errors: [],
      warnings: notes,
      conflicts: [],
    },
  };
}

export interface ResultOptions {
  /** Notes can be placed (ExcelApi 1.18); without them the explanation is only in 冲突说明. */
  notes: boolean;
  /** 提示 texts of rows that are no registration (planSkippedRowHints): 提示 only, no fill, no status. */
  hints?: readonly HintWrite[];
  /** The values read before the service was called, to make sure the rows did not move meanwhile. */
  guardGrid?: SheetGrid;
}

/** Column width (points) of each result column, like the import's. */
const RESULT_WIDTHS: Record<ResultColumn, number> = {
  registrationNo: 110,
  status: 75,
  protectedUntil: 85,
  conflict: 360,
  hint: 260,
};

/** Headers (and widths) of the result columns the sheet does not have yet. */
function resultHeaderOps(layout: SheetLayout): SheetOp[] {
  const ops: SheetOp[] = [];
  const { headerRow } = layout;
  if (layout.appendToTable === true && layout.missingResultColumns.length > 0) {
    // Written beside a table they would be outside it (or swallowed by AutoExpand, depending on the
    // user's AutoCorrect options); added as table columns they move with the rows when it is sorted.
    const missing = [...layout.missingResultColumns].sort(
      (a, b) => layout.resultColumns[a] - layout.resultColumns[b],
    );
    ops.push({
      kind: 'tableColumns',
      anchor: cellAddress(headerRow, layout.firstColumn),
      names: missing.map((k) => RESULT_HEADERS.find((h) => h.key === k)!.zh),
    });
    for (const key of missing) {
      ops.push({
        kind: 'columnWidth',
        address: cellAddress(headerRow, layout.resultColumns[key]),
        width: RESULT_WIDTHS[key],
      });
    }
    return ops;
  }
  for (const [left, right] of runsOf(layout.missingResultColumns.map((k) => layout.resultColumns[k]))) {
    const address = rangeAddress(headerRow, left, headerRow, right);
    const labels = range1(left, right).map(
      (col) => RESULT_HEADERS.find((h) => layout.resultColumns[h.key] === col)!.zh,
    );
    ops.push({ kind: 'numberFormat', address, format: TEXT_FORMAT });
    ops.push({ kind: 'values', address, values: [labels] });
    ops.push({ kind: 'headerStyle', address });
  }
  for (const key of layout.missingResultColumns) {
    const column = layout.resultColumns[key];
    ops.push({ kind: 'columnWidth', address: cellAddress(headerRow, column), width: RESULT_WIDTHS[key] });
  }
  return ops;
}

/**
 * What a run writes back: the result cells per row (via core/annotation, as text), the row fill by
 * status, invalid cells filled a deeper violet on top, and notes on invalid cells.
 */
export function planResults(
  layout: SheetLayout,
  outcomes: readonly RowOutcome[],
  options: ResultOptions,
): SheetWrite {
  const byRow = new Map(outcomes.map((o) => [o.row, annotateRow(o.annotation)]));
  const readFrom = new Map(outcomes.flatMap((o) => (o.readFrom === undefined ? [] : [[o.row, o.readFrom]])));
  const rows = [...byRow.keys()].sort((a, b) => a - b);
  const hints = (options.hints ?? []).filter((h) => !byRow.has(h.row));
  // A sheet that was never prepared gets its result headers now, so the next run finds the columns.
  const ops: SheetOp[] = rows.length > 0 || hints.length > 0 ? resultHeaderOps(layout) : [];
  const hintText = new Map(hints.map((h) => [h.row, h.text]));
  const hintColumn = layout.resultColumns.hint;
  ops.push(
    ...rowValueOps(
      [...hintText.keys()].sort((a, b) => a - b),
      hintColumn,
      hintColumn,
      (row) => [hintText.get(row) ?? ''],
      '@',
    ),
  );

  // Result columns are usually side by side; when a sheet has them apart, each group is written alone.
  const resultKeys = RESULT_HEADERS.map((h) => h.key);
  for (const [left, right] of runsOf(resultKeys.map((k) => layout.resultColumns[k]))) {
    const keys = range1(left, right).map((col) => resultKeys.find((k) => layout.resultColumns[k] === col)!);
    ops.push(...rowValueOps(rows, left, right, (row) => keys.map((k) => byRow.get(row)!.cells[k]), '@'));
  }

  const fillRight = Math.max(...Object.values(layout.resultColumns));
  for (const name of Object.keys(FILLS) as (keyof typeof FILLS)[]) {
    const fillRows = rows.filter((row) => byRow.get(row)!.fill === name);
    const addresses = runsOf(fillRows).map(([top, bottom]) =>
      rangeAddress(top, layout.firstColumn, bottom, fillRight),
    );
    ops.push(...fillOps(`#${FILLS[name].fill}`, addresses));
  }

  const invalidCells: string[] = [];
  const notes: Record<string, string> = {};
  for (const row of rows) {
    for (const [field, text] of Object.entries(byRow.get(row)!.notes) as [Field, string][]) {
      const column = readFrom.get(row)?.[field] ?? layout.fieldColumns[field];
      if (column === undefined) continue;
      const cell = cellAddress(row, column);
      invalidCells.push(cell);
      notes[cell] = text;
    }
  }
  ops.push(...fillOps(`#${FILLS[INVALID_CELL_FILL].fill}`, invalidCells));

  const write: SheetWrite = { sheetName: layout.sheetName, sheet: 'existing', ops };
  if (options.notes) {
    // The second phone column holds notes too (readFrom): an earlier run's there is ours to replace.
    const columns = Object.values(layout.fieldColumns);
    if (layout.phoneFallbackColumn !== undefined) columns.push(layout.phoneFallbackColumn);
    write.notes = { notes, scope: { rows, columns } };
  }
  const hintRows = [...hintText.keys()].sort((a, b) => a - b);
  if (options.guardGrid !== undefined && (rows.length > 0 || hintRows.length > 0)) {
    const top = Math.min(rows[0] ?? Infinity, hintRows[0] ?? Infinity);
    const bottom = Math.max(rows[rows.length - 1] ?? 0, hintRows[hintRows.length - 1] ?? 0);
    write.guard = guardOf(layout, options.guardGrid, top, bottom);
  }
  return write;
}

/** The customer-name column (or the first mapped one) over the rows written: what identifies them. */
function guardOf(layout: SheetLayout, grid: SheetGrid, top: number, bottom: number): SheetWrite['guard'] {
  const column =
    layout.fieldColumns.customerName ?? Math.min(...Object.values(layout.fieldColumns), layout.firstColumn);
  return {
    address: rangeAddress(top, column, bottom, column),
    values: range1(top, bottom).map((row) => [cellAt(grid, row, column) ?? '']),
  };
}

// ---------------------------------------------------------------------------------------------------
// Prepare (step 2): table, validation, formats, result columns, invalid cells

/**
 * Why an Excel table should not be made over this header, or null. Excel's tables.add renames blank
 * header cells (列1 / Column1) and repeated ones (备注2) — in a two-row header whose names sit in the
 * upper row that would change the header the mapping was made from, and every later run would stop
 * at sheet.header_changed. Such a header is left as it is: validation, formats and results still work.
 */
export function tableHeaderProblem(layout: SheetLayout, grid: SheetGrid): Problem | null {
  const right = Math.max(...Object.values(layout.resultColumns));
  const pending = new Set(layout.missingResultColumns.map((k) => layout.resultColumns[k]));
  const blank: string[] = [];
  const repeated: string[] = [];
  const seen = new Set<string>();
  for (let column = layout.firstColumn; column <= right; column++) {
    if (pending.has(column)) continue;
    const text = textOf(cellAt(grid, layout.headerRow, column)).toLowerCase();
    if (text === '') blank.push(cellAddress(layout.headerRow, column));
    else if (seen.has(text)) repeated.push(cellAddress(layout.headerRow, column));
    seen.add(text);
  }
  if (blank.length === 0 && repeated.length === 0) return null;
  const cells = [...blank, ...repeated].join('、');
  return problem(
    'table.header_not_unique',
    `表头有空白或重复的单元格（${cells}），Excel 建表时会改名，因此没有转为 Excel 表`,
    `The header has blank or repeated cells (${cells.replace(/、/g, ', ')}) that Excel would rename in a table, so no table was made`,
  );
}

export interface PrepareOptions {
  /** False when the header row is already part of an Excel table. */
  createTable: boolean;
  notes: boolean;
}

export interface PreparePlan {
  write: SheetWrite;
  /** Cells core finds invalid, marked a deeper violet (and noted, where notes are supported). */
  invalidCells: number;
  invalidRows: number;
}

/** Excel refuses data-validation formulas longer than this. */
export const MAX_VALIDATION_FORMULA = 255;

function warning(title: string, message: string): ValidationAlert {
  // Warning, not Stop: core accepts more spellings (2026年3月5日, 50万, 公司) than a rule can say.
  return { showAlert: true, style: 'Warning', title, message };
}

/** The validation of a field's column, the top cell being `top` (custom formulas are relative to it). */
export function validationFor(
  field: Field,
  top: string,
): { rule: ValidationRule; alert: ValidationAlert } | null {
  const spec = FIELD_SPECS[field];
  switch (spec.kind) {
    case 'customerType': {
      const words = Object.values(CUSTOMER_TYPE_LABELS).map((l) => l.zh);
      return {
        rule: { list: { inCellDropDown: true, source: words.join(',') } },
        alert: warning(spec.zh, `请选择 ${words.join('、')}`),
      };
    }
    case 'grade':
      // R42: the three grades; core also reads A类 / A级, hence a warning rather than a stop.
      return {
        rule: { list: { inCellDropDown: true, source: GRADES.join(',') } },
        alert: warning(spec.zh, `请选择 ${GRADES.join('、')}`),
      };
    case 'day':
    case 'instant':
      return {
        rule: { date: { formula1: '1990-01-01', formula2: '2100-12-31', operator: 'Between' } },
        alert: warning(spec.zh, '请输入日期，如 2026-03-05'),
      };
    case 'phone': {
      // A mobile (11 digits from 1), a masked one (138****5678), or a landline with its area code
      // (0…, dashes allowed) — kept short: Excel refuses validation formulas over 255 characters.
      const digits = `SUBSTITUTE(${top},"-","")`;
      return {
        rule: {
          custom: {
            formula:
              `=OR(AND(LEN(${top})=11,LEFT(${top})="1",ISNUMBER(--${top})),MID(${top},4,4)="****",` +
              `AND(LEFT(${top})="0",ISNUMBER(--${digits}),LEN(${digits})>9))`,
          },
        },
        alert: warning(
          spec.zh,
          '应为 11 位手机号、带区号的固定电话（如 021-12345678）或前三后四（如 138****5678）',
        ),
      };
    }
    case 'creditCode':
      // 18 characters; old 15-digit business registration numbers are still accepted by core.
      return {
        rule: { custom: { formula: `=OR(LEN(TRIM(${top}))=18,AND(LEN(${top})=15,ISNUMBER(--${top})))` } },
        alert: warning(spec.zh, '统一社会信用代码应为 18 位'),
      };
    default:
      return null;
  }
}

function numberFormatFor(field: Field): string | null {
  switch (FIELD_SPECS[field].kind) {
    case 'day':
    case 'instant':
      return DATE_FORMAT;
    case 'money':
      return MONEY_FORMAT;
    // Text keeps long digit strings exact (an 18-digit code typed as a number would lose digits).
    case 'phone':
    case 'creditCode':
      return TEXT_FORMAT;
    default:
      return null;
  }
}

/**
 * Prepare: result headers, number formats, data validation per field column, invalid rows marked
 * as a check would mark them (nothing sent), and an Excel table over header and data — last, so a
 * table that cannot be made leaves everything else in place.
 */
export function planPrepare(
  layout: SheetLayout,
  rows: readonly LocalRow[],
  options: PrepareOptions,
): PreparePlan {
  const ops: SheetOp[] = [];
  const { headerRow } = layout;
  const top = headerRow + 1;
  const bottom = Math.max(layout.lastDataRow, top);

  ops.push(...resultHeaderOps(layout));
  for (const column of Object.values(layout.resultColumns)) {
    ops.push({
      kind: 'numberFormat',
      address: rangeAddress(top, column, bottom, column),
      format: TEXT_FORMAT,
    });
  }

  for (const [field, column] of Object.entries(layout.fieldColumns) as [Field, number][]) {
    const address = rangeAddress(top, column, bottom, column);
    const format = numberFormatFor(field);
    if (format !== null) ops.push({ kind: 'numberFormat', address, format });
    const validation = validationFor(field, cellAddress(top, column));
    if (validation !== null) ops.push({ kind: 'validation', address, ...validation });
  }

  const invalid = rows.filter((r) => r.errors.length > 0 && r.registrationNo === null);
  const marks = planResults({ ...layout, missingResultColumns: [] }, invalid.map(outcomeOfLocalErrors), {
    notes: options.notes,
  });
  ops.push(...marks.ops);
  const invalidCells = marks.ops
    .filter(
      (op): op is Extract<SheetOp, { kind: 'fill' }> =>
        op.kind === 'fill' && op.color === `#${FILLS[INVALID_CELL_FILL].fill}`,
    )
    .reduce((n, op) => n + op.addresses.split(',').length, 0);

  if (options.createTable) {
    const right = Math.max(...Object.values(layout.resultColumns));
    ops.push({ kind: 'table', address: rangeAddress(headerRow, layout.firstColumn, bottom, right) });
  }
  const write: SheetWrite = { sheetName: layout.sheetName, sheet: 'existing', ops };
  if (marks.notes !== undefined) write.notes = marks.notes;
  return { write, invalidCells, invalidRows: invalid.length };
}

// ---------------------------------------------------------------------------------------------------
// The 待审核 review sheet

export const REVIEW_SHEET_NAME = '待审核';

/** A competing registration as GET /api/review-queue lists it. */
export interface ReviewCompetitor {
  registrationNo: string;
  registrant: string;
  team?: string | undefined;
  status: RecordStatus;
  claimedAt: string;
  rank: number;
  share?: number | undefined;
  needsReview: boolean;
  reasons: { message: string }[];
  expectedAmount?: number | undefined;
  expectedUnitPrice?: number | undefined;
  expectedSignDate?: string | undefined;
  followUps: number;
}

export interface ReviewGroup {
  customer: string;
  competitors: ReviewCompetitor[];
}

export type ReviewDecisionKind = 'approve' | 'reject' | 'share';

/** What a reviewer typed on a row, kept when a rebuild follows a failed decision. */
export interface ReviewCarryOver {
  decision: string;
  reason: string;
  shareWith: string;
  /** Why the decision was not taken. */
  outcome: string;
}

type ReviewColumn =
  | 'group'
  | 'customer'
  | 'rank'
  | 'registrationNo'
  | 'registrant'
  | 'team'
  | 'status'
  | 'claimedAt'
  | 'expectedAmount'
  | 'expectedUnitPrice'
  | 'expectedSignDate'
  | 'followUps'
  | 'share'
  | 'reasons'
  | 'decision'
  | 'reason'
  | 'shareWith'
  | 'outcome';

/**
 * Number format and width of each column of a sheet we build from row 1 (待审核, 我的报备, 公海).
 * The format covers at least row 2 so an empty sheet still types what is pasted under the header
 * as the column means (text stays text, money stays money).
 */
export function columnSetupOps(
  columns: readonly { width: number; format?: string }[],
  lastRow: number,
  defaultFormat: string = TEXT_FORMAT,
): SheetOp[] {
  const ops: SheetOp[] = [];
  columns.forEach((col, i) => {
    ops.push({
      kind: 'numberFormat',
      address: rangeAddress(1, i + 1, Math.max(lastRow, 2), i + 1),
      format: col.format ?? defaultFormat,
    });
    ops.push({ kind: 'columnWidth', address: cellAddress(1, i + 1), width: col.width });
  });
  return ops;
}

const REVIEW_COLUMNS: readonly { key: ReviewColumn; zh: string; width: number; format: string }[] = [
  { key: 'group', zh: '组', width: 30, format: 'General' },
  { key: 'customer', zh: '客户名称', width: 180, format: TEXT_FORMAT },
  { key: 'rank', zh: '排名', width: 35, format: 'General' },
  { key: 'registrationNo', zh: RESULT_COLUMNS.registrationNo.zh, width: 110, format: TEXT_FORMAT },
  { key: 'registrant', zh: FIELD_SPECS.registrant.zh, width: 60, format: TEXT_FORMAT },
  { key: 'team', zh: FIELD_SPECS.team.zh, width: 70, format: TEXT_FORMAT },
  { key: 'status', zh: RESULT_COLUMNS.status.zh, width: 60, format: TEXT_FORMAT },
  { key: 'claimedAt', zh: FIELD_SPECS.registeredAt.zh, width: 110, format: TEXT_FORMAT },
  { key: 'expectedAmount', zh: FIELD_SPECS.expectedAmount.zh, width: 90, format: MONEY_FORMAT },
  { key: 'expectedUnitPrice', zh: FIELD_SPECS.expectedUnitPrice.zh, width: 90, format: MONEY_FORMAT },
  { key: 'expectedSignDate', zh: FIELD_SPECS.expectedSignDate.zh, width: 85, format: TEXT_FORMAT },
  { key: 'followUps', zh: '跟进次数', width: 50, format: 'General' },
  { key: 'share', zh: '份额(%)', width: 50, format: 'General' },
  { key: 'reasons', zh: '排序依据', width: 300, format: TEXT_FORMAT },
  { key: 'decision', zh: '决定', width: 50, format: TEXT_FORMAT },
  { key: 'reason', zh: '处理意见', width: 200, format: TEXT_FORMAT },
  { key: 'shareWith', zh: '共享对象', width: 110, format: TEXT_FORMAT },
  { key: 'outcome', zh: '处理结果', width: 200, format: TEXT_FORMAT },
];

const DECISION_WORDS: Record<string, ReviewDecisionKind> = {
  通过: 'approve',
  同意: 'approve',
  批准: 'approve',
  approve: 'approve',
  驳回: 'reject',
  拒绝: 'reject',
  reject: 'reject',
  共享: 'share',
  share: 'share',
};
const DECISION_LABELS: Record<ReviewDecisionKind, string> = {
  approve: '通过',
  reject: '驳回',
  share: '共享',
};

/** An instant as Shanghai wall-clock `YYYY-MM-DD HH:mm`. */
function shanghaiMinute(instant: string): string {
  const ms = Date.parse(instant);
  if (Number.isNaN(ms)) return instant;
  return `${dayOf(instant)} ${new Date(ms + 8 * 3600_000).toISOString().slice(11, 16)}`;
}

/**
 * The 待审核 sheet: one row per competing registration, grouped by customer and ranked (R15/R17),
 * with a 决定 column (通过 / 驳回 / 共享, a drop-down), 处理意见 and 共享对象 to fill in.
 */
export function planReviewSheet(
  groups: readonly ReviewGroup[],
  carry: ReadonlyMap<string, ReviewCarryOver> = new Map(),
): { write: SheetWrite; rows: number } {
  const header = REVIEW_COLUMNS.map((c) => c.zh);
  const body: SheetCell[][] = [];
  const groupRows: number[][] = [[], []];
  groups.forEach((group, g) => {
    for (const c of group.competitors) {
      const kept = carry.get(c.registrationNo);
      const cells: Record<ReviewColumn, SheetCell> = {
        group: g + 1,
        customer: group.customer,
        rank: c.rank,
        registrationNo: c.registrationNo,
        registrant: c.registrant,
        team: c.team ?? '',
        status: STATUS_LABELS[c.status].zh,
        claimedAt: shanghaiMinute(c.claimedAt),
        expectedAmount: c.expectedAmount ?? '',
        expectedUnitPrice: c.expectedUnitPrice ?? '',
        expectedSignDate: c.expectedSignDate ?? '',
        followUps: c.followUps,
        share: c.share ?? '',
        reasons: c.reasons.map((r) => r.message).join('；'),
        decision: kept?.decision ?? '',
        reason: kept?.reason ?? '',
        shareWith: kept?.shareWith ?? '',
        outcome: kept?.outcome ?? '',
      };
      body.push(REVIEW_COLUMNS.map((col) => cells[col.key]));
      groupRows[g % 2]!.push(body.length + 1);
    }
  });
  const last = body.length + 1;
  const right = REVIEW_COLUMNS.length;
  const ops: SheetOp[] = columnSetupOps(REVIEW_COLUMNS, last);
  ops.push(...rowValueOps(range1(1, last), 1, right, (row) => (row === 1 ? header : body[row - 2]!)));
  ops.push({ kind: 'headerStyle', address: rangeAddress(1, 1, 1, right) });
  // Every other customer shaded, so a group reads as one block.
  ops.push(
    ...fillOps(
      '#F2F2F2',
      runsOf(groupRows[1]!).map(([a, b]) => rangeAddress(a, 1, b, right)),
    ),
  );
  const failed = body.flatMap((cells, i) => (cells[right - 1] !== '' ? [i + 2] : []));
  ops.push(
    ...fillOps(
      `#${FILLS.red.fill}`,
      runsOf(failed).map(([a, b]) => rangeAddress(a, 1, b, right)),
    ),
  );
  const decisionColumn = REVIEW_COLUMNS.findIndex((c) => c.key === 'decision') + 1;
  ops.push({
    kind: 'validation',
    address: rangeAddress(2, decisionColumn, Math.max(last, 2), decisionColumn),
    rule: { list: { inCellDropDown: true, source: Object.values(DECISION_LABELS).join(',') } },
    alert: { showAlert: true, style: 'Stop', title: '决定', message: '请选择 通过、驳回 或 共享' },
  });
  ops.push({ kind: 'freezeRows', count: 1 });
  return {
    write: { sheetName: REVIEW_SHEET_NAME, sheet: 'replace', ops, activate: true },
    rows: body.length,
  };
}

export interface ReviewDecision {
  row: number;
  registrationNo: string;
  body: { decision: ReviewDecisionKind; reason: string; shareWith?: string };
  carry: ReviewCarryOver;
}

/** The decisions typed into a 待审核 sheet (columns found by their header text), and what is wrong with them. */
export function readReviewDecisions(grid: SheetGrid): {
  decisions: ReviewDecision[];
  errors: { row: number; registrationNo: string; message: string; carry: ReviewCarryOver }[];
} {
  const header = (grid[0] ?? []).map((cell) => textOf(cell));
  const columnOf = (key: ReviewColumn): number =>
    header.indexOf(REVIEW_COLUMNS.find((c) => c.key === key)!.zh) + 1;
  const noColumn = columnOf('registrationNo');
  const decisionColumn = columnOf('decision');
  if (noColumn === 0 || decisionColumn === 0) {
    throw new DomainError(
      problem(
        'review.sheet_invalid',
        `「${REVIEW_SHEET_NAME}」表缺少「报备编号」或「决定」列，请重新生成待审核表`,
        `The ${REVIEW_SHEET_NAME} sheet lacks the registration-number or decision column; build it again`,
      ),
    );
  }
  const reasonColumn = columnOf('reason');
  const shareColumn = columnOf('shareWith');
  const decisions: ReviewDecision[] = [];
  const errors: { row: number; registrationNo: string; message: string; carry: ReviewCarryOver }[] = [];
  for (let row = 2; row <= grid.length; row++) {
    const word = textOf(cellAt(grid, row, decisionColumn));
    if (word === '') continue;
    const registrationNo = textOf(cellAt(grid, row, noColumn));
    const reason = reasonColumn > 0 ? textOf(cellAt(grid, row, reasonColumn)) : '';
    const shareWith = shareColumn > 0 ? textOf(cellAt(grid, row, shareColumn)) : '';
    const carry = { decision: word, reason, shareWith, outcome: '' };
    const fail = (message: string) =>
      errors.push({ row, registrationNo, message, carry: { ...carry, outcome: message } });
    const decision = DECISION_WORDS[word.toLowerCase()];
    if (!REGISTRATION_NO.test(registrationNo)) fail(`第 ${row} 行没有有效的报备编号`);
    else if (decision === undefined) fail(`第 ${row} 行的决定「${word}」无法识别：应为 通过、驳回 或 共享`);
    else if (reason === '') fail(`第 ${row} 行请填写处理意见`);
    else if (decision === 'share' && !REGISTRATION_NO.test(shareWith)) {
      fail(`第 ${row} 行选择共享时，请在「共享对象」填写另一方的报备编号`);
    } else {
      decisions.push({
        row,
        registrationNo,
        body: { decision, reason, ...(decision === 'share' ? { shareWith } : {}) },
        carry,
      });
    }
  }
  return { decisions, errors };
}

// ---------------------------------------------------------------------------------------------------
// Counting

/** Rows per status, for a run's summary. */
export function countByStatus(outcomes: readonly RowOutcome[]): Partial<Record<RowStatus, number>> {
  const counts: Partial<Record<RowStatus, number>> = {};
  for (const o of outcomes) counts[o.annotation.status] = (counts[o.annotation.status] ?? 0) + 1;
  return counts;
}
