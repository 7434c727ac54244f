import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addWorkdays, addWorkdaysWithCoverage, calendarCoverage, isWorkday } from '../../core/calendar.js';

const originalTz = process.env.TZ;
function useTimeZone(tz: string): void {
  beforeAll(() => {
    process.env.TZ = tz;
  });
  afterAll(() => {
    if (originalTz === undefined) delete process.env.TZ;
    else process.env.TZ = originalTz;
  });
}

function daysFrom(first: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) =>
    new Date(Date.parse(`${first}T00:00:00Z`) + i * 86_400_000).toISOString().slice(0, 10),
  );
}

// West of Greenwich, chinese-days' own functions read every date a day early; the calendar must not.
describe('calendar (runtime in America/Los_Angeles)', () => {
  useTimeZone('America/Los_Angeles');

  it('runs in a time zone west of UTC', () => {
    expect(new Date(Date.UTC(2026, 9, 1)).getDate()).toBe(30);
  });

  it('[R12] National Day 2026: 10-01 through 10-07 are holidays, 10-08 is a working day', () => {
    for (const day of daysFrom('2026-10-01', 7)) expect(isWorkday(day), day).toBe(false);
    expect(isWorkday('2026-09-30')).toBe(true);
    expect(isWorkday('2026-10-08')).toBe(true);
  });

  it('[R12] make-up workdays (调休) of National Day 2026: Sunday 09-20 and Saturday 10-10 are working days', () => {
    expect(isWorkday('2026-09-20')).toBe(true);
    expect(isWorkday('2026-10-10')).toBe(true);
    expect(isWorkday('2026-10-11')).toBe(false);
  });

  it('[R12] Spring Festival 2026: 02-15 through 02-23 off, Saturdays 02-14 and 02-28 worked', () => {
    for (const day of daysFrom('2026-02-15', 9)) expect(isWorkday(day), day).toBe(false);
    expect(isWorkday('2026-02-14')).toBe(true);
    expect(isWorkday('2026-02-28')).toBe(true);
    expect(isWorkday('2026-02-24')).toBe(true);
  });

  it('[R12] plain weeks: Monday–Friday work, weekends do not', () => {
    expect(daysFrom('2026-03-09', 7).map(isWorkday)).toEqual([true, true, true, true, true, false, false]);
  });
});

describe('addWorkdays', () => {
  it('[R12] received Friday 2026-02-13 before Spring Festival + 7 working days → 2026-03-02', () => {
    // 02-14 (make-up Saturday), 02-24, 25, 26, 27, 02-28 (make-up Saturday), 03-02
    expect(addWorkdays('2026-02-13', 7)).toBe('2026-03-02');
  });

  it('[R12] received 2026-09-30 + 7 working days skips National Day and counts Saturday 10-10 → 2026-10-15', () => {
    expect(addWorkdays('2026-09-30', 7)).toBe('2026-10-15');
  });

  it('[R12] the start day never counts: Monday + 1 → Tuesday; Friday + 1 → Monday', () => {
    expect(addWorkdays('2026-03-09', 1)).toBe('2026-03-10');
    expect(addWorkdays('2026-03-13', 1)).toBe('2026-03-16');
  });

  it('[R12] n = 0 is the day itself on a working day, else the next working day', () => {
    expect(addWorkdays('2026-03-09', 0)).toBe('2026-03-09');
    expect(addWorkdays('2026-10-01', 0)).toBe('2026-10-08');
    expect(addWorkdays('2026-03-14', 0)).toBe('2026-03-16');
  });

  it('crosses a leap day and a year end', () => {
    expect(addWorkdays('2024-02-28', 1)).toBe('2024-02-29');
    expect(addWorkdays('2025-12-30', 2)).toBe('2026-01-04'); // 12-31, then 01-04 (make-up Sunday)
  });

  it('refuses negative or fractional counts and malformed days', () => {
    expect(() => addWorkdays('2026-03-09', -1)).toThrow(RangeError);
    expect(() => addWorkdays('2026-03-09', 1.5)).toThrow(RangeError);
    expect(() => addWorkdays('2026-02-30', 1)).toThrow(RangeError);
    expect(() => isWorkday('2026-3-9')).toThrow(RangeError);
  });
});

describe('coverage and the Monday–Friday fallback', () => {
  it('[R12] chinese-days 1.5.7 has official data for 2004–2026 and none for 2027 or 2003', () => {
    expect(calendarCoverage(2004)).toBe('package');
    expect(calendarCoverage(2026)).toBe('package');
    expect(calendarCoverage(2027)).toBe('weekends-only');
    expect(calendarCoverage(2003)).toBe('weekends-only');
  });

  it('[R12] 2027 counts Monday–Friday and says the answer is estimated', () => {
    expect(isWorkday('2027-01-01')).toBe(true); // a Friday; the real 元旦 schedule is not in the data
    expect(isWorkday('2027-01-02')).toBe(false);
    expect(addWorkdaysWithCoverage('2027-03-01', 7)).toEqual({ day: '2027-03-10', estimated: true });
  });

  it('[R12] received 2026-12-25 + 7 working days spills into 2027 → estimated', () => {
    expect(addWorkdaysWithCoverage('2026-12-25', 7)).toEqual({ day: '2027-01-05', estimated: true });
  });

  it('[R12] an answer inside 2026 is not estimated', () => {
    expect(addWorkdaysWithCoverage('2026-12-01', 7)).toEqual({ day: '2026-12-10', estimated: false });
  });
});

// The calendar reads chinese-days' data file; its answers must equal the package's own functions.
describe('agreement with chinese-days (runtime in Asia/Shanghai)', () => {
  useTimeZone('Asia/Shanghai');

  it('[R12] every day 2004–2027 agrees with chinese-days.isWorkday', async () => {
    // imported here so its tables are built in Shanghai time, where its functions are right
    const { default: chineseDays } = await import('chinese-days');
    const days = daysFrom('2004-01-01', 24 * 366).filter((day) => day < '2028-01-01');
    const disagreements = days.filter((day) => chineseDays.isWorkday(day) !== isWorkday(day));
    expect(disagreements).toEqual([]);
  });
});
