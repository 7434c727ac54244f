/**
 * One submitted row, gathered at the edge and decided in core (core/registrationDecision): admit
 * the row (parse, authorise, claim time), hash its identity keys with the keyring, look up the
 * registrant's team, the bans in force and the records of the same customer in the transaction,
 * let core decide, and allocate a number for a record to save. Shared by check (R3), registration
 * and the legacy import, so every path runs exactly the same checks.
 *
 * Over 600 lines as one file: every look-up a row's decision needs (team, bans, pool, candidates) is
 * here so check, submit and the import gather exactly the same facts; split apart they would drift.
 */
import { customerLockKeys, sharedLockKeys } from '../../core/customerLocks.js';
import {
  compareIdentities,
  hashIdentityKeys,
  identityKeys,
  lookupKeys,
  type Match,
} from '../../core/matching.js';
import { dayOf } from '../../core/day.js';
import type { Policy } from '../../core/policy.js';
import {
  admitRow,
  candidateOf,
  type Admission,
  decideRegistration,
  numberRecord,
  sortCandidates,
  type BanFact,
  type Candidate,
  type CandidateRecord,
  type PooledFact,
} from '../../core/registrationDecision.js';
import { effectiveStatus } from '../../core/lifecycle.js';
import { POOL_COLLECTION, POOLED_REASON_CODES } from '../../core/pool.js';
import {
  ACTIVE_STATUSES,
  type IdentityKeys,
  type RowResult,
  type StoredRecord,
  type SubmissionRow,
} from '../../core/schema.js';
import type { WorkCalendar } from '../../core/calendar.js';
import type { Keyring } from '../security/keyring.js';
import type { Ban, RecordClearFields, WriteTx } from '../store/store.js';
import type { Actor } from './actor.js';
import { claimFromPool, poolEntryOf } from './poolService.js';

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
  /**
   * R45: active registrations per registrant, counted once per batch and kept up to date as rows
   * are saved (a count per row would scan the store for every row). Only used when a cap is set.
   */
  activeCounts?: Map<string, number>;
  /**
   * The lock keys the write holds (a keyed write, rowLockKeys): a row that needs one it does not
   * hold throws LockKeysNotHeld instead of being decided. Absent: the write holds the whole store.
   */
  lockedKeys?: LockedKeys;
  /** The batch's rows admitted and hashed before the write (admitAhead), for evaluateRow to take. */
  ahead?: RowsAhead;
  /**
   * A keyed write: the pool entries (R44) the batch's rows match, held by holdPooledEntries before
   * any row is decided. A row that matches one not held throws LockKeysNotHeld.
   */
  heldPool?: ReadonlySet<string>;
  /**
   * Registrants' teams, looked up once per batch: a batch's rows mostly name a few registrants,
   * and a look-up walks every user of the store. Evaluating rows never changes a user.
   */
  teams?: Map<string, string | undefined>;
}

/** The lock keys a keyed write holds, and those of them it holds shared. */
export interface LockedKeys {
  keys: ReadonlySet<string>;
  shared: ReadonlySet<string>;
}

/** Rows worked out before they are evaluated (admitAhead). */
export interface RowsAhead {
  /** The index keys the rows will look up (prefetchLookups). */
  lookup: readonly string[];
  /** Each row's admission and hashed identity, for evaluateRow to take rather than redo. */
  admitted: AdmittedRows;
}

/**
 * Each row's admission and hashed identity, worked out once before the write (admitAhead: the lock
 * keys and look-ups of a batch need them) and taken by evaluateRow inside it — admitting and
 * hashing a row is most of a row's CPU. Taken only when evaluateRow runs under what they were
 * worked out under (the same actor, instant, history mode, calendar and an equal policy: the write
 * reads the policy again), and once per row.
 */
export class AdmittedRows {
  private readonly rows = new Map<SubmissionRow, { admission: Admission; identity?: IdentityKeys }>();
  /** Rows in `rows` that were admitted: the most that can still save a record (and take a number). */
  private admittedLeft = 0;
  private readonly policyJson: string;
  private checked: { policy: Policy; same: boolean } | undefined;

  constructor(
    private readonly basis: Omit<EvaluationContext, 'tx' | 'activeCounts' | 'lockedKeys' | 'ahead'>,
  ) {
    this.policyJson = JSON.stringify(basis.policy);
  }

  add(row: SubmissionRow, admission: Admission, identity?: IdentityKeys): void {
    if (this.rows.get(row)?.admission.ok === true) this.admittedLeft--;
    this.rows.set(row, identity !== undefined ? { admission, identity } : { admission });
    if (admission.ok) this.admittedLeft++;
  }

  /** How many admitted rows are not taken yet. */
  get admittedNotTaken(): number {
    return this.admittedLeft;
  }

  /** The rows not yet taken, as added. */
  values(): IterableIterator<{ admission: Admission; identity?: IdentityKeys }> {
    return this.rows.values();
  }

  take(
    row: SubmissionRow,
    ctx: EvaluationContext,
  ): { admission: Admission; identity?: IdentityKeys } | undefined {
    const found = this.rows.get(row);
    if (found === undefined) return undefined;
    // Once: a row object given twice is admitted afresh the second time (decisions may change a claim).
    this.rows.delete(row);
    if (found.admission.ok) this.admittedLeft--;
    const b = this.basis;
    if (this.checked?.policy !== ctx.policy) {
      this.checked = { policy: ctx.policy, same: JSON.stringify(ctx.policy) === this.policyJson };
    }
    const same =
      this.checked.same &&
      ctx.actor === b.actor &&
      ctx.now.getTime() === b.now.getTime() &&
      (ctx.history === true) === (b.history === true) &&
      ctx.calendar === b.calendar &&
      ctx.keyring === b.keyring;
    return same ? found : undefined;
  }
}

/**
 * A row needs a lock key the write does not hold: the policy changed (and with it the identity
 * keys) between working the keys out and taking them. The caller runs the write again, exclusive.
 */
export class LockKeysNotHeld extends Error {
  constructor() {
    super('a row needs a lock key the write does not hold');
    this.name = 'LockKeysNotHeld';
  }
}

/**
 * Admits and hashes rows before they are evaluated, as evaluateRow would (it takes the results
 * instead of redoing them), and gathers the index keys they will look up: what a batch's lock keys
 * and its one prefetch of look-ups (prefetchLookups) are worked out from.
 */
export function admitAhead(
  rows: Iterable<SubmissionRow>,
  ctx: Omit<EvaluationContext, 'tx' | 'activeCounts' | 'lockedKeys' | 'ahead'>,
): RowsAhead {
  const lookup = new Set<string>();
  const admitted = new AdmittedRows(ctx);
  for (const row of rows) {
    const admission = admitRow(row, {
      actor: ctx.actor,
      policy: ctx.policy,
      receivedAt: isoInstant(ctx.now),
      history: ctx.history === true,
      ...(ctx.calendar ? { calendar: ctx.calendar } : {}),
    });
    if (!admission.ok) {
      admitted.add(row, admission);
      continue;
    }
    const identity = hashIdentityKeys(identityKeys(admission.claim.registration), ctx.keyring.hash);
    admitted.add(row, admission, identity);
    for (const key of lookupKeys(identity)) lookup.add(key);
  }
  return { lookup: [...lookup], admitted };
}

/**
 * The lock keys a keyed write of these rows takes, worked out before the write as evaluateRow will
 * inside it: each admitted row's customer (core/customerLocks.ts), and its registrant when R45 caps
 * active registrations (the write reads and raises that count). Rows that are not admitted save
 * nothing and need none.
 */
export function rowLockKeys(
  rows: readonly SubmissionRow[],
  ctx: Omit<EvaluationContext, 'tx' | 'activeCounts' | 'lockedKeys' | 'ahead'>,
): { keys: string[]; shared: string[]; ahead: RowsAhead } {
  const ahead = admitAhead(rows, ctx);
  const keys = new Set<string>();
  const exclusive = new Set<string>();
  for (const { admission, identity } of ahead.admitted.values()) {
    if (!admission.ok || identity === undefined) continue;
    const own = keysOf(identity, admission.claim.registration.registrant, ctx.policy);
    for (const key of own.keys) {
      keys.add(key);
      // A key is held shared only when no row of the batch needs it exclusive.
      if (!own.shared.includes(key)) exclusive.add(key);
    }
  }
  const sorted = [...keys].sort();
  return { keys: sorted, shared: sorted.filter((key) => !exclusive.has(key)), ahead };
}

/**
 * Has the store fetch once, after the write's locks, what every row of the batch will look up
 * (ReadTx.prefetchKeys): on PostgreSQL two queries per batch instead of two per row. Keys a row
 * turns out to need beyond these (the policy changed) are looked up as before.
 */
export async function prefetchLookups(ctx: EvaluationContext): Promise<void> {
  const lookup = ctx.ahead?.lookup;
  if (lookup !== undefined && lookup.length > 0) await ctx.tx.prefetchKeys?.(lookup);
}

function keysOf(
  identity: IdentityKeys,
  registrant: string,
  policy: Policy,
): { keys: string[]; shared: string[] } {
  const keys = customerLockKeys(identity);
  if (policy.maxActivePerRegistrant !== null) keys.push(`rg:${registrant}`);
  return { keys, shared: sharedLockKeys(identity) };
}

export interface Evaluation {
  result: RowResult;
  /** The record to save; absent for invalid, duplicate and nothing-saved outcomes. */
  record?: StoredRecord;
}

export async function evaluateRow(row: SubmissionRow, ctx: EvaluationContext): Promise<Evaluation> {
  const { tx, actor, policy } = ctx;
  const admitted = ctx.ahead?.admitted.take(row, ctx);
  const admission =
    admitted?.admission ??
    admitRow(row, {
      actor,
      policy,
      receivedAt: isoInstant(ctx.now),
      history: ctx.history === true,
      ...(ctx.calendar ? { calendar: ctx.calendar } : {}),
    });
  if (!admission.ok) return { result: admission.result };
  const claim = admission.claim;
  const registrant = claim.registration.registrant;

  const identity = admitted?.identity ?? hashIdentityKeys(identityKeys(claim.registration), ctx.keyring.hash);
  const held = ctx.lockedKeys;
  if (held !== undefined) {
    const own = keysOf(identity, registrant, policy);
    const covered = own.keys.every(
      (key) => held.keys.has(key) && (own.shared.includes(key) || !held.shared.has(key)),
    );
    if (!covered) throw new LockKeysNotHeld();
  }
  // Awaited only when not known yet: each await of a row allocates and waits a microtask (below too).
  const teams = ctx.teams;
  const registrantTeam =
    teams !== undefined && teams.has(registrant)
      ? teams.get(registrant)
      : await teamOf(tx, registrant, teams);
  const { candidates, bans, lapsed } = await rowClaimFacts(tx, identity, registrant, policy, claim.today, {
    protectingOn: claim.protectingOn,
  });
  if (held !== undefined) {
    // Holding it now would take a lock after others, in no order shared with other writes.
    const heldPool = ctx.heldPool ?? new Set<string>();
    if (exactlyMatching(identity, policy, lapsed).some((r) => !heldPool.has(r.no)))
      throw new LockKeysNotHeld();
  }
  const pooled = lapsed.length === 0 ? [] : await pooledFacts(tx, identity, policy, lapsed);
  const counts =
    policy.maxActivePerRegistrant === null ? undefined : (ctx.activeCounts ?? new Map<string, number>());
  const activeCount =
    counts === undefined
      ? undefined
      : (counts.get(registrant) ?? (await countActive(tx, registrant, claim.today)));

  const decision = decideRegistration({
    claim,
    actor,
    policy,
    identity,
    registrantTeam,
    bans,
    candidates,
    ...(ctx.calendar ? { calendar: ctx.calendar } : {}),
    ...(activeCount !== undefined ? { activeCount } : {}),
    ...(pooled.length > 0 ? { pooled } : {}),
  });
  if (decision.save === undefined) return { result: decision.result };
  // This row and the admitted rows after it are the most the batch will still number: PostgreSQL
  // takes that many at once. Not in history mode, where rows carry their own years and numbers.
  const upTo =
    ctx.ahead !== undefined && ctx.history !== true ? 1 + ctx.ahead.admitted.admittedNotTaken : undefined;
  const no = await tx.nextRegistrationNo(decision.save.year, upTo);
  const numbered = numberRecord(decision, no);
  if (counts !== undefined && activeCount !== undefined) {
    const active = ACTIVE_STATUSES.includes(numbered.record.status);
    counts.set(registrant, activeCount + (active ? 1 : 0));
  }
  if (pooled.length > 0) await claimFromPool(tx, pooled, numbered.record, ctx.now.toISOString());
  return numbered;
}

/** The last instant isoInstant wrote, by its time: every row of a batch is received at one `now`. */
let lastInstant = { time: Number.NaN, iso: '' };

/** `now.toISOString()`, kept for the next row: formatting it was ~1% of a row's CPU (profile, 100k stored). */
export function isoInstant(now: Date): string {
  const time = now.getTime();
  if (time !== lastInstant.time) lastInstant = { time, iso: now.toISOString() };
  return lastInstant.iso;
}

/** The registrant's team (undefined for no team or no such user), from the batch's cache when given. */
async function teamOf(
  tx: WriteTx,
  registrant: string,
  teams: Map<string, string | undefined> | undefined,
): Promise<string | undefined> {
  if (teams?.has(registrant)) return teams.get(registrant);
  const team = (await tx.getUserByName(registrant))?.team;
  teams?.set(registrant, team);
  return team;
}

/** Bans with what they are: a false-info ban (R27), or a former holder's pool cooldown (R44). */
export async function banFacts(tx: Pick<WriteTx, 'getDoc'>, bans: readonly Ban[]): Promise<BanFact[]> {
  const out: BanFact[] = [];
  for (const ban of bans) {
    const entry = await tx.getDoc(POOL_COLLECTION, ban.recordNo);
    out.push({
      identity: ban.identity,
      until: ban.until,
      ...(entry !== undefined ? { poolCooldown: true } : {}),
    });
  }
  return out;
}

/**
 * A keyed write's pool entries (R44), held before any row is decided: every entry a row of the batch
 * matches exactly, in one statement in number order (WriteTx.holdDocs). Two rows can match one pooled
 * record exactly on different keys (one by the credit code, one by the name) and then hold no lock key
 * in common; the entry is where they meet. Held row by row instead, two batches claiming the same
 * customers in crossing orders deadlocked, and past the store's retries a batch failed. So a keyed
 * write takes all its locks in one order before its work: the schema's lock, its key rows, then these.
 * Call after prefetchLookups (the look-ups are answered from that fetch).
 */
export async function holdPooledEntries(ctx: EvaluationContext): Promise<void> {
  if (ctx.lockedKeys === undefined || ctx.ahead === undefined) return;
  const nos = new Set<string>();
  for (const { identity } of ctx.ahead.admitted.values()) {
    if (identity === undefined) continue;
    // Void records of the customer only are opened: the pooled ones are among them (the reason
    // code that says so is sealed).
    const voided = await ctx.tx.findRecordsByKeys(
      lookupKeys(identity),
      (other, clear) =>
        (clear === undefined || clear.status === 'void') &&
        compareIdentities(identity, other, ctx.policy)?.strength === 'exact',
    );
    for (const record of voided) {
      if (record.status === 'void' && POOLED_REASON_CODES.includes(record.reasonCode ?? ''))
        nos.add(record.no);
    }
  }
  await ctx.tx.holdDocs(POOL_COLLECTION, [...nos]);
  ctx.heldPool = nos;
}

/** The records among `records` that are the customer of `identity` (an exact match). */
function exactlyMatching(
  identity: IdentityKeys,
  policy: Policy,
  records: readonly StoredRecord[],
): StoredRecord[] {
  return records.filter((r) => compareIdentities(identity, r.identity, policy)?.strength === 'exact');
}

/** Lapsed records of the same customer whose customer is in the pool and not yet claimed (R44). */
export async function pooledFacts(
  tx: WriteTx,
  identity: IdentityKeys,
  policy: Policy,
  lapsed: readonly StoredRecord[],
): Promise<PooledFact[]> {
  // Most rows meet no lapsed record: no hold, no map.
  if (lapsed.length === 0) return [];
  const matching = exactlyMatching(identity, policy, lapsed);
  // Held, not just read: two rows can match one pooled record exactly on different keys and then
  // hold no lock key in common, so on PostgreSQL both would find the entry unclaimed and both claim
  // it. A keyed write holds them already (holdPooledEntries); an exclusive one runs alone.
  const entries = await tx.holdDocs(
    POOL_COLLECTION,
    matching.map((r) => r.no),
  );
  const out: PooledFact[] = [];
  for (const record of matching) {
    const entry = poolEntryOf(entries.get(record.no));
    if (entry && !entry.claimed) out.push({ no: entry.no, since: entry.since });
  }
  return out;
}

/**
 * R44: a record that becomes an active registration of a pooled customer other than by registering
 * it — its identity changed to that customer, or it was resubmitted — claims the customer as a new
 * registration does, so the pool stops offering a customer somebody holds. Its last history entry
 * names the pool entries (`fromPool`), for a claim that ends before protection to release them.
 * Call before the record is saved; `lapsed` is what findCandidates collected for its identity.
 */
export async function claimPooledOnReentry(
  tx: WriteTx,
  record: StoredRecord,
  policy: Policy,
  lapsed: readonly StoredRecord[],
  now: string,
): Promise<void> {
  if (!ACTIVE_STATUSES.includes(effectiveStatus(record, dayOf(now)))) return;
  const pooled = await pooledFacts(tx, record.identity, policy, lapsed);
  if (pooled.length === 0) return;
  const last = record.history.at(-1);
  if (last !== undefined) last.details = { ...last.details, fromPool: pooled.map((p) => p.no).join(',') };
  await claimFromPool(tx, pooled, record, now);
}

/** R45: the registrant's own pending, competing/queued and protected registrations. */
export async function countActive(
  tx: Pick<WriteTx, 'countRecords'>,
  registrant: string,
  today: string,
): Promise<number> {
  const counts = await tx.countRecords({ today, registrant, statuses: [...ACTIVE_STATUSES] });
  // The query also matches a partner's record shared with them (R16); that is the partner's
  // registration: counting it too would count one shared customer twice.
  return counts.reduce(
    (sum, c) => sum + (c.registrant === registrant && ACTIVE_STATUSES.includes(c.status) ? c.count : 0),
    0,
  );
}

/**
 * What a claim of a customer is decided on, fetched the one way every path needs it (a new row, a
 * change to another customer, a resubmission): the customer's other records, the registrant's bans
 * in force (R27, R44 cooldown), and the matching records that lapsed into the pool (R44).
 */
export async function claimFacts(
  tx: WriteTx,
  identity: IdentityKeys,
  registrant: string,
  policy: Policy,
  today: string,
  options: { exclude?: string; protectingOn?: string | undefined } = {},
): Promise<{ candidates: Candidate[]; bans: BanFact[]; lapsed: StoredRecord[] }> {
  const keys = lookupKeys(identity);
  const bans = await banFacts(tx, await tx.findBans(keys, registrant, today));
  const lapsed: StoredRecord[] = [];
  // Named one by one, not spread: callers pass options of different shapes, and spreading them
  // took V8's slow path on every row (+7 µs a row at 100k stored, bench/rowEvaluation.bench.ts).
  const candidates = await findCandidates(tx, identity, policy, today, {
    exclude: options.exclude,
    protectingOn: options.protectingOn,
    keys,
    lapsed,
  });
  return { candidates, bans, lapsed };
}

/**
 * claimFacts for a new row (evaluateRow): its candidates are what decideRegistration reads of them,
 * taken from the clear fields beside each seal (number, status, registrant, team, claim time, end of
 * protection), and only the registrant's own exact matches are opened (a duplicate answers with its
 * record's dates), with void records (their reason code says whether they lapsed into the pool) and
 * every record when a migration asks about a past day (protectedFrom is sealed). Opening a record
 * (AES-GCM and JSON) was the largest part of a row's look-up (docs/architecture.md, "Per-row cost").
 */
async function rowClaimFacts(
  tx: WriteTx,
  identity: IdentityKeys,
  registrant: string,
  policy: Policy,
  today: string,
  options: { protectingOn: string | undefined },
): Promise<{ candidates: Candidate<CandidateRecord>[]; bans: BanFact[]; lapsed: StoredRecord[] }> {
  const keys = lookupKeys(identity);
  const found = await tx.findBans(keys, registrant, today);
  const bans = found.length === 0 ? [] : await banFacts(tx, found);
  const lapsed: StoredRecord[] = [];
  const candidates = await gatherCandidates(tx, identity, policy, today, {
    exclude: undefined,
    protectingOn: options.protectingOn,
    keys,
    lapsed,
    openFor: registrant,
  });
  return { candidates, bans, lapsed };
}

interface CandidateOptions {
  /** A record not to count (the one whose competitors are wanted). */
  exclude?: string | undefined;
  /** Migration: also records protecting the customer on this (past) day, though ended since. */
  protectingOn?: string | undefined;
  /** The identity's lookup keys, when the caller has them already. */
  keys?: readonly string[];
  /** Collects the matching records that lapsed into the pool (R44), which are no candidates. */
  lapsed?: StoredRecord[];
}

/** Records of the same customer, exact and possible, with their effective status; ended ones are left out. */
export async function findCandidates(
  tx: Pick<WriteTx, 'findRecordsByKeys'>,
  identity: IdentityKeys,
  policy: Policy,
  today: string,
  options: CandidateOptions = {},
): Promise<Candidate[]> {
  // Named one by one, not spread (see claimFacts).
  return gatherCandidates(tx, identity, policy, today, {
    exclude: options.exclude,
    protectingOn: options.protectingOn,
    keys: options.keys,
    lapsed: options.lapsed,
    openFor: undefined,
  });
}

/**
 * findCandidates, and with `openFor` (a registrant) rowClaimFacts' candidates: active records that
 * are not that registrant's exact matches are built from their clear fields, unopened.
 */
async function gatherCandidates(
  tx: Pick<WriteTx, 'findRecordsByKeys'>,
  identity: IdentityKeys,
  policy: Policy,
  today: string,
  options: CandidateOptions & { openFor: undefined },
): Promise<Candidate[]>;
async function gatherCandidates(
  tx: Pick<WriteTx, 'findRecordsByKeys'>,
  identity: IdentityKeys,
  policy: Policy,
  today: string,
  options: CandidateOptions & { openFor: string },
): Promise<Candidate<CandidateRecord>[]>;
async function gatherCandidates(
  tx: Pick<WriteTx, 'findRecordsByKeys'>,
  identity: IdentityKeys,
  policy: Policy,
  today: string,
  options: CandidateOptions & { openFor: string | undefined },
): Promise<Candidate<CandidateRecord>[]> {
  const { exclude, protectingOn, openFor } = options;
  const found: Candidate<CandidateRecord>[] = [];
  // Decide on the clear fields first; only records that match and can count are decrypted. A
  // record that is not active on `today` is no candidate (candidateOf) unless the migration asks
  // about a past day (protectedFrom is sealed, so that case opens them all) or it is void and may
  // have lapsed into the pool (its reason code is sealed).
  // Matches the filter worked out, by record number, so candidateOf does not compare them again.
  const matches = new Map<string, Match>();
  // Candidates in the order the look-up meets their records, null where a record is opened (the
  // look-up returns those in the same order): sortCandidates keeps that order among equal claims.
  const slots: (Candidate<CandidateRecord> | null)[] = [];
  const accept = (other: IdentityKeys, clear?: RecordClearFields): boolean => {
    if (clear !== undefined && protectingOn === undefined) {
      if (clear.no === exclude) return false;
      const status = effectiveStatus(clear, today);
      const active = ACTIVE_STATUSES.includes(status);
      if (!active && !(options.lapsed && clear.status === 'void')) return false;
      const match = compareIdentities(identity, other, policy);
      if (match === null) return false;
      if (openFor !== undefined && active && (match.strength !== 'exact' || clear.registrant !== openFor)) {
        slots.push({ record: clearCandidateRecord(clear), status, match });
        return false;
      }
      matches.set(clear.no, match);
      slots.push(null);
      return true;
    }
    const match = compareIdentities(identity, other, policy);
    if (match === null) return false;
    if (clear !== undefined) matches.set(clear.no, match);
    slots.push(null);
    return true;
  };
  const opened = await tx.findRecordsByKeys(options.keys ?? lookupKeys(identity), accept);
  let next = 0;
  for (const slot of slots) {
    if (slot !== null) {
      found.push(slot);
      continue;
    }
    const record = opened[next++];
    if (record === undefined || record.no === exclude) continue;
    if (options.lapsed && record.status === 'void' && POOLED_REASON_CODES.includes(record.reasonCode ?? '')) {
      options.lapsed.push(record);
      continue;
    }
    const candidate = candidateOf(record, identity, policy, today, protectingOn, matches.get(record.no));
    if (candidate !== null) found.push(candidate);
  }
  return sortCandidates(found);
}

/** A candidate record as decideRegistration reads another's: its clear fields, unopened. */
function clearCandidateRecord(clear: RecordClearFields): CandidateRecord {
  const record: CandidateRecord = {
    no: clear.no,
    status: clear.status,
    registration: { registrant: clear.registrant },
    claimedAt: clear.claimedAt,
  };
  if (clear.team !== undefined) record.team = clear.team;
  if (clear.protectedUntil !== undefined) record.protectedUntil = clear.protectedUntil;
  return record;
}
