import { describe, expect, it } from 'vitest';
import { PACKAGE_CALENDAR, workCalendar } from '../../core/calendar.js';
import { shanghaiInstant } from '../../core/day.js';
import {
  DEFAULT_POLICY,
  presetPolicy,
  resolvePolicy,
  serviceRulesChangedOn,
  serviceRulesSince,
  type Policy,
} from '../../core/policy.js';
import type { Grade } from '../../core/schema.js';
import {
  lapseDecision,
  lapseDeadline,
  lastServiceDay,
  nextServiceDue,
  noServiceDeadline,
  serviceReminders,
  serviceClockStart,
  serviceSchedule,
  type ServiceFacts,
} from '../../core/serviceCadence.js';

const cal = PACKAGE_CALENDAR;
/** R31 alone, no grades, no rolling to working days: the rule as the seed states it. */
const R31: Policy = resolvePolicy({ followUp: { firstWithinDays: 3, everyDays: 7 } });
/** R42 alone: cadences by grade, nothing lapses for a missed visit. */
const GRADES: Policy = resolvePolicy({ gradeCadenceDays: { A: 7, B: 14, C: 30 } });
const FOLLOW_UP = presetPolicy('follow-up');

/** A record approved on `approved` (10:00 Shanghai), with follow-ups on these days (15:00). */
function facts(
  approved: string,
  followUps: string[] = [],
  grade?: Grade,
  extra: Partial<ServiceFacts> = {},
): ServiceFacts {
  const at = (day: string, hour: number) => {
    const [y, m, d] = day.split('-').map(Number) as [number, number, number];
    return shanghaiInstant(y, m, d, hour);
  };
  return {
    status: 'protected',
    receivedAt: at(approved, 9),
    approvedAt: at(approved, 10),
    protectedUntil: '2027-12-31',
    registration: grade !== undefined ? { grade } : {},
    followUps: followUps.map((d) => ({ at: at(d, 15) })),
    ...extra,
  };
}

describe('next service due (R31, R42)', () => {
  it('[R31] approved Monday 2026-03-02, nothing recorded → first follow-up due 2026-03-05', () => {
    expect(nextServiceDue(facts('2026-03-02'), R31, cal)).toEqual({ due: '2026-03-05', rule: 'R31' });
  });

  it('[R31] then weekly: a follow-up on 2026-03-04 → next due 2026-03-11', () => {
    expect(nextServiceDue(facts('2026-03-02', ['2026-03-04']), R31, cal)).toEqual({
      due: '2026-03-11',
      rule: 'R31',
    });
  });

  it('[R31] a follow-up logged before approval (while pending) does not count as the first one', () => {
    expect(nextServiceDue(facts('2026-03-02', ['2026-02-27']), R31, cal)?.due).toBe('2026-03-05');
  });

  it('[R31] a follow-up late in the Shanghai day counts for that day, not the UTC one', () => {
    const f = facts('2026-03-02');
    // 2026-03-04 23:30 in Shanghai is 15:30 UTC the same day; 2026-03-05 00:30 Shanghai is still 03-04 UTC.
    f.followUps = [{ at: '2026-03-04T16:30:00.000Z' }];
    expect(nextServiceDue(f, R31, cal)?.due).toBe('2026-03-12');
  });

  it('[R42] grades set the cadence: A 7, B 14, C 30 days after the start; an ungraded record has none', () => {
    expect(nextServiceDue(facts('2026-03-02', [], 'A'), GRADES, cal)).toEqual({
      due: '2026-03-09',
      rule: 'R42',
    });
    expect(nextServiceDue(facts('2026-03-02', [], 'B'), GRADES, cal)?.due).toBe('2026-03-16');
    expect(nextServiceDue(facts('2026-03-02', [], 'C'), GRADES, cal)?.due).toBe('2026-04-01');
    expect(nextServiceDue(facts('2026-03-02'), GRADES, cal)).toBeNull();
  });

  it('[R42] a visit resets the clock: grade B visited 2026-03-10 → due 2026-03-24', () => {
    expect(nextServiceDue(facts('2026-03-02', ['2026-03-05', '2026-03-10'], 'B'), GRADES, cal)?.due).toBe(
      '2026-03-24',
    );
  });

  it('[R42][R31] follow-up preset: first within 3 days whatever the grade, then the grade cadence', () => {
    const policy: Policy = { ...FOLLOW_UP, serviceDueOnWorkdays: false };
    expect(nextServiceDue(facts('2026-03-02', [], 'C'), policy, cal)).toEqual({
      due: '2026-03-05',
      rule: 'R31',
    });
    expect(nextServiceDue(facts('2026-03-02', ['2026-03-04'], 'C'), policy, cal)).toEqual({
      due: '2026-04-03',
      rule: 'R42',
    });
    // Ungraded: R31's weekly rule applies.
    expect(nextServiceDue(facts('2026-03-02', ['2026-03-04']), policy, cal)).toEqual({
      due: '2026-03-11',
      rule: 'R31',
    });
  });

  it('[R42][R31] a grade cadence shorter than R31’s first period applies from the start', () => {
    const policy = resolvePolicy({
      followUp: { firstWithinDays: 3, everyDays: 7 },
      gradeCadenceDays: { A: 1, B: 14, C: 30 },
    });
    expect(nextServiceDue(facts('2026-03-02', [], 'A'), policy, cal)).toEqual({
      due: '2026-03-03',
      rule: 'R42',
    });
  });

  it('[R42] cadences are off by default (standard preset): nothing is due', () => {
    expect(nextServiceDue(facts('2026-03-02', [], 'A'), DEFAULT_POLICY, cal)).toBeNull();
  });

  it('a record never approved has no service clock', () => {
    expect(nextServiceDue({ ...facts('2026-03-02'), approvedAt: undefined }, R31, cal)).toBeNull();
  });
});

describe('working days (Chinese calendar) for due days', () => {
  const onWorkdays: Policy = { ...R31, serviceDueOnWorkdays: true };

  it('[R31] first follow-up due on National Day (2026-10-01) moves to the first working day, 2026-10-08', () => {
    expect(nextServiceDue(facts('2026-09-28'), onWorkdays, cal)).toEqual({
      due: '2026-10-08',
      rule: 'R31',
      movedFrom: '2026-10-01',
    });
    // Without the setting the seed's 3 calendar days stand.
    expect(nextServiceDue(facts('2026-09-28'), R31, cal)?.due).toBe('2026-10-01');
  });

  it('[R42] a due day on a 调休 Saturday (2026-10-10, a working day) stays', () => {
    const policy: Policy = { ...GRADES, serviceDueOnWorkdays: true };
    expect(nextServiceDue(facts('2026-09-28', ['2026-10-03'], 'A'), policy, cal)).toEqual({
      due: '2026-10-10',
      rule: 'R42',
    });
  });

  it('[R31] Spring Festival 2026: due 2026-02-16 moves past the holiday to 2026-02-24; a plain Sunday to Monday', () => {
    expect(nextServiceDue(facts('2026-02-13'), onWorkdays, cal)?.due).toBe('2026-02-24');
    expect(nextServiceDue(facts('2026-03-05'), onWorkdays, cal)?.due).toBe('2026-03-09');
  });

  it('[R31] the calendar in force is used: an administrator’s schedule declaring 2026-03-05 a holiday moves it', () => {
    const entered = workCalendar([
      { year: 2026, holidays: [{ from: '2026-03-05', to: '2026-03-05', name: '公司假日' }], workdays: [] },
    ] as never);
    expect(nextServiceDue(facts('2026-03-02'), onWorkdays, entered)?.due).toBe('2026-03-06');
  });
});

describe('lapse decision (R31, R32)', () => {
  it('[R31] nothing by the due day: in time on 2026-03-05, lapsed on 2026-03-06', () => {
    expect(lapseDecision(facts('2026-03-02'), R31, cal, '2026-03-05')).toBeNull();
    expect(lapseDecision(facts('2026-03-02'), R31, cal, '2026-03-06')).toEqual({
      deadline: '2026-03-05',
      rule: 'R31',
    });
  });

  it('[R31] a follow-up on the due day itself keeps the record', () => {
    expect(lapseDecision(facts('2026-03-02', ['2026-03-05']), R31, cal, '2026-03-06')).toBeNull();
  });

  it('[R42] without R31 a missed grade cadence is overdue but never lapses', () => {
    expect(lapseDecision(facts('2026-03-02', [], 'A'), GRADES, cal, '2026-06-01')).toBeNull();
  });

  it('[R32] no service for 3 months: from 2026-11-30 the deadline is 2027-02-28 (month end), lapsed 2027-03-01', () => {
    const policy = resolvePolicy({ reassignAfterNoServiceMonths: 3 });
    const f = facts('2026-11-02', ['2026-11-30']);
    expect(noServiceDeadline(f, policy)).toBe('2027-02-28');
    expect(lapseDecision(f, policy, cal, '2027-02-28')).toBeNull();
    expect(lapseDecision(f, policy, cal, '2027-03-01')).toEqual({ deadline: '2027-02-28', rule: 'R32' });
  });

  it('[R32] counted from the start of protection when nothing was recorded; 2026-08-31 + 6 months → 2027-02-28', () => {
    const policy = resolvePolicy({ reassignAfterNoServiceMonths: 6 });
    expect(noServiceDeadline(facts('2026-08-31'), policy)).toBe('2027-02-28');
    expect(lastServiceDay(facts('2026-08-31'))).toBe('2026-08-31');
  });

  it('[R31][R32] both on: whichever deadline comes first decides the rule', () => {
    const policy = resolvePolicy({
      followUp: { firstWithinDays: 3, everyDays: 7 },
      reassignAfterNoServiceMonths: 1,
    });
    expect(lapseDeadline(facts('2026-03-02'), policy, cal, '2026-03-03')).toEqual({
      deadline: '2026-03-05',
      rule: 'R31',
    });
    const monthly = resolvePolicy({
      followUp: { firstWithinDays: 3, everyDays: 60 },
      reassignAfterNoServiceMonths: 1,
    });
    expect(lapseDeadline(facts('2026-03-02', ['2026-03-03']), monthly, cal, '2026-03-10')).toEqual({
      deadline: '2026-04-03',
      rule: 'R32',
    });
  });

  it('[R31] only protected records lapse: pending, or protection already ended, never', () => {
    expect(
      lapseDecision(facts('2026-03-02', [], undefined, { status: 'pending' }), R31, cal, '2026-04-01'),
    ).toBeNull();
    expect(
      lapseDecision(
        facts('2026-03-02', [], undefined, { protectedUntil: '2026-03-20' }),
        R31,
        cal,
        '2026-03-21',
      ),
    ).toBeNull();
    expect(
      lapseDecision(
        facts('2026-03-02', [], undefined, { status: 'extension-requested' }),
        R31,
        cal,
        '2026-03-06',
      )?.rule,
    ).toBe('R31');
  });

  it('[R32] the follow-up preset turns R31 and R32 on (3 months)', () => {
    expect(FOLLOW_UP.reassignAfterNoServiceMonths).toBe(3);
    expect(FOLLOW_UP.followUp).toEqual({ firstWithinDays: 3, everyDays: 7 });
    expect(FOLLOW_UP.gradeCadenceDays).toEqual({ A: 7, B: 14, C: 30 });
    expect(DEFAULT_POLICY.gradeCadenceDays).toBeNull();
    expect(DEFAULT_POLICY.reassignAfterNoServiceMonths).toBeNull();
    expect(DEFAULT_POLICY.poolCooldownDays).toBe(30);
    expect(DEFAULT_POLICY.maxActivePerRegistrant).toBeNull();
  });
});

describe('reminders', () => {
  it('[R31][R44] T−3 before the lapse: about to lapse from 2026-03-03 (lapses 2026-03-06), due on 03-04 and 03-05', () => {
    const f = facts('2026-03-02');
    expect(serviceReminders(f, R31, cal, '2026-03-02')).toEqual([]);
    expect(serviceReminders(f, R31, cal, '2026-03-03')).toEqual([
      { type: 'pool.lapsing', lapsesOn: '2026-03-06', rule: 'R31' },
    ]);
    expect(serviceReminders(f, R31, cal, '2026-03-04')).toEqual([
      { type: 'pool.lapsing', lapsesOn: '2026-03-06', rule: 'R31' },
      { type: 'followUp.due', dueBy: '2026-03-05', rule: 'R31' },
    ]);
  });

  it('[R42] overdue when a grade’s day passed without a visit (no lapse without R31/R32)', () => {
    expect(serviceReminders(facts('2026-03-02', [], 'A'), GRADES, cal, '2026-03-10')).toEqual([
      { type: 'followUp.overdue', dueBy: '2026-03-09', rule: 'R42' },
    ]);
  });

  it('[R42][R32] overdue says when the record will lapse', () => {
    const policy = resolvePolicy({
      gradeCadenceDays: { A: 7, B: 14, C: 30 },
      reassignAfterNoServiceMonths: 3,
    });
    expect(serviceReminders(facts('2026-03-02', [], 'A'), policy, cal, '2026-03-10')).toEqual([
      { type: 'followUp.overdue', dueBy: '2026-03-09', rule: 'R42', lapsesOn: '2026-06-03' },
    ]);
  });
});

describe('service schedule (compliance)', () => {
  it('[R42] grade A from 2026-03-02 with visits 03-05 and 03-20: met, missed, missed, met, missed', () => {
    const schedule = serviceSchedule(
      facts('2026-03-02', ['2026-03-05', '2026-03-20'], 'A'),
      GRADES,
      cal,
      '2026-03-31',
      '2026-03-31',
    );
    expect(schedule).toEqual([
      { due: '2026-03-09', rule: 'R42', metOn: '2026-03-05', missed: false },
      { due: '2026-03-12', rule: 'R42', missed: true },
      { due: '2026-03-19', rule: 'R42', missed: true },
      { due: '2026-03-26', rule: 'R42', metOn: '2026-03-20', missed: false },
      { due: '2026-03-27', rule: 'R42', missed: true },
    ]);
  });

  it('[R31] a missed follow-up ends the schedule (the record lapsed)', () => {
    const schedule = serviceSchedule(
      facts('2026-03-02', ['2026-03-04']),
      R31,
      cal,
      '2026-04-30',
      '2026-04-30',
    );
    expect(schedule).toEqual([
      { due: '2026-03-05', rule: 'R31', metOn: '2026-03-04', missed: false },
      { due: '2026-03-11', rule: 'R31', missed: true },
    ]);
  });

  it('[R31] a due day not yet reached and not met is left out', () => {
    expect(serviceSchedule(facts('2026-03-02'), R31, cal, '2026-03-31', '2026-03-04')).toEqual([]);
  });
});

describe('a rule counts from the day it applied: switched on, or the record migrated', () => {
  /** R31 switched on Wed 2026-04-01 (PUT /api/policy). */
  const R31_FROM_APRIL: Policy = { ...R31, serviceRulesSince: { followUp: '2026-04-01' } };

  it('[R31] switched on 04-01 for a record approved 03-02 without a visit: first due 04-04, nothing lapses before 04-05', () => {
    const f = facts('2026-03-02');
    expect(serviceClockStart(f, R31_FROM_APRIL, 'followUp')).toBe('2026-04-01');
    expect(nextServiceDue(f, R31_FROM_APRIL, cal)).toEqual({ due: '2026-04-04', rule: 'R31' });
    expect(lapseDecision(f, R31_FROM_APRIL, cal, '2026-04-01')).toBeNull();
    expect(lapseDecision(f, R31_FROM_APRIL, cal, '2026-04-04')).toBeNull();
    expect(lapseDecision(f, R31_FROM_APRIL, cal, '2026-04-05')).toEqual({
      deadline: '2026-04-04',
      rule: 'R31',
    });
    // No overdue reminder for a visit due before the rule existed.
    expect(serviceReminders(f, R31_FROM_APRIL, cal, '2026-04-01')).toEqual([]);
    // The compliance report counts no due day before the rule either.
    expect(serviceSchedule(f, R31_FROM_APRIL, cal, '2026-04-30', '2026-04-30')).toEqual([
      { due: '2026-04-04', rule: 'R31', missed: true },
    ]);
  });

  it('[R31] a visit before the rule was switched on is not its first follow-up', () => {
    const f = facts('2026-03-02', ['2026-03-31']);
    expect(nextServiceDue(f, R31_FROM_APRIL, cal)).toEqual({ due: '2026-04-04', rule: 'R31' });
    expect(lastServiceDay(f)).toBe('2026-03-31');
  });

  it('[R31] a policy stored before the days were kept applies its rules since ever (an upgrade changes nothing)', () => {
    expect(R31.serviceRulesSince).toBeUndefined();
    expect(lapseDecision(facts('2026-03-02'), R31, cal, '2026-04-01')).toEqual({
      deadline: '2026-03-05',
      rule: 'R31',
    });
  });

  it('[R32] each rule keeps its own day: switching R31 on does not move R32; switching R32 on does', () => {
    const f = facts('2026-01-05', ['2026-01-20']);
    const both: Policy = {
      ...R31_FROM_APRIL,
      reassignAfterNoServiceMonths: 3,
    };
    expect(noServiceDeadline(f, both)).toBe('2026-04-20');
    expect(
      noServiceDeadline(f, { ...both, serviceRulesSince: { reassignAfterNoServiceMonths: '2026-04-01' } }),
    ).toBe('2026-07-01');
  });

  it('[R42] a grade cadence switched on later never counts from before its day', () => {
    const policy = resolvePolicy({
      followUp: { firstWithinDays: 3, everyDays: 7 },
      gradeCadenceDays: { A: 3, B: 14, C: 30 },
    });
    const f = facts('2026-03-02', ['2026-03-30'], 'A');
    expect(nextServiceDue(f, policy, cal)).toEqual({ due: '2026-04-02', rule: 'R42' });
    const later: Policy = { ...policy, serviceRulesSince: { gradeCadenceDays: '2026-04-01' } };
    expect(nextServiceDue(f, later, cal)).toEqual({ due: '2026-04-04', rule: 'R42' });
    expect(lapseDecision(f, later, cal, '2026-04-03')).toBeNull();
  });

  it('[R31][R32] a record migrated on 03-10 with its old approval date 2026-01-05 counts from 03-10', () => {
    const f = facts('2026-01-05', [], undefined, { receivedAt: shanghaiInstant(2026, 3, 10, 11) });
    expect(nextServiceDue(f, FOLLOW_UP, cal)).toEqual({ due: '2026-03-13', rule: 'R31' });
    expect(noServiceDeadline(f, FOLLOW_UP)).toBe('2026-06-10');
    expect(lapseDecision(f, FOLLOW_UP, cal, '2026-03-10')).toBeNull();
    // The last service shown stays the fact: the old approval.
    expect(lastServiceDay(f)).toBe('2026-01-05');
  });
});

describe('serviceRulesSince: the days PUT /api/policy keeps', () => {
  const off = DEFAULT_POLICY;
  const on = presetPolicy('follow-up');

  it('a rule switched on is dated today; the others off have no day', () => {
    expect(
      serviceRulesSince(off, { ...off, followUp: { firstWithinDays: 3, everyDays: 7 } }, '2026-04-01'),
    ).toEqual({ followUp: '2026-04-01' });
    expect(serviceRulesSince(off, on, '2026-04-01')).toEqual({
      followUp: '2026-04-01',
      reassignAfterNoServiceMonths: '2026-04-01',
      gradeCadenceDays: '2026-04-01',
    });
  });

  it('a rule that stays on keeps its day when its interval or another setting changes; none stays since ever', () => {
    const dated: Policy = {
      ...on,
      serviceRulesSince: { followUp: '2026-04-01', gradeCadenceDays: '2026-04-02' },
    };
    const changed: Policy = { ...on, followUp: { firstWithinDays: 5, everyDays: 14 }, poolCooldownDays: 10 };
    expect(serviceRulesSince(dated, changed, '2026-05-01')).toEqual({
      followUp: '2026-04-01',
      gradeCadenceDays: '2026-04-02',
    });
  });

  it('a rule switched off loses its day; switched on again it is dated anew', () => {
    const dated: Policy = { ...on, serviceRulesSince: { followUp: '2026-04-01' } };
    const withoutR31: Policy = { ...on, followUp: null, serviceRulesSince: {} };
    expect(serviceRulesSince(dated, withoutR31, '2026-05-01')).toEqual({});
    expect(serviceRulesSince(withoutR31, on, '2026-06-01')).toEqual({ followUp: '2026-06-01' });
  });
});

describe('a rule changed after the last visit never puts a deadline before its day (R31, R32, R42)', () => {
  /** R31 every 5 days from now on, changed on `day`. */
  const tighter = (day: string, extra: Partial<Policy> = {}): Policy => ({
    ...resolvePolicy({ followUp: { firstWithinDays: 3, everyDays: 5 } }),
    serviceRulesChangedOn: { followUp: day },
    ...extra,
  });

  it('[R31] a deadline the new interval puts before the change day: the first period from it instead', () => {
    // Visit Tue 03-03; every 5 days → Sun 03-08, behind a change on Tue 03-10.
    const record = facts('2026-03-02', ['2026-03-03']);
    expect(nextServiceDue(record, tighter('2026-03-10'), cal)).toEqual({ due: '2026-03-13', rule: 'R31' });
    expect(lapseDecision(record, tighter('2026-03-10'), cal, '2026-03-10')).toBeNull();
    expect(lapseDecision(record, tighter('2026-03-10'), cal, '2026-03-14')).toEqual({
      deadline: '2026-03-13',
      rule: 'R31',
    });
    // Without the change's day (a policy stored before it existed) the old behaviour stays.
    expect(
      lapseDecision(record, { ...tighter('2026-03-10'), serviceRulesChangedOn: {} }, cal, '2026-03-10'),
    ).toEqual({ deadline: '2026-03-08', rule: 'R31' });
  });

  it('[R31] a deadline on or after the change day stands, and a visit after the change counts as usual', () => {
    expect(nextServiceDue(facts('2026-03-02', ['2026-03-06']), tighter('2026-03-10'), cal)?.due).toBe(
      '2026-03-11',
    );
    // On the change day itself: the holder still has that day.
    expect(nextServiceDue(facts('2026-03-02', ['2026-03-05']), tighter('2026-03-10'), cal)?.due).toBe(
      '2026-03-10',
    );
    expect(
      nextServiceDue(facts('2026-03-02', ['2026-03-03', '2026-03-10']), tighter('2026-03-10'), cal)?.due,
    ).toBe('2026-03-15');
  });

  it('[R31] the calendar entry counts only when due days move to working days', () => {
    // A due day on Sat 03-14 under a calendar that makes it a workday, entered Mon 03-16.
    const saturdayWorks = workCalendar(
      [{ year: 2026, holidays: [], workdays: ['2026-03-14'] }],
      '2026-03-16',
    );
    const record = facts('2026-03-02', ['2026-03-07']);
    const onWorkdays = { ...R31, serviceDueOnWorkdays: true };
    expect(nextServiceDue(record, onWorkdays, saturdayWorks)?.due).toBe('2026-03-19');
    // Without serviceDueOnWorkdays the calendar moves nothing, so its day is no change of rules.
    expect(nextServiceDue(record, R31, saturdayWorks)?.due).toBe('2026-03-14');
  });

  it('[R42] a stricter grade cadence is floored the same way (its first period from the change day)', () => {
    const policy: Policy = { ...GRADES, serviceRulesChangedOn: { gradeCadenceDays: '2026-03-20' } };
    // Graded A (7 days), visited 03-03 → 03-10, behind a change on 03-20 → 03-27.
    expect(nextServiceDue(facts('2026-03-02', ['2026-03-03'], 'A'), policy, cal)).toEqual({
      due: '2026-03-27',
      rule: 'R42',
    });
  });

  it('[R32] fewer months that put the deadline before the change day count from it', () => {
    const policy: Policy = {
      ...resolvePolicy({ reassignAfterNoServiceMonths: 2 }),
      serviceRulesChangedOn: { reassignAfterNoServiceMonths: '2026-05-10' },
    };
    expect(noServiceDeadline(facts('2026-03-02'), policy)).toBe('2026-07-10');
    // Served 04-01: 06-01 is after the change day and stands.
    expect(noServiceDeadline(facts('2026-03-02', ['2026-04-01']), policy)).toBe('2026-06-01');
    // Another setting's change day does not move R32.
    const other: Policy = { ...policy, serviceRulesChangedOn: { followUp: '2026-05-10' } };
    expect(noServiceDeadline(facts('2026-03-02'), other)).toBe('2026-05-02');
  });

  it('dates only the settings whose value changed (serviceRulesChangedOn)', () => {
    const before: Policy = { ...FOLLOW_UP, serviceRulesChangedOn: { followUp: '2026-01-05' } };
    const after = resolvePolicy({ preset: 'follow-up', reassignAfterNoServiceMonths: 2 });
    expect(serviceRulesChangedOn(before, after, '2026-03-10')).toEqual({
      followUp: '2026-01-05',
      reassignAfterNoServiceMonths: '2026-03-10',
    });
    expect(serviceRulesChangedOn(before, FOLLOW_UP, '2026-03-10')).toEqual({ followUp: '2026-01-05' });
  });
});
