/**
 * Scheduled reminders (issue 10) as core computes them, across a Chinese holiday: a synthetic 2027
 * with a week-long 春节 (Mon 02-08 – Sun 02-14) and make-up Saturdays 02-06 and 02-20, entered as
 * an administrator would. A reminder whose day falls on a rest day goes out on the working day
 * before it; each carries a threshold key so the outbox claims it once.
 */
import { describe, expect, it } from 'vitest';
import { workCalendar } from '../../core/calendar.js';
import { validateSchedule } from '../../core/officialSchedule.js';
import { DEFAULT_REMINDER_SETTINGS } from '../../core/policy.js';
import { extensionLastDay } from '../../core/protection.js';
import {
  dueReminders,
  workdaysBefore,
  type ReminderPolicy,
  type ReminderRecord,
} from '../../core/reminders.js';
import { SYNTHETIC_2027 } from '../fixtures/calendar2027.js';

const checked = validateSchedule(2027, SYNTHETIC_2027);
if (!checked.ok) throw new Error(JSON.stringify(checked.problems));
const calendar = workCalendar([checked.schedule]);

const POLICY: ReminderPolicy = {
  reminders: DEFAULT_REMINDER_SETTINGS,
  extensionLeadDays: 20,
  followUp: null,
};

function rec(overrides: Partial<ReminderRecord>): ReminderRecord {
  return { no: 'BB-2027-000001', status: 'protected', objected: false, ...overrides };
}

function due(records: ReminderRecord[], today: string, policy: ReminderPolicy = POLICY) {
  return dueReminders(records, today, policy, calendar).map((r) => ({
    type: r.type,
    threshold: r.threshold,
    to: r.to,
  }));
}

describe('protection ending (R28: T−30, T−20 = the last day to ask for an extension, T−7, T−1)', () => {
  // Ends Sat 2027-03-06: T−30 = Thu 02-04; T−20 = Sun 02-14, inside 春节 → the make-up Sat 02-06.
  const ending = rec({ protectedUntil: '2027-03-06' });

  it('[R28] moves a threshold that falls in the holiday to the last working day before it', () => {
    expect(due([ending], '2027-02-03')).toEqual([]);
    expect(due([ending], '2027-02-04')).toEqual([
      { type: 'protection.ending', threshold: '2027-03-06:T-30', to: 'holder' },
    ]);
    // Fri 02-05 still T−30; the make-up Saturday 02-06 is the working day before T−20.
    expect(due([ending], '2027-02-05')[0]?.threshold).toBe('2027-03-06:T-30');
    expect(due([ending], '2027-02-06')[0]?.threshold).toBe('2027-03-06:T-20');
    // During the holiday the applicable threshold stays T−20 (same key: the outbox sends it once).
    expect(due([ending], '2027-02-10')[0]?.threshold).toBe('2027-03-06:T-20');
    expect(due([ending], '2027-02-27')[0]?.threshold).toBe('2027-03-06:T-7');
    expect(due([ending], '2027-03-05')[0]?.threshold).toBe('2027-03-06:T-1');
  });

  it('[R28] carries the last day to ask for an extension and the days left', () => {
    const [reminder] = dueReminders([ending], '2027-02-06', POLICY, calendar);
    expect(reminder?.details).toMatchObject({
      protectedUntil: '2027-03-06',
      extensionLastDay: extensionLastDay('2027-03-06', 20),
      daysLeft: 28,
      threshold: 20,
    });
  });

  it('follows the thresholds of the policy, and says nothing for records no longer protected', () => {
    const custom: ReminderPolicy = {
      ...POLICY,
      reminders: { ...DEFAULT_REMINDER_SETTINGS, protectionEndingDays: [10] },
    };
    expect(due([ending], '2027-02-06', custom)).toEqual([]);
    expect(due([ending], '2027-02-24', custom)[0]?.threshold).toBe('2027-03-06:T-10');
    for (const status of ['signed', 'expired', 'rejected', 'terminated', 'void'] as const)
      expect(due([{ ...ending, status }], '2027-02-06')).toEqual([]);
    expect(due([ending], '2027-03-07')).toEqual([]);
  });
});

describe('extension undecided (R28: reviewers, on the protection-ending thresholds after the request)', () => {
  // Ends Sat 2027-03-06: T−30 Thu 02-04; T−20 Sun 02-14 → the make-up Sat 02-06; T−7 Sat 02-27 →
  // Fri 02-26; T−1 Fri 03-05.
  const asked = rec({ status: 'extension-requested', protectedUntil: '2027-03-06' });
  const reviewers = (records: ReminderRecord[], today: string, policy: ReminderPolicy = POLICY) =>
    due(records, today, policy).filter((r) => r.type === 'extension.undecided');

  it('[R28] reminds the reviewers at each threshold while the request is undecided, holidays moved like the holder’s', () => {
    const early = { ...asked, extensionRequestedDay: '2027-01-31' };
    expect(reviewers([early], '2027-02-03')).toEqual([]);
    expect(reviewers([early], '2027-02-04')).toEqual([
      { type: 'extension.undecided', threshold: '2027-03-06:T-30', to: 'reviewers' },
    ]);
    expect(reviewers([early], '2027-02-06')[0]?.threshold).toBe('2027-03-06:T-20');
    expect(reviewers([early], '2027-02-10')[0]?.threshold).toBe('2027-03-06:T-20');
    expect(reviewers([early], '2027-02-26')[0]?.threshold).toBe('2027-03-06:T-7');
    expect(reviewers([early], '2027-03-05')[0]?.threshold).toBe('2027-03-06:T-1');
    // The last day of protection: still the T−1 reminder (same key: sent once); the day after, none.
    expect(reviewers([early], '2027-03-06')[0]?.threshold).toBe('2027-03-06:T-1');
    expect(reviewers([early], '2027-03-07')).toEqual([]);
    // The holder's own reminder is unchanged beside it.
    expect(due([early], '2027-02-04')).toContainEqual({
      type: 'protection.ending',
      threshold: '2027-03-06:T-30',
      to: 'holder',
    });
  });

  it('[R28] carries the last day of protection and the days left', () => {
    const [reminder] = dueReminders(
      [{ ...asked, extensionRequestedDay: '2027-02-05' }],
      '2027-02-26',
      POLICY,
      calendar,
    ).filter((r) => r.type === 'extension.undecided');
    expect(reminder?.details).toEqual({
      protectedUntil: '2027-03-06',
      daysLeft: 8,
      requestedOn: '2027-02-05',
      threshold: 7,
    });
  });

  it('[R28] a threshold on or before the day of the request does not fire late: the reviewers were just told', () => {
    // Asked after T−30 (02-04): nothing until T−20.
    const afterT30 = { ...asked, extensionRequestedDay: '2027-02-05' };
    expect(reviewers([afterT30], '2027-02-05')).toEqual([]);
    expect(reviewers([afterT30], '2027-02-06')[0]?.threshold).toBe('2027-03-06:T-20');
    // Asked on T−20's day itself (the last day to ask): next is T−7.
    const onT20 = { ...asked, extensionRequestedDay: '2027-02-06' };
    expect(reviewers([onT20], '2027-02-06')).toEqual([]);
    expect(reviewers([onT20], '2027-02-25')).toEqual([]);
    expect(reviewers([onT20], '2027-02-26')[0]?.threshold).toBe('2027-03-06:T-7');
  });

  it('[R28] says nothing once the request is decided, and follows the policy’s thresholds', () => {
    const decided = { ...asked, status: 'protected' as const, extensionRequestedDay: '2027-01-31' };
    expect(reviewers([decided], '2027-02-26')).toEqual([]);
    expect(reviewers([{ ...asked, extensionRequestedDay: undefined }], '2027-02-26')).toEqual([]);
    const custom: ReminderPolicy = {
      ...POLICY,
      reminders: { ...DEFAULT_REMINDER_SETTINGS, protectionEndingDays: [10] },
    };
    const early = { ...asked, extensionRequestedDay: '2027-01-31' };
    expect(reviewers([early], '2027-02-06', custom)).toEqual([]);
    expect(reviewers([early], '2027-02-23', custom)).toEqual([]);
    expect(reviewers([early], '2027-02-24', custom)[0]?.threshold).toBe('2027-03-06:T-10');
    expect(reviewers([early], '2027-03-05', custom)[0]?.threshold).toBe('2027-03-06:T-10');
  });
});

describe('review due and overdue (R12: 7 working days)', () => {
  const pending = rec({ status: 'pending', reviewDueBy: '2027-02-15' });

  it('[R12] counts the working day before the due date across 春节: the make-up Saturday, not the Friday off', () => {
    expect(workdaysBefore('2027-02-15', 1, calendar)).toBe('2027-02-06');
    expect(due([pending], '2027-02-05')).toEqual([]);
    expect(due([pending], '2027-02-06')).toEqual([
      { type: 'review.due', threshold: '2027-02-15:W-1', to: 'reviewers' },
    ]);
    expect(due([pending], '2027-02-15')[0]?.type).toBe('review.due');
  });

  it('[R12] is overdue the day after, for the reviewers, once per due date', () => {
    expect(due([pending], '2027-02-16')).toEqual([
      { type: 'review.overdue', threshold: '2027-02-15:overdue', to: 'reviewers' },
    ]);
    expect(due([pending], '2027-03-01')[0]?.threshold).toBe('2027-02-15:overdue');
    const off: ReminderPolicy = {
      ...POLICY,
      reminders: { ...DEFAULT_REMINDER_SETTINGS, reviewOverdue: false },
    };
    expect(due([pending], '2027-02-16', off)).toEqual([]);
  });
});

describe('objection window closing (R12: 2 working days)', () => {
  const lost = rec({ status: 'rejected', objectionDeadline: '2027-02-06' });

  it('[R12] reminds the loser on the last day only, and not once an objection is filed', () => {
    expect(due([lost], '2027-02-05')).toEqual([]);
    expect(due([lost], '2027-02-06')).toEqual([
      { type: 'objection.closing', threshold: '2027-02-06:last', to: 'holder' },
    ]);
    expect(due([{ ...lost, objected: true }], '2027-02-06')).toEqual([]);
    expect(due([lost], '2027-02-07')).toEqual([]);
  });
});

describe('follow-up due and overdue (R31: first within 3 days, then weekly)', () => {
  const followUp: ReminderPolicy = { ...POLICY, followUp: { firstWithinDays: 3, everyDays: 7 } };
  const approved = rec({ approvedDay: '2027-03-01' });

  it('[R31] the first follow-up is due 3 days after approval: D−1, D−0, then overdue', () => {
    expect(due([approved], '2027-03-02', followUp)).toEqual([]);
    expect(due([approved], '2027-03-03', followUp)).toEqual([
      { type: 'followUp.due', threshold: '2027-03-04:D-1', to: 'holder' },
    ]);
    expect(due([approved], '2027-03-04', followUp)[0]?.threshold).toBe('2027-03-04:D-0');
    expect(due([approved], '2027-03-05', followUp)[0]).toEqual({
      type: 'followUp.overdue',
      threshold: '2027-03-04:overdue',
      to: 'holder',
    });
  });

  it('[R31] a logged follow-up moves the next due day a week on; none without the follow-up rule', () => {
    const served = { ...approved, lastFollowUpDay: '2027-03-03' };
    expect(due([served], '2027-03-05', followUp)).toEqual([]);
    expect(due([served], '2027-03-09', followUp)[0]?.threshold).toBe('2027-03-10:D-1');
    expect(due([approved], '2027-03-05', POLICY)).toEqual([]);
  });

  it('[R42] the service cadence’s own due day replaces the R31 estimate when the caller has it', () => {
    const graded = { ...approved, serviceDue: '2027-02-20' };
    expect(due([graded], '2027-02-19', POLICY)[0]?.threshold).toBe('2027-02-20:D-1');
  });
});
