/**
 * Protection maths (保护期): when protection starts and ends, extensions, bans, and the working-day
 * deadlines around a registration. Every "until" and "last day" is inclusive.
 */
import { PACKAGE_CALENDAR, type EstimatedDay, type WorkCalendar } from './calendar.js';
import { addDays, addMonths, dayOf } from './day.js';
import type { Policy } from './policy.js';
import { problem, type Problem } from './problem.js';
import type { Day, Instant } from './schema.js';

/** The days a registration is protected, both ends inclusive. */
export interface ProtectionWindow {
  from: Day;
  until: Day;
}

/** What protection counts from (R25 approval, R29 first visit, R30 registration). */
export type ProtectionBasis = Policy['protection']['from'];

/** The facts about a record that decide where protection starts. */
export interface ProtectionStartFacts {
  /** The claim time (StoredRecord.claimedAt): the registration's 报备时间. */
  claimedAt: Instant;
  /** Unset while the record awaits review. */
  approvedAt?: Instant | undefined;
  /** 到访时间: the customer's first visit, when known. */
  firstVisitAt?: Instant | undefined;
}

export interface ProtectionStart {
  day: Day;
  /** What the start was actually counted from; differs from the policy after a fallback. */
  countedFrom: ProtectionBasis;
  /** Set when the policy's basis was unknown and another was used, worded for the record's warnings. */
  fallback?: Problem;
}

/** Whether protection has begun, holds, or has ended on a given day. */
export type ProtectionState = 'not-started' | 'protected' | 'expired';

/**
 * The protection window from `start`: `months` (clamped at month ends) plus `days`, the last day
 * inclusive — 3 months from 2026-01-15 is 2026-01-15 through 2026-04-14 (R25).
 */
export function protectionWindow(
  start: Day,
  setting: Pick<Policy['protection'], 'months' | 'days'>,
): ProtectionWindow {
  return { from: start, until: addDays(addMonths(start, setting.months), setting.days - 1) };
}

/**
 * The day protection counts from under the policy's `protection.from`; null while it cannot start
 * yet (approval-based and not approved). A first-visit policy without a known visit counts from
 * approval and says so in `fallback`, so a channel record is not left unprotected for want of a date.
 */
export function protectionStart(
  facts: ProtectionStartFacts,
  policy: { protection: Pick<Policy['protection'], 'from'> },
): ProtectionStart | null {
  const basis = policy.protection.from;
  if (basis === 'registration') return { day: dayOf(facts.claimedAt), countedFrom: 'registration' };
  if (basis === 'firstVisit' && facts.firstVisitAt !== undefined) {
    return { day: dayOf(facts.firstVisitAt), countedFrom: 'firstVisit' };
  }
  if (facts.approvedAt === undefined) return null;
  const day = dayOf(facts.approvedAt);
  if (basis === 'approval') return { day, countedFrom: 'approval' };
  return {
    day,
    countedFrom: 'approval',
    fallback: problem(
      'protection.firstVisitUnknown',
      `[R29] 到访时间未知，保护期暂从审核通过日 ${day} 起算`,
      `[R29] first visit unknown; protection counts from approval on ${day} for now`,
      'firstVisitAt',
    ),
  };
}

/**
 * The window an approval at `facts.approvedAt` grants: counted from the day `protectionStart` says,
 * for the policy's length (R25, R29, R30).
 */
export function grantedWindow(
  facts: ProtectionStartFacts & { approvedAt: Instant },
  policy: { protection: Policy['protection'] },
): ProtectionWindow {
  // With approvedAt known, every basis (and the first-visit fallback) has a start.
  const start = protectionStart(facts, policy) ?? { day: dayOf(facts.approvedAt) };
  return protectionWindow(start.day, policy.protection);
}

/** R28: the last day an extension may be asked for, `leadDays` before `until` (through 2026-04-14, 20 days → 2026-03-25). */
export function extensionLastDay(until: Day, leadDays: number): Day {
  return addDays(until, -leadDays);
}

/** R28: whether an extension may still be asked for on `today`. */
export function canRequestExtension(until: Day, today: Day, leadDays: number): boolean {
  return today <= extensionLastDay(until, leadDays);
}

/** The new last day after an approved extension of `months`, counted from the day after `until`. */
export function extendedUntil(until: Day, months: number): Day {
  return protectionWindow(addDays(until, 1), { months, days: 0 }).until;
}

/**
 * R27: false information found on `falseInfoDay` bars the registrant from that customer through the
 * returned day (3 months from 2026-03-10 → through 2026-06-09). With 0 months it is the day before,
 * i.e. no ban.
 */
export function banUntil(falseInfoDay: Day, months: number): Day {
  return addDays(addMonths(falseInfoDay, months), -1);
}

/*
 * Working-day deadlines count by a calendar: the service passes the one holding the schedules its
 * administrators entered; without one, the package's schedule (and Monday–Friday past it).
 */

/** R12: the review is due by received + `reviewWorkdays` working days (Chinese calendar, 调休 included). */
export function reviewDueBy(
  receivedDay: Day,
  policy: Pick<Policy, 'reviewWorkdays'>,
  calendar: WorkCalendar = PACKAGE_CALENDAR,
): EstimatedDay {
  return calendar.addWorkdays(receivedDay, policy.reviewWorkdays);
}

/** R12: competitors may object through decision + `objectionWorkdays` working days. */
export function objectionDeadline(
  decisionDay: Day,
  policy: Pick<Policy, 'objectionWorkdays'>,
  calendar: WorkCalendar = PACKAGE_CALENDAR,
): EstimatedDay {
  return calendar.addWorkdays(decisionDay, policy.objectionWorkdays);
}

/** R4: the last day to register after first contact: + `registrationDeadlineWorkdays` working days. */
export function registrationDeadline(
  firstContactDay: Day,
  policy: Pick<Policy, 'registrationDeadlineWorkdays'>,
  calendar: WorkCalendar = PACKAGE_CALENDAR,
): EstimatedDay {
  return calendar.addWorkdays(firstContactDay, policy.registrationDeadlineWorkdays);
}

/** R4: registered after the deadline — the record is flagged, never refused. */
export function isLateRegistration(
  firstContactDay: Day,
  registeredDay: Day,
  policy: Pick<Policy, 'registrationDeadlineWorkdays'>,
  calendar: WorkCalendar = PACKAGE_CALENDAR,
): boolean {
  return missedDeadline(firstContactDay, registeredDay, policy, calendar) !== null;
}

/**
 * R4: the deadline `recordedDay` missed — first contact (or a change) on `fromDay` plus the
 * policy's working days — or null when it is in time.
 */
export function missedDeadline(
  fromDay: Day,
  recordedDay: Day,
  policy: Pick<Policy, 'registrationDeadlineWorkdays'>,
  calendar: WorkCalendar = PACKAGE_CALENDAR,
): EstimatedDay | null {
  const deadline = registrationDeadline(fromDay, policy, calendar);
  return recordedDay > deadline.day ? deadline : null;
}

/**
 * A missed deadline as a late flag words it: the last day, and whether that day is only the
 * Monday–Friday estimate (a year without an official schedule), so nobody reads a guess as final.
 */
export function deadlineWording(deadline: EstimatedDay): { zh: string; en: string } {
  return deadline.estimated
    ? {
        zh: `最迟 ${deadline.day}，按周一至周五估算：该年的法定节假日与调休尚未录入，可能变动`,
        en: `by ${deadline.day}, estimated Monday–Friday: the year's official holidays are not entered yet and may move it`,
      }
    : { zh: `最迟 ${deadline.day}`, en: `by ${deadline.day}` };
}

/** Protected on `today` when `today` is on or before the inclusive `until`; expired the day after. */
export function isProtectedOn(until: Day, today: Day): boolean {
  return today <= until;
}

/** Where `today` falls against a protection window. */
export function protectionState(window: ProtectionWindow, today: Day): ProtectionState {
  if (today < window.from) return 'not-started';
  return isProtectedOn(window.until, today) ? 'protected' : 'expired';
}

/** The working-day deadlines a record carries. */
export type WorkdayDeadline = 'reviewDueBy' | 'objectionDeadline';

/**
 * Sets a working-day deadline on a record, remembering the day it was counted from when the answer
 * is an estimate (a year without an official schedule), and forgetting any earlier estimate of it.
 */
export function setDeadline(
  record: {
    reviewDueBy?: Day | undefined;
    objectionDeadline?: Day | undefined;
    estimatedDeadlines?: Partial<Record<WorkdayDeadline, Day>> | undefined;
  },
  field: WorkdayDeadline,
  computed: EstimatedDay,
  countedFrom: Day,
): void {
  record[field] = computed.day;
  const estimates = { ...record.estimatedDeadlines };
  if (computed.estimated) estimates[field] = countedFrom;
  else delete estimates[field];
  if (Object.keys(estimates).length > 0) record.estimatedDeadlines = estimates;
  else delete record.estimatedDeadlines;
}

/** Which of a record's present deadlines are estimates. */
export function estimatedFields(record: {
  reviewDueBy?: Day | undefined;
  objectionDeadline?: Day | undefined;
  estimatedDeadlines?: Partial<Record<WorkdayDeadline, Day>> | undefined;
}): WorkdayDeadline[] {
  const out: WorkdayDeadline[] = [];
  for (const field of ['reviewDueBy', 'objectionDeadline'] as const) {
    if (record[field] !== undefined && record.estimatedDeadlines?.[field] !== undefined) out.push(field);
  }
  return out;
}
