/**
 * A sheet's cells as Excel's API and the Google Sheets sync hand them over, and A1 addresses: the
 * vocabulary every sheet plan (core/sheetLayout, sheetWrite, sheetResults, reviewSheetPlan,
 * mySheetPlan…) is written in.
 */

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

/** The value at a 1-based row and column; `''` outside the grid (rows may be short). */
export function cellAt(grid: SheetGrid, row: number, column: number): SheetCell {
  return grid[row - 1]?.[column - 1] ?? '';
}

/** Empty, null or only spaces: a cell that holds nothing. */
export function isBlank(value: SheetCell): boolean {
  return value === null || value === '' || (typeof value === 'string' && value.trim() === '');
}

/** A cell as trimmed text (numbers and booleans as written by String). */
export function textOf(value: SheetCell): string {
  return value === null ? '' : String(value).trim();
}

/** Width of the grid: the last column holding anything. */
export function lastUsedColumn(grid: SheetGrid, rows: Iterable<number>): number {
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

/** The integers from `from` to `to`, both included (rows and columns are 1-based). */
export function range1(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
}
