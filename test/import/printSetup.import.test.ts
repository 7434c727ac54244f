/**
 * What the annotated copy does to a workbook's print set-up and names: landscape, one page wide,
 * the header row repeated — fitted into whatever <sheetPr>, <pageSetup> and <definedNames> the
 * workbook already has, keeping its own print titles and paper size — and the sheet a CSV becomes,
 * named after its file under Excel's rules.
 */
import ExcelJS from 'exceljs';
import { strFromU8, strToU8, zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sheetNameOfFile } from '../../server/import/csvWorkbook.js';
import { csvOf, STANDARD_HEADER, standardRow, standardCsvRows } from '../fixtures/legacySheets.js';
import { openTempStore, runImport, sheetXmlByName, xlsxParts, type TempStore } from './importHarness.js';

let temp: TempStore;
beforeAll(async () => {
  temp = await openTempStore();
});
afterAll(async () => {
  await temp.dispose();
});

/** A workbook whose first sheet is a cover with its own print titles, the data on the second. */
async function twoSheetBook(dataTitles?: string): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  const cover = wb.addWorksheet('说明');
  cover.getCell('A1').value = '填表说明';
  cover.pageSetup.printTitlesRow = '1:1';
  const data = wb.addWorksheet("王磊's 报备", { properties: { tabColor: { argb: 'FFFF0000' } } });
  [STANDARD_HEADER, standardRow(0, '王磊', '2026-11-01'), standardRow(1, '王磊', '2026-11-02')].forEach(
    (cells, i) => {
      cells.forEach((v, c) => (data.getRow(i + 1).getCell(c + 1).value = v));
    },
  );
  data.pageSetup = { ...data.pageSetup, paperSize: 5, orientation: 'portrait', scale: 80 };
  if (dataTitles !== undefined) data.pageSetup.printTitlesRow = dataTitles;
  return Buffer.from(await wb.xlsx.writeBuffer());
}

/** The <definedName> elements, with the entities a writer may use for quotes decoded. */
function definedNames(workbookXml: string): string[] {
  return [...workbookXml.matchAll(/<definedName\b[^>]*>[^<]*<\/definedName>/g)].map((m) =>
    m[0].replace(/&apos;/g, "'").replace(/&quot;/g, '"'),
  );
}

describe('the print set-up of the annotated copy', () => {
  it('fits into a workbook that has names and a <sheetPr>: titles added for the checked sheet only', async () => {
    const { annotated, report } = await runImport(await twoSheetBook(), temp, {
      fileName: 'two.xlsx',
      sheet: "王磊's 报备",
      dryRun: true,
    });
    expect(report.rows.map((r) => r.status)).toEqual(['pending', 'pending']);
    const parts = xlsxParts(annotated);
    const names = definedNames(strFromU8(parts['xl/workbook.xml']!));
    // The cover's own titles stay; the checked sheet (position 1) gets its header row, its name quoted.
    expect(names).toContainEqual(expect.stringMatching(/localSheetId="0">'?说明'?!\$1:\$1</));
    expect(names).toContainEqual(
      `<definedName name="_xlnm.Print_Titles" localSheetId="1">'王磊''s 报备'!$1:$1</definedName>`,
    );
    expect(names.filter((n) => n.includes('_xlnm.Print_Titles'))).toHaveLength(2);

    const xml = sheetXmlByName(parts, '王磊&apos;s 报备');
    // The tab colour stays; fitToPage joins it as the last child of <sheetPr>.
    expect(xml).toMatch(/<sheetPr\b[^>]*><tabColor [^>]*\/><pageSetUpPr fitToPage="1"\/><\/sheetPr>/);
    const pageSetup = /<pageSetup\b[^>]*\/>/.exec(xml)![0];
    expect(pageSetup).toContain('paperSize="5"'); // the sheet's Legal kept
    expect(pageSetup).toMatch(/orientation="landscape"/);
    expect(pageSetup).toMatch(/fitToWidth="1"/);
    expect(pageSetup).toMatch(/fitToHeight="0"/);

    const book = new ExcelJS.Workbook();
    await book.xlsx.load(annotated as unknown as ArrayBuffer);
    expect(book.getWorksheet("王磊's 报备")!.pageSetup).toMatchObject({
      fitToPage: true,
      orientation: 'landscape',
      printTitlesRow: '1:1',
    });
    // The 汇总 sheet prints one page wide too.
    expect(book.getWorksheet('汇总')!.pageSetup).toMatchObject({ fitToPage: true, fitToWidth: 1 });
  });

  it("keeps a sheet's own print titles rather than adding a second set", async () => {
    const { annotated } = await runImport(await twoSheetBook('1:2'), temp, {
      fileName: 'titled.xlsx',
      sheet: "王磊's 报备",
      dryRun: true,
    });
    const names = definedNames(strFromU8(xlsxParts(annotated)['xl/workbook.xml']!));
    const own = names.filter((n) => n.includes('localSheetId="1"'));
    expect(own).toHaveLength(1);
    expect(own[0]).toMatch(/\$1:\$2</);
  });

  it('adds a <sheetPr> and a <pageSetup> to a sheet that has neither, in schema order', async () => {
    const source = xlsxParts(await twoSheetBook());
    // A bare sheet as some generators write it: <sheetPr/> self-closed, no page set-up at all.
    const sheetPart = 'xl/worksheets/sheet2.xml';
    const bare = strFromU8(source[sheetPart]!)
      .replace(/<sheetPr\b[^>]*>[\s\S]*?<\/sheetPr>/, '<sheetPr filterMode="false"/>')
      .replace(/<pageSetup\b[^>]*\/>/, '');
    expect(bare).not.toContain('<pageSetup');
    const { annotated } = await runImport(zipSync({ ...source, [sheetPart]: strToU8(bare) }), temp, {
      fileName: 'bare.xlsx',
      sheet: "王磊's 报备",
      dryRun: true,
    });
    // (workbook.xml names it as exceljs wrote it, the quote as an entity.)
    const xml = sheetXmlByName(xlsxParts(annotated), '王磊&apos;s 报备');
    expect(xml).toContain('<sheetPr filterMode="false"><pageSetUpPr fitToPage="1"/></sheetPr>');
    expect(xml).toMatch(
      /<pageMargins [^>]*\/><pageSetup paperSize="9" orientation="landscape" fitToWidth="1" fitToHeight="0"\/>/,
    );
  });
});

describe('a CSV becomes a sheet named after its file', () => {
  it('names the sheet as Excel would accept it', () => {
    expect(sheetNameOfFile('报备登记表.csv')).toBe('报备登记表');
    expect(sheetNameOfFile('C:\\导出\\2026/11 报备.csv')).toBe('11 报备');
    expect(sheetNameOfFile('客户[华东]:一部*?.csv')).toBe('客户_华东__一部__');
    expect(sheetNameOfFile("'引号'.csv")).toBe('引号');
    expect(sheetNameOfFile('.csv')).toBe('Sheet1');
    expect(sheetNameOfFile('[].csv')).toBe('__');
    expect(sheetNameOfFile('a\tb\n.csv')).toBe('a_b_');
    expect(sheetNameOfFile('History.csv')).toBe('History_');
    const long = sheetNameOfFile(`${'很长的文件名'.repeat(8)}.csv`);
    expect([...long]).toHaveLength(31);
    // A character outside the BMP is never cut in half.
    const astral = sheetNameOfFile(`${'a'.repeat(30)}𠀋𠀋.csv`);
    expect(astral).toBe(`${'a'.repeat(30)}𠀋`);
  });

  it('uses that name in the report and the annotated copy, and widens columns to their text', async () => {
    const csv = csvOf([STANDARD_HEADER, ...standardCsvRows(2, '王磊')]);
    const { report, annotated } = await runImport(Buffer.from(csv), temp, {
      fileName: '华东[一部]报备.csv',
      dryRun: true,
    });
    expect(report.sheet).toBe('华东_一部_报备');
    const book = new ExcelJS.Workbook();
    await book.xlsx.load(annotated as unknown as ArrayBuffer);
    expect(book.worksheets.map((w) => w.name)).toEqual(['华东_一部_报备', '汇总']);
    const ws = book.worksheets[0]!;
    expect(ws.getColumn(1).width).toBeGreaterThan(ws.getColumn(2).width ?? 0);
    expect(ws.pageSetup.printTitlesRow).toBe('1:1');
  });
});
