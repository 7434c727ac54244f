/**
 * Templates carry a filled-in example row under the header (上海某某科技有限公司 / 张三 / 13800000000,
 * or a row marked 示例 in 序号 or 备注): through the whole import, such a row is reported as skipped
 * with its row and a bilingual reason, never registered, and counted as skipped on the copy's 汇总.
 */
import ExcelJS from 'exceljs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CUSTOMERS, xlsxOf } from '../fixtures/legacySheets.js';
import { ADMIN, openTempStore, runImport, type TempStore } from './importHarness.js';

let temp: TempStore;
beforeEach(async () => {
  temp = await openTempStore();
});
afterEach(async () => {
  await temp.dispose();
});

const HEADER = [
  '序号',
  '客户名称',
  '客户类型',
  '地址',
  '联系人',
  '手机',
  '客户来源',
  '报备人',
  '报备日期',
  '备注',
];
/** Customer `i` of the fixtures as a row under HEADER. */
function customerRow(no: string, i: number): ExcelJS.CellValue[] {
  const c = CUSTOMERS[i]!;
  return [no, c.name, '企业', c.address, '王芳', c.phone, '展会', '王磊', '2026-11-20', null];
}

/** The 汇总 sheet's first column → second column. */
async function summaryOf(annotated: Buffer): Promise<Map<string, unknown>> {
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.load(annotated as unknown as ArrayBuffer);
  const out = new Map<string, unknown>();
  workbook.getWorksheet('汇总')!.eachRow((row) => {
    out.set(String(row.getCell(1).value), row.getCell(2).value);
  });
  return out;
}

describe('example rows (填写示例)', () => {
  it('a one-sheet 填表说明 workbook (title, header, one example row): the example row is skipped, not registered', async () => {
    const bytes = await xlsxOf([
      {
        name: '填表说明',
        rows: [
          ['客户报备表（填写示例）'],
          HEADER,
          [
            '1',
            '上海某某科技有限公司',
            '企业',
            '上海市浦东新区XX路1号',
            '张三',
            '13800000000',
            '展会',
            '李四',
            '2026-01-01',
            null,
          ],
        ],
        merges: ['A1:J1'],
      },
    ]);
    const dry = await runImport(bytes, temp, { fileName: 'template.xlsx', dryRun: true });
    expect(dry.report.sheet).toBe('填表说明');
    expect(dry.report.headerRow).toBe(2);
    expect(dry.report.rows).toEqual([
      {
        row: 3,
        status: 'skipped',
        skipped: 'example',
        reason: {
          code: 'row.example',
          message: expect.stringContaining('第 3 行'),
          messageEn: expect.stringContaining('Row 3'),
        },
        errors: [],
        warnings: [],
        conflicts: [],
      },
    ]);
    // The reason names the column that gave the row away.
    expect(dry.report.rows[0]!.reason!.message).toContain('B 列“客户名称”');
    expect(dry.report.rows[0]!.reason!.messageEn).toContain('column B "客户名称"');
    expect(dry.report.summary).toEqual({ rows: 0, byStatus: { skipped: 1 } });
    // The returned copy: no result on the example row, counted as skipped on 汇总.
    const copy = new ExcelJS.Workbook();
    await copy.xlsx.load(dry.annotated as unknown as ArrayBuffer);
    expect(copy.getWorksheet('填表说明')!.getCell('K3').value).toBeNull();
    expect((await summaryOf(dry.annotated)).get('跳过 Skipped')).toBe(1);

    await runImport(bytes, temp, { fileName: 'template.xlsx', actor: ADMIN });
    expect(await temp.records()).toEqual([]);
  });

  it('skips a row marked 示例/例 in 序号 or 备注, or written 示例：… in 客户名称, and registers the rows under it', async () => {
    const marked = (no: string, i: number, notes: string | null, name?: string) => {
      const row = customerRow(no, i);
      if (name !== undefined) row[1] = name;
      row[9] = notes;
      return row;
    };
    const bytes = await xlsxOf([
      {
        name: '报备',
        rows: [
          HEADER,
          marked('例', 0, null),
          marked('', 1, '示例，请删除此行'),
          marked('', 2, null, `示例：${CUSTOMERS[2].name}`),
          customerRow('1', 3),
          customerRow('2', 4),
        ],
      },
    ]);
    const { report } = await runImport(bytes, temp, { actor: ADMIN });
    expect(report.rows.map((r) => [r.row, r.status, r.skipped, r.reason?.message])).toEqual([
      [2, 'skipped', 'example', expect.stringContaining('A 列“序号”')],
      [3, 'skipped', 'example', expect.stringContaining('J 列“备注”')],
      [4, 'skipped', 'example', expect.stringContaining('B 列“客户名称”')],
      [5, 'pending', undefined, undefined],
      [6, 'pending', undefined, undefined],
    ]);
    expect((await temp.records()).map((r) => r.registration.customerName).sort()).toEqual(
      [CUSTOMERS[3].name, CUSTOMERS[4].name].sort(),
    );
  });

  it('registers near misses: XX or 某 inside a real name, or a placeholder-looking name with a real contact and phone', async () => {
    const named = (i: number, name: string, contact: string, phone: string) => {
      const row = customerRow(String(i + 1), i);
      row[1] = name;
      row[4] = contact;
      row[5] = phone;
      return row;
    };
    const bytes = await xlsxOf([
      {
        name: '报备',
        rows: [
          HEADER,
          named(0, '宁波XXL服饰有限公司', '张三', '13800000000'),
          named(1, '上海某丰贸易有限公司', '张三', '13800000000'),
          named(2, '北京某某文化传媒有限公司', '刘洋', CUSTOMERS[2].phone),
          named(3, '示例科技有限公司', '王芳', CUSTOMERS[3].phone),
        ],
      },
    ]);
    const { report } = await runImport(bytes, temp, { dryRun: true });
    expect(report.rows.map((r) => [r.row, r.status === 'skipped' ? r.skipped : 'checked'])).toEqual([
      [2, 'checked'],
      [3, 'checked'],
      [4, 'checked'],
      [5, 'checked'],
    ]);
  });

  it('skips the classic template row 上海某公司 / 张三 / 13800000000 in a real .xlsx; 上海某丰公司 and 张三丰 are registered', async () => {
    const named = (i: number, name: string, contact: string, phone: string) => {
      const row = customerRow(String(i + 1), i);
      row[1] = name;
      row[4] = contact;
      row[5] = phone;
      return row;
    };
    const bytes = await xlsxOf([
      {
        name: '报备',
        rows: [
          HEADER,
          named(0, '上海某公司', '张三', '13800000000'),
          named(1, 'XX公司', '王五', '13800138000'),
          named(2, '上海某丰公司', '张三', '13800000000'),
          named(3, '上海某公司', '张三丰', CUSTOMERS[3].phone),
        ],
      },
    ]);
    const { report } = await runImport(bytes, temp, { dryRun: true });
    expect(report.rows.map((r) => [r.row, r.status === 'skipped' ? r.reason?.code : 'checked'])).toEqual([
      [2, 'row.example'],
      [3, 'row.example'],
      [4, 'checked'],
      [5, 'checked'],
    ]);
  });

  it('gives every skipped row a bilingual reason: total, note and repeated header too', async () => {
    const bytes = await xlsxOf([
      {
        name: '报备',
        rows: [
          HEADER,
          customerRow('1', 0),
          HEADER,
          customerRow('2', 1),
          ['合计', '2 家'],
          ['注：本表由销售部填写。'],
        ],
      },
    ]);
    const { report } = await runImport(bytes, temp, { dryRun: true });
    expect(
      report.rows.filter((r) => r.status === 'skipped').map((r) => [r.row, r.skipped, r.reason?.code]),
    ).toEqual([
      [3, 'header-repeat', 'row.header_repeat'],
      [5, 'total', 'row.total'],
      [6, 'note', 'row.note'],
    ]);
    for (const r of report.rows.filter((x) => x.status === 'skipped')) {
      expect(r.reason!.message).toContain(`第 ${r.row} 行`);
      expect(r.reason!.messageEn).toContain(`Row ${r.row}`);
    }
  });
});

describe('the skipped rows on the annotated copy', () => {
  it('says on each skipped row, in 提示, why it was not registered: no fill, no status, no number; blank rows get nothing', async () => {
    const bytes = await xlsxOf([
      {
        name: '报备',
        rows: [
          HEADER,
          customerRow('例', 0),
          customerRow('1', 1),
          HEADER,
          [],
          customerRow('2', 2),
          ['合计', '2 家'],
          ['注：本表由销售部填写。'],
        ],
      },
    ]);
    const { report, annotated } = await runImport(bytes, temp, { dryRun: true });
    expect(report.rows.map((r) => [r.row, r.skipped ?? r.status])).toEqual([
      [2, 'example'],
      [3, 'pending'],
      [4, 'header-repeat'],
      [6, 'pending'],
      [7, 'total'],
      [8, 'note'],
    ]);
    const copy = new ExcelJS.Workbook();
    await copy.xlsx.load(annotated as unknown as ArrayBuffer);
    const sheet = copy.getWorksheet('报备')!;
    // K..O: 报备编号, 状态, 保护截止, 冲突说明, 提示.
    expect(sheet.getCell('O1').value).toBe('提示');
    const results = (row: number) => ['K', 'L', 'M', 'N', 'O'].map((c) => sheet.getCell(`${c}${row}`).value);
    expect(results(2)).toEqual([null, null, null, null, '填写示例，未登记 / Example row, not registered']);
    expect(results(4)).toEqual([
      null,
      null,
      null,
      null,
      '重复的表头，未登记 / Repeated header, not registered',
    ]);
    expect(results(5)).toEqual([null, null, null, null, null]);
    expect(results(7)).toEqual([null, null, null, null, '合计行，未登记 / Total row, not registered']);
    expect(results(8)).toEqual([null, null, null, null, '说明文字，未登记 / Note, not registered']);
    // A skipped row keeps its cells unfilled; a checked row gets its status and fill.
    const fillOf = (address: string) => {
      const fill = sheet.getCell(address).fill as ExcelJS.FillPattern | undefined;
      return fill?.pattern ?? 'none';
    };
    for (const row of [2, 4, 7, 8])
      for (const c of ['A', 'B', 'O']) expect(fillOf(`${c}${row}`)).toBe('none');
    expect(sheet.getCell('L3').value).toBe('待审核');
    expect(fillOf('A3')).toBe('solid');
    expect((await summaryOf(annotated)).get('跳过 Skipped')).toBe(4);
  });

  it('reads its own copy back as it read the original: the texts in 提示 make no skipped row data', async () => {
    const bytes = await xlsxOf([
      {
        name: '报备',
        rows: [
          HEADER,
          customerRow('例', 0),
          customerRow('1', 1),
          ['合计', '1 家'],
          ['注：本表由销售部填写。'],
        ],
      },
    ]);
    const first = await runImport(bytes, temp, { dryRun: true });
    const again = await runImport(first.annotated, temp, { dryRun: true });
    const kinds = (report: typeof first.report) => report.rows.map((r) => [r.row, r.skipped ?? r.status]);
    expect(kinds(again.report)).toEqual(kinds(first.report));
    expect(kinds(again.report)).toEqual([
      [2, 'example'],
      [3, 'pending'],
      [4, 'total'],
      [5, 'note'],
    ]);
  });
});
