/**
 * One submitted row, gathered at the edge and decided in core (core/registrationDecision): admit
 * the row (parse, authorise, claim time), hash its identity keys with the keyring, look up the
 * registrant's team, the bans in force and the records of the same customer in the transaction,
 * let core decide, and allocate a number for a record to save. Shared by check (R3), registration
 * and the legacy import, so every path runs exactly the same checks.
 */
import { compareIdentities, hashIdentityKeys, identityKeys, lookupKeys } from '../../core/matching.js';
import type { Policy } from '../../core/policy.js';
import {
  admitRow,
  candidateOf,
  decideRegistration,
  numberRecord,
  sortCandidates,
  type Candidate,
} from '../../core/registrationDecision.js';
import type { IdentityKeys, RowResult, StoredRecord, SubmissionRow } from '../../core/schema.js';
import type { WorkCalendar } from '../../core/calendar.js';
import type { Keyring } from '../security/keyring.js';
import type { WriteTx } from '../store/store.js';
import type { Actor } from './actor.js';

export { approve, conflictView, datesOf } from '../../core/registrationDecision.js';

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

export async function evaluateRow(row: SubmissionRow, ctx: EvaluationContext): Promise<Evaluation> {
  const { tx, actor, policy } = ctx;
  const admission = admitRow(row, {
    actor,
    policy,
    receivedAt: ctx.now.toISOString(),
    history: ctx.history === true,
    ...(ctx.calendar ? { calendar: ctx.calendar } : {}),
  });
  if (!admission.ok) return { result: admission.result };
  const claim = admission.claim;
  const registrant = claim.registration.registrant;

  const identity = hashIdentityKeys(identityKeys(claim.registration, policy), ctx.keyring.hash);
  const keys = lookupKeys(identity);
  const registrantUser = await tx.getUserByName(registrant);
  const bans = await tx.findBans(keys, registrant, claim.today);
  const candidates = await findCandidates(tx, identity, policy, claim.today, {
    keys,
    protectingOn: claim.protectingOn,
  });

  const decision = decideRegistration({
    claim,
    actor,
    policy,
    identity,
    registrantTeam: registrantUser?.team,
    bans,
    candidates,
    ...(ctx.calendar ? { calendar: ctx.calendar } : {}),
  });
  if (decision.save === undefined) return { result: decision.result };
  const no = await tx.nextRegistrationNo(decision.save.year);
  return numberRecord(decision, no);
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
    protectingOn?: string | undefined;
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
    const candidate = candidateOf(record, identity, policy, today, protectingOn);
    if (candidate !== null) found.push(candidate);
  }
  return sortCandidates(found);
}
