/**
 * Limits on everything an imported file can make the import allocate or scan: the ZIP container,
 * the XML inside it, the cell grid, sheets, shared strings and CSV lines. Each is checked before
 * the allocation it guards, and crossing one is an `import.too_large` (or `import.unreadable`)
 * ImportError naming the limit and its setting — exit 2 in the CLI, 422 over HTTP — never a crash
 * or an out-of-memory. One zod schema: the settings come from the environment
 * (BAOBEI_IMPORT_*), each with a default sized so that a 20 MB upload stays under 512 MB of memory.
 */
import { z } from 'zod';

const MiB = 1024 * 1024;

/** Defaults, named so the docs and the tests can quote them. */
export const DEFAULT_IMPORT_LIMITS = {
  /** Bytes of the uploaded file itself (the CLI reads files of any size; HTTP has its own 413 below this). */
  maxFileBytes: 64 * MiB,
  /** Entries in the ZIP's central directory (a workbook has a few dozen). */
  maxZipEntries: 10_000,
  /** Compressed bytes of one ZIP entry. */
  maxEntryCompressedBytes: 64 * MiB,
  /** Uncompressed bytes of one ZIP entry (a 100,000-row sheet is ~60 MB of XML). */
  maxEntryBytes: 128 * MiB,
  /** Uncompressed bytes of all entries together, as their headers declare them. */
  maxTotalBytes: 256 * MiB,
  /** Uncompressed ÷ compressed size of an entry above 1 MiB (sheet XML compresses 5–30×; a bomb 1,000×). */
  maxCompressionRatio: 200,
  /** Elements open at once in an XML part (Excel's deepest parts nest about 10). */
  maxXmlDepth: 256,
  /** Characters of one start tag, all its attributes included. */
  maxTagChars: 1 * MiB,
  /** Characters of one text run, and of the text of one element (a cell holds at most 32,767). */
  maxTextChars: 1 * MiB,
  /** Worksheets in the workbook. */
  maxSheets: 1_000,
  /** Items in the shared-string table. */
  maxSharedStrings: 2_000_000,
  /** Characters of one shared string (Excel's own limit is 32,767; longer ones are cut on read). */
  maxSharedStringChars: 1 * MiB,
  /** Cells the import holds for one sheet, gaps before a value included (rows × columns read). */
  maxSheetCells: 10_000_000,
  /** Characters of one CSV line (record). */
  maxCsvLineChars: 1 * MiB,
  /** Fields of one CSV record: Excel's 16,384 columns (XFD). */
  maxCsvColumns: 16_384,
} as const;

export type ImportLimits = { -readonly [K in keyof typeof DEFAULT_IMPORT_LIMITS]: number };

/** The environment variable of each limit: maxZipEntries → BAOBEI_IMPORT_MAX_ZIP_ENTRIES. */
export function settingOf(limit: keyof ImportLimits): string {
  return `BAOBEI_IMPORT_${limit.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}

const positiveInt = z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER);

const limitsSchema = z.object(
  Object.fromEntries(
    Object.entries(DEFAULT_IMPORT_LIMITS).map(([key, value]) => [
      settingOf(key as keyof ImportLimits),
      positiveInt.default(value),
    ]),
  ),
);

/**
 * The limits set in `env` (unset ones at their defaults). A bad value throws, naming the variable,
 * bilingual, as the service's configuration does.
 */
export function importLimitsFromEnv(env: NodeJS.ProcessEnv = process.env): ImportLimits {
  const parsed = limitsSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const name = issue.path.join('.');
    throw new Error(`${name}: 应为正整数 / must be a positive integer (${issue.message})`);
  }
  const values = parsed.data as Record<string, number>;
  return Object.fromEntries(
    Object.keys(DEFAULT_IMPORT_LIMITS).map((key) => [key, values[settingOf(key as keyof ImportLimits)]!]),
  ) as ImportLimits;
}

let fromEnvironment: ImportLimits | undefined;

/** The limits of this process (from its environment, read once). */
export function processImportLimits(): ImportLimits {
  return (fromEnvironment ??= importLimitsFromEnv());
}

/** What a limit protects, for the refusal's message. */
const WHAT: Record<keyof ImportLimits, [zh: string, en: string]> = {
  maxFileBytes: ['文件大小（字节）', 'file size (bytes)'],
  maxZipEntries: ['压缩包条目数', 'entries in the archive'],
  maxEntryCompressedBytes: ['单个条目压缩后大小（字节）', 'compressed size of one entry (bytes)'],
  maxEntryBytes: ['单个条目解压后大小（字节）', 'uncompressed size of one entry (bytes)'],
  maxTotalBytes: ['解压后总大小（字节）', 'total uncompressed size (bytes)'],
  maxCompressionRatio: ['压缩比', 'compression ratio'],
  maxXmlDepth: ['XML 嵌套层数', 'XML nesting depth'],
  maxTagChars: ['XML 标签（含属性）长度（字符）', 'length of an XML tag with its attributes (characters)'],
  maxTextChars: ['XML 文本长度（字符）', 'length of an XML text (characters)'],
  maxSheets: ['工作表数量', 'number of worksheets'],
  maxSharedStrings: ['共享字符串数量', 'number of shared strings'],
  maxSharedStringChars: ['单个共享字符串长度（字符）', 'length of one shared string (characters)'],
  maxSheetCells: ['工作表单元格数量', 'cells in one worksheet'],
  maxCsvLineChars: ['CSV 单行长度（字符）', 'length of one CSV line (characters)'],
  maxCsvColumns: ['CSV 列数', 'columns in one CSV record'],
};

/**
 * A limit crossed, thrown deep in a parser (which knows no file name) and turned into an
 * `import.too_large` ImportError at the edge of the import library.
 */
export class ImportLimitError extends Error {
  override name = 'ImportLimitError';
  constructor(
    readonly limit: keyof ImportLimits,
    readonly max: number,
    /** What was found, when it is known (a count or a size); undefined when scanning stopped at the limit. */
    readonly found?: number,
    /** Where, e.g. the ZIP entry or XML part. */
    readonly where?: string,
  ) {
    super(
      `${limit} ${max} exceeded${found === undefined ? '' : ` (${found})`}${where ? ` in ${where}` : ''}`,
    );
  }

  /** The bilingual refusal: which limit, its value and its setting. */
  describe(): { zh: string; en: string } {
    const [zh, en] = WHAT[this.limit];
    const found = this.found === undefined ? '' : `（实际 ${this.found}）`;
    const foundEn = this.found === undefined ? '' : ` (found ${this.found})`;
    const where = this.where ? `${this.where}：` : '';
    const whereEn = this.where ? ` in ${this.where}` : '';
    return {
      zh: `${where}${zh}超过上限 ${this.max}${found}（设置 ${settingOf(this.limit)}）`,
      en: `${en} exceeds the limit of ${this.max}${foundEn}${whereEn} (setting ${settingOf(this.limit)})`,
    };
  }
}

/** Throws when `found` is over the limit. */
export function checkLimit(
  limits: ImportLimits,
  limit: keyof ImportLimits,
  found: number,
  where?: string,
): void {
  if (found > limits[limit]) throw new ImportLimitError(limit, limits[limit], found, where);
}
