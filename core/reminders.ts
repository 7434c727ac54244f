/**
 * Which scheduled reminders are due today (issue 10), as plain data: protection ending (R25, R28),
 * an extension request still undecided as protection runs out (R28), the objection window closing
 * (R12), reviews due and overdue (R12), follow-ups due and overdue (R31). Pure: the day, the
 * policy's thresholds and the working-day calendar are passed in. Each reminder carries a
 * `threshold` so the service sends it once per (type, record, threshold).
 *
 * A threshold whose day was missed (the service was down) still fires later, until the next
 * threshold's day comes: people get the most urgent reminder that still applies, never a stale
 * one on top of it.
 */
import { extensionLastDay } from './protection.js';
import { addDays, daysBetween } from './day.js';
import type { WorkCalendar } from './calendar.js';
import type { ReminderSettings } from './policy.js';
import type { Day, RecordStatus } from './schema.js';

export type ReminderType =
  | 'protection.ending'
  | 'extension.undecided'
  | 'objection.closing'
  | 'review.due'
  | 'review.overdue'
  | 'followUp.due'
  | 'followUp.overdue';

/** What a record must offer for reminders: no personal data. */
export interface ReminderRecord {
  no: string;
  status: RecordStatus;
  protectedUntil?: Day | undefined;
  reviewDueBy?: Day | undefined;
  objectionDeadline?: Day | undefined;
  /** An objection was filed (no closing reminder then). */
  objected: boolean;
  /** Day of approval (R31 counts the first follow-up from it). */
  approvedDay?: Day | undefined;
  /** Day the pending extension request was made (R28); only read while `extension-requested`. */
  extensionRequestedDay?: Day | undefined;
  /** Day of the latest follow-up. */
  lastFollowUpDay?: Day | undefined;
  /**
   * The next visit's due day as core/serviceCadence computes it (issue 13: grade cadences R42,
   * R31, due days moved off rest days); when given it replaces the R31-only estimate below.
   */
  serviceDue?: Day | undefined;
}

export interface DueReminder {
  type: ReminderType;
  recordNo: string;
  /** Distinguishes the reminders of one record: `T-20`, `W-1`, `overdue`, `2026-10-09:D-1`… */
  threshold: string;
  /** Who is told: the holder or the team's reviewers. */
  to: 'holder' | 'reviewers';
  details: Record<string, string | number | boolean | null>;
}

export interface ReminderPolicy {
  reminders: ReminderSettings;
  extensionLeadDays: number;
  followUp: { firstWithinDays: number; everyDays: number } | null;
}

const ACTIVE: readonly RecordStatus[] = ['protected', 'extension-requested'];

/** The latest working day on or before `day` (a reminder due on a holiday goes out before it). */
export function workdayOnOrBefore(day: Day, calendar: WorkCalendar): Day {
  let d = day;
  // Chinese holidays last at most ~9 days; a bound keeps a broken calendar from looping.
  for (let i = 0; i < 31 && !calendar.isWorkday(d); i++) d = addDays(d, -1);
  return d;
}

/** The n-th working day before `day` (n = 0: the latest working day on or before it). */
export function workdaysBefore(day: Day, n: number, calendar: WorkCalendar): Day {
  let d = workdayOnOrBefore(day, calendar);
  for (let i = 0; i < n; i++) d = workdayOnOrBefore(addDays(d, -1), calendar);
  return d;
}

/**
 * Among thresholds with their send days, the one that applies today: the latest send day that is
 * ≤ today, provided today is before the next (more urgent) one's send day — which fires instead.
 */
function applicable<T>(today: Day, steps: { key: T; sendOn: Day }[]): T | undefined {
  let best: { key: T; sendOn: Day } | undefined;
  for (const step of steps) if (step.sendOn <= today && (!best || step.sendOn >= best.sendOn)) best = step;
  return best?.key;
}

export function dueReminders(
  records: Iterable<ReminderRecord>,
  today: Day,
  policy: ReminderPolicy,
  calendar: WorkCalendar,
): DueReminder[] {
  const out: DueReminder[] = [];
  const r = policy.reminders;
  const protectionDays = [...new Set(r.protectionEndingDays)].sort((a, b) => b - a);
  const reviewDays = [...new Set(r.reviewDueWorkdaysBefore)].sort((a, b) => b - a);
  const followDays = [...new Set(r.followUpDueDaysBefore)].sort((a, b) => b - a);
  for (const rec of records) {
    if (ACTIVE.includes(rec.status) && rec.protectedUntil !== undefined && rec.protectedUntil >= today) {
      const until = rec.protectedUntil;
      const n = applicable(
        today,
        protectionDays.map((d) => ({ key: d, sendOn: workdayOnOrBefore(addDays(until, -d), calendar) })),
      );
      if (n !== undefined)
        out.push({
          type: 'protection.ending',
          recordNo: rec.no,
          threshold: `${until}:T-${n}`,
          to: 'holder',
          details: {
            protectedUntil: until,
            daysLeft: daysBetween(today, until),
            extensionLastDay: extensionLastDay(until, policy.extensionLeadDays),
            threshold: n,
          },
        });
    }
    // R28: an extension request nobody decided by the last day of protection is lost with it (the
    // record expires and can no longer be reviewed), so the team's reviewers are reminded. They
    // are told on the days the holder hears that protection is ending (`protectionEndingDays`,
    // moved to the working day before like the holder's): one setting for both sides of the same
    // deadline, no new one. Only thresholds whose day comes after the request count: on the day
    // of the request the reviewers were just told (`extension.requested`), and an earlier, missed
    // threshold must not fire late as if the request had waited that long.
    if (
      rec.status === 'extension-requested' &&
      rec.protectedUntil !== undefined &&
      rec.protectedUntil >= today &&
      rec.extensionRequestedDay !== undefined
    ) {
      const until = rec.protectedUntil;
      const asked = rec.extensionRequestedDay;
      const n = applicable(
        today,
        protectionDays
          .map((d) => ({ key: d, sendOn: workdayOnOrBefore(addDays(until, -d), calendar) }))
          .filter((step) => step.sendOn > asked),
      );
      if (n !== undefined)
        out.push({
          type: 'extension.undecided',
          recordNo: rec.no,
          threshold: `${until}:T-${n}`,
          to: 'reviewers',
          details: {
            protectedUntil: until,
            daysLeft: daysBetween(today, until),
            requestedOn: asked,
            threshold: n,
          },
        });
    }
    if (
      r.objectionClosing &&
      rec.status === 'rejected' &&
      !rec.objected &&
      rec.objectionDeadline !== undefined &&
      rec.objectionDeadline === today
    ) {
      out.push({
        type: 'objection.closing',
        recordNo: rec.no,
        threshold: `${rec.objectionDeadline}:last`,
        to: 'holder',
        details: { objectionDeadline: rec.objectionDeadline },
      });
    }
    if ((rec.status === 'pending' || rec.status === 'conflict') && rec.reviewDueBy !== undefined) {
      const due = rec.reviewDueBy;
      if (r.reviewOverdue && today > due) {
        out.push({
          type: 'review.overdue',
          recordNo: rec.no,
          threshold: `${due}:overdue`,
          to: 'reviewers',
          details: { reviewDueBy: due },
        });
      } else {
        const n = applicable(
          today,
          reviewDays.map((d) => ({ key: d, sendOn: workdaysBefore(due, d, calendar) })),
        );
        if (n !== undefined && today <= due)
          out.push({
            type: 'review.due',
            recordNo: rec.no,
            threshold: `${due}:W-${n}`,
            to: 'reviewers',
            details: { reviewDueBy: due, workdaysBefore: n },
          });
      }
    }
    const rule = policy.followUp;
    // R31: the first follow-up within N days of approval, then at least every M days — or the
    // service's own due day (R42 grades, working days) when the caller computed it.
    const dueBy =
      rec.serviceDue ??
      (rule === null || rec.approvedDay === undefined
        ? undefined
        : rec.lastFollowUpDay !== undefined
          ? addDays(rec.lastFollowUpDay, rule.everyDays)
          : addDays(rec.approvedDay, rule.firstWithinDays));
    if (dueBy !== undefined && ACTIVE.includes(rec.status)) {
      if (r.followUpOverdue && today > dueBy) {
        out.push({
          type: 'followUp.overdue',
          recordNo: rec.no,
          threshold: `${dueBy}:overdue`,
          to: 'holder',
          details: { dueBy },
        });
      } else {
        const n = applicable(
          today,
          followDays.map((d) => ({ key: d, sendOn: addDays(dueBy, -d) })),
        );
        if (n !== undefined && today <= dueBy)
          out.push({
            type: 'followUp.due',
            recordNo: rec.no,
            threshold: `${dueBy}:D-${n}`,
            to: 'holder',
            details: { dueBy, daysBefore: n },
          });
      }
    }
  }
  return out;
}
