/**
 * Legacy rows read alike by every path (core/row.ts, core/money.ts, core/cellText.ts), here through
 * the import with real files: a CSV group-header unit, placeholders in optional cells, a blank 报备人.
 */
import ExcelJS from 'exceljs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { csvOf } from '../fixtures/legacySheets.js';
import { ADMIN, SALES, openTempStore, runImport, type TempStore } from './importHarness.js';

let temp: TempStore;
beforeEach(async () => {
  temp = await openTempStore();
});
afterEach(async () => {
  await temp.dispose();
});

describe('a CSV group header naming a money unit', () => {
  it('gives 万元 to the amounts under it only, not to a unit price past its 备注', async () => {
    const csv = csvOf([
      ['客户名称', '地址', '联系电话', '客户来源', '报备人', '预计金额（万元）', '', ''],
      ['', '', '', '', '', '预计签约金额', '备注', '预计签约单价'],
      ['上海甲乙丙科技有限公司', '上海市浦东新区张江路1号', '13912345678', '展会', '王磊', 50, '二期', 3000],
    ]);
    const { report } = await runImport(Buffer.from(csv), temp, { actor: SALES });
    expect(report.rows.map((r) => [r.status, r.errors])).toEqual([['pending', []]]);
    const [record] = await temp.records();
    expect(record!.registration.expectedAmount).toBe(500_000);
    expect(record!.registration.expectedUnitPrice).toBe(3000);
    expect(record!.registration.notes).toBe('二期');
  });
});

describe('a blank 报备人 (R2)', () => {
  const HEADER = ['客户名称', '地址', '联系电话', '客户来源', '报备人', '报备日期'];
  const row = (n: number, registrant: string): (string | number)[] => [
    `上海甲乙丙${'一二三四五六七八九'[n]}科技有限公司`,
    '上海市浦东新区张江路1号',
    `1391234567${n}`,
    '展会',
    registrant,
    '2026-11-20',
  ];

  for (const [mode, actor] of [
    ['submit', SALES],
    ['history', ADMIN],
  ] as const) {
    it(`[R2] is missing, not the importer, in ${mode} mode, with the wording the add-in and the sync use`, async () => {
      const csv = csvOf([HEADER, row(1, actor.name), row(2, ''), row(3, '无')]);
      const { report } = await runImport(Buffer.from(csv), temp, { actor, mode });
      expect(report.rows.map((r) => r.status)).toEqual([
        mode === 'history' ? 'protected' : 'pending',
        'invalid',
        'invalid',
      ]);
      expect(report.rows[1]!.errors).toMatchObject([
        {
          code: 'field.required',
          field: 'registrant',
          message: '报备人不能为空：表中有报备人列时，空白不由提交人代填，请填写报备人',
        },
      ]);
      expect(report.rows[2]!.errors[0]!.message).toContain('（「无」表示未填写）');
      expect((await temp.records()).map((r) => r.registration.registrant)).toEqual([actor.name]);
    });
  }
});

describe('placeholders and Excel error values in legacy cells', () => {
  const HEADER = ['客户名称', '客户类型', '地址', '联系人', '联系电话', '邮箱', '客户来源', '报备人'];

  it('reads N.A., 未填写, —/— in optional cells as blank, and never registers a customer called N.A. (CSV)', async () => {
    const csv = csvOf([
      HEADER,
      ['上海甲乙丙科技有限公司', '企业', '上海市浦东新区张江路1号', '未填写', 'N.A.', 'n.a.', '展会', '王磊'],
      ['N.A.', '企业', '北京市海淀区中关村大街1号', '张三', '13912345671', '', '展会', '王磊'],
      ['N.A.', '企业', '广州市天河区体育西路1号', '李四', '13912345672', '', '展会', '王磊'],
      ['#N/A', '企业', '深圳市南山区科技园1号', '王五', '13912345673', '', '展会', '王磊'],
    ]);
    const { report } = await runImport(Buffer.from(csv), temp, { actor: SALES });
    expect(report.rows.map((r) => [r.status, r.errors.map((e) => [e.code, e.field])])).toEqual([
      ['pending', []],
      ['invalid', [['field.required', 'customerName']]],
      ['invalid', [['field.required', 'customerName']]],
      ['invalid', [['cell.error_value', 'customerName']]],
    ]);
    const [record] = await temp.records();
    expect(record!.registration).not.toHaveProperty('contactName');
    expect(record!.registration).not.toHaveProperty('contactPhone');
    expect(record!.registration).not.toHaveProperty('email');
  });

  it('refuses an .xlsx error cell (#N/A from a failed look-up) as the add-in does, never as a customer', async () => {
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet('报备');
    sheet.addRow(HEADER);
    sheet.addRow([
      '上海甲乙丙科技有限公司',
      '企业',
      '上海市浦东新区张江路1号',
      '张三',
      '13912345671',
      '',
      '展会',
      '王磊',
    ]);
    sheet.addRow(['', '企业', '北京市海淀区中关村大街1号', '李四', '13912345672', '', '展会', '王磊']);
    sheet.getCell('A3').value = { error: '#N/A' } as ExcelJS.CellErrorValue;
    const bytes = new Uint8Array(await workbook.xlsx.writeBuffer());
    const { report } = await runImport(bytes, temp, { actor: SALES });
    expect(report.rows.map((r) => [r.status, r.errors.map((e) => [e.code, e.field])])).toEqual([
      ['pending', []],
      ['invalid', [['cell.error_value', 'customerName']]],
    ]);
    expect((await temp.records()).map((r) => r.registration.customerName)).toEqual([
      '上海甲乙丙科技有限公司',
    ]);
  });
});
