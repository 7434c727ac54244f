/**
 * Reading legacy sheets from the wild: .xlsx (exceljs) and .csv in UTF-8 (with or without BOM),
 * UTF-16, GBK/GB18030 or Big5. Hostile files end in one clear ImportError, never a stack trace.
 * Whole-column data validation is cut out of the sheet XML before exceljs sees it — exceljs
 * expands every validated range into one entry per cell (a million for a whole column) — and is
 * handed back so the annotated copy can carry it again.
 */
import ExcelJS from 'exceljs';
import { unzipSync, zipSync, strFromU8, strToU8, type Unzipped } from 'fflate';
import iconv from 'iconv-lite';
import chardet from 'chardet';
import { parse as parseCsv } from 'csv-parse/sync';
import type { CellValue } from '../../core/schema.js';
import { ImportError } from './importError.js';
import { cutDataValidations, sheetPathsByName } from './xlsxArchive.js';

export interface SheetData {
  name: string;
  /** Rows by 1-based number; only rows holding at least one value (sparse, whatever the used range says). */
  rows: Map<number, CellValue[]>;
  /** Largest row number holding data. */
  lastRow: number;
}

export interface ReadWorkbook {
  kind: 'xlsx' | 'csv';
  sheets: SheetData[];
  /** The exceljs workbook (for xlsx; for csv one built from the rows), annotated in place later. */
  workbook: ExcelJS.Workbook;
  /** Data-validation XML cut from each sheet (by sheet name), to be put back into the annotated copy. */
  removedValidations: Map<string, string>;
  encoding?: string;
}

const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04];
const CFB_MAGIC = [0xd0, 0xcf, 0x11, 0xe0];
/** Cells longer than this are cut on read; the row gets a `field.tooLong` error from the row parser anyway. */
const MAX_CELL_CHARS = 32_767;

export async function readWorkbook(bytes: Uint8Array, fileName: string): Promise<ReadWorkbook> {
  if (bytes.length === 0) throw unreadable(fileName, '文件为空', 'the file is empty');
  if (startsWith(bytes, ZIP_MAGIC)) return readXlsx(bytes, fileName);
  if (startsWith(bytes, CFB_MAGIC)) {
    throw new ImportError(
      'import.format_unsupported',
      `${fileName} 是旧版 .xls 或加密的工作簿，请在 Excel 中另存为 .xlsx 后再上传`,
      `${fileName} is a legacy .xls or an encrypted workbook; save it as .xlsx in Excel and upload again`,
    );
  }
  if (/\.xlsx$|\.xlsm$/i.test(fileName))
    throw unreadable(fileName, '不是有效的 .xlsx 文件', 'not a valid .xlsx file');
  if (looksBinary(bytes))
    throw unreadable(fileName, '不是表格文件（.xlsx 或 .csv）', 'not a spreadsheet (.xlsx or .csv)');
  return readCsv(bytes);
}

async function readXlsx(bytes: Uint8Array, fileName: string): Promise<ReadWorkbook> {
  const { source, removedValidations } = withoutDataValidations(bytes, fileName);
  const workbook = new ExcelJS.Workbook();
  try {
    await workbook.xlsx.load(source as unknown as ArrayBuffer);
  } catch (err) {
    throw unreadable(
      fileName,
      `无法读取工作簿（${(err as Error).message}）`,
      `cannot read the workbook (${(err as Error).message})`,
    );
  }
  const sheets: SheetData[] = [];
  workbook.eachSheet((ws) => sheets.push(sheetFromWorksheet(ws)));
  return { kind: 'xlsx', sheets, workbook, removedValidations };
}

/**
 * The archive with every sheet's <dataValidations> cut out, and what was cut. Only a file that had
 * any is zipped again (stored: exceljs inflates it straight away, compressing would be wasted work);
 * the unzipped parts are garbage by the time exceljs reads.
 */
function withoutDataValidations(
  bytes: Uint8Array,
  fileName: string,
): { source: Uint8Array; removedValidations: Map<string, string> } {
  let files: Unzipped;
  try {
    files = unzipSync(bytes);
  } catch {
    throw unreadable(
      fileName,
      '文件已损坏或不完整（无法解压）',
      'the file is damaged or truncated (cannot unzip)',
    );
  }
  if (!files['xl/workbook.xml'])
    throw unreadable(fileName, '压缩包里没有工作簿', 'the archive holds no workbook');
  const removedValidations = new Map<string, string>();
  for (const [name, p] of sheetPathsByName(files)) {
    const xml = files[p];
    if (!xml) continue;
    const cut = cutDataValidations(strFromU8(xml));
    if (cut.removed !== '') {
      removedValidations.set(name, cut.removed);
      files[p] = strToU8(cut.xml);
    }
  }
  const source = removedValidations.size > 0 ? zipSync(files, { level: 0 }) : bytes;
  return { source, removedValidations };
}

function sheetFromWorksheet(ws: ExcelJS.Worksheet): SheetData {
  const rows = new Map<number, CellValue[]>();
  let lastRow = 0;
  // eachRow without includeEmpty visits only rows that exist in the file: a used range claiming
  // row 1,048,576 costs nothing unless those rows are really there.
  ws.eachRow((row, n) => {
    const values: CellValue[] = [];
    let any = false;
    row.eachCell({ includeEmpty: false }, (cell, col) => {
      const v = plainValue(cell.value);
      if (v === null || (typeof v === 'string' && v.trim() === '')) return;
      values[col - 1] = v;
      any = true;
    });
    if (!any) return;
    for (let i = 0; i < values.length; i++) if (values[i] === undefined) values[i] = null;
    rows.set(n, values);
    lastRow = n;
  });
  return { name: ws.name, rows, lastRow };
}

/** A cell as a plain value: formulas by their cached result, rich text and links as text. */
export function plainValue(value: ExcelJS.CellValue): CellValue {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string')
    return value.length > MAX_CELL_CHARS ? value.slice(0, MAX_CELL_CHARS) : value;
  if (typeof value === 'number' || typeof value === 'boolean' || value instanceof Date) return value;
  if (typeof value === 'object') {
    if ('richText' in value && Array.isArray(value.richText))
      return value.richText.map((r) => r.text).join('');
    if ('formula' in value || 'sharedFormula' in value) {
      const result = (value as { result?: ExcelJS.CellValue }).result;
      return result === undefined ? null : plainValue(result);
    }
    if ('error' in value) return String((value as { error: string }).error);
    if ('text' in value) {
      const text = (value as { text: unknown }).text;
      if (typeof text === 'string') return text;
      if (text && typeof text === 'object' && 'richText' in text)
        return plainValue(text as ExcelJS.CellValue);
    }
  }
  return null;
}

function readCsv(bytes: Uint8Array): ReadWorkbook {
  const { text, encoding } = decodeText(bytes);
  const delimiter = guessDelimiter(text);
  let records: string[][];
  try {
    records = parseCsv(text, {
      delimiter,
      relax_column_count: true,
      relax_quotes: true,
      skip_empty_lines: false,
      bom: true,
    }) as string[][];
  } catch (err) {
    throw new ImportError(
      'import.unreadable',
      `CSV 文件无法解析：${(err as Error).message}`,
      `The CSV file cannot be parsed: ${(err as Error).message}`,
    );
  }
  const rows = new Map<number, CellValue[]>();
  let lastRow = 0;
  const workbook = new ExcelJS.Workbook();
  const ws = workbook.addWorksheet('Sheet1');
  records.forEach((record, i) => {
    const values = record.map((cell) =>
      cell.length > MAX_CELL_CHARS ? cell.slice(0, MAX_CELL_CHARS) : cell,
    );
    // The annotated copy shows the CSV as it was: every cell as text, nothing evaluated.
    ws.getRow(i + 1).values = values;
    if (values.some((v) => v.trim() !== '')) {
      rows.set(
        i + 1,
        values.map((v) => (v.trim() === '' ? null : v)),
      );
      lastRow = i + 1;
    }
  });
  return {
    kind: 'csv',
    sheets: [{ name: 'Sheet1', rows, lastRow }],
    workbook,
    removedValidations: new Map(),
    encoding,
  };
}

/** UTF-8 unless the bytes say otherwise: a BOM, invalid UTF-8 (then chardet decides, GB18030 by default). */
export function decodeText(bytes: Uint8Array): { text: string; encoding: string } {
  if (startsWith(bytes, [0xef, 0xbb, 0xbf]))
    return { text: new TextDecoder('utf-8').decode(bytes.subarray(3)), encoding: 'UTF-8' };
  if (startsWith(bytes, [0xff, 0xfe]))
    return { text: iconv.decode(Buffer.from(bytes.subarray(2)), 'utf-16le'), encoding: 'UTF-16LE' };
  if (startsWith(bytes, [0xfe, 0xff]))
    return { text: iconv.decode(Buffer.from(bytes.subarray(2)), 'utf-16be'), encoding: 'UTF-16BE' };
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(bytes), encoding: 'UTF-8' };
  } catch {
    const detected = chardet.detect(bytes) ?? '';
    // Chinese legacy files that are not UTF-8 are GBK/GB18030 (mainland) or Big5 (Taiwan, Hong Kong).
    const encoding = /big5/i.test(detected) ? 'Big5' : 'GB18030';
    return { text: iconv.decode(Buffer.from(bytes), encoding), encoding };
  }
}

function guessDelimiter(text: string): string {
  const head = text.slice(0, 4096);
  const counts = [',', '\t', ';'].map((d) => [d, head.split(d).length] as const);
  counts.sort((a, b) => b[1] - a[1]);
  return counts[0]![0];
}

function startsWith(bytes: Uint8Array, magic: readonly number[]): boolean {
  return magic.every((b, i) => bytes[i] === b);
}

function looksBinary(bytes: Uint8Array): boolean {
  const n = Math.min(bytes.length, 4096);
  let zeros = 0;
  for (let i = 0; i < n; i++) if (bytes[i] === 0) zeros++;
  // UTF-16 text has zeros too, but it starts with a BOM and was handled above.
  return zeros > 0;
}

function unreadable(fileName: string, zh: string, en: string): ImportError {
  return new ImportError(
    'import.unreadable',
    `无法读取 ${fileName}：${zh}`,
    `Cannot read ${fileName}: ${en}`,
  );
}
