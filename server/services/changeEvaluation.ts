/**
 * One change to a filed registration, gathered at the edge and decided in core
 * (core/registrationChange): admit the change, hash the changed identity's keys with the keyring,
 * look up the records of the old and the new customer (the same `findCandidates` a registration
 * uses) and the registrant's bans, let core decide, and save the record. Shared by the PATCH route
 * and the legacy import's corrections, so both decide alike. Runs inside the caller's write.
 */
import type { WorkCalendar } from '../../core/calendar.js';
import { dayOf } from '../../core/day.js';
import { hashIdentityKeys, identityKeys } from '../../core/matching.js';
import type { Policy } from '../../core/policy.js';
import type { Problem } from '../../core/problem.js';
import {
  admitChange,
  decideChange,
  type AppliedChange,
  type ChangeRequest,
  type ChangeRole,
  type Refusal,
} from '../../core/registrationChange.js';
import type { BanFact } from '../../core/registrationDecision.js';
import type { Conflict, StoredRecord } from '../../core/schema.js';
import type { Keyring } from '../security/keyring.js';
import type { WriteTx } from '../store/store.js';
import type { Actor } from './actor.js';
import { claimFacts, claimPooledOnReentry, findCandidates } from './rowEvaluation.js';

export interface ChangeEvaluationContext {
  tx: WriteTx;
  actor: Actor;
  as: ChangeRole;
  policy: Policy;
  now: Date;
  keyring: Keyring;
  calendar?: WorkCalendar | undefined;
}

/** Refused (every problem, the clashing registrations in the R3 view), or applied and saved. */
export type ChangeEvaluation =
  | { ok: false; errors: Problem[]; conflicts: Conflict[]; details?: Refusal['details'] }
  | (AppliedChange & { identityChanged: boolean; late: boolean });

export async function evaluateChange(
  record: StoredRecord,
  request: ChangeRequest,
  ctx: ChangeEvaluationContext,
): Promise<ChangeEvaluation> {
  const { tx, policy } = ctx;
  const now = ctx.now.toISOString();
  const today = dayOf(now);
  const admission = admitChange(record, request, {
    actor: ctx.actor,
    as: ctx.as,
    policy,
    now,
    calendar: ctx.calendar,
  });
  if (!admission.ok) {
    return {
      ok: false,
      errors: admission.errors,
      conflicts: [],
      ...(admission.details !== undefined ? { details: admission.details } : {}),
    };
  }
  const draft = admission.draft;

  // With per-customer locks (PostgreSQL, several instances), both customers' lookup keys — the
  // stored identity's and the changed one's — are locked here, before the look-ups below.
  const before = await findCandidates(tx, record.identity, policy, today, { exclude: record.no });
  let identity = record.identity;
  let after = before;
  let bans: BanFact[] = [];
  /** Records of the new customer that lapsed into the pool (R44): the change may claim it. */
  let lapsed: StoredRecord[] = [];
  if (draft.identityChanged) {
    identity = hashIdentityKeys(identityKeys(draft.registration), ctx.keyring.hash);
    ({
      candidates: after,
      bans,
      lapsed,
    } = await claimFacts(tx, identity, record.registration.registrant, policy, today, {
      exclude: record.no,
    }));
  }
  const decision = decideChange({
    record,
    draft,
    actor: ctx.actor,
    as: ctx.as,
    policy,
    now,
    identity,
    before,
    after,
    bans,
  });
  if (!decision.ok) {
    return {
      ok: false,
      errors: [decision.error],
      conflicts: decision.conflicts,
      ...(decision.details ? { details: decision.details } : {}),
    };
  }
  if (decision.changed.length > 0) {
    await claimPooledOnReentry(tx, decision.record, policy, lapsed, now);
    await tx.putRecord(decision.record);
  }
  return { ...decision, identityChanged: draft.identityChanged, late: draft.late };
}
