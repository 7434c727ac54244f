/**
 * What a lifecycle action writes beside its own change, shared by the actions of
 * server/services/lifecycleService.ts and the sweep of server/services/lifecycleSweep.ts: a status
 * transition with its history entry (R37), and the consequences of a record ending — the next
 * queued registration moves up (R21), a share partner holds the customer alone (R16), a pool claim
 * passes on or the customer returns to the pool (R44).
 */
import type { WorkCalendar } from '../../core/calendar.js';
import { canTransition, effectiveShare, effectiveStatus } from '../../core/lifecycle.js';
import { POOL_COLLECTION } from '../../core/pool.js';
import type { Policy } from '../../core/policy.js';
import { DomainError, problem } from '../../core/problem.js';
import { reviewDueBy, setDeadline } from '../../core/protection.js';
import { ACTIVE_STATUSES, type RecordStatus, type StoredRecord } from '../../core/schema.js';
import type { WriteTx } from '../store/store.js';
import type { Actor } from './actor.js';
import type { Notifier } from './notifier.js';
import { claimFromPool, poolEntryOf } from './poolService.js';
import { findCandidates } from './rowEvaluation.js';

/** What one lifecycle action (or one sweep) writes with: its transaction, who acts, when, and what it touched. */
export interface ActionContext {
  tx: WriteTx;
  actor: Actor;
  policy: Policy;
  now: string;
  today: string;
  notify: Notifier;
  /** Every record number this action read or changed, for the audit trail. */
  touched: Set<string>;
}

export function transition(
  ctx: ActionContext,
  record: StoredRecord,
  to: RecordStatus,
  action: string,
  reason: string | undefined,
  reasonCode?: string,
): void {
  const shown = effectiveStatus(record, ctx.today);
  if (shown !== to && !canTransition(record.status, to) && !(shown === 'expired' && to === 'expired')) {
    throw invalidState(record, shown, action, action);
  }
  // History records the stored status that changed (R37): the sweep moves protected → expired.
  const from = record.status;
  record.status = to;
  if (reasonCode !== undefined) record.reasonCode = reasonCode;
  if (reason !== undefined) record.reason = reason;
  if (to !== 'pending' && to !== 'conflict') delete record.reviewDueBy;
  logHistory(ctx, record, action, from, reason);
}

export function logHistory(
  ctx: ActionContext,
  record: StoredRecord,
  action: string,
  from: RecordStatus | undefined,
  reason: string | undefined,
  details?: Record<string, string>,
): void {
  record.version++;
  ctx.touched.add(record.no);
  record.history.push({
    at: ctx.now,
    by: ctx.actor.name,
    action,
    ...(from !== undefined ? { from } : {}),
    to: record.status,
    ...(reason !== undefined ? { reason } : {}),
    ...(details ? { details } : {}),
  });
}

/**
 * R16: a share whose partner left (withdrew, was closed, ran out or lapsed) holds the customer
 * alone, so it shows the whole of it; its history keeps the split it had (R37) and its holder is
 * told. Both shares ended by one decision (an upheld objection) leave no survivor.
 */
export async function partnerLeft(ctx: ActionContext, left: StoredRecord): Promise<void> {
  if (!left.share) return;
  const survivor = await ctx.tx.getRecord(left.share.withNo);
  if (survivor?.share?.withNo !== left.no) return;
  await holdAlone(ctx, survivor, left);
}

/**
 * Writes what core effectiveShare already shows: the survivor at 100%. A survivor caught up long
 * after its partner left is told too: the percent its holder reads changes now, and the holder of
 * a store written before partner_left was never told the split was gone.
 */
export async function holdAlone(
  ctx: ActionContext,
  survivor: StoredRecord,
  left: StoredRecord,
): Promise<void> {
  const share = survivor.share;
  if (share === undefined || share.percent >= 100) return;
  if (effectiveShare(survivor, left, ctx.today)?.percent !== 100) return;
  survivor.share = { ...share, percent: 100 };
  logHistory(ctx, survivor, 'share.partner_left', undefined, undefined, {
    withNo: left.no,
    from: String(share.percent),
    to: '100',
  });
  ctx.notify.toRegistrant(survivor, 'changed', {
    fields: 'share',
    ...(ctx.actor.id === 'system' ? {} : { by: ctx.actor.name }),
  });
  await ctx.tx.putRecord(survivor);
}

/**
 * R44: a claim from the pool that ends before it was ever protected (rejected, withdrawn) hands
 * the claim to the next active registration of the customer, or — none left — puts the customer
 * back in the pool, so a refused claim never hides a pooled customer from everyone else.
 */
export async function releasePoolClaim(ctx: ActionContext, record: StoredRecord): Promise<void> {
  if (record.approvedAt !== undefined) return;
  // Registering names the pool entries it claimed in its first history entry; a change of
  // identity or a resubmission that claimed some names them in its own (claimPooledOnReentry).
  const poolNos = record.history.flatMap((h) => {
    const fromPool = h.details?.['fromPool'];
    return typeof fromPool === 'string' ? fromPool.split(',') : [];
  });
  // Who takes the claims on is the same for every entry: looked up once, when the first needs it.
  let taking: Promise<StoredRecord | undefined> | undefined;
  for (const poolNo of new Set(poolNos)) {
    const entry = poolEntryOf(await ctx.tx.getDoc(POOL_COLLECTION, poolNo));
    if (entry?.claimed?.no !== record.no) continue;
    const next = await (taking ??= earliestActiveClaim(ctx, record));
    if (next) entry.claimed = { no: next.no, by: next.registration.registrant, at: next.claimedAt };
    else delete entry.claimed;
    await ctx.tx.putDoc(POOL_COLLECTION, poolNo, entry);
  }
}

/**
 * R44: a lapsed customer whom someone else still holds or waits for — a share partner's protection
 * (R16), a registration promoted from the queue (R17) — is not offered in the pool: its entry goes
 * at once to the earliest of them, as releasePoolClaim passes a claim on. A claim not yet protected
 * names the entry in its history (`fromPool`), so that its rejection puts the customer back.
 */
export async function passLapsedClaim(ctx: ActionContext, lapsed: StoredRecord): Promise<void> {
  const next = await earliestActiveClaim(ctx, lapsed);
  if (next === undefined) return;
  if (next.approvedAt === undefined) {
    const last = next.history.at(-1);
    if (last !== undefined) last.details = { ...last.details, fromPool: lapsed.no };
    await ctx.tx.putRecord(next);
  }
  await claimFromPool(ctx.tx, [{ no: lapsed.no, since: ctx.now }], next, ctx.now);
}

/** The customer's earliest active registration but `record` (exact match, R17 order): who takes a pool claim on. */
async function earliestActiveClaim(
  ctx: ActionContext,
  record: StoredRecord,
): Promise<StoredRecord | undefined> {
  return (await findCandidates(ctx.tx, record.identity, ctx.policy, ctx.today, { exclude: record.no }))
    .filter((c) => c.match.strength === 'exact' && ACTIVE_STATUSES.includes(c.status))
    .map((c) => c.record)
    .sort((a, b) => a.claimedAt.localeCompare(b.claimedAt) || a.no.localeCompare(b.no))[0];
}

/**
 * R21: when a record leaves the running, registrations that waited or competed only because of
 * it move up; the earliest claim becomes pending (with a fresh review deadline) and the rest
 * compete with it.
 */
export async function promoteNext(
  ctx: ActionContext,
  ended: StoredRecord,
  calendar: WorkCalendar,
): Promise<void> {
  const candidates = await findCandidates(ctx.tx, ended.identity, ctx.policy, ctx.today, {
    exclude: ended.no,
  });
  const stillActive = new Set(candidates.filter((c) => c.status !== 'conflict').map((c) => c.record.no));
  const freed = candidates
    .filter((c) => c.status === 'conflict' && (c.record.blockedBy ?? []).includes(ended.no))
    .map((c) => c.record)
    .filter((r) => !(r.blockedBy ?? []).some((b) => b !== ended.no && stillActive.has(b)));
  if (freed.length === 0) return;
  freed.sort((a, b) => a.claimedAt.localeCompare(b.claimedAt) || a.no.localeCompare(b.no));
  const [first, ...rest] = freed as [StoredRecord, ...StoredRecord[]];
  first.status = 'pending';
  delete first.blockedBy;
  delete first.conflictKind;
  const due = reviewDueBy(ctx.today, ctx.policy, calendar);
  setDeadline(first, 'reviewDueBy', due, ctx.today);
  logHistory(ctx, first, 'queue.promote', 'conflict', undefined, { after: ended.no });
  ctx.notify.toRegistrant(first, 'queue.promoted', { after: ended.no, reviewDueBy: due.day });
  await ctx.tx.putRecord(first);
  for (const other of rest) {
    other.blockedBy = [first.no];
    other.conflictKind = 'competing';
    logHistory(ctx, other, 'queue.promote', 'conflict', undefined, { after: ended.no });
    await ctx.tx.putRecord(other);
  }
}

export function invalidState(
  record: StoredRecord,
  status: RecordStatus,
  what: string,
  whatEn: string,
): DomainError {
  return new DomainError(
    problem(
      'status.transition',
      `报备 ${record.no} 当前状态为“${status}”，不能${what}`,
      `Registration ${record.no} is ${status}; cannot ${whatEn} it`,
    ),
    { status },
  );
}
