/**
 * Reading legacy sheets from the wild: .xlsx straight from its XML parts and .csv in UTF-8 (with or
 * without BOM), UTF-16, GBK/GB18030 or Big5. Of an .xlsx only the workbook, its relationships, the
 * shared strings, the styles (which formats are dates) and the sheets the import looks at are
 * unzipped, and of a sheet only <sheetData> is read — whole-column data validation or formatting
 * costs nothing. Hostile files end in one clear ImportError, never a stack trace.
 */
import { isUtf8 } from 'node:buffer';
import iconv from 'iconv-lite';
import chardet from 'chardet';
import { parse as parseCsv } from 'csv-parse/sync';
import { problem, type Problem } from '../../core/problem.js';
import type { CellValue } from '../../core/schema.js';
import { MAX_ROW } from './cellReference.js';
import { CSV_SHEET_PART, sheetNameOfFile, workbookOfRecords } from './csvWorkbook.js';
import { ImportError } from './importError.js';
import { checkLimit, ImportLimitError, processImportLimits, type ImportLimits } from './importLimits.js';
import { parseSharedStrings } from './sharedStringsPart.js';
import { GridError, MAX_CELL_CHARS, readSheetRows, type ValueContext } from './sheetXmlReader.js';
import { readDateStyles } from './stylesPatch.js';
import { readWorkbookInfo, type WorkbookInfo } from './workbookPart.js';
import { XlsxPackage } from './xlsxPackage.js';
import { XmlFormatError, XmlScanner } from './xmlScanner.js';
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
  /** What the reader changed to read the file (bytes of a CSV not in its encoding, replaced). */
  warnings: Problem[];
}

const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04];
const CFB_MAGIC = [0xd0, 0xcf, 0x11, 0xe0];

export function readWorkbook(
  bytes: Uint8Array,
  fileName: string,
  limits: ImportLimits = processImportLimits(),
): ReadWorkbook {
  if (bytes.length === 0) throw unreadable(fileName, '文件为空', 'the file is empty');
  withReadableErrors(fileName, () => checkLimit(limits, 'maxFileBytes', bytes.length));
  if (isZip(bytes)) return readXlsx(bytes, fileName, limits);
  if (isLegacyWorkbook(bytes)) throw legacyWorkbook(fileName);
  const markup = markupTable(bytes);
  if (markup !== undefined) {
    // Many Chinese back-office systems "export to Excel" as a web page or an XML table named .xls:
    // Excel and WPS open them, but read as CSV they are tags, and the header is never found.
    throw new ImportError(
      'import.format_unsupported',
      `${fileName} 是${markup.zh}，不是 Excel 工作簿：请在 Excel 或 WPS 中打开，另存为 .xlsx 后再导入`,
      `${fileName} is ${markup.en}, not an Excel workbook: open it in Excel or WPS, save it as .xlsx and import that`,
    );
  }
  if (/\.xlsx$|\.xlsm$/i.test(fileName))
    throw unreadable(fileName, '不是有效的 .xlsx 文件', 'not a valid .xlsx file');
  if (looksBinary(bytes))
    throw unreadable(fileName, '不是表格文件（.xlsx 或 .csv）', 'not a spreadsheet (.xlsx or .csv)');
  return withReadableErrors(fileName, () => readCsv(bytes, fileName, limits));
}

/**
 * A web page (HTML table) or an Excel 2003 XML table, from its first KB decoded as a CSV would be
 * (byte-order marks dropped; UTF-16 as Excel's own HTML export writes it); undefined for anything else.
 */
function markupTable(bytes: Uint8Array): { zh: string; en: string } | undefined {
  const start = decodeText(bytes.subarray(0, 1024)).text.trimStart().toLowerCase();
  if (/^<(!doctype html|html|table|head|body|meta)\b/.test(start))
    return { zh: '网页（HTML 表格）', en: 'a web page (an HTML table)' };
  if (start.startsWith('<?xml') && start.includes('urn:schemas-microsoft-com:office:spreadsheet'))
    return { zh: '以 XML 保存的表格（Excel 2003 XML）', en: 'an XML table (Excel 2003 XML)' };
  return undefined;
}

/** A zip archive: what an .xlsx is (and any other Office Open XML file). */
export function isZip(bytes: Uint8Array): boolean {
  return startsWith(bytes, ZIP_MAGIC);
}

/** An OLE compound file: a BIFF .xls (Excel 97–2003, WPS .et), or an .xlsx encrypted with a password. */
export function isLegacyWorkbook(bytes: Uint8Array): boolean {
  return startsWith(bytes, CFB_MAGIC);
}

export function legacyWorkbook(fileName: string): ImportError {
  return new ImportError(
    'import.format_unsupported',
    `${fileName} 是旧版 .xls 或加密的工作簿，请在 Excel 中另存为 .xlsx 后再上传`,
    `${fileName} is a legacy .xls or an encrypted workbook; save it as .xlsx in Excel and upload again`,
  );
}

function readXlsx(bytes: Uint8Array, fileName: string, limits: ImportLimits): ReadWorkbook {
  return withReadableErrors(fileName, () => {
    const pkg = XlsxPackage.fromZip(bytes, limits);
    checkContentTypes(pkg);
    const workbook = readWorkbookInfo(pkg);
    if (workbook === undefined)
      throw unreadable(fileName, '压缩包里没有工作簿', 'the archive holds no workbook');
    checkSheets(workbook, fileName, limits);
    const sharedStringsXml =
      workbook.sharedStringsPart === undefined ? undefined : pkg.text(workbook.sharedStringsPart);
    const stylesXml = workbook.stylesPart === undefined ? undefined : pkg.text(workbook.stylesPart);
    const sharedStrings = sharedStringsXml === undefined ? [] : parseSharedStrings(sharedStringsXml, limits);
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
        return { name, part, ...readSheetRows(pkg.text(part) ?? '', ctx, limits) };
      });
    return {
      kind: 'xlsx',
      sheetNames: workbook.sheets.map((s) => s.name),
      readSheet,
      pkg,
      workbook,
      sharedStrings,
      warnings: [],
    };
  });
}

/** [Content_Types].xml, when there is one, must be a <Types> document (the annotated copy extends it). */
function checkContentTypes(pkg: XlsxPackage): void {
  const xml = pkg.text('[Content_Types].xml');
  if (xml === undefined) return;
  const s = new XmlScanner(xml);
  while (s.next() !== 'end' && s.kind !== 'open');
  if (s.kind !== 'open' || s.name !== 'Types')
    throw new XmlFormatError('[Content_Types].xml has no <Types> element');
  if (!s.selfClosing && xml.lastIndexOf('</') < 0) throw new XmlFormatError('<Types> is never closed');
}

/** Not more sheets than the limit, and no two with one name (Excel compares them without case) or one part. */
function checkSheets(workbook: WorkbookInfo, fileName: string, limits: ImportLimits): void {
  checkLimit(limits, 'maxSheets', workbook.sheets.length, 'workbook.xml');
  const names = new Set<string>();
  const parts = new Set<string>();
  for (const { name, part } of workbook.sheets) {
    const key = name.toLowerCase();
    if (names.has(key)) {
      throw unreadable(
        fileName,
        `有多个工作表同名“${name.slice(0, 31)}”`,
        `several sheets are named "${name.slice(0, 31)}"`,
      );
    }
    if (parts.has(part.toLowerCase()))
      throw unreadable(fileName, '多个工作表指向同一内容', 'several sheets share one part');
    names.add(key);
    parts.add(part.toLowerCase());
  }
}

/**
 * Damaged archives, malformed XML, cells outside the grid and crossed limits become one clear
 * ImportError (never a stack trace, never a 500).
 */
export function withReadableErrors<T>(fileName: string, read: () => T): T {
  try {
    return read();
  } catch (err) {
    if (err instanceof ImportLimitError) {
      const { zh, en } = err.describe();
      throw new ImportError(
        'import.too_large',
        `无法导入 ${fileName}：${zh}`,
        `Cannot import ${fileName}: ${en}`,
        err.limit,
      );
    }
    if (err instanceof GridError) {
      throw unreadable(
        fileName,
        `单元格 ${err.reference} 超出 Excel 的表格范围（最多 XFD 列、1048576 行）`,
        `cell ${err.reference} lies outside Excel's grid (columns up to XFD, rows up to 1,048,576)`,
      );
    }
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

function readCsv(bytes: Uint8Array, fileName: string, limits: ImportLimits): ReadWorkbook {
  const { text, encoding, replaced, legacyLines } = decodeText(bytes);
  const delimiter = guessDelimiter(text);
  // Lines and fields are counted before csv-parse allocates one string per field.
  const recordCount = checkCsvShape(text, delimiter, limits);
  if (recordCount > MAX_ROW) {
    throw new ImportError(
      'import.too_large',
      `无法导入 ${fileName}：超过 Excel 的 ${MAX_ROW} 行（实际 ${recordCount} 行）`,
      `Cannot import ${fileName}: more than Excel's ${MAX_ROW} rows (found ${recordCount})`,
    );
  }
  let records: string[][];
  try {
    records = parseCsv(text, {
      delimiter,
      relax_column_count: true,
      relax_quotes: true,
      skip_empty_lines: false,
      bom: true,
      max_record_size: limits.maxCsvLineChars,
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
    warnings: encodingWarnings(encoding, replaced, legacyLines),
  };
}

/**
 * The records of a CSV counted, and each checked against the line-length and column limits, in one
 * linear pass that follows quoting as csv-parse does (a quote opens a field only at its start;
 * `""` inside is one quote). Throws ImportLimitError at the first line over a limit.
 */
function checkCsvShape(text: string, delimiter: string, limits: ImportLimits): number {
  const sep = delimiter.charCodeAt(0);
  let records = 0;
  let lineStart = 0;
  let fields = 1;
  let quoted = false;
  let fieldStart = true;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (quoted) {
      if (c === 0x22) {
        if (text.charCodeAt(i + 1) === 0x22) i++;
        else quoted = false;
      }
    } else if (c === 0x22 && fieldStart) quoted = true;
    else if (c === sep) {
      if (++fields > limits.maxCsvColumns)
        throw new ImportLimitError('maxCsvColumns', limits.maxCsvColumns, undefined, `line ${records + 1}`);
    } else if (c === 0x0a || (c === 0x0d && text.charCodeAt(i + 1) !== 0x0a)) {
      // LF, CRLF (counted at its LF) or a lone CR (old Mac files): csv-parse ends a record at each.
      records++;
      lineStart = i + 1;
      fields = 1;
    }
    fieldStart = !quoted && (c === sep || c === 0x0a || c === 0x0d);
    if (i - lineStart >= limits.maxCsvLineChars)
      throw new ImportLimitError('maxCsvLineChars', limits.maxCsvLineChars, undefined, `line ${records + 1}`);
  }
  return lineStart < text.length ? records + 1 : records;
}

export interface DecodedText {
  text: string;
  /** The encoding the file is in (the one most of its lines are in when it mixes two). */
  encoding: string;
  /** Byte sequences invalid in their line's encoding, each replaced with U+FFFD. */
  replaced: number;
  /** In a mostly UTF-8 file, lines read as GB18030/Big5 because they are not UTF-8. */
  legacyLines: number;
}

/**
 * UTF-8 unless the bytes say otherwise: a BOM, or lines that are not UTF-8. A file that is not all
 * UTF-8 is decoded line by line (a line feed is a line feed in UTF-8, GBK and Big5 alike): a line
 * that is UTF-8 apart from a few bad bytes stays UTF-8 with them replaced, and only lines that look
 * like GB18030 (or Big5, as chardet tells) are decoded as that — so a few bad bytes, or a UTF-8
 * file with some GBK lines appended, never turn the whole file (and its header) into mojibake.
 */
export function decodeText(bytes: Uint8Array): DecodedText {
  if (startsWith(bytes, [0xef, 0xbb, 0xbf])) return utf8Lines(bytes.subarray(3), 'UTF-8');
  if (startsWith(bytes, [0xff, 0xfe]))
    return utf16(iconv.decode(Buffer.from(bytes.subarray(2)), 'utf-16le'), 'UTF-16LE');
  if (startsWith(bytes, [0xfe, 0xff]))
    return utf16(iconv.decode(Buffer.from(bytes.subarray(2)), 'utf-16be'), 'UTF-16BE');
  return utf8Lines(bytes, undefined);
}

function utf16(text: string, encoding: string): DecodedText {
  return { text, encoding, replaced: countReplacements(text), legacyLines: 0 };
}

function utf8Lines(bytes: Uint8Array, bom: string | undefined): DecodedText {
  const utf8 = new TextDecoder('utf-8');
  if (isUtf8(bytes))
    return { text: utf8.decode(bytes), encoding: bom ?? 'UTF-8', replaced: 0, legacyLines: 0 };
  let legacy: string | undefined;
  const pieces: string[] = [];
  let replaced = 0;
  let utf8Count = 0;
  let legacyCount = 0;
  for (let from = 0; from < bytes.length;) {
    const lf = bytes.indexOf(0x0a, from);
    const to = lf < 0 ? bytes.length : lf + 1;
    const line = bytes.subarray(from, to);
    from = to;
    const asUtf8 = utf8.decode(line);
    if (isUtf8(line)) {
      pieces.push(asUtf8);
      if (hasNonAscii(asUtf8)) utf8Count++;
      continue;
    }
    // More replacement characters than characters decoded: not UTF-8 with a few bad bytes.
    const bad = countReplacements(asUtf8);
    const good = countNonAscii(asUtf8) - bad;
    if (bom !== undefined || good >= bad) {
      pieces.push(asUtf8);
      replaced += bad;
      utf8Count++;
      continue;
    }
    // Chinese legacy files are GBK/GB18030 (mainland) or Big5 (Taiwan, Hong Kong): chardet tells which.
    legacy ??= /big5/i.test(chardet.detect(bytes) ?? '') ? 'Big5' : 'GB18030';
    const decoded = iconv.decode(Buffer.from(line), legacy);
    replaced += countReplacements(decoded);
    pieces.push(decoded);
    legacyCount++;
  }
  const text = pieces.join('');
  if (legacy !== undefined && legacyCount >= utf8Count)
    return { text, encoding: legacy, replaced, legacyLines: 0 };
  return { text, encoding: bom ?? 'UTF-8', replaced, legacyLines: legacyCount };
}

function countReplacements(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\ufffd'); i >= 0; i = text.indexOf('\ufffd', i + 1)) n++;
  return n;
}

function countNonAscii(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) n++;
  return n;
}

function hasNonAscii(text: string): boolean {
  // eslint-disable-next-line no-control-regex -- the ASCII range is what is tested
  return /[^\u0000-\u007f]/.test(text);
}

/** Warnings on the decoding: bytes replaced, lines in another encoding (a CSV pieced together from two). */
function encodingWarnings(encoding: string, replaced: number, legacyLines: number): Problem[] {
  const out: Problem[] = [];
  if (replaced > 0) {
    out.push(
      problem(
        'import.encoding_replaced',
        `文件中有 ${replaced} 处字节不符合 ${encoding} 编码，已替换为 �`,
        `${replaced} byte sequence(s) invalid in ${encoding} were replaced with �`,
      ),
    );
  }
  if (legacyLines > 0) {
    out.push(
      problem(
        'import.encoding_mixed',
        `文件以 ${encoding} 为主，其中 ${legacyLines} 行不是 ${encoding}，已按 GB18030/Big5 读取`,
        `The file is mostly ${encoding}; ${legacyLines} line(s) that are not were read as GB18030/Big5`,
      ),
    );
  }
  return out;
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
