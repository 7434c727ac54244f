/**
 * The checked sheet's XML with the import's results patched in, everything else copied verbatim:
 * the result header cells on the header row; on each data row every cell up to the last result
 * column restyled with its status fill (cells the row lacked are created, carrying the row's or the
 * column's format as Excel would show them), invalid cells with their own mark, and the result
 * cells added (the long ones wrapped); formula-like text (= + - @, tab, CR, ＝＋－＠) anywhere given the quote-prefixed
 * text format; <cols> widened for the result columns, <dimension> grown to cover them, a
 * <legacyDrawing> for the notes, and the print set-up: landscape, one page wide (fitToPage).
 */
import type { FillName } from '../../core/annotation.js';
import { cellAddress, columnLetter, MAX_COLUMN, MAX_ROW, parseCellReference } from './cellReference.js';
import { scanSheetData, type CellScan, type RowScan } from './sheetXmlReader.js';
import type { SharedStringsAppender } from './sharedStringsPart.js';
import type { StylesPatch } from './stylesPatch.js';
import { heightForLines, wrappedLineCount } from './wrappedLines.js';
import type { TextSink } from './zipArchive.js';
import {
  declaresRelationshipPrefix,
  openedTag,
  selfClosedTag,
  withAttr,
  withoutAttr,
  XmlScanner,
} from './xmlScanner.js';

/**
 * What a row under the header gets: its result texts (in column order), its fill, and cells marked
 * on top. A skipped row (a total, a note, the example row) gets its texts and no fill.
 */
export interface ResultRow {
  cells: readonly string[];
  fill?: FillName;
  /** 1-based columns filled with `markFill` instead of the row's fill (invalid cells). */
  marked?: readonly number[];
  markFill?: FillName;
}

export interface SheetPatch {
  xml: string;
  /** By shared-string index: whether the string is formula-like text (for cells of type `s`). */
  formulaLikeStrings: Uint8Array;
  headerRow: number;
  /** The result headers, in column order from `firstResultColumn`. */
  resultHeaders: readonly string[];
  /** Widths of the result columns, in the same order. */
  resultWidths: readonly number[];
  firstResultColumn: number;
  /** Rows by number: the data rows and their results (made when asked for, once per row). */
  rows: { get(row: number): ResultRow | undefined };
  /** The last row holding a value (the used range must reach it). */
  lastRow: number;
  /** The result columns holding long text (wrapped, top-aligned). */
  wrapColumns: readonly number[];
  styles: StylesPatch;
  strings: SharedStringsAppender;
  /** Relationship id of the notes' VML drawing, when there are notes. */
  legacyDrawingId: string | undefined;
}

/**
 * Text a spreadsheet program would take for a formula, or a CSV export of it would turn into one:
 * it starts with = + - @, a tab or a carriage return (OWASP's list), or a full-width ＝ ＋ － ＠
 * (an input method's, which Excel turns into a formula too).
 */
export function isFormulaLikeText(text: string): boolean {
  return FORMULA_LEADS.has(text.charCodeAt(0));
}

const FORMULA_LEADS = new Set([0x3d, 0x2b, 0x2d, 0x40, 0x09, 0x0d, 0xff1d, 0xff0b, 0xff0d, 0xff20]);
/** Elements that follow <pageSetup> in a worksheet (ECMA-376 CT_Worksheet order). */
const AFTER_PAGE_SETUP = new Set([
  'headerFooter',
  'rowBreaks',
  'colBreaks',
  'customProperties',
  'cellWatches',
  'ignoredErrors',
  'smartTags',
  'drawing',
  'legacyDrawing',
  'legacyDrawingHF',
  'drawingHF',
  'picture',
  'oleObjects',
  'controls',
  'webPublishItems',
  'tableParts',
  'extLst',
]);
/**
 * The printed copy: landscape, every column on one page wide and as many pages tall as it takes
 * (fitToHeight 0; Excel applies fitTo* only with <pageSetUpPr fitToPage>); A4 unless the sheet
 * names a paper size. The header row repeats through a Print_Titles name (workbookPart).
 */
const PAGE_SETUP = { orientation: 'landscape', fitToWidth: '1', fitToHeight: '0' } as const;
const DEFAULT_PAPER_SIZE = '9';
/** Elements that follow <legacyDrawing> in a worksheet (ECMA-376 CT_Worksheet order). */
const AFTER_LEGACY_DRAWING = new Set([
  'legacyDrawingHF',
  'drawingHF',
  'picture',
  'oleObjects',
  'controls',
  'webPublishItems',
  'tableParts',
  'extLst',
]);

interface Edit {
  start: number;
  end: number;
  text: string;
}

interface ColumnRange {
  min: number;
  max: number;
  tag: string;
}

/**
 * Writes the patched sheet XML into `out` as the original is scanned: slices of the original
 * between the edits, and the edits, in document order (nothing is held back but the current row).
 */
export function patchSheet(patch: SheetPatch, out: TextSink): void {
  const { xml } = patch;
  const head = headElements(xml);
  if (head.sheetDataStart === undefined) throw new Error('the sheet has no <sheetData>');
  const columns = head.cols?.ranges ?? [];
  // A cell the row lacks takes its column's format: looked up once per column, not once per row.
  const columnStyles: number[] = [];
  const styleOfColumn = (column: number): number => (columnStyles[column] ??= columnStyle(columns, column));
  const last = patch.firstResultColumn + patch.resultHeaders.length - 1;
  let copied = 0;
  /** Copies the original up to `start`, then skips to `end`: what lies between is written anew. */
  const replace = (start: number, end: number): void => {
    if (start > copied) out.write(xml.slice(copied, start));
    copied = end;
  };
  const apply = (edit: Edit): void => {
    replace(edit.start, edit.end);
    out.write(edit.text);
  };

  const cols = widenedCols(columns, patch.firstResultColumn, patch.resultWidths);
  const headEdits: Edit[] = [
    fitToPageEdit(xml, head),
    head.cols
      ? { start: head.cols.start, end: head.cols.end, text: cols }
      : { start: head.sheetDataStart, end: head.sheetDataStart, text: cols },
  ];
  if (head.dimension) headEdits.push(widenedDimension(head.dimension, last, patch.lastRow));
  headEdits.sort((a, b) => a.start - b.start).forEach(apply);

  const bounds = scanSheetData(xml, (row) => {
    const result = patch.rows.get(row.row);
    if (result !== undefined || row.row === patch.headerRow) {
      replace(row.start, row.end);
      writeRow(patch, row, result, styleOfColumn, last, out);
      return;
    }
    for (const cell of row.cells) {
      if (!isFormulaLike(cell, patch.formulaLikeStrings)) continue;
      const style = patch.styles.derive(cell.style, { inert: true });
      apply({ start: cell.start, end: cell.startTagEnd, text: startTag(xml, cell, row.row, style) });
    }
  });
  if (bounds !== undefined) tailEdits(xml, bounds.end, patch.legacyDrawingId).forEach(apply);
  if (copied < xml.length) out.write(xml.slice(copied));
}

/** Writes the header row or a data row, cell by cell, with the result columns in place. */
function writeRow(
  patch: SheetPatch,
  row: RowScan,
  result: ResultRow | undefined,
  styleOfColumn: (column: number) => number,
  last: number,
  out: TextSink,
): void {
  const { xml, styles, strings, firstResultColumn: first } = patch;
  let tag = withoutAttr(xml.slice(row.start, row.startTagEnd), 'spans');
  if (row.selfClosing) tag = openedTag(tag);
  const height = result === undefined ? undefined : heightFor(tag, patch, result);
  if (height !== undefined) tag = withAttr(tag, 'ht', String(height));
  out.write(tag);
  // In a row made taller for its wrapped results, every cell reads from the top, as they do.
  const top = height !== undefined;
  const byColumn: (CellScan | undefined)[] = [];
  for (const cell of row.cells) if (cell.column <= last) byColumn[cell.column] = cell;

  // The header row keeps its cells (but formula-like text) and gets the result headers; a data
  // row gets its fill on every cell up to the last result column.
  const header = result === undefined;
  for (let column = 1; column <= (header ? first - 1 : last); column++) {
    const cell = byColumn[column];
    const fill =
      result?.markFill !== undefined && result.marked?.includes(column) ? result.markFill : result?.fill;
    // A cell the row lacks shows the row's format, else its column's (as Excel draws it).
    const base = cell !== undefined ? cell.style : (row.style ?? styleOfColumn(column));
    if (column >= first) {
      const text = result!.cells[column - first] ?? '';
      const change = { fill, inert: isFormulaLikeText(text), wrap: patch.wrapColumns.includes(column), top };
      out.write(stringCell(row.row, column, styles.derive(base, change), text, strings));
      continue;
    }
    const inert = cell !== undefined && isFormulaLike(cell, patch.formulaLikeStrings);
    if (fill === undefined && !inert) {
      // Kept as it was, but named: the row now has cells placed by reference after it.
      if (cell !== undefined)
        out.write(cell.referenced ? xml.slice(cell.start, cell.end) : named(xml, cell, row.row));
      continue;
    }
    const style = styles.derive(base, { fill, inert, top });
    out.write(
      cell === undefined
        ? `<c r="${cellAddress(row.row, column)}" s="${style}"/>`
        : startTag(xml, cell, row.row, style) + xml.slice(cell.startTagEnd, cell.end),
    );
  }
  if (header) {
    const style = styles.resultHeader();
    patch.resultHeaders.forEach((text, i) => out.write(stringCell(row.row, first + i, style, text, strings)));
  }
  // Cells past the result columns (formatting only: values never reach there) stay as they were.
  for (const cell of row.cells) {
    if (cell.column > last)
      out.write(cell.referenced ? xml.slice(cell.start, cell.end) : named(xml, cell, row.row));
  }
  out.write('</row>');
}

/**
 * The height (points) a data row needs for its wrapped result texts, when that is more than one
 * line and more than the row's own height; otherwise undefined (the row stays as it was).
 */
function heightFor(tag: string, patch: SheetPatch, result: ResultRow): number | undefined {
  let lines = 1;
  for (const column of patch.wrapColumns) {
    const i = column - patch.firstResultColumn;
    lines = Math.max(lines, wrappedLineCount(result.cells[i] ?? '', patch.resultWidths[i] ?? 0));
  }
  if (lines < 2) return undefined;
  const height = heightForLines(lines);
  const current = Number(/\sht\s*=\s*["']([^"']*)["']/.exec(tag)?.[1] ?? 0);
  return current >= height ? undefined : height;
}

function stringCell(
  row: number,
  column: number,
  style: number,
  text: string,
  strings: SharedStringsAppender,
): string {
  const address = cellAddress(row, column);
  return text === ''
    ? `<c r="${address}" s="${style}"/>`
    : `<c r="${address}" s="${style}" t="s"><v>${strings.add(text)}</v></c>`;
}

/** A cell's start tag with another format (and its reference, when it relied on its position). */
function startTag(xml: string, cell: CellScan, row: number, style: number): string {
  const tag = xml.slice(cell.start, cell.startTagEnd);
  // Excel writes ` s="…"` (double quotes, no spaces): patch that in place; anything else by pattern.
  const at = tag.indexOf(' s="');
  const restyled =
    at >= 0
      ? `${tag.slice(0, at + 4)}${style}${tag.slice(tag.indexOf('"', at + 4))}`
      : withAttr(tag, 's', String(style));
  return cell.referenced ? restyled : restyled.replace(/^<c\b/, `<c r="${cellAddress(row, cell.column)}"`);
}

/** A cell that relied on its position, given its reference. */
function named(xml: string, cell: CellScan, row: number): string {
  return `<c r="${cellAddress(row, cell.column)}"${xml.slice(cell.start + 2, cell.end)}`;
}

function isFormulaLike(cell: CellScan, formulaLikeStrings: Uint8Array): boolean {
  if (cell.formula) return false;
  switch (cell.type) {
    case 's':
      return cell.value !== undefined && formulaLikeStrings[Number(cell.value)] === 1;
    case 'str':
      return cell.value !== undefined && isFormulaLikeText(cell.value);
    case 'inlineStr':
      return isFormulaLikeText(cell.inline ?? cell.value ?? '');
    default:
      return false;
  }
}

function columnStyle(columns: readonly ColumnRange[], column: number): number {
  for (const c of columns) {
    if (column >= c.min && column <= c.max) return Number(/\sstyle="(\d+)"/.exec(c.tag)?.[1] ?? 0);
  }
  return 0;
}

interface HeadElements {
  /** Just past the <worksheet> start tag. */
  worksheetEnd?: number;
  sheetPr?: { start: number; startTagEnd: number; end: number; selfClosing: boolean; pageSetUpPr?: Edit };
  dimension?: { start: number; end: number; ref: string; tag: string };
  cols?: { start: number; end: number; ranges: ColumnRange[] };
  sheetDataStart?: number;
}

/** <dimension> and <cols>, which come before <sheetData>, and where <sheetData> starts. */
function headElements(xml: string): HeadElements {
  const out: HeadElements = {};
  const s = new XmlScanner(xml);
  while (s.next() !== 'end' && !(s.kind === 'open' && s.name === 'worksheet'));
  out.worksheetEnd = s.end;
  while (s.next() !== 'end') {
    if (s.kind !== 'open') continue;
    if (s.name === 'sheetData') {
      out.sheetDataStart = s.start;
      break;
    }
    const start = s.start;
    if (s.name === 'sheetPr') {
      const sheetPr: NonNullable<HeadElements['sheetPr']> = {
        start,
        startTagEnd: s.end,
        end: s.end,
        selfClosing: s.selfClosing,
      };
      if (s.selfClosing) s.next();
      else {
        for (let k = s.next(); k !== 'end' && !(k === 'close' && s.name === 'sheetPr'); k = s.next()) {
          // (s.name is read again after next(): TypeScript would keep it narrowed to 'sheetPr'.)
          if (k !== 'open') continue;
          if ((s.name as string) === 'pageSetUpPr') {
            const tag = xml.slice(s.start, s.end);
            sheetPr.pageSetUpPr = { start: s.start, end: s.end, text: withAttr(tag, 'fitToPage', '1') };
          }
          s.skipElement();
        }
      }
      sheetPr.end = s.end;
      out.sheetPr = sheetPr;
    } else if (s.name === 'dimension') {
      const ref = s.attr('ref') ?? '';
      const tag = xml.slice(s.start, s.end);
      s.skipElement();
      out.dimension = { start, end: s.end, ref, tag };
    } else if (s.name === 'cols' && out.cols === undefined) {
      const ranges: ColumnRange[] = [];
      if (!s.selfClosing) {
        for (let k = s.next(); k !== 'end' && !(k === 'close' && s.name === 'cols'); k = s.next()) {
          if (k !== 'open') continue;
          const min = Number(s.attr('min'));
          const max = Number(s.attr('max'));
          const tag = selfClosedTag(xml.slice(s.start, s.end));
          s.skipElement();
          if (Number.isInteger(min) && Number.isInteger(max)) ranges.push({ min, max, tag });
        }
      } else s.next();
      out.cols = { start, end: s.end, ranges };
    } else s.skipElement();
  }
  return out;
}

/** <cols> with the result columns set to their widths; a range covering them is split around them. */
function widenedCols(ranges: readonly ColumnRange[], first: number, widths: readonly number[]): string {
  const last = first + widths.length - 1;
  const out: ColumnRange[] = [];
  for (const r of ranges) {
    if (r.max < first || r.min > last) {
      out.push(r);
      continue;
    }
    if (r.min < first) out.push({ min: r.min, max: first - 1, tag: colTag(r.tag, r.min, first - 1) });
    if (r.max > last) out.push({ min: last + 1, max: r.max, tag: colTag(r.tag, last + 1, r.max) });
  }
  widths.forEach((width, i) => {
    const column = first + i;
    const covering = ranges.find((r) => column >= r.min && column <= r.max);
    // The result column keeps the covering range's format, not its hiding or outline.
    let tag = covering
      ? ['hidden', 'collapsed', 'outlineLevel', 'bestFit'].reduce(withoutAttr, covering.tag)
      : '<col/>';
    tag = withAttr(withAttr(colTag(tag, column, column), 'width', String(width)), 'customWidth', '1');
    out.push({ min: column, max: column, tag });
  });
  out.sort((a, b) => a.min - b.min);
  return `<cols>${out.map((r) => r.tag).join('')}</cols>`;
}

function colTag(tag: string, min: number, max: number): string {
  return withAttr(withAttr(tag, 'min', String(min)), 'max', String(max));
}

/** The used range grown to take in the result columns (and every row read). */
function widenedDimension(
  dimension: { start: number; end: number; ref: string; tag: string },
  lastColumn: number,
  lastRow: number,
): Edit {
  // A ref that is not a range inside the grid (200,000 characters of it, `A1:ZZZZZZZ9`) is not
  // carried on: the used range becomes what was read.
  const [from, to = from] = dimension.ref.length <= 25 ? dimension.ref.split(':') : [];
  const a = from === undefined ? undefined : parseCellReference(from);
  const b = to === undefined ? undefined : parseCellReference(to);
  const corners = a !== undefined && b !== undefined ? [a, b] : [{ column: 1, row: 1 }];
  const minColumn = Math.min(...corners.map((c) => c.column));
  const minRow = Math.min(...corners.map((c) => c.row));
  const maxColumn = Math.min(MAX_COLUMN, Math.max(lastColumn, ...corners.map((c) => c.column)));
  const maxRow = Math.min(MAX_ROW, Math.max(lastRow, ...corners.map((c) => c.row)));
  const ref = `${columnLetter(minColumn)}${minRow}:${columnLetter(maxColumn)}${maxRow}`;
  return {
    start: dimension.start,
    end: dimension.end,
    text: withAttr(selfClosedTag(dimension.tag), 'ref', ref),
  };
}

/** <sheetPr><pageSetUpPr fitToPage="1"/>: without it Excel ignores pageSetup's fitToWidth. */
function fitToPageEdit(xml: string, head: HeadElements): Edit {
  const sheetPr = head.sheetPr;
  const element = '<pageSetUpPr fitToPage="1"/>';
  if (sheetPr === undefined) {
    const at = head.worksheetEnd ?? 0;
    return { start: at, end: at, text: `<sheetPr>${element}</sheetPr>` };
  }
  if (sheetPr.pageSetUpPr !== undefined) return sheetPr.pageSetUpPr;
  if (sheetPr.selfClosing) {
    const tag = openedTag(xml.slice(sheetPr.start, sheetPr.startTagEnd));
    return { start: sheetPr.start, end: sheetPr.end, text: `${tag}${element}</sheetPr>` };
  }
  // pageSetUpPr is the last child of CT_SheetPr: right before </sheetPr>.
  const close = xml.lastIndexOf('</', sheetPr.end - 1);
  return { start: close, end: close, text: element };
}

/**
 * After <sheetData>: the print set-up (the sheet's <pageSetup> adjusted, or one added in its
 * place) and a <legacyDrawing> naming the notes' drawing — unless there is one — in document order.
 */
function tailEdits(xml: string, from: number, legacyDrawingId: string | undefined): Edit[] {
  const s = new XmlScanner(xml, from);
  let pageSetup: Edit | undefined;
  let pageSetupAt: number | undefined;
  let drawingAt: number | undefined;
  let hasDrawing = false;
  while (s.next() !== 'end') {
    if (s.kind === 'close') {
      pageSetupAt ??= s.start; // </worksheet>
      drawingAt ??= s.start;
      break;
    }
    if (s.kind !== 'open') continue;
    if (s.name === 'pageSetup') {
      let tag = xml.slice(s.start, s.end);
      for (const [name, value] of Object.entries(PAGE_SETUP)) tag = withAttr(tag, name, value);
      // (A scale the sheet names is ignored under fitToPage.) No paper size means Letter to Excel.
      if (!/\spaperSize\s*=/.test(tag)) tag = withAttr(tag, 'paperSize', DEFAULT_PAPER_SIZE);
      pageSetup = { start: s.start, end: s.end, text: tag };
    }
    if (AFTER_PAGE_SETUP.has(s.name)) pageSetupAt ??= s.start;
    if (s.name === 'legacyDrawing') hasDrawing = true;
    if (AFTER_LEGACY_DRAWING.has(s.name)) drawingAt ??= s.start;
    s.skipElement();
  }
  const edits: Edit[] = [];
  if (pageSetup !== undefined) edits.push(pageSetup);
  else {
    const at = pageSetupAt ?? xml.length;
    const attrs = Object.entries(PAGE_SETUP)
      .map(([name, value]) => ` ${name}="${value}"`)
      .join('');
    edits.push({ start: at, end: at, text: `<pageSetup paperSize="${DEFAULT_PAPER_SIZE}"${attrs}/>` });
  }
  if (legacyDrawingId !== undefined && !hasDrawing) {
    const ns = declaresRelationshipPrefix(xml)
      ? ''
      : ' xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"';
    const at = drawingAt ?? xml.length;
    edits.push({ start: at, end: at, text: `<legacyDrawing${ns} r:id="${legacyDrawingId}"/>` });
  }
  // Stable: at one insertion point the page set-up comes before the drawing, as the schema orders them.
  return edits.sort((a, b) => a.start - b.start);
}
