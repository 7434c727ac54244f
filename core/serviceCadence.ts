/**
 * Serving a protected customer (R31, R32, R42, R43): when the next visit or call is due, when a
 * record lapses for want of one, which reminder is due today, and the schedule of dues a period
 * had (met or missed) for the compliance report. Pure: the record's facts, the policy, today and
 * the working-day calendar go in.
 *
 * How the rules combine ("whichever applies"):
 * - A rule's service clock starts on the approval day (the day protection was granted), but never
 *   before the record entered this service (`receivedAt`: a record migrated with an old approval
 *   date starts on the day it was migrated) nor before the rule was switched on (the policy's
 *   `serviceRulesSince`): no one can have broken a rule before it applied to them, so switching a
 *   rule on gives every record its full first period from that day (`serviceClockStart`).
 * - R31 (policy `followUp`): the first follow-up is due `firstWithinDays` after the start; after
 *   that, every `everyDays` — unless the record is graded and cadences are on (R42), when the
 *   grade's cadence applies instead. Missing an R31 due day voids the record (it lapses).
 * - R42 alone (`gradeCadenceDays`, no R31): a graded record is due its grade's cadence after the
 *   last service; a missed day is overdue (reminded, reported) but voids nothing.
 * - R32 (`reassignAfterNoServiceMonths`): no service for N calendar months since the last one (or
 *   the start) voids the record; months end-clamp (30 Nov + 3 months = 28 Feb).
 * - With `serviceDueOnWorkdays`, a due day on a rest day moves to the next working day of the
 *   calendar in force (holidays 放假 and make-up workdays 调休 included).
 * - A deadline never falls before the day its rules last changed (policy `serviceRulesChangedOn`,
 *   the calendar's `changedOn` when due days move to working days): a shorter interval, fewer
 *   months or a new make-up workday that would put it there gives the record instead the full first
 *   period a rule switched on that day gives (`nextServiceDue`, `noServiceDeadline`), so nobody is
 *   voided for a visit the new rule asked for before it applied. A deadline the new rules put on or
 *   after the change day stands: loosening a rule, or tightening it for a recent visit, applies.
 * A record lapses the day after its deadline; a follow-up on the deadline day itself is in time.
 */
import type { WorkCalendar } from './calendar.js';
import { addDays, addMonths, dayOf } from './day.js';
import { effectiveStatus } from './lifecycle.js';
import type { DatedServiceRule, Policy } from './policy.js';
import { problem, type Problem } from './problem.js';
import { PROTECTING_STATUSES, type Day, type Grade, type Instant, type RecordStatus } from './schema.js';

/** What the cadence reads of a record (a StoredRecord has it all). */
export interface ServiceFacts {
  status: RecordStatus;
  approvedAt?: Instant | undefined;
  /** When the record entered this service (for a migrated record: the day it was migrated). */
  receivedAt: Instant;
  protectedUntil?: Day | undefined;
  registration: { grade?: Grade | undefined };
  followUps: readonly { at: Instant }[];
}

export type ServicePolicy = Pick<
  Policy,
  | 'followUp'
  | 'gradeCadenceDays'
  | 'reassignAfterNoServiceMonths'
  | 'serviceDueOnWorkdays'
  | 'serviceRulesSince'
  | 'serviceRulesChangedOn'
>;

/** Which rule set a due day. */
export type DueRule = 'R31' | 'R42';
/** Why a record lapses: R31 (a follow-up missed) or R32 (no service for months). */
export type LapseRule = 'R31' | 'R32';

export interface ServiceDue {
  /** The last day on which the next visit or call is in time. */
  due: Day;
  rule: DueRule;
  /** The due day was moved off a rest day (serviceDueOnWorkdays). */
  movedFrom?: Day;
}

/** The day service is counted from: approval. Undefined for a record never approved. */
export function serviceStart(facts: Pick<ServiceFacts, 'approvedAt'>): Day | undefined {
  return facts.approvedAt === undefined ? undefined : dayOf(facts.approvedAt);
}

/**
 * The day a rule's service clock starts for this record: the latest of the approval day, the day
 * the record entered this service (migrated records keep their old approval date but were not
 * served under this service before), and the day the policy switched the rule on (none: since
 * ever). Every due day, lapse, reminder, outlook and report counts from here. Undefined for a
 * record never approved.
 */
export function serviceClockStart(
  facts: Pick<ServiceFacts, 'approvedAt' | 'receivedAt'>,
  policy: Pick<ServicePolicy, 'serviceRulesSince'>,
  rule: DatedServiceRule,
): Day | undefined {
  const approved = serviceStart(facts);
  if (approved === undefined) return undefined;
  let start = approved;
  for (const day of [dayOf(facts.receivedAt), policy.serviceRulesSince?.[rule]]) {
    if (day !== undefined && day > start) start = day;
  }
  return start;
}

/**
 * The clock the next due day runs on: R31's when it is on (its due days are what lapses), else
 * R42's; and R42's own start, which a grade's cadence never counts from before.
 */
function dueClocks(
  facts: Pick<ServiceFacts, 'approvedAt' | 'receivedAt'>,
  policy: ServicePolicy,
): { start: Day; gradeFrom: Day } | undefined {
  const start = serviceClockStart(facts, policy, policy.followUp ? 'followUp' : 'gradeCadenceDays');
  const gradeFrom = serviceClockStart(facts, policy, 'gradeCadenceDays');
  return start === undefined || gradeFrom === undefined ? undefined : { start, gradeFrom };
}

/** Shanghai days with a follow-up on or after `from`, ascending, each once. */
export function serviceDays(followUps: readonly { at: Instant }[], from: Day): Day[] {
  return [...new Set(followUps.map((f) => dayOf(f.at)).filter((d) => d >= from))].sort();
}

/**
 * The last day the customer was served: the last follow-up since approval, else approval — a fact
 * shown on the record and in the pool, not a rule's clock (`serviceClockStart`).
 */
export function lastServiceDay(facts: ServiceFacts): Day | undefined {
  const start = serviceStart(facts);
  if (start === undefined) return undefined;
  const days = serviceDays(facts.followUps, start);
  return days[days.length - 1] ?? start;
}

/** Whether any service cadence (R31 or R42) or R32 is on: records then carry due days. */
export function cadencesOn(policy: ServicePolicy): boolean {
  return (
    policy.followUp !== null ||
    policy.gradeCadenceDays !== null ||
    policy.reassignAfterNoServiceMonths !== null
  );
}

/**
 * The due day after a service on `base` (or, when `first`, after the start on `base`); null when
 * no cadence applies to this record. A grade's cadence counts from `base` but never from before
 * `gradeFrom`, the day R42 started for the record.
 */
function dueFrom(
  base: Day,
  first: boolean,
  grade: Grade | undefined,
  policy: ServicePolicy,
  calendar: WorkCalendar,
  gradeFrom: Day,
): ServiceDue | null {
  const gradeDays =
    grade !== undefined && policy.gradeCadenceDays ? policy.gradeCadenceDays[grade] : undefined;
  const gradeBase = base > gradeFrom ? base : gradeFrom;
  let due: ServiceDue | null = null;
  if (first && policy.followUp) {
    due = { due: addDays(base, policy.followUp.firstWithinDays), rule: 'R31' };
    // A grade stricter than R31's first period (a cadence of 1–2 days) still applies.
    if (gradeDays !== undefined && addDays(gradeBase, gradeDays) < due.due) {
      due = { due: addDays(gradeBase, gradeDays), rule: 'R42' };
    }
  } else if (gradeDays !== undefined) {
    due = { due: addDays(gradeBase, gradeDays), rule: 'R42' };
  } else if (policy.followUp) {
    due = { due: addDays(base, policy.followUp.everyDays), rule: 'R31' };
  }
  if (due === null || !policy.serviceDueOnWorkdays || calendar.isWorkday(due.due)) return due;
  return { ...due, due: calendar.addWorkdays(due.due, 0).day, movedFrom: due.due };
}

/** The next visit or call's due day (R31, R42), or null when no cadence applies to this record. */
export function nextServiceDue(
  facts: ServiceFacts,
  policy: ServicePolicy,
  calendar: WorkCalendar,
): ServiceDue | null {
  const clocks = dueClocks(facts, policy);
  if (clocks === undefined) return null;
  const days = serviceDays(facts.followUps, clocks.start);
  const last = days[days.length - 1];
  const base = last ?? clocks.start;
  const grade = facts.registration.grade;
  const due = dueFrom(base, last === undefined, grade, policy, calendar, clocks.gradeFrom);
  const changedOn = dueRulesChangedOn(policy, calendar);
  if (due === null || changedOn === undefined || due.due >= changedOn) return due;
  // The new rules put the due day before they applied: the first period a rule switched on that day gives.
  return dueFrom(changedOn, true, grade, policy, calendar, clocks.gradeFrom) ?? due;
}

/**
 * The day the rules of R31's and R42's due days last changed: the interval or the grades' cadences,
 * moving due days to working days, or — when due days move — the entered calendar.
 */
function dueRulesChangedOn(policy: ServicePolicy, calendar: WorkCalendar): Day | undefined {
  const changed = policy.serviceRulesChangedOn;
  return latest([
    changed?.followUp,
    changed?.gradeCadenceDays,
    changed?.serviceDueOnWorkdays,
    policy.serviceDueOnWorkdays ? calendar.changedOn : undefined,
  ]);
}

function latest(days: readonly (Day | undefined)[]): Day | undefined {
  let out: Day | undefined;
  for (const day of days) if (day !== undefined && (out === undefined || day > out)) out = day;
  return out;
}

/**
 * R32: the last day a service keeps the record (N months after the last follow-up since R32's
 * clock start, else after the start); null when R32 is off or the record never started.
 */
export function noServiceDeadline(facts: ServiceFacts, policy: ServicePolicy): Day | null {
  if (policy.reassignAfterNoServiceMonths === null) return null;
  const start = serviceClockStart(facts, policy, 'reassignAfterNoServiceMonths');
  if (start === undefined) return null;
  const days = serviceDays(facts.followUps, start);
  const months = policy.reassignAfterNoServiceMonths;
  const deadline = addMonths(days[days.length - 1] ?? start, months);
  // Fewer months put the deadline before they applied: counted from the change day, as from a rule switched on.
  const changedOn = policy.serviceRulesChangedOn?.reassignAfterNoServiceMonths;
  return changedOn !== undefined && deadline < changedOn ? addMonths(changedOn, months) : deadline;
}

export interface LapseDeadline {
  /** The last day a follow-up keeps the record; it lapses the day after. */
  deadline: Day;
  rule: LapseRule;
}

/**
 * The deadline whose passing voids the record: R31's due day (when R31 is on), or R32's, whichever
 * comes first (R31 on a tie). Null when neither applies (ended records included).
 */
export function lapseDeadline(
  facts: ServiceFacts,
  policy: ServicePolicy,
  calendar: WorkCalendar,
  today: Day,
): LapseDeadline | null {
  if (!PROTECTING_STATUSES.includes(effectiveStatus(facts, today))) return null;
  const byR31 = policy.followUp ? nextServiceDue(facts, policy, calendar) : null;
  const byR32 = noServiceDeadline(facts, policy);
  if (byR31 && (byR32 === null || byR31.due <= byR32)) return { deadline: byR31.due, rule: 'R31' };
  return byR32 === null ? null : { deadline: byR32, rule: 'R32' };
}

/** Whether the sweep voids the record today (R31 follow-up lapsed, R32 no service), and why. */
export function lapseDecision(
  facts: ServiceFacts,
  policy: ServicePolicy,
  calendar: WorkCalendar,
  today: Day,
): LapseDeadline | null {
  const deadline = lapseDeadline(facts, policy, calendar, today);
  return deadline !== null && today > deadline.deadline ? deadline : null;
}

/**
 * Why a write that would change what the lapse reads (a follow-up, a grade) is refused: the record
 * lapsed at the end of its deadline day, whatever the sweep has written yet. A lapse is decided by
 * what was recorded by then, so a visit logged afterwards — even one dated on the deadline — cannot
 * undo it, and nothing a read shows of it is ever taken back.
 */
export function lapsedProblem(lapse: LapseDeadline): {
  problem: Problem;
  details: { deadline: Day; lapsesOn: Day; rule: LapseDeadline['rule'] };
} {
  const lapsesOn = addDays(lapse.deadline, 1);
  const why =
    lapse.rule === 'R31'
      ? { zh: '未按时跟进', en: 'no follow-up was recorded' }
      : { zh: '长期未服务', en: 'no service was recorded' };
  return {
    problem: problem(
      'registration.lapsed',
      `该报备已失效：${why.zh}，截止 ${lapse.deadline}（${lapsesOn} 起作废），之后补记的跟进不能挽回`,
      `This registration has lapsed: ${why.en} by ${lapse.deadline} (void from ${lapsesOn}); a follow-up recorded afterwards cannot keep it`,
    ),
    details: { deadline: lapse.deadline, lapsesOn, rule: lapse.rule },
  };
}

/** Days before the lapse when the holder is warned (T−3). */
export const LAPSE_WARNING_DAYS = 3;
/** Days before a due day when the holder is reminded (the day before, and the day itself). */
export const DUE_REMINDER_DAYS = 1;

export type ServiceReminder =
  | { type: 'followUp.due'; dueBy: Day; rule: DueRule }
  | { type: 'followUp.overdue'; dueBy: Day; rule: DueRule; lapsesOn?: Day }
  | { type: 'pool.lapsing'; lapsesOn: Day; rule: LapseRule };

/**
 * The reminders a protected record calls for today, for the notifier: the record lapses within
 * three days (T−3, R44), a service is due today or tomorrow, or one is overdue (R42 without R31:
 * an overdue R31 follow-up is a lapse, not a reminder). Callers dedupe by type and day.
 */
export function serviceReminders(
  facts: ServiceFacts,
  policy: ServicePolicy,
  calendar: WorkCalendar,
  today: Day,
): ServiceReminder[] {
  if (!PROTECTING_STATUSES.includes(effectiveStatus(facts, today))) return [];
  const out: ServiceReminder[] = [];
  const lapse = lapseDeadline(facts, policy, calendar, today);
  const lapsesOn = lapse ? addDays(lapse.deadline, 1) : undefined;
  if (
    lapse &&
    lapsesOn !== undefined &&
    today <= lapse.deadline &&
    addDays(today, LAPSE_WARNING_DAYS) >= lapsesOn
  ) {
    out.push({ type: 'pool.lapsing', lapsesOn, rule: lapse.rule });
  }
  const due = nextServiceDue(facts, policy, calendar);
  if (due) {
    if (today <= due.due && addDays(today, DUE_REMINDER_DAYS) >= due.due) {
      out.push({ type: 'followUp.due', dueBy: due.due, rule: due.rule });
    } else if (today > due.due) {
      out.push({
        type: 'followUp.overdue',
        dueBy: due.due,
        rule: due.rule,
        ...(lapsesOn !== undefined ? { lapsesOn } : {}),
      });
    }
  }
  return out;
}

export interface ScheduledDue {
  due: Day;
  rule: DueRule;
  /** The day of the service that met it; absent when it was missed (or is still open). */
  metOn?: Day;
  /** Past and not met. */
  missed: boolean;
}

/**
 * Every due day a record had from its start up to `until` (inclusive), each met by the first
 * service after the previous one or missed — the compliance report counts them by the month of
 * the due day. A service resets the clock; a missed R42 due is followed by the next cadence; a
 * missed R31 due ends the schedule (the record lapsed). Due days after `today` that are not met
 * are left out (not decided yet).
 */
export function serviceSchedule(
  facts: ServiceFacts & { lapsedOn?: Day | undefined },
  policy: ServicePolicy,
  calendar: WorkCalendar,
  until: Day,
  today: Day,
): ScheduledDue[] {
  const clocks = dueClocks(facts, policy);
  if (clocks === undefined) return [];
  const days = serviceDays(facts.followUps, clocks.start);
  const out: ScheduledDue[] = [];
  let base = clocks.start;
  let first = true;
  // Bounded: every step moves `base` forward by at least one day, and `until` is finite.
  for (let guard = 0; guard < 10_000; guard++) {
    const due = dueFrom(base, first, facts.registration.grade, policy, calendar, clocks.gradeFrom);
    if (due === null || due.due > until) break;
    // The first service may fall on the start day itself; later ones come after the last.
    const from = base;
    const next = days.find((d) => (first ? d >= from : d > from));
    if (next !== undefined && next <= due.due) {
      out.push({ due: due.due, rule: due.rule, metOn: next, missed: false });
      base = next;
      first = false;
      continue;
    }
    if (due.due >= today) break;
    out.push({ due: due.due, rule: due.rule, missed: true });
    // Under R31 a missed due voided the record: nothing is due after it.
    if (policy.followUp) break;
    if (facts.lapsedOn !== undefined && due.due >= facts.lapsedOn) break;
    base = due.due;
    first = false;
  }
  return out;
}

/** What a record view shows of its service (R31, R32, R42): absent when nothing applies. */
export interface ServiceOutlook {
  lastServiceDay: Day;
  /** The next visit or call is due by this day (R31 / R42). */
  nextDue?: Day;
  dueRule?: DueRule;
  /** The record lapses into the pool on this day without a visit (R31 / R32). */
  lapsesOn?: Day;
  lapseRule?: LapseRule;
}

/** The service outlook of a protected record under cadences; undefined otherwise. */
export function serviceOutlook(
  facts: ServiceFacts,
  policy: ServicePolicy,
  calendar: WorkCalendar,
  today: Day,
): ServiceOutlook | undefined {
  if (!cadencesOn(policy) || !PROTECTING_STATUSES.includes(effectiveStatus(facts, today))) return undefined;
  const last = lastServiceDay(facts);
  if (last === undefined) return undefined;
  const due = nextServiceDue(facts, policy, calendar);
  const lapse = lapseDeadline(facts, policy, calendar, today);
  return {
    lastServiceDay: last,
    ...(due ? { nextDue: due.due, dueRule: due.rule } : {}),
    ...(lapse ? { lapsesOn: addDays(lapse.deadline, 1), lapseRule: lapse.rule } : {}),
  };
}
