/**
 * The annotated copy is the original package patched, not re-serialised: parts the import does not
 * change are copied byte for byte (still compressed); notes are Excel's legacy comments (comments
 * part, VML drawing, <legacyDrawing>), merged into notes the sheet already had; and the reader gets
 * dates, inline strings, prefixed namespaces and missing parts right straight from the XML.
 */
import { writeFile } from 'node:fs/promises';
import zlib from 'node:zlib';
import path from 'node:path';
import ExcelJS from 'exceljs';
import { strFromU8, strToU8, unzipSync, zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dayOf } from '../../core/day.js';
import { readWorkbook } from '../../server/import/readWorkbook.js';
import { DeflatingWriter, readZip } from '../../server/import/zipArchive.js';
import { inlineStringWorkbook } from '../fixtures/handmadeWorkbook.js';
import { CUSTOMERS, STANDARD_HEADER, standardRow, xlsxOf } from '../fixtures/legacySheets.js';
import {
  ADMIN,
  convertToPdf,
  openTempStore,
  runImport,
  sheetXmlByName,
  tempDir,
  xlsxParts,
  type TempStore,
} from './importHarness.js';

let temp: TempStore;
beforeAll(async () => {
  temp = await openTempStore();
});
afterAll(async () => {
  await temp.dispose();
});

/** Row 3 is invalid twice over (no name, a phone that is none): two notes. */
const ROWS = [
  STANDARD_HEADER,
  standardRow(0, '王磊'),
  [null, '企业', CUSTOMERS[1].address, '12345', '展会', '王磊', '2026-11-20'],
  standardRow(2, '王磊'),
];

function noteText(cell: ExcelJS.Cell): string {
  const note = cell.note as string | { texts?: { text: string }[] } | undefined;
  if (note === undefined) return '';
  return typeof note === 'string' ? note : (note.texts ?? []).map((t) => t.text).join('');
}

async function loaded(bytes: Uint8Array): Promise<ExcelJS.Workbook> {
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.load(bytes as unknown as ArrayBuffer);
  return workbook;
}

describe('the parts of the annotated copy', () => {
  it('copies every part it does not change byte for byte, still compressed', async () => {
    const source = await xlsxOf([
      { name: '报备', rows: ROWS },
      { name: '其他', rows: [STANDARD_HEADER, standardRow(5, '李娜')] },
    ]);
    const { annotated } = await runImport(source, temp, { fileName: 'parts.xlsx', dryRun: true });
    const before = new Map(readZip(source).map((e) => [e.name, e]));
    const after = new Map(readZip(annotated).map((e) => [e.name, e]));
    const changed = new Set([
      '[Content_Types].xml',
      'xl/workbook.xml',
      'xl/_rels/workbook.xml.rels',
      'xl/styles.xml',
      'xl/sharedStrings.xml',
      'xl/worksheets/sheet1.xml',
    ]);
    const untouched = [...before.keys()].filter((name) => !changed.has(name));
    // The other sheet, the theme and the document properties at least.
    expect(untouched).toEqual(expect.arrayContaining(['xl/worksheets/sheet2.xml', 'xl/theme/theme1.xml']));
    for (const name of untouched) {
      const a = before.get(name)!;
      const b = after.get(name);
      expect(b, name).toBeDefined();
      expect([b!.method, b!.crc, b!.size], name).toEqual([a.method, a.crc, a.size]);
      expect(Buffer.from(b!.data).equals(Buffer.from(a.data)), `${name} compressed bytes`).toBe(true);
    }
    // What changed was added to, not rewritten: the original styles and strings are still the prefix.
    const partsBefore = xlsxParts(source);
    const partsAfter = xlsxParts(annotated);
    const cellXfs = (xml: string) => /<cellXfs\b[^>]*>([\s\S]*?)<\/cellXfs>/.exec(xml)![1]!;
    const stylesBefore = strFromU8(partsBefore['xl/styles.xml']!);
    const stylesAfter = strFromU8(partsAfter['xl/styles.xml']!);
    expect(cellXfs(stylesAfter).startsWith(cellXfs(stylesBefore))).toBe(true);
    const items = (xml: string) => xml.slice(xml.indexOf('<si>'), xml.lastIndexOf('</sst>'));
    expect(items(strFromU8(partsAfter['xl/sharedStrings.xml']!))).toContain(
      items(strFromU8(partsBefore['xl/sharedStrings.xml']!)),
    );
  });

  it('writes notes as Excel does: comments part, VML drawing, <legacyDrawing> in its place, content types', async () => {
    const { annotated } = await runImport(await xlsxOf([{ name: '报备', rows: ROWS }]), temp, {
      fileName: 'notes.xlsx',
      dryRun: true,
    });
    const parts = xlsxParts(annotated);
    const sheetXml = sheetXmlByName(parts, '报备');
    const rels = strFromU8(parts['xl/worksheets/_rels/sheet1.xml.rels']!);
    const vmlId = /<Relationship Id="([^"]+)"[^>]*Target="\.\.\/drawings\/vmlDrawing1\.vml"/.exec(rels)?.[1];
    expect(rels).toMatch(/Type="[^"]*\/comments" Target="\.\.\/comments1\.xml"/);
    expect(vmlId).toBeDefined();
    expect(sheetXml).toContain(`<legacyDrawing r:id="${vmlId}"/>`);
    // CT_Worksheet order: after the page setup, before the end.
    expect(sheetXml.indexOf('<legacyDrawing')).toBeGreaterThan(sheetXml.indexOf('<pageMargins'));
    const types = strFromU8(parts['[Content_Types].xml']!);
    expect(types).toContain('PartName="/xl/comments1.xml"');
    expect(types).toMatch(/<Default Extension="vml"/);
    const comments = strFromU8(parts['xl/comments1.xml']!);
    expect(comments.match(/<comment ref="/g)).toHaveLength(2);
    expect(comments).toContain('<comment ref="A3"');
    expect(comments).toContain('<comment ref="D3"');
    const vml = strFromU8(parts['xl/drawings/vmlDrawing1.vml']!);
    expect(vml.match(/<v:shape id=/g)).toHaveLength(2);
    expect(vml).toContain('<x:Row>2</x:Row><x:Column>3</x:Column>');

    const ws = (await loaded(annotated)).getWorksheet('报备')!;
    expect(noteText(ws.getCell('D3'))).toMatch(/\S/);
    expect(noteText(ws.getCell('A3'))).toMatch(/\S/);
    expect(noteText(ws.getCell('D2'))).toBe('');
  });

  it('keeps the notes a sheet already had, adds its own to them, and LibreOffice opens it', async () => {
    const workbook = new ExcelJS.Workbook();
    const ws = workbook.addWorksheet('报备');
    ROWS.forEach((cells, i) =>
      cells.forEach((v, c) => {
        if (v !== null) ws.getRow(i + 1).getCell(c + 1).value = v;
      }),
    );
    ws.getCell('A1').note = '填写说明：客户全称';
    ws.getCell('D3').note = '原有批注';
    const source = Buffer.from(await workbook.xlsx.writeBuffer());
    const { report, annotated } = await runImport(source, temp, { fileName: 'had-notes.xlsx', dryRun: true });
    const phoneError = report.rows.find((r) => r.row === 3)!.errors.find((e) => e.field === 'contactPhone')!;

    const after = (await loaded(annotated)).getWorksheet('报备')!;
    expect(noteText(after.getCell('A1'))).toBe('填写说明：客户全称');
    expect(noteText(after.getCell('D3'))).toContain('原有批注');
    expect(noteText(after.getCell('D3'))).toContain(phoneError.message);
    expect(noteText(after.getCell('A3'))).toMatch(/\S/);
    // One comments part and one drawing still, both extended.
    const names = Object.keys(xlsxParts(annotated));
    expect(names.filter((n) => /^xl\/comments\d*\.xml$/.test(n))).toHaveLength(1);
    expect(names.filter((n) => /\.vml$/.test(n))).toHaveLength(1);

    const dir = await tempDir('baobei-notes-');
    const file = path.join(dir, 'had-notes.checked.xlsx');
    await writeFile(file, annotated);
    const pdf = await convertToPdf(file);
    expect(pdf.bytes.subarray(0, 5).toString('latin1')).toBe('%PDF-');
  }, 120_000);

  it('escapes what it writes and strips what XML cannot hold (file and sheet names in 汇总)', async () => {
    const source = await xlsxOf([{ name: 'R&D <报备>', rows: ROWS }]);
    const { annotated } = await runImport(source, temp, { fileName: 'a&b<c>\u0001"d".xlsx', dryRun: true });
    const summary = (await loaded(annotated)).getWorksheet('汇总')!;
    const pairs = new Map<string, unknown>();
    summary.eachRow((row) => pairs.set(String(row.getCell(1).value), row.getCell(2).value));
    expect(pairs.get('文件 File')).toBe('a&b<c>"d".xlsx');
    expect(pairs.get('工作表 Sheet')).toBe('R&D <报备>');
  });

  it('names the summary 汇总2 when the workbook already has a 汇总', async () => {
    const source = await xlsxOf([
      { name: '报备', rows: ROWS },
      { name: '汇总', rows: [['旧的汇总']] },
    ]);
    const { annotated } = await runImport(source, temp, { fileName: 'two.xlsx', dryRun: true });
    const workbook = await loaded(annotated);
    expect(workbook.worksheets.map((w) => w.name)).toEqual(['报备', '汇总', '汇总2']);
    expect(workbook.getWorksheet('汇总')!.getCell('A1').value).toBe('旧的汇总');
  });
});

describe('a part written piece by piece', () => {
  it('inflates back to exactly its text: multi-byte pieces, several batches, a piece bigger than a batch, none', () => {
    const pieces = [
      ...Array.from({ length: 40_000 }, (_, i) => `<c r="A${i}"><v>华东 ü 🚀 ${i}</v></c>`),
      // ~3 MB in one piece (a part written whole): bigger than a batch, compressed on its own.
      `<x>${'长文本 '.repeat(800_000)}</x>`,
      ...Array.from({ length: 1_000 }, (_, i) => `<r n="${i}"/>`),
    ];
    const writer = new DeflatingWriter();
    for (const piece of pieces) writer.write(piece);
    const { data, crc, size } = writer.finish();
    const bytes = Buffer.from(pieces.join(''), 'utf8');
    expect(size).toBe(bytes.length);
    expect(crc).toBe(zlib.crc32(bytes));
    expect(zlib.inflateRawSync(data).equals(bytes)).toBe(true);

    const empty = new DeflatingWriter().finish();
    expect(empty.size).toBe(0);
    expect(zlib.inflateRawSync(empty.data).length).toBe(0);
  });
});

describe('macro-enabled workbooks', () => {
  it('come back as a plain .xlsx: the workbook content type of one, the VBA project dropped', async () => {
    const parts = unzipSync(await xlsxOf([{ name: '报备', rows: ROWS }]));
    const types = strFromU8(parts['[Content_Types].xml']!);
    parts['[Content_Types].xml'] = strToU8(
      types
        .replace(
          'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml',
          'application/vnd.ms-excel.sheet.macroEnabled.main+xml',
        )
        .replace(
          '<Default ',
          '<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/><Default ',
        ),
    );
    expect(strFromU8(parts['[Content_Types].xml']!)).toContain('macroEnabled');
    const rels = strFromU8(parts['xl/_rels/workbook.xml.rels']!);
    parts['xl/_rels/workbook.xml.rels'] = strToU8(
      rels.replace(
        '</Relationships>',
        '<Relationship Id="rIdVba" Type="http://schemas.microsoft.com/office/2006/relationships/vbaProject" Target="vbaProject.bin"/></Relationships>',
      ),
    );
    parts['xl/vbaProject.bin'] = new Uint8Array([0xd0, 0xcf, 0x11, 0xe0, 1, 2, 3, 4]);
    const { annotated } = await runImport(Buffer.from(zipSync(parts)), temp, {
      fileName: 'legacy.xlsm',
      dryRun: true,
    });
    const out = xlsxParts(annotated);
    expect(out['xl/vbaProject.bin']).toBeUndefined();
    expect(strFromU8(out['[Content_Types].xml']!)).not.toContain('macroEnabled');
    expect(strFromU8(out['[Content_Types].xml']!)).toContain(
      'PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"',
    );
    expect(strFromU8(out['xl/_rels/workbook.xml.rels']!)).not.toContain('vbaProject');
    expect((await loaded(annotated)).getWorksheet('报备')!.getCell('H1').value).toBe('报备编号');
  });
});

describe('reading straight from the XML', () => {
  it('reads inline strings without a shared-string table or styles, under a namespace prefix, without cell references', async () => {
    const rows = [STANDARD_HEADER, ...[0, 1, 2].map((i) => standardRow(i, '王磊').map(String))];
    for (const options of [{}, { prefixed: true }, { unreferenced: true }]) {
      const source = inlineStringWorkbook(rows, options);
      const { report, annotated } = await runImport(source, temp, { fileName: 'inline.xlsx', dryRun: true });
      expect(
        report.mapping.map((m) => m.header),
        JSON.stringify(options),
      ).toEqual(STANDARD_HEADER);
      expect(
        report.rows.map((r) => r.status),
        JSON.stringify(options),
      ).toEqual(['pending', 'pending', 'pending']);
      // The copy gained a styles part and a shared-string table, and reads back as it should.
      const parts = xlsxParts(annotated);
      expect(parts['xl/styles.xml'], JSON.stringify(options)).toBeDefined();
      expect(parts['xl/sharedStrings.xml'], JSON.stringify(options)).toBeDefined();
      const ws = (await loaded(annotated)).getWorksheet('台账')!;
      expect(ws.getCell('A2').value).toBe(CUSTOMERS[0].name);
      expect(ws.getCell('H1').value).toBe('报备编号');
      expect(ws.getCell('I2').value).toBe('待审核');
    }
  });

  it('gives LibreOffice a valid workbook when it had to create the styles and shared-string parts', async () => {
    const rows = [STANDARD_HEADER, ...[0, 1].map((i) => standardRow(i, '王磊').map(String))];
    const { annotated } = await runImport(inlineStringWorkbook(rows, { prefixed: true }), temp, {
      fileName: 'inline.xlsx',
      dryRun: true,
    });
    const dir = await tempDir('baobei-inline-');
    const file = path.join(dir, 'inline.checked.xlsx');
    await writeFile(file, annotated);
    const pdf = await convertToPdf(file);
    expect(pdf.bytes.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    if (pdf.text !== undefined) {
      // Narrow columns cut long names in print: their start is enough.
      expect(pdf.text).toContain(CUSTOMERS[0].name.slice(0, 6));
      expect(pdf.text).toContain('报备编号');
    }
  }, 120_000);

  it('reads numbers in a date format as dates: custom and East Asian built-in formats, 1900 and 1904 systems', async () => {
    const day = new Date(Date.UTC(2026, 10, 19));
    const rows = [
      [...STANDARD_HEADER, '备注'],
      [...standardRow(0, '王磊', day), day],
    ];
    const base = await xlsxOf([{ name: 'Sheet1', rows, numFmts: { G2: 'yyyy-mm-dd', H2: 'yyyy-mm-dd' } }]);
    // The same file with H2's format swapped for built-in 31 (yyyy"年"m"月"d"日" in Chinese Excel).
    const parts = unzipSync(base);
    const styles = strFromU8(parts['xl/styles.xml']!);
    const custom = /<numFmt numFmtId="(\d+)"/.exec(styles)![1]!;
    const sheet = strFromU8(parts['xl/worksheets/sheet1.xml']!);
    const xfOfH2 = Number(/<c r="H2" s="(\d+)"/.exec(sheet)![1]);
    let index = -1;
    parts['xl/styles.xml'] = strToU8(
      styles.replace(/<cellXfs\b[\s\S]*?<\/cellXfs>/, (block) =>
        block.replace(/<xf\b[^>]*>/g, (xf) =>
          ++index === xfOfH2 ? xf.replace(`numFmtId="${custom}"`, 'numFmtId="31"') : xf,
        ),
      ),
    );
    const builtIn = Buffer.from(zipSync(parts));

    const date1904Book = new ExcelJS.Workbook();
    date1904Book.properties.date1904 = true;
    const ws1904 = date1904Book.addWorksheet('Sheet1');
    rows.forEach((cells, i) => cells.forEach((v, c) => (ws1904.getRow(i + 1).getCell(c + 1).value = v)));
    ws1904.getCell('G2').numFmt = 'yyyy-mm-dd';
    ws1904.getCell('H2').numFmt = 'yyyy-mm-dd';
    const date1904 = Buffer.from(await date1904Book.xlsx.writeBuffer());
    expect(strFromU8(unzipSync(date1904)['xl/workbook.xml']!)).toMatch(/date1904="(1|true)"/);

    for (const [label, bytes] of Object.entries({ base, builtIn, date1904 })) {
      const read = readWorkbook(bytes, `${label}.xlsx`);
      const values = read.readSheet(0).rows.get(2)!;
      expect(values[6], label).toEqual(day);
      expect(values[7], label).toEqual(day);
      const { report } = await runImport(bytes, temp, { fileName: `${label}.xlsx`, actor: ADMIN });
      const no = report.rows[0]!.registrationNo!;
      const record = (await temp.records()).find((r) => r.no === no)!;
      expect(dayOf(record.claimedAt), label).toBe('2026-11-19');
    }
  });
});
