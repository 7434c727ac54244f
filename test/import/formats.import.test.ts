/**
 * What legacy sheets look like in the wild, through the whole import: CSV in GBK and UTF-8 (with and
 * without BOM), traditional and English headers, data on another sheet, title/note/group rows and
 * two-row headers with trailing totals, formulas, date cells and serials, 万 amounts, over-long cells.
 */
import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dayOf } from '../../core/day.js';
import type { ImportReport } from '../../server/import/importSheet.js';
import {
  CUSTOMERS,
  STANDARD_HEADER,
  csvOf,
  standardCsvRows,
  standardRow,
  xlsxOf,
  type SheetCell,
} from '../fixtures/legacySheets.js';
import { ADMIN, SALES, openTempStore, runImport, type TempStore } from './importHarness.js';

let temp: TempStore;
beforeEach(async () => {
  temp = await openTempStore();
});
afterEach(async () => {
  await temp.dispose();
});

/** What must not depend on how the file was encoded. */
/** A report without what names the file (a CSV's sheet is named after its file). */
function comparable(report: ImportReport): unknown {
  const { file: _file, sheet: _sheet, ...rest } = report;
  return rest;
}

async function firstSheetText(bytes: Buffer, address: string): Promise<unknown> {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(bytes as unknown as ArrayBuffer);
  return wb.worksheets[0]!.getCell(address).value;
}

describe('CSV encodings', () => {
  // Row 4: a phone that is no phone; row 6: customer 0 again, by someone else.
  const records = [STANDARD_HEADER, ...standardCsvRows(6, '王磊')];
  records[3]![3] = '12345';
  records[6] = [...records[1]!];
  records[6][5] = '李娜';
  const text = csvOf(records);

  it('GBK without BOM, UTF-8 without BOM and UTF-8 with BOM give the same report', async () => {
    const variants = {
      gbk: iconv.encode(text, 'gbk'),
      utf8: Buffer.from(text, 'utf8'),
      utf8bom: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text, 'utf8')]),
    };
    // The GBK bytes are not valid UTF-8: the reader has to detect the encoding.
    expect(() => new TextDecoder('utf-8', { fatal: true }).decode(variants.gbk)).toThrow();
    const reports: Record<string, ImportReport> = {};
    const annotated: Record<string, Buffer> = {};
    for (const [name, bytes] of Object.entries(variants)) {
      const t = await openTempStore();
      try {
        const result = await runImport(bytes, t, { fileName: `${name}.csv`, dryRun: true });
        reports[name] = result.report;
        annotated[name] = result.annotated;
      } finally {
        await t.dispose();
      }
    }
    expect(reports['utf8']!.mapping.map((m) => m.header)).toEqual(STANDARD_HEADER);
    expect(reports['utf8']!.rows.map((r) => r.status)).toEqual([
      'pending',
      'pending',
      'invalid',
      'pending',
      'pending',
      'conflict',
    ]);
    expect(comparable(reports['gbk']!)).toEqual(comparable(reports['utf8']!));
    expect(comparable(reports['utf8bom']!)).toEqual(comparable(reports['utf8']!));
    expect(Object.values(reports).map((r) => r.sheet)).toEqual(Object.keys(variants));
    // The annotated copy shows the Chinese text as it was, whatever the encoding.
    for (const name of Object.keys(variants)) {
      expect(await firstSheetText(annotated[name]!, 'A1')).toBe('客户名称');
      expect(await firstSheetText(annotated[name]!, 'A2')).toBe(CUSTOMERS[0].name);
    }
  });
});

describe('headers', () => {
  it('maps traditional-Chinese headers, keeping the header as written', async () => {
    const header = ['客戶名稱', '客戶類型', '地址', '聯繫電話', '客戶來源', '報備人', '報備日期'];
    const { report } = await runImport(Buffer.from(csvOf([header, ...standardCsvRows(3, '王磊')])), temp, {
      fileName: 'traditional.csv',
      dryRun: true,
    });
    expect(report.mapping.map((m) => [m.header, m.field])).toEqual([
      ['客戶名稱', 'customerName'],
      ['客戶類型', 'customerType'],
      ['地址', 'address'],
      ['聯繫電話', 'contactPhone'],
      ['客戶來源', 'source'],
      ['報備人', 'registrant'],
      ['報備日期', 'registeredAt'],
    ]);
    expect(report.rows.map((r) => r.status)).toEqual(['pending', 'pending', 'pending']);
  });

  it('maps English headers', async () => {
    const header = ['Customer', 'Type', 'Address', 'Phone', 'Lead source', 'Sales rep', 'Registered on'];
    const { report } = await runImport(Buffer.from(csvOf([header, ...standardCsvRows(3, '王磊')])), temp, {
      fileName: 'english.csv',
      dryRun: true,
    });
    expect(report.mapping.map((m) => m.field)).toEqual([
      'customerName',
      'customerType',
      'address',
      'contactPhone',
      'source',
      'registrant',
      'registeredAt',
    ]);
    expect(report.rows.map((r) => r.status)).toEqual(['pending', 'pending', 'pending']);
  });

  it('finds a header under many note rows, and says how deep it looked when there is none', async () => {
    const notes = (n: number) => Array.from({ length: n }, (_, i) => [`说明第${i + 1}条：请如实填写`]);
    const found = await runImport(
      Buffer.from(csvOf([...notes(25), STANDARD_HEADER, ...standardCsvRows(2, '王磊')])),
      temp,
      { dryRun: true },
    );
    expect(found.report.headerRow).toBe(26);
    const tooDeep = runImport(
      Buffer.from(csvOf([...notes(40), STANDARD_HEADER, ...standardCsvRows(2, '王磊')])),
      temp,
      { dryRun: true },
    );
    // The message names the depth really searched (30 rows), in both languages.
    await expect(tooDeep).rejects.toMatchObject({
      code: 'import.no_header',
      message: expect.stringContaining('前 30 行'),
      messageEn: expect.stringContaining('first 30 rows'),
    });
  });

  it('reads a title row, a 填表说明 note, a merged group row and a two-row header; skips 合计 and 注 rows', async () => {
    const bytes = await xlsxOf([
      {
        name: '报备',
        rows: [
          ['2026年客户报备登记表'],
          ['填表说明：1. 客户名称须与营业执照一致；2. 日期写作 2026-01-01；3. 金额单位为元'],
          ['客户信息', null, null, '联系方式', null, '报备人', '报备日期'],
          ['客户名称', '客户类型', '地址', '联系电话', '客户来源', null, null],
          standardRow(0, '王磊'),
          standardRow(1, '李娜'),
          [],
          standardRow(2, '李娜'),
          standardRow(3, '周杰'),
          ['合计', null, null, null, null, null, '4 家'],
          ['注：本表由销售部填写，数据部核对。'],
        ],
        merges: ['A1:G1', 'A2:G2', 'A3:C3', 'D3:E3', 'F3:F4', 'G3:G4'],
      },
    ]);
    const { report } = await runImport(bytes, temp, { fileName: 'two-row.xlsx', dryRun: true });
    expect(report.headerRow).toBe(4);
    expect(report.mapping.map((m) => [m.column, m.header, m.field])).toEqual([
      ['A', '客户名称', 'customerName'],
      ['B', '客户类型', 'customerType'],
      ['C', '地址', 'address'],
      ['D', '联系电话', 'contactPhone'],
      ['E', '客户来源', 'source'],
      ['F', '报备人', 'registrant'],
      ['G', '报备日期', 'registeredAt'],
    ]);
    // Row 7 is blank: absent. Rows 10 and 11 are a total and a note: skipped, not data.
    expect(report.rows.map((r) => [r.row, r.status, r.skipped])).toEqual([
      [5, 'pending', undefined],
      [6, 'pending', undefined],
      [8, 'pending', undefined],
      [9, 'pending', undefined],
      [10, 'skipped', 'total'],
      [11, 'skipped', 'note'],
    ]);
    expect(report.summary.rows).toBe(4);
    expect(report.summary.byStatus).toEqual({ pending: 4, skipped: 2 });
  });
});

describe('sheets', () => {
  const workbook = () =>
    xlsxOf([
      { name: '封面', rows: [] },
      { name: '报备', rows: [STANDARD_HEADER, ...[0, 1, 2, 3].map((i) => standardRow(i, '王磊'))] },
      { name: '其他', rows: [STANDARD_HEADER, ...[4, 5].map((i) => standardRow(i, '王磊'))] },
    ]);

  it('takes the first sheet holding data by default', async () => {
    const { report, annotated } = await runImport(await workbook(), temp, { dryRun: true });
    expect(report.sheet).toBe('报备');
    expect(report.summary.rows).toBe(4);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(annotated as unknown as ArrayBuffer);
    // The result columns go into the sheet that was checked, and only there.
    expect(wb.getWorksheet('报备')!.getCell('H1').value).toBe('报备编号');
    expect(wb.getWorksheet('其他')!.getCell('H1').value).toBeNull();
  });

  it('takes the sheet named, or at the 1-based position given', async () => {
    const byName = await runImport(await workbook(), temp, { dryRun: true, sheet: '其他' });
    expect([byName.report.sheet, byName.report.summary.rows]).toEqual(['其他', 2]);
    const byPosition = await runImport(await workbook(), temp, { dryRun: true, sheet: '2' });
    expect([byPosition.report.sheet, byPosition.report.summary.rows]).toEqual(['报备', 4]);
  });

  it('passes over a leading 说明 sheet with text but no header, to the first sheet with one', async () => {
    const withInstructions = await xlsxOf([
      { name: '说明', rows: [['本表为客户报备，请勿修改表头']] },
      { name: '报备', rows: [STANDARD_HEADER, ...[0, 1].map((i) => standardRow(i, '王磊'))] },
    ]);
    const { report } = await runImport(withInstructions, temp, { dryRun: true });
    expect([report.sheet, report.headerRow, report.summary.rows]).toEqual(['报备', 1, 2]);
  });

  it('passes over a 说明 sheet holding a 填写示例 table, and a dropdown-list sheet without 客户名称, to the register', async () => {
    const register = { name: '报备', rows: [STANDARD_HEADER, ...[0, 1].map((i) => standardRow(i, '王磊'))] };
    const example = {
      name: '填表说明',
      rows: [
        ['填写示例（请在“报备”工作表填写）'],
        STANDARD_HEADER,
        ['上海某某科技有限公司', '企业', '上海市', '13800000000', '展会', '张三', '2026-01-01'],
      ],
    };
    const lists = {
      name: '数据源',
      rows: [
        ['客户类型', '客户来源', '部门'],
        ['企业', '展会', '华东一部'],
        ['个人', '转介绍', '华南二部'],
      ],
    };
    for (const first of [example, lists]) {
      const { report } = await runImport(await xlsxOf([first, register]), temp, { dryRun: true });
      expect([first.name, report.sheet, report.summary.rows]).toEqual([first.name, '报备', 2]);
    }
    // Alone, such a sheet is still read (its rows are then reported, not silently skipped).
    const { report } = await runImport(await xlsxOf([lists]), temp, { dryRun: true });
    expect([report.sheet, report.summary.rows]).toEqual(['数据源', 2]);
  });

  it('refuses a workbook whose only sheet with a header is its 说明 sheet, naming the sheets looked at', async () => {
    const instructions = {
      name: '填表说明',
      rows: [
        ['填写示例（请在“报备”工作表填写）'],
        STANDARD_HEADER,
        ['上海某某科技有限公司', '企业', '上海市', '13800000000', '展会', '张三', '2026-01-01'],
      ],
    };
    const bytes = await xlsxOf([instructions, { name: '报备', rows: [['请在此填写']] }]);
    await expect(runImport(bytes, temp, { actor: ADMIN })).rejects.toMatchObject({
      name: 'ImportError',
      code: 'import.no_register',
      message: expect.stringContaining('“填表说明”、“报备”'),
      messageEn: expect.stringContaining('"填表说明", "报备"'),
      field: 'sheet',
    });
    // Nothing was written; named, the sheet is read as asked, and its example row is reported, not checked.
    expect(await temp.records()).toEqual([]);
    const named = await runImport(bytes, temp, { dryRun: true, sheet: '填表说明' });
    expect([named.report.sheet, named.report.summary.rows]).toEqual(['填表说明', 0]);
    expect(named.report.rows.map((r) => [r.row, r.skipped])).toEqual([[3, 'example']]);
  });

  it('reads a workbook whose one sheet is named like instructions (示例, Sample, 说明…) when that sheet holds a register header', async () => {
    const rows = [STANDARD_HEADER, ...[0, 1].map((i) => standardRow(i, '王磊'))];
    for (const name of ['示例', 'Sample', '填写示例', '示例客户表', '说明']) {
      const { report } = await runImport(await xlsxOf([{ name, rows }]), temp, { dryRun: true });
      expect([name, report.sheet, report.summary.rows]).toEqual([name, name, 2]);
    }
    // Empty sheets beside it (Sheet2, Sheet3 of an old template) and hidden ones (the lists behind
    // its drop-downs) are not what the user sees: the sheet is still the only one.
    const workbook = new ExcelJS.Workbook();
    workbook.addWorksheet('示例客户表').addRows(rows);
    workbook.addWorksheet('Sheet2');
    workbook.addWorksheet('数据源', { state: 'hidden' }).addRows([
      ['客户类型', '客户来源'],
      ['企业', '展会'],
    ]);
    const bytes = Buffer.from(await workbook.xlsx.writeBuffer());
    const { report } = await runImport(bytes, temp, { actor: ADMIN });
    expect([report.sheet, report.summary.rows, report.summary.byStatus.invalid ?? 0]).toEqual([
      '示例客户表',
      2,
      0,
    ]);
    expect(await temp.records()).toHaveLength(2);
  });

  it('reads a 示例客户表 register beside a visible drop-down list sheet (one list a column), not the lists', async () => {
    const register = {
      name: '示例客户表',
      rows: [STANDARD_HEADER, ...[0, 1].map((i) => standardRow(i, '王磊'))],
    };
    const listSheets = [
      // One column of 行业 options: no header maps two fields.
      { name: '行业', rows: [['行业'], ['制造业'], ['批发零售'], ['医药'], ['物流']] },
      // Several lists side by side: a header (行业 | 客户来源) without 客户名称.
      {
        name: '下拉选项',
        rows: [
          ['行业', '客户来源', '客户类型'],
          ['制造业', '展会', '企业'],
          ['批发零售', '转介绍', '个人'],
          ['医药', '官网咨询', null],
        ],
      },
    ];
    for (const lists of listSheets) {
      for (const sheets of [
        [register, lists],
        [lists, register],
      ]) {
        const { report } = await runImport(await xlsxOf(sheets), temp, { dryRun: true });
        expect([sheets.map((x) => x.name), report.sheet, report.summary.rows]).toEqual([
          sheets.map((x) => x.name),
          '示例客户表',
          2,
        ]);
      }
    }
    // Rows of contacts without 客户名称 are no list either: that sheet is read, as before, and its rows
    // say what is missing.
    const contacts = {
      name: '报备',
      rows: [
        ['联系人', '联系电话', '报备人'],
        ['王芳', '13901230001', '王磊'],
        ['李娜', '13901230002', '王磊'],
      ],
    };
    const withContacts = await runImport(await xlsxOf([register, contacts]), temp, { dryRun: true });
    expect([withContacts.report.sheet, withContacts.report.summary.byStatus.invalid]).toEqual(['报备', 2]);
    // A sheet the user fills in beside it is no list: the 示例 sheet is not taken for the register.
    const filled = { name: '报备', rows: [['请在此填写']] };
    await expect(runImport(await xlsxOf([register, filled]), temp, { dryRun: true })).rejects.toMatchObject({
      code: 'import.no_register',
    });
  });

  it('still refuses a one-sheet workbook of instructions: text alone, or a field table that reads as a header', async () => {
    const text = await xlsxOf([
      { name: '说明', rows: [['填表说明'], ['1. 客户名称须与营业执照一致'], ['2. 每行填写一个客户']] },
    ]);
    await expect(runImport(text, temp, { actor: ADMIN })).rejects.toMatchObject({
      name: 'ImportError',
      code: 'import.no_header',
      message: expect.stringContaining('“说明”'),
      messageEn: expect.stringContaining('"说明"'),
    });
    // 字段 | 说明 | 是否必填, one field a row: 客户类型 over 企业/个人/其他 reads as a header that maps
    // 客户名称 (weakly); its rows are fields, not customers.
    const fieldTable = await xlsxOf([
      {
        name: '填表说明',
        rows: [
          ['填表说明'],
          ['字段', '说明', '是否必填'],
          ['客户名称', '营业执照上的全称', '必填'],
          ['联系电话', '手机或座机', '必填'],
          ['客户类型', '企业/个人/其他', '必填'],
          ['客户来源', '展会/转介绍', '必填'],
        ],
      },
    ]);
    await expect(runImport(fieldTable, temp, { actor: ADMIN })).rejects.toMatchObject({
      name: 'ImportError',
      code: 'import.no_register',
      message: expect.stringContaining('“填表说明”'),
      field: 'sheet',
    });
    expect(await temp.records()).toEqual([]);
  });

  it('a 示例 register beside another sheet the user sees, or hidden, is not the only sheet: refused as before', async () => {
    const example = { name: '示例', rows: [STANDARD_HEADER, standardRow(0, '王磊')] };
    const beside = await xlsxOf([example, { name: '报备', rows: [['请在此填写']] }]);
    await expect(runImport(beside, temp, { actor: ADMIN })).rejects.toMatchObject({
      code: 'import.no_register',
      message: expect.stringContaining('“示例”、“报备”'),
    });
    const workbook = new ExcelJS.Workbook();
    workbook.addWorksheet('Sheet1');
    workbook.addWorksheet('示例', { state: 'hidden' }).addRows(example.rows);
    const hidden = Buffer.from(await workbook.xlsx.writeBuffer());
    await expect(runImport(hidden, temp, { actor: ADMIN })).rejects.toMatchObject({
      code: 'import.no_register',
      message: expect.stringContaining('“示例”'),
    });
    expect(await temp.records()).toEqual([]);
  });

  it('reads a CSV whatever its file is called: its name is no sheet of instructions (sample.csv, 报备示例.csv)', async () => {
    const csv = Buffer.from(
      csvOf([STANDARD_HEADER, ...[0, 1].map((i) => standardRow(i, '王磊').map(String))]),
    );
    for (const fileName of ['sample.csv', '报备示例.csv']) {
      const { report } = await runImport(csv, temp, { fileName, dryRun: true });
      expect([fileName, report.summary.rows]).toEqual([fileName, 2]);
    }
  });

  it('passes over a hidden sheet (an old copy, a lookup list) to the first visible register', async () => {
    const workbook = new ExcelJS.Workbook();
    const hidden = workbook.addWorksheet('旧台账', { state: 'hidden' });
    hidden.addRows([STANDARD_HEADER, ...[2, 3, 4].map((i) => standardRow(i, '李娜'))]);
    const shown = workbook.addWorksheet('报备');
    shown.addRows([STANDARD_HEADER, ...[0, 1].map((i) => standardRow(i, '王磊'))]);
    const bytes = Buffer.from(await workbook.xlsx.writeBuffer());
    const { report } = await runImport(bytes, temp, { dryRun: true });
    expect([report.sheet, report.summary.rows]).toEqual(['报备', 2]);
    // Named, a hidden sheet is read.
    const named = await runImport(bytes, temp, { dryRun: true, sheet: '旧台账' });
    expect([named.report.sheet, named.report.summary.rows]).toEqual(['旧台账', 3]);
  });

  it('refuses a workbook whose only sheet with a header is hidden (an old copy): its customers are not the ones shown', async () => {
    const workbook = new ExcelJS.Workbook();
    const hidden = workbook.addWorksheet('旧台账', { state: 'hidden' });
    hidden.addRows([STANDARD_HEADER, ...[2, 3, 4].map((i) => standardRow(i, '李娜'))]);
    // The register the user sees was emptied but for a note.
    workbook.addWorksheet('报备').addRows([['本月暂无新客户']]);
    const bytes = Buffer.from(await workbook.xlsx.writeBuffer());
    await expect(runImport(bytes, temp, { actor: ADMIN })).rejects.toMatchObject({
      name: 'ImportError',
      code: 'import.no_register',
      message: expect.stringContaining('隐藏的工作表“旧台账”'),
      messageEn: expect.stringContaining('hidden sheets ("旧台账")'),
      field: 'sheet',
    });
    expect(await temp.records()).toEqual([]);
    // Named, it is read as asked.
    const named = await runImport(bytes, temp, { dryRun: true, sheet: '旧台账' });
    expect([named.report.sheet, named.report.summary.rows]).toEqual(['旧台账', 3]);
  });

  it('names the sheets it looked at when none holds a header', async () => {
    const noHeader = await xlsxOf([
      { name: '说明', rows: [['本表为客户报备']] },
      { name: '备注', rows: [['无']] },
    ]);
    await expect(runImport(noHeader, temp, { dryRun: true })).rejects.toMatchObject({
      code: 'import.no_header',
      message: expect.stringContaining('“说明”、“备注”'),
      messageEn: expect.stringContaining('"说明", "备注"'),
    });
  });

  it('names the sheets there are when the one asked for is missing', async () => {
    await expect(runImport(await workbook(), temp, { dryRun: true, sheet: '不存在' })).rejects.toMatchObject({
      name: 'ImportError',
      code: 'import.sheet_not_found',
      field: 'sheet',
      message: expect.stringContaining('报备'),
    });
  });
});

describe('cell values', () => {
  const header = [...STANDARD_HEADER, '预计签约金额'];

  it('reads formulas by their cached value, real date cells, Excel serials, 年月日 dates and 万 amounts', async () => {
    const rows: SheetCell[][] = [
      header,
      [...standardRow(0, '王磊', new Date(Date.UTC(2026, 10, 19))), '50万'],
      [...standardRow(1, '王磊', 46346), { formula: '600000*2', result: 1_200_000 }],
      [...standardRow(2, '王磊', '2026年3月5日'), '¥80,000'],
      // Customer 0 again, its name a formula: only its cached value can make it clash with row 2.
      [{ formula: 'A2', result: CUSTOMERS[0].name }, ...standardRow(0, '李娜', '2026-11-21').slice(1), 3],
    ];
    const bytes = await xlsxOf([{ name: 'Sheet1', rows, numFmts: { G2: 'yyyy-mm-dd' } }]);
    const { report } = await runImport(bytes, temp, { fileName: 'values.xlsx', actor: ADMIN });
    expect(report.rows.map((r) => [r.row, r.status])).toEqual([
      [2, 'pending'],
      [3, 'pending'],
      [4, 'pending'],
      [5, 'conflict'],
    ]);
    expect(report.rows[3]!.conflicts).toEqual([
      expect.objectContaining({ row: 2, strength: 'exact', matchedOn: expect.any(String) }),
    ]);
    const records = new Map((await temp.records()).map((r) => [r.no, r]));
    const recordOf = (row: number) => records.get(report.rows.find((r) => r.row === row)!.registrationNo!)!;
    // An administrator's import keeps the sheet's registration dates (Shanghai days).
    expect(dayOf(recordOf(2).claimedAt)).toBe('2026-11-19');
    expect(dayOf(recordOf(3).claimedAt)).toBe('2026-11-20');
    expect(dayOf(recordOf(4).claimedAt)).toBe('2026-03-05');
    expect(recordOf(2).registration.expectedAmount).toBe(500_000);
    expect(recordOf(3).registration.expectedAmount).toBe(1_200_000);
    expect(recordOf(4).registration.expectedAmount).toBe(80_000);
    expect(recordOf(5).registration.customerName).toBe(CUSTOMERS[0].name);
  });

  it('scales amounts under a header that names its unit (预计金额（万元）), as the sheet means them', async () => {
    const rows: SheetCell[][] = [
      [...STANDARD_HEADER, '预计金额\n（万元）', '预计签约单价(千元)', '其他金额（元）'],
      // A number cell, a number typed as text, and a cell that names its own unit (kept as written).
      [...standardRow(0, '王磊'), 50, '1.5', 80],
      [...standardRow(1, '王磊'), '120', 2, '¥3,000'],
      [...standardRow(2, '王磊'), '80万元', '3000元', null],
    ];
    const bytes = await xlsxOf([{ name: 'Sheet1', rows }]);
    const { report } = await runImport(bytes, temp, { fileName: 'units.xlsx', actor: ADMIN });
    expect(report.mapping.slice(7).map((m) => m.field)).toEqual([
      'expectedAmount',
      'expectedUnitPrice',
      null,
    ]);
    expect(report.rows.map((r) => r.status)).toEqual(['pending', 'pending', 'pending']);
    const records = new Map((await temp.records()).map((r) => [r.no, r]));
    const registrationOf = (row: number) =>
      records.get(report.rows.find((r) => r.row === row)!.registrationNo!)!.registration;
    expect([registrationOf(2).expectedAmount, registrationOf(2).expectedUnitPrice]).toEqual([500_000, 1_500]);
    expect([registrationOf(3).expectedAmount, registrationOf(3).expectedUnitPrice]).toEqual([
      1_200_000, 2_000,
    ]);
    expect([registrationOf(4).expectedAmount, registrationOf(4).expectedUnitPrice]).toEqual([800_000, 3_000]);
  });

  it('scales amounts under a merged group header that names the unit over its sub-headers', async () => {
    const bytes = await xlsxOf([
      {
        name: '报备',
        rows: [
          [...STANDARD_HEADER, '金额（万元）', null],
          [null, null, null, null, null, null, null, '预计签约金额', '预计签约单价'],
          [...standardRow(0, '王磊'), 50, 1.2],
        ],
        merges: ['A1:A2', 'B1:B2', 'C1:C2', 'D1:D2', 'E1:E2', 'F1:F2', 'G1:G2', 'H1:I1'],
      },
    ]);
    const { report } = await runImport(bytes, temp, { fileName: 'group.xlsx', actor: ADMIN });
    expect(report.headerRow).toBe(2);
    expect(report.mapping.slice(7).map((m) => [m.column, m.field])).toEqual([
      ['H', 'expectedAmount'],
      ['I', 'expectedUnitPrice'],
    ]);
    const [record] = await temp.records();
    expect([record?.registration.expectedAmount, record?.registration.expectedUnitPrice]).toEqual([
      500_000, 12_000,
    ]);
  });

  it('reads 首年 under a merged 预计金额（万元） as the expected amount in 万元, and reports 次年 as unmapped', async () => {
    const bytes = await xlsxOf([
      {
        name: '报备',
        rows: [
          [...STANDARD_HEADER, '预计金额（万元）', null],
          [null, null, null, null, null, null, null, '首年', '次年'],
          [...standardRow(0, '王磊'), 50, 80],
        ],
        merges: ['A1:A2', 'B1:B2', 'C1:C2', 'D1:D2', 'E1:E2', 'F1:F2', 'G1:G2', 'H1:I1'],
      },
    ]);
    const { report } = await runImport(bytes, temp, { fileName: 'first-year.xlsx', actor: ADMIN });
    expect(report.mapping.slice(7).map((m) => [m.column, m.header, m.field])).toEqual([
      ['H', '首年', 'expectedAmount'],
      ['I', '次年', null],
    ]);
    const [record] = await temp.records();
    expect(record?.registration.expectedAmount).toBe(500_000);
  });

  it('under a 金额（万元） group keeps a column whose header says （单位：元） and a cell written ¥500,000 in yuan', async () => {
    const bytes = await xlsxOf([
      {
        name: '报备',
        rows: [
          [...STANDARD_HEADER, '金额（万元）', null],
          [null, null, null, null, null, null, null, '预计签约金额', '预计签约单价（单位：元）'],
          [...standardRow(0, '王磊'), 50, 1200],
          [...standardRow(1, '王磊'), '¥500,000', null],
        ],
        merges: ['A1:A2', 'B1:B2', 'C1:C2', 'D1:D2', 'E1:E2', 'F1:F2', 'G1:G2', 'H1:I1'],
      },
    ]);
    const { report } = await runImport(bytes, temp, { fileName: 'group-yuan.xlsx', actor: ADMIN });
    expect(report.rows.map((r) => r.status)).toEqual(['pending', 'pending']);
    const records = new Map((await temp.records()).map((r) => [r.no, r]));
    const registrationOf = (row: number) =>
      records.get(report.rows.find((r) => r.row === row)!.registrationNo!)!.registration;
    expect([registrationOf(3).expectedAmount, registrationOf(3).expectedUnitPrice]).toEqual([500_000, 1200]);
    expect(registrationOf(4).expectedAmount).toBe(500_000);
  });

  it('reads serials of a 1904 workbook (old Mac Excel) in its date system, formatted as dates or not', async () => {
    const workbook = new ExcelJS.Workbook();
    workbook.properties.date1904 = true;
    const sheet = workbook.addWorksheet('Sheet1');
    // 2026-11-19 and 2026-11-20 are serials 44883 and 44884 counted from 1904-01-01.
    const rows = [
      STANDARD_HEADER,
      standardRow(0, '王磊', new Date(Date.UTC(2026, 10, 19))),
      standardRow(1, '王磊', 44884),
      standardRow(2, '王磊', 44884),
      standardRow(3, '王磊', 20261120),
    ];
    for (const cells of rows) sheet.addRow(cells);
    sheet.getCell('G3').numFmt = 'yyyy-mm-dd';
    const bytes = Buffer.from(await workbook.xlsx.writeBuffer());
    const { report } = await runImport(bytes, temp, { fileName: 'mac.xlsx', actor: ADMIN });
    expect(report.rows.map((r) => r.status)).toEqual(['pending', 'pending', 'pending', 'pending']);
    const records = new Map((await temp.records()).map((r) => [r.no, r]));
    const dayOfRow = (row: number) =>
      dayOf(records.get(report.rows.find((r) => r.row === row)!.registrationNo!)!.claimedAt);
    expect([2, 3, 4, 5].map(dayOfRow)).toEqual(['2026-11-19', '2026-11-20', '2026-11-20', '2026-11-20']);
  });

  it('makes an over-long cell an error on its row, in .xlsx and in .csv, and goes on', async () => {
    const long = '上海' + '很'.repeat(4_994) + '有限公司';
    expect(long).toHaveLength(5_000);
    const rows = [STANDARD_HEADER, standardRow(0, '王磊'), standardRow(1, '王磊'), standardRow(2, '王磊')];
    rows[2]![0] = long;
    const inputs = {
      'long.xlsx': await xlsxOf([{ name: 'Sheet1', rows }]),
      'long.csv': Buffer.from(csvOf(rows.map((r) => r.map((v) => String(v))))),
    };
    for (const [fileName, bytes] of Object.entries(inputs)) {
      const { report, annotated } = await runImport(bytes, temp, { fileName, dryRun: true, actor: SALES });
      expect(
        report.rows.map((r) => r.status),
        fileName,
      ).toEqual(['pending', 'invalid', 'pending']);
      expect(report.rows[1]!.errors).toEqual([
        expect.objectContaining({ field: 'customerName', code: 'field.tooLong' }),
      ]);
      // The long text is still in the annotated copy, as it was.
      expect(await firstSheetText(annotated, 'A3')).toBe(long);
    }
  });
  it('passes over the unused lines of a form, / or 无 in every cell, in .xlsx and .csv alike', async () => {
    const rows: SheetCell[][] = [
      STANDARD_HEADER,
      standardRow(0, '王磊'),
      STANDARD_HEADER.map(() => '/'),
      STANDARD_HEADER.map((_, i) => (i % 2 === 0 ? '无' : null)),
    ];
    const inputs = {
      'form.xlsx': await xlsxOf([{ name: 'Sheet1', rows }]),
      'form.csv': Buffer.from(csvOf(rows.map((r) => r.map((v) => (v === null ? '' : String(v)))))),
    };
    for (const [fileName, bytes] of Object.entries(inputs)) {
      const { report } = await runImport(bytes, temp, { fileName, dryRun: true, actor: SALES });
      expect(
        report.rows.map((r) => [r.row, r.status]),
        fileName,
      ).toEqual([[2, 'pending']]);
    }
  });

  it('[R2] reads cells without the invisible characters pasted with them (U+200B, U+2060…), in .xlsx and .csv alike', async () => {
    const z = '\u200B';
    const rows: SheetCell[][] = [
      [`客户名称${z}`, ...STANDARD_HEADER.slice(1)],
      // A name, a registrant, a phone and a date with zero-width characters inside.
      [
        `${CUSTOMERS[0].name}${z}`,
        '企业',
        CUSTOMERS[0].address,
        `139${z}0123${z}0001`,
        '展会',
        `王磊${z}`,
        `2026-11-20\u2060`,
      ],
      // 无 + U+200B is no customer; a source of invisible characters alone is no source.
      [`无${z}`, '企业', CUSTOMERS[1].address, CUSTOMERS[1].phone, `\u2060${z}`, '王磊', '2026-11-20'],
    ];
    const inputs = {
      'pasted.xlsx': await xlsxOf([{ name: 'Sheet1', rows }]),
      'pasted.csv': Buffer.from(csvOf(rows.map((r) => r.map((v) => String(v))))),
    };
    for (const [fileName, bytes] of Object.entries(inputs)) {
      const t = await openTempStore();
      try {
        const { report } = await runImport(bytes, t, { fileName, actor: ADMIN });
        expect(report.mapping[0]!.field, fileName).toBe('customerName');
        expect(
          report.rows.map((r) => [r.row, r.status, r.errors.map((e) => [e.code, e.field])]),
          fileName,
        ).toEqual([
          [2, 'pending', []],
          [
            3,
            'invalid',
            [
              ['field.required', 'customerName'],
              ['field.required', 'source'],
            ],
          ],
        ]);
        const [record] = await t.records();
        expect(
          [
            record?.registration.customerName,
            record?.registration.registrant,
            record?.registration.contactPhone,
          ],
          fileName,
        ).toEqual([CUSTOMERS[0].name, '王磊', CUSTOMERS[0].phone]);
      } finally {
        await t.dispose();
      }
    }
  });

  it('reads 无, /, — and N/A in optional cells as empty, and names a placeholder customer as missing (R2)', async () => {
    const rows: SheetCell[][] = [
      [...STANDARD_HEADER, '邮箱', '预计签约金额', '预计签约时间', '备注'],
      [...standardRow(0, '王磊'), '无', '/', '暂无', '无'],
      [...standardRow(1, '王磊'), 'N/A', '—', '-', null],
      ['无', ...standardRow(2, '王磊').slice(1), null, null, null, null],
    ];
    rows[2]![3] = '／';
    const inputs = {
      'fillers.xlsx': await xlsxOf([{ name: 'Sheet1', rows }]),
      'fillers.csv': Buffer.from(csvOf(rows.map((r) => r.map((v) => (v === null ? '' : String(v)))))),
    };
    for (const [fileName, bytes] of Object.entries(inputs)) {
      const { report } = await runImport(bytes, temp, { fileName, dryRun: true, actor: SALES });
      expect(
        report.rows.map((r) => [r.row, r.status, r.errors.map((e) => [e.code, e.field])]),
        fileName,
      ).toEqual([
        [2, 'pending', []],
        [3, 'pending', []],
        [4, 'invalid', [['field.required', 'customerName']]],
      ]);
    }
    const { report } = await runImport(inputs['fillers.xlsx'], temp, {
      fileName: 'fillers.xlsx',
      actor: SALES,
    });
    const records = new Map((await temp.records()).map((r) => [r.no, r]));
    const registrationOf = (row: number) =>
      records.get(report.rows.find((r) => r.row === row)!.registrationNo!)!.registration;
    expect(registrationOf(2)).not.toHaveProperty('email');
    expect(registrationOf(2)).not.toHaveProperty('expectedAmount');
    // Free text keeps what was typed.
    expect(registrationOf(2).notes).toBe('无');
    expect(registrationOf(3)).not.toHaveProperty('contactPhone');
  });
  it('[R8] reads 电话 as the fallback when it is merged down over a two-row header, as the add-in does', async () => {
    const bytes = await xlsxOf([
      {
        name: 'Sheet1',
        rows: [
          ['客户名称', '客户类型', '地址', '电话', '手机', '客户来源', '报备人', '金额（万元）', null],
          [null, null, null, null, null, null, null, '预计金额', '预计单价'],
          [CUSTOMERS[1].name, '企业', CUSTOMERS[1].address, '010-87654321', null, '展会', '王磊', 50, 1],
        ],
        merges: ['A1:A2', 'B1:B2', 'C1:C2', 'D1:D2', 'E1:E2', 'F1:F2', 'G1:G2', 'H1:I1'],
      },
    ]);
    const { report } = await runImport(bytes, temp, { fileName: 'two-row-phones.xlsx', actor: ADMIN });
    expect(report.mapping.find((m) => m.fallbackFor === 'contactPhone')?.column).toBe('D');
    const [record] = await temp.records();
    expect(record?.registration.contactPhone).toBe('010-87654321');
  });

  it("[R8] never stores the registrant's own mobile (报备人手机) as the customer's phone", async () => {
    const rows: SheetCell[][] = [
      ['客户名称', '客户类型', '地址', '联系电话', '客户来源', '报备人', '报备人手机'],
      [CUSTOMERS[0].name, '企业', CUSTOMERS[0].address, CUSTOMERS[0].phone, '展会', '王磊', '13700001111'],
      [CUSTOMERS[1].name, '企业', CUSTOMERS[1].address, null, '展会', '王磊', '13700001111'],
    ];
    const { report } = await runImport(await xlsxOf([{ name: 'Sheet1', rows }]), temp, {
      fileName: 'registrant-phone.xlsx',
      actor: ADMIN,
    });
    expect(report.mapping.find((m) => m.field === 'contactPhone')?.header).toBe('联系电话');
    expect(report.mapping.some((m) => m.fallbackFor !== undefined)).toBe(false);
    const records = new Map((await temp.records()).map((r) => [r.no, r]));
    const phoneOf = (row: number) =>
      records.get(report.rows.find((r) => r.row === row)!.registrationNo!)!.registration.contactPhone;
    expect([phoneOf(2), phoneOf(3)]).toEqual([CUSTOMERS[0].phone, undefined]);
  });
  it("[R8] never stores a referrer's or the partner contact's phone (推荐人电话, 渠道联系人手机) as the customer's", async () => {
    // 渠道联系人手机 is a mobile beside 电话; 推荐人电话 the sheet's only other phone.
    const besideTheCustomers: SheetCell[][] = [
      ['客户名称', '客户类型', '地址', '电话', '客户来源', '报备人', '渠道联系人手机'],
      [CUSTOMERS[0].name, '企业', CUSTOMERS[0].address, CUSTOMERS[0].phone, '展会', '王磊', '13700001111'],
      [CUSTOMERS[1].name, '企业', CUSTOMERS[1].address, null, '展会', '王磊', '13700001111'],
    ];
    const alone: SheetCell[][] = [
      ['客户名称', '客户类型', '地址', '客户来源', '报备人', '推荐人', '推荐人电话'],
      [CUSTOMERS[2].name, '企业', CUSTOMERS[2].address, '展会', '王磊', '张三', '13700002222'],
    ];
    const phones: Record<string, (string | undefined)[]> = {};
    for (const [fileName, rows] of Object.entries({
      'partner.xlsx': besideTheCustomers,
      'referrer.xlsx': alone,
    })) {
      const { report } = await runImport(await xlsxOf([{ name: 'Sheet1', rows }]), temp, {
        fileName,
        actor: ADMIN,
      });
      expect(
        report.mapping.some((m) => m.fallbackFor !== undefined),
        fileName,
      ).toBe(false);
      const records = new Map((await temp.records()).map((r) => [r.no, r]));
      phones[fileName] = report.rows.map(
        (row) => records.get(row.registrationNo!)!.registration.contactPhone,
      );
    }
    expect(phones).toEqual({ 'partner.xlsx': [CUSTOMERS[0].phone, undefined], 'referrer.xlsx': [undefined] });
  });
  it('[R8] takes the phone from 手机, from 电话 when 手机 is empty, and says so in the mapping', async () => {
    const rows: SheetCell[][] = [
      ['客户名称', '客户类型', '地址', '电话', '手机', '客户来源', '报备人'],
      [CUSTOMERS[0].name, '企业', CUSTOMERS[0].address, '021-12345678', CUSTOMERS[0].phone, '展会', '王磊'],
      [CUSTOMERS[1].name, '企业', CUSTOMERS[1].address, '010-87654321', null, '展会', '王磊'],
      [CUSTOMERS[2].name, '个人', null, '020-5556666', '/', '展会', '王磊'],
    ];
    const { report } = await runImport(await xlsxOf([{ name: 'Sheet1', rows }]), temp, {
      fileName: 'phones.xlsx',
      actor: ADMIN,
    });
    expect(report.mapping.slice(3, 5)).toEqual([
      { column: 'D', header: '电话', field: null, confidence: 0, fallbackFor: 'contactPhone' },
      { column: 'E', header: '手机', field: 'contactPhone', confidence: 1 },
    ]);
    expect(report.rows.map((r) => [r.row, r.status])).toEqual([
      [2, 'pending'],
      [3, 'pending'],
      [4, 'pending'],
    ]);
    const records = new Map((await temp.records()).map((r) => [r.no, r]));
    const phoneOf = (row: number) =>
      records.get(report.rows.find((r) => r.row === row)!.registrationNo!)!.registration.contactPhone;
    expect([phoneOf(2), phoneOf(3), phoneOf(4)]).toEqual([CUSTOMERS[0].phone, '010-87654321', '020-5556666']);
  });
});
