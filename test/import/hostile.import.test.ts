/**
 * Files from the wild are hostile. Whole-column data validation and formatting (a used range reaching
 * row 1,048,576) must cost neither time nor memory, and the validation must survive into the
 * annotated copy; broken and foreign files end in one ImportError with a stable code, in Chinese and
 * English, never a crash.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import iconv from 'iconv-lite';
import { loadConfig } from '../../server/config.js';
import { ImportError } from '../../server/import/importError.js';
import {
  DEFAULT_IMPORT_LIMITS,
  importLimitsFromEnv,
  settingOf,
  type ImportLimits,
} from '../../server/import/importLimits.js';
import { readWorkbook } from '../../server/import/readWorkbook.js';
import { isSafePartName } from '../../server/import/xlsxPackage.js';
import { readZip } from '../../server/import/zipArchive.js';
import {
  WHOLE_COLUMN_SQREF,
  hostileWorkbook,
  legacyXls,
  randomBinary,
  truncated,
} from '../fixtures/hostileWorkbook.js';
import {
  DECLARATION,
  bomb,
  deflated,
  minimalParts,
  sheetDataRows,
  workbookOf,
  worksheetXml,
  type RawEntry,
} from '../fixtures/hostileZip.js';
import { STANDARD_HEADER, csvOf, standardCsvRows } from '../fixtures/legacySheets.js';
import {
  cellElement,
  cellXfs,
  openTempStore,
  runImport,
  sheetXmlByName,
  withHeapPeak,
  xlsxParts,
  type TempStore,
} from './importHarness.js';

const MB = 1024 * 1024;
const execFileAsync = promisify(execFile);
/**
 * The heap an import of a five-row sheet may grow by. exceljs expanding the validation of B2:B1048576
 * alone holds about 80 MB (one entry per cell), so a bound of a few tens of MB proves it was not expanded.
 */
const HEAP_BOUND = 40 * MB;

let temp: TempStore;
beforeEach(async () => {
  temp = await openTempStore();
});
afterEach(async () => {
  await temp.dispose();
});

describe('whole-column data validation and formatting', () => {
  it('imports in bounded memory, reads only the rows holding data, and hands the validation back', async () => {
    const bytes = await hostileWorkbook({ rows: 5 });
    // The file really is hostile: whole-column validation, A:XFD column style, a row at 1,048,576.
    const sourceXml = sheetXmlByName(xlsxParts(bytes), '报备');
    expect(sourceXml).toContain(`sqref="${WHOLE_COLUMN_SQREF}"`);
    expect(sourceXml).toContain('<dimension ref="A1:XFD1048576"/>');
    expect(sourceXml).toContain('<col min="1" max="16384"');
    expect(sourceXml).toContain('<row r="1048576"');

    // Warm up module loading and JIT so that the measurement is about this file.
    await runImport(await hostileWorkbook({ rows: 1, validation: false, wholeColumnFormat: false }), temp, {
      dryRun: true,
    });
    const { value, peakGrowth, ms } = await withHeapPeak(() =>
      runImport(bytes, temp, { fileName: 'hostile.xlsx', dryRun: true }),
    );
    console.log(`hostile workbook: ${ms.toFixed(0)} ms, heap peak +${(peakGrowth / MB).toFixed(1)} MB`);
    expect(peakGrowth).toBeLessThan(HEAP_BOUND);

    const { report, annotated } = value;
    expect(report.rows.map((r) => [r.row, r.status])).toEqual([
      [2, 'pending'],
      [3, 'pending'],
      [4, 'pending'],
      [5, 'pending'],
      [6, 'pending'],
    ]);

    const parts = xlsxParts(annotated);
    const sheetXml = sheetXmlByName(parts, '报备');
    const validations = sheetXml.match(/<dataValidations\b[\s\S]*?<\/dataValidations>/g) ?? [];
    expect(validations).toHaveLength(1);
    expect(validations[0]).toContain(`sqref="${WHOLE_COLUMN_SQREF}"`);
    expect(validations[0]).toContain('<formula1>"企业,个人,其他"</formula1>');
    // CT_Worksheet order: dataValidations after sheetData, before pageMargins.
    expect(sheetXml.indexOf('<dataValidations')).toBeGreaterThan(sheetXml.indexOf('</sheetData>'));
    expect(sheetXml.indexOf('<dataValidations')).toBeLessThan(sheetXml.indexOf('<pageMargins'));
    expect(sheetXmlByName(parts, '汇总')).not.toContain('<dataValidations');
    // The result columns follow the data (H…K), not column XFD that the formatting reaches.
    expect(sheetXml).toMatch(/<c r="K1"[^>]*t="s"/);
  }, 30_000);

  it('copes with whole-column formatting alone and with validation alone', async () => {
    for (const options of [
      { validation: false, wholeColumnFormat: true },
      { validation: true, wholeColumnFormat: false },
    ]) {
      const bytes = await hostileWorkbook({ rows: 3, ...options });
      const { value, peakGrowth } = await withHeapPeak(() => runImport(bytes, temp, { dryRun: true }));
      expect(peakGrowth, JSON.stringify(options)).toBeLessThan(HEAP_BOUND);
      expect(value.report.summary.rows).toBe(3);
    }
  }, 30_000);
});

describe('files that are not usable sheets', () => {
  async function failure(bytes: Uint8Array, fileName: string): Promise<ImportError> {
    try {
      await runImport(bytes, temp, { fileName, dryRun: true });
    } catch (err) {
      return err as ImportError;
    }
    throw new Error(`${fileName}: the import did not fail`);
  }

  const cases: { label: string; make: () => Promise<Uint8Array>; fileName: string; code: string }[] = [
    {
      label: 'a truncated .xlsx',
      make: async () => truncated(await hostileWorkbook({ validation: false })),
      fileName: 'cut.xlsx',
      code: 'import.unreadable',
    },
    {
      label: 'random bytes named .xlsx',
      make: async () => randomBinary(4096),
      fileName: 'noise.xlsx',
      code: 'import.unreadable',
    },
    {
      label: 'random bytes named .csv',
      make: async () => randomBinary(4096),
      fileName: 'noise.csv',
      code: 'import.unreadable',
    },
    {
      label: 'a legacy .xls (CFB magic)',
      make: async () => legacyXls(),
      fileName: 'old.xls',
      code: 'import.format_unsupported',
    },
    {
      label: 'an empty file',
      make: async () => new Uint8Array(0),
      fileName: 'empty.csv',
      code: 'import.unreadable',
    },
    // "Export to Excel" of many back-office systems: a web page or an XML table named .xls. Read as
    // CSV they were tags, and the refusal said the header was missing.
    {
      label: 'a web page named .xls',
      make: async () =>
        Buffer.from(
          '\r\n<html><head><meta charset="utf-8"></head><table><tr><td>客户名称</td><td>联系电话</td></tr></table></html>',
        ),
      fileName: 'export.xls',
      code: 'import.format_unsupported',
    },
    {
      label: "Excel's own web page export, UTF-16 with a byte-order mark",
      make: async () =>
        Buffer.concat([
          Buffer.from([0xff, 0xfe]),
          Buffer.from(
            '<html xmlns:o="urn:schemas-microsoft-com:office:office"><table></table></html>',
            'utf16le',
          ),
        ]),
      fileName: 'saved-as-web-page.xls',
      code: 'import.format_unsupported',
    },
    {
      label: 'an Excel 2003 XML table',
      make: async () =>
        Buffer.from(
          '\ufeff<?xml version="1.0"?>\n<?mso-application progid="Excel.Sheet"?>\n<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"><Worksheet ss:Name="报备"/></Workbook>',
        ),
      fileName: 'register.xml',
      code: 'import.format_unsupported',
    },
    {
      label: 'a CSV with no recognisable header',
      make: async () =>
        Buffer.from(
          csvOf([
            ['甲', '乙', '丙'],
            ['1', '2', '3'],
            ['4', '5', '6'],
          ]),
        ),
      fileName: 'plain.csv',
      code: 'import.no_header',
    },
  ];

  it.each(cases)('$label → ImportError $code', async ({ make, fileName, code }) => {
    const err = await failure(await make(), fileName);
    expect(err).toBeInstanceOf(ImportError);
    expect(err.code).toBe(code);
    expect(err.message).toMatch(/[\u4e00-\u9fff]/);
    expect(err.messageEn).toMatch(/^[\x20-\x7e\u4e00-\u9fff，、“”（）]+$/);
    expect(err.messageEn).toMatch(/[a-z]{3,}/);
  });

  it('a web page is told as one, with what to do', async () => {
    const err = await failure(Buffer.from('<!DOCTYPE html><html><table></table></html>'), 'export.xls');
    expect(err.message).toBe(
      'export.xls 是网页（HTML 表格），不是 Excel 工作簿：请在 Excel 或 WPS 中打开，另存为 .xlsx 后再导入',
    );
  });

  it('still reads a sound CSV (the failures above are about the files, not the reader)', async () => {
    const { report } = await runImport(
      Buffer.from(csvOf([STANDARD_HEADER, ...standardCsvRows(2, '王磊')])),
      temp,
      {
        fileName: 'ok.csv',
        dryRun: true,
      },
    );
    expect(report.summary.rows).toBe(2);
  });
});

/**
 * Issue 14's table, file by file: each hostile upload (small on disk, built here) ends in a coded,
 * bilingual refusal — or a correct result — within bounded memory. Each runs in a process of its
 * own, whose peak RSS is the bound measured (the documented bound: < 512 MB for any 20 MB upload).
 */
describe('hostile uploads (issue 14): coded refusals in bounded memory', () => {
  const RSS_BOUND = 512 * MB;
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'baobei-hostile-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  interface ChildOutcome {
    ok: boolean;
    rows?: number;
    code?: string;
    message?: string;
    messageEn?: string;
    crashed?: string;
    baseRss: number;
    maxRss: number;
  }

  async function importInChild(bytes: Uint8Array, fileName: string): Promise<ChildOutcome> {
    const file = path.join(dir, fileName);
    await writeFile(file, bytes);
    const { stdout } = await execFileAsync(
      process.execPath,
      ['--import', 'tsx', 'test/fixtures/importInChild.ts', file, fileName],
      { maxBuffer: 16 * MB },
    );
    const outcome = JSON.parse(stdout.trim().split('\n').pop()!) as ChildOutcome;
    console.log(
      `${fileName} (${(bytes.length / MB).toFixed(2)} MB): ${outcome.ok ? `${outcome.rows} rows` : (outcome.code ?? outcome.crashed)}, ` +
        `peak RSS ${(outcome.maxRss / MB).toFixed(0)} MB — ${outcome.messageEn ?? ''}`,
    );
    return outcome;
  }

  function sheetWith(sheetXml: string, edit?: (parts: Map<string, string>) => void): Buffer {
    const parts = minimalParts();
    parts.set('xl/worksheets/sheet1.xml', sheetXml);
    edit?.(parts);
    return workbookOf(parts);
  }

  function withSheetEntry(entry: RawEntry): Buffer {
    const parts = minimalParts();
    parts.delete(entry.name);
    return workbookOf(parts, [entry]);
  }

  const head = `${DECLARATION}<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`;
  const tail = '</sheetData></worksheet>';
  const oneMiBOf = (piece: string): string => piece.repeat(Math.ceil(MB / piece.length)).slice(0, MB);

  const cases: {
    label: string;
    make: () => Uint8Array;
    fileName: string;
    code?: string;
    limit?: RegExp;
    rows?: number;
  }[] = [
    {
      label: 'a sheet that inflates to ~500 MB of <row>s',
      make: () => withSheetEntry(bomb('xl/worksheets/sheet1.xml', head, oneMiBOf('<row/>'), 500, tail)),
      fileName: 'rows-bomb.xlsx',
      code: 'import.too_large',
      limit: /BAOBEI_IMPORT_MAX_ENTRY_BYTES/,
    },
    {
      label: 'a sheet of ~500 MB of whitespace',
      make: () => withSheetEntry(bomb('xl/worksheets/sheet1.xml', head, ' '.repeat(MB), 500, tail)),
      fileName: 'whitespace.xlsx',
      code: 'import.too_large',
      limit: /BAOBEI_IMPORT_MAX_ENTRY_BYTES/,
    },
    {
      label: 'a 512 MiB part',
      make: () => {
        const parts = minimalParts();
        return workbookOf(parts, [bomb('docProps/huge.xml', '<a>', 'x'.repeat(MB), 512, '</a>')]);
      },
      fileName: 'huge-part.xlsx',
      code: 'import.too_large',
      limit: /BAOBEI_IMPORT_MAX_ENTRY_BYTES/,
    },
    {
      label: 'an archive of 70,000 entries (ZIP64 end record)',
      make: () => {
        const empty = deflated('x', '');
        return workbookOf(
          minimalParts(),
          Array.from({ length: 70_000 }, (_, i) => ({ ...empty, name: `n/${i}` })),
        );
      },
      fileName: 'many-entries.xlsx',
      code: 'import.too_large',
      limit: /BAOBEI_IMPORT_MAX_ZIP_ENTRIES/,
    },
    {
      label: 'a cell at ZZZZZ1',
      make: () =>
        sheetWith(
          worksheetXml(
            `<sheetData>${sheetDataRows()}<row r="9"><c r="ZZZZZ1"><v>1</v></c></row></sheetData>`,
          ),
        ),
      fileName: 'zzzzz.xlsx',
      code: 'import.unreadable',
      limit: /XFD/,
    },
    {
      label: 'a seven-letter column',
      make: () =>
        sheetWith(
          worksheetXml(
            `<sheetData>${sheetDataRows()}<row r="9"><c r="ABCDEFG9"><v>1</v></c></row></sheetData>`,
          ),
        ),
      fileName: 'seven-letters.xlsx',
      code: 'import.unreadable',
      limit: /XFD/,
    },
    {
      label: 'a row numbered r="1e15"',
      make: () =>
        sheetWith(
          worksheetXml(`<sheetData>${sheetDataRows()}<row r="1e15"><c><v>1</v></c></row></sheetData>`),
        ),
      fileName: 'row-1e15.xlsx',
      code: 'import.unreadable',
      limit: /1,048,576/,
    },
    {
      label: 'a value at XFD1048576 (inside the grid: imported)',
      make: () =>
        sheetWith(
          worksheetXml(
            `<sheetData>${sheetDataRows()}<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>`,
          ),
        ),
      fileName: 'far-corner.xlsx',
      rows: 3,
    },
    {
      label: 'values out at column XFD on 1,000 rows',
      make: () => {
        const far = Array.from(
          { length: 1000 },
          (_, i) => `<row r="${i + 10}"><c r="XFD${i + 10}"><v>1</v></c></row>`,
        );
        return sheetWith(worksheetXml(`<sheetData>${sheetDataRows()}${far.join('')}</sheetData>`));
      },
      fileName: 'far-right.xlsx',
      code: 'import.too_large',
      limit: /BAOBEI_IMPORT_MAX_SHEET_CELLS/,
    },
    {
      label: 'a 50 MB attribute on a cell',
      make: () =>
        withSheetEntry(
          bomb(
            'xl/worksheets/sheet1.xml',
            `${head}<row r="1"><c r="A1" x="`,
            oneMiBOf('a'),
            50,
            `"/></row>${tail}`,
          ),
        ),
      fileName: 'long-attribute.xlsx',
      code: 'import.too_large',
      // The ZIP limits stop it first; the tag limit itself is crossed in 'a start tag over the limit'.
      limit: /BAOBEI_IMPORT_MAX_(TAG_CHARS|COMPRESSION_RATIO|ENTRY_BYTES)/,
    },
    {
      label: 'a 50 MB sheet name',
      make: () => {
        const parts = minimalParts();
        const workbook = parts.get('xl/workbook.xml')!;
        const [before, after] = workbook.split('name="报备"') as [string, string];
        parts.delete('xl/workbook.xml');
        return workbookOf(parts, [
          bomb('xl/workbook.xml', `${before}name="`, oneMiBOf('报'), 50, `"${after}`),
        ]);
      },
      fileName: 'long-sheet-name.xlsx',
      code: 'import.too_large',
      limit: /BAOBEI_IMPORT_MAX_(TAG_CHARS|COMPRESSION_RATIO|ENTRY_BYTES)/,
    },
    {
      label: 'an unterminated <worksheet>',
      make: () => sheetWith(`${head}${sheetDataRows()}`),
      fileName: 'unterminated.xlsx',
      code: 'import.unreadable',
    },
    {
      label: 'a [Content_Types].xml without <Types>',
      make: () =>
        sheetWith(worksheetXml(), (parts) => parts.set('[Content_Types].xml', `${DECLARATION}<Other/>`)),
      fileName: 'no-types.xlsx',
      code: 'import.unreadable',
      limit: /Types/,
    },
    {
      label: 'very long dimension and numFmt attributes (200k characters: imported, in linear time)',
      make: () =>
        sheetWith(worksheetXml(undefined, `<dimension ref="A1:${'1'.repeat(200_000)}x"/>`), (parts) => {
          parts.set(
            'xl/styles.xml',
            `${DECLARATION}<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">` +
              `<numFmts count="1"><numFmt numFmtId="164" formatCode="${'['.repeat(200_000)}"/></numFmts>` +
              `<cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="164"/></cellXfs></styleSheet>`,
          );
          const rels = parts.get('xl/_rels/workbook.xml.rels')!;
          parts.set(
            'xl/_rels/workbook.xml.rels',
            rels.replace(
              '</Relationships>',
              '<Relationship Id="rId9" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>',
            ),
          );
        }),
      fileName: 'long-dimension.xlsx',
      rows: 2,
    },
    {
      label: '2,000 sheets with the same name',
      make: () => workbookOf(minimalParts(Array<string>(2000).fill('报备'))),
      fileName: 'same-names.xlsx',
      code: 'import.too_large',
      limit: /BAOBEI_IMPORT_MAX_SHEETS/,
    },
    {
      label: 'three sheets with the same name',
      make: () => workbookOf(minimalParts(['报备', '报备', '報備'])),
      fileName: 'three-same.xlsx',
      code: 'import.unreadable',
      limit: /named/,
    },
    {
      label: 'a CSV of one 50 MB line of commas',
      make: () => Buffer.from(`${STANDARD_HEADER.join(',')}\n${','.repeat(50 * MB)}\n`),
      fileName: 'commas.csv',
      code: 'import.too_large',
      limit: /BAOBEI_IMPORT_MAX_CSV_/,
    },
    {
      label: 'a CSV with 200,000 columns',
      make: () =>
        Buffer.from(
          `${STANDARD_HEADER.join(',')}\n${Array.from({ length: 200_000 }, (_, i) => i % 10).join(',')}\n`,
        ),
      fileName: 'wide.csv',
      code: 'import.too_large',
      limit: /BAOBEI_IMPORT_MAX_CSV_COLUMNS/,
    },
  ];

  it.each(cases)(
    '$label',
    async ({ make, fileName, code, limit, rows }) => {
      const bytes = make();
      // A CSV cannot be compressed: the 50 MB one reaches the service only through the CLI.
      if (fileName.endsWith('.xlsx'))
        expect(bytes.length, 'the hostile file stays small').toBeLessThan(8 * MB);
      const outcome = await importInChild(bytes, fileName);
      expect(outcome.crashed, outcome.messageEn).toBeUndefined();
      if (code === undefined) {
        expect(outcome.ok, outcome.messageEn).toBe(true);
        expect(outcome.rows).toBe(rows);
      } else {
        expect(outcome.code).toBe(code);
        expect(outcome.message).toMatch(/[\u4e00-\u9fff]/);
        expect(outcome.messageEn).toMatch(/[a-z]{3,}/);
        if (limit) expect(`${outcome.message} ${outcome.messageEn}`).toMatch(limit);
      }
      expect(outcome.maxRss).toBeLessThan(RSS_BOUND);
    },
    60_000,
  );
});

describe('each import limit, crossed by a small file with the limit set low', () => {
  async function refusal(
    bytes: Uint8Array,
    fileName: string,
    limits: Partial<ImportLimits>,
  ): Promise<ImportError> {
    try {
      await runImport(bytes, temp, {
        fileName,
        dryRun: true,
        limits: { ...DEFAULT_IMPORT_LIMITS, ...limits },
      });
    } catch (err) {
      return err as ImportError;
    }
    throw new Error(`${fileName}: the import did not fail`);
  }

  const withSharedStrings = (items: string[]): Buffer => {
    const parts = minimalParts();
    parts.set(
      'xl/sharedStrings.xml',
      `${DECLARATION}<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">${items.map((t) => `<si><t>${t}</t></si>`).join('')}</sst>`,
    );
    parts.set(
      'xl/_rels/workbook.xml.rels',
      parts
        .get('xl/_rels/workbook.xml.rels')!
        .replace(
          '</Relationships>',
          '<Relationship Id="rId9" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
        ),
    );
    return workbookOf(parts);
  };
  const sheetRows = (extra: string): Buffer => {
    const parts = minimalParts();
    parts.set('xl/worksheets/sheet1.xml', worksheetXml(`<sheetData>${sheetDataRows()}${extra}</sheetData>`));
    return workbookOf(parts);
  };
  const csv = (lines: string[]): Buffer => Buffer.from(lines.join('\n'));
  const sound = (): Buffer => workbookOf(minimalParts());

  const cases: {
    limit: keyof ImportLimits;
    set: number | undefined;
    make: () => Buffer;
    fileName: string;
  }[] = [
    { limit: 'maxFileBytes', set: 100, make: sound, fileName: 'a.xlsx' },
    { limit: 'maxZipEntries', set: 3, make: sound, fileName: 'a.xlsx' },
    { limit: 'maxEntryCompressedBytes', set: 100, make: sound, fileName: 'a.xlsx' },
    { limit: 'maxEntryBytes', set: 1000, make: sound, fileName: 'a.xlsx' },
    { limit: 'maxTotalBytes', set: 2500, make: sound, fileName: 'a.xlsx' },
    {
      limit: 'maxCompressionRatio',
      set: undefined, // the default: 2 MiB of spaces compress ~1,000×
      make: () => sheetRows(`<row r="9">${' '.repeat(2 * MB)}</row>`),
      fileName: 'a.xlsx',
    },
    {
      limit: 'maxXmlDepth',
      set: undefined,
      make: () => sheetRows(`<row r="9">${'<x>'.repeat(300)}${'</x>'.repeat(300)}</row>`),
      fileName: 'a.xlsx',
    },
    {
      limit: 'maxTagChars',
      set: 1000,
      make: () => sheetRows(`<row r="9" x="${'a'.repeat(2000)}"/>`),
      fileName: 'a.xlsx',
    },
    {
      limit: 'maxTextChars',
      set: 1000,
      make: () =>
        sheetRows(`<row r="9"><c r="A9" t="inlineStr"><is><t>${'长'.repeat(2000)}</t></is></c></row>`),
      fileName: 'a.xlsx',
    },
    {
      limit: 'maxSheets',
      set: 1,
      make: () => workbookOf(minimalParts(['报备', '其他'])),
      fileName: 'a.xlsx',
    },
    { limit: 'maxSharedStrings', set: 2, make: () => withSharedStrings(['a', 'b', 'c']), fileName: 'a.xlsx' },
    {
      limit: 'maxSharedStringChars',
      set: 10,
      make: () => withSharedStrings(['a'.repeat(20)]),
      fileName: 'a.xlsx',
    },
    { limit: 'maxSheetCells', set: 10, make: sound, fileName: 'a.xlsx' },
    {
      limit: 'maxCsvLineChars',
      set: 50,
      make: () => csv([STANDARD_HEADER.join(','), `${'x'.repeat(100)},1`]),
      fileName: 'a.csv',
    },
    { limit: 'maxCsvColumns', set: 5, make: () => csv([STANDARD_HEADER.join(',')]), fileName: 'a.csv' },
  ];

  it('covers every limit', () => {
    expect(new Set(cases.map((c) => c.limit))).toEqual(new Set(Object.keys(DEFAULT_IMPORT_LIMITS)));
  });

  it.each(cases)(
    '$limit → import.too_large naming it and its setting',
    async ({ limit, set, make, fileName }) => {
      const bytes = make();
      // Within the defaults the same file imports or is refused for another reason only.
      if (set !== undefined)
        await expect(runImport(bytes, temp, { fileName, dryRun: true })).resolves.toBeDefined();
      const err = await refusal(bytes, fileName, set === undefined ? {} : { [limit]: set });
      expect(err).toBeInstanceOf(ImportError);
      expect(err.code).toBe('import.too_large');
      expect(err.field).toBe(limit);
      expect(err.messageEn).toContain(settingOf(limit));
      expect(err.message).toContain(settingOf(limit));
      expect(err.message).toMatch(/[\u4e00-\u9fff]/);
    },
  );

  it('reads the limits from the environment, and refuses a bad value naming the variable', () => {
    expect(importLimitsFromEnv({ BAOBEI_IMPORT_MAX_ZIP_ENTRIES: '50' }).maxZipEntries).toBe(50);
    expect(importLimitsFromEnv({}).maxCsvColumns).toBe(16_384);
    expect(() => importLimitsFromEnv({ BAOBEI_IMPORT_MAX_XML_DEPTH: '-3' })).toThrow(
      /BAOBEI_IMPORT_MAX_XML_DEPTH/,
    );
    // The service refuses to start with a bad one, as with any bad setting.
    expect(() => loadConfig({ BAOBEI_IMPORT_MAX_CSV_COLUMNS: 'many' })).toThrow(
      /BAOBEI_IMPORT_MAX_CSV_COLUMNS: 应为正整数 \/ must be a positive integer/,
    );
    expect(loadConfig({ BAOBEI_IMPORT_MAX_CSV_COLUMNS: '100' }).port).toBe(3000);
  });
});

describe('inputs normalised on the way out (issue 16)', () => {
  const header = STANDARD_HEADER.join(',');
  const [first, second] = standardCsvRows(2, '王磊') as [string[], string[]];

  it('a CSV mixing UTF-8 and GBK lines keeps its UTF-8 header and reads the GBK line as GBK, with a warning', () => {
    const bytes = Buffer.concat([
      Buffer.from(`${header}\n${first.join(',')}\n`, 'utf8'),
      iconv.encode(`${second.join(',')}\n`, 'gbk'),
    ]);
    const read = readWorkbook(bytes, 'mixed.csv');
    expect(read.encoding).toBe('UTF-8');
    const sheet = read.readSheet(0);
    expect(sheet.rows.get(1)?.[0]).toBe(STANDARD_HEADER[0]);
    expect(sheet.rows.get(3)?.[0]).toBe(second[0]);
    expect(read.warnings.map((w) => w.code)).toEqual(['import.encoding_mixed']);
  });

  it('a UTF-8 CSV with a few invalid bytes stays UTF-8: the bytes replaced and reported', async () => {
    const bytes = Buffer.concat([
      Buffer.from(`${header}\n${first.join(',')}\n`, 'utf8'),
      Buffer.from(second[0]!, 'utf8'),
      Buffer.from([0xff, 0xc3]),
      Buffer.from(`,${second.slice(1).join(',')}\n`, 'utf8'),
    ]);
    const read = readWorkbook(bytes, 'bad-bytes.csv');
    expect(read.encoding).toBe('UTF-8');
    expect(read.readSheet(0).rows.get(3)?.[0]).toBe(`${second[0]}\ufffd\ufffd`);
    expect(read.warnings.map((w) => w.code)).toEqual(['import.encoding_replaced']);
    const { report } = await runImport(bytes, temp, { fileName: 'bad-bytes.csv', dryRun: true });
    expect(report.summary.rows).toBe(2);
    expect(report.warnings?.[0]?.messageEn).toMatch(/2 byte sequence\(s\) invalid in UTF-8/);
  });

  it('a CSV with old-Mac CR line endings is counted line by line (not one long line)', async () => {
    const bytes = Buffer.from([header, first.join(','), second.join(',')].join('\r'));
    const limits = { ...DEFAULT_IMPORT_LIMITS, maxCsvLineChars: 200 };
    expect(bytes.length).toBeGreaterThan(200);
    const { report } = await runImport(bytes, temp, { fileName: 'mac.csv', dryRun: true, limits });
    expect(report.summary.rows).toBe(2);
  });

  it('a CSV of more rows than Excel holds is refused, never written', async () => {
    const bytes = Buffer.from(`${header}\n${first.join(',')}\n${'\n'.repeat(1_048_576)}`);
    const err = await runImport(bytes, temp, { fileName: 'long.csv', dryRun: true }).catch((e: unknown) => e);
    expect((err as ImportError).code).toBe('import.too_large');
    expect((err as ImportError).messageEn).toMatch(/1048576 rows/);
  });

  it.each([
    ['the sheet', 'xl/worksheets/sheet1.xml'],
    ['a part the import never reads (copied as it is otherwise)', 'docProps/app.xml'],
  ])('a DOCTYPE in %s is refused, never carried into the copy', async (_label, part) => {
    const parts = minimalParts();
    const doctype = '<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>';
    parts.set(part, (parts.get(part) ?? `${DECLARATION}<Properties/>`).replace('?>\n', `?>\n${doctype}`));
    const err = await runImport(workbookOf(parts), temp, { fileName: 'dtd.xlsx', dryRun: true }).catch(
      (e: unknown) => e,
    );
    expect((err as ImportError).code).toBe('import.unreadable');
    expect((err as ImportError).messageEn).toMatch(/DOCTYPE/);
  });

  it('ZIP entries named ../x, /x or C:\\x are left out of the annotated copy', async () => {
    const odd = ['../../evil.sh', '/etc/cron.d/x', 'C:\\Windows\\x.xml', 'xl/../../up.xml', 'a\u0000b'];
    const bytes = workbookOf(
      minimalParts(),
      odd.map((name) => deflated(name, 'payload')),
    );
    const { report, annotated } = await runImport(bytes, temp, { fileName: 'names.xlsx', dryRun: true });
    expect(report.summary.rows).toBe(2);
    const names = readZip(annotated).map((e) => e.name);
    expect(names).toContain('xl/worksheets/sheet1.xml');
    for (const name of names) expect(isSafePartName(name), name).toBe(true);
    for (const name of odd) expect(names).not.toContain(name);
  });

  it('text starting with a tab, a CR or a full-width ＝＋－＠ is written inert like = + - @', async () => {
    const risky = ['\t=1+1', '\r=1+1', '＝HYPERLINK("http://x")', '＋1', '－1', '＠SUM(1)', '=1+1'];
    const rows = risky.map((text, i) => {
      const row = standardCsvRows(7, '王磊')[i]!;
      row[2] = text; // 地址
      return row;
    });
    const bytes = Buffer.from(csvOf([STANDARD_HEADER, ...rows]));
    const { annotated } = await runImport(bytes, temp, { fileName: 'risky.csv', dryRun: true });
    const parts = xlsxParts(annotated);
    const sheetXml = sheetXmlByName(parts, 'risky');
    const xfs = cellXfs(parts);
    risky.forEach((text, i) => {
      const element = cellElement(sheetXml, `C${i + 2}`)!;
      const s = Number(/\bs="(\d+)"/.exec(element)?.[1] ?? 0);
      expect(xfs[s], JSON.stringify(text)).toContain('quotePrefix="1"');
    });
    const plain = cellElement(sheetXml, 'A2')!;
    expect(xfs[Number(/\bs="(\d+)"/.exec(plain)?.[1] ?? 0)]).not.toContain('quotePrefix');
  });
});

/**
 * Linear time, by comparing work on equal sizes: the CPU time of one 1 MB pathological input against
 * that of sixteen 64 KB ones (the same bytes in all). Linear steps cost the same (ratio ≈ 1);
 * a quadratic one costs 16× more on the long input (and ~10^12 steps at 1 MB never finish).
 */
describe('no scanning step is super-linear in an attribute or a line', () => {
  const LONG = 1_000_000;
  const SHORT = LONG / 16;

  function cpuOf(run: () => void): number {
    const start = process.cpuUsage();
    run();
    const used = process.cpuUsage(start);
    return used.user + used.system;
  }

  /** The least CPU of three tries of each side: noise from other processes only ever adds. */
  function ratio(
    make: (n: number) => Uint8Array,
    fileName: string,
    limits: ImportLimits = DEFAULT_IMPORT_LIMITS,
  ): number {
    const attempt = (bytes: Uint8Array): void => {
      try {
        const read = readWorkbook(bytes, fileName, limits);
        read.readSheet(0);
      } catch (err) {
        if (!(err instanceof ImportError)) throw err;
      }
    };
    const long = make(LONG);
    const shorts = Array.from({ length: 16 }, () => make(SHORT));
    attempt(long); // warm-up
    const longCpu = Math.min(...[0, 1, 2].map(() => cpuOf(() => attempt(long))));
    const shortCpu = Math.min(...[0, 1, 2].map(() => cpuOf(() => shorts.forEach(attempt))));
    return longCpu / Math.max(shortCpu, 1);
  }

  const xlsxWithSheet = (sheetXml: string): Uint8Array => {
    const parts = minimalParts();
    parts.set('xl/worksheets/sheet1.xml', sheetXml);
    return workbookOf(parts);
  };
  const loose = { ...DEFAULT_IMPORT_LIMITS, maxCompressionRatio: 1e9 };

  it.each([
    [
      'a cell reference of digits',
      (n: number) =>
        xlsxWithSheet(worksheetXml(`<sheetData><row r="1"><c r="A${'1'.repeat(n)}x"/></row></sheetData>`)),
    ],
    [
      'a row number of digits',
      (n: number) => xlsxWithSheet(worksheetXml(`<sheetData><row r="${'1'.repeat(n)}x"/></sheetData>`)),
    ],
    [
      'an attribute of spaces',
      (n: number) => xlsxWithSheet(worksheetXml(`<sheetData><row r="1"${' '.repeat(n)}x/></sheetData>`)),
    ],
    [
      'an unclosed quote in a tag',
      (n: number) => xlsxWithSheet(worksheetXml(`<sheetData><row r="1" a="${'x'.repeat(n)}`)),
    ],
    [
      'a text run',
      (n: number) =>
        xlsxWithSheet(
          worksheetXml(
            `<sheetData><row r="1"><c t="inlineStr"><is><t>${'&#1'.repeat(n / 3)}</t></is></c></row></sheetData>`,
          ),
        ),
    ],
  ])('XML: %s', (_label, make) => {
    expect(ratio(make, 'a.xlsx', loose)).toBeLessThan(4);
  });

  it('the dimension and numFmt attributes of the annotated copy', async () => {
    const make = (n: number): Uint8Array => {
      const parts = minimalParts();
      parts.set(
        'xl/worksheets/sheet1.xml',
        worksheetXml(undefined, `<dimension ref="A1:${'1'.repeat(n)}x"${' '.repeat(n)}/>`),
      );
      parts.set(
        'xl/styles.xml',
        `${DECLARATION}<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">` +
          `<numFmts count="1"><numFmt numFmtId="164" formatCode="${'['.repeat(n)}"/></numFmts>` +
          `<cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="164"/></cellXfs></styleSheet>`,
      );
      parts.set(
        'xl/_rels/workbook.xml.rels',
        parts
          .get('xl/_rels/workbook.xml.rels')!
          .replace(
            '</Relationships>',
            '<Relationship Id="rId9" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>',
          ),
      );
      return workbookOf(parts);
    };
    const cpu = async (bytes: Uint8Array): Promise<number> => {
      const start = process.cpuUsage();
      await runImport(bytes, temp, { fileName: 'dim.xlsx', dryRun: true, limits: loose });
      const used = process.cpuUsage(start);
      return used.user + used.system;
    };
    const long = make(LONG / 2);
    const shorts = Array.from({ length: 16 }, () => make(LONG / 32));
    await cpu(long);
    let longCpu = Infinity;
    let shortCpu = Infinity;
    for (let i = 0; i < 2; i++) {
      longCpu = Math.min(longCpu, await cpu(long));
      let sum = 0;
      for (const s of shorts) sum += await cpu(s);
      shortCpu = Math.min(shortCpu, sum);
    }
    // Sixteen imports carry sixteen times the fixed cost: the long one must not cost more than them.
    expect(longCpu / shortCpu).toBeLessThan(4);
  }, 60_000);

  it.each([
    ['a line of one quoted field with doubled quotes', (n: number) => `a,b\n"${'""'.repeat(n / 2)}"\n`],
    ['a line of commas', (n: number) => `a,b\n${','.repeat(n)}\n`],
    ['a line without delimiters', (n: number) => `a,b\n${'x'.repeat(n)}\n`],
  ])('CSV: %s', (_label, make) => {
    expect(
      ratio((n) => Buffer.from(make(n)), 'a.csv', { ...DEFAULT_IMPORT_LIMITS, maxCsvColumns: 2_000_000 }),
    ).toBeLessThan(4);
  });
});
