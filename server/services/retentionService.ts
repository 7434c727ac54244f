/**
 * Destruction after the retention period (R39): one administrator requests it — the service lists
 * the records closed more than `retentionYears` ago — and another approves it. Approval erases the
 * personal data of each listed record that is still old enough (core/retention.ts) and the name its
 * notification outbox entries carry, and leaves the request as the destruction record: numbers,
 * dates, who requested and who approved, nothing about the customers. Requests live in the store's
 * documents (collection `destructions`).
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { dayOf } from '../../core/day.js';
import { POOL_COLLECTION } from '../../core/pool.js';
import { DomainError, problem } from '../../core/problem.js';
import {
  CLOSED_STATUSES,
  DESTROYED_TEXT,
  MIN_RETENTION_YEARS,
  destructible,
  eraseRecord,
  withRetentionFloor,
} from '../../core/retention.js';
import { daySchema, instantSchema } from '../../core/schema.js';
import { OUTBOX_COLLECTION, outboxEntrySchema } from '../notify/outbox.js';
import type { Store, WriteTx } from '../store/store.js';
import { requireRole, type Actor } from './actor.js';
import { forEachRecord } from './recordPages.js';
import type { RegistrationService } from './registrationService.js';

const COLLECTION = 'destructions';
const PAGE = 1000;

export const destructionSchema = z.object({
  id: z.string(),
  status: z.enum(['requested', 'approved', 'rejected']),
  requestedBy: z.string(),
  requestedAt: instantSchema,
  /** The retention in force when requested; approval checks again with the one in force then. */
  retentionYears: z.number().int(),
  /** The day the list was made: records closed before it minus the retention. */
  asOf: daySchema,
  nos: z.array(z.string()),
  decidedBy: z.string().optional(),
  decidedAt: instantSchema.optional(),
  /** Approved: the numbers whose personal data was erased. */
  destroyed: z.array(z.string()).optional(),
  /** Approved: listed numbers no longer old enough (the retention was raised, say), left untouched. */
  kept: z.array(z.string()).optional(),
  reason: z.string().optional(),
});
export type Destruction = z.infer<typeof destructionSchema>;

export class RetentionService {
  constructor(
    private readonly store: Store,
    private readonly registrations: RegistrationService,
    private readonly clock: () => Date,
  ) {}

  async list(actor: Actor): Promise<Destruction[]> {
    requireRole(actor, ['admin'], '查看销毁申请', 'see destruction requests');
    const docs = await this.store.read((tx) => tx.listDocs(COLLECTION));
    return docs
      .map((d) => destructionSchema.parse(d.value))
      .sort((a, b) => b.requestedAt.localeCompare(a.requestedAt));
  }

  /** Lists what may be destroyed today and files the request; nothing is erased yet. */
  async request(actor: Actor): Promise<Destruction> {
    requireRole(actor, ['admin'], '申请销毁', 'request destruction');
    const now = this.clock();
    const today = dayOf(now);
    const destruction = await this.store.write(async (tx) => {
      const policy = await this.registrations.policy(tx);
      const nos = await eligibleNumbers(tx, today, policy.retentionYears);
      if (nos.length === 0) {
        throw new DomainError(
          problem(
            'retention.nothing',
            `没有超过保存期限（${policy.retentionYears} 年）的已结束报备`,
            `No closed registration is past the retention period (${policy.retentionYears} years)`,
          ),
        );
      }
      const d: Destruction = {
        id: randomUUID(),
        status: 'requested',
        requestedBy: actor.name,
        requestedAt: now.toISOString(),
        retentionYears: policy.retentionYears,
        asOf: today,
        nos,
      };
      await tx.putDoc(COLLECTION, d.id, d);
      return d;
    });
    await this.registrations.audit(actor, 'retention.request', [], {
      request: destruction.id,
      count: destruction.nos.length,
    });
    return destruction;
  }

  /** A second administrator approves: each listed record still past its retention is erased. */
  async approve(actor: Actor, id: string): Promise<Destruction> {
    requireRole(actor, ['admin'], '批准销毁', 'approve destruction');
    const now = this.clock();
    const today = dayOf(now);
    const decided = await this.store.write(async (tx) => {
      const d = await this.pending(tx, id, actor);
      const policy = await this.registrations.policy(tx);
      const destroyed: string[] = [];
      const kept: string[] = [];
      for (const no of d.nos) {
        const record = await tx.getRecord(no);
        // Re-checked now: nothing younger than the retention in force today is ever destroyed.
        if (!record || !destructible(record, today, policy.retentionYears)) {
          kept.push(no);
          continue;
        }
        await tx.putRecord(
          eraseRecord(record, now.toISOString(), {
            requestedBy: d.requestedBy,
            approvedBy: actor.name,
            requestId: d.id,
          }),
        );
        // A void record's customer may still be in the pool (R44), its entry naming the customer:
        // destroyed with the record, so the pool neither lists nor keeps it.
        await tx.deleteDoc(POOL_COLLECTION, no);
        destroyed.push(no);
      }
      await eraseOutboxNames(tx, new Set(destroyed));
      const next: Destruction = {
        ...d,
        status: 'approved',
        decidedBy: actor.name,
        decidedAt: now.toISOString(),
        destroyed,
        kept,
      };
      await tx.putDoc(COLLECTION, id, next);
      return next;
    });
    await this.registrations.audit(actor, 'retention.destroy', decided.destroyed ?? [], {
      request: decided.id,
      requestedBy: decided.requestedBy,
      approvedBy: actor.name,
      count: decided.destroyed?.length ?? 0,
    });
    return decided;
  }

  async reject(actor: Actor, id: string, reason: string): Promise<Destruction> {
    requireRole(actor, ['admin'], '驳回销毁', 'reject destruction');
    const now = this.clock();
    const decided = await this.store.write(async (tx) => {
      const d = await this.pending(tx, id, actor);
      const next: Destruction = {
        ...d,
        status: 'rejected',
        decidedBy: actor.name,
        decidedAt: now.toISOString(),
        reason,
      };
      await tx.putDoc(COLLECTION, id, next);
      return next;
    });
    await this.registrations.audit(actor, 'retention.reject', [], { request: id });
    return decided;
  }

  private async pending(tx: WriteTx, id: string, actor: Actor): Promise<Destruction> {
    const raw = await tx.getDoc(COLLECTION, id);
    if (raw === undefined) {
      throw new DomainError(
        problem(
          'retention.not_found',
          `销毁申请 ${id} 不存在`,
          `Destruction request ${id} does not exist`,
          'id',
        ),
      );
    }
    const d = destructionSchema.parse(raw);
    if (d.status !== 'requested') {
      throw new DomainError(
        problem(
          'retention.decided',
          `该销毁申请已${d.status === 'approved' ? '批准' : '驳回'}`,
          `This destruction request was already ${d.status}`,
          'id',
        ),
      );
    }
    // R39's approval is a second pair of eyes: the requester cannot approve or withdraw it alone.
    if (d.requestedBy === actor.name) {
      throw new DomainError(
        problem(
          'retention.same_admin',
          '销毁须由另一位管理员批准',
          'Another administrator must decide a destruction request',
          'id',
        ),
      );
    }
    return d;
  }
}

/**
 * Outbox entries carry the customer's name to compose their message (notify/notifyEvent.ts) and
 * stay after they are sent: those of a destroyed record keep it no longer, and one still waiting
 * goes out without it. The outbox is not keyed by record, so every entry is read, a page at a time.
 */
async function eraseOutboxNames(tx: WriteTx, nos: ReadonlySet<string>): Promise<void> {
  if (nos.size === 0) return;
  let after: string | undefined;
  for (;;) {
    const page = await tx.listDocs(OUTBOX_COLLECTION, {
      ...(after !== undefined ? { from: after } : {}),
      limit: PAGE + 1,
    });
    // `from` is inclusive: the page starts with the last key of the one before.
    const docs = after !== undefined && page[0]?.key === after ? page.slice(1) : page;
    for (const doc of docs) {
      const entry = outboxEntrySchema.parse(doc.value);
      if (!nos.has(entry.facts.no) || entry.facts.customerName === DESTROYED_TEXT) continue;
      await tx.putDoc(OUTBOX_COLLECTION, doc.key, {
        ...entry,
        facts: { ...entry.facts, customerName: DESTROYED_TEXT },
      });
    }
    if (docs.length === 0 || page.length < PAGE + 1) break;
    after = docs[docs.length - 1]!.key;
  }
}

/** Closed records, in number order, that have been kept their full retention by `today`. */
async function eligibleNumbers(tx: WriteTx, today: string, years: number): Promise<string[]> {
  const nos: string[] = [];
  await forEachRecord(tx, { today, statuses: [...CLOSED_STATUSES] }, (record) => {
    if (destructible(record, today, years)) nos.push(record.no);
  });
  return nos.sort();
}

/**
 * At start: a stored policy keeping records fewer years than R39's 10 (written before PUT
 * /api/policy refused it) is raised to 10 in the store, with an audit entry (R36) — once, since the
 * next start finds 10. Read under the write lock, so of several instances starting together only
 * one raises it. Returns what changed, for the start-up log.
 */
export async function raiseStoredRetention(
  store: Store,
  now: Date,
): Promise<{ from: number; to: number } | undefined> {
  const from = await store.write(async (tx) => {
    const stored = await tx.getPolicy();
    if (stored === undefined) return undefined;
    const floored = withRetentionFloor(stored);
    if (floored === stored) return undefined;
    await tx.putPolicy(floored);
    return stored.retentionYears;
  });
  if (from === undefined) return undefined;
  const raised = { from, to: MIN_RETENTION_YEARS };
  await store.appendAudit([
    {
      at: now.toISOString(),
      actor: 'system',
      actorRole: 'system',
      action: 'policy.retention_raised',
      records: [],
      details: raised,
    },
  ]);
  return raised;
}
