/**
 * Prepare step 2: what the add-in does to a sheet before the first check — result headers, number
 * formats, data validation per field column (kept within Excel's 255-character formula limit),
 * invalid rows marked as a check would mark them, and an Excel table over header and data when the
 * header allows one.
 */
import { FILLS, INVALID_CELL_FILL } from './annotation.js';
import { problem, type Problem } from './problem.js';
import { CUSTOMER_TYPE_LABELS, FIELD_SPECS, GRADES, type Field } from './schema.js';
import { cellAddress, cellAt, rangeAddress, textOf, type SheetGrid } from './sheetGrid.js';
import type { SheetLayout } from './sheetLayout.js';
import { outcomeOfLocalErrors, planResults, resultHeaderOps } from './sheetResults.js';
import type { LocalRow } from './sheetRows.js';
import {
  DATE_FORMAT,
  MONEY_FORMAT,
  TEXT_FORMAT,
  type SheetOp,
  type SheetWrite,
  type ValidationAlert,
  type ValidationRule,
} from './sheetWrite.js';

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
