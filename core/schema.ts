/**
 * The registration record (报备记录) and what the product says about it: canonical fields with
 * zh-CN/en labels, the raw row as it arrives from a sheet or an HTTP body, the normalised
 * registration, a row result, and the stored record. The one source of truth that the server,
 * the import and the add-in import.
 */
import { z } from 'zod';

/** A calendar day in Asia/Shanghai, `YYYY-MM-DD`. */
export const daySchema = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, '须为 YYYY-MM-DD / expected YYYY-MM-DD');
export type Day = z.infer<typeof daySchema>;

/** An instant, ISO 8601 in UTC (`2026-03-05T02:00:00.000Z`). */
export const instantSchema = z.iso.datetime({ offset: true });
export type Instant = string;

/** What kind of value a field holds; decides how a cell is normalised and how a column is formatted. */
export type FieldKind =
  | 'text'
  | 'companyName'
  | 'personName'
  | 'customerType'
  | 'creditCode'
  | 'phone'
  | 'email'
  | 'money'
  | 'day'
  | 'instant'
  | 'grade';

export interface FieldSpec {
  kind: FieldKind;
  zh: string;
  en: string;
  /** Longest accepted text, in characters; longer is an error on the row, never a crash. */
  maxLength: number;
}

/** Canonical fields, in the order the product writes them (domain.md, 报备记录). */
export const FIELD_SPECS = {
  customerName: { kind: 'companyName', zh: '客户名称', en: 'Customer', maxLength: 100 },
  customerType: { kind: 'customerType', zh: '客户类型', en: 'Customer type', maxLength: 10 },
  creditCode: { kind: 'creditCode', zh: '统一社会信用代码', en: 'Credit code', maxLength: 30 },
  contactName: { kind: 'personName', zh: '联系人', en: 'Contact', maxLength: 50 },
  contactTitle: { kind: 'text', zh: '职务', en: 'Title', maxLength: 50 },
  contactPhone: { kind: 'phone', zh: '联系电话', en: 'Phone', maxLength: 40 },
  email: { kind: 'email', zh: '邮箱', en: 'Email', maxLength: 254 },
  region: { kind: 'text', zh: '区域', en: 'Region', maxLength: 50 },
  address: { kind: 'text', zh: '地址', en: 'Address', maxLength: 200 },
  industry: { kind: 'text', zh: '行业', en: 'Industry', maxLength: 50 },
  source: { kind: 'text', zh: '客户来源', en: 'Lead source', maxLength: 100 },
  need: { kind: 'text', zh: '客户需求', en: 'Need', maxLength: 500 },
  expectedAmount: { kind: 'money', zh: '预计签约金额', en: 'Expected amount', maxLength: 40 },
  expectedUnitPrice: { kind: 'money', zh: '预计签约单价', en: 'Expected unit price', maxLength: 40 },
  expectedSignDate: { kind: 'day', zh: '预计签约时间', en: 'Expected signing date', maxLength: 40 },
  registrant: { kind: 'personName', zh: '报备人', en: 'Registrant', maxLength: 50 },
  team: { kind: 'text', zh: '部门', en: 'Team', maxLength: 50 },
  channel: { kind: 'text', zh: '渠道', en: 'Channel', maxLength: 100 },
  registeredAt: { kind: 'instant', zh: '报备时间', en: 'Registered at', maxLength: 40 },
  firstVisitAt: { kind: 'instant', zh: '到访时间', en: 'First visit', maxLength: 40 },
  householdOf: { kind: 'personName', zh: '家庭成员', en: 'Household of', maxLength: 100 },
  notes: { kind: 'text', zh: '备注', en: 'Notes', maxLength: 1000 },
  /** 客户等级 (R42): A / B / C; sets the service cadence. Last, so older sheets' column order holds. */
  grade: { kind: 'grade', zh: '客户等级', en: 'Grade', maxLength: 20 },
} as const satisfies Record<string, FieldSpec>;

export type Field = keyof typeof FIELD_SPECS;
export const FIELDS = Object.keys(FIELD_SPECS) as Field[];
export const fieldSchema = z.enum(FIELDS as [Field, ...Field[]]);

/** Who uses the product (domain.md, Who uses it): 业务员, 审核人, administrators. */
export const ROLES = ['sales', 'reviewer', 'admin'] as const;
export const roleSchema = z.enum(ROLES);
export type Role = z.infer<typeof roleSchema>;

/** 客户类型 (R5). */
export const CUSTOMER_TYPES = ['enterprise', 'individual', 'other'] as const;
export const customerTypeSchema = z.enum(CUSTOMER_TYPES);
export type CustomerType = z.infer<typeof customerTypeSchema>;
export const CUSTOMER_TYPE_LABELS: Record<CustomerType, { zh: string; en: string }> = {
  enterprise: { zh: '企业', en: 'Enterprise' },
  individual: { zh: '个人', en: 'Individual' },
  other: { zh: '其他', en: 'Other' },
};

/** 客户等级 (R42): A key and strategic customers, B ordinary customers with weight, C general customers. */
export const GRADES = ['A', 'B', 'C'] as const;
export const gradeSchema = z.enum(GRADES);
export type Grade = z.infer<typeof gradeSchema>;
export const GRADE_LABELS: Record<Grade, { zh: string; en: string }> = {
  A: { zh: 'A类（重点客户）', en: 'A (key customer)' },
  B: { zh: 'B类（一般重要客户）', en: 'B (customer with weight)' },
  C: { zh: 'C类（普通客户）', en: 'C (general customer)' },
};

/** How a visit or call was made (R43), as staff write it; English aliases are read as these. */
export const FOLLOW_UP_WAYS = ['电话', '上门', '微信', '邮件', '其他'] as const;
export type FollowUpWay = (typeof FOLLOW_UP_WAYS)[number];
export const FOLLOW_UP_WAY_ALIASES: Record<string, FollowUpWay> = {
  phone: '电话',
  call: '电话',
  telephone: '电话',
  visit: '上门',
  'on-site': '上门',
  onsite: '上门',
  'in-person': '上门',
  wechat: '微信',
  weixin: '微信',
  email: '邮件',
  mail: '邮件',
  'e-mail': '邮件',
  other: '其他',
  其它: '其他',
  電話: '电话',
  郵件: '邮件',
};
/** A way as written (Chinese, traditional or an English alias, any case), or undefined. */
export function followUpWayOf(text: string): FollowUpWay | undefined {
  const t = text.trim();
  if ((FOLLOW_UP_WAYS as readonly string[]).includes(t)) return t as FollowUpWay;
  return FOLLOW_UP_WAY_ALIASES[t.toLowerCase()];
}

/**
 * The way a free-text follow-up note describes (a sheet's 说明 with no 方式 column): 上门/拜访/面谈
 * → 上门, 电话/致电/通话 → 电话, 微信 → 微信, 邮件/邮箱/email → 邮件, else 其他.
 */
export function followUpWayOfNote(note: string): FollowUpWay {
  if (/上门|拜访|面谈|到访|visit/i.test(note)) return '上门';
  if (/电话|致电|通话|来电|phone|call/i.test(note)) return '电话';
  if (/微信|wechat/i.test(note)) return '微信';
  if (/邮件|邮箱|e-?mail/i.test(note)) return '邮件';
  return '其他';
}

/** Lifecycle of a stored record (domain.md, Lifecycle). `conflict` = saved, competing or queued. */
export const RECORD_STATUSES = [
  'pending',
  'conflict',
  'protected',
  'extension-requested',
  'signed',
  'expired',
  'terminated',
  'rejected',
  'void',
] as const;
export const recordStatusSchema = z.enum(RECORD_STATUSES);
export type RecordStatus = z.infer<typeof recordStatusSchema>;

/** A row's outcome: a record status, or one of the outcomes that save nothing. */
export const ROW_STATUSES = [...RECORD_STATUSES, 'duplicate', 'invalid'] as const;
export const rowStatusSchema = z.enum(ROW_STATUSES);
export type RowStatus = z.infer<typeof rowStatusSchema>;

export const STATUS_LABELS: Record<RowStatus, { zh: string; en: string }> = {
  pending: { zh: '待审核', en: 'Pending review' },
  conflict: { zh: '冲突', en: 'Conflict' },
  protected: { zh: '保护中', en: 'Protected' },
  'extension-requested': { zh: '延期申请中', en: 'Extension requested' },
  signed: { zh: '已签约', en: 'Signed' },
  expired: { zh: '已过期', en: 'Expired' },
  terminated: { zh: '已终止', en: 'Terminated' },
  rejected: { zh: '驳回', en: 'Rejected' },
  void: { zh: '作废', en: 'Void' },
  duplicate: { zh: '重复报备', en: 'Duplicate' },
  invalid: { zh: '信息有误', en: 'Invalid' },
};

/** Statuses in which a record holds or claims the customer; used for conflicts and duplicates. */
export const ACTIVE_STATUSES: readonly RecordStatus[] = [
  'pending',
  'conflict',
  'protected',
  'extension-requested',
];
/** Statuses in which the customer is protected for the holder (R21, R25). */
export const PROTECTING_STATUSES: readonly RecordStatus[] = ['protected', 'extension-requested'];

/**
 * A registration's number as the store allocates it (R7), `BB-2026-000123`: what a sheet's 报备编号
 * cell must hold to be read as one (the add-in, the sync, the 我的报备 and 待审核 sheets).
 */
export const REGISTRATION_NO = /^BB-\d{4}-\d{6,}$/;

/** Columns the product writes back into a sheet, after the data (domain.md, Results). */
export const RESULT_COLUMNS = {
  registrationNo: { zh: '报备编号', en: 'Registration no.' },
  status: { zh: '状态', en: 'Status' },
  protectedUntil: { zh: '保护截止', en: 'Protected until' },
  conflict: { zh: '冲突说明', en: 'Conflicts / problems' },
  /** Advice that blocks nothing (a missing credit code, a 报备时间 not used, a late registration…). */
  hint: { zh: '提示', en: 'Hints' },
} as const;
export type ResultColumn = keyof typeof RESULT_COLUMNS;
/** Other result labels the product may show (review sheet, exports). */
export const RESULT_LABELS = {
  ...RESULT_COLUMNS,
  protectedFrom: { zh: '保护开始', en: 'Protected from' },
  reviewDueBy: { zh: '审核截止', en: 'Review due by' },
  reason: { zh: '处理意见', en: 'Reason' },
} as const;

/** A cell as JSON carries it (HTTP bodies). */
export const cellValueSchema = z.union([z.string(), z.number(), z.boolean(), z.null()]);
/** A cell as it arrives: from JSON, or from a workbook read in-process (Date for real date cells). */
export type CellValue = z.infer<typeof cellValueSchema> | Date;

/** A row as submitted: any canonical field as a raw cell, plus the caller's row id (echoed back). */
export const rawRowSchema = z
  .object({
    clientRowId: z.union([z.string().max(100), z.number()]).optional(),
    ...(Object.fromEntries(FIELDS.map((f) => [f, cellValueSchema.optional()])) as Record<
      Field,
      z.ZodOptional<typeof cellValueSchema>
    >),
  })
  .strict();
export type RawRow = { clientRowId?: string | number | undefined } & { [F in Field]?: CellValue | undefined };

/** R18: the three exceptions under which a cross-region registration may be approved. */
export const TERRITORY_EXCEPTIONS = ['unified-design', 'unified-tender', 'proxy-purchase'] as const;
export const territoryExceptionSchema = z.enum(TERRITORY_EXCEPTIONS);

/**
 * A row as the service takes it: the raw fields plus what only some callers may send —
 * `approvedAt` and `status` for an administrator migrating the existing register, and a claimed
 * territory exception (R18).
 */
export const submissionRowSchema = rawRowSchema
  .extend({
    approvedAt: cellValueSchema.optional(),
    status: z.enum(['protected', 'signed', 'expired', 'terminated', 'rejected', 'pending']).optional(),
    territoryException: territoryExceptionSchema.optional(),
  })
  .strict();
export type SubmissionRow = RawRow & {
  approvedAt?: CellValue | undefined;
  status?: z.infer<typeof submissionRowSchema>['status'];
  territoryException?: z.infer<typeof territoryExceptionSchema> | undefined;
};

const text = (max: number) => z.string().min(1).max(max);

/** A registration after normalisation: every value in its canonical form. */
export const registrationSchema = z.object({
  customerName: text(FIELD_SPECS.customerName.maxLength),
  customerType: customerTypeSchema,
  /** 18-character credit code, or an old 15-digit registration number (营业执照注册号) from legacy sheets. */
  creditCode: z
    .string()
    .regex(/^(?:[0-9A-HJ-NP-RTUWXY]{18}|\d{15})$/)
    .optional(),
  contactName: text(FIELD_SPECS.contactName.maxLength).optional(),
  contactTitle: text(FIELD_SPECS.contactTitle.maxLength).optional(),
  /** Normalised: mobile `13812345678`, landline `021-12345678`, masked `138****5678`. */
  contactPhone: text(FIELD_SPECS.contactPhone.maxLength).optional(),
  email: z.email().optional(),
  region: text(FIELD_SPECS.region.maxLength).optional(),
  address: text(FIELD_SPECS.address.maxLength).optional(),
  industry: text(FIELD_SPECS.industry.maxLength).optional(),
  source: text(FIELD_SPECS.source.maxLength).optional(),
  need: text(FIELD_SPECS.need.maxLength).optional(),
  /** Yuan. */
  expectedAmount: z.number().nonnegative().optional(),
  expectedUnitPrice: z.number().nonnegative().optional(),
  expectedSignDate: daySchema.optional(),
  registrant: text(FIELD_SPECS.registrant.maxLength),
  team: text(FIELD_SPECS.team.maxLength).optional(),
  channel: text(FIELD_SPECS.channel.maxLength).optional(),
  registeredAt: instantSchema.optional(),
  firstVisitAt: instantSchema.optional(),
  householdOf: text(FIELD_SPECS.householdOf.maxLength).optional(),
  notes: text(FIELD_SPECS.notes.maxLength).optional(),
  grade: gradeSchema.optional(),
});
export type Registration = z.infer<typeof registrationSchema>;

/** Fields that hold personal data: encrypted at rest, never logged, hidden from competitors. */
export const PERSONAL_FIELDS = [
  'contactName',
  'contactPhone',
  'email',
  'creditCode',
  'address',
  'householdOf',
] as const;
/** Fields a competitor never sees on someone else's record (personal data plus money). */
export const CONFIDENTIAL_FIELDS = [
  ...PERSONAL_FIELDS,
  'expectedAmount',
  'expectedUnitPrice',
  'need',
  'notes',
] as const;

/** What a match was found on (matching). */
export const MATCHED_ON = ['creditCode', 'name', 'phone', 'maskedPhone', 'email', 'household'] as const;
export const matchedOnSchema = z.enum(MATCHED_ON);
export type MatchedOn = z.infer<typeof matchedOnSchema>;
export const matchStrengthSchema = z.enum(['exact', 'possible']);
export type MatchStrength = z.infer<typeof matchStrengthSchema>;

export const problemSchema = z.object({
  code: z.string(),
  message: z.string(),
  messageEn: z.string(),
  field: z.string().optional(),
  details: z.record(z.string(), z.unknown()).optional(),
});

export const rowErrorSchema = problemSchema;
export const rowWarningSchema = problemSchema.omit({ field: true }).extend({ field: z.string().optional() });

/**
 * Another registration this row clashes with, as the caller may see it (R3: no customer details).
 * In a dry run (check) a clash with an earlier row of the same request names that row's
 * `clientRowId` instead of a number, since nothing was saved.
 */
export const conflictSchema = z.object({
  registrationNo: z.string().optional(),
  clientRowId: z.union([z.string(), z.number()]).optional(),
  status: recordStatusSchema,
  holder: z.object({ name: z.string(), team: z.string().optional() }),
  registeredAt: instantSchema.optional(),
  protectedUntil: daySchema.optional(),
  matchedOn: matchedOnSchema,
  strength: matchStrengthSchema,
});
export type Conflict = z.infer<typeof conflictSchema>;

/** The answer for one submitted row. */
export const rowResultSchema = z.object({
  clientRowId: z.union([z.string(), z.number()]).optional(),
  status: rowStatusSchema,
  registrationNo: z.string().optional(),
  protectedFrom: daySchema.optional(),
  protectedUntil: daySchema.optional(),
  reviewDueBy: daySchema.optional(),
  /** Dates above counted over a year without an official schedule (Monday–Friday): they may move. */
  estimated: z.array(z.enum(['reviewDueBy', 'objectionDeadline'])).optional(),
  errors: z.array(rowErrorSchema),
  warnings: z.array(rowWarningSchema),
  conflicts: z.array(conflictSchema),
});
export type RowResult = z.infer<typeof rowResultSchema>;

/** One entry of a record's history (R37): who did what, when. */
export const historyEntrySchema = z.object({
  at: instantSchema,
  by: z.string(),
  action: z.string(),
  from: recordStatusSchema.optional(),
  to: recordStatusSchema.optional(),
  reason: z.string().optional(),
  details: z.record(z.string(), z.unknown()).optional(),
});
export type HistoryEntry = z.infer<typeof historyEntrySchema>;

/**
 * A visit or call (R31, R43). `way`, `feedback` and `nextStep` came with issue 13; records kept
 * before it have a note only. Sealed at rest with the rest of the record (it names people).
 */
export const followUpSchema = z.object({
  at: instantSchema,
  by: z.string(),
  note: z.string(),
  way: z.enum(FOLLOW_UP_WAYS).optional(),
  feedback: z.string().optional(),
  nextStep: z.string().optional(),
});
export type FollowUp = z.infer<typeof followUpSchema>;

/**
 * Identity keys of a customer (matching): normalised values, or their keyed hashes once the
 * server has hashed them (the shape is the same; core compares opaque strings).
 */
export const identityKeysSchema = z.object({
  customerType: customerTypeSchema,
  creditCode: z.string().nullable(),
  /** Normalised company/person name key (region|core). */
  name: z.string(),
  /** Blocking keys: records sharing one are compared for name similarity. */
  nameBlocks: z.array(z.string()),
  /** Character bigrams of the name's core, for similarity (Dice). */
  nameGrams: z.array(z.string()),
  /** Full phone (mobile or landline with area code). */
  phone: z.string().nullable(),
  phoneIsMobile: z.boolean(),
  /** First three and last four digits of a mobile (前三后四), from a full or a masked number. */
  maskedPhone: z.string().nullable(),
  /** The phone was given masked, so only maskedPhone is known. */
  phoneMasked: z.boolean(),
  email: z.string().nullable(),
  /** Household (R19): the key of the household's customer, when the policy joins households. */
  household: z.string().nullable(),
  /** Contact person's (or individual customer's) name key. */
  person: z.string().nullable(),
  /** Contact person's surname, for masked-phone "possible" matches. */
  surname: z.string().nullable(),
});
export type IdentityKeys = z.infer<typeof identityKeysSchema>;

/** A registration as the store keeps it (the store adapter encrypts what is personal; not here). */
export const storedRecordSchema = z.object({
  no: z.string(),
  status: recordStatusSchema,
  registration: registrationSchema,
  /** Hashed identity keys (HMAC), used for matching without personal data in clear. */
  identity: identityKeysSchema,
  /** Team of the registrant at the time of registration (scopes reviewers, R34). */
  team: z.string().optional(),
  /** Who submitted it (may differ from the registrant when a reviewer registers for someone). */
  submittedBy: z.string(),
  receivedAt: instantSchema,
  /** When the claim counts from (R17): the sheet's 报备时间 if given and allowed, else receivedAt. */
  claimedAt: instantSchema,
  /** The claim time is only known to the day. */
  claimHasTime: z.boolean(),
  approvedAt: instantSchema.optional(),
  protectedFrom: daySchema.optional(),
  protectedUntil: daySchema.optional(),
  reviewDueBy: daySchema.optional(),
  objectionDeadline: daySchema.optional(),
  /**
   * Working-day deadlines counted over a year that had no official schedule (the Monday–Friday
   * estimate), each with the day it was counted from, so entering the year shows which would move.
   */
  estimatedDeadlines: z
    .object({ reviewDueBy: daySchema.optional(), objectionDeadline: daySchema.optional() })
    .optional(),
  /** Why a record is rejected/terminated (e.g. `conflict.lost`). */
  reasonCode: z.string().optional(),
  reason: z.string().optional(),
  /** A record in `conflict`: the records it competes with or waits behind. */
  blockedBy: z.array(z.string()).optional(),
  /** `competing` with an earlier pending claim, or `queued` behind an active protection. */
  conflictKind: z.enum(['competing', 'queued']).optional(),
  /** Shared customer (R16): the partner record and this record's share in percent. */
  share: z
    .object({ withNo: z.string(), withRegistrant: z.string(), percent: z.number().min(0).max(100) })
    .optional(),
  extension: z
    .object({
      requestedAt: instantSchema,
      reason: z.string(),
      decision: z.enum(['approve', 'reject']).optional(),
      decidedAt: instantSchema.optional(),
    })
    .optional(),
  /** R12: a losing competitor's objection to the decision that made it lose. */
  objection: z
    .object({
      at: instantSchema,
      reason: z.string(),
      against: z.string(),
      decision: z.enum(['upheld', 'dismissed']).optional(),
      decidedAt: instantSchema.optional(),
    })
    .optional(),
  followUps: z.array(followUpSchema),
  history: z.array(historyEntrySchema),
  version: z.number().int().nonnegative(),
  /** R39: the personal data was destroyed after the retention period (core/retention.ts). */
  destroyed: z.object({ at: instantSchema, requestId: z.string() }).optional(),
});
export type StoredRecord = z.infer<typeof storedRecordSchema>;
