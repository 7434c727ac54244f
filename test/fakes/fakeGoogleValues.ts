/**
 * spreadsheets.values as Google implements it: ranges in A1 notation resolved against the sheets,
 * the render options (FORMATTED_VALUE by default, UNFORMATTED_VALUE, FORMULA; dates as serial
 * numbers or formatted strings), trailing empty cells and rows left out of the answer, and writes
 * that parse typed text like a person typing (USER_ENTERED: `0123` becomes 123, `2026-03-05` a date
 * serial, `=…` a formula) or store it as is (RAW), skip `null`, and clear on `""`.
 */
import { formatA1, parseA1, type Box } from './fakeGoogleA1.js';
import { sheetsError } from './fakeGoogleErrors.js';
import {
  checkInGrid,
  effectiveValue,
  MAX_CELL_CHARS,
  type CellData,
  type ExtendedValue,
  type FakeSpreadsheet,
  type Json,
  type SheetModel,
} from './fakeGoogleModel.js';

export type ValueRenderOption = 'FORMATTED_VALUE' | 'UNFORMATTED_VALUE' | 'FORMULA';
export type DateTimeRenderOption = 'SERIAL_NUMBER' | 'FORMATTED_STRING';
export type MajorDimension = 'ROWS' | 'COLUMNS';
export type ValueInputOption = 'RAW' | 'USER_ENTERED';
export type CellInput = string | number | boolean | null;

export interface ResolvedRange {
  sheet: SheetModel;
  /** Start indexes always known; ends undefined when open in the A1 text. */
  startRow: number;
  startColumn: number;
  endRow: number | undefined;
  endColumn: number | undefined;
  /** The text named exactly one cell (a write anchor). */
  single: boolean;
}

export function unableToParse(range: string): Error {
  return sheetsError(400, `Unable to parse range: ${range}`);
}

/** Resolves A1 text against the spreadsheet; a missing sheet or bad notation is Google's 400. */
export function resolveRange(book: FakeSpreadsheet, text: string): ResolvedRange {
  const parsed = parseA1(text, (name) => book.sheetByTitle(name) !== undefined);
  if (parsed === undefined) throw unableToParse(text);
  const sheet = parsed.sheetName === undefined ? book.sheets[0] : book.sheetByTitle(parsed.sheetName);
  if (sheet === undefined) throw unableToParse(text);
  const single =
    parsed.startRow !== undefined &&
    parsed.startColumn !== undefined &&
    parsed.endRow === parsed.startRow + 1 &&
    parsed.endColumn === parsed.startColumn + 1;
  return {
    sheet,
    startRow: parsed.startRow ?? 0,
    startColumn: parsed.startColumn ?? 0,
    endRow: parsed.endRow,
    endColumn: parsed.endColumn,
    single,
  };
}

/** The box a read covers: open ends run to the edge of the grid; closed ends must lie inside it. */
function readBox(r: ResolvedRange): Box {
  const box = {
    startRow: r.startRow,
    startColumn: r.startColumn,
    endRow: r.endRow ?? r.sheet.rowCount,
    endColumn: r.endColumn ?? r.sheet.columnCount,
  };
  checkInGrid(r.sheet, box);
  return box;
}

const EPOCH_DAY = Date.UTC(1899, 11, 30) / 86_400_000;

export function dateSerial(year: number, month: number, day: number): number | undefined {
  const t = Date.UTC(year, month - 1, day);
  const d = new Date(t);
  if (d.getUTCFullYear() !== year || d.getUTCMonth() !== month - 1 || d.getUTCDate() !== day)
    return undefined;
  return t / 86_400_000 - EPOCH_DAY;
}

function formatDate(serial: number, pattern: string): string {
  const d = new Date((Math.floor(serial) + EPOCH_DAY) * 86_400_000);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth() + 1;
  const day = d.getUTCDate();
  return pattern.replace(/yyyy|yy|mm|m|dd|d|"[^"]*"/g, (token) => {
    switch (token) {
      case 'yyyy':
        return String(y);
      case 'yy':
        return String(y % 100).padStart(2, '0');
      case 'mm':
        return String(m).padStart(2, '0');
      case 'm':
        return String(m);
      case 'dd':
        return String(day).padStart(2, '0');
      case 'd':
        return String(day);
      default:
        return token.slice(1, -1);
    }
  });
}

function isDateFormat(cell: CellData | undefined): string | undefined {
  const nf = cell?.userEnteredFormat?.['numberFormat'];
  if (nf === null || typeof nf !== 'object' || Array.isArray(nf)) return undefined;
  const type = nf['type'];
  if (type !== 'DATE' && type !== 'DATE_TIME') return undefined;
  const pattern = nf['pattern'];
  return typeof pattern === 'string' && pattern !== '' ? pattern : 'yyyy-mm-dd';
}

/** One cell as the values API renders it; undefined for an empty cell. */
export function renderCell(
  cell: CellData | undefined,
  render: ValueRenderOption,
  dates: DateTimeRenderOption,
): Json | undefined {
  const v = cell?.userEnteredValue;
  if (v === undefined) return undefined;
  if (render === 'FORMULA' && 'formulaValue' in v) return v.formulaValue;
  const eff = effectiveValue(cell);
  if (eff === undefined) return undefined;
  if (typeof eff === 'object') return eff.error;
  const datePattern = typeof eff === 'number' ? isDateFormat(cell) : undefined;
  if (render === 'FORMATTED_VALUE') {
    if (typeof eff === 'boolean') return eff ? 'TRUE' : 'FALSE';
    if (typeof eff === 'number')
      return datePattern !== undefined ? formatDate(eff, datePattern) : String(eff);
    return eff;
  }
  if (datePattern !== undefined && dates === 'FORMATTED_STRING' && typeof eff === 'number')
    return formatDate(eff, datePattern);
  return eff;
}

export interface ValueRange {
  range: string;
  majorDimension: MajorDimension;
  values?: Json[][];
}

/** values.get / one entry of values.batchGet. */
export function readValues(
  book: FakeSpreadsheet,
  rangeText: string,
  opts: { render: ValueRenderOption; dates: DateTimeRenderOption; major: MajorDimension },
): ValueRange {
  const resolved = resolveRange(book, rangeText);
  const box = readBox(resolved);
  const sheet = resolved.sheet;
  const grid: Json[][] = [];
  const outer = opts.major === 'ROWS' ? [box.startRow, box.endRow] : [box.startColumn, box.endColumn];
  const inner = opts.major === 'ROWS' ? [box.startColumn, box.endColumn] : [box.startRow, box.endRow];
  for (let a = outer[0] as number; a < (outer[1] as number); a++) {
    const line: Json[] = [];
    let last = -1;
    for (let b = inner[0] as number; b < (inner[1] as number); b++) {
      const [r, c] = opts.major === 'ROWS' ? [a, b] : [b, a];
      const v = renderCell(book.cell(sheet, r, c), opts.render, opts.dates);
      line.push(v === undefined ? '' : v);
      if (v !== undefined) last = line.length - 1;
    }
    line.length = last + 1; // trailing empty cells are left out
    grid.push(line);
  }
  while (grid.length > 0 && (grid[grid.length - 1] as Json[]).length === 0) grid.pop(); // and trailing empty rows
  const out: ValueRange = { range: formatA1(sheet.title, box), majorDimension: opts.major };
  if (grid.length > 0) out.values = grid;
  return out;
}

const NUMBER = /^[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d+)?(?:[eE][+-]?\d+)?$/;
const ISO_DATE = /^(\d{4})[-/](\d{1,2})[-/](\d{1,2})$/;

/** What a cell becomes when `input` is written with the given option. */
export function parseInput(
  input: Exclude<CellInput, null>,
  option: ValueInputOption,
): { value: ExtendedValue; dateFormat?: boolean } {
  if (typeof input === 'number') return { value: { numberValue: input } };
  if (typeof input === 'boolean') return { value: { boolValue: input } };
  if (option === 'RAW') return { value: { stringValue: input } };
  if (input.startsWith("'")) return { value: { stringValue: input.slice(1) } };
  if (input.startsWith('=') && input.length > 1) return { value: { formulaValue: input } };
  const t = input.trim();
  if (/^true$/i.test(t)) return { value: { boolValue: true } };
  if (/^false$/i.test(t)) return { value: { boolValue: false } };
  if (t !== '' && /\d/.test(t) && NUMBER.test(t))
    return { value: { numberValue: Number(t.replaceAll(',', '')) } };
  if (/^[+-]?\d+(?:\.\d+)?%$/.test(t)) return { value: { numberValue: Number(t.slice(0, -1)) / 100 } };
  const d = ISO_DATE.exec(t);
  if (d !== null) {
    const serial = dateSerial(Number(d[1]), Number(d[2]), Number(d[3]));
    if (serial !== undefined) return { value: { numberValue: serial }, dateFormat: true };
  }
  return { value: { stringValue: input } };
}

/** Writes one value into a cell the way Sheets does (formats kept, value replaced or cleared). */
export function writeInput(
  book: FakeSpreadsheet,
  sheet: SheetModel,
  row: number,
  column: number,
  input: Exclude<CellInput, null>,
  option: ValueInputOption,
): void {
  const before = book.cell(sheet, row, column);
  const next: CellData = { ...(before ?? {}) };
  if (input === '') {
    delete next.userEnteredValue;
  } else {
    const parsed = parseInput(input, option);
    next.userEnteredValue = parsed.value;
    if (parsed.dateFormat === true && isDateFormat(before) === undefined) {
      next.userEnteredFormat = {
        ...(next.userEnteredFormat ?? {}),
        numberFormat: { type: 'DATE', pattern: 'yyyy-mm-dd' },
      };
    }
  }
  book.setCell(sheet, row, column, next);
}

export interface WriteRequest {
  range: string;
  majorDimension?: MajorDimension;
  values: CellInput[][];
}

export interface UpdateValuesResponse {
  spreadsheetId: string;
  updatedRange: string;
  updatedRows: number;
  updatedColumns: number;
  updatedCells: number;
}

/** values.update / one entry of values.batchUpdate, on a draft. */
export function writeValues(
  book: FakeSpreadsheet,
  req: WriteRequest,
  option: ValueInputOption,
  who: string,
): UpdateValuesResponse {
  const resolved = resolveRange(book, req.range);
  const rows = req.majorDimension === 'COLUMNS' ? transpose(req.values) : req.values;
  const height = rows.length;
  const width = rows.reduce((w, r) => Math.max(w, r.length), 0);
  const sheet = resolved.sheet;
  const label = formatA1(sheet.title, {
    startRow: resolved.startRow,
    startColumn: resolved.startColumn,
    endRow: resolved.endRow ?? resolved.startRow + 1,
    endColumn: resolved.endColumn ?? resolved.startColumn + 1,
  });
  if (!resolved.single) {
    if (resolved.endRow !== undefined && resolved.startRow + height > resolved.endRow) {
      throw sheetsError(
        400,
        `Requested writing within range [${label}], but tried writing to row [${resolved.endRow + 1}]`,
      );
    }
    if (resolved.endColumn !== undefined && resolved.startColumn + width > resolved.endColumn) {
      throw sheetsError(
        400,
        `Requested writing within range [${label}], but tried writing to column [${columnName(resolved.endColumn)}]`,
      );
    }
  }
  const box = {
    startRow: resolved.startRow,
    startColumn: resolved.startColumn,
    endRow: resolved.startRow + Math.max(height, 1),
    endColumn: resolved.startColumn + Math.max(width, 1),
  };
  checkInGrid(sheet, box);
  const blocking = book.blockingProtection(sheet, box, who);
  if (blocking !== undefined) {
    throw sheetsError(
      400,
      'You are trying to edit a protected cell or object. Please contact the spreadsheet owner to remove protection if you need to edit.',
    );
  }
  let cells = 0;
  rows.forEach((row, i) => {
    row.forEach((input, j) => {
      if (input === null) return; // null means "leave this cell alone"
      if (typeof input === 'string' && input.length > MAX_CELL_CHARS) {
        throw sheetsError(
          400,
          `Your input contains more than the maximum of ${MAX_CELL_CHARS} characters in a single cell.`,
        );
      }
      if (typeof input === 'object' || (typeof input === 'number' && !Number.isFinite(input))) {
        throw sheetsError(400, `Invalid values[${i}][${j}]: must be a string, a number or a boolean`);
      }
      writeInput(book, sheet, resolved.startRow + i, resolved.startColumn + j, input, option);
      cells++;
    });
  });
  return {
    spreadsheetId: book.spreadsheetId,
    updatedRange: formatA1(sheet.title, box),
    updatedRows: height,
    updatedColumns: width,
    updatedCells: cells,
  };
}

function columnName(index: number): string {
  return formatA1('x', { startRow: 0, endRow: 1, startColumn: index, endColumn: index + 1 })
    .replace(/^x!/, '')
    .replace(/\d+$/, '');
}

function transpose(values: CellInput[][]): CellInput[][] {
  const out: CellInput[][] = [];
  values.forEach((col, c) =>
    col.forEach((v, r) => {
      const row = (out[r] ??= []);
      row[c] = v;
    }),
  );
  return out.map((r) => Array.from(r, (v) => (v === undefined ? null : v)));
}
