/**
 * The annotated copy of an imported sheet: the original workbook as it was, plus the result columns,
 * a fill per row by status (core/annotation's palette), a mark and a note on every invalid cell, a
 * print set-up (landscape, one page wide, the header row repeated) and a 汇总 (summary) sheet with
 * the legend. Text that a spreadsheet could take for a formula (= + - @, tab, CR, full-width ＝＋－＠) is made inert with Excel's
 * quote prefix.
 *
 * Written by patching the original package rather than re-serialising a model of it: the checked
 * sheet's XML, the styles and the shared strings are extended in place, notes and the summary sheet
 * are added as parts, and every other part is copied as it came (still compressed).
 */
import {
  annotateRow,
  INVALID_CELL_FILL,
  RESULT_HEADERS,
  type AnnotationInput,
  type FillName,
} from '../../core/annotation.js';
import type { Field, ResultColumn, RowStatus } from '../../core/schema.js';
import type { SkippedKind } from '../../core/skippedRow.js';
import { skippedRowHint } from '../../core/skippedRowHint.js';
import { MAX_COLUMN } from './cellReference.js';
import { addNotes, type CellNote } from './notesPart.js';
import type { ReadWorkbook, SheetData } from './readWorkbook.js';
import { SharedStringsAppender } from './sharedStringsPart.js';
import { isFormulaLikeText, patchSheet, type ResultRow } from './sheetXmlPatcher.js';
import { StylesPatch } from './stylesPatch.js';
import { summarySheetXml } from './summarySheet.js';
import { addWorksheet, asPlainWorkbook, setPrintTitles, uniqueSheetName } from './workbookPart.js';
import { CONTENT_TYPE, REL } from './xlsxPackage.js';

/**
 * A row's outcome as the annotated copy needs it: what `annotateRow` takes, not what it makes — the
 * texts and fills are made row by row while the sheet is patched, so a large sheet's result cells
 * are never all in the heap (they were ~20 MB at 100,000 rows, held through the store's write).
 */
export interface AnnotatedRow extends AnnotationInput {
  row: number;
}

/**
 * What of a read workbook the annotated copy needs: the package and its parts, and of the shared
 * strings only how many there are and which look like formulas. Not the strings themselves: kept
 * through the store's write, they (and the part's whole text, which their slices keep alive) were
 * ~20 MB of a 100,000-row import's heap.
 */
export interface AnnotationSource {
  pkg: ReadWorkbook['pkg'];
  workbook: ReadWorkbook['workbook'];
  sharedStringCount: number;
  /** 1 for a shared string a spreadsheet would take for a formula (=…, +…): its cells are made inert. */
  formulaLikeStrings: Uint8Array;
}

export function annotationSource(read: ReadWorkbook): AnnotationSource {
  const { sharedStrings } = read;
  // A plain loop: Uint8Array.from with a mapping function walks an iterator (10–50 ms against 1–3
  // for the 60,000 strings of a 20,000-row sheet).
  const formulaLikeStrings = new Uint8Array(sharedStrings.length);
  for (let i = 0; i < sharedStrings.length; i++)
    if (isFormulaLikeText(sharedStrings[i]!)) formulaLikeStrings[i] = 1;
  return {
    pkg: read.pkg,
    workbook: read.workbook,
    sharedStringCount: sharedStrings.length,
    formulaLikeStrings,
  };
}

export interface AnnotateInput {
  read: AnnotationSource;
  sheet: SheetData;
  headerRow: number;
  /** Canonical field → 1-based column, for placing notes on invalid cells. */
  fieldColumns: Map<Field, number>;
  /**
   * The second phone column and the rows whose phone was read from it (core/phoneColumns.ts): their
   * phone's note goes on that cell, the number read, not on the blank mapped cell.
   */
  phoneFallback?: { column: number; rows: ReadonlySet<number> };
  rows: readonly AnnotatedRow[];
  /** Rows under the header that were not checked (blank rows are not here): each gets its 提示 text, no fill. */
  skipped: ReadonlyMap<number, SkippedKind>;
  summary: { byStatus: Partial<Record<RowStatus | 'skipped', number>>; rows: number };
  meta: { file: string; mode: 'submit' | 'history'; dryRun: boolean; at: string };
}

/** Widths in characters; the two long texts wrap within theirs, so a printed page stays readable. */
const RESULT_WIDTHS: Record<ResultColumn, number> = {
  registrationNo: 16,
  status: 10,
  protectedUntil: 12,
  conflict: 44,
  hint: 36,
};
const WRAPPED: readonly ResultColumn[] = ['conflict', 'hint'];

export function writeAnnotatedWorkbook(input: AnnotateInput): Buffer {
  const { pkg, workbook, sharedStringCount, formulaLikeStrings } = input.read;
  const { sheet } = input;
  // After the last column holding anything; a sheet with values out at XFD keeps its last columns.
  const first = Math.min(sheet.lastUsedColumn + 1, MAX_COLUMN - RESULT_HEADERS.length + 1);

  // Notes come from errors only: the few rows with errors are annotated here, to write the notes part
  // before the sheet (which points at it); every row is annotated again as the patcher reaches it.
  const notes: CellNote[] = [];
  const markedByRow = new Map<number, number[]>();
  for (const outcome of input.rows) {
    if (outcome.errors.length === 0) continue;
    const marked: number[] = [];
    for (const [field, text] of Object.entries(annotateRow(outcome).notes) as [Field, string][]) {
      const fallback = input.phoneFallback;
      const column =
        field === 'contactPhone' && fallback?.rows.has(outcome.row) === true
          ? fallback.column
          : input.fieldColumns.get(field);
      if (column === undefined) continue;
      notes.push({ row: outcome.row, column, text });
      marked.push(column);
    }
    if (marked.length > 0) markedByRow.set(outcome.row, marked);
  }
  const byRow = new Map<number, number>();
  for (const [i, { row }] of input.rows.entries()) byRow.set(row, i);
  const byFill: Partial<Record<FillName, number>> = {};
  const counted = new Uint8Array(input.rows.length);
  const countFill = (i: number, fill: FillName): void => {
    if (counted[i] === 1) return;
    counted[i] = 1;
    byFill[fill] = (byFill[fill] ?? 0) + 1;
  };
  const results = {
    get(row: number): ResultRow | undefined {
      const i = byRow.get(row);
      if (i === undefined) {
        const kind = input.skipped.get(row);
        if (kind === undefined) return undefined;
        return { cells: RESULT_HEADERS.map((h) => (h.key === 'hint' ? skippedRowHint(kind) : '')) };
      }
      const annotation = annotateRow(input.rows[i]!);
      countFill(i, annotation.fill);
      const cells = RESULT_HEADERS.map((h) => annotation.cells[h.key]);
      const marked = markedByRow.get(row);
      return marked !== undefined
        ? { cells, fill: annotation.fill, marked, markFill: INVALID_CELL_FILL }
        : { cells, fill: annotation.fill };
    },
  };
  notes.sort((a, b) => a.row - b.row || a.column - b.column);

  const [stylesXml, sharedStringsXml, sheetXml] = [
    workbook.stylesPart,
    workbook.sharedStringsPart,
    sheet.part,
  ].map((part) => (part === undefined ? undefined : pkg.textForPatching(part)));
  const styles = new StylesPatch(stylesXml);
  const strings = new SharedStringsAppender(sharedStringCount);
  const legacyDrawingId = notes.length > 0 ? addNotes(pkg, sheet.part, notes) : undefined;

  patchSheet(
    {
      xml: sheetXml ?? '',
      formulaLikeStrings,
      headerRow: input.headerRow,
      resultHeaders: RESULT_HEADERS.map((h) => h.zh),
      resultWidths: RESULT_HEADERS.map((h) => RESULT_WIDTHS[h.key]),
      firstResultColumn: first,
      rows: results,
      lastRow: sheet.lastRow,
      wrapColumns: WRAPPED.map((key) => first + RESULT_HEADERS.findIndex((h) => h.key === key)),
      styles,
      strings,
      legacyDrawingId,
    },
    pkg.write(sheet.part),
  );

  // A row the sheet's XML did not hold (none should) still counts in the summary.
  for (const [i, outcome] of input.rows.entries())
    if (counted[i] === 0) countFill(i, annotateRow(outcome).fill);

  asPlainWorkbook(pkg, workbook);
  setPrintTitles(pkg, workbook, sheet.part, input.headerRow, input.headerRow);
  const summaryName = uniqueSheetName(workbook, '汇总');
  const summary = summarySheetXml(
    {
      ...input.meta,
      sheetName: sheet.name,
      headerRow: input.headerRow,
      ...input.summary,
      byFill,
      invalidCells: notes.length,
    },
    strings,
    styles,
  );
  addWorksheet(pkg, workbook, summaryName, summary);

  const stylesPart =
    workbook.stylesPart ?? addWorkbookPart(input.read, 'xl/styles.xml', REL.styles, CONTENT_TYPE.styles);
  pkg.put(stylesPart, styles.toXml());
  const sharedStringsPart =
    workbook.sharedStringsPart ??
    addWorkbookPart(input.read, 'xl/sharedStrings.xml', REL.sharedStrings, CONTENT_TYPE.sharedStrings);
  strings.patch(sharedStringsXml, pkg.write(sharedStringsPart));
  return pkg.toBuffer();
}

/** A part the workbook lacked (styles, shared strings), related from it and declared. */
function addWorkbookPart(read: AnnotationSource, wanted: string, type: string, contentType: string): string {
  const part = read.pkg.has(wanted) ? read.pkg.freeName((n) => wanted.replace('.xml', `${n}.xml`)) : wanted;
  read.pkg.addRelationship(read.workbook.part, type, part);
  read.pkg.setContentType(part, contentType);
  return part;
}
