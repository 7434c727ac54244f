/**
 * The public pool 公海 (R44) at the edge: the sweep puts lapsed records' customers in (a document
 * per void record in the `pool` collection, sealed at rest, plus the former holder's cooldown as a
 * ban on the customer's hashed identity), the registration pipeline marks them claimed, and
 * anyone signed in lists them with what R3 allows.
 */
import { addDays, dayOf, startOfDay } from '../../core/day.js';
import {
  poolCooldown,
  poolEntrySchema,
  poolListItem,
  POOL_COLLECTION,
  type PoolEntry,
  type PoolListItem,
} from '../../core/pool.js';
import type { PooledFact } from '../../core/registrationDecision.js';
import type { StoredRecord } from '../../core/schema.js';
import { lastServiceDay, type LapseDeadline } from '../../core/serviceCadence.js';
import type { WriteTx } from '../store/store.js';
import type { Actor } from './actor.js';
import { Notifier } from './notifier.js';
import type { RegistrationService, ServiceDeps } from './registrationService.js';

/** A stored pool document, or undefined when absent or not one (never throws on old data). */
export function poolEntryOf(value: unknown): PoolEntry | undefined {
  const parsed = poolEntrySchema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

/**
 * R44: a record just voided by a lapse enters the pool; its former holder is kept out for the
 * cooldown (a ban, so the registration pipeline refuses them with `pool.cooldown`). Both count from
 * the lapse day (the day after the deadline), not from the day the sweep ran: a sweep that ran late
 * (the service was down over the deadline) dates them as if it had run on time.
 */
export async function enterPool(
  tx: WriteTx,
  record: StoredRecord,
  lapse: LapseDeadline,
  now: string,
  policy: { poolCooldownDays: number },
  notify: Notifier,
): Promise<PoolEntry> {
  const rule = lapse.rule;
  const lapsedOn = addDays(lapse.deadline, 1);
  // On time, the sweep's own moment; late, the start of the lapse day (Asia/Shanghai).
  const since = dayOf(now) === lapsedOn ? now : startOfDay(lapsedOn);
  const cooldown = poolCooldown(lapsedOn, policy);
  const reg = record.registration;
  const entry: PoolEntry = {
    no: record.no,
    customerName: reg.customerName,
    customerType: reg.customerType,
    ...(reg.region !== undefined ? { region: reg.region } : {}),
    ...(reg.grade !== undefined ? { grade: reg.grade } : {}),
    lastServiceDay: lastServiceDay(record) ?? dayOf(record.receivedAt),
    since,
    rule,
    formerHolder: reg.registrant,
    ...(record.team !== undefined ? { team: record.team } : {}),
    formerHolderMayClaimFrom: cooldown.mayClaimFrom,
  };
  await tx.putDoc(POOL_COLLECTION, record.no, entry);
  if (cooldown.banUntil !== null) {
    await tx.addBan({
      registrant: reg.registrant,
      identity: record.identity,
      until: cooldown.banUntil,
      recordNo: record.no,
      at: now,
    });
  }
  const details = { rule, reclaimAfter: cooldown.mayClaimFrom };
  notify.toRegistrant(record, 'pool.lapsed', details);
  notify.toReviewers(record, 'pool.lapsed', details);
  return entry;
}

/** R44: the saved registration claimed these pooled customers; their former holders are told. */
export async function claimFromPool(
  tx: WriteTx,
  pooled: readonly PooledFact[],
  claim: StoredRecord,
  now: string,
): Promise<void> {
  if (pooled.length === 0) return;
  const notify = new Notifier(now);
  for (const fact of pooled) {
    const entry = poolEntryOf(await tx.getDoc(POOL_COLLECTION, fact.no));
    if (!entry || entry.claimed) continue;
    entry.claimed = { no: claim.no, by: claim.registration.registrant, at: now };
    await tx.putDoc(POOL_COLLECTION, fact.no, entry);
    const lapsed = await tx.getRecord(fact.no);
    if (lapsed) notify.toRegistrant(lapsed, 'pool.claimed', { claimedNo: claim.no });
  }
  await notify.flush(tx);
}

export class PoolService {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly registrations: RegistrationService,
  ) {}

  /**
   * Pooled customers not yet claimed, longest in the pool first. Everyone signed in may see the
   * pool (that is what it is for); an entry shows name, type, region, grade, last service day and
   * since when it is pooled — never contacts, phones, credit codes, addresses or amounts (R3).
   */
  async list(
    actor: Actor,
    page: { limit: number; offset: number },
  ): Promise<{ items: PoolListItem[]; total: number }> {
    const entries = await this.deps.store.read(async (tx) =>
      (await tx.listDocs(POOL_COLLECTION)).flatMap((d) => {
        const entry = poolEntryOf(d.value);
        return entry && !entry.claimed ? [entry] : [];
      }),
    );
    entries.sort((a, b) => a.since.localeCompare(b.since) || a.no.localeCompare(b.no));
    const items = entries.slice(page.offset, page.offset + page.limit);
    await this.registrations.audit(
      actor,
      'pool.list',
      items.map((e) => e.no),
      { total: entries.length },
    );
    return { items: items.map(poolListItem), total: entries.length };
  }
}
