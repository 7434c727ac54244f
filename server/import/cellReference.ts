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

/** The row of a reference such as `AB12` (its trailing digits), 0 when it has none. Linear: no regex backtracking. */
export function rowOf(reference: string): number {
  let start = reference.length;
  while (start > 0 && isDigit(reference.charCodeAt(start - 1))) start--;
  return start === reference.length ? 0 : Number(reference.slice(start));
}

/**
 * A cell reference (`B7`, `$B$7`) inside Excel's grid as its column and row; undefined when it is
 * not one (`ZZZZZ1`, `A1e15`, `A0`, `XFE1`, seven-letter columns). Looks at no more than a
 * reference's longest form, however long the text.
 */
export function parseCellReference(reference: string): { column: number; row: number } | undefined {
  const length = reference.length;
  if (length > MAX_REFERENCE_CHARS) return undefined;
  // By hand, not by pattern: every cell of a sheet is read and patched through here, and this is
  // several times cheaper than a match and its groups. Accepts what /^\$?[A-Za-z]{1,3}\$?[0-9]{1,7}$/ does.
  let p = reference.charCodeAt(0) === DOLLAR ? 1 : 0;
  const lettersFrom = p;
  let column = 0;
  for (; p < length; p++) {
    const c = reference.charCodeAt(p) | 0x20; // lower case (only A–Z and a–z land in a–z)
    if (c < 0x61 || c > 0x7a) break;
    column = column * 26 + (c - 0x60);
  }
  if (p === lettersFrom || p - lettersFrom > 3) return undefined;
  if (reference.charCodeAt(p) === DOLLAR) p++;
  const digitsFrom = p;
  let row = 0;
  for (; p < length; p++) {
    const c = reference.charCodeAt(p);
    if (!isDigit(c)) return undefined;
    row = row * 10 + (c - 0x30);
  }
  if (p === digitsFrom || p - digitsFrom > 7) return undefined;
  return column <= MAX_COLUMN && row >= 1 && row <= MAX_ROW ? { column, row } : undefined;
}

/** `$XFD$1048576`. */
const MAX_REFERENCE_CHARS = 12;
const DOLLAR = 0x24;

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** Letters of the first columns, computed once (addresses are written for every cell of a sheet). */
const LETTERS = Array.from({ length: 702 }, (_, i) => columnLetter(i + 1));

export function cellAddress(row: number, column: number): string {
  return `${LETTERS[column - 1] ?? columnLetter(column)}${row}`;
}
