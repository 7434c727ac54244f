/**
 * What a change to a filed registration does (R4, R13, R17, R37), as pure functions over plain
 * data. The service's PATCH, the resubmission of a rejected registration and the legacy import's
 * corrections gather the same facts at their edge and call these:
 *
 *   admitChange(record, request, ctx)   → refused at once (closed record, a fixed field, a bad cell,
 *                                          a required field emptied, a foreign territory…) or a draft
 *   … the edge hashes the changed identity's keys and looks up the candidate records of the old and
 *     of the new identity (and, for an identity change, the registrant's bans) …
 *   decideChange({ record, draft, identity, before, after, bans, … })
 *                                        → refused with the conflict view (R3), or the record to save
 *   decideResubmission({ record, candidates, bans, winner, … })
 *                                        → R13: a corrected rejected registration goes back to review
 *
 * The rules, decided once here:
 * - Identity fields are those the matching keys are made of (IDENTITY_FIELDS). A change of one is
 *   matched again as a registration would be. It is refused when the new identity exactly matches
 *   an active registration it did not match before: another registrant's (`change.conflict`, with
 *   the R3 view), the holder's own (`change.duplicate`), or a customer the registrant is barred from
 *   (R27). A possible match that the change makes exact counts as such a new exact match. A change
 *   may not leave another registrant's active registration it matched exactly either
 *   (`change.in_conflict`): the two are one competition or one queue, which a reviewer decides —
 *   never a way out of it.
 * - The claim time never changes (R17): `registeredAt`, like `registrant` (a hand-over, R38) and
 *   `team`, is not a field a change can set. While registrations of the same customer await a
 *   reviewer's ranking (R15), the holder cannot change the fields the ranking reads.
 * - A change recorded more than `registrationDeadlineWorkdays` working days after the day it
 *   happened (`changedOn`, default today) is applied and flagged late (R4).
 * - A record that has lapsed (R31, R32: its deadline day ended without a follow-up) is void from its
 *   lapse day, whatever the sweep has written yet: it is not changed (`registration.lapsed`), so its
 *   customer enters the pool (R44) as it was on that day.
 * - Every changed field is one history entry (who, when, field, from → to, reason); the values in
 *   it are personal data and stay inside the sealed record (R35, R37).
 *
 * Nothing here reads a store, a clock or a key.
 *
 * Over 600 lines as one file: the change rules (R4, R13, R17, R37) refer to each other (a fixed field,
 * a changed identity, a resubmission) and are read as one rulebook.
 */
import { addDays, dayOf, daysBetween } from './day.js';
import { effectiveStatus } from './lifecycle.js';
import { compareIdentities } from './matching.js';
import type { Policy } from './policy.js';
import { capDecision, poolCooldownProblem } from './pool.js';
import { problem, type Problem } from './problem.js';
import { PACKAGE_CALENDAR, type WorkCalendar } from './calendar.js';
import {
  deadlineWording,
  grantedWindow,
  missedDeadline,
  reviewDueBy,
  setDeadline,
  type ProtectionWindow,
} from './protection.js';
import { destroyedProblem } from './retention.js';
import { lapseDecision, lapsedProblem } from './serviceCadence.js';
import {
  conflictView,
  territoryCheck,
  type ActorFacts,
  type BanFact,
  type Candidate,
  type CandidateRecord,
} from './registrationDecision.js';
import { completenessProblems, parseFieldCell } from './row.js';
import {
  ACTIVE_STATUSES,
  FIELD_SPECS,
  PROTECTING_STATUSES,
  FIELDS,
  STATUS_LABELS,
  type CellValue,
  type Conflict,
  type Day,
  type Field,
  type HistoryEntry,
  type IdentityKeys,
  type Instant,
  type RecordStatus,
  type Registration,
  type StoredRecord,
} from './schema.js';

/** Fields the identity keys are made of (core/matching `identityKeys`): a change re-checks the customer. */
export const IDENTITY_FIELDS: readonly Field[] = [
  'customerName',
  'customerType',
  'creditCode',
  'contactName',
  'contactPhone',
  'email',
  'householdOf',
];

/** Fields a change never sets, and where to go instead. */
export const FIXED_FIELDS: Partial<Record<Field, { zh: string; en: string }>> = {
  registeredAt: {
    zh: '报备时间决定先后顺序，提交后不能更改（R17）',
    en: 'The registration time decides priority and never changes once filed (R17)',
  },
  registrant: {
    zh: '报备人不能通过更改来变更；请由审核人办理移交（R38）',
    en: 'The registrant is not changed by a change; a reviewer hands the registration over (R38)',
  },
  team: {
    zh: '部门随报备人的账号确定，不能更改',
    en: "The team follows the registrant's account and is not changed",
  },
  grade: {
    zh: '客户等级由审核人调整（PUT /api/registrations/:no/grade），以免自行降低跟进频率（R42）',
    en: 'A reviewer changes the grade (PUT /api/registrations/:no/grade), so nobody lowers their own service cadence (R42)',
  },
};

/** Fields the reviewer's ranking of competing registrations reads (R15, R8, R20). */
export const RANKING_FIELDS: readonly Field[] = [
  'expectedAmount',
  'expectedUnitPrice',
  'expectedSignDate',
  'firstVisitAt',
  'channel',
];

/** Statuses in which a registration can be changed: while it claims the customer, and rejected (R13). */
export const CHANGEABLE_STATUSES: readonly RecordStatus[] = [...ACTIVE_STATUSES, 'rejected'];

/** A field's value as a registration keeps it; null when the field is empty. */
export type ChangeValue = string | number | null;

export interface ChangeRequest {
  /** Raw cells by canonical field, as a row would carry them; null or '' empties the field. */
  changes: Partial<Record<Field, CellValue>>;
  /** Why (shown in the history). */
  reason: string;
  /** The day the change happened (R4); today when absent. */
  changedOn?: Day | undefined;
}

/** Who changes: the registrant, or a reviewer of the record's team (administrators too). The edge decides which (R34). */
export type ChangeRole = 'holder' | 'reviewer';

export interface ChangeContext {
  actor: ActorFacts;
  as: ChangeRole;
  policy: Policy;
  /** When the change is recorded (an ISO instant from the caller's clock). */
  now: Instant;
  /** Working days in force (R4); the package's schedule when absent. */
  calendar?: WorkCalendar | undefined;
}

export interface FieldChange {
  field: Field;
  from: ChangeValue;
  to: ChangeValue;
}

/** A change that parsed and may be made by this caller, before the look-ups. */
export interface ChangeDraft {
  /** The registration with the changes applied. */
  registration: Registration;
  /** The fields whose value differs, in the schema's order. */
  changes: FieldChange[];
  /** Some identity field changed: the edge computes the new keys and looks the customer up again. */
  identityChanged: boolean;
  reason: string;
  changedOn: Day;
  /** Recorded more than the policy's working days after changedOn (R4). */
  late: boolean;
  warnings: Problem[];
}

export type ChangeAdmission =
  { ok: true; draft: ChangeDraft } | { ok: false; errors: Problem[]; details?: Refusal['details'] };

/** A refused change or resubmission: the reason, and the registrations it would clash with (R3 view). */
export interface Refusal {
  ok: false;
  error: Problem;
  conflicts: Conflict[];
  /** Machine data for the caller (numbers, days; never personal data). */
  details?: Record<string, string | number | boolean | null>;
}

/**
 * Parses the changes as a row's cells would be (core/row) and decides everything that needs no
 * look-up: the record can still change, no fixed field is set, every cell is valid, nothing
 * required is emptied (R2, R5, R6 — only problems the change brings count), a holder does not move
 * the customer into another team's territory (R18), changedOn is not in the future, and lateness (R4).
 */
export function admitChange(
  record: StoredRecord,
  request: ChangeRequest,
  ctx: ChangeContext,
): ChangeAdmission {
  if (record.destroyed !== undefined) return { ok: false, errors: [destroyedProblem(record.no)] };
  const today = dayOf(ctx.now);
  const status = effectiveStatus(record, today);
  if (!CHANGEABLE_STATUSES.includes(status)) {
    const label = STATUS_LABELS[status];
    return {
      ok: false,
      errors: [
        problem(
          'change.closed',
          `报备 ${record.no} 的状态为“${label.zh}”，不能再更改（其记录保持原样，R37）`,
          `Registration ${record.no} is ${label.en.toLowerCase()}; a closed registration is not changed (R37)`,
        ),
      ],
    };
  }
  const lapse = lapseDecision(record, ctx.policy, ctx.calendar ?? PACKAGE_CALENDAR, today);
  if (lapse !== null) {
    // The deadline and the day it lapsed as data too, as the follow-up's refusal gives them.
    const { problem: lapsed, details } = lapsedProblem(lapse);
    return { ok: false, errors: [lapsed], details };
  }
  const errors: Problem[] = [];
  const values: Partial<Record<Field, string | number>> = { ...record.registration };
  const failed = new Set<string>();
  for (const field of FIELDS) {
    if (!Object.hasOwn(request.changes, field)) continue;
    const fixed = FIXED_FIELDS[field];
    if (fixed !== undefined) {
      errors.push(problem('change.field_fixed', fixed.zh, fixed.en, field));
      continue;
    }
    const parsed = parseFieldCell(field, request.changes[field], today);
    if (parsed === null) delete values[field];
    else if ('problem' in parsed) {
      errors.push(parsed.problem);
      failed.add(field);
    } else values[field] = parsed.value;
  }
  if (values.customerType === undefined && !failed.has('customerType')) {
    errors.push(
      problem(
        'field.required',
        `${FIELD_SPECS.customerType.zh}不能为空`,
        `${FIELD_SPECS.customerType.en} is required`,
        'customerType',
      ),
    );
  }
  // Only what the change brings counts: a legacy record missing its source is not refused a note.
  const before = completenessProblems({ ...record.registration }, new Set(), ctx.policy);
  const after = completenessProblems(values, failed, ctx.policy);
  const known = (list: Problem[]) => new Set(list.map((p) => `${p.code}|${p.field ?? ''}`));
  const errorsBefore = known(before.errors);
  const warningsBefore = known(before.warnings);
  for (const e of after.errors) if (!errorsBefore.has(`${e.code}|${e.field ?? ''}`)) errors.push(e);
  const warnings = after.warnings.filter((w) => !warningsBefore.has(`${w.code}|${w.field ?? ''}`));

  const region = typeof values.region === 'string' ? values.region : undefined;
  if (
    ctx.as === 'holder' &&
    region !== record.registration.region &&
    territoryCheck(region, record.team, ctx.policy, false) === 'refused'
  ) {
    errors.push(
      problem(
        'territory.foreign',
        `区域“${region ?? ''}”属于其他部门，不能改到该区域；如属例外请由审核人更改（R18）`,
        'That region belongs to another team; a reviewer makes such a change when an exception applies (R18)',
        'region',
      ),
    );
  }
  const changedOn = request.changedOn ?? today;
  if (changedOn > today) {
    errors.push(
      problem(
        'changedOn.future',
        `变更日期不能晚于今天（${today}）`,
        `The day of the change cannot be later than today (${today})`,
        'changedOn',
      ),
    );
  }
  if (errors.length > 0) return { ok: false, errors };

  const changes: FieldChange[] = [];
  const registration: Partial<Record<Field, string | number>> = {};
  for (const field of FIELDS) {
    const to = values[field];
    if (to !== undefined) registration[field] = to;
    const from = record.registration[field];
    if (from !== to) changes.push({ field, from: from ?? null, to: to ?? null });
  }
  const missed = missedDeadline(changedOn, today, ctx.policy, ctx.calendar ?? PACKAGE_CALENDAR);
  const late = missed !== null;
  if (missed !== null && changes.length > 0) {
    const n = ctx.policy.registrationDeadlineWorkdays;
    const by = deadlineWording(missed);
    warnings.push(
      problem(
        'change.late',
        `变更发生于 ${changedOn}，超过 ${n} 个工作日才记录（${by.zh}，R4）`,
        `The change happened on ${changedOn} and was recorded more than ${n} working days later (${by.en}; R4)`,
        'changedOn',
      ),
    );
  }
  return {
    ok: true,
    draft: {
      // Every value came from a field parser (or from the registration), as parseRow's do.
      registration: registration as Registration,
      changes,
      identityChanged: changes.some((c) => IDENTITY_FIELDS.includes(c.field)),
      reason: request.reason,
      changedOn,
      late: late && changes.length > 0,
      warnings,
    },
  };
}

export interface ChangeFacts<R extends CandidateRecord = CandidateRecord> {
  record: StoredRecord;
  draft: ChangeDraft;
  actor: ActorFacts;
  as: ChangeRole;
  policy: Policy;
  now: Instant;
  /** The identity keys of draft.registration, hashed like the stored ones (record.identity when unchanged). */
  identity: IdentityKeys;
  /** Candidates of the record's stored identity (candidateOf), the record itself left out. */
  before: readonly Candidate<R>[];
  /** Candidates of the new identity (the same as before when the identity did not change). */
  after: readonly Candidate<R>[];
  /** The registrant's bans in force that share an index key with the new identity (R27). */
  bans: readonly BanFact[];
}

export interface AppliedChange {
  ok: true;
  /** The record to save: registration, identity, history and version updated; the claim time untouched. */
  record: StoredRecord;
  /** Fields changed; empty when the request changed nothing (then nothing is saved). */
  changed: Field[];
  warnings: Problem[];
  /** Registrations of the same customer as the caller may see them (R3), possible matches included. */
  conflicts: Conflict[];
}

export type ChangeDecision = AppliedChange | Refusal;

/** What the change does, given what the look-ups found. */
export function decideChange<R extends CandidateRecord>(facts: ChangeFacts<R>): ChangeDecision {
  const { record, draft, policy } = facts;
  const today = dayOf(facts.now);
  const holder = record.registration.registrant;
  const others = (list: readonly Candidate<R>[]) => list.filter((c) => c.record.no !== record.no);
  const before = others(facts.before);
  const after = others(facts.after);
  const exactBefore = new Set(before.filter((c) => c.match.strength === 'exact').map((c) => c.record.no));
  const exactAfter = after.filter((c) => c.match.strength === 'exact');
  const fresh = exactAfter.filter((c) => !exactBefore.has(c.record.no));
  const status = effectiveStatus(record, today);

  if (draft.identityChanged) {
    for (const ban of facts.bans) {
      if (compareIdentities(facts.identity, ban.identity, policy)?.strength !== 'exact') continue;
      if (compareIdentities(record.identity, ban.identity, policy)?.strength === 'exact') continue;
      if (ban.poolCooldown) return poolCooldownRefusal(ban.until);
      return refusal(
        problem(
          'registration.banned',
          `因提供虚假信息，您在 ${ban.until} 之前不能报备该客户，也不能把报备改成该客户（R27）`,
          `Because of false information you cannot register this customer, nor change a registration into it, until ${ban.until} (R27)`,
        ),
        [],
        { until: ban.until },
      );
    }
    const theirs = fresh.filter((c) => c.record.registration.registrant !== holder);
    if (theirs.length > 0) {
      return refusal(
        problem(
          'change.conflict',
          '更改后的客户与他人的有效报备是同一客户：更改不能用来转到他人的客户，未保存（R3）',
          "After the change the customer is one someone else has an active registration of; a change cannot move onto another registrant's customer. Nothing was saved (R3)",
        ),
        theirs.map(conflictView),
      );
    }
    const own = fresh.find((c) => c.record.registration.registrant === holder);
    if (own) {
      return refusal(
        problem(
          'change.duplicate',
          `更改后与您自己的报备 ${own.record.no} 是同一客户，未保存；如两条确为同一客户，请保留一条并撤回另一条`,
          `After the change this is the customer of your own registration ${own.record.no}; nothing was saved. If both are one customer, keep one and withdraw the other`,
        ),
        [conflictView(own)],
        { registrationNo: own.record.no },
      );
    }
    if (status !== 'rejected') {
      const still = new Set(exactAfter.map((c) => c.record.no));
      const left = before.filter(
        (c) =>
          c.match.strength === 'exact' &&
          !still.has(c.record.no) &&
          c.record.registration.registrant !== holder,
      );
      if (left.length > 0) {
        return refusal(
          problem(
            'change.in_conflict',
            '该报备与他人的报备是同一客户（撞单或排队中），更改后将不再是该客户，未保存：请由审核人裁定；如报备有误，可在驳回后更正并重新提交（R13）',
            "This registration shares its customer with someone else's (a conflict or a queue); the change would take it off that customer. Nothing was saved: a reviewer decides — a rejected registration can be corrected and resubmitted (R13)",
          ),
          left.map(conflictView),
        );
      }
    }
  }

  const ranked = draft.changes.filter((c) => RANKING_FIELDS.includes(c.field));
  if (
    facts.as === 'holder' &&
    ranked.length > 0 &&
    (status === 'pending' || status === 'conflict') &&
    after.some(
      (c) =>
        c.match.strength === 'exact' &&
        c.record.registration.registrant !== holder &&
        (c.status === 'pending' || c.status === 'conflict'),
    )
  ) {
    const field = ranked[0]!.field;
    return refusal(
      problem(
        'change.ranking_locked',
        `该客户的多份报备正待审核人排序裁定（R15），${FIELD_SPECS[field].zh}等排序依据现在不能由报备人更改；请在跟进中说明，由审核人更改`,
        `Registrations of this customer await the reviewer's ranking (R15); ${FIELD_SPECS[field].en} and the other ranking fields cannot be changed by the registrant now. Say it in a follow-up; a reviewer can change it`,
        field,
      ),
      [],
    );
  }

  const regrant = grantFromVisit(record, draft, policy, status);
  if (regrant !== null && facts.as === 'holder') {
    return refusal(
      problem(
        'change.protection_granted',
        `保护期按到访时间起算，已批准为 ${regrant.was.from} 至 ${regrant.was.until}（R29）；到访时间改动会移动保护期，须由审核人更改`,
        `Protection was granted from the first visit, ${regrant.was.from} through ${regrant.was.until} (R29); changing the first visit moves it, so a reviewer makes that change`,
        'firstVisitAt',
      ),
      [],
      { protectedFrom: regrant.was.from, protectedUntil: regrant.was.until },
    );
  }

  const conflicts = after.map(conflictView);
  const warnings = draft.warnings.slice();
  if (draft.identityChanged) {
    const possibleBefore = new Set(before.map((c) => c.record.no));
    if (after.some((c) => c.match.strength === 'possible' && !possibleBefore.has(c.record.no))) {
      warnings.push(
        problem(
          'match.possible',
          '更改后发现可能是同一客户的报备，请审核人确认',
          'After the change, registrations that may be the same customer were found; a reviewer will check',
        ),
      );
    }
  }
  if (draft.changes.length === 0) {
    return { ok: true, record, changed: [], warnings, conflicts };
  }
  const entries: HistoryEntry[] = draft.changes.map((c) => ({
    at: facts.now,
    by: facts.actor.name,
    action: 'change',
    reason: draft.reason,
    details: {
      field: c.field,
      from: c.from,
      to: c.to,
      changedOn: draft.changedOn,
      ...(IDENTITY_FIELDS.includes(c.field) ? { identity: true } : {}),
      ...(draft.late ? { late: true } : {}),
      ...(c.field === 'firstVisitAt' && regrant !== null
        ? { protectedFrom: regrant.now.from, protectedUntil: regrant.now.until }
        : {}),
    },
  }));
  return {
    ok: true,
    record: {
      ...record,
      ...(regrant !== null ? { protectedFrom: regrant.now.from, protectedUntil: regrant.now.until } : {}),
      registration: draft.registration,
      identity: draft.identityChanged ? facts.identity : record.identity,
      history: [...record.history, ...entries],
      version: record.version + 1,
    },
    changed: draft.changes.map((c) => c.field),
    warnings,
    conflicts,
  };
}

/**
 * R29: a protection granted from the first visit moves with it. Protection is a reviewer's grant, so
 * only a reviewer moves it (the holder is refused: pushing the visit later would lengthen their own
 * protection). The window is counted again from the corrected visit, and what was added to it since
 * the grant (an approved extension, R28) keeps its length. Null when the change does not touch a
 * window counted from the first visit: not firstVisitAt, another basis, nothing granted yet (approval
 * counts from the visit as it then is), or dates not what the policy derives (granted under another
 * policy, or a share's common window, R16, which one record's visit does not move), or a visit
 * corrected within its day, which leaves the window where it is.
 */
function grantFromVisit(
  record: StoredRecord,
  draft: ChangeDraft,
  policy: Policy,
  status: RecordStatus,
): { was: ProtectionWindow; now: ProtectionWindow } | null {
  const { approvedAt, protectedFrom, protectedUntil } = record;
  if (
    policy.protection.from !== 'firstVisit' ||
    !draft.changes.some((c) => c.field === 'firstVisitAt') ||
    !PROTECTING_STATUSES.includes(status) ||
    approvedAt === undefined ||
    protectedFrom === undefined ||
    protectedUntil === undefined ||
    record.share !== undefined
  ) {
    return null;
  }
  const granted = (firstVisitAt: Instant | undefined) =>
    grantedWindow({ claimedAt: record.claimedAt, approvedAt, firstVisitAt }, policy);
  const before = granted(record.registration.firstVisitAt);
  if (before.from !== protectedFrom) return null;
  const after = granted(draft.registration.firstVisitAt);
  const added = daysBetween(before.until, protectedUntil);
  const now = { from: after.from, until: addDays(after.until, added) };
  // A corrected time on the same day (R8 counts the minutes before the visit) moves nothing: the
  // holder may make it.
  if (now.from === protectedFrom && now.until === protectedUntil) return null;
  return { was: { from: protectedFrom, until: protectedUntil }, now };
}

export interface ResubmissionFacts<R extends CandidateRecord = CandidateRecord> {
  record: StoredRecord;
  actor: ActorFacts;
  policy: Policy;
  now: Instant;
  reason?: string | undefined;
  /** Candidates of the record's identity (candidateOf), the record itself left out. */
  candidates: readonly Candidate<R>[];
  /** The registrant's bans in force that share an index key with the record's identity (R27). */
  bans: readonly BanFact[];
  /** A record rejected by losing a conflict (`conflict.lost`): the registration that won, as it is now. */
  winner?: (CandidateRecord & { status: RecordStatus }) | undefined;
  /** When that decision was a share (R16): the winner's partner, as it is now. */
  winnerPartner?: (CandidateRecord & { status: RecordStatus }) | undefined;
  /** Working days in force (R12 review deadline); the package's schedule when absent. */
  calendar?: WorkCalendar | undefined;
  /**
   * R45: the registrant's active registrations now (the rejected record is not one); absent when
   * no cap is set. A resubmission makes the record active again, so it counts against the cap.
   */
  activeCount?: number | undefined;
}

export type ResubmissionDecision =
  { ok: true; record: StoredRecord; warnings: Problem[]; conflicts: Conflict[] } | Refusal;

/**
 * R13: a rejected registration, corrected, goes back to review with its number, its history and its
 * claim time, and a review deadline counted afresh from today (R12). While it was rejected it held
 * nothing, so the customer is checked again: another registrant's active registration (someone who
 * came while it was rejected, or the competitor it lost to) refuses it — keeping the old claim time
 * would put it ahead of them. A registration rejected by losing a conflict while the winner still
 * holds is not resubmitted: the objection (R12) is the way to dispute that decision. One rejected
 * because the customer was signed by someone else is not resubmitted either.
 */
export function decideResubmission<R extends CandidateRecord>(
  facts: ResubmissionFacts<R>,
): ResubmissionDecision {
  const { record, policy } = facts;
  if (record.destroyed !== undefined) return refusal(destroyedProblem(record.no), []);
  const today = dayOf(facts.now);
  const status = effectiveStatus(record, today);
  if (status !== 'rejected') {
    return refusal(
      problem(
        'resubmit.not_rejected',
        `报备 ${record.no} 当前为“${STATUS_LABELS[status].zh}”，只有被驳回的报备可以重新提交（R13）`,
        `Registration ${record.no} is ${STATUS_LABELS[status].en.toLowerCase()}; only a rejected registration is resubmitted (R13)`,
      ),
      [],
      { status },
    );
  }
  if (record.reasonCode === 'conflict.lost') {
    const winner = facts.winner;
    if (winner !== undefined && ACTIVE_STATUSES.includes(effectiveStatus(winner, today))) {
      return refusal(
        problem(
          'resubmit.conflict_lost',
          `该报备在撞单裁定中落选，获批的报备 ${winner.no} 仍然有效：不能重新提交，如有异议请在异议期内提出（R12）`,
          `This registration lost a conflict decision and the winning registration ${winner.no} still holds: it is not resubmitted; object within the objection window instead (R12)`,
        ),
        [],
        { winner: winner.no },
      );
    }
  }
  // The decision it lost ended in a signature (either share of a shared one): the deal is closed, as
  // for the queue rejected behind it (customer.signed) and an objection to it (objection.customer_signed).
  const lostToSigned =
    record.reasonCode === 'conflict.lost' &&
    (facts.winner?.status === 'signed' || facts.winnerPartner?.status === 'signed');
  if (record.reasonCode === 'customer.signed' || lostToSigned) {
    return refusal(
      problem(
        'resubmit.customer_signed',
        '该客户已由他人签约，报备不能重新提交',
        'The customer was signed by someone else; the registration is not resubmitted',
      ),
      [],
    );
  }
  for (const ban of facts.bans) {
    if (compareIdentities(record.identity, ban.identity, policy)?.strength !== 'exact') continue;
    if (ban.poolCooldown) return poolCooldownRefusal(ban.until);
    return refusal(
      problem(
        'registration.banned',
        `因提供虚假信息，您在 ${ban.until} 之前不能报备该客户（R27）`,
        `Because of false information you cannot register this customer until ${ban.until} (R27)`,
      ),
      [],
      { until: ban.until },
    );
  }
  if (facts.activeCount !== undefined) {
    const cap = capDecision(policy, facts.activeCount, false);
    if (cap.kind === 'refused') {
      return refusal(cap.problem, [], { cap: policy.maxActivePerRegistrant, count: facts.activeCount });
    }
  }
  const holder = record.registration.registrant;
  const others = facts.candidates.filter((c) => c.record.no !== record.no);
  const exact = others.filter((c) => c.match.strength === 'exact');
  const theirs = exact.filter((c) => c.record.registration.registrant !== holder);
  if (theirs.length > 0) {
    return refusal(
      problem(
        'resubmit.conflict',
        '该客户已有他人的有效报备：被驳回期间本报备不占有客户，不能以原报备时间重新提交（R17）；如需争取，请重新报备',
        'Someone else has an active registration of this customer: while rejected this registration held nothing, so it is not resubmitted with its old registration time (R17). Register again to compete',
      ),
      theirs.map(conflictView),
    );
  }
  const own = exact.find((c) => c.record.registration.registrant === holder);
  if (own) {
    return refusal(
      problem(
        'resubmit.duplicate',
        `您已有该客户的有效报备 ${own.record.no}，本报备不再重新提交`,
        `You already hold an active registration of this customer (${own.record.no}); this one is not resubmitted`,
      ),
      [conflictView(own)],
      { registrationNo: own.record.no },
    );
  }

  const next: StoredRecord = { ...record, status: 'pending', version: record.version + 1 };
  for (const key of [
    'reasonCode',
    'reason',
    'objectionDeadline',
    'approvedAt',
    'blockedBy',
    'conflictKind',
  ] as const) {
    delete next[key];
  }
  // An objection nobody decided is moot once the winner no longer holds; a decided one stays.
  if (next.objection !== undefined && next.objection.decision === undefined) delete next.objection;
  const estimates = { ...record.estimatedDeadlines };
  delete estimates.objectionDeadline;
  if (Object.keys(estimates).length > 0) next.estimatedDeadlines = estimates;
  else delete next.estimatedDeadlines;
  setDeadline(next, 'reviewDueBy', reviewDueBy(today, policy, facts.calendar ?? PACKAGE_CALENDAR), today);
  next.history = [
    ...record.history,
    {
      at: facts.now,
      by: facts.actor.name,
      action: 'resubmit',
      from: record.status,
      to: 'pending',
      ...(facts.reason !== undefined ? { reason: facts.reason } : {}),
      ...(record.reasonCode !== undefined ? { details: { rejected: record.reasonCode } } : {}),
    },
  ];
  const warnings: Problem[] = [];
  if (others.some((c) => c.match.strength === 'possible')) {
    warnings.push(
      problem(
        'match.possible',
        '发现可能是同一客户的报备，请审核人确认',
        'Registrations that may be the same customer were found; a reviewer will check',
      ),
    );
  }
  return { ok: true, record: next, warnings, conflicts: others.map(conflictView) };
}

/** A former holder's cooldown after the lapse into the pool (R44) — not a false-info ban (R27). */
function poolCooldownRefusal(banUntil: Day): Refusal {
  const mayClaimFrom = addDays(banUntil, 1);
  return refusal(poolCooldownProblem(mayClaimFrom), [], { mayClaimFrom });
}

function refusal(error: Problem, conflicts: Conflict[], details?: Refusal['details']): Refusal {
  return details === undefined ? { ok: false, error, conflicts } : { ok: false, error, conflicts, details };
}
