/**
 * Retention (R39, 保存期限): a record is kept `retentionYears` after it closes; only then may its
 * personal data be destroyed, on one administrator's request and another's approval. This module
 * decides which records are old enough and what a destroyed record keeps — the facts the audit
 * needs (number, type, registrant, team, dates, statuses), never who the customer was.
 */
import { addMonths, dayOf } from './day.js';
import { effectiveStatus } from './lifecycle.js';
import type { Policy } from './policy.js';
import { DomainError, problem, type Problem } from './problem.js';
import type { Day, IdentityKeys, Instant, RecordStatus, StoredRecord } from './schema.js';

/** Statuses after which nothing more happens to a registration. */
export const CLOSED_STATUSES: readonly RecordStatus[] = [
  'signed',
  'expired',
  'terminated',
  'rejected',
  'void',
];

/** R39: records are kept 10 years; a policy may keep them longer, never shorter. */
export const MIN_RETENTION_YEARS = 10;

/**
 * The policy as R39 lets it be read: a store written before PUT /api/policy refused fewer than 10
 * years may hold fewer, and then every reader (the policy shown, a destruction's list and message)
 * takes the floor instead.
 */
export function withRetentionFloor(policy: Policy): Policy {
  return policy.retentionYears >= MIN_RETENTION_YEARS
    ? policy
    : { ...policy, retentionYears: MIN_RETENTION_YEARS };
}

/** Put in place of every erased text, so a reader sees it was destroyed rather than never given. */
export const DESTROYED_TEXT = '（已销毁）';

/**
 * The day a record closed, or undefined while it is still open. A protection that ran out by
 * itself closed on its last day (the sweep may not have written `expired` yet); otherwise it is
 * the day of the last history entry that moved it into its closed status.
 */
export function closedOn(record: StoredRecord, today: Day): Day | undefined {
  const status = effectiveStatus(record, today);
  if (!CLOSED_STATUSES.includes(status)) return undefined;
  if (status === 'expired' && record.status !== 'expired') return record.protectedUntil;
  for (let i = record.history.length - 1; i >= 0; i--) {
    const entry = record.history[i]!;
    if (entry.to === status) return dayOf(entry.at);
  }
  // A record imported already closed (history migration) has no transition: it closed when received.
  return dayOf(record.receivedAt);
}

/** The last day a closed record must still be kept: `years` after it closed (29 Feb → 28 Feb). */
export function keptUntil(closed: Day, years: number): Day {
  return addMonths(closed, years * 12);
}

/** Whether the record's personal data may be destroyed today: closed, and kept its full term. */
export function destructible(record: StoredRecord, today: Day, retentionYears: number): boolean {
  if (record.destroyed !== undefined) return false;
  const closed = closedOn(record, today);
  // A policy stored before PUT /api/policy refused fewer years may still hold them: never below R39.
  const years = Math.max(retentionYears, MIN_RETENTION_YEARS);
  return closed !== undefined && keptUntil(closed, years) < today;
}

/**
 * Why nothing changes a destroyed record or acts on it: it stays as the destruction left it, the
 * record R39 says a destruction leaves — changed or resubmitted, it would hold personal data again.
 */
export function destroyedProblem(no: string): Problem {
  return problem(
    'retention.destroyed',
    `报备 ${no} 的客户资料已于保存期满后销毁（R39），不能再更改或办理`,
    `Registration ${no} was destroyed after its retention period (R39); it is not changed or acted on again`,
  );
}

export function assertNotDestroyed(record: StoredRecord): void {
  if (record.destroyed !== undefined) throw new DomainError(destroyedProblem(record.no));
}

/** Identity keys that match nothing: a destroyed record can never be found by a customer again. */
function erasedIdentity(record: StoredRecord): IdentityKeys {
  return {
    customerType: record.identity.customerType,
    creditCode: null,
    name: `destroyed:${record.no}`,
    nameBlocks: [],
    nameGrams: [],
    phone: null,
    phoneIsMobile: false,
    maskedPhone: null,
    phoneMasked: false,
    email: null,
    household: null,
    person: null,
    surname: null,
  };
}

/**
 * The record with its personal data erased for good: customer, contacts, addresses, needs, notes,
 * amounts, follow-up texts, reasons and change details. What stays is what the audit of a
 * destruction needs and R39's "leaves a record": number, type, region, registrant, team, channel,
 * source, every date and status, and who did what when.
 */
export function eraseRecord(
  record: StoredRecord,
  at: Instant,
  by: { requestedBy: string; approvedBy: string; requestId: string },
): StoredRecord {
  const r = record.registration;
  return {
    ...record,
    registration: {
      customerName: DESTROYED_TEXT,
      customerType: r.customerType,
      registrant: r.registrant,
      ...(r.team !== undefined ? { team: r.team } : {}),
      ...(r.region !== undefined ? { region: r.region } : {}),
      ...(r.channel !== undefined ? { channel: r.channel } : {}),
      ...(r.source !== undefined ? { source: r.source } : {}),
      ...(r.registeredAt !== undefined ? { registeredAt: r.registeredAt } : {}),
    },
    identity: erasedIdentity(record),
    ...(record.reason !== undefined ? { reason: DESTROYED_TEXT } : {}),
    ...(record.extension ? { extension: { ...record.extension, reason: DESTROYED_TEXT } } : {}),
    ...(record.objection ? { objection: { ...record.objection, reason: DESTROYED_TEXT } } : {}),
    followUps: record.followUps.map((f) => ({ at: f.at, by: f.by, note: DESTROYED_TEXT })),
    // Change history carries old and new values (R37): only the shape of each step remains.
    history: [
      ...record.history.map(({ at: when, by: who, action, from, to }) => ({
        at: when,
        by: who,
        action,
        ...(from !== undefined ? { from } : {}),
        ...(to !== undefined ? { to } : {}),
      })),
      {
        at,
        by: by.approvedBy,
        action: 'retention.destroy',
        details: { requestedBy: by.requestedBy, approvedBy: by.approvedBy, requestId: by.requestId },
      },
    ],
    destroyed: { at, requestId: by.requestId },
    version: record.version + 1,
  };
}
