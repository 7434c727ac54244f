/**
 * What the Excel add-in writes to a sheet, as plain data the Excel module executes: the operations
 * (values, formats, validation, fills, table, notes), a sheet's write with its guard, the builders
 * the plans share (values by runs of rows, fills by colour, a built sheet's columns), and how a
 * write is cut into batches that stay under Excel on the web's request limits (5 MB a request,
 * 8,192 characters and some 300 areas an address list).
 */
import { cellAddress, parseCellAddress, range1, rangeAddress, type SheetCell } from './sheetGrid.js';
import type { NoteChange, NotePlan } from './sheetNotes.js';

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

export const DATE_FORMAT = 'yyyy-mm-dd';
export const MONEY_FORMAT = '#,##0';
export const TEXT_FORMAT = '@';

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
export function runsOf(numbers: readonly number[]): [number, number][] {
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

export function fillOps(color: string, addresses: readonly string[]): SheetOp[] {
  return chunkAddresses(addresses).map((chunk) => ({ kind: 'fill', color, addresses: chunk }));
}

/** Values for rows that may not be consecutive: one block per run of rows, cut into blocks of 500. */
export function rowValueOps(
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
