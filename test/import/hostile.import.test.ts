/**
 * Files from the wild are hostile. Whole-column data validation and formatting (a used range reaching
 * row 1,048,576) must cost neither time nor memory, and the validation must survive into the
 * annotated copy; broken and foreign files end in one ImportError with a stable code, in Chinese and
 * English, never a crash.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ImportError } from '../../server/import/importError.js';
import {
  WHOLE_COLUMN_SQREF,
  hostileWorkbook,
  legacyXls,
  randomBinary,
  truncated,
} from '../fixtures/hostileWorkbook.js';
import { STANDARD_HEADER, csvOf, standardCsvRows } from '../fixtures/legacySheets.js';
import {
  openTempStore,
  runImport,
  sheetXmlByName,
  withHeapPeak,
  xlsxParts,
  type TempStore,
} from './importHarness.js';

const MB = 1024 * 1024;
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
