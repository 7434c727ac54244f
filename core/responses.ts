/**
 * What the service answers, as zod schemas: the server generates its OpenAPI document from them
 * and the add-in checks every response with the very same ones, so the two cannot drift apart.
 */
import { z } from 'zod';
import { policySchema } from './policy.js';
import {
  conflictSchema,
  daySchema,
  problemSchema,
  recordStatusSchema,
  roleSchema,
  rowResultSchema,
  storedRecordSchema,
} from './schema.js';

/** Something an operator should act on before it hurts (e.g. next year's working days unknown). */
export const healthWarningSchema = problemSchema.extend({
  details: z.record(z.string(), z.unknown()).optional(),
});
export const healthResponseSchema = z.object({
  ok: z.boolean(),
  version: z.string(),
  store: z.string(),
  warnings: z.array(healthWarningSchema).optional(),
});
export type HealthResponse = z.infer<typeof healthResponseSchema>;

export const errorResponseSchema = z.object({
  error: problemSchema.extend({
    requestId: z.string().optional(),
    details: z.record(z.string(), z.unknown()).optional(),
  }),
});

export const resultsResponseSchema = z.object({ results: z.array(rowResultSchema) });

/**
 * The entity tag of a record at a version: what single-record responses carry in `ETag` and a
 * change sends back in `If-Match` (optimistic concurrency; every change of a record bumps it).
 */
export function recordEtag(version: number): string {
  return `"${version}"`;
}

/** A record as a caller sees it: everything but the hashed identity keys, with today's status. */
export const recordViewSchema = storedRecordSchema.omit({ identity: true, estimatedDeadlines: true }).extend({
  status: recordStatusSchema,
  /** Deadlines counted over a year without an official schedule: they may move. */
  estimated: z.array(z.enum(['reviewDueBy', 'objectionDeadline'])).optional(),
  /** `recordEtag(version)`: send it as `If-Match` to change the record (PATCH). */
  etag: z.string(),
  /**
   * Service under cadences (R31, R32, R42), for a protected record: the last service day, when
   * the next visit is due, and when the record lapses into the pool without one.
   */
  service: z
    .object({
      lastServiceDay: daySchema,
      nextDue: daySchema.optional(),
      dueRule: z.enum(['R31', 'R42']).optional(),
      lapsesOn: daySchema.optional(),
      lapseRule: z.enum(['R31', 'R32']).optional(),
    })
    .optional(),
});
export type RecordView = z.infer<typeof recordViewSchema>;

/** One undecided registration of a customer in the reviewer's ranking (R15, R17, R20, R8). */
export const rankedCompetitorSchema = z.object({
  registrationNo: z.string(),
  registrant: z.string(),
  team: z.string().optional(),
  status: recordStatusSchema,
  claimedAt: z.string(),
  rank: z.number().int(),
  share: z.number().optional(),
  needsReview: z.boolean(),
  reasons: z.array(z.object({ code: z.string(), message: z.string(), messageEn: z.string() })),
  expectedAmount: z.number().optional(),
  expectedUnitPrice: z.number().optional(),
  expectedSignDate: daySchema.optional(),
  followUps: z.number().int(),
});
export type RankedCompetitorView = z.infer<typeof rankedCompetitorSchema>;

export const recordResponseSchema = recordViewSchema.extend({
  competitors: z.array(rankedCompetitorSchema).optional(),
});

/** What a change (PATCH) or a resubmission answers: the record now, and what the caller should know. */
export const changeResponseSchema = z.object({
  record: recordViewSchema,
  /** Fields whose value changed; empty when the request changed nothing (nothing saved, version kept). */
  changed: z.array(z.string()),
  /** `change.late` (R4), `match.possible`, `customer.identification`… */
  warnings: z.array(problemSchema),
  /** Registrations of the same customer as the caller may see them (R3). */
  conflicts: z.array(conflictSchema),
});
export type ChangeResponse = z.infer<typeof changeResponseSchema>;

export const listResponseSchema = z.object({ items: z.array(recordViewSchema), total: z.number().int() });

export const reviewQueueResponseSchema = z.object({
  groups: z.array(z.object({ customer: z.string(), competitors: z.array(rankedCompetitorSchema) })),
  hasMore: z.boolean(),
});
export type ReviewQueueResponse = z.infer<typeof reviewQueueResponseSchema>;

export const meResponseSchema = z.object({
  id: z.string(),
  name: z.string(),
  role: roleSchema,
  team: z.string().optional(),
});
export type MeResponse = z.infer<typeof meResponseSchema>;

const reportConflictSchema = z.object({
  row: z.number().int().optional(),
  registrationNo: z.string().optional(),
  matchedOn: z.string(),
  strength: z.enum(['exact', 'possible']),
});

/** The legacy import's report (issue: Output 2) plus where its annotated workbook is. */
export const importResponseSchema = z.object({
  id: z.string(),
  file: z.string(),
  sheet: z.string(),
  mode: z.enum(['submit', 'history']),
  dryRun: z.boolean(),
  headerRow: z.number().int(),
  mapping: z.array(
    z.object({
      column: z.string(),
      header: z.string(),
      field: z.string().nullable(),
      confidence: z.number(),
      /** A second phone column (电话 beside 手机): read when the phone cell is empty. */
      fallbackFor: z.literal('contactPhone').optional(),
    }),
  ),
  rows: z.array(
    z.object({
      row: z.number().int(),
      status: z.string(),
      registrationNo: z.string().optional(),
      errors: z.array(problemSchema),
      warnings: z.array(problemSchema),
      conflicts: z.array(reportConflictSchema),
      skipped: z.string().optional(),
    }),
  ),
  summary: z.object({ rows: z.number().int(), byStatus: z.record(z.string(), z.number().int()) }),
  annotatedUrl: z.string(),
});
export type ImportResponse = z.infer<typeof importResponseSchema>;

const holidayViewSchema = z.object({ from: daySchema, to: daySchema, name: z.string() });

/** A year's working-day schedule in force and where it came from (GET /api/calendar/:year). */
export const calendarViewSchema = z.object({
  year: z.number().int(),
  source: z.enum(['package', 'administrator', 'weekends-only']),
  holidays: z.array(holidayViewSchema),
  workdays: z.array(daySchema),
  enteredBy: z.string().optional(),
  enteredAt: z.string().optional(),
});

/**
 * What a change of rules (policy, calendar) voided before it applied: the records that had lapsed
 * by today under the rules it replaced (R31, R32, R44), written as the sweep would.
 */
export const rulesChangeLapsesSchema = z.object({
  voided: z.number().int().min(0),
  /** Their registration numbers. */
  numbers: z.array(z.string()),
});
export type RulesChangeLapsesResponse = z.infer<typeof rulesChangeLapsesSchema>;

/** What PUT /api/policy answers: the policy now in force and what the change voided first. */
export const policyPutResponseSchema = policySchema.extend({ lapsed: rulesChangeLapsesSchema });
export type PolicyPutResponse = z.infer<typeof policyPutResponseSchema>;

/** What entering a schedule answers: the year now, and open deadlines it would move (kept as promised). */
export const calendarPutResponseSchema = z.object({
  calendar: calendarViewSchema,
  moved: z.array(
    z.object({
      registrationNo: z.string(),
      field: z.enum(['reviewDueBy', 'objectionDeadline']),
      stored: daySchema,
      wouldBe: daySchema,
    }),
  ),
  /** Estimated deadlines the schedule confirmed (no longer marked estimated). */
  confirmed: z.number().int(),
  lapsed: rulesChangeLapsesSchema,
});
export type CalendarPutResponse = z.infer<typeof calendarPutResponseSchema>;
