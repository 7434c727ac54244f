/**
 * What happens to one submitted row (issue: Semantics): parse and normalise it, find the records
 * of the same customer through hashed identity keys, and decide — invalid, duplicate, banned,
 * conflict (competing or queued), pending, or protected. Shared by check (R3), registration and
 * the legacy import, so every path runs exactly the same checks.
 */
import { parseRow } from '../../core/row.js';
import { parseInstant } from '../../core/dateValue.js';
import {
  compareIdentities,
  hashIdentityKeys,
  identityKeys,
  lookupKeys,
  type Match,
} from '../../core/matching.js';
import {
  estimatedFields,
  isLateRegistration,
  protectionWindow,
  reviewDueBy,
  setDeadline,
} from '../../core/protection.js';
import { PACKAGE_CALENDAR, type WorkCalendar } from '../../core/calendar.js';
import { effectiveStatus } from '../../core/lifecycle.js';
import { dayOf, startOfDay } from '../../core/day.js';
import { problem, type Problem } from '../../core/problem.js';
import type { Policy } from '../../core/policy.js';
import {
  PROTECTING_STATUSES,
  type Conflict,
  type IdentityKeys,
  type RawRow,
  type RecordStatus,
  type RowResult,
  type StoredRecord,
  type SubmissionRow,
} from '../../core/schema.js';
import type { Keyring } from '../security/keyring.js';
import type { WriteTx } from '../store/store.js';
import type { Actor } from './actor.js';

export interface EvaluationContext {
  tx: WriteTx;
  actor: Actor;
  policy: Policy;
  now: Date;
  keyring: Keyring;
  /** Working days with the schedules administrators entered (R4, R12); the package's alone when absent. */
  calendar?: WorkCalendar;
  /** Legacy migration (issue 4, history mode): rows are taken as approved on their registration date. */
  history?: boolean;
}

export interface Evaluation {
  result: RowResult;
  /** The record to save; absent for invalid, duplicate and nothing-saved outcomes. */
  record?: StoredRecord;
}

/** A stored record seen through the lookup: its effective status and how it matched. */
interface Candidate {
  record: StoredRecord;
  status: RecordStatus;
  match: Match;
}

const ACTIVE: readonly RecordStatus[] = ['pending', 'conflict', 'protected', 'extension-requested'];

export async function evaluateRow(row: SubmissionRow, ctx: EvaluationContext): Promise<Evaluation> {
  const { actor, policy, now } = ctx;
  const today = dayOf(now);
  const {
    approvedAt: rawApprovedAt,
    status: historyStatus,
    territoryException,
    clientRowId,
    ...fields
  } = row;
  const base = {
    clientRowId,
    errors: [] as Problem[],
    warnings: [] as Problem[],
    conflicts: [] as Conflict[],
  };

  const privileged = actor.role === 'reviewer' || actor.role === 'admin';
  const errors: Problem[] = [];
  const warnings: Problem[] = [];
  const raw: RawRow = { ...fields };
  const migrating =
    actor.role === 'admin' && (ctx.history === true || rawApprovedAt != null || historyStatus !== undefined);
  if ((rawApprovedAt != null || historyStatus !== undefined) && actor.role !== 'admin') {
    errors.push(
      problem(
        'approvedAt.forbidden',
        '只有管理员可以导入审批日期或状态（历史数据迁移）',
        'Only administrators send approval dates or statuses (history migration)',
        rawApprovedAt != null ? 'approvedAt' : 'status',
      ),
    );
  }
  const parsed = parseRow(raw, { referenceDate: today, policy, defaultRegistrant: actor.name });
  errors.push(...parsed.errors);
  warnings.push(...parsed.warnings);
  let approvedAt: string | undefined;
  if (rawApprovedAt != null && rawApprovedAt !== '') {
    const a = parseInstant(rawApprovedAt, { referenceYear: Number(today.slice(0, 4)) });
    if (a.ok) approvedAt = a.instant;
    else errors.push({ ...a.problem, field: 'approvedAt' });
  }
  const registration = parsed.registration;
  if (registration !== null && !privileged && registration.registrant !== actor.name) {
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
    return { result: { ...base, status: 'invalid', errors, warnings } };
  }

  const receivedAt = now.toISOString();
  // Only administrators backdate (history migration); for everyone else the receipt time counts (R17).
  const backdated = actor.role === 'admin' && registration.registeredAt !== undefined;
  const claimedAt = backdated ? registration.registeredAt! : receivedAt;
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
  const claimHasTime = claimedAt === receivedAt || claimedAt !== startOfDay(dayOf(claimedAt));
  if (
    registration.firstVisitAt !== undefined &&
    isLateRegistration(
      dayOf(registration.firstVisitAt),
      dayOf(claimedAt),
      policy,
      ctx.calendar ?? PACKAGE_CALENDAR,
    )
  ) {
    warnings.push(
      problem(
        'registration.late',
        `超过首次接触后 ${policy.registrationDeadlineWorkdays} 个工作日才报备（R4）`,
        `Registered more than ${policy.registrationDeadlineWorkdays} working days after first contact (R4)`,
        'registeredAt',
      ),
    );
  }

  const identity = hashIdentityKeys(identityKeys(registration, policy), ctx.keyring.hash);
  const registrant = registration.registrant;
  const registrantUser = await ctx.tx.getUserByName(registrant);
  const team =
    registrantUser?.team ?? registration.team ?? (registrant === actor.name ? actor.team : undefined);

  const keys = lookupKeys(identity);
  const bans = await ctx.tx.findBans(keys, registrant, today);
  const ban = bans.find((b) => compareIdentities(identity, b.identity, policy)?.strength === 'exact');
  if (ban) {
    return {
      result: {
        ...base,
        status: 'rejected',
        warnings,
        errors: [
          problem(
            'registration.banned',
            `因提供虚假信息，您在 ${ban.until} 之前不能报备该客户（R27）`,
            `Because of false information you cannot register this customer until ${ban.until} (R27)`,
          ),
        ],
      },
    };
  }

  // A migrated claim is judged as of its own day: inside someone's protection then, it lost (R21).
  const candidates = await findCandidates(ctx.tx, identity, policy, today, {
    keys,
    ...(migrating ? { protectingOn: dayOf(claimedAt) } : {}),
  });
  const conflicts = candidates.map((c) => conflictView(c));
  const exact = candidates.filter((c) => c.match.strength === 'exact');
  const own = exact.find((c) => c.record.registration.registrant === registrant);
  if (own) {
    return {
      result: {
        ...base,
        status: 'duplicate',
        registrationNo: own.record.no,
        ...datesOf(own.record),
        warnings: [
          ...warnings,
          problem(
            'registration.duplicate',
            '您已报备过该客户，本行未重复保存（编号见报备编号）',
            'You already registered this customer; this row was not saved again (see the registration number)',
          ),
        ],
        conflicts,
      },
    };
  }

  const territory = territoryCheck(registration.region, team, policy, territoryException !== undefined);
  if (territory === 'refused') {
    return {
      result: {
        ...base,
        status: 'rejected',
        warnings,
        errors: [
          problem(
            'territory.foreign',
            `客户所在区域“${registration.region ?? ''}”属于其他部门；如属统一设计、统一招标分别采购或甲方使用乙方采购，请注明例外（R18）`,
            `The customer's region belongs to another team; claim an exception (unified design, unified tender, proxy purchase) if one applies (R18)`,
            'region',
          ),
        ],
        conflicts,
      },
    };
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
  const no = await ctx.tx.nextRegistrationNo(Number(dayOf(receivedAt).slice(0, 4)));
  const record: StoredRecord = {
    no,
    status: 'pending',
    registration,
    identity,
    submittedBy: actor.name,
    receivedAt,
    claimedAt,
    claimHasTime,
    followUps: [],
    history: [],
    version: 1,
  };
  if (team !== undefined) record.team = team;

  if (migrating) {
    decideMigrated(record, { approvedAt, historyStatus, holders: holders.length > 0, policy, today });
  } else if (holders.length > 0) {
    record.status = 'conflict';
    record.conflictKind = 'queued';
    record.blockedBy = holders.map((c) => c.record.no);
  } else if (competitors.length > 0) {
    record.status = 'conflict';
    record.conflictKind = 'competing';
    record.blockedBy = competitors.map((c) => c.record.no);
  } else if (policy.autoApprove && candidates.length === 0 && territory === 'ok') {
    approve(record, receivedAt, policy);
  }
  if (record.status === 'pending' || record.status === 'conflict') {
    const receivedDay = dayOf(receivedAt);
    setDeadline(
      record,
      'reviewDueBy',
      reviewDueBy(receivedDay, policy, ctx.calendar ?? PACKAGE_CALENDAR),
      receivedDay,
    );
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
    ...(record.blockedBy ? { details: { blockedBy: record.blockedBy.join(',') } } : {}),
  });

  return {
    result: {
      ...base,
      status: effectiveStatus(record, today),
      registrationNo: no,
      ...datesOf(record),
      warnings,
      conflicts,
    },
    record,
  };
}

/** Records of the same customer, exact and possible, with their effective status; ended ones are left out. */
export async function findCandidates(
  tx: Pick<WriteTx, 'findRecordsByKeys'>,
  identity: IdentityKeys,
  policy: Policy,
  today: string,
  options: {
    /** A record not to count (the one whose competitors are wanted). */
    exclude?: string;
    /** Migration: also records protecting the customer on this (past) day, though ended since. */
    protectingOn?: string;
    /** The identity's lookup keys, when the caller has them already. */
    keys?: readonly string[];
  } = {},
): Promise<Candidate[]> {
  const { exclude, protectingOn } = options;
  const found: Candidate[] = [];
  // Compare on the clear, hashed identities first; only records that match are decrypted.
  const accept = (other: IdentityKeys) => compareIdentities(identity, other, policy) !== null;
  for (const record of await tx.findRecordsByKeys(options.keys ?? lookupKeys(identity), accept)) {
    if (record.no === exclude) continue;
    const status = effectiveStatus(record, today);
    const protectedThen =
      protectingOn !== undefined &&
      record.protectedFrom !== undefined &&
      record.protectedUntil !== undefined &&
      record.protectedFrom <= protectingOn &&
      protectingOn <= record.protectedUntil &&
      record.status !== 'rejected';
    if (!ACTIVE.includes(status) && !protectedThen) continue;
    const match = compareIdentities(identity, record.identity, policy);
    if (match) found.push({ record, status, match });
  }
  found.sort((a, b) =>
    a.match.strength !== b.match.strength
      ? a.match.strength === 'exact'
        ? -1
        : 1
      : a.record.claimedAt.localeCompare(b.record.claimedAt),
  );
  return found;
}

/** Grants protection from the day policy says (approval, registration or first visit). */
export function approve(record: StoredRecord, approvedAt: string, policy: Policy): void {
  const from =
    policy.protection.from === 'registration'
      ? dayOf(record.claimedAt)
      : policy.protection.from === 'firstVisit' && record.registration.firstVisitAt !== undefined
        ? dayOf(record.registration.firstVisitAt)
        : dayOf(approvedAt);
  const window = protectionWindow(from, policy.protection);
  record.status = 'protected';
  record.approvedAt = approvedAt;
  record.protectedFrom = window.from;
  record.protectedUntil = window.until;
  delete record.reviewDueBy;
  delete record.blockedBy;
  delete record.conflictKind;
}

function decideMigrated(
  record: StoredRecord,
  o: {
    approvedAt: string | undefined;
    historyStatus: string | undefined;
    holders: boolean;
    policy: Policy;
    today: string;
  },
): void {
  if (o.holders) {
    // R17: the earlier claim holds; this one is kept as a conflict for a reviewer to look at.
    record.status = 'conflict';
    record.conflictKind = 'queued';
    return;
  }
  switch (o.historyStatus) {
    case 'pending':
      return;
    case 'rejected':
    case 'terminated':
    case 'signed':
      record.status = o.historyStatus;
      record.approvedAt = o.approvedAt ?? record.claimedAt;
      return;
    default:
      approve(record, o.approvedAt ?? record.claimedAt, o.policy);
      if (
        o.historyStatus === 'expired' ||
        (record.protectedUntil !== undefined && record.protectedUntil < o.today)
      ) {
        record.status = 'expired';
      }
  }
}

function territoryCheck(
  region: string | undefined,
  team: string | undefined,
  policy: Policy,
  exceptionClaimed: boolean,
): 'ok' | 'exception' | 'refused' {
  if (!policy.territory.enabled || region === undefined || team === undefined) return 'ok';
  const owner = policy.territory.regionTeams[region];
  if (owner === undefined || owner === team) return 'ok';
  return exceptionClaimed ? 'exception' : 'refused';
}

export function conflictView(c: Candidate): Conflict {
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

export function datesOf(
  record: StoredRecord,
): Pick<RowResult, 'protectedFrom' | 'protectedUntil' | 'reviewDueBy' | 'estimated'> {
  const out: Pick<RowResult, 'protectedFrom' | 'protectedUntil' | 'reviewDueBy' | 'estimated'> = {};
  if (record.protectedFrom !== undefined) out.protectedFrom = record.protectedFrom;
  if (record.protectedUntil !== undefined) out.protectedUntil = record.protectedUntil;
  if (record.reviewDueBy !== undefined) out.reviewDueBy = record.reviewDueBy;
  const estimated = estimatedFields(record).filter((f) => f === 'reviewDueBy');
  if (estimated.length > 0) out.estimated = estimated;
  return out;
}
