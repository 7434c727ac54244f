import { describe, expect, it } from 'vitest';
import { shanghaiInstant } from '../../core/day.js';
import { DEFAULT_POLICY, presetPolicy, resolvePolicy } from '../../core/policy.js';
import {
  banUntil,
  canRequestExtension,
  deadlineWording,
  extendedUntil,
  extensionLastDay,
  isLateRegistration,
  isProtectedOn,
  missedDeadline,
  objectionDeadline,
  protectionStart,
  protectionState,
  protectionWindow,
  registrationDeadline,
  reviewDueBy,
} from '../../core/protection.js';

const threeMonths = DEFAULT_POLICY.protection;

describe('protectionWindow', () => {
  it('[R25] approved 2026-01-15 → protected through 2026-04-14', () => {
    expect(protectionWindow('2026-01-15', threeMonths)).toEqual({ from: '2026-01-15', until: '2026-04-14' });
  });

  it('[R25] 2026-11-30 + 3 months → through 2027-02-27 (month end clamped, then the day before)', () => {
    expect(protectionWindow('2026-11-30', threeMonths).until).toBe('2027-02-27');
  });

  it('[R25] 2026-01-31 + 1 month → through 2026-02-27', () => {
    expect(protectionWindow('2026-01-31', { months: 1, days: 0 }).until).toBe('2026-02-27');
  });

  it('[R25] leap years: 2024-02-29 + 12 months → 2025-02-27; 2024-01-31 + 1 month → 2024-02-28', () => {
    expect(protectionWindow('2024-02-29', { months: 12, days: 0 }).until).toBe('2025-02-27');
    expect(protectionWindow('2024-01-31', { months: 1, days: 0 }).until).toBe('2024-02-28');
    expect(protectionWindow('2024-02-29', { months: 48, days: 0 }).until).toBe('2028-02-28');
  });

  it('[R25] extra days: "90 days" from 2026-01-01 → through 2026-03-31; 3 months + 10 days from 01-15 → 04-24', () => {
    expect(protectionWindow('2026-01-01', { months: 0, days: 90 }).until).toBe('2026-03-31');
    expect(protectionWindow('2026-01-15', { months: 3, days: 10 }).until).toBe('2026-04-24');
  });

  it('[R29] channel preset: 1 month from the first visit on 2026-03-05 → through 2026-04-04', () => {
    const channel = presetPolicy('channel');
    const start = protectionStart(
      { claimedAt: shanghaiInstant(2026, 3, 1, 10), firstVisitAt: shanghaiInstant(2026, 3, 5, 14) },
      channel,
    );
    expect(start).toEqual({ day: '2026-03-05', countedFrom: 'firstVisit' });
    expect(protectionWindow('2026-03-05', channel.protection)).toEqual({
      from: '2026-03-05',
      until: '2026-04-04',
    });
  });

  it('[R30] sales-office preset: 2 months from registration 2026-03-05 → through 2026-05-04', () => {
    const salesOffice = presetPolicy('sales-office');
    expect(protectionWindow('2026-03-05', salesOffice.protection).until).toBe('2026-05-04');
  });
});

describe('protectionStart', () => {
  const claimedAt = shanghaiInstant(2026, 3, 5, 1, 0); // 2026-03-04T17:00Z: already 03-05 in Shanghai
  const approvedAt = shanghaiInstant(2026, 3, 9, 16, 30);

  it('[R25] counts from the Shanghai day of approval; null while not approved', () => {
    expect(protectionStart({ claimedAt, approvedAt }, DEFAULT_POLICY)).toEqual({
      day: '2026-03-09',
      countedFrom: 'approval',
    });
    expect(protectionStart({ claimedAt }, DEFAULT_POLICY)).toBeNull();
  });

  it('[R30] counts from the Shanghai day of registration (01:00 on 03-05 is 03-04 in UTC)', () => {
    expect(protectionStart({ claimedAt }, presetPolicy('sales-office'))).toEqual({
      day: '2026-03-05',
      countedFrom: 'registration',
    });
  });

  it('[R29] first visit unknown → counts from approval and says so', () => {
    const start = protectionStart({ claimedAt, approvedAt }, presetPolicy('channel'));
    expect(start?.day).toBe('2026-03-09');
    expect(start?.countedFrom).toBe('approval');
    expect(start?.fallback?.code).toBe('protection.firstVisitUnknown');
    expect(start?.fallback?.message).toContain('2026-03-09');
    expect(protectionStart({ claimedAt }, presetPolicy('channel'))).toBeNull();
  });
});

describe('inclusive ends', () => {
  it('[R25] protected on until, not the day after', () => {
    expect(isProtectedOn('2026-04-14', '2026-04-14')).toBe(true);
    expect(isProtectedOn('2026-04-14', '2026-04-15')).toBe(false);
  });

  it('[R25] protectionState: not started, protected from the first through the last day, expired the day after', () => {
    const window = { from: '2026-01-15', until: '2026-04-14' };
    expect(protectionState(window, '2026-01-14')).toBe('not-started');
    expect(protectionState(window, '2026-01-15')).toBe('protected');
    expect(protectionState(window, '2026-04-14')).toBe('protected');
    expect(protectionState(window, '2026-04-15')).toBe('expired');
  });
});

describe('extensions and bans', () => {
  it('[R28] through 2026-04-14 with 20 days lead → last day to ask 2026-03-25', () => {
    expect(extensionLastDay('2026-04-14', 20)).toBe('2026-03-25');
    expect(canRequestExtension('2026-04-14', '2026-03-25', 20)).toBe(true);
    expect(canRequestExtension('2026-04-14', '2026-03-26', 20)).toBe(false);
  });

  it('[R28] an approved extension continues from the day after until', () => {
    expect(extendedUntil('2026-04-14', 3)).toBe('2026-07-14');
    expect(extendedUntil('2026-02-27', 1)).toBe('2026-03-27');
  });

  it('[R27] false info on 2026-03-10 → banned through 2026-06-09', () => {
    expect(banUntil('2026-03-10', 3)).toBe('2026-06-09');
    expect(banUntil('2026-11-30', DEFAULT_POLICY.falseInfoBan.months)).toBe('2027-02-27');
  });
});

describe('working-day deadlines', () => {
  it('[R12] review due: received Friday 2026-02-13 + 7 working days → 2026-03-02, after Spring Festival', () => {
    expect(reviewDueBy('2026-02-13', DEFAULT_POLICY)).toEqual({ day: '2026-03-02', estimated: false });
  });

  it('[R12] review due: received 2026-09-30 → 2026-10-15, after National Day', () => {
    expect(reviewDueBy('2026-09-30', DEFAULT_POLICY)).toEqual({ day: '2026-10-15', estimated: false });
  });

  it('[R12] review due in 2027 is marked estimated', () => {
    expect(reviewDueBy('2026-12-25', DEFAULT_POLICY)).toEqual({ day: '2027-01-05', estimated: true });
  });

  it('[R12] reviewWorkdays is a policy setting', () => {
    expect(reviewDueBy('2026-03-09', resolvePolicy({ reviewWorkdays: 3 })).day).toBe('2026-03-12');
  });

  it('[R12] objections within 2 working days of the decision: 2026-09-30 → 2026-10-09; 2026-09-29 → 2026-10-08', () => {
    expect(objectionDeadline('2026-09-30', DEFAULT_POLICY)).toEqual({ day: '2026-10-09', estimated: false });
    expect(objectionDeadline('2026-09-29', DEFAULT_POLICY).day).toBe('2026-10-08');
  });

  it('[R4] first contact 2026-04-30 + 3 working days across Labour Day → register by 2026-05-08', () => {
    expect(registrationDeadline('2026-04-30', DEFAULT_POLICY)).toEqual({
      day: '2026-05-08',
      estimated: false,
    });
  });

  it('[R4] registering after the deadline is late (flagged), on it is not', () => {
    expect(isLateRegistration('2026-04-30', '2026-05-08', DEFAULT_POLICY)).toBe(false);
    expect(isLateRegistration('2026-04-30', '2026-05-09', DEFAULT_POLICY)).toBe(true);
    expect(isLateRegistration('2026-04-30', '2026-04-30', DEFAULT_POLICY)).toBe(false);
  });

  it('[R4] a missed deadline names its day, and says when it is only the Monday–Friday estimate', () => {
    // National Day 2026: Wed 09-30 + 3 → Thu 10-08, Fri 10-09, Sat 10-10 (调休).
    expect(missedDeadline('2026-09-30', '2026-10-10', DEFAULT_POLICY)).toBeNull();
    const known = missedDeadline('2026-09-30', '2026-10-12', DEFAULT_POLICY);
    expect(known).toEqual({ day: '2026-10-10', estimated: false });
    expect(deadlineWording(known!)).toEqual({ zh: '最迟 2026-10-10', en: 'by 2026-10-10' });
    // 2027 has no schedule in the package: Fri 02-05 + 3 → Wed 02-10 by Monday–Friday.
    const guessed = missedDeadline('2027-02-05', '2027-02-11', DEFAULT_POLICY);
    expect(guessed).toEqual({ day: '2027-02-10', estimated: true });
    expect(deadlineWording(guessed!).zh).toContain('按周一至周五估算');
    expect(deadlineWording(guessed!).en).toContain('estimated Monday–Friday');
  });
});
