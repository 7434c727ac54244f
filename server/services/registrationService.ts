/**
 * Registering customers (报备) and reading registrations: check (R3, nothing saved), submit with
 * idempotency, list and get scoped by role (R14, R34), and the reviewer's view of competing
 * registrations ranked by R15/R17/R20. Every read and change of customer data is audited (R36).
 */
import { createHash } from 'node:crypto';
import { dayOf } from '../../core/day.js';
import { effectiveStatus } from '../../core/lifecycle.js';
import {
  rankCompetitors,
  type Candidate as PriorityCandidate,
  type RankedCandidate,
} from '../../core/priority.js';
import { DomainError, problem } from '../../core/problem.js';
import { DEFAULT_POLICY, type Policy } from '../../core/policy.js';
import { withRetentionFloor } from '../../core/retention.js';
import type { RecordStatus, RowResult, StoredRecord, SubmissionRow } from '../../core/schema.js';
import { PACKAGE_CALENDAR, type WorkCalendar } from '../../core/calendar.js';
import type { Keyring } from '../security/keyring.js';
import {
  ClaimHeldError,
  type AuditEntry,
  type ReadTx,
  type Store,
  type WriteOptions,
  type WriteTx,
} from '../store/store.js';
import { canRead, forbidden, listScope, type Actor } from './actor.js';
import { allRecords } from './recordPages.js';
import {
  evaluateRow,
  findCandidates,
  holdPooledEntries,
  LockKeysNotHeld,
  prefetchLookups,
  rowLockKeys,
  type EvaluationContext,
  type LockedKeys,
  type RowsAhead,
} from './rowEvaluation.js';
import { cooperativeLoop } from './cooperativeLoop.js';
import { splitPartnerOf, splitPartnersOf } from '../store/splitPartner.js';
import { recordView, type RecordView } from './recordView.js';

/** A keyed write's locks and its rows worked out before it (rowLockKeys). */
interface KeyedBatch {
  locked: LockedKeys;
  ahead: RowsAhead;
}

export interface ServiceDeps {
  store: Store;
  keyring: Keyring;
  clock: () => Date;
  /** Working days in force (entered schedules over the package's); the package's when absent. */
  calendar?: () => WorkCalendar;
}

export interface ListQuery {
  statuses?: RecordStatus[];
  nos?: string[];
  registrant?: string;
  q?: string;
  expiringWithinDays?: number;
  limit: number;
  offset: number;
}

export interface RankedCompetitor extends RankedCandidate {
  registrationNo: string;
  registrant: string;
  team?: string | undefined;
  status: RecordStatus;
  claimedAt: string;
  expectedAmount?: number | undefined;
  expectedUnitPrice?: number | undefined;
  expectedSignDate?: string | undefined;
  followUps: number;
}

export interface SubmitOutcome {
  results: RowResult[];
  /** True when the response is the replay of an earlier request with the same Idempotency-Key. */
  replayed: boolean;
}

export class RegistrationService {
  /** Idempotency keys whose first request is still running, in this process. */
  private readonly inFlight = new Set<string>();

  constructor(private readonly deps: ServiceDeps) {}

  async policy(tx?: ReadTx): Promise<Policy> {
    const stored = tx ? await tx.getPolicy() : await this.deps.store.read((t) => t.getPolicy());
    return withRetentionFloor(stored ?? DEFAULT_POLICY);
  }

  /** R3: what would happen to these rows; nothing is saved and no number is taken. */
  async check(actor: Actor, rows: readonly SubmissionRow[]): Promise<RowResult[]> {
    const now = this.deps.clock();
    const results = await this.keyed(actor, rows, now, {}, (keyed, options) =>
      this.deps.store.simulate(async (tx) => {
        const policy = await this.policy(tx);
        const out: RowResult[] = [];
        // Numbers taken in a dry run are never given out: rows that clash with an earlier row of the
        // same request point at that row's clientRowId instead.
        const simulated = new Map<string, RowResult['clientRowId']>();
        // One context for the batch: its caches (active counts, teams) serve every row.
        const context = this.batchContext(tx, actor, policy, now, keyed);
        await prefetchLookups(context);
        await holdPooledEntries(context);
        const pause = cooperativeLoop();
        for (const row of rows) {
          await pause();
          const evaluation = await evaluateRow(row, context);
          if (evaluation.record) {
            // Later rows of the same batch must see this one, as they would on submit.
            await tx.putRecord(evaluation.record);
            simulated.set(evaluation.record.no, row.clientRowId);
          }
          out.push(withoutSimulatedNumbers(evaluation.result, simulated));
        }
        return out;
      }, options),
    );
    await this.audit(actor, 'registration.check', conflictNumbers(results), { rows: rows.length });
    return results;
  }

  /**
   * Saves the rows in one transaction (one file write for the batch). One bad row never fails
   * the others. With an idempotency key, the first response is stored with the records, so a
   * retry after a timeout gets the same answer and never registers twice.
   */
  async submit(
    actor: Actor,
    rows: readonly SubmissionRow[],
    options: { idempotencyKey?: string | undefined; body?: unknown; history?: boolean } = {},
  ): Promise<SubmitOutcome> {
    const key = options.idempotencyKey;
    const bodyHash = key !== undefined ? hashBody(options.body ?? rows) : '';
    const flightKey = `${actor.id}\u0000${key ?? ''}`;
    if (key !== undefined) {
      const earlier = await this.deps.store.read((tx) => tx.getIdempotency(actor.id, key));
      if (earlier) return this.replay(earlier.bodyHash, bodyHash, earlier.response.body);
      if (this.inFlight.has(flightKey)) throw inFlight();
      this.inFlight.add(flightKey);
    }
    try {
      const now = this.deps.clock();
      // The key is claimed in the database by the write itself: a second request with it on another
      // instance finds the claim held and gets idempotency.in_flight, as it would on this one.
      const claim = key !== undefined ? { claim: `idempotency:${flightKey}` } : {};
      const outcome = await this.keyed(actor, rows, now, { ...options, ...claim }, (keyed, writeOptions) =>
        this.deps.store.write(async (tx): Promise<SubmitOutcome> => {
          if (key !== undefined) {
            const earlier = await tx.getIdempotency(actor.id, key);
            if (earlier) return this.replay(earlier.bodyHash, bodyHash, earlier.response.body);
          }
          const policy = await this.policy(tx);
          const results: RowResult[] = [];
          const context = this.batchContext(tx, actor, policy, now, keyed);
          if (options.history) context.history = true;
          await prefetchLookups(context);
          await holdPooledEntries(context);
          const pause = cooperativeLoop();
          for (const row of rows) {
            await pause();
            const evaluation = await evaluateRow(row, context);
            if (evaluation.record) await tx.putRecord(evaluation.record);
            results.push(evaluation.result);
          }
          if (key !== undefined) {
            await tx.putIdempotency({
              userId: actor.id,
              key,
              bodyHash,
              at: now.toISOString(),
              response: { status: 200, body: { results } },
            });
          }
          return { results, replayed: false };
        }, writeOptions),
      );
      if (!outcome.replayed) {
        const saved = outcome.results.flatMap((r) =>
          r.registrationNo && r.status !== 'duplicate' ? [r.registrationNo] : [],
        );
        await this.audit(actor, 'registration.create', [...saved, ...conflictNumbers(outcome.results)], {
          rows: rows.length,
        });
      }
      return outcome;
    } finally {
      if (key !== undefined) this.inFlight.delete(flightKey);
    }
  }

  /**
   * Runs a registration write keyed by the rows' customers (rowLockKeys), so that writes of other
   * customers run beside it on every instance; when a row turns out to need a key not taken (the
   * policy changed in between), runs it again holding the whole store.
   */
  private async keyed<T>(
    actor: Actor,
    rows: readonly SubmissionRow[],
    now: Date,
    options: { history?: boolean; claim?: string },
    write: (keyed: KeyedBatch | undefined, options: WriteOptions) => Promise<T>,
  ): Promise<T> {
    const claim = options.claim !== undefined ? { claim: options.claim } : {};
    // A store that runs writes one at a time gains nothing from keys: skip working them out.
    if (this.deps.store.keyedWrites !== true) return await write(undefined, claim);
    const { keys, shared, ahead } = rowLockKeys(rows, {
      actor,
      policy: await this.policy(),
      now,
      keyring: this.deps.keyring,
      ...(this.deps.calendar ? { calendar: this.deps.calendar() } : {}),
      ...(options.history ? { history: true } : {}),
    });
    try {
      return await write(
        { locked: { keys: new Set(keys), shared: new Set(shared) }, ahead },
        { keys, sharedKeys: shared, ...claim },
      );
    } catch (err) {
      if (err instanceof ClaimHeldError) throw inFlight();
      if (!(err instanceof LockKeysNotHeld)) throw err;
    }
    try {
      return await write(undefined, claim);
    } catch (err) {
      if (err instanceof ClaimHeldError) throw inFlight();
      throw err;
    }
  }

  /** What every row of one batch is evaluated with (the calendar is read once, at the batch's start). */
  private batchContext(
    tx: WriteTx,
    actor: Actor,
    policy: Policy,
    now: Date,
    keyed: KeyedBatch | undefined,
  ): EvaluationContext {
    const context: EvaluationContext = {
      tx,
      actor,
      policy,
      now,
      keyring: this.deps.keyring,
      activeCounts: new Map(),
      teams: new Map(),
    };
    if (this.deps.calendar) context.calendar = this.deps.calendar();
    if (keyed) {
      context.lockedKeys = keyed.locked;
      context.ahead = keyed.ahead;
    }
    return context;
  }

  async list(actor: Actor, query: ListQuery): Promise<{ items: RecordView[]; total: number }> {
    const today = dayOf(this.deps.clock());
    const scope = listScope(actor);
    if (query.registrant !== undefined && actor.role === 'sales' && query.registrant !== actor.name) {
      throw forbidden('查看他人的报备', "read someone else's registrations");
    }
    const { result, policy, partners } = await this.deps.store.read(async (tx) => {
      const policy = await this.policy(tx);
      const result = await tx.listRecords({
        today,
        ...(scope ? { scope } : {}),
        ...(query.registrant !== undefined ? { registrant: query.registrant } : {}),
        ...(query.statuses ? { statuses: query.statuses } : {}),
        ...(query.nos ? { nos: query.nos } : {}),
        ...(query.q !== undefined && query.q !== '' ? { q: query.q } : {}),
        ...(query.expiringWithinDays !== undefined ? { expiringWithinDays: query.expiringWithinDays } : {}),
        limit: query.limit,
        offset: query.offset,
      });
      // The share each record holds today follows its partner's state (R16, core effectiveShare).
      const partners = await splitPartnersOf(tx, result.items);
      return { result, policy, partners };
    });
    const items = result.items;
    await this.audit(
      actor,
      'registration.list',
      items.map((r) => r.no),
      { total: result.total },
    );
    const service = this.serviceContext(policy);
    return {
      items: items.map((r) => recordView(r, today, partners.get(r.no), service)),
      total: result.total,
    };
  }

  /** One record with its history; reviewers also get the competing registrations, ranked (R15). */
  async get(actor: Actor, no: string): Promise<RecordView & { competitors?: RankedCompetitor[] }> {
    const today = dayOf(this.deps.clock());
    const { record, partner, competitors, policy } = await this.deps.store.read(async (tx) => {
      const policy = await this.policy(tx);
      const record = await tx.getRecord(no);
      if (!record) throw notFound(no);
      const partner = await splitPartnerOf(tx, record);
      if (!canRead(actor, record, { today, partner }))
        throw forbidden('查看该报备', 'read this registration');
      const isReviewer = actor.role !== 'sales';
      const status = effectiveStatus(record, today);
      const competitors =
        isReviewer && (status === 'pending' || status === 'conflict')
          ? await this.ranking(tx, record)
          : undefined;
      return { record, partner, competitors, policy };
    });
    await this.audit(actor, 'registration.read', [no, ...(competitors?.map((c) => c.registrationNo) ?? [])]);
    return {
      ...recordView(record, today, partner, this.serviceContext(policy)),
      ...(competitors ? { competitors } : {}),
    };
  }

  /**
   * The reviewer's queue (待审核): pending and competing registrations grouped by customer, each
   * group ranked. Queued registrations wait behind a protection and are not decided yet.
   */
  async reviewQueue(
    actor: Actor,
    page: { limit: number; offset: number } = { limit: 100, offset: 0 },
  ): Promise<{ groups: { customer: string; competitors: RankedCompetitor[] }[]; hasMore: boolean }> {
    if (actor.role === 'sales') throw forbidden('查看审核队列', 'see the review queue');
    const today = dayOf(this.deps.clock());
    const { groups, hasMore } = await this.deps.store.read(async (tx) => {
      const scope = listScope(actor);
      // Every undecided registration, a page at a time: the queue is oldest first, so a cut at the
      // newest n would drop exactly the claims that have waited longest.
      const items = await allRecords(tx, {
        today,
        ...(scope ? { scope } : {}),
        statuses: ['pending', 'conflict'],
      });
      const seen = new Set<string>();
      const out: { customer: string; competitors: RankedCompetitor[] }[] = [];
      const oldestFirst = [...items].sort(
        (a, b) => a.claimedAt.localeCompare(b.claimedAt) || a.no.localeCompare(b.no),
      );
      // Groups before the page are ranked too: their members must not start a group of their own.
      let index = 0;
      for (const record of oldestFirst) {
        if (seen.has(record.no) || record.conflictKind === 'queued') continue;
        if (index >= page.offset + page.limit) return { groups: out, hasMore: true };
        const competitors = await this.ranking(tx, record);
        for (const c of competitors) seen.add(c.registrationNo);
        if (index >= page.offset) out.push({ customer: record.registration.customerName, competitors });
        index++;
      }
      return { groups: out, hasMore: false };
    });
    await this.audit(
      actor,
      'registration.review_queue',
      groups.flatMap((g) => g.competitors.map((c) => c.registrationNo)),
    );
    return { groups, hasMore };
  }

  /** The record and every other undecided registration of the same customer, ranked. */
  async ranking(tx: ReadTx, record: StoredRecord): Promise<RankedCompetitor[]> {
    const policy = await this.policy(tx);
    const today = dayOf(this.deps.clock());
    const others = (await findCandidates(tx, record.identity, policy, today, { exclude: record.no })).filter(
      (c) =>
        c.match.strength === 'exact' &&
        (c.status === 'pending' || (c.status === 'conflict' && c.record.conflictKind !== 'queued')),
    );
    const all = [record, ...others.map((c) => c.record)];
    const ranked = rankCompetitors(all.map(priorityCandidate), policy);
    const byNo = new Map(all.map((r) => [r.no, r]));
    return ranked.map((r) => {
      const rec = byNo.get(r.id)!;
      return {
        ...r,
        registrationNo: rec.no,
        registrant: rec.registration.registrant,
        team: rec.team,
        status: effectiveStatus(rec, today),
        claimedAt: rec.claimedAt,
        expectedAmount: rec.registration.expectedAmount,
        expectedUnitPrice: rec.registration.expectedUnitPrice,
        expectedSignDate: rec.registration.expectedSignDate,
        followUps: rec.followUps.length,
      };
    });
  }

  /** What a record view needs to show the service outlook (R31, R32, R42). */
  serviceContext(policy: Policy): { policy: Policy; calendar: WorkCalendar } {
    return { policy, calendar: this.deps.calendar?.() ?? PACKAGE_CALENDAR };
  }

  async audit(
    actor: Actor,
    action: string,
    records: string[],
    details?: AuditEntry['details'],
  ): Promise<void> {
    await this.deps.store.appendAudit([
      {
        at: this.deps.clock().toISOString(),
        actor: actor.name,
        actorRole: actor.role,
        action,
        records: [...new Set(records)],
        ...(actor.requestId !== undefined ? { requestId: actor.requestId } : {}),
        ...(details ? { details } : {}),
      },
    ]);
  }

  private replay(storedHash: string, bodyHash: string, body: unknown): SubmitOutcome {
    if (storedHash !== bodyHash) {
      throw new DomainError(
        problem(
          'idempotency.mismatch',
          '该 Idempotency-Key 已用于内容不同的请求；每次新的提交请使用新的 Key',
          'This Idempotency-Key was used for a different request body; use a new key for a new submission',
          'Idempotency-Key',
        ),
      );
    }
    return { results: (body as { results: RowResult[] }).results, replayed: true };
  }
}

export function priorityCandidate(r: StoredRecord): PriorityCandidate {
  const c: PriorityCandidate = {
    id: r.no,
    registrant: r.registration.registrant,
    claimedAt: r.claimedAt,
    claimHasTime: r.claimHasTime,
    followUpCount: r.followUps.length,
  };
  if (r.registration.expectedAmount !== undefined) c.expectedAmount = r.registration.expectedAmount;
  if (r.registration.expectedUnitPrice !== undefined) c.expectedUnitPrice = r.registration.expectedUnitPrice;
  if (r.registration.expectedSignDate !== undefined) c.expectedSignDate = r.registration.expectedSignDate;
  if (r.registration.firstVisitAt !== undefined) c.firstVisitAt = r.registration.firstVisitAt;
  if (r.registration.channel !== undefined) c.channel = r.registration.channel;
  if (r.registration.householdOf !== undefined) c.household = true;
  return c;
}

function inFlight(): DomainError {
  return new DomainError(
    problem(
      'idempotency.in_flight',
      '相同 Idempotency-Key 的请求仍在处理中，请稍后重试',
      'A request with this Idempotency-Key is still being processed; retry shortly',
    ),
  );
}

export function notFound(no: string): DomainError {
  return new DomainError(
    problem('registration.not_found', `报备 ${no} 不存在`, `Registration ${no} does not exist`),
  );
}

function conflictNumbers(results: readonly RowResult[]): string[] {
  return results.flatMap((r) =>
    r.conflicts.flatMap((c) => (c.registrationNo !== undefined ? [c.registrationNo] : [])),
  );
}

function withoutSimulatedNumbers(
  result: RowResult,
  simulated: Map<string, RowResult['clientRowId']>,
): RowResult {
  const { registrationNo, ...rest } = result;
  const conflicts = result.conflicts.map((c) => {
    if (c.registrationNo === undefined || !simulated.has(c.registrationNo)) return c;
    const { registrationNo: _unsaved, ...other } = c;
    const clientRowId = simulated.get(c.registrationNo);
    return clientRowId !== undefined ? { ...other, clientRowId } : other;
  });
  const keepNo = registrationNo !== undefined && !simulated.has(registrationNo);
  return { ...rest, ...(keepNo ? { registrationNo } : {}), conflicts };
}

/** Canonical JSON (sorted keys) hashed, so key order in a retried body does not matter. */
function hashBody(body: unknown): string {
  return createHash('sha256').update(canonicalJson(body)).digest('base64url');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export type { WriteTx };
