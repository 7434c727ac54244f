/**
 * The rows a sheet sends: every data row read by its layout (core/sheetLayout) and parsed by core
 * exactly as the service will parse it, with what is wrong with it before anything is sent (Excel
 * error cells, 1904 date serials, money in the header's unit, the second phone column). The add-in
 * and the Google Sheets sync both read rows here.
 */
import { excelErrorProblem } from './cellText.js';
import { inHeaderUnit } from './money.js';
import { phoneCellOf, phoneReadFromFallback } from './phoneColumns.js';
import type { Problem } from './problem.js';
import { parseRow, type RowContext } from './row.js';
import { FIELD_SPECS, type Field, type SubmissionRow } from './schema.js';
import { cellAddress, cellAt, isBlank, type SheetCell, type SheetGrid } from './sheetGrid.js';
import type { SheetLayout } from './sheetLayout.js';

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
