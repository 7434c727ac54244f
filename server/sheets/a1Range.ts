/**
 * A1 ranges for the Sheets API, built from a tab title and 0-based indexes. The title is always
 * quoted (`'报备 表'!A2:H`): Google accepts quotes around any name and requires them around names
 * with spaces or punctuation, and a quote inside a name is doubled.
 */

export function quoteSheetTitle(title: string): string {
  return `'${title.replaceAll("'", "''")}'`;
}

/** 0 → A, 25 → Z, 26 → AA. */
export function columnLetter(index: number): string {
  if (!Number.isInteger(index) || index < 0) throw new RangeError(`column index ${index}`);
  let n = index + 1;
  let s = '';
  while (n > 0) {
    const rem = (n - 1) % 26;
    s = String.fromCharCode(65 + rem) + s;
    n = Math.floor((n - 1) / 26);
  }
  return s;
}

export interface A1Box {
  /** 0-based first row. */
  startRow: number;
  /** 0-based row after the last; undefined runs to the end of the sheet. */
  endRow?: number | undefined;
  startColumn: number;
  /** 0-based column after the last. */
  endColumn: number;
}

/** `'Sheet'!A2:H` (open-ended) or `'Sheet'!A2:H100`. */
export function a1Range(title: string, box: A1Box): string {
  const start = `${columnLetter(box.startColumn)}${box.startRow + 1}`;
  const endColumn = columnLetter(box.endColumn - 1);
  const end = box.endRow === undefined ? endColumn : `${endColumn}${box.endRow}`;
  return `${quoteSheetTitle(title)}!${start}:${end}`;
}
