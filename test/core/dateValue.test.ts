import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseDay, parseInstant } from '../../core/dateValue.js';
import { addDays, dayParts } from '../../core/day.js';
import type { CellValue } from '../../core/schema.js';

const SEED = 20261123;
const ctx = { referenceYear: 2026 };

describe('parseDay', () => {
  it.each<[CellValue, string]>([
    ['2026年3月5日', '2026-03-05'],
    ['2026年3月5号', '2026-03-05'],
    ['2026年03月05日', '2026-03-05'],
    ['2026 年 3 月 5 日', '2026-03-05'],
    ['2026.3.5', '2026-03-05'],
    ['2026/03/05', '2026-03-05'],
    ['2026-3-5', '2026-03-05'],
    ['20260305', '2026-03-05'],
    ['3月5日', '2026-03-05'],
    ['12月31号', '2026-12-31'],
    ['2026-03-05 14:30', '2026-03-05'],
    ['2026/3/5 14:30:00', '2026-03-05'],
    ['2026年3月5日 14时30分', '2026-03-05'],
    ['２０２６年３月５日', '2026-03-05'],
    ['２０２６－０３－０５', '2026-03-05'],
    // an exact instant is read as the Shanghai day it falls on
    ['2026-03-05T06:30:00.000Z', '2026-03-05'],
    ['2026-03-05T20:00:00Z', '2026-03-06'],
    ['2026-03-05T23:30:00+08:00', '2026-03-05'],
    // Excel serials: 1900 date system with the phantom 1900-02-29
    [46086, '2026-03-05'],
    [46086.99, '2026-03-05'],
    [45658, '2025-01-01'],
    [36526, '2000-01-01'],
    [61, '1900-03-01'],
    [59, '1900-02-28'],
    [1, '1900-01-01'],
    ['46086', '2026-03-05'],
    [20260305, '2026-03-05'],
    [new Date(Date.UTC(2026, 2, 5)), '2026-03-05'],
    [new Date(Date.UTC(2026, 2, 5, 23, 30)), '2026-03-05'],
  ])('%j → %s', (value, day) => {
    expect(parseDay(value, ctx)).toEqual({ ok: true, day });
  });

  it.each<[CellValue]>([
    ['2026年13月45日'],
    ['2026-02-30'],
    ['2025-02-29'],
    ['2026-00-10'],
    ['2月30日'],
    ['2026-03-05 25:00'],
    ['2026-03-05 14:60'],
    ['2026-02-30T00:00:00Z'],
    ['20261305'],
    ['下周一'],
    ['2026年3月'],
    ['12345'],
    [''],
    [60],
    [0],
    [-5],
    [0.5],
    [2958466],
    [Number.NaN],
    [true],
    [null],
    [new Date(Number.NaN)],
  ])('rejects %j with date.invalid naming the value', (value) => {
    const result = parseDay(value, ctx, 'expectedSignDate');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problem.code).toBe('date.invalid');
    expect(result.problem.field).toBe('expectedSignDate');
    if (typeof value === 'string' && value !== '') expect(result.problem.message).toContain(value);
  });

  it('accepts 2024-02-29 (a real leap day)', () => {
    expect(parseDay('2024-02-29', ctx)).toEqual({ ok: true, day: '2024-02-29' });
  });

  it('reads every written form of one day as that day', () => {
    const days = fc.integer({ min: 0, max: 365 * 80 }).map((n) => addDays('1990-01-01', n));
    fc.assert(
      fc.property(days, (day) => {
        const [y, m, d] = dayParts(day);
        const serial = Math.round((Date.UTC(y, m - 1, d) - Date.UTC(1899, 11, 30)) / 86_400_000);
        const forms: CellValue[] = [
          day,
          `${y}年${m}月${d}日`,
          `${y}.${m}.${d}`,
          `${y}/${m}/${d}`,
          day.replace(/-/g, ''),
          serial,
          serial + 0.75,
          new Date(Date.UTC(y, m - 1, d, 18, 0)),
        ];
        for (const form of forms) expect(parseDay(form, { referenceYear: y })).toEqual({ ok: true, day });
        expect(parseDay(`${m}月${d}日`, { referenceYear: y })).toEqual({ ok: true, day });
      }),
      { seed: SEED, numRuns: 300 },
    );
  });
});

describe('parseInstant', () => {
  it.each<[CellValue, string, boolean]>([
    ['2026-03-05', '2026-03-04T16:00:00.000Z', false],
    ['2026年3月5日', '2026-03-04T16:00:00.000Z', false],
    ['2026-03-05 14:30', '2026-03-05T06:30:00.000Z', true],
    ['2026/3/5 14:30:15', '2026-03-05T06:30:15.000Z', true],
    ['2026-03-05T14:30:00', '2026-03-05T06:30:00.000Z', true],
    ['2026年3月5日14点30分', '2026-03-05T06:30:00.000Z', true],
    ['3月5日 9:05', '2026-03-05T01:05:00.000Z', true],
    ['2026-03-05T06:30:00.000Z', '2026-03-05T06:30:00.000Z', true],
    ['2026-03-05T14:30:00+08:00', '2026-03-05T06:30:00.000Z', true],
    [46086, '2026-03-04T16:00:00.000Z', false],
    [46086.5, '2026-03-05T04:00:00.000Z', true],
    // 14:30 as a binary fraction is not exact; the second is rounded.
    [46086 + (14.5 * 3600) / 86400, '2026-03-05T06:30:00.000Z', true],
    [46086.9999999, '2026-03-05T16:00:00.000Z', false],
    // exceljs puts the sheet's wall-clock time in the Date's UTC fields: 2026-03-05 14:30 in the sheet.
    [new Date(Date.UTC(2026, 2, 5, 14, 30)), '2026-03-05T06:30:00.000Z', true],
    [new Date(Date.UTC(2026, 2, 5)), '2026-03-04T16:00:00.000Z', false],
  ])('%j → %s (hasTime %s)', (value, instant, hasTime) => {
    expect(parseInstant(value, ctx)).toEqual({ ok: true, instant, hasTime });
  });

  it('rejects impossible dates with date.invalid', () => {
    const result = parseInstant('2026年13月45日', ctx, 'registeredAt');
    expect(result).toMatchObject({ ok: false, problem: { code: 'date.invalid', field: 'registeredAt' } });
    expect(!result.ok && result.problem.message).toContain('2026年13月45日');
  });
});
