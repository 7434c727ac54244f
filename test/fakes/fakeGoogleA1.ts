/**
 * A1 notation as the Sheets API reads it: `Sheet1!A1:B2`, `'报备 表'!A:F`, `Sheet1!5:9`, `A2:C`
 * (open-ended), `Sheet1` (the whole sheet), `'It''s'!A1` (a quote doubled inside a quoted name), and
 * a range without a sheet name meaning the first sheet. Indexes are 0-based and half-open like a
 * GridRange; an open end is `undefined`. Written independently of the client's range builder so a
 * mistake in one is caught by the other.
 */

export interface A1Range {
  /** The sheet name as written (unquoted); undefined when the range names none. */
  sheetName: string | undefined;
  startRow: number | undefined;
  endRow: number | undefined;
  startColumn: number | undefined;
  endColumn: number | undefined;
}

/** Google's largest column is ZZZ (18,278 columns); more letters cannot parse. */
const MAX_COLUMN_LETTERS = 3;

export function columnLetters(index: number): string {
  let n = index + 1;
  let s = '';
  while (n > 0) {
    const rem = (n - 1) % 26;
    s = String.fromCharCode(65 + rem) + s;
    n = Math.floor((n - 1) / 26);
  }
  return s;
}

function columnIndex(letters: string): number {
  let n = 0;
  for (const ch of letters.toUpperCase()) n = n * 26 + (ch.charCodeAt(0) - 64);
  return n - 1;
}

interface Endpoint {
  column: number | undefined;
  row: number | undefined;
}

const ENDPOINT = /^([A-Za-z]{1,3})?([1-9][0-9]{0,6})?$/;

function parseEndpoint(text: string): Endpoint | undefined {
  const m = ENDPOINT.exec(text);
  if (m === null || (m[1] === undefined && m[2] === undefined)) return undefined;
  if (m[1] !== undefined && m[1].length > MAX_COLUMN_LETTERS) return undefined;
  return {
    column: m[1] === undefined ? undefined : columnIndex(m[1]),
    row: m[2] === undefined ? undefined : Number(m[2]) - 1,
  };
}

/** The cell part (`A1:B2`, `A:C`, `3:7`, `B4`); undefined when it is not A1 notation. */
function parseCells(text: string): Omit<A1Range, 'sheetName'> | undefined {
  const parts = text.split(':');
  if (parts.length > 2) return undefined;
  const start = parseEndpoint(parts[0] ?? '');
  if (start === undefined) return undefined;
  if (parts.length === 1) {
    // A lone cell; a lone column letter or row number is not a range on its own.
    if (start.column === undefined || start.row === undefined) return undefined;
    return {
      startRow: start.row,
      endRow: start.row + 1,
      startColumn: start.column,
      endColumn: start.column + 1,
    };
  }
  const end = parseEndpoint(parts[1] ?? '');
  if (end === undefined) return undefined;
  // `A:B5`, `5:B` and the like mix a row-only with a column-only end: not a range.
  if (start.column === undefined && end.column !== undefined) return undefined;
  if (start.row === undefined && start.column !== undefined && end.column === undefined) return undefined;
  let [c1, c2] = [start.column, end.column];
  let [r1, r2] = [start.row, end.row];
  if (c1 !== undefined && c2 !== undefined && c1 > c2) [c1, c2] = [c2, c1];
  if (r1 !== undefined && r2 !== undefined && r1 > r2) [r1, r2] = [r2, r1];
  return {
    startRow: r1,
    endRow: r2 === undefined ? undefined : r2 + 1,
    startColumn: c1,
    endColumn: c2 === undefined ? undefined : c2 + 1,
  };
}

/**
 * Parses a range. `sheetExists` decides the ambiguous bare form: `Sheet1` is a whole sheet when such
 * a sheet exists, otherwise a bare `A1:B2` is cells on the first sheet.
 */
export function parseA1(text: string, sheetExists: (name: string) => boolean): A1Range | undefined {
  const t = text.trim();
  if (t === '') return undefined;
  let sheetName: string | undefined;
  let rest: string | undefined;
  if (t.startsWith("'")) {
    let i = 1;
    let name = '';
    for (;;) {
      const q = t.indexOf("'", i);
      if (q < 0) return undefined;
      name += t.slice(i, q);
      if (t[q + 1] === "'") {
        name += "'";
        i = q + 2;
        continue;
      }
      i = q + 1;
      break;
    }
    sheetName = name;
    if (i === t.length) rest = undefined;
    else if (t[i] === '!') rest = t.slice(i + 1);
    else return undefined;
  } else {
    const bang = t.lastIndexOf('!');
    if (bang >= 0) {
      sheetName = t.slice(0, bang);
      rest = t.slice(bang + 1);
      if (sheetName === '' || sheetName.includes("'")) return undefined;
    } else if (sheetExists(t)) {
      sheetName = t;
      rest = undefined;
    } else {
      rest = t;
    }
  }
  if (rest === undefined) {
    return {
      sheetName,
      startRow: undefined,
      endRow: undefined,
      startColumn: undefined,
      endColumn: undefined,
    };
  }
  const cells = parseCells(rest);
  return cells === undefined ? undefined : { sheetName, ...cells };
}

/** Names Google writes without quotes in the ranges it returns; everything else gets quoted. */
const PLAIN_SHEET_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const LOOKS_LIKE_CELL = /^[A-Za-z]{1,3}[0-9]+$/;

export function quoteSheetName(name: string): string {
  return PLAIN_SHEET_NAME.test(name) && !LOOKS_LIKE_CELL.test(name)
    ? name
    : `'${name.replaceAll("'", "''")}'`;
}

export interface Box {
  startRow: number;
  endRow: number;
  startColumn: number;
  endColumn: number;
}

/** `Sheet1!A1:C10`, or `Sheet1!B4` for one cell, as Google writes ranges in responses. */
export function formatA1(sheetName: string, box: Box): string {
  const start = `${columnLetters(box.startColumn)}${box.startRow + 1}`;
  const single = box.endRow - box.startRow === 1 && box.endColumn - box.startColumn === 1;
  const end = `${columnLetters(box.endColumn - 1)}${box.endRow}`;
  return `${quoteSheetName(sheetName)}!${single ? start : `${start}:${end}`}`;
}
