/**
 * What happens to one registration (报备), as pure functions over plain data. Every caller — the
 * service's check and submit, the legacy import, later the Google Sheets sync — gathers the same
 * facts at its edge and calls these, so each path decides exactly alike:
 *
 *   admitRow(row, actor, policy, receivedAt)        → invalid (nothing to look up) or a Claim
 *   … the edge hashes the claim's identity keys and looks up the registrant's team, the bans in
 *     force and the candidate records (candidateOf/sortCandidates say which records count) …
 *   decideRegistration({ claim, identity, registrantTeam, bans, candidates, … })
 *                                                    → the row's result and the record to save
 *   numberRecord(decision, no)                       → once the edge has allocated a number (R7)
 *
 * Nothing here reads a store, a clock or a key: the instant a row was received comes in, so the
 * same facts always give the same decision.
 *
 * Over 600 lines as one file: one decision, end to end (admit, rank, conflicts, the record to save);
 * callers must see one function per step, not a web of modules.
 */
import { cellText, isPlaceholder } from './cellText.js';
import { parseInstant } from './dateValue.js';
import { addDays, dayOf, startOfDay } from './day.js';
import { effectiveStatus } from './lifecycle.js';
import { compareIdentities, type Match, type MatchPolicy } from './matching.js';
import type { Policy } from './policy.js';
import { problem, type Problem } from './problem.js';
import { capDecision, inPoolProblem, poolCooldownProblem } from './pool.js';
import { PACKAGE_CALENDAR, type WorkCalendar } from './calendar.js';
import {
  deadlineWording,
  estimatedFields,
  grantedWindow,
  protectionWindow,
  missedDeadline,
  reviewDueBy,
  setDeadline,
  type ProtectionWindow,
} from './protection.js';
import { parseRow, registrantOf, type RowContext } from './row.js';
import { matchRegionChainAt, regionContains } from './regions.js';
import {
  ACTIVE_STATUSES,
  PROTECTING_STATUSES,
  type Conflict,
  type Day,
  type IdentityKeys,
  type Instant,
  type RawRow,
  type RecordStatus,
  type Registration,
  type Role,
  type RowResult,
  type StoredRecord,
  type SubmissionRow,
} from './schema.js';

/** Who submits the row: only what the decision reads (the service's Actor carries more). */
export interface ActorFacts {
  name: string;
  role: Role;
  team?: string | undefined;
}

/** The history-migration statuses an administrator may send with a row (issue 4). */
export type HistoryStatus = NonNullable<SubmissionRow['status']>;

/**
 * A row that parsed and may be submitted by this actor: the normalised registration and the facts
 * about its claim that the later decision needs. Plain data; a caller may keep or log its shape.
 */
export interface Claim {
  clientRowId: RowResult['clientRowId'];
  registration: Registration;
  /** When the service received the row (an ISO instant). */
  receivedAt: Instant;
  /** The Shanghai day of receivedAt: the day statuses and bans are judged on. */
  today: Day;
  /** When the claim counts from (R17): receivedAt, or the sheet's date for an administrator's backdating. */
  claimedAt: Instant;
  /** False when the claim is only known to the day (a backdated date without a time). */
  claimHasTime: boolean;
  /** An administrator migrating the existing register (history mode, approval dates or statuses). */
  migrating: boolean;
  /** Migration: the approval instant the sheet gives. */
  approvedAt?: Instant;
  /** Migration: the status the sheet gives. */
  historyStatus?: HistoryStatus;
  /** R18: the row claims one of the cross-region exceptions. */
  territoryExceptionClaimed: boolean;
  /**
   * Migration: the claim is judged as of its own day, so the look-ups must also return records that
   * protected the customer on this day though they have ended since (R21). Absent otherwise.
   */
  protectingOn?: Day;
  /** Warnings so far (parsing, backdating ignored, late registration R4). */
  warnings: Problem[];
}

export type Admission = { ok: true; claim: Claim } | { ok: false; result: RowResult };

export interface AdmissionContext {
  actor: ActorFacts;
  policy: Policy;
  /** When the service received the row (an ISO instant, from the caller's clock). */
  receivedAt: Instant;
  /** Legacy migration (issue 4, history mode): rows are taken as approved on their registration date. */
  history?: boolean;
  /** Working days in force (R4); the package's schedule when absent. */
  calendar?: WorkCalendar;
}

/**
 * Parses a submitted row and decides everything that needs no look-up: field errors (R2, R5, R6),
 * who may send approval dates and statuses (administrators migrating) or register for someone else
 * (reviewers and administrators), when the claim counts from (R17) and whether it is late (R4).
 */
export function admitRow(row: SubmissionRow, ctx: AdmissionContext): Admission {
  const { actor, policy, receivedAt } = ctx;
  const today = dayOf(receivedAt);
  const {
    approvedAt: givenApprovedAt,
    status: historyStatus,
    territoryException,
    clientRowId,
    ...fields
  } = row;
  const privileged = actor.role === 'reviewer' || actor.role === 'admin';
  const errors: Problem[] = [];
  const warnings: Problem[] = [];
  const raw: RawRow = fields;
  // 审批日期 of — or 无 on a row never approved says no date, as a placeholder does in every field.
  const approvedText = givenApprovedAt == null ? null : cellText(givenApprovedAt);
  const rawApprovedAt = approvedText === null || isPlaceholder(approvedText) ? undefined : givenApprovedAt;
  const sendsHistory = rawApprovedAt != null || historyStatus !== undefined;
  const migrating = actor.role === 'admin' && (ctx.history === true || sendsHistory);
  if (sendsHistory && actor.role !== 'admin') {
    errors.push(
      problem(
        'approvedAt.forbidden',
        '只有管理员可以导入审批日期或状态（历史数据迁移）',
        'Only administrators send approval dates or statuses (history migration)',
        rawApprovedAt != null ? 'approvedAt' : 'status',
      ),
    );
  }
  const rowContext = { referenceDate: today, policy, defaultRegistrant: actor.name };
  const parsed = parseRow(raw, rowContext);
  for (const e of parsed.errors) errors.push(e);
  for (const w of parsed.warnings) warnings.push(w);
  let approvedAt: Instant | undefined;
  if (rawApprovedAt != null && rawApprovedAt !== '') {
    const a = parseInstant(rawApprovedAt, { referenceYear: Number(today.slice(0, 4)) });
    if (a.ok) approvedAt = a.instant;
    else errors.push({ ...a.problem, field: 'approvedAt' });
  }
  const registration = parsed.registration;
  // Read from the cell even when another cell is wrong: a row refused only for its phone would
  // otherwise come back refused again, for its registrant, once the phone is fixed.
  const registrant = registration?.registrant ?? registrantNamed(raw, rowContext);
  if (registrant !== null && !privileged && registrant !== actor.name) {
    errors.push(
      problem(
        'registrant.forbidden',
        '只有审核人和管理员可以替他人报备',
        'Only reviewers and administrators register for someone else',
        'registrant',
      ),
    );
  }
  if (errors.length > 0 || registration === null) {
    return { ok: false, result: { clientRowId, errors, warnings, conflicts: [], status: 'invalid' } };
  }

  // Only administrators backdate (history migration); for everyone else the receipt time counts (R17).
  const backdated = actor.role === 'admin' && registration.registeredAt !== undefined;
  const claimedAt = backdated ? registration.registeredAt! : receivedAt;
  const claimDay = dayOf(claimedAt);
  if (!backdated && registration.registeredAt !== undefined && dayOf(registration.registeredAt) !== today) {
    warnings.push(
      problem(
        'registeredAt.ignored',
        '报备时间以系统收到的时间为准，表中的报备日期未采用',
        'The registration time is when the service received the row; the sheet’s date was not used',
        'registeredAt',
      ),
    );
  }
  const claimHasTime = claimedAt === receivedAt || claimedAt !== startOfDay(claimDay);
  const missed =
    registration.firstVisitAt === undefined
      ? null
      : missedDeadline(dayOf(registration.firstVisitAt), claimDay, policy, ctx.calendar ?? PACKAGE_CALENDAR);
  if (missed !== null) {
    const by = deadlineWording(missed);
    warnings.push(
      problem(
        'registration.late',
        `超过首次接触后 ${policy.registrationDeadlineWorkdays} 个工作日才报备（${by.zh}，R4）`,
        `Registered more than ${policy.registrationDeadlineWorkdays} working days after first contact (${by.en}; R4)`,
        'registeredAt',
      ),
    );
  }
  const claim: Claim = {
    clientRowId,
    registration,
    receivedAt,
    today,
    claimedAt,
    claimHasTime,
    migrating,
    territoryExceptionClaimed: territoryException !== undefined,
    warnings,
  };
  if (approvedAt !== undefined) claim.approvedAt = approvedAt;
  if (historyStatus !== undefined) claim.historyStatus = historyStatus;
  if (migrating) claim.protectingOn = claimDay;
  return { ok: true, claim };
}

/** What a candidate record must show the decision (a StoredRecord has all of it). */
export interface CandidateRecord {
  no: string;
  status: RecordStatus;
  registration: Pick<Registration, 'registrant'>;
  team?: string | undefined;
  claimedAt: Instant;
  protectedFrom?: Day | undefined;
  protectedUntil?: Day | undefined;
}

/** A record of the same customer as the row: its status on the day and how it matched. */
export interface Candidate<R extends CandidateRecord = StoredRecord> {
  record: R;
  status: RecordStatus;
  match: Match;
}

/**
 * Whether a stored record found through the row's index keys counts as a candidate: it matches,
 * and it is active on `today` (pending, conflict, protected, extension requested) or — migration —
 * was protecting the customer on `protectingOn` (R21). Null otherwise. `matched` is
 * compareIdentities(identity, record.identity, policy) when the caller has it already.
 */
export function candidateOf<R extends CandidateRecord & { identity: IdentityKeys }>(
  record: R,
  identity: IdentityKeys,
  policy: MatchPolicy,
  today: Day,
  protectingOn?: Day,
  matched?: Match | null,
): Candidate<R> | null {
  const status = effectiveStatus(record, today);
  const protectedThen =
    protectingOn !== undefined &&
    record.protectedFrom !== undefined &&
    record.protectedUntil !== undefined &&
    record.protectedFrom <= protectingOn &&
    protectingOn <= record.protectedUntil &&
    record.status !== 'rejected';
  if (!ACTIVE_STATUSES.includes(status) && !protectedThen) return null;
  const match = matched !== undefined ? matched : compareIdentities(identity, record.identity, policy);
  return match === null ? null : { record, status, match };
}

/** Candidates in the order results list them: exact matches first, then the earliest claim. */
export function sortCandidates<R extends CandidateRecord>(candidates: Candidate<R>[]): Candidate<R>[] {
  return candidates.sort((a, b) =>
    a.match.strength !== b.match.strength
      ? a.match.strength === 'exact'
        ? -1
        : 1
      : a.record.claimedAt.localeCompare(b.record.claimedAt),
  );
}

/** A ban (R27) of this registrant in force on the claim's day; only the customer's identity is read. */
export interface BanFact {
  identity: IdentityKeys;
  until: Day;
  /** A former holder's cooldown after their record lapsed into the pool (R44), not a false-info ban (R27). */
  poolCooldown?: boolean;
}

/** A lapsed record of the same customer (exact match) whose customer is in the pool, unclaimed (R44). */
export interface PooledFact {
  no: string;
  /** When it entered the pool. */
  since: Instant;
}

export interface DecisionInput<R extends CandidateRecord = CandidateRecord> {
  claim: Claim;
  actor: ActorFacts;
  policy: Policy;
  /** The registration's identity keys as they are stored (hashed by the caller's keyring). */
  identity: IdentityKeys;
  /** The team of the registrant's user account, when the registrant has one. */
  registrantTeam: string | undefined;
  /** Bans of the registrant in force on claim.today whose customer shares an index key with the row. */
  bans: readonly BanFact[];
  /** Candidates (see candidateOf), in sortCandidates order. */
  candidates: readonly Candidate<R>[];
  /** Working days in force (R12 review deadline); the package's schedule when absent. */
  calendar?: WorkCalendar;
  /** R45: the registrant's active registrations now; absent when no cap is set. */
  activeCount?: number;
  /** R44: pooled customers the row matches exactly; registering claims them. */
  pooled?: readonly PooledFact[];
}

/** A record to save, before the edge gives it its number (R7). */
export type RecordDraft = Omit<StoredRecord, 'no'>;

export interface RegistrationDecision {
  /** The row's answer; for a record to save, `registrationNo` is added by numberRecord. */
  result: RowResult;
  /** The record to save, with the year its number is drawn from; absent when nothing is saved. */
  save?: { record: RecordDraft; year: number };
}

/**
 * The decision on an admitted claim, given what the look-ups found: banned (R27), the registrant's
 * own duplicate, refused or excepted territory (R18), queued behind a protection (R21), competing
 * with pending claims (R15, R17), possible matches for a reviewer, automatic approval, or — for an
 * administrator's migration — the status the history gives, judged as of the claim's day.
 */
export function decideRegistration<R extends CandidateRecord>(input: DecisionInput<R>): RegistrationDecision {
  const { claim, actor, policy, identity, candidates } = input;
  const { clientRowId, registration, receivedAt, claimedAt, today, migrating } = claim;
  const warnings = claim.warnings.slice();
  const registrant = registration.registrant;

  for (const ban of input.bans) {
    if (compareIdentities(identity, ban.identity, policy)?.strength !== 'exact') continue;
    if (ban.poolCooldown) {
      const error = poolCooldownProblem(addDays(ban.until, 1));
      return { result: { clientRowId, errors: [error], warnings, conflicts: [], status: 'rejected' } };
    }
    const error = problem(
      'registration.banned',
      `因提供虚假信息，您在 ${ban.until} 之前不能报备该客户（R27）`,
      `Because of false information you cannot register this customer until ${ban.until} (R27)`,
    );
    return { result: { clientRowId, errors: [error], warnings, conflicts: [], status: 'rejected' } };
  }

  const conflicts = candidates.map(conflictView);
  const exact = candidates.filter((c) => c.match.strength === 'exact');
  const own = exact.find((c) => c.record.registration.registrant === registrant);
  if (own) {
    warnings.push(
      problem(
        'registration.duplicate',
        '您已报备过该客户，本行未重复保存（编号见报备编号）',
        'You already registered this customer; this row was not saved again (see the registration number)',
      ),
    );
    return {
      result: {
        clientRowId,
        errors: [],
        warnings,
        conflicts,
        status: 'duplicate',
        registrationNo: own.record.no,
        ...datesOf(own.record),
      },
    };
  }

  if (input.activeCount !== undefined) {
    const cap = capDecision(policy, input.activeCount, migrating);
    if (cap.kind === 'refused') {
      return { result: { clientRowId, errors: [cap.problem], warnings, conflicts, status: 'rejected' } };
    }
    if (cap.kind === 'exempt') warnings.push(cap.problem);
  }
  const pooled = input.pooled ?? [];
  for (const p of pooled) warnings.push(inPoolProblem(p.since));

  const team =
    input.registrantTeam ?? registration.team ?? (registrant === actor.name ? actor.team : undefined);
  const territory = territoryCheck(registration.region, team, policy, claim.territoryExceptionClaimed);
  if (territory === 'refused') {
    const error = problem(
      'territory.foreign',
      `客户所在区域“${registration.region ?? ''}”属于其他部门；如属统一设计、统一招标分别采购或甲方使用乙方采购，请注明例外（R18）`,
      `The customer's region belongs to another team; claim an exception (unified design, unified tender, proxy purchase) if one applies (R18)`,
      'region',
    );
    return { result: { clientRowId, errors: [error], warnings, conflicts, status: 'rejected' } };
  }
  if (territory === 'exception') {
    warnings.push(
      problem(
        'territory.exception',
        '跨区域报备，已声明例外，需审核人批准（R18）',
        'Cross-region registration under a claimed exception; a reviewer must approve it (R18)',
        'region',
      ),
    );
  }

  const claimDay = dayOf(claimedAt);
  const holders = exact.filter(
    (c) =>
      PROTECTING_STATUSES.includes(c.status) ||
      (migrating &&
        c.record.protectedFrom !== undefined &&
        c.record.protectedUntil !== undefined &&
        c.record.protectedFrom <= claimDay &&
        claimDay <= c.record.protectedUntil),
  );
  const competitors = exact.filter((c) => c.status === 'pending' || c.status === 'conflict');
  const record: RecordDraft = {
    status: 'pending',
    registration,
    identity,
    submittedBy: actor.name,
    receivedAt,
    claimedAt,
    claimHasTime: claim.claimHasTime,
    followUps: [],
    history: [],
    version: 1,
  };
  if (team !== undefined) record.team = team;

  if (migrating) {
    decideMigrated(record, claim, holders.length > 0, policy);
  } else if (holders.length > 0) {
    record.status = 'conflict';
    record.conflictKind = 'queued';
    record.blockedBy = holders.map((c) => c.record.no);
  } else if (competitors.length > 0) {
    record.status = 'conflict';
    record.conflictKind = 'competing';
    record.blockedBy = competitors.map((c) => c.record.no);
  } else if (policy.autoApprove && candidates.length === 0 && territory === 'ok') {
    const window = grantedWindowOf(record, receivedAt, policy);
    if (window.until < today) warnings.push(protectionOverProblem(window, policy));
    else {
      // The last day a window granted today would run to: a start after it is no visit yet (R29).
      const latestStart = protectionWindow(today, policy.protection).until;
      if (window.from > latestStart) warnings.push(protectionFarAheadProblem(window, latestStart));
      else approve(record, receivedAt, policy);
    }
  }
  if (record.status === 'pending' || record.status === 'conflict') {
    setDeadline(record, 'reviewDueBy', reviewDueBy(today, policy, input.calendar ?? PACKAGE_CALENDAR), today);
  }
  if (record.status === 'conflict') {
    warnings.push(
      record.conflictKind === 'queued'
        ? problem(
            'registration.conflict',
            '该客户正在他人保护期内，本报备已登记排队，保护结束后按顺序转入审核（R21）',
            'This customer is protected for someone else; the registration is queued and goes to review when that protection ends (R21)',
          )
        : problem(
            'registration.conflict',
            '该客户已有他人报备待审核（撞单），将由审核人按报备时间等顺序裁定（R15）',
            'Someone else’s registration of this customer awaits review; a reviewer decides by registration time and the other criteria (R15)',
          ),
    );
  } else if (candidates.length > 0 && exact.length === 0) {
    warnings.push(
      problem(
        'match.possible',
        '发现可能是同一客户的报备，请审核人确认',
        'Registrations that may be the same customer were found; a reviewer will check',
      ),
    );
  }
  record.history.push({
    at: receivedAt,
    by: actor.name,
    action: migrating ? 'migrate' : 'register',
    to: record.status,
    ...(record.blockedBy || pooled.length > 0
      ? {
          details: {
            ...(record.blockedBy ? { blockedBy: record.blockedBy.join(',') } : {}),
            // R44: claimed from the pool (the lapsed records whose customer this is).
            ...(pooled.length > 0 ? { fromPool: pooled.map((p) => p.no).join(',') } : {}),
          },
        }
      : {}),
  });

  return {
    result: {
      clientRowId,
      errors: [],
      warnings,
      conflicts,
      status: effectiveStatus(record, today),
      ...datesOf(record),
    },
    save: { record, year: Number(today.slice(0, 4)) },
  };
}

/** The saved record and its answer once the edge has allocated the number (R7). */
export function numberRecord(
  decision: RegistrationDecision,
  no: string,
): { result: RowResult; record: StoredRecord } {
  if (decision.save === undefined) throw new Error('numberRecord: the decision saves no record');
  const { clientRowId, errors, warnings, conflicts, status, ...dates } = decision.result;
  return {
    result: { clientRowId, errors, warnings, conflicts, status, registrationNo: no, ...dates },
    record: { no, ...decision.save.record },
  };
}

/** Grants protection from the day policy says (approval, registration or first visit). */
export function approve(record: RecordDraft, approvedAt: Instant, policy: Policy): void {
  const window = grantedWindowOf(record, approvedAt, policy);
  record.status = 'protected';
  record.approvedAt = approvedAt;
  record.protectedFrom = window.from;
  record.protectedUntil = window.until;
  delete record.reviewDueBy;
  delete record.blockedBy;
  delete record.conflictKind;
}

/** The window approving `record` at `approvedAt` would grant. */
function grantedWindowOf(
  record: Pick<RecordDraft, 'claimedAt' | 'registration'>,
  approvedAt: Instant,
  policy: Policy,
): ProtectionWindow {
  return grantedWindow(
    { claimedAt: record.claimedAt, approvedAt, firstVisitAt: record.registration.firstVisitAt },
    policy,
  );
}

/**
 * R21, R29: auto-approval stands in for a reviewer, so it does not grant what a reviewer may not
 * (`review.protection_over`): a window counted from the first visit (or the registration) that
 * ended before today would protect nobody. The registration waits for a reviewer instead, who may
 * reject it, and the registrant may still correct a mistyped first visit meanwhile.
 */
function protectionOverProblem(window: ProtectionWindow, policy: Policy): Problem {
  // Only a first-visit (R29) or a registration (R30, an administrator's backdated row) basis can
  // start a window that is over on the day it is filed; approval starts today.
  if (policy.protection.from === 'registration') {
    return problem(
      'registration.protection_over',
      `保护期自报备日 ${window.from} 起算，已于 ${window.until} 结束，未自动批准，已转审核人处理（R30、R21）`,
      `Protection counts from the registration on ${window.from} and ended on ${window.until}, so it was not approved automatically; a reviewer decides (R30, R21)`,
      'registeredAt',
    );
  }
  return problem(
    'registration.protection_over',
    `保护期自到访日 ${window.from} 起算，已于 ${window.until} 结束，未自动批准，已转审核人处理（R29、R21）；如到访时间有误，请更正`,
    `Protection counts from the first visit on ${window.from} and ended on ${window.until}, so it was not approved automatically; a reviewer decides (R29, R21). Correct the first visit if it is wrong`,
    'firstVisitAt',
  );
}

/**
 * R29: a first visit further ahead than one protection length would hold the customer from today
 * until a month after a visit that has not happened — a channel's planned visit half a year out
 * keeps everyone else off for seven months. Auto-approval grants no such window: the row waits for
 * a reviewer (who may approve it), and a mistyped year can be corrected meanwhile.
 */
function protectionFarAheadProblem(window: ProtectionWindow, latestStart: Day): Problem {
  return problem(
    'registration.visit_far_ahead',
    `到访日 ${window.from} 晚于今日起一个保护期的末日 ${latestStart}，保护期将至 ${window.until}：未自动批准，已转审核人处理（R29）；如到访时间有误，请更正`,
    `The first visit on ${window.from} is after ${latestStart}, the last day of a protection period starting today, so protection would last until ${window.until}: not approved automatically; a reviewer decides (R29). Correct the first visit if it is wrong`,
    'firstVisitAt',
  );
}

/** A candidate as the row's submitter may see it (R3: no customer details). */
export function conflictView(c: Candidate<CandidateRecord>): Conflict {
  const view: Conflict = {
    registrationNo: c.record.no,
    status: c.status,
    holder: { name: c.record.registration.registrant },
    registeredAt: c.record.claimedAt,
    matchedOn: c.match.matchedOn,
    strength: c.match.strength,
  };
  if (c.record.team !== undefined) view.holder.team = c.record.team;
  if (c.record.protectedUntil !== undefined) view.protectedUntil = c.record.protectedUntil;
  return view;
}

export function datesOf(record: {
  protectedFrom?: Day | undefined;
  protectedUntil?: Day | undefined;
  reviewDueBy?: Day | undefined;
  estimatedDeadlines?: { reviewDueBy?: Day | undefined; objectionDeadline?: Day | undefined } | undefined;
}): Pick<RowResult, 'protectedFrom' | 'protectedUntil' | 'reviewDueBy' | 'estimated'> {
  const out: Pick<RowResult, 'protectedFrom' | 'protectedUntil' | 'reviewDueBy' | 'estimated'> = {};
  if (record.protectedFrom !== undefined) out.protectedFrom = record.protectedFrom;
  if (record.protectedUntil !== undefined) out.protectedUntil = record.protectedUntil;
  if (record.reviewDueBy !== undefined) out.reviewDueBy = record.reviewDueBy;
  // A row answers with its review deadline only; say when that day is an estimate (calendar).
  const estimated = estimatedFields(record).filter((f) => f === 'reviewDueBy');
  if (estimated.length > 0) out.estimated = estimated;
  return out;
}

/** Migration: the history's status, unless the customer was protected for someone else that day (R17). */
function decideMigrated(record: RecordDraft, claim: Claim, held: boolean, policy: Policy): void {
  if (held) {
    // R17: the earlier claim holds; this one is kept as a conflict for a reviewer to look at.
    record.status = 'conflict';
    record.conflictKind = 'queued';
    return;
  }
  switch (claim.historyStatus) {
    case 'pending':
      return;
    case 'rejected':
    case 'terminated':
    case 'signed':
      record.status = claim.historyStatus;
      record.approvedAt = claim.approvedAt ?? record.claimedAt;
      return;
    default:
      approve(record, claim.approvedAt ?? record.claimedAt, policy);
      if (
        claim.historyStatus === 'expired' ||
        (record.protectedUntil !== undefined && record.protectedUntil < claim.today)
      ) {
        record.status = 'expired';
      }
  }
}

/** R18: a customer's region belongs to a team; another team's claim needs a declared exception. */
export function territoryCheck(
  region: string | undefined,
  team: string | undefined,
  policy: Policy,
  exceptionClaimed: boolean,
): 'ok' | 'exception' | 'refused' {
  if (!policy.territory.enabled || region === undefined || team === undefined) return 'ok';
  const owner = regionOwner(region, policy.territory.regionTeams);
  if (owner === undefined || owner === team) return 'ok';
  return exceptionClaimed ? 'exception' : 'refused';
}

/**
 * The team owning a region as a sheet writes it. Sheets write 北京市 or 北京市朝阳区 where the policy
 * says 北京, and a province's team owns its cities (广东 owns 深圳), so both sides are read as
 * regions and the narrowest policy region containing the row's decides. Text that is no known
 * region is owned only by an entry spelled the same.
 */
function regionOwner(region: string, regionTeams: Record<string, string>): string | undefined {
  // Own entries only: a region called toString is no team's.
  if (Object.hasOwn(regionTeams, region)) return regionTeams[region];
  const name = regionNameOf(region);
  if (name === null) return undefined;
  let owner: { region: string; team: string } | undefined;
  for (const [entry, team] of Object.entries(regionTeams)) {
    const entryName = regionNameOf(entry) ?? entry;
    if (!regionContains(entryName, name)) continue;
    if (owner === undefined || regionContains(owner.region, entryName)) owner = { region: entryName, team };
  }
  return owner?.team;
}

/** The region a text names as a whole (北京市朝阳区 → 北京, 广东省 → 广东), or null. */
function regionNameOf(text: string): string | null {
  const trimmed = text.trim();
  const match = matchRegionChainAt(trimmed, 0);
  return match !== null && match.end === trimmed.length ? match.region : null;
}

/** The registrant a row names, or null when its cell is itself wrong (reported by parseRow). */
function registrantNamed(raw: RawRow, ctx: RowContext): string | null {
  const named = registrantOf(raw, ctx);
  return 'value' in named ? named.value : null;
}
