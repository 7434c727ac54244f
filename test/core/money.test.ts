import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseMoney } from '../../core/money.js';
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
