/**
 * Policy settings (domain.md: every rule that varies between companies) with defaults, and the
 * named presets. Administrators pick a preset and override any setting; the result is parsed here.
 */
import { z } from 'zod';
import { daySchema } from './schema.js';

export const PRESET_NAMES = ['standard', 'channel', 'sales-office', 'follow-up'] as const;
export const presetNameSchema = z.enum(PRESET_NAMES);
export type PresetName = z.infer<typeof presetNameSchema>;

export const protectionSettingSchema = z
  .object({
    /** Length of protection in months (R25: 3; R29: 1; R30: 2). */
    months: z.number().int().min(0).max(36),
    /** Extra days on top of months (a company may say "90 days"). */
    days: z.number().int().min(0).max(1000).default(0),
    /** What protection counts from: approval (R25), the first visit (R29), or the registration. */
    from: z.enum(['approval', 'registration', 'firstVisit']),
  })
  .refine((p) => p.months > 0 || p.days > 0, {
    message: '保护期至少一天 / protection must last at least one day',
  });

/**
 * When reminders go out. Protection thresholds are calendar days before the last protected day (R25;
 * T−20 is the last day to ask for an extension under the default `extensionLeadDays`, R28); one
 * falling on a rest day goes out on the working day before it. Review reminders count working days
 * before `reviewDueBy` (R12); follow-up reminders calendar days before the follow-up is due (R31).
 */
export const reminderSettingsSchema = z.object({
  protectionEndingDays: z.array(z.number().int().min(1).max(365)).max(10).default([30, 20, 7, 1]),
  reviewDueWorkdaysBefore: z.array(z.number().int().min(0).max(30)).max(5).default([1]),
  reviewOverdue: z.boolean().default(true),
  objectionClosing: z.boolean().default(true),
  followUpDueDaysBefore: z.array(z.number().int().min(0).max(30)).max(5).default([1, 0]),
  followUpOverdue: z.boolean().default(true),
  /** Hour (Asia/Shanghai) at which daily digests go out. */
  digestHour: z.number().int().min(0).max(23).default(9),
});
export type ReminderSettings = z.infer<typeof reminderSettingsSchema>;
export const DEFAULT_REMINDER_SETTINGS: ReminderSettings = reminderSettingsSchema.parse({});

export const policySchema = z.object({
  preset: presetNameSchema.default('standard'),
  protection: protectionSettingSchema.default({ months: 3, days: 0, from: 'approval' }),
  /** R12: review due within N working days of receipt. */
  reviewWorkdays: z.number().int().min(1).max(60).default(7),
  /** R12: losing competitors may object within N working days of the decision. */
  objectionWorkdays: z.number().int().min(0).max(30).default(2),
  /** R4: register within N working days of first contact; later ones are flagged, not refused. */
  registrationDeadlineWorkdays: z.number().int().min(0).max(60).default(3),
  /** R6: the lead source must be stated. */
  sourceRequired: z.boolean().default(true),
  /** R8: a registration less than N minutes before the visit is not protected in a clash (null = off). */
  minLeadMinutesBeforeVisit: z
    .number()
    .int()
    .min(1)
    .max(24 * 60)
    .nullable()
    .default(null),
  /** R18: territory rule; regions map to the team that owns them. */
  territory: z
    .object({
      enabled: z.boolean(),
      regionTeams: z.record(z.string().min(1), z.string().min(1)),
    })
    .default({ enabled: false, regionTeams: {} }),
  /** R20: members of one household brought by different channels on the same day. */
  sameDayTie: z.enum(['split', 'first', 'review']).default('first'),
  /** R19: a household (家庭成员 / 关联客户) counts as one customer. */
  householdIsOneCustomer: z.boolean().default(false),
  /** R27: false information bans that registrant from that customer for this long. */
  falseInfoBan: z.object({ months: z.number().int().min(0).max(36) }).default({ months: 3 }),
  /** R28: an extension must be asked at least N days before expiry. */
  extensionLeadDays: z.number().int().min(0).max(365).default(20),
  /** How much an approved extension adds (the policies do not say; same as protection by default). */
  extensionMonths: z.number().int().min(1).max(36).default(3),
  /** R31: follow-up variant (first within N days, then at least every M days); null = not enforced. */
  followUp: z
    .object({ firstWithinDays: z.number().int().min(1).max(60), everyDays: z.number().int().min(1).max(90) })
    .nullable()
    .default(null),
  /**
   * R32: no service (follow-up) for N months → the record turns void and its customer returns to
   * the pool (R44); null = off. Counted from the last follow-up, or the start of protection.
   */
  reassignAfterNoServiceMonths: z.number().int().min(1).max(36).nullable().default(null),
  /**
   * R42: days between services by grade (A key, B weighted, C general); null = cadences off. Sets
   * the next-service due date of a graded record; under R31 it replaces the weekly rule after the
   * first follow-up (see core/serviceCadence.ts).
   */
  gradeCadenceDays: z
    .object({
      A: z.number().int().min(1).max(366),
      B: z.number().int().min(1).max(366),
      C: z.number().int().min(1).max(366),
    })
    .nullable()
    .default(null),
  /**
   * A next-service due day that falls on a rest day (weekend, 放假) moves to the next working day by
   * the Chinese calendar (调休 workdays count as working days).
   */
  serviceDueOnWorkdays: z.boolean().default(false),
  /**
   * The day each service rule — R31 `followUp`, R32 `reassignAfterNoServiceMonths`, R42
   * `gradeCadenceDays` — was switched on, kept by PUT /api/policy (server/http/adminRoutes.ts), not
   * sent by administrators: no record's clock for that rule starts before it
   * (core/serviceCadence.ts), so switching a rule on never voids records at once for visits missed
   * before the rule existed. Only off→on sets the day; a rule already on keeps it when its interval
   * or any other setting changes; a rule switched off loses it. A rule without a day has applied
   * "since ever": policies stored before this setting existed keep the behaviour they had, so an
   * upgrade neither voids nor spares anything silently (their records already ran under the rule).
   */
  serviceRulesSince: z
    .object({
      followUp: daySchema.optional(),
      reassignAfterNoServiceMonths: daySchema.optional(),
      gradeCadenceDays: daySchema.optional(),
    })
    .strict()
    .optional(),
  /**
   * The day each rule a lapse deadline is computed by — R31 `followUp`, R32
   * `reassignAfterNoServiceMonths`, R42 `gradeCadenceDays`, `serviceDueOnWorkdays` — last changed
   * (switched on, off or to another value), kept by PUT /api/policy, not sent by administrators. A
   * changed rule gives a record that was last served before that day a full first period from it
   * (core/serviceCadence.ts): tightening a rule never makes a deadline that is already behind, so
   * nobody is voided for a visit the new rule asked for before it applied. The day an entered
   * working-day schedule changed is the calendar's (`WorkCalendar.changedOn`).
   */
  serviceRulesChangedOn: z
    .object({
      followUp: daySchema.optional(),
      reassignAfterNoServiceMonths: daySchema.optional(),
      gradeCadenceDays: daySchema.optional(),
      serviceDueOnWorkdays: daySchema.optional(),
    })
    .strict()
    .optional(),
  /** R44: the former holder of a lapsed record may not reclaim its customer for N days (0 = may at once). */
  poolCooldownDays: z.number().int().min(0).max(365).default(30),
  /** R45: most active registrations (pending, competing/queued, protected) one registrant may hold; null = no cap. */
  maxActivePerRegistrant: z.number().int().min(1).max(100_000).nullable().default(null),
  /** New customers are protected at once, without review. */
  autoApprove: z.boolean().default(false),
  /** Names at least this similar (0–1) are reported as possible matches. */
  nameSimilarityThreshold: z.number().min(0.5).max(1).default(0.85),
  /** R39: records kept this many years. */
  retentionYears: z.number().int().min(1).max(100).default(10),
  /** Scheduled reminders (issue 10): thresholds, computed in Asia/Shanghai by the working-day calendar. */
  reminders: reminderSettingsSchema.default(DEFAULT_REMINDER_SETTINGS),
});
export type Policy = z.infer<typeof policySchema>;
export type PolicyInput = z.input<typeof policySchema>;

/** Overrides each preset makes on top of the defaults (domain.md, Presets). */
const PRESET_OVERRIDES: Record<PresetName, PolicyInput> = {
  standard: {},
  // R8, R19, R20, R29
  channel: {
    protection: { months: 1, days: 0, from: 'firstVisit' },
    minLeadMinutesBeforeVisit: 30,
    householdIsOneCustomer: true,
    sameDayTie: 'split',
  },
  // R30
  'sales-office': { protection: { months: 2, days: 0, from: 'registration' } },
  // R31, R32, R42–R44
  'follow-up': {
    followUp: { firstWithinDays: 3, everyDays: 7 },
    reassignAfterNoServiceMonths: 3,
    gradeCadenceDays: { A: 7, B: 14, C: 30 },
    serviceDueOnWorkdays: true,
  },
};

/** The full policy of a preset. */
export function presetPolicy(name: PresetName): Policy {
  return policySchema.parse({ ...PRESET_OVERRIDES[name], preset: name });
}

/** A preset with an administrator's overrides; throws a ZodError naming the bad setting. */
export function resolvePolicy(input: PolicyInput): Policy {
  const preset = presetNameSchema.parse(input.preset ?? 'standard');
  return policySchema.parse({ ...PRESET_OVERRIDES[preset], ...input, preset });
}

export const DEFAULT_POLICY: Policy = presetPolicy('standard');

/** The service rules whose switching on is dated (`serviceRulesSince`). */
export const DATED_SERVICE_RULES = ['followUp', 'reassignAfterNoServiceMonths', 'gradeCadenceDays'] as const;
export type DatedServiceRule = (typeof DATED_SERVICE_RULES)[number];

/**
 * The `serviceRulesSince` of `next` replacing `previous` on `today`: a rule switched on today is
 * dated today; one that stays on keeps its day (none = since ever), whatever its interval now; one
 * that is off has none.
 */
export function serviceRulesSince(
  previous: Policy,
  next: Policy,
  today: string,
): NonNullable<Policy['serviceRulesSince']> {
  const out: NonNullable<Policy['serviceRulesSince']> = {};
  for (const rule of DATED_SERVICE_RULES) {
    if (next[rule] === null) continue;
    const day = previous[rule] === null ? today : previous.serviceRulesSince?.[rule];
    if (day !== undefined) out[rule] = day;
  }
  return out;
}

/** The settings a lapse deadline is computed by, whose last change is dated (`serviceRulesChangedOn`). */
export const CHANGE_DATED_SERVICE_RULES = [...DATED_SERVICE_RULES, 'serviceDueOnWorkdays'] as const;

/**
 * The `serviceRulesChangedOn` of `next` replacing `previous` on `today`: a setting whose value
 * differs is dated today; the others keep their day.
 */
export function serviceRulesChangedOn(
  previous: Policy,
  next: Policy,
  today: string,
): NonNullable<Policy['serviceRulesChangedOn']> {
  const out: NonNullable<Policy['serviceRulesChangedOn']> = {};
  for (const rule of CHANGE_DATED_SERVICE_RULES) {
    const changed = JSON.stringify(previous[rule]) !== JSON.stringify(next[rule]);
    const day = changed ? today : previous.serviceRulesChangedOn?.[rule];
    if (day !== undefined) out[rule] = day;
  }
  return out;
}
