/**
 * The annotated copy of an imported sheet: the original sheet as it was, plus the result columns,
 * a fill per row by status, a note on every invalid cell and a 汇总 (summary) sheet. Text that a
 * spreadsheet could take for a formula (= + - @) is written inert, with Excel's quote prefix.
 */
import type ExcelJS from 'exceljs';
import { strFromU8, strToU8, unzipSync, zipSync } from 'fflate';
import { FILLS, RESULT_HEADERS, type RowAnnotation } from '../../core/annotation.js';
import { STATUS_LABELS, type Field, type RowStatus } from '../../core/schema.js';
import type { ReadWorkbook } from './readWorkbook.js';
import { insertDataValidations, sheetPathsByName } from './xlsxArchive.js';

export interface AnnotatedRow {
  row: number;
  annotation: RowAnnotation;
}

export interface AnnotateInput {
  read: ReadWorkbook;
  sheetName: string;
  headerRow: number;
  /** Canonical field → 1-based column, for placing notes on invalid cells. */
  fieldColumns: Map<Field, number>;
  rows: readonly AnnotatedRow[];
  summary: { byStatus: Partial<Record<RowStatus | 'skipped', number>>; rows: number };
  meta: { file: string; mode: string; dryRun: boolean; at: string };
}

const INERT = /^[=+\-@]/;
/** Excel's built-in text format; xfs carrying it get quotePrefix="1" when the file is written. */
const TEXT_FORMAT = '@';

export async function writeAnnotatedWorkbook(input: AnnotateInput): Promise<Buffer> {
  const { workbook } = input.read;
  const ws = workbook.getWorksheet(input.sheetName);
  if (!ws) throw new Error(`sheet ${input.sheetName} vanished`);
  const styles = new StyleDeriver();
  const first = neutraliseFormulaLikeText(ws, styles) + 1;

  const header = ws.getRow(input.headerRow);
  RESULT_HEADERS.forEach((h, i) => {
    const cell = header.getCell(first + i);
    cell.value = h.zh;
    cell.font = { bold: true };
    cell.fill = solid('DDEBF7');
    cell.border = { bottom: { style: 'thin' } };
  });
  ws.getColumn(first).width = 16;
  ws.getColumn(first + 1).width = 10;
  ws.getColumn(first + 2).width = 12;
  ws.getColumn(first + 3).width = 60;

  const fills = new Map(Object.entries(FILLS).map(([name, c]) => [name, solid(c.fill)]));
  for (const { row, annotation } of input.rows) {
    const r = ws.getRow(row);
    const values = [
      annotation.cells.registrationNo,
      annotation.cells.status,
      annotation.cells.protectedUntil,
      annotation.cells.conflict,
    ];
    values.forEach((v, i) => {
      const cell = r.getCell(first + i);
      cell.value = v;
      if (INERT.test(v)) styles.apply(cell, 'text', { numFmt: TEXT_FORMAT });
    });
    styles.apply(r.getCell(first + 3), 'top', { alignment: { wrapText: false, vertical: 'top' } });
    const fill = fills.get(annotation.fill)!;
    for (let c = 1; c < first + RESULT_HEADERS.length; c++)
      styles.apply(r.getCell(c), `fill:${annotation.fill}`, { fill });
    for (const [field, note] of Object.entries(annotation.notes) as [Field, string][]) {
      const col = input.fieldColumns.get(field);
      if (col !== undefined) r.getCell(col).note = note;
    }
  }

  addSummarySheet(workbook, input);
  // Stored, not deflated: finishArchive unzips it again and compresses once.
  // exceljs types its result as its own ArrayBuffer-like Buffer; at run time it is a Node Buffer.
  const written = (await workbook.xlsx.writeBuffer({
    zip: { compression: 'STORE' },
  })) as unknown as Uint8Array;
  return finishArchive(written, input.read.removedValidations);
}

function addSummarySheet(workbook: ExcelJS.Workbook, input: AnnotateInput): void {
  let name = '汇总';
  for (let i = 2; workbook.getWorksheet(name); i++) name = `汇总${i}`;
  const ws = workbook.addWorksheet(name);
  ws.columns = [{ width: 18 }, { width: 40 }];
  const rows: [string, string | number][] = [
    ['文件 File', input.meta.file],
    ['工作表 Sheet', input.sheetName],
    ['表头行 Header row', input.headerRow],
    ['模式 Mode', `${input.meta.mode}${input.meta.dryRun ? '（试运行，未保存 dry run）' : ''}`],
    ['检查时间 Checked at', input.meta.at],
    ['数据行 Rows', input.summary.rows],
  ];
  for (const [k, v] of rows) ws.addRow([k, v]);
  ws.addRow([]);
  const head = ws.addRow(['状态 Status', '行数 Rows']);
  head.font = { bold: true };
  for (const [status, count] of Object.entries(input.summary.byStatus)) {
    const label =
      status === 'skipped'
        ? '跳过 Skipped'
        : `${STATUS_LABELS[status as RowStatus].zh} ${STATUS_LABELS[status as RowStatus].en}`;
    ws.addRow([label, count]);
  }
}

/**
 * Original text cells starting with = + - @ get the text format too (the quote prefix follows).
 * Returns the last column holding a value in any row, where the result columns start after.
 */
function neutraliseFormulaLikeText(ws: ExcelJS.Worksheet, styles: StyleDeriver): number {
  let last = 0;
  ws.eachRow((row) => {
    if (row.cellCount > last) last = row.cellCount;
    row.eachCell((cell) => {
      if (typeof cell.value === 'string' && INERT.test(cell.value))
        styles.apply(cell, 'text', { numFmt: TEXT_FORMAT });
    });
  });
  return last;
}

/**
 * exceljs gives every cell read with the same style index one shared style object, so setting a fill
 * or number format on a cell in place would set it on all of them (every row would take the last
 * row's fill; a text format meant for one cell would reach every cell of that style). A changed cell
 * gets a derived style instead: one new object per (style, change), shared by every cell that needs
 * the same — which also lets exceljs, which caches written styles by object, render each once.
 */
class StyleDeriver {
  private readonly derived = new WeakMap<object, Map<string, Partial<ExcelJS.Style>>>();
  /** Stands for every unstyled cell: exceljs gives each its own empty object. */
  private readonly unstyled = {};

  apply(cell: ExcelJS.Cell, change: string, style: Partial<ExcelJS.Style>): void {
    const current = cell.style;
    const base = isEmpty(current) ? this.unstyled : current;
    // exceljs picks a date format for an unformatted date cell by its type: keep those apart.
    const key = cell.value instanceof Date ? `${change}|date` : change;
    let byChange = this.derived.get(base);
    if (byChange === undefined) this.derived.set(base, (byChange = new Map()));
    let next = byChange.get(key);
    if (next === undefined) byChange.set(key, (next = { ...current, ...style }));
    cell.style = next;
  }
}

function isEmpty(style: object): boolean {
  for (const _ in style) return false;
  return true;
}

function solid(argb: string): ExcelJS.Fill {
  return { type: 'pattern', pattern: 'solid', fgColor: { argb: `FF${argb}` } };
}

/**
 * Two things exceljs cannot write: Excel's quotePrefix flag (added to every cell format using
 * the text format, so = + - @ text stays text even when edited), and the data validations cut
 * before reading (put back into their sheets, in schema order).
 */
function finishArchive(bytes: Uint8Array, validations: Map<string, string>): Buffer {
  const files = unzipSync(bytes);
  const styles = files['xl/styles.xml'];
  if (styles) {
    const xml = strFromU8(styles).replace(/<cellXfs\b[\s\S]*?<\/cellXfs>/, (block) =>
      block.replace(/<xf\b([^>]*?)(\/?)>/g, (whole, attrs: string, close: string) =>
        /\bnumFmtId="49"/.test(attrs) && !/quotePrefix=/.test(attrs)
          ? `<xf${attrs} quotePrefix="1"${close}>`
          : whole,
      ),
    );
    files['xl/styles.xml'] = strToU8(xml);
  }
  if (validations.size > 0) {
    const paths = sheetPathsByName(files);
    for (const [name, xmlPart] of validations) {
      const p = paths.get(name);
      const sheet = p ? files[p] : undefined;
      if (!p || !sheet) continue;
      files[p] = strToU8(insertDataValidations(strFromU8(sheet), xmlPart));
    }
  }
  const zipped = zipSync(files, { level: 6 });
  return Buffer.from(zipped.buffer, zipped.byteOffset, zipped.byteLength);
}
