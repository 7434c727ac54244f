/**
 * Reading legacy sheets from the wild: .xlsx straight from its XML parts and .csv in UTF-8 (with or
 * without BOM), UTF-16, GBK/GB18030 or Big5. Of an .xlsx only the workbook, its relationships, the
 * shared strings, the styles (which formats are dates) and the sheets the import looks at are
 * unzipped, and of a sheet only <sheetData> is read — whole-column data validation or formatting
 * costs nothing. Hostile files end in one clear ImportError, never a stack trace.
 */
import iconv from 'iconv-lite';
import chardet from 'chardet';
import { parse as parseCsv } from 'csv-parse/sync';
import type { CellValue } from '../../core/schema.js';
import { CSV_SHEET_PART, sheetNameOfFile, workbookOfRecords } from './csvWorkbook.js';
import { ImportError } from './importError.js';
import { parseSharedStrings } from './sharedStringsPart.js';
import { MAX_CELL_CHARS, readSheetRows, type ValueContext } from './sheetXmlReader.js';
import { readDateStyles } from './stylesPatch.js';
import { readWorkbookInfo, type WorkbookInfo } from './workbookPart.js';
import { XlsxPackage } from './xlsxPackage.js';
import { XmlFormatError } from './xmlScanner.js';
import { ZipFormatError } from './zipArchive.js';

export interface SheetData {
  name: string;
  /** The part holding the sheet's XML. */
  part: string;
  /** Rows by 1-based number; only rows holding at least one value (sparse, whatever the used range says). */
  rows: Map<number, CellValue[]>;
  /** Largest row number holding data. */
  lastRow: number;
  /** Rightmost column of any cell holding a value or formula: the result columns go after it. */
  lastUsedColumn: number;
}

export interface ReadWorkbook {
  kind: 'xlsx' | 'csv';
  /** Worksheet names in tab order. */
  sheetNames: readonly string[];
  /** The sheet at a 0-based position, read when asked for (only the sheets the import looks at). */
  readSheet(index: number): SheetData;
  /** The package the annotated copy is patched from (for a CSV, a workbook made of its records). */
  pkg: XlsxPackage;
  workbook: WorkbookInfo;
  /** The shared-string table, which cells of type `s` point into. */
  sharedStrings: readonly string[];
  encoding?: string;
}

const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04];
const CFB_MAGIC = [0xd0, 0xcf, 0x11, 0xe0];

export function readWorkbook(bytes: Uint8Array, fileName: string): ReadWorkbook {
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
  return readCsv(bytes, fileName);
}

function readXlsx(bytes: Uint8Array, fileName: string): ReadWorkbook {
  return withReadableErrors(fileName, () => {
    const pkg = XlsxPackage.fromZip(bytes);
    const workbook = readWorkbookInfo(pkg);
    if (workbook === undefined)
      throw unreadable(fileName, '压缩包里没有工作簿', 'the archive holds no workbook');
    const sharedStringsXml =
      workbook.sharedStringsPart === undefined ? undefined : pkg.text(workbook.sharedStringsPart);
    const stylesXml = workbook.stylesPart === undefined ? undefined : pkg.text(workbook.stylesPart);
    const sharedStrings = sharedStringsXml === undefined ? [] : parseSharedStrings(sharedStringsXml);
    const ctx: ValueContext = {
      sharedStrings,
      dateStyles: readDateStyles(stylesXml),
      date1904: workbook.date1904,
    };
    // No XML text is kept: the annotated copy unzips the parts it patches again (~0.1 s for 20,000
    // rows), which keeps the heap small through the store's write, the longest phase.
    const readSheet = (index: number): SheetData =>
      withReadableErrors(fileName, () => {
        const { name, part } = workbook.sheets[index]!;
        return { name, part, ...readSheetRows(pkg.text(part) ?? '', ctx) };
      });
    return {
      kind: 'xlsx',
      sheetNames: workbook.sheets.map((s) => s.name),
      readSheet,
      pkg,
      workbook,
      sharedStrings,
    };
  });
}

/** Damaged archives and malformed XML become one clear ImportError (never a stack trace). */
function withReadableErrors<T>(fileName: string, read: () => T): T {
  try {
    return read();
  } catch (err) {
    if (err instanceof ZipFormatError) {
      throw unreadable(
        fileName,
        '文件已损坏或不完整（无法解压）',
        'the file is damaged or truncated (cannot unzip)',
      );
    }
    if (err instanceof XmlFormatError) {
      throw unreadable(
        fileName,
        `工作簿内容已损坏（${err.message}）`,
        `the workbook's content is damaged (${err.message})`,
      );
    }
    throw err;
  }
}

function readCsv(bytes: Uint8Array, fileName: string): ReadWorkbook {
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
  // No cell holds more than Excel's 32,767 characters, in the check and in the annotated copy.
  const cut = records.map((record) =>
    record.map((v) => (v.length > MAX_CELL_CHARS ? v.slice(0, MAX_CELL_CHARS) : v)),
  );
  const rows = new Map<number, CellValue[]>();
  let lastRow = 0;
  let lastUsedColumn = 0;
  cut.forEach((record, i) => {
    record.forEach((cell, c) => {
      if (cell !== '' && c + 1 > lastUsedColumn) lastUsedColumn = c + 1;
    });
    if (record.some((v) => v.trim() !== '')) {
      rows.set(
        i + 1,
        record.map((v) => (v.trim() === '' ? null : v)),
      );
      lastRow = i + 1;
    }
  });
  // The annotated copy shows the CSV as it was: every cell as text, nothing evaluated.
  const name = sheetNameOfFile(fileName);
  const { pkg, sharedStrings } = workbookOfRecords(cut, name);
  const sheet: SheetData = { name, part: CSV_SHEET_PART, rows, lastRow, lastUsedColumn };
  const workbook = readWorkbookInfo(pkg)!;
  return {
    kind: 'csv',
    sheetNames: [name],
    readSheet: () => sheet,
    pkg,
    workbook,
    sharedStrings,
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
