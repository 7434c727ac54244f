/**
 * A worksheet's <sheetData>, straight from its XML: the rows and cells that are really there, with
 * where each sits in the text (for the patcher) and what it holds (for the import). Nothing outside
 * <sheetData> is looked at, so whole-column data validation, formatting or a used range claiming
 * row 1,048,576 cost nothing. Values follow exceljs's reading: shared and inline strings (rich-text
 * runs joined, phonetic guides left out), numbers, booleans, formulas by their cached value, errors
 * as their text, and numbers in a date format as Dates (wall clock in the UTC fields).
 */
import type { CellValue } from '../../core/schema.js';
import { MAX_COLUMN, MAX_ROW, parseCellReference } from './cellReference.js';
import { checkLimit, processImportLimits, type ImportLimits } from './importLimits.js';
import { decodeEntities, XmlFormatError, XmlScanner } from './xmlScanner.js';

/**
 * A row or cell outside Excel's grid (XFD, row 1,048,576): `r="1e15"`, `ZZZZZ1`, a 16,385th cell.
 * No spreadsheet can hold it, and the import never writes one into the annotated copy.
 */
export class GridError extends Error {
  override name = 'GridError';
  constructor(readonly reference: string) {
    super(`${reference} lies outside the sheet grid (XFD${MAX_ROW})`);
  }
}

export interface CellScan {
  column: number;
  /** The cell names its reference (`r`); otherwise its column follows from its position. */
  referenced: boolean;
  /** Offsets of the element in the sheet XML: `<c`, just past the start tag, just past the end. */
  start: number;
  startTagEnd: number;
  end: number;
  /** Index into cellXfs (the `s` attribute), 0 when absent. */
  style: number;
  /** The `t` attribute: s, str, inlineStr, b, e, d or n (the default). */
  type: string;
  formula: boolean;
  /** Text of <v>, if any. */
  value: string | undefined;
  /** Text of <is> (an inline string), if any. */
  inline: string | undefined;
}

export interface RowScan {
  row: number;
  /** Offsets: `<row`, just past the start tag, just past the end (`</row>` or `/>`). */
  start: number;
  startTagEnd: number;
  end: number;
  selfClosing: boolean;
  /** The row's own cell format (`s` with customFormat), which its empty cells show. */
  style: number | undefined;
  cells: CellScan[];
}

export interface SheetDataBounds {
  /** Offset of `<sheetData`, just past its start tag, of `</sheetData>` and just past it. */
  start: number;
  startTagEnd: number;
  closeStart: number;
  end: number;
}

/**
 * Walks <sheetData> row by row; undefined when the part has none (a chart or dialog sheet).
 * Throws GridError for a row or cell outside the grid, XmlFormatError when <sheetData> is never closed.
 */
export function scanSheetData(
  xml: string,
  onRow: (row: RowScan) => void,
  limits?: ImportLimits,
): SheetDataBounds | undefined {
  const s = new XmlScanner(xml, 0, limits);
  while (s.next() !== 'end') if (s.kind === 'open' && s.name === 'sheetData') break;
  if (s.kind === 'end') return undefined;
  const bounds = { start: s.start, startTagEnd: s.end, closeStart: s.end, end: s.end };
  if (s.selfClosing) {
    s.next();
    bounds.closeStart = bounds.end = s.end;
    return bounds;
  }
  let rowNumber = 0;
  for (;;) {
    const kind = s.next();
    if (kind === 'end') throw new XmlFormatError('<sheetData> is never closed');
    if (kind === 'close') {
      if (s.name === 'sheetData') {
        bounds.closeStart = s.start;
        bounds.end = s.end;
        break;
      }
      continue;
    }
    if (kind !== 'open') continue;
    if (s.name !== 'row') {
      s.skipElement();
      continue;
    }
    // Digits only: Number() would take `1e15`, `0x10` or ` 7 `.
    const r = s.attr('r');
    if (r === undefined || r === '') rowNumber++;
    else if (/^[0-9]{1,7}$/.test(r)) rowNumber = Number(r);
    else throw new GridError(`row ${r.length > 20 ? `${r.slice(0, 20)}…` : r}`);
    if (rowNumber < 1 || rowNumber > MAX_ROW) throw new GridError(`row ${rowNumber}`);
    const customFormat = s.attr('customFormat');
    const row: RowScan = {
      row: rowNumber,
      start: s.start,
      startTagEnd: s.end,
      end: s.end,
      selfClosing: s.selfClosing,
      style: customFormat === '1' || customFormat === 'true' ? Number(s.attr('s') ?? 0) : undefined,
      cells: [],
    };
    scanCells(s, row);
    row.end = s.end;
    onRow(row);
  }
  return bounds;
}

/** The attributes a cell is read for (its reference, format and type), and where they are read into. */
const CELL_ATTRIBUTES = ['r', 's', 't'] as const;
const cellAttributes: (string | undefined)[] = [undefined, undefined, undefined];

/** The cells of the row whose start tag was just read, up to and including its end tag. */
function scanCells(s: XmlScanner, row: RowScan): void {
  let column = 0;
  for (;;) {
    const kind = s.next();
    if (kind === 'end') return;
    if (kind === 'close') return; // </row> (cells are consumed whole below)
    if (kind !== 'open') continue;
    if (s.name !== 'c') {
      s.skipElement();
      continue;
    }
    s.attrsInto(CELL_ATTRIBUTES, cellAttributes);
    const [reference, styleAttribute, typeAttribute] = cellAttributes;
    const referenced =
      reference === undefined || reference === '' ? undefined : parseCellReference(reference);
    if (reference !== undefined && reference !== '' && referenced === undefined)
      throw new GridError(reference.length > 20 ? `${reference.slice(0, 20)}…` : reference);
    column = referenced !== undefined ? referenced.column : column + 1;
    if (column > MAX_COLUMN) throw new GridError(`column ${column} of row ${row.row}`);
    const cell: CellScan = {
      column,
      referenced: referenced !== undefined,
      start: s.start,
      startTagEnd: s.end,
      end: s.end,
      style: Number(styleAttribute ?? 0) || 0,
      type: typeAttribute ?? 'n',
      formula: false,
      value: undefined,
      inline: undefined,
    };
    if (s.selfClosing) s.next();
    else if (!plainValue(s, cell)) readCellContent(s, cell);
    cell.end = s.end;
    row.cells.push(cell);
  }
}

/**
 * The common shape `<c …><v>text</v></c>` read in one step (most cells of every sheet): saves the
 * four tokens of the general path. False, with nothing consumed, for any other content.
 */
function plainValue(s: XmlScanner, cell: CellScan): boolean {
  const xml = s.xml;
  const from = s.end;
  if (!xml.startsWith('<v>', from)) return false;
  const valueEnd = xml.indexOf('<', from + 3);
  if (valueEnd < 0 || !xml.startsWith('</v></c>', valueEnd)) return false;
  const raw = xml.slice(from + 3, valueEnd);
  cell.value = raw.includes('&') ? decodeEntities(raw) : raw;
  s.resumeAt(valueEnd + 8);
  return true;
}

function readCellContent(s: XmlScanner, cell: CellScan): void {
  for (;;) {
    const kind = s.next();
    if (kind === 'end' || kind === 'close') return; // </c>
    if (kind !== 'open') continue;
    if (s.name === 'v') cell.value = s.innerText();
    else if (s.name === 'is') cell.inline = richText(s);
    else {
      if (s.name === 'f') cell.formula = true;
      s.skipElement();
    }
  }
}

/**
 * The text of a string item (<si> or <is>, whose start tag was just read): its <t>, or its runs'
 * <t> joined; phonetic guides (<rPh>) are not part of the text. Excel's _xHHHH_ escapes resolved.
 */
export function richText(s: XmlScanner, maxChars = Number.POSITIVE_INFINITY): string {
  let text = '';
  let depth = 0;
  let phonetic = 0;
  if (s.selfClosing) {
    s.next();
    return '';
  }
  for (;;) {
    const kind = s.next();
    if (kind === 'end') break;
    if (kind === 'open') {
      if (s.name === 't' && phonetic === 0) {
        text += s.innerText();
        if (text.length > maxChars) throw new RichTextTooLong(text.length);
        continue;
      }
      if (s.name === 'rPh') phonetic++;
      depth++;
    } else if (kind === 'close') {
      if (depth === 0) break;
      depth--;
      if (s.name === 'rPh') phonetic--;
    }
  }
  return text.includes('_x') ? unescapeXstring(text) : text;
}

/** A string item longer than its reader allows (each <t> within the limit, their runs beyond it). */
export class RichTextTooLong extends Error {
  override name = 'RichTextTooLong';
  constructor(readonly length: number) {
    super(`a string of ${length} characters`);
  }
}

/** ST_Xstring escapes: `_x000D_` is a carriage return, `_x005F_` a literal underscore. */
export function unescapeXstring(text: string): string {
  return text.replace(/_x([0-9A-Fa-f]{4})_/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

export interface ValueContext {
  sharedStrings: readonly string[];
  /** By cell format index: whether its number format shows a date or time. */
  dateStyles: readonly boolean[];
  /** The workbook counts days from 1904-01-01 (old Mac Excel) instead of 1899-12-30. */
  date1904: boolean;
}

/** A cell's value as the import sees it; null for an empty cell. */
export function cellValue(cell: CellScan, ctx: ValueContext): CellValue {
  const v = cell.value;
  switch (cell.type) {
    case 's':
      if (cell.formula) return v ?? null;
      return v === undefined ? null : (ctx.sharedStrings[Number(v)] ?? null);
    case 'inlineStr':
      return cell.inline ?? v ?? null;
    case 'str':
    case 'e':
      return v ?? null;
    case 'b':
      return v === undefined ? null : v === '1' || v === 'true';
    case 'd': {
      if (v === undefined) return null;
      // ISO 8601 without a zone is the sheet's wall clock, which the import keeps in the UTC fields.
      const date = new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(v) || !v.includes('T') ? v : `${v}Z`);
      return Number.isNaN(date.getTime()) ? v : date;
    }
    default: {
      if (v === undefined || v.trim() === '') return null;
      const n = Number(v);
      if (Number.isNaN(n)) return v;
      return ctx.dateStyles[cell.style] === true ? excelDate(n, ctx.date1904) : n;
    }
  }
}

/** An Excel serial as a Date, its wall clock in the UTC fields (as exceljs reads date cells). */
export function excelDate(serial: number, date1904: boolean): Date {
  return new Date(Math.round((serial - 25569 + (date1904 ? 1462 : 0)) * 86_400_000));
}

export interface SheetRows {
  /** Rows by 1-based number; only rows holding at least one value. */
  rows: Map<number, CellValue[]>;
  /** Largest row number holding a value. */
  lastRow: number;
  /** Rightmost column of any cell holding a value or a formula (blank text included). */
  lastUsedColumn: number;
}

/** Cells longer than this are cut on read; the row gets a `field.tooLong` error from the row parser anyway. */
export const MAX_CELL_CHARS = 32_767;

/** The values of a sheet, sparse: rows without a value are absent, blank text is no value. */
export function readSheetRows(
  xml: string,
  ctx: ValueContext,
  limits: ImportLimits = processImportLimits(),
): SheetRows {
  const rows = new Map<number, CellValue[]>();
  let lastRow = 0;
  let lastUsedColumn = 0;
  // Cells held, the gaps before a row's values included (each row is a dense array).
  let cells = 0;
  scanSheetData(
    xml,
    (row) => {
      let values: CellValue[] | undefined;
      for (const cell of row.cells) {
        if (cell.value === undefined && cell.inline === undefined && !cell.formula) continue;
        if (cell.column > lastUsedColumn) lastUsedColumn = cell.column;
        let value = cellValue(cell, ctx);
        if (value === null || (typeof value === 'string' && value.trim() === '')) continue;
        if (typeof value === 'string' && value.length > MAX_CELL_CHARS)
          value = value.slice(0, MAX_CELL_CHARS);
        values ??= [];
        while (values.length < cell.column - 1) values.push(null);
        values[cell.column - 1] = value;
      }
      if (values === undefined) return;
      checkLimit(limits, 'maxSheetCells', (cells += values.length), 'sheet');
      rows.set(row.row, values);
      if (row.row > lastRow) lastRow = row.row;
    },
    limits,
  );
  return { rows, lastRow, lastUsedColumn };
}
