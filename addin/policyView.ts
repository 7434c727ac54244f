/**
 * The policy as the administrator sees and edits it in the pane (issue 9): every setting with its
 * label in Chinese and English and its value, and the form's texts parsed into a preset plus
 * overrides. Validation is core's zod schema itself (resolvePolicy), so the pane says exactly what
 * the service would refuse, next to the field, naming it in both languages. No DOM here: the pane
 * renders these rows and the unit tests check them.
 */
import { z } from 'zod';
import {
  PRESET_NAMES,
  presetPolicy,
  resolvePolicy,
  type Policy,
  type PolicyInput,
  type PresetName,
} from '../core/policy.js';
import type { PolicyPutResponse } from '../core/responses.js';
import { translate, type Language } from './i18n.js';

/** Top-level settings a preset can override (preset itself is chosen separately). */
export type SettingKey = Exclude<keyof Policy, 'preset'>;

/**
 * How a setting is typed in the form: numbers and nullable numbers as text (empty = off for
 * nullable), booleans and enums from a list, nested settings as JSON.
 */
export type SettingKind =
  | { type: 'int' }
  | { type: 'number' }
  | { type: 'nullableInt' }
  | { type: 'boolean' }
  | { type: 'enum'; options: readonly string[] }
  | { type: 'json' };

export interface SettingSpec {
  key: SettingKey;
  zh: string;
  en: string;
  kind: SettingKind;
}

/** In the order of core/policy.ts; labels say the rule they carry. */
export const SETTINGS: readonly SettingSpec[] = [
  { key: 'protection', zh: '保护期（R25）', en: 'Protection (R25)', kind: { type: 'json' } },
  {
    key: 'reviewWorkdays',
    zh: '审核时限（工作日，R12）',
    en: 'Review within (working days, R12)',
    kind: { type: 'int' },
  },
  {
    key: 'objectionWorkdays',
    zh: '异议期（工作日，R12）',
    en: 'Objection window (working days, R12)',
    kind: { type: 'int' },
  },
  {
    key: 'registrationDeadlineWorkdays',
    zh: '首次接触后报备时限（工作日，R4）',
    en: 'Register within (working days of first contact, R4)',
    kind: { type: 'int' },
  },
  {
    key: 'sourceRequired',
    zh: '必须填写客户来源（R6）',
    en: 'Lead source required (R6)',
    kind: { type: 'boolean' },
  },
  {
    key: 'minLeadMinutesBeforeVisit',
    zh: '拜访前至少提前报备（分钟，R8；空=关闭）',
    en: 'Register at least this long before a visit (minutes, R8; empty = off)',
    kind: { type: 'nullableInt' },
  },
  { key: 'territory', zh: '区域归属（R18）', en: 'Territories (R18)', kind: { type: 'json' } },
  {
    key: 'sameDayTie',
    zh: '同日同户（R20）',
    en: 'Same-day household tie (R20)',
    kind: { type: 'enum', options: ['split', 'first', 'review'] },
  },
  {
    key: 'householdIsOneCustomer',
    zh: '家庭成员算同一客户（R19）',
    en: 'A household is one customer (R19)',
    kind: { type: 'boolean' },
  },
  {
    key: 'falseInfoBan',
    zh: '虚假信息禁报期（R27）',
    en: 'False-information ban (R27)',
    kind: { type: 'json' },
  },
  {
    key: 'extensionLeadDays',
    zh: '延期须提前申请（天，R28）',
    en: 'Ask for an extension at least (days before expiry, R28)',
    kind: { type: 'int' },
  },
  { key: 'extensionMonths', zh: '延期时长（月）', en: 'Extension length (months)', kind: { type: 'int' } },
  {
    key: 'followUp',
    zh: '跟进要求（R31；空=不要求）',
    en: 'Follow-up rule (R31; empty = none)',
    kind: { type: 'json' },
  },
  {
    key: 'reassignAfterNoServiceMonths',
    zh: '无服务转公海（月，R32；空=关闭）',
    en: 'No service → pool after (months, R32; empty = off)',
    kind: { type: 'nullableInt' },
  },
  {
    key: 'gradeCadenceDays',
    zh: '按等级服务间隔（天，R42；空=关闭）',
    en: 'Service cadence by grade (days, R42; empty = off)',
    kind: { type: 'json' },
  },
  {
    key: 'serviceDueOnWorkdays',
    zh: '服务到期顺延到工作日',
    en: 'Service due days move to working days',
    kind: { type: 'boolean' },
  },
  {
    key: 'poolCooldownDays',
    zh: '原持有人重新认领冷却期（天，R44）',
    en: 'Reclaim cooldown (days, R44)',
    kind: { type: 'int' },
  },
  {
    key: 'maxActivePerRegistrant',
    zh: '每人最多在保报备（R45；空=不限）',
    en: 'Most active registrations per person (R45; empty = no cap)',
    kind: { type: 'nullableInt' },
  },
  {
    key: 'autoApprove',
    zh: '新客户免审核直接保护',
    en: 'Protect new customers without review',
    kind: { type: 'boolean' },
  },
  {
    key: 'nameSimilarityThreshold',
    zh: '名称相似度提示阈值（0.5–1）',
    en: 'Name similarity to report (0.5–1)',
    kind: { type: 'number' },
  },
  {
    key: 'retentionYears',
    zh: '记录保存年限（R39，至少 10 年）',
    en: 'Records kept for (years, R39, at least 10)',
    kind: { type: 'int' },
  },
  { key: 'reminders', zh: '提醒设置', en: 'Reminders', kind: { type: 'json' } },
];

export const PRESET_LABELS: Record<PresetName, { zh: string; en: string }> = {
  standard: { zh: '标准', en: 'Standard' },
  channel: { zh: '渠道', en: 'Channel' },
  'sales-office': { zh: '售楼处', en: 'Sales office' },
  'follow-up': { zh: '跟进制', en: 'Follow-up' },
};

export function settingSpec(key: string): SettingSpec | undefined {
  return SETTINGS.find((s) => s.key === key);
}

/** A setting's value as the form shows it (and as parseSettingText reads it back). */
export function settingText(spec: SettingSpec, value: unknown): string {
  switch (spec.kind.type) {
    case 'int':
    case 'number':
      return String(value);
    case 'nullableInt':
      return value === null || value === undefined ? '' : String(value);
    case 'boolean':
      return value === true ? 'true' : 'false';
    case 'enum':
      return String(value);
    case 'json':
      return value === null || value === undefined ? '' : JSON.stringify(value);
  }
}

/** A value for reading (the policy in force): yes/no, off, numbers, JSON. */
export function settingDisplay(spec: SettingSpec, value: unknown, language: 'zh' | 'en'): string {
  if (value === null || value === undefined) return language === 'zh' ? '关闭' : 'off';
  if (spec.kind.type === 'boolean')
    return value === true ? (language === 'zh' ? '是' : 'yes') : language === 'zh' ? '否' : 'no';
  return settingText(spec, value);
}

export interface PolicyRow {
  key: SettingKey;
  zh: string;
  en: string;
  text: string;
  /** Differs from what the preset alone gives. */
  overridden: boolean;
}

/** The policy in force, one row per setting, marking what differs from its preset. */
export function policyRows(policy: Policy): PolicyRow[] {
  const base = presetPolicy(policy.preset);
  return SETTINGS.map((spec) => ({
    key: spec.key,
    zh: spec.zh,
    en: spec.en,
    text: settingText(spec, policy[spec.key]),
    overridden: JSON.stringify(policy[spec.key]) !== JSON.stringify(base[spec.key]),
  }));
}

/** A message next to one field: the setting by its labels and key, and what is wrong, in both languages. */
export interface FieldError {
  key: string;
  message: string;
  messageEn: string;
}

export type PolicyForm =
  | { ok: true; input: PolicyInput; policy: Policy; overrides: SettingKey[] }
  | { ok: false; errors: FieldError[] };

function fieldError(key: string, zh: string, en: string): FieldError {
  const spec = settingSpec(key.split('.')[0] ?? key);
  const zhName = spec ? `「${spec.zh}」（${key}）` : key;
  const enName = spec ? `“${spec.en}” (${key})` : key;
  return { key: spec?.key ?? key, message: `${zhName}：${zh}`, messageEn: `${enName}: ${en}` };
}

function zhIssue(issue: z.core.$ZodIssue): string {
  const text = z.locales.zhCN().localeError(issue as never);
  if (typeof text === 'string') return text;
  return text?.message ?? issue.message;
}

/** One field's text as a value of its kind, or what is wrong with it. */
export function parseSettingText(
  spec: SettingSpec,
  text: string,
): { ok: true; value: unknown } | { ok: false; zh: string; en: string } {
  const t = text.trim();
  switch (spec.kind.type) {
    case 'int':
    case 'number':
    case 'nullableInt': {
      if (t === '' && spec.kind.type === 'nullableInt') return { ok: true, value: null };
      const n = Number(t);
      if (t === '' || !Number.isFinite(n)) return { ok: false, zh: '应为数字', en: 'expected a number' };
      return { ok: true, value: n };
    }
    case 'boolean':
      if (t === 'true' || t === '是') return { ok: true, value: true };
      if (t === 'false' || t === '否') return { ok: true, value: false };
      return { ok: false, zh: '应为“是”或“否”', en: 'expected yes or no' };
    case 'enum':
      return { ok: true, value: t };
    case 'json':
      if (t === '') return { ok: true, value: null };
      try {
        return { ok: true, value: JSON.parse(t) as unknown };
      } catch {
        return { ok: false, zh: '不是有效的 JSON', en: 'not valid JSON' };
      }
  }
}

/**
 * The form (a preset and the text of each setting) as PUT /api/policy's body: only settings whose
 * value differs from the chosen preset are sent as overrides, so switching presets is not undone
 * by the old preset's values still in the form. Every problem is reported, each on its field.
 */
export function parsePolicyForm(preset: string, texts: Partial<Record<SettingKey, string>>): PolicyForm {
  const errors: FieldError[] = [];
  const presetParsed = z.enum(PRESET_NAMES).safeParse(preset);
  if (!presetParsed.success) {
    return {
      ok: false,
      errors: [
        {
          key: 'preset',
          message: `「预设」（preset）：应为 ${PRESET_NAMES.join('、')} 之一`,
          messageEn: `“Preset” (preset): expected one of ${PRESET_NAMES.join(', ')}`,
        },
      ],
    };
  }
  const base = presetPolicy(presetParsed.data);
  const input: Record<string, unknown> = { preset: presetParsed.data };
  const overrides: SettingKey[] = [];
  for (const spec of SETTINGS) {
    const text = texts[spec.key];
    if (text === undefined) continue;
    const parsed = parseSettingText(spec, text);
    if (!parsed.ok) {
      errors.push(fieldError(spec.key, parsed.zh, parsed.en));
      continue;
    }
    if (JSON.stringify(parsed.value) === JSON.stringify(base[spec.key])) continue;
    input[spec.key] = parsed.value;
    overrides.push(spec.key);
  }
  if (errors.length > 0) return { ok: false, errors };
  try {
    const policy = resolvePolicy(input as PolicyInput);
    return { ok: true, input: input as PolicyInput, policy, overrides };
  } catch (err) {
    if (!(err instanceof z.ZodError)) throw err;
    return { ok: false, errors: err.issues.map((issue) => zodFieldError(issue)) };
  }
}

function zodFieldError(issue: z.core.$ZodIssue): FieldError {
  const key = issue.path.map(String).join('.');
  return fieldError(key === '' ? 'preset' : key, zhIssue(issue), issue.message);
}

/**
 * A refusal from the service (its `field`, e.g. `protection.months`) as the message next to that
 * field; the service's text already names the field in both languages.
 */
export function serviceFieldError(field: string | undefined, message: string, messageEn: string): FieldError {
  const top = (field ?? '').split('.')[0] ?? '';
  return { key: settingSpec(top)?.key ?? 'preset', message, messageEn };
}

/** Registration numbers a saved policy's message lists at most; the rest are counted. */
export const LAPSED_NUMBERS_SHOWN = 10;

/**
 * What the pane says once PUT /api/policy answered: the preset and overrides saved, and — when the
 * change first voided records that had lapsed under the old rules (R31, R32, R44) — how many, and
 * which, so the administrator is not left to find them in the audit trail.
 */
export function policySavedText(saved: PolicyPutResponse, overrides: number, language: Language): string {
  const text = translate(language, 'admin.policySaved', { preset: saved.preset, n: overrides });
  const { voided, numbers } = saved.lapsed;
  if (voided === 0) return text;
  const shown = numbers.slice(0, LAPSED_NUMBERS_SHOWN).join(language === 'zh' ? '、' : ', ');
  const more = numbers.length - LAPSED_NUMBERS_SHOWN;
  const list = more > 0 ? `${shown} (+${more})` : shown;
  return `${text} ${translate(language, 'admin.policyLapsed', { n: voided, numbers: list })}`;
}
