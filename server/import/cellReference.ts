/** A1-style cell references: column letters to numbers and back (A = 1, XFD = 16,384). */

/** Excel's last column, XFD. */
export const MAX_COLUMN = 16_384;
/** Excel's last row. */
export const MAX_ROW = 1_048_576;

export function columnLetter(n: number): string {
  let s = '';
  for (let x = n; x > 0; x = Math.floor((x - 1) / 26)) s = String.fromCharCode(65 + ((x - 1) % 26)) + s;
  return s;
}

/** The column of a reference such as `AB12` (its letters; digits and `$` ignored), 0 when it has none. */
export function columnOf(reference: string): number {
  let n = 0;
  for (let i = 0; i < reference.length; i++) {
    const c = reference.charCodeAt(i) | 0x20; // lower case
    if (c >= 0x61 && c <= 0x7a) n = n * 26 + (c - 0x60);
    else if (c !== 0x24 /* $ */) break;
  }
  return n;
}

/** The row of a reference such as `AB12`, 0 when it has none. */
export function rowOf(reference: string): number {
  const digits = /\d+$/.exec(reference)?.[0];
  return digits === undefined ? 0 : Number(digits);
}

/** Letters of the first columns, computed once (addresses are written for every cell of a sheet). */
const LETTERS = Array.from({ length: 702 }, (_, i) => columnLetter(i + 1));

export function cellAddress(row: number, column: number): string {
  return `${LETTERS[column - 1] ?? columnLetter(column)}${row}`;
}
