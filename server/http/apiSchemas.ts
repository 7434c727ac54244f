/**
 * Request shapes of the HTTP API, as zod schemas: the routes parse with them and the OpenAPI
 * document is generated from them (with the response shapes of core/responses.ts, which the add-in
 * checks its responses with), so none of them can drift apart.
 */
import { z } from 'zod';
import { parseGrade } from '../../core/row.js';
import { makeDay, startOfDay } from '../../core/day.js';
import { policySchema, presetNameSchema } from '../../core/policy.js';
import { rulesChangeLapsesSchema } from '../../core/responses.js';
import { MIN_RETENTION_YEARS } from '../../core/retention.js';
import {
  cellValueSchema,
  customerTypeSchema,
  daySchema,
  FIELDS,
  FOLLOW_UP_WAYS,
  followUpWayOf,
  gradeSchema,
  recordStatusSchema,
  REGISTRATION_NO,
  submissionRowSchema,
  type CellValue,
  type Field,
} from '../../core/schema.js';
import { auditEntrySchema, notificationSchema, roleSchema } from '../store/store.js';
import { reportDataSchema } from '../../core/reportSheetPlan.js';
import { reviewActionsSchema } from '../../core/lifecycleReviewPlan.js';

/** Rows per request: the add-in sends blocks of at most 1,000; the import library uses the service directly. */
export const MAX_ROWS_PER_REQUEST = 5_000;

export const rowsBodySchema = z
  .object({ rows: z.array(submissionRowSchema).min(1).max(MAX_ROWS_PER_REQUEST) })
  .strict()
  .superRefine(({ rows }, ctx) => {
    // Results are matched back to the caller's rows by clientRowId: two rows with one id would
    // each be told the other's outcome (1 and "1" are different ids, as the echo keeps them).
    const seen = new Map<string, number>();
    for (const [i, row] of rows.entries()) {
      if (row.clientRowId === undefined) continue;
      const id = `${typeof row.clientRowId}:${row.clientRowId}`;
      const first = seen.get(id);
      if (first === undefined) {
        seen.set(id, i);
        continue;
      }
      ctx.addIssue({
        code: 'custom',
        path: ['rows', i, 'clientRowId'],
        message: `与 rows.${first} 的 clientRowId 相同：每行须唯一，结果按它对应回行 / the same clientRowId as rows.${first}: each row needs its own, results are matched back by it`,
      });
      return;
    }
  });

const reason = z.string().trim().min(1).max(2000);

export const reviewBodySchema = z
  .object({
    decision: z.enum(['approve', 'reject', 'share']),
    reason,
    /** R16: the other registration (number) sharing the customer. */
    shareWith: z.string().min(1).max(40).optional(),
    /** This registrant's share in percent; the partner gets the rest. */
    split: z.number().int().min(1).max(99).optional(),
  })
  .strict()
  .refine((b) => b.decision !== 'share' || b.shareWith !== undefined, {
    message: '裁定为共享（share）时须填写 shareWith / shareWith is required when decision is share',
    path: ['shareWith'],
  })
  // With approve or reject they would be dropped without a word: the reviewer meant to share.
  .refine((b) => b.decision === 'share' || b.shareWith === undefined, {
    message: 'shareWith 仅用于共享（share）裁定 / shareWith goes with decision share only',
    path: ['shareWith'],
  })
  .refine((b) => b.decision === 'share' || b.split === undefined, {
    message: 'split 仅用于共享（share）裁定 / split goes with decision share only',
    path: ['split'],
  });
export const extensionBodySchema = z.object({ reason }).strict();
export const extensionReviewBodySchema = z
  .object({ decision: z.enum(['approve', 'reject']), reason })
  .strict();
export const objectionBodySchema = z.object({ reason }).strict();
export const closeBodySchema = z
  .object({ outcome: z.enum(['signed', 'lost_to_competitor', 'false_info', 'withdrawn']), note: reason })
  .strict();
/** 电话 / 上门 / 微信 / 邮件 / 其他, or an English alias (phone, visit, wechat, email, other). */
export const followUpWaySchema = z
  .string()
  .trim()
  .transform((text, ctx) => {
    const way = followUpWayOf(text);
    if (way !== undefined) return way;
    ctx.addIssue({
      code: 'custom',
      message: `须为以下之一：${FOLLOW_UP_WAYS.join('、')} / expected one of ${FOLLOW_UP_WAYS.join(' | ')} (or phone, visit, wechat, email, other)`,
    });
    return z.NEVER;
  });
/**
 * An instant with any offset, rewritten as `toISOString` gives it: instants are stored and compared
 * as that text, where '…T09:00:00+08:00' or '…T01:00:00Z' would sort wrongly.
 */
const canonicalInstantSchema = z.iso
  .datetime({ offset: true })
  .transform((instant) => new Date(instant).toISOString());
/** A visit or call (R31, R43): `{ at?, way, note, feedback?, nextStep? }`. */
export const followUpBodySchema = z
  .object({
    // Compared with now (never in the future) and kept for the service clock of R31/R32/R42.
    at: canonicalInstantSchema.optional(),
    way: followUpWaySchema,
    note: z.string().trim().min(1).max(2000),
    feedback: z.string().trim().min(1).max(2000).optional(),
    nextStep: z.string().trim().min(1).max(1000).optional(),
  })
  .strict();
/** A, B or C, written as the 客户等级 column takes it (A类, B级, Ｃ类客户…): one reading everywhere. */
const gradeInputSchema = z.string().transform((text, ctx) => {
  const grade = parseGrade(text);
  if (grade !== undefined) return grade;
  ctx.addIssue({
    code: 'custom',
    message: '须为 A、B 或 C（也可写 A类、B级） / expected A, B or C (A类, B级 are read too)',
  });
  return z.NEVER;
});
/** R42: a reviewer sets the grade, saying why. */
export const gradeBodySchema = z
  .object({ grade: gradeInputSchema, reason: z.string().trim().min(1).max(500) })
  .strict();
export const poolQuerySchema = z
  .object({
    limit: z.coerce.number().int().min(1).max(500).default(100),
    offset: z.coerce.number().int().min(0).default(0),
  })
  .strict();
export const poolItemSchema = z.object({
  poolNo: z.string(),
  customerName: z.string(),
  customerType: customerTypeSchema,
  region: z.string().optional(),
  grade: gradeSchema.optional(),
  lastServiceDay: daySchema,
  pooledSince: daySchema,
});
export const poolResponseSchema = z.object({ items: z.array(poolItemSchema), total: z.number().int() });
const byGradeSchema = z.object({
  A: z.number().int(),
  B: z.number().int(),
  C: z.number().int(),
  ungraded: z.number().int(),
});
export const serviceReportResponseSchema = z.object({
  month: z.string(),
  byRegistrant: z.array(
    z.object({
      registrant: z.string(),
      team: z.string().optional(),
      visits: z.number().int(),
      due: byGradeSchema,
      met: byGradeSchema,
      missed: z.number().int(),
      lapses: z.object({ R31: z.number().int(), R32: z.number().int() }),
      poolEntries: z.number().int(),
      claims: z.number().int(),
    }),
  ),
});
export const transferBodySchema = z.object({ to: z.string().trim().min(1).max(50) }).strict();

const knownFields = new Set<string>(FIELDS);
/**
 * The fields a change sets, as raw cells (normalised in core exactly as a row's); null or '' empties
 * a field. An unknown key is refused naming it (`changes.<key>`).
 */
export const changesSchema = z
  .looseObject(
    Object.fromEntries(FIELDS.map((f) => [f, cellValueSchema.optional()])) as Record<
      Field,
      z.ZodOptional<typeof cellValueSchema>
    >,
  )
  .superRefine((changes, ctx) => {
    for (const key of Object.keys(changes)) {
      if (!knownFields.has(key)) {
        ctx.addIssue({ code: 'custom', path: [key], message: '不是报备字段 / not a registration field' });
      }
    }
    if (Object.keys(changes).length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: [],
        message: '至少写明一个要更改的字段 / name at least one field to change',
      });
    }
  })
  .transform((changes) => {
    const out: Partial<Record<Field, CellValue>> = {};
    for (const field of FIELDS) if (Object.hasOwn(changes, field)) out[field] = changes[field] ?? null;
    return out;
  });
/**
 * A day that exists, from 1900 (the working-day calendar's first year): the pattern alone lets
 * 2026-02-30 and month 13 through, and the R4 lateness count cannot place them.
 */
const calendarDaySchema = daySchema.refine(
  (d) => makeDay(Number(d.slice(0, 4)), Number(d.slice(5, 7)), Number(d.slice(8, 10))) === d,
  '不是存在的日期（1900 年起，如 2026-11-20） / not a date that exists (from 1900, e.g. 2026-11-20)',
);
/** PATCH /api/registrations/:no (issue 15). */
export const changeBodySchema = z
  .object({
    changes: changesSchema,
    reason,
    /** The day the change happened (R4: recorded within the policy's working days); today when absent. */
    changedOn: calendarDaySchema.optional(),
  })
  .strict();
/** POST /api/registrations/:no/resubmit (R13). */
export const resubmitBodySchema = z.object({ reason: reason.optional() }).strict();
/** If-Match of a change: the record's ETag (`"3"`), as a GET or a list gave it. */
export const ifMatchSchema = z
  .string()
  .regex(
    /^(?:"\d{1,12}"|\d{1,12})$/,
    '须为报备的 ETag，如 "3"（查询报备时返回） / the record\'s ETag, e.g. "3" (from GET /api/registrations/:no)',
  )
  .transform((v) => Number(v.replaceAll('"', '')));

const statusList = z
  .string()
  .transform((s) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter((x) => x !== ''),
  )
  .pipe(z.array(recordStatusSchema));

/** A registration number (R7) in a path or a query, with the expected form in both languages. */
export const registrationNoSchema = z
  .string()
  .regex(REGISTRATION_NO, '形如 BB-2026-000123 / like BB-2026-000123');

const numberList = z
  .string()
  .transform((s) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter((x) => x !== ''),
  )
  .pipe(z.array(registrationNoSchema).max(1000));

export const listQuerySchema = z
  .object({
    status: statusList.optional(),
    /** Up to 1,000 registration numbers, comma-separated (refreshing the rows a sheet holds). */
    no: numberList.optional(),
    registrant: z.string().min(1).max(50).optional(),
    q: z.string().max(100).optional(),
    expiringWithinDays: z.coerce.number().int().min(0).max(366).optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
    offset: z.coerce.number().int().min(0).default(0),
  })
  .strict();

export const reviewQueueQuerySchema = z
  .object({
    limit: z.coerce.number().int().min(1).max(500).default(100),
    offset: z.coerce.number().int().min(0).default(0),
  })
  .strict();

export const userBodySchema = z
  .object({
    name: z.string().trim().min(1).max(50),
    role: roleSchema,
    team: z.string().trim().min(1).max(50).optional(),
  })
  .strict();
export const userViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  role: roleSchema,
  team: z.string().optional(),
  createdAt: z.string(),
  disabled: z.boolean().optional(),
});
export const userCreatedSchema = z.object({ user: userViewSchema, token: z.string() });
/** R38: the colleague, by user name, who takes over a leaver's active registrations. */
export const handOverBodySchema = z.object({ to: z.string().trim().min(1).max(50) }).strict();
export const handOverResponseSchema = z.object({
  user: userViewSchema,
  to: userViewSchema,
  transferred: z.array(z.string()).describe('Registration numbers now held by `to`'),
  lapsed: z
    .array(z.string())
    .describe(
      'Registration numbers of the leaver that had lapsed (R31, R32) before the sweep wrote them void: not moved',
    ),
});

export const policyBodySchema = policySchema
  .partial()
  .extend({
    preset: presetNameSchema.optional(),
    // A body echoing PUT's answer back carries what that change voided; it is ignored.
    lapsed: rulesChangeLapsesSchema
      .optional()
      .describe('Ignored: what an earlier change voided, as PUT answers it (a body echoing the answer back)'),
    // The stored policy keeps min(1) so a store written before still opens; a new setting obeys R39.
    retentionYears: z
      .number()
      .int()
      .min(
        MIN_RETENTION_YEARS,
        `保存期限不得少于 ${MIN_RETENTION_YEARS} 年（R39） / retention must be at least ${MIN_RETENTION_YEARS} years (R39)`,
      )
      .max(100)
      .optional(),
  })
  .strict();

export const summaryQuerySchema = z
  .object({
    month: z
      .string()
      .regex(/^\d{4}-(0[1-9]|1[0-2])$/, '须为 YYYY-MM / expected YYYY-MM')
      .optional(),
  })
  .strict();
export const summaryResponseSchema = z.object({
  month: z.string(),
  byStatus: z.record(z.string(), z.number().int()),
  byRegistrant: z.array(
    z.object({
      registrant: z.string(),
      team: z.string().optional(),
      total: z.number().int(),
      byStatus: z.record(z.string(), z.number().int()),
    }),
  ),
  expiringSoon: z.array(
    z.object({ registrationNo: z.string(), registrant: z.string(), protectedUntil: daySchema }),
  ),
});

export const notificationViewSchema = notificationSchema.extend({
  message: z.string(),
  messageEn: z.string(),
});
export const notificationsResponseSchema = z.object({
  items: z.array(notificationViewSchema.extend({ read: z.boolean() })),
  unread: z.number().int().describe('Unread notifications of the caller, all pages'),
  total: z.number().int(),
  limit: z.number().int(),
  offset: z.number().int(),
});

export const auditQuerySchema = z
  .object({
    actor: z.string().max(50).optional(),
    record: z.string().max(40).optional(),
    // Compared with the entries' instants; a bare day means midnight in Shanghai.
    since: z
      .union([z.iso.date().transform((day) => startOfDay(day)), canonicalInstantSchema], {
        error:
          '须为日期 YYYY-MM-DD（上海时间零点起）或 ISO 8601 时间 / expected a day YYYY-MM-DD (from midnight in Shanghai) or an ISO 8601 instant',
      })
      .optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
    offset: z.coerce.number().int().min(0).default(0),
  })
  .strict();
export const auditResponseSchema = z.object({ items: z.array(auditEntrySchema), total: z.number().int() });

export { scheduleBodySchema } from '../../core/officialSchedule.js';
export {
  calendarPutResponseSchema,
  changeResponseSchema,
  calendarViewSchema,
  errorResponseSchema,
  healthResponseSchema,
  importResponseSchema,
  listResponseSchema,
  meResponseSchema,
  policyPutResponseSchema,
  recordResponseSchema,
  resultsResponseSchema,
  reviewQueueResponseSchema,
} from '../../core/responses.js';

/** `GET /api/reports/review?from=YYYY-MM&to=YYYY-MM` (issue 9 报表): a month range, at most 24 months. */
const monthSchema = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, '须为 YYYY-MM / expected YYYY-MM');
export const reviewReportQuerySchema = z
  .object({ from: monthSchema.optional(), to: monthSchema.optional() })
  .strict()
  .refine((q) => q.from === undefined || q.to === undefined || q.from <= q.to, {
    message: 'from 不能晚于 to / from must not be after to',
    path: ['from'],
  })
  .refine((q) => q.from === undefined || q.to === undefined || monthsApart(q.from, q.to) < 24, {
    message: '至多 24 个月 / at most 24 months',
    path: ['to'],
  });

/**
 * A `from` sent without `to`: `to` is then this month, and the range keeps the same limits against
 * it — or one old month would ask for every month since, and a future one for none.
 */
export function reviewReportFromAloneSchema(thisMonth: string) {
  return z
    .object({ from: monthSchema })
    .refine((q) => q.from <= thisMonth, {
      message: `from 不能晚于本月（${thisMonth}，to 的默认值） / from must not be after this month (${thisMonth}, the default of to)`,
      path: ['from'],
    })
    .refine((q) => monthsApart(q.from, thisMonth) < 24, {
      message: `至多 24 个月（to 默认为本月 ${thisMonth}） / at most 24 months (to defaults to this month, ${thisMonth})`,
      path: ['from'],
    });
}

/** Whole months from `from` to `to` (YYYY-MM); 0 for the same month. */
function monthsApart(from: string, to: string): number {
  const [fy, fm] = from.split('-').map(Number) as [number, number];
  const [ty, tm] = to.split('-').map(Number) as [number, number];
  return (ty - fy) * 12 + (tm - fm);
}
// The add-in parses these answers with the same schemas (core plans), so one definition serves both.
export const reviewReportResponseSchema = reportDataSchema;
export const reviewActionsResponseSchema = reviewActionsSchema;
