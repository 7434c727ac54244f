/**
 * Legacy rows read alike by every path (core/row.ts, core/money.ts, core/cellText.ts), here through
 * the import with real files: a CSV group-header unit, placeholders in optional cells, a blank 报备人.
 */
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
