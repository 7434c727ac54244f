import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { inHeaderUnit, moneyUnitOfHeader, moneyUnitsOfColumns, parseMoney } from '../../core/money.js';
import type { CellValue } from '../../core/schema.js';

const SEED = 20261123;

describe('parseMoney', () => {
  it.each<[CellValue, number]>([
    ['50万', 500_000],
    ['50万元', 500_000],
    ['50w', 500_000],
    ['50W', 500_000],
    ['¥500,000', 500_000],
    ['￥500,000.00', 500_000],
    ['500000元', 500_000],
    ['1.2亿', 120_000_000],
    ['3千', 3_000],
    ['3k', 3_000],
    ['3K', 3_000],
    ['2百万', 2_000_000],
    ['RMB 5,000', 5_000],
    ['rmb5000', 5_000],
    ['CNY 5000.5', 5_000.5],
    ['人民币50万元整', 500_000],
    ['1.1万', 11_000],
    ['267万', 2_670_000],
    ['５０万', 500_000],
    ['¥ 1,234,567.891', 1_234_567.89],
    [' 500000 ', 500_000],
    ['0', 0],
    [500000, 500_000],
    [1234.5678, 1234.57],
    [0, 0],
  ])('%j → %d yuan', (value, yuan) => {
    expect(parseMoney(value)).toEqual({ ok: true, yuan });
  });

  it.each<[CellValue, string]>([
    ['-500', 'negative'],
    ['¥-500', 'negative'],
    ['-¥500', 'negative'],
    [-1, 'negative'],
    ['abc', 'recognised'],
    ['1,2', 'recognised'],
    ['50-80万', 'recognised'],
    ['五十万', 'recognised'],
    ['50万美元', 'recognised'],
    ['', 'recognised'],
    [true, 'recognised'],
    [null, 'recognised'],
    [Number.NaN, 'recognised'],
    [1e15, 'recognised'],
  ])('rejects %j with money.invalid (%s)', (value, why) => {
    const result = parseMoney(value, 'expectedAmount');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problem.code).toBe('money.invalid');
    expect(result.problem.field).toBe('expectedAmount');
    expect(result.problem.messageEn).toContain(why === 'negative' ? 'negative' : 'not recognised');
  });

  it('reads grouped, currency-marked and 万 forms of one amount alike', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000_000_000 }), (fen) => {
        const yuan = fen / 100;
        const grouped = yuan.toLocaleString('en-US', { minimumFractionDigits: 2 });
        expect(parseMoney(yuan)).toEqual({ ok: true, yuan });
        expect(parseMoney(`¥${grouped}`)).toEqual({ ok: true, yuan });
        expect(parseMoney(`RMB ${grouped}`)).toEqual({ ok: true, yuan });
        expect(parseMoney(`${yuan.toFixed(2)}元`)).toEqual({ ok: true, yuan });
        expect(parseMoney(`${fen / 1_000_000}万`)).toEqual({ ok: true, yuan });
      }),
      { seed: SEED, numRuns: 500 },
    );
  });
});

describe('moneyUnitOfHeader', () => {
  it.each<[string, number]>([
    ['预计金额（万元）', 10_000],
    ['預計金額（萬元）', 10_000],
    ['预计签约金额\n(万元)', 10_000],
    ['预计签约金额万元', 10_000],
    ['金额【万】', 10_000],
    ['单价（千元）', 1_000],
    ['单价（万元/套）', 10_000],
    ['金额（亿元）', 100_000_000],
    ['预计签约金额', 1],
    ['金额（元）', 1],
    ['单价（元/平方米）', 1],
    // The unit written as 单位：…, per year, or as w.
    ['预计金额（单位：万）', 10_000],
    ['预计金额(单位:万元)', 10_000],
    ['预计金额（万/年）', 10_000],
    ['预计金额（w）', 10_000],
    ['预计金额（单位：元）', 1],
  ])('%s → ×%d', (header, unit) => {
    expect(moneyUnitOfHeader(header)).toBe(unit);
  });
});

describe('moneyUnitsOfColumns', () => {
  it('gives a column the unit of the group header above it unless its own header names one', () => {
    const group = '金额（万元）';
    expect(
      moneyUnitsOfColumns([
        { field: 'expectedAmount', header: '预计金额', group },
        { field: 'expectedUnitPrice', header: '预计单价', group },
      ]),
    ).toEqual({ expectedAmount: 10_000, expectedUnitPrice: 10_000 });
    expect(
      moneyUnitsOfColumns([
        { field: 'expectedAmount', header: '预计金额', group },
        { field: 'expectedUnitPrice', header: '预计单价（元）', group },
      ]),
    ).toEqual({ expectedAmount: 10_000 });
    expect(moneyUnitsOfColumns([{ field: 'expectedUnitPrice', header: '单价（元/平方米）', group }])).toEqual(
      {},
    );
    expect(moneyUnitsOfColumns([{ field: 'expectedAmount', header: '预计金额（千元）', group }])).toEqual({
      expectedAmount: 1_000,
    });
  });

  it('keeps a column in yuan under a 金额（万元） group header when its own header names yuan however written', () => {
    const group = '金额（万元）';
    for (const header of [
      '预计单价（单位：元）',
      '预计单价(单位:元/平方米)',
      '预计单价（人民币元）',
      '预计单价（¥）',
      '预计单价(RMB)',
    ])
      expect([header, moneyUnitsOfColumns([{ field: 'expectedUnitPrice', header, group }])]).toEqual([
        header,
        {},
      ]);
  });
});

describe('inHeaderUnit', () => {
  it.each<[CellValue, CellValue]>([
    [50, 500_000],
    ['50', 500_000],
    ['1,200.5', 12_005_000],
    ['５０', 500_000],
    // A cell naming its own unit keeps it; an unreadable one stays as typed for its error.
    ['80万元', '80万元'],
    ['3000元', '3000元'],
    ['面议', '面议'],
    // A currency sign or word says the cell is in yuan, as 元 does.
    ['¥500,000', '¥500,000'],
    ['￥500000', '￥500000'],
    ['RMB 5000', 'RMB 5000'],
    ['人民币5000', '人民币5000'],
    ['CNY5000', 'CNY5000'],
    ['-5', '-5'],
    [-5, -5],
    [null, null],
  ])('%j under a 万元 header → %j', (value, expected) => {
    expect(inHeaderUnit(value, 10_000)).toEqual(expected);
  });

  it('reads a number under a 万元 header to the fen', () => {
    expect(parseMoney(inHeaderUnit(0.07, 10_000))).toEqual({ ok: true, yuan: 700 });
  });
});

describe('moneyUnitsOfColumns: a group header unit in a CSV (no merges to bound it)', () => {
  // A CSV carries 预计金额（万元）,, over 首年,备注,预计单价: the blank upper cells are spread right, so
  // the group text reaches columns that are no part of the group's amounts.
  it('stops the group unit at the first column under it that is not money', () => {
    const group = '预计金额（万元）';
    expect(
      moneyUnitsOfColumns([
        { column: 3, field: 'expectedAmount', header: '首年', group },
        { column: 4, field: 'notes', header: '备注', group },
        { column: 5, field: 'expectedUnitPrice', header: '预计单价', group },
      ]),
    ).toEqual({ expectedAmount: 10_000 });
    // The same, whether the column between is mapped, unmapped, or listed without its group.
    for (const between of [
      { column: 4, field: null, header: '次年', group },
      { column: 4, field: null, header: '次年' },
    ]) {
      expect(
        moneyUnitsOfColumns([
          { column: 3, field: 'expectedAmount', header: '首年', group },
          between,
          { column: 5, field: 'expectedUnitPrice', header: '预计单价', group },
        ]),
      ).toEqual({ expectedAmount: 10_000 });
    }
  });

  it('stops it at a gap in the columns (the add-in lists mapped columns only)', () => {
    const group = '预计金额（万元）';
    expect(
      moneyUnitsOfColumns([
        { column: 3, field: 'expectedAmount', header: '首年', group },
        { column: 5, field: 'expectedUnitPrice', header: '预计单价', group },
      ]),
    ).toEqual({ expectedAmount: 10_000 });
  });

  it('still gives it to every money column of an unbroken group', () => {
    const group = '金额（万元）';
    expect(
      moneyUnitsOfColumns([
        { column: 3, field: 'expectedAmount', header: '预计金额', group },
        { column: 4, field: 'expectedUnitPrice', header: '预计单价', group },
        { column: 5, field: 'notes', header: '备注', group },
      ]),
    ).toEqual({ expectedAmount: 10_000, expectedUnitPrice: 10_000 });
  });
});
