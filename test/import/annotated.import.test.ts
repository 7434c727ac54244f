/**
 * The annotated workbook an import hands back: the original sheet as it was, the result columns
 * after the header's last column, a fill per row by status (core/annotation's palette), a mark and
 * a note on every invalid cell, long texts wrapped in rows tall enough, the print set-up, a 汇总
 * sheet with the report's counts and the legend, formula-like text made inert (quote prefix) — and
 * LibreOffice opens it (converts it to PDF), for an .xlsx input and for a .csv input.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import ExcelJS from 'exceljs';
import { strFromU8 } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FILLS, INVALID_CELL_FILL, LEGEND, rowFill, type FillName } from '../../core/annotation.js';
import { STATUS_LABELS, type RowStatus } from '../../core/schema.js';
import type { ImportReport } from '../../server/import/importSheet.js';
import {
  CUSTOMERS,
  STANDARD_HEADER,
  columnNumber,
  csvOf,
  standardRow,
  xlsxOf,
  type SheetCell,
} from '../fixtures/legacySheets.js';
import {
  ADMIN,
  cellElement,
  cellXfs,
  convertToPdf,
  openTempStore,
  runImport,
  sheetXmlByName,
  tempDir,
  xlsxParts,
  type TempStore,
} from './importHarness.js';

const HEADER = [...STANDARD_HEADER, '备注'];
const WIDTH = HEADER.length;
/** Text a spreadsheet program would take for a formula. */
const FORMULA_LIKE = ['=HYPERLINK("http://evil")', '+1', '-2', '@SUM(A1)'];

/** Submit mode: pending, conflict, invalid, duplicate; formula-like text in names and notes. */
const SUBMIT_ROWS: SheetCell[][] = [
  HEADER,
  [...standardRow(0, '王磊', '2026-11-01'), FORMULA_LIKE[0]!],
  [...standardRow(0, '李娜', '2026-11-05'), '同一客户'],
  [null, '企业', '上海市某路1号', '12345', '展会', '李娜', '2026-11-06', FORMULA_LIKE[1]!],
  [...standardRow(1, '王磊', '2026-11-02'), FORMULA_LIKE[2]!],
  [...standardRow(1, '王磊', '2026-11-21'), '又报了一次'],
  [
    FORMULA_LIKE[3]!,
    '企业',
    CUSTOMERS[2].address,
    CUSTOMERS[2].phone,
    '展会',
    '周杰',
    '2026-11-03',
    '名称像公式',
  ],
  [FORMULA_LIKE[0]!, '企业', CUSTOMERS[3].address, CUSTOMERS[3].phone, '展会', '周杰', '2026-11-03', null],
  // A real date cell and a phone typed as a number: their formats must survive.
  [
    CUSTOMERS[4].name,
    '企业',
    CUSTOMERS[4].address,
    13901230005,
    '展会',
    '周杰',
    new Date(Date.UTC(2026, 10, 4)),
    null,
  ],
];

/** History mode: protected, rejected and expired rows. */
const HISTORY_ROWS: SheetCell[][] = [
  [...STANDARD_HEADER, '状态'],
  [...standardRow(5, '王磊', '2026-10-01'), null],
  [...standardRow(6, '王磊', '2026-10-01'), '驳回'],
  [...standardRow(7, '王磊', '2026-06-01'), null],
];

interface Checked {
  source: Buffer;
  report: ImportReport;
  annotated: Buffer;
  workbook: ExcelJS.Workbook;
}

async function check(
  temp: TempStore,
  rows: SheetCell[][],
  mode: 'submit' | 'history',
  fileName: string,
): Promise<Checked> {
  const source = await xlsxOf([
    {
      name: '报备表',
      rows,
      // Every data cell bordered (one shared cell format), as printed forms are.
      borderedRows: rows.map((_, i) => i + 2).slice(0, rows.length - 1),
      numFmts: rows === SUBMIT_ROWS ? { G9: 'yyyy-mm-dd', D9: '0' } : {},
    },
  ]);
  const { report, annotated } = await runImport(source, temp, { fileName, mode, actor: ADMIN });
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.load(annotated as unknown as ArrayBuffer);
  return { source, report, annotated, workbook };
}

function noteText(cell: ExcelJS.Cell): string {
  const note = cell.note as string | { texts?: { text: string }[] } | undefined;
  if (note === undefined) return '';
  return typeof note === 'string' ? note : (note.texts ?? []).map((t) => t.text).join('');
}

function fillOf(cell: ExcelJS.Cell): string | undefined {
  const fill = cell.fill as { fgColor?: { argb?: string } } | undefined;
  return fill?.fgColor?.argb;
}

/** What core decides for a report row: amber when it lists matches or was registered late (R4). */
function expectedFill(row: ImportReport['rows'][number]): string {
  const look = row.conflicts.length > 0 || row.warnings.some((w) => w.code === 'registration.late');
  return argb(rowFill(row.status as RowStatus, look));
}

function argb(fill: FillName): string {
  return `FF${FILLS[fill].fill}`;
}

/** The 汇总 sheet's first column → second column, up to the first blank line after the status table. */
function summaryPairs(ws: ExcelJS.Worksheet): Map<string, unknown> {
  const pairs = new Map<string, unknown>();
  for (let r = 1; r <= ws.rowCount; r++) {
    const label = ws.getRow(r).getCell(1).value;
    if (label === null && pairs.has('状态 Status')) break;
    if (label !== null) pairs.set(String(label), ws.getRow(r).getCell(2).value);
  }
  return pairs;
}

let temp: TempStore;
let submit: Checked;
let history: Checked;

beforeAll(async () => {
  temp = await openTempStore();
  submit = await check(temp, SUBMIT_ROWS, 'submit', 'submit.xlsx');
  history = await check(temp, HISTORY_ROWS, 'history', 'history.xlsx');
});
afterAll(async () => {
  await temp.dispose();
});

describe('the annotated workbook of an .xlsx import', () => {
  it('gets the statuses this suite relies on', () => {
    expect(submit.report.rows.map((r) => [r.row, r.status])).toEqual([
      [2, 'pending'],
      [3, 'conflict'],
      [4, 'invalid'],
      [5, 'pending'],
      [6, 'duplicate'],
      [7, expect.any(String)],
      [8, expect.any(String)],
      [9, 'pending'],
    ]);
    expect(history.report.rows.map((r) => r.status)).toEqual(['protected', 'rejected', 'expired']);
  });

  it('keeps every original cell of the sheet as it was (values and number formats)', async () => {
    for (const { source, workbook } of [submit, history]) {
      const original = new ExcelJS.Workbook();
      await original.xlsx.load(source as unknown as ArrayBuffer);
      const before = original.getWorksheet('报备表')!;
      const after = workbook.getWorksheet('报备表')!;
      expect(after.rowCount).toBe(before.rowCount);
      const width = before.columnCount;
      for (let r = 1; r <= before.rowCount; r++) {
        for (let c = 1; c <= width; c++) {
          const a = before.getRow(r).getCell(c);
          const b = after.getRow(r).getCell(c);
          expect(b.value, `${a.address}`).toEqual(a.value);
          // Formula-like text gains the text format; every other cell keeps its own.
          const inert = typeof a.value === 'string' && /^[=+\-@]/.test(a.value);
          expect(b.numFmt, `${a.address} number format`).toBe(inert ? '@' : a.numFmt);
        }
      }
    }
  });

  it('puts 报备编号 / 状态 / 保护截止 / 冲突说明 / 提示 after the last column of the header row', () => {
    for (const { workbook } of [submit, history]) {
      const ws = workbook.getWorksheet('报备表')!;
      const header = ws.getRow(1);
      const last = (header.values as unknown[]).length - 1;
      const width = last - 5;
      expect(header.getCell(width).value).not.toBeNull();
      expect([1, 2, 3, 4, 5].map((i) => header.getCell(width + i).value)).toEqual([
        '报备编号',
        '状态',
        '保护截止',
        '冲突说明',
        '提示',
      ]);
    }
    // The submit sheet: H is 备注, the results start at I.
    expect(submit.workbook.getWorksheet('报备表')!.getCell('I1').value).toBe('报备编号');
  });

  it('writes each row its status, number, protection end and conflicts', () => {
    const ws = submit.workbook.getWorksheet('报备表')!;
    for (const r of submit.report.rows) {
      const row = ws.getRow(r.row);
      if (r.status === 'skipped') continue;
      expect(row.getCell(WIDTH + 2).value, `row ${r.row}`).toBe(STATUS_LABELS[r.status].zh);
      const no = r.registrationNo ?? '';
      expect(row.getCell(WIDTH + 1).value ?? '', `row ${r.row}`).toBe(no);
    }
    expect(String(ws.getRow(3).getCell(WIDTH + 4).value)).toMatch(/^与第 2 行（BB-2026-\d{6}）为同一客户：/);
    // A duplicate's match is the registrant's own registration: advice (提示), not a clash.
    expect(ws.getRow(6).getCell(WIDTH + 4).value).toBeNull();
    expect(String(ws.getRow(6).getCell(WIDTH + 5).value)).toMatch(/；与第 5 行（BB-2026-\d{6}）为同一客户：/);
    const historyWs = history.workbook.getWorksheet('报备表')!;
    // Registered 2026-10-01, approved that day: protected for 3 months (R25).
    expect(historyWs.getRow(2).getCell(STANDARD_HEADER.length + 1 + 3).value).toBe('2026-12-31');
  });

  it('fills each row by status: conflict red, invalid violet, waiting pale, protected green, closed grey', () => {
    const seen = new Set<string>();
    for (const { report, workbook } of [submit, history]) {
      const ws = workbook.getWorksheet('报备表')!;
      const width = ws.getRow(1).cellCount;
      for (const r of report.rows) {
        if (r.status === 'skipped') continue;
        const want = expectedFill(r);
        const marked = new Set(
          r.errors.flatMap((e) => {
            const m = report.mapping.find((x) => x.field === e.field);
            return m === undefined ? [] : [columnNumber(m.column)];
          }),
        );
        for (let c = 1; c <= width; c++) {
          // An invalid cell is marked a deeper violet on top of its row's fill.
          const cellWant = marked.has(c) ? argb(INVALID_CELL_FILL) : want;
          expect(fillOf(ws.getRow(r.row).getCell(c)), `row ${r.row} (${r.status}) column ${c}`).toBe(
            cellWant,
          );
        }
        seen.add(`${r.status}:${want}`);
      }
    }
    // Each group at least once: invalid apart from conflict and from closed rows.
    for (const pair of [
      `conflict:${argb('red')}`,
      `pending:${argb('paleBlue')}`,
      `protected:${argb('green')}`,
      `invalid:${argb('violet')}`,
      `rejected:${argb('grey')}`,
      `duplicate:${argb('grey')}`,
      `expired:${argb('grey')}`,
    ]) {
      expect(seen).toContain(pair);
    }
  });

  it('wraps 冲突说明 and 提示 from the top, and gives a row the height its longest text needs', () => {
    const ws = submit.workbook.getWorksheet('报备表')!;
    for (const column of [WIDTH + 4, WIDTH + 5]) {
      expect(ws.getColumn(column).width).toBeGreaterThanOrEqual(30);
      for (const r of submit.report.rows) {
        expect(ws.getRow(r.row).getCell(column).alignment, `row ${r.row}`).toMatchObject({
          wrapText: true,
          vertical: 'top',
        });
      }
    }
    // Row 4 (two errors) needs more than one line; the others keep the sheet's default height.
    const tall = submit.report.rows.filter(
      (r) => String(ws.getRow(r.row).getCell(WIDTH + 4).value ?? '').length > 30,
    );
    expect(tall.map((r) => r.row)).toContain(4);
    for (const r of tall) {
      expect(ws.getRow(r.row).height, `row ${r.row}`).toBeGreaterThanOrEqual(32);
      // The row's own cells read from the top too, their other formatting kept.
      expect(ws.getRow(r.row).getCell(1).alignment?.vertical).toBe('top');
    }
    expect(ws.getRow(2).height ?? 15).toBeLessThanOrEqual(15);
  });

  it('prints landscape, one page wide and as many tall as needed, the header row repeated', () => {
    const parts = xlsxParts(submit.annotated);
    const sheetXml = sheetXmlByName(parts, '报备表');
    expect(sheetXml).toMatch(/<sheetPr\b[^>]*>(?:(?!<\/sheetPr>).)*<pageSetUpPr fitToPage="1"\/>/s);
    const pageSetup = /<pageSetup\b[^>]*\/>/.exec(sheetXml)?.[0] ?? '';
    expect(pageSetup).toContain('orientation="landscape"');
    expect(pageSetup).toContain('fitToWidth="1"');
    expect(pageSetup).toContain('fitToHeight="0"');
    // In schema order: after <pageMargins>, before <legacyDrawing>.
    expect(sheetXml.indexOf('<pageMargins')).toBeLessThan(sheetXml.indexOf('<pageSetup'));
    expect(sheetXml.indexOf('<pageSetup')).toBeLessThan(sheetXml.indexOf('<legacyDrawing'));
    const workbookXml = strFromU8(parts['xl/workbook.xml']!);
    expect(workbookXml).toContain(
      `<definedName name="_xlnm.Print_Titles" localSheetId="0">'报备表'!$1:$1</definedName>`,
    );
    // exceljs reads it back the way Excel does.
    const ws = submit.workbook.getWorksheet('报备表')!;
    expect(ws.pageSetup).toMatchObject({
      orientation: 'landscape',
      fitToPage: true,
      fitToWidth: 1,
      fitToHeight: 0,
      printTitlesRow: '1:1',
    });
  });

  it('puts a note naming the problem on each invalid cell', () => {
    const ws = submit.workbook.getWorksheet('报备表')!;
    const invalid = submit.report.rows.filter((r) => r.status === 'invalid');
    expect(invalid.length).toBeGreaterThan(0);
    const row4 = submit.report.rows.find((r) => r.row === 4)!;
    expect(row4.errors.map((e) => e.field).sort()).toEqual(['contactPhone', 'customerName']);
    for (const r of invalid) {
      for (const e of r.errors) {
        const mapping = submit.report.mapping.find((m) => m.field === e.field);
        if (mapping === undefined) continue;
        const cell = ws.getRow(r.row).getCell(columnNumber(mapping.column));
        expect(noteText(cell), `${cell.address}`).toContain(e.message);
      }
    }
    // Valid rows carry no notes.
    expect(noteText(ws.getCell('A2'))).toBe('');
    expect(noteText(ws.getCell('D2'))).toBe('');
  });

  it('[R8] notes a bad phone on the cell it was read from: 电话 when 手机 is blank, else 手机', async () => {
    const rows: SheetCell[][] = [
      ['客户名称', '客户类型', '地址', '电话', '手机', '客户来源', '报备人'],
      // Read from 电话 (手机 blank or a placeholder): the number to correct is in D.
      [CUSTOMERS[8].name, '企业', CUSTOMERS[8].address, '12345', null, '展会', '王磊'],
      [CUSTOMERS[9].name, '企业', CUSTOMERS[9].address, '0571-123', '/', '展会', '王磊'],
      // Read from 手机.
      [CUSTOMERS[10].name, '企业', CUSTOMERS[10].address, '021-12345678', '123', '展会', '王磊'],
      // Nothing in either: the column to fill in is 手机.
      ['朱勇', '个人', null, null, null, '展会', '王磊'],
    ];
    const t = await openTempStore();
    try {
      const { report, annotated } = await runImport(await xlsxOf([{ name: '报备表', rows }]), t, {
        fileName: 'phones.xlsx',
        actor: ADMIN,
      });
      expect(report.rows.map((r) => r.errors.map((e) => [e.code, e.field]))).toEqual([
        [['phone.invalid', 'contactPhone']],
        [['phone.invalid', 'contactPhone']],
        [['phone.invalid', 'contactPhone']],
        [['field.required', 'contactPhone']],
      ]);
      const workbook = new ExcelJS.Workbook();
      await workbook.xlsx.load(annotated as unknown as ArrayBuffer);
      const ws = workbook.getWorksheet('报备表')!;
      const noted = ['D', 'E'].flatMap((col) =>
        [2, 3, 4, 5].flatMap((row) => (noteText(ws.getCell(`${col}${row}`)) === '' ? [] : [`${col}${row}`])),
      );
      expect(noted).toEqual(['D2', 'D3', 'E4', 'E5']);
      expect(noteText(ws.getCell('D2'))).toContain(report.rows[0]!.errors[0]!.message);
      expect(fillOf(ws.getCell('D2'))).toBe(argb(INVALID_CELL_FILL));
      expect(fillOf(ws.getCell('E2'))).not.toBe(argb(INVALID_CELL_FILL));
    } finally {
      await t.dispose();
    }
  });

  it('adds a 汇总 sheet whose counts match the report, in Beijing time and a localised mode', () => {
    for (const { report, workbook } of [submit, history]) {
      const ws = workbook.getWorksheet('汇总')!;
      expect(ws).toBeDefined();
      const pairs = summaryPairs(ws);
      expect(pairs.get('数据行 Rows')).toBe(report.summary.rows);
      // The clock of these imports is 02:00 UTC: 10:00 in Beijing.
      expect(pairs.get('检查时间 Checked at')).toBe('2026-11-23 10:00 北京时间 (UTC+8)');
      expect(pairs.get('模式 Mode')).toBe(
        report.mode === 'history' ? '历史迁移 History migration' : '提交 Submit',
      );
      expect(pairs.get('表头行 Header row')).toBe(report.headerRow);
      const counted: Record<string, unknown> = {};
      for (const [status, label] of Object.entries(STATUS_LABELS)) {
        const count = pairs.get(`${label.zh} ${label.en}`);
        if (count !== undefined) counted[status] = count;
      }
      expect(counted).toEqual(report.summary.byStatus);
    }
  });

  it('explains the fills on 汇总: a legend line per fill, in its colour, with the rows that got it', () => {
    for (const { report, workbook } of [submit, history]) {
      const ws = workbook.getWorksheet('汇总')!;
      const head = [...Array(ws.rowCount).keys()]
        .map((i) => i + 1)
        .find((r) => ws.getCell(`A${r}`).value === '图例 Legend');
      expect(head, 'legend head').toBeDefined();
      const byFill = new Map<string, number>();
      for (const r of report.rows)
        if (r.status !== 'skipped') byFill.set(expectedFill(r), (byFill.get(expectedFill(r)) ?? 0) + 1);
      LEGEND.forEach((entry, i) => {
        const row = ws.getRow(head! + 1 + i);
        expect(row.getCell(1).value).toBe(`${entry.zh} ${entry.en}`);
        expect(fillOf(row.getCell(1))).toBe(argb(entry.fill));
        expect(row.getCell(2).value).toBe(byFill.get(argb(entry.fill)) ?? 0);
        expect(String(row.getCell(3).value)).toBe(`${entry.meaningZh}\n${entry.meaningEn}`);
        expect(row.getCell(3).alignment?.wrapText).toBe(true);
      });
      const cellLine = ws.getRow(head! + 1 + LEGEND.length);
      expect(fillOf(cellLine.getCell(1))).toBe(argb(INVALID_CELL_FILL));
      const invalidCells = report.rows.flatMap((r) =>
        r.errors.filter((e) => report.mapping.some((m) => m.field === e.field)),
      ).length;
      expect(cellLine.getCell(2).value).toBe(invalidCells);
    }
  });

  it('writes formula-like text inert: a text cell (never a formula) with the quote prefix', () => {
    const parts = xlsxParts(submit.annotated);
    const sheetXml = sheetXmlByName(parts, '报备表');
    const xfs = cellXfs(parts);
    const xfOf = (address: string): string => {
      const element = cellElement(sheetXml, address);
      expect(element, address).toBeDefined();
      // A shared-string or inline-string cell, with no <f> formula element.
      expect(element).toMatch(/\bt="(s|str|inlineStr)"/);
      expect(element).not.toContain('<f>');
      const s = /\bs="(\d+)"/.exec(element!)?.[1];
      return xfs[Number(s ?? 0)]!;
    };
    const inertCells = ['H2', 'H4', 'H5', 'A7', 'A8'];
    const ws = submit.workbook.getWorksheet('报备表')!;
    expect(inertCells.map((a) => ws.getCell(a).value)).toEqual([
      FORMULA_LIKE[0],
      FORMULA_LIKE[1],
      FORMULA_LIKE[2],
      FORMULA_LIKE[3],
      FORMULA_LIKE[0],
    ]);
    for (const address of inertCells) expect(xfOf(address), address).toContain('quotePrefix="1"');
    // Only those: plain text in the same rows, with the same border, gets no prefix.
    for (const address of ['A2', 'B4', 'A5', 'B7'])
      expect(xfOf(address), address).not.toContain('quotePrefix');
  });
});

describe('LibreOffice opens the annotated workbook', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await tempDir('baobei-annotated-');
  });

  it('for an .xlsx input and for a .csv input', async () => {
    const csv = csvOf([
      HEADER,
      [...standardRow(8, '王磊').map(String), FORMULA_LIKE[0]!],
      [...standardRow(8, '李娜').map(String), FORMULA_LIKE[1]!],
      ['', '企业', '某地', '12', '展会', '王磊', '2026-11-20', FORMULA_LIKE[3]!],
    ]);
    const csvResult = await runImport(Buffer.from(csv), temp, { fileName: 'legacy.csv', dryRun: true });
    expect(csvResult.report.rows.map((r) => r.status)).toEqual(['pending', 'conflict', 'invalid']);
    const csvBook = new ExcelJS.Workbook();
    await csvBook.xlsx.load(csvResult.annotated as unknown as ArrayBuffer);
    // The CSV's cells come through as the text they were.
    expect(csvBook.worksheets[0]!.getCell('H2').value).toBe(FORMULA_LIKE[0]);
    expect(csvBook.worksheets[0]!.getCell('D3').value).toBe(CUSTOMERS[8].phone);

    const files = {
      xlsx: path.join(dir, 'from-xlsx.checked.xlsx'),
      csv: path.join(dir, 'from-csv.checked.xlsx'),
    };
    await writeFile(files.xlsx, submit.annotated);
    await writeFile(files.csv, csvResult.annotated);
    const [fromXlsx, fromCsv] = await Promise.all([convertToPdf(files.xlsx), convertToPdf(files.csv)]);
    for (const pdf of [fromXlsx, fromCsv]) {
      expect(pdf.bytes.subarray(0, 5).toString('latin1')).toBe('%PDF-');
      if (pdf.text !== undefined) {
        // Both sheets were read, and the formula-like text was shown as text, not evaluated.
        expect(pdf.text).toContain('报备编号');
        expect(pdf.text).toContain('数据行 Rows');
        expect(pdf.text).toContain('HYPERLINK(');
      }
    }
  }, 180_000);
});
