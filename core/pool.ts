/**
 * The public pool 公海 (R44) and the cap on held customers (R45): what a pool entry keeps, what a
 * listing may show of it (R3: nothing that identifies or values the customer beyond its name,
 * region and grade), the former holder's cooldown, and the cap decision. Pure.
 */
import { z } from 'zod';
import { addDays, dayOf } from './day.js';
import type { Policy } from './policy.js';
import { problem, type Problem } from './problem.js';
import {
  customerTypeSchema,
  daySchema,
  gradeSchema,
  instantSchema,
  type Day,
  type Instant,
} from './schema.js';

/** Why a record turned void and entered the pool: R31 (follow-up lapsed) or R32 (no service). */
export const LAPSE_REASON_CODES = { R31: 'followUp.lapsed', R32: 'service.lapsed' } as const;
export const POOLED_REASON_CODES: readonly string[] = Object.values(LAPSE_REASON_CODES);

/**
 * A pooled customer, kept in the `pool` document collection under the void record's number
 * (sealed at rest like records: it names the customer).
 */
export const poolEntrySchema = z.object({
  /** The void record whose customer is in the pool. */
  no: z.string(),
  customerName: z.string(),
  customerType: customerTypeSchema,
  region: z.string().optional(),
  grade: gradeSchema.optional(),
  /** The last day the customer was served (last follow-up, or the start of protection). */
  lastServiceDay: daySchema,
  /** When the record lapsed into the pool. */
  since: instantSchema,
  rule: z.enum(['R31', 'R32']),
  formerHolder: z.string(),
  team: z.string().optional(),
  /** The first day the former holder may claim the customer again (R44 cooldown). */
  formerHolderMayClaimFrom: daySchema,
  /** Set once someone registers the customer (first come, first served). */
  claimed: z.object({ no: z.string(), by: z.string(), at: instantSchema }).optional(),
});
export type PoolEntry = z.infer<typeof poolEntrySchema>;
export const POOL_COLLECTION = 'pool';

/** One pooled customer as anyone may see it (R3, R44): no contact, phone, credit code or amounts. */
export interface PoolListItem {
  poolNo: string;
  customerName: string;
  customerType: PoolEntry['customerType'];
  region?: string;
  grade?: PoolEntry['grade'];
  lastServiceDay: Day;
  pooledSince: Day;
}

export function poolListItem(entry: PoolEntry): PoolListItem {
  return {
    poolNo: entry.no,
    customerName: entry.customerName,
    customerType: entry.customerType,
    ...(entry.region !== undefined ? { region: entry.region } : {}),
    ...(entry.grade !== undefined ? { grade: entry.grade } : {}),
    lastServiceDay: entry.lastServiceDay,
    pooledSince: dayOf(entry.since),
  };
}

/**
 * R44: the first day the former holder may claim again, and the last day of the ban that keeps
 * them out until then (bans are inclusive of `until`); no ban when the cooldown is 0.
 */
export function poolCooldown(
  lapsedOn: Day,
  policy: Pick<Policy, 'poolCooldownDays'>,
): { mayClaimFrom: Day; banUntil: Day | null } {
  const mayClaimFrom = addDays(lapsedOn, policy.poolCooldownDays);
  return { mayClaimFrom, banUntil: policy.poolCooldownDays > 0 ? addDays(mayClaimFrom, -1) : null };
}

/** The refusal of a former holder within the cooldown (R44), naming the day they may claim again. */
export function poolCooldownProblem(mayClaimFrom: Day): Problem {
  return withDetails(
    problem(
      'pool.cooldown',
      `您的该客户报备已失效回到公海，${mayClaimFrom} 起才能重新认领（R44）`,
      `Your registration of this customer lapsed into the pool; you may claim it again from ${mayClaimFrom} (R44)`,
    ),
    { mayClaimFrom },
  );
}

function withDetails(p: Problem, details: Record<string, string | number>): Problem {
  return { ...p, details };
}

/** What a check or registration of a pooled customer is told instead of "protected by …". */
export function inPoolProblem(since: Instant): Problem {
  const day = dayOf(since);
  return withDetails(
    problem(
      'pool.available',
      `该客户自 ${day} 起在公海中，无人保护；报备即可认领，先到先得（R44）`,
      `This customer is in the pool since ${day}, protected by nobody; registering claims it, first come first served (R44)`,
    ),
    { pooledSince: day },
  );
}

export type CapDecision =
  { kind: 'ok' } | { kind: 'refused'; problem: Problem } | { kind: 'exempt'; problem: Problem };

/**
 * R45: a registrant holding `count` active registrations (pending, competing or queued, protected,
 * extension requested) may add one more only below the cap. An administrator's history migration
 * is exempt, and says so.
 */
export function capDecision(
  policy: Pick<Policy, 'maxActivePerRegistrant'>,
  count: number,
  migrating: boolean,
): CapDecision {
  const cap = policy.maxActivePerRegistrant;
  if (cap === null || count < cap) return { kind: 'ok' };
  if (migrating) {
    return {
      kind: 'exempt',
      problem: withDetails(
        problem(
          'registration.cap_exempt',
          `报备人已有 ${count} 个有效报备，达到上限 ${cap}；历史数据迁移不受上限限制（R45）`,
          `The registrant holds ${count} active registrations, at the cap of ${cap}; history migration is exempt (R45)`,
        ),
        { cap, count },
      ),
    };
  }
  return {
    kind: 'refused',
    problem: withDetails(
      problem(
        'registration.cap',
        `报备人已有 ${count} 个有效报备（待审核与保护中），达到上限 ${cap}，不能再报备（R45）`,
        `The registrant already holds ${count} active registrations (pending and protected), the cap is ${cap} (R45)`,
      ),
      { cap, count },
    ),
  };
}
