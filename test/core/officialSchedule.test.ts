/**
 * Working days for years the package does not know: an administrator's schedule, validated by date,
 * taking precedence over the package, and the deadlines of R4 and R12 counted across it.
 */
import { describe, expect, it } from 'vitest';
import { calendarCoverage, packageSchedule, workCalendar } from '../../core/calendar.js';
import {
  dayKindOf,
  scheduleFromDays,
  validateSchedule,
  type OfficialSchedule,
  type ScheduleBody,
} from '../../core/officialSchedule.js';
import { DEFAULT_POLICY } from '../../core/policy.js';
import {
  estimatedFields,
  isLateRegistration,
  objectionDeadline,
  registrationDeadline,
  reviewDueBy,
  setDeadline,
} from '../../core/protection.js';
import { SYNTHETIC_2027 } from '../fixtures/calendar2027.js';

function schedule(body: ScheduleBody, year = 2027): OfficialSchedule {
  const checked = validateSchedule(year, body);
  if (!checked.ok) throw new Error(JSON.stringify(checked.problems));
  return checked.schedule;
}

const entered = workCalendar([schedule(SYNTHETIC_2027)]);

describe('an entered year', () => {
  it('[R12] the holiday week is off, its make-up Saturdays are worked, the rest is Monday–Friday', () => {
    for (const day of ['2027-02-08', '2027-02-10', '2027-02-12', '2027-02-14']) {
      expect(entered.isWorkday(day), day).toBe(false);
    }
    expect(entered.isWorkday('2027-02-06')).toBe(true);
    expect(entered.isWorkday('2027-02-20')).toBe(true);
    expect(entered.isWorkday('2027-02-13')).toBe(false);
    expect(entered.isWorkday('2027-02-27')).toBe(false);
    expect(entered.isWorkday('2027-03-01')).toBe(true);
    expect(entered.isWorkday('2027-01-01')).toBe(false);
  });

  it('[R12] is covered by the administrator and its answers are no longer estimates', () => {
    expect(entered.coverage(2027)).toBe('administrator');
    expect(calendarCoverage(2027)).toBe('weekends-only');
    expect(entered.addWorkdays('2027-03-01', 7)).toEqual({ day: '2027-03-10', estimated: false });
    // 2028 is still unknown: walking into it is an estimate again.
    expect(entered.addWorkdays('2027-12-28', 7).estimated).toBe(true);
  });

  it('[R12] review due: received Friday 02-05 + 7 working days → Saturday 02-20 (estimate said 02-16)', () => {
    expect(reviewDueBy('2027-02-05', DEFAULT_POLICY, entered)).toEqual({
      day: '2027-02-20',
      estimated: false,
    });
    // Without the entry, the Monday–Friday estimate counts straight through the holiday.
    expect(reviewDueBy('2027-02-05', DEFAULT_POLICY)).toEqual({ day: '2027-02-16', estimated: true });
  });

  it('[R12] objection window: decided Friday 02-05 + 2 working days → 02-15, not mid-holiday 02-09', () => {
    expect(objectionDeadline('2027-02-05', DEFAULT_POLICY, entered)).toEqual({
      day: '2027-02-15',
      estimated: false,
    });
    expect(objectionDeadline('2027-02-05', DEFAULT_POLICY).day).toBe('2027-02-09');
  });

  it('[R4] first contact Friday 02-05: registering Monday 02-15 is on time (the estimate flagged it late)', () => {
    expect(registrationDeadline('2027-02-05', DEFAULT_POLICY, entered).day).toBe('2027-02-16');
    expect(isLateRegistration('2027-02-05', '2027-02-15', DEFAULT_POLICY, entered)).toBe(false);
    expect(isLateRegistration('2027-02-05', '2027-02-17', DEFAULT_POLICY, entered)).toBe(true);
    expect(isLateRegistration('2027-02-05', '2027-02-15', DEFAULT_POLICY)).toBe(true);
  });

  it('[R12] an entered year takes precedence over the package, 调休 included', () => {
    // Someone corrects 2026: National Day moved a week (a made-up schedule, to prove precedence).
    const corrected = workCalendar([
      schedule(
        { holidays: [{ from: '2026-10-08', to: '2026-10-14', name: '国庆节' }], workdays: ['2026-10-17'] },
        2026,
      ),
    ]);
    expect(corrected.coverage(2026)).toBe('administrator');
    expect(corrected.isWorkday('2026-10-01')).toBe(true); // a package holiday, not in the entry
    expect(corrected.isWorkday('2026-10-10')).toBe(false); // a package make-up Saturday, not in the entry
    expect(corrected.isWorkday('2026-10-12')).toBe(false);
    expect(corrected.isWorkday('2026-10-17')).toBe(true);
    expect(corrected.coverage(2025)).toBe('package');
  });

  it('shows the package’s own schedule of a year in the same shape', () => {
    const y2026 = packageSchedule(2026)!;
    expect(y2026.holidays).toContainEqual({ from: '2026-10-01', to: '2026-10-07', name: '国庆节' });
    expect(y2026.holidays).toContainEqual({ from: '2026-02-15', to: '2026-02-23', name: '春节' });
    expect(y2026.workdays).toEqual([
      '2026-01-04',
      '2026-02-14',
      '2026-02-28',
      '2026-05-09',
      '2026-09-20',
      '2026-10-10',
    ]);
    expect(packageSchedule(2027)).toBeNull();
  });
});

describe('validating a schedule', () => {
  const problems = (body: ScheduleBody, year = 2027) => {
    const checked = validateSchedule(year, body);
    return checked.ok
      ? []
      : checked.problems.map((p) => ({ code: p.code, field: p.field, message: p.messageEn }));
  };

  it('accepts the synthetic year and sorts it', () => {
    const checked = validateSchedule(2027, {
      holidays: [...SYNTHETIC_2027.holidays].reverse(),
      workdays: [...SYNTHETIC_2027.workdays].reverse(),
    });
    expect(checked.ok && checked.schedule.holidays.map((h) => h.name)).toEqual(['元旦', '春节']);
    expect(checked.ok && checked.schedule.workdays).toEqual(['2027-02-06', '2027-02-20']);
  });

  it('names the date outside the year', () => {
    expect(
      problems({ holidays: [{ from: '2026-12-31', to: '2027-01-02', name: '元旦' }], workdays: [] }),
    ).toEqual([
      { code: 'calendar.date_outside_year', field: 'holidays.0.from', message: '2026-12-31 is not in 2027' },
    ]);
  });

  it('names a date that does not exist', () => {
    expect(
      problems({ holidays: [{ from: '2027-02-29', to: '2027-03-01', name: 'x' }], workdays: [] })[0],
    ).toMatchObject({ code: 'calendar.date_invalid', field: 'holidays.0.from' });
  });

  it('names a day that is both a holiday and a make-up workday', () => {
    expect(
      problems({
        holidays: [{ from: '2027-02-08', to: '2027-02-14', name: '春节' }],
        workdays: ['2027-02-13'],
      }),
    ).toEqual([
      {
        code: 'calendar.both',
        field: 'workdays.0',
        message: '2027-02-13 is both a holiday ("春节") and a make-up workday',
      },
    ]);
  });

  it('refuses a weekday as a make-up workday, naming it', () => {
    expect(problems({ holidays: SYNTHETIC_2027.holidays, workdays: ['2027-02-17'] })[0]).toMatchObject({
      code: 'calendar.workday_not_weekend',
      field: 'workdays.0',
      message: expect.stringContaining('2027-02-17'),
    });
  });

  it('refuses reversed and overlapping ranges and repeated workdays', () => {
    expect(
      problems({ holidays: [{ from: '2027-05-05', to: '2027-05-01', name: '劳动节' }], workdays: [] })[0]
        ?.code,
    ).toBe('calendar.range_reversed');
    expect(
      problems({
        holidays: [
          { from: '2027-05-01', to: '2027-05-05', name: '劳动节' },
          { from: '2027-05-04', to: '2027-05-06', name: '青年节' },
        ],
        workdays: [],
      })[0],
    ).toMatchObject({ code: 'calendar.range_overlap', message: expect.stringContaining('2027-05-04') });
    expect(
      problems({ holidays: SYNTHETIC_2027.holidays, workdays: ['2027-02-06', '2027-02-06'] })[0]?.code,
    ).toBe('calendar.duplicate');
  });
});

describe('a schedule typed day by day', () => {
  it('joins consecutive holidays of one name into ranges and keeps make-up days apart', () => {
    const days = [
      ...[
        '2027-02-08',
        '2027-02-09',
        '2027-02-10',
        '2027-02-11',
        '2027-02-12',
        '2027-02-13',
        '2027-02-14',
      ].map((date) => ({ date, kind: 'holiday' as const, name: '春节' })),
      { date: '2027-01-02', kind: 'holiday' as const, name: '元旦' },
      { date: '2027-01-01', kind: 'holiday' as const, name: '元旦' },
      { date: '2027-01-03', kind: 'holiday' as const, name: '元旦' },
      { date: '2027-02-20', kind: 'workday' as const, name: '春节调休' },
      { date: '2027-02-06', kind: 'workday' as const, name: '春节调休' },
    ];
    expect(scheduleFromDays(days)).toEqual(SYNTHETIC_2027);
  });

  it('reads 休/班 and their English words', () => {
    expect(['休', '放假', 'holiday'].map(dayKindOf)).toEqual(['holiday', 'holiday', 'holiday']);
    expect(['班', '上班', 'workday'].map(dayKindOf)).toEqual(['workday', 'workday', 'workday']);
    expect(dayKindOf('周末')).toBeNull();
  });
});

describe('deadlines remember when they were estimates', () => {
  it('[R12] setDeadline marks an estimate with the day it was counted from, and clears it when recounted officially', () => {
    const record: Parameters<typeof setDeadline>[0] = {};
    setDeadline(record, 'reviewDueBy', reviewDueBy('2027-02-05', DEFAULT_POLICY), '2027-02-05');
    expect(record).toEqual({ reviewDueBy: '2027-02-16', estimatedDeadlines: { reviewDueBy: '2027-02-05' } });
    expect(estimatedFields(record)).toEqual(['reviewDueBy']);
    setDeadline(record, 'reviewDueBy', reviewDueBy('2027-02-05', DEFAULT_POLICY, entered), '2027-02-05');
    expect(record).toEqual({ reviewDueBy: '2027-02-20' });
    expect(estimatedFields(record)).toEqual([]);
  });
});
