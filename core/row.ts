/**
 * Row parsing: a raw row from a sheet or an HTTP body becomes a normalised registration, with every
 * bad field reported (not only the first) and the completeness rules R2, R5 and R6 applied.
 */
import { z } from 'zod';
import { cellText, excelErrorProblem, isExcelErrorText, isPlaceholder } from './cellText.js';
import { cleanCompanyName } from './companyName.js';
import { parseCreditCode } from './creditCode.js';
import { parseDay, parseInstant } from './dateValue.js';
import { addDays, startOfDay } from './day.js';
import { toHalfWidth } from './halfWidth.js';
import { parseMoney } from './money.js';
import { parsePhone } from './phone.js';
import type { Policy } from './policy.js';
import { problem, type Problem } from './problem.js';
import {
  FIELD_SPECS,
  FIELDS,
  type CellValue,
  type CustomerType,
  type Day,
  type Field,
  type Grade,
  type RawRow,
  type Registration,
} from './schema.js';
import { toSimplified } from './simplified.js';

export { cellText } from './cellText.js';

export interface RowContext {
  /** Today in Shanghai: the year for dates without one, and the limit for registration times. */
  referenceDate: Day;
  policy: Policy;
  /** Registrant when the sheet has no registrant column (the signed-in user). */
  defaultRegistrant?: string;
}

export interface ParsedRow {
  /** Null when there is any error. */
  registration: Registration | null;
  errors: Problem[];
  warnings: Problem[];
}

/** Words for each customer type (客户类型), simplified and lower-cased. */
const CUSTOMER_TYPE_WORDS: Record<string, CustomerType> = {
  企业: 'enterprise',
  企业客户: 'enterprise',
  公司: 'enterprise',
  公司客户: 'enterprise',
  单位: 'enterprise',
  单位客户: 'enterprise',
  法人: 'enterprise',
  enterprise: 'enterprise',
  company: 'enterprise',
  business: 'enterprise',
  个人: 'individual',
  个人客户: 'individual',
  自然人: 'individual',
  individual: 'individual',
  person: 'individual',
  personal: 'individual',
  其他: 'other',
  其它: 'other',
  other: 'other',
};

/** Words that mark an organisation rather than a person, for rows without a customer type. */
const ORGANISATION_WORDS =
  /公司|集团|厂|店|中心|商城|超市|酒店|宾馆|银行|医院|学校|大学|学院|协会|研究院|研究所|事务所|工作室|合作社|商行|经营部|门市部|科技|贸易|实业|工程|物流|传媒/;
const LATIN_LEGAL_FORM = /\b(?:co|ltd|limited|inc|llc|corp|corporation|company|gmbh|plc)\b\.?/i;
const HAN_NAME = /^[\u3400-\u9fff]+$/;

const emailSchema = z.email();

/**
 * Free text where a placeholder (无, /, —…) is harmless: kept as typed, because it is what the
 * registrant wrote (需求：无 says something) and nothing matches or checks these fields. In every
 * other field a placeholder is an empty cell: an optional field stays empty, a required one is
 * reported missing (R2), and 无 is never a customer, a registrant, a source or a household (R19).
 */
const PLACEHOLDER_KEPT: ReadonlySet<Field> = new Set(['need', 'notes']);

/**
 * Whether a cell says nothing in its field: a placeholder (无, N/A, —) where the parser reads it as an
 * empty cell, i.e. in every field but the free text that keeps it. The Google Sheets sync hashes a
 * row's cells without such cells, so 无 turned into a blank (or back) is no edit of the row.
 */
export function readsAsBlank(field: Field, value: unknown): boolean {
  return typeof value === 'string' && !PLACEHOLDER_KEPT.has(field) && isPlaceholder(value.trim());
}

/** Parses one raw row; never throws for bad data. */
export function parseRow(raw: RawRow, ctx: RowContext): ParsedRow {
  const errors: Problem[] = [];
  const warnings: Problem[] = [];
  const values: Partial<Record<Field, string | number>> = {};
  const referenceYear = Number(ctx.referenceDate.slice(0, 4));

  for (const field of FIELDS) {
    if (field === 'registrant') continue;
    const result = parseField(field, raw[field], referenceYear);
    if (result === null) continue;
    if ('problem' in result) errors.push(result.problem);
    else values[field] = result.value;
  }

  const registrant = registrantOf(raw, ctx);
  if ('problem' in registrant) errors.push(placeholderNamed(registrant.problem, raw));
  else values.registrant = registrant.value;

  const failed = new Set(errors.map((p) => p.field));
  if (
    values.customerType === undefined &&
    !failed.has('customerType') &&
    typeof values.customerName === 'string'
  ) {
    values.customerType = inferCustomerType(values.customerName);
  }
  const completeness = completenessProblems(values, failed, ctx.policy);
  for (const e of completeness.errors) errors.push(placeholderNamed(e, raw));
  for (const w of completeness.warnings) warnings.push(w);

  const registeredAt = values.registeredAt;
  if (typeof registeredAt === 'string' && registeredAt >= startOfDay(addDays(ctx.referenceDate, 1))) {
    errors.push(
      problem(
        'date.future',
        `报备时间不能晚于今天（${ctx.referenceDate}）`,
        `The registration time cannot be later than today (${ctx.referenceDate})`,
        'registeredAt',
      ),
    );
  }

  if (errors.length > 0) return { registration: null, errors, warnings };
  // Every value above comes from a field parser that checked it (kind, length, format), so the
  // values are a Registration; test/core/row.test.ts proves it against registrationSchema for
  // arbitrary cells instead of running zod over every row again.
  const registration: Partial<Record<Field, string | number>> = {};
  // In the order of the schema's fields, as the registration was always written.
  for (const field of FIELDS) if (values[field] !== undefined) registration[field] = values[field];
  return { registration: registration as Registration, errors, warnings };
}

/** A field's normalised value, or the problem with its cell; null when the cell is blank. */
export type FieldResult = { value: string | number } | { problem: Problem } | null;

/**
 * One canonical field's cell normalised exactly as a row's would be (a change to a filed
 * registration goes through this, so it is held to the same rules as the registration was).
 */
export function parseFieldCell(field: Field, value: CellValue | undefined, referenceDate: Day): FieldResult {
  return parseField(field, value, Number(referenceDate.slice(0, 4)));
}

/**
 * What a registration must hold whatever its sheet (R2 the customer's name, R5 what identifies each
 * customer type, R6 the lead source), over normalised values; `failed` are fields whose cells were
 * bad (already reported, so not reported again as missing).
 */
export function completenessProblems(
  values: Partial<Record<Field, string | number>>,
  failed: ReadonlySet<string | undefined>,
  policy: Pick<Policy, 'sourceRequired'>,
): { errors: Problem[]; warnings: Problem[] } {
  const errors: Problem[] = [];
  const warnings: Problem[] = [];
  const present = (field: Field) => values[field] !== undefined || failed.has(field);
  // R2: the customer's name is required.
  if (!present('customerName')) errors.push(required('customerName'));
  // R5: an individual needs a phone; an enterprise a credit code or an address.
  if (values.customerType === 'individual' && !present('contactPhone')) {
    errors.push(
      problem(
        'field.required',
        '个人客户必须填写联系电话',
        'An individual customer needs a phone number',
        'contactPhone',
      ),
    );
  }
  if (values.customerType === 'enterprise' && !present('creditCode') && !present('address')) {
    // Legacy sheets carry no address column; the region alone is let through with a warning.
    if (present('region')) {
      warnings.push(
        problem(
          'customer.identification',
          '企业客户建议填写统一社会信用代码或地址，以便准确识别客户',
          'Add the credit code or the address of an enterprise customer so it can be identified reliably',
          'creditCode',
        ),
      );
    } else {
      errors.push(
        problem(
          'customer.identification',
          '企业客户必须填写统一社会信用代码或地址',
          'An enterprise customer needs a credit code or an address',
          'creditCode',
        ),
      );
    }
  }
  // R6: the lead source.
  if (policy.sourceRequired && !present('source')) errors.push(required('source'));
  return { errors, warnings };
}

/** One field normalised by its kind; null when the cell is blank. */
function parseField(field: Field, value: CellValue | undefined, referenceYear: number): FieldResult {
  const spec = FIELD_SPECS[field];
  const text = cellText(value);
  if (text === null || value === undefined) return null;
  if (!PLACEHOLDER_KEPT.has(field) && isExcelErrorText(text))
    return { problem: excelErrorProblem(field, text) };
  if (!PLACEHOLDER_KEPT.has(field) && isPlaceholder(text)) return null;
  // Amounts and dates read the cell itself (a number or a Date is not its text): a string as read.
  const cell = typeof value === 'string' ? text : value;

  switch (spec.kind) {
    case 'text':
      return tooLong(field, text.length) ?? { value: text };
    case 'companyName': {
      const name = cleanCompanyName(text);
      return name === '' ? null : (tooLong(field, name.length) ?? noLetters(field, name) ?? { value: name });
    }
    case 'personName': {
      const name = cleanPersonName(text);
      return name === '' ? null : (tooLong(field, name.length) ?? noLetters(field, name) ?? { value: name });
    }
    case 'customerType': {
      const type = CUSTOMER_TYPE_WORDS[toSimplified(toHalfWidth(text)).replace(/\s+/g, '').toLowerCase()];
      if (type !== undefined) return { value: type };
      return {
        problem: problem(
          'customerType.invalid',
          `客户类型「${text.slice(0, 20)}」无法识别：应为 企业、个人 或 其他`,
          `Customer type "${text.slice(0, 20)}" is not recognised: expected enterprise (企业), individual (个人) or other (其他)`,
          field,
        ),
      };
    }
    case 'creditCode': {
      const long = tooLong(field, text.length);
      if (long !== null) return long;
      const parsed = parseCreditCode(text, field);
      return parsed.ok ? { value: parsed.code } : { problem: parsed.problem };
    }
    case 'phone': {
      const long = tooLong(field, text.length);
      if (long !== null) return long;
      const parsed = parsePhone(text, field);
      return parsed.ok ? { value: parsed.phone.value } : { problem: parsed.problem };
    }
    case 'email': {
      const email = toHalfWidth(text).replace(/\s+/g, '').toLowerCase();
      const long = tooLong(field, email.length);
      if (long !== null) return long;
      if (emailSchema.safeParse(email).success) return { value: email };
      return {
        problem: problem(
          'email.invalid',
          '邮箱格式不正确：应为 name@example.com 这样的地址',
          'Invalid email: expected an address like name@example.com',
          field,
        ),
      };
    }
    case 'money': {
      const long = tooLong(field, text.length);
      if (long !== null) return long;
      const parsed = parseMoney(cell, field);
      return parsed.ok ? { value: parsed.yuan } : { problem: parsed.problem };
    }
    case 'day': {
      const long = tooLong(field, text.length);
      if (long !== null) return long;
      const parsed = parseDay(cell, { referenceYear }, field);
      return parsed.ok ? { value: parsed.day } : { problem: parsed.problem };
    }
    case 'instant': {
      const long = tooLong(field, text.length);
      if (long !== null) return long;
      const parsed = parseInstant(cell, { referenceYear }, field);
      return parsed.ok ? { value: parsed.instant } : { problem: parsed.problem };
    }
    case 'grade': {
      const grade = parseGrade(text);
      if (grade !== undefined) return { value: grade };
      return {
        problem: problem(
          'grade.invalid',
          `客户等级「${text.slice(0, 20)}」无法识别：应为 A、B 或 C（R42）`,
          `Grade "${text.slice(0, 20)}" is not recognised: expected A, B or C (R42)`,
          field,
        ),
      };
    }
  }
}

/** 客户等级 as sheets write it: A, a, Ａ, A类, A级, A类客户, A级客户 (R42). */
export function parseGrade(text: string): Grade | undefined {
  const t = toSimplified(toHalfWidth(text)).replace(/\s+/g, '').toUpperCase();
  const match = /^([ABC])(?:类|级)?(?:客户)?$/.exec(t);
  return match ? (match[1] as Grade) : undefined;
}

/**
 * The names a customer's identity keys are made of (core/matching.ts). Its key keeps only letters and
 * digits, so a name of marks alone (★, ※, “”, ？？) has an empty key, the same as every other such name:
 * they would all be one customer, exactly matched (撞单).
 */
const KEYED_NAMES: ReadonlySet<Field> = new Set(['customerName', 'householdOf']);
const LETTER_OR_DIGIT = /[\p{L}\p{N}]/u;

function noLetters(field: Field, name: string): FieldResult {
  if (!KEYED_NAMES.has(field) || LETTER_OR_DIGIT.test(name)) return null;
  const spec = FIELD_SPECS[field];
  const shown = name.slice(0, 20);
  return {
    problem: problem(
      'name.no_letters',
      `${spec.zh}「${shown}」不含文字或数字，认不出是哪个客户`,
      `${spec.en} "${shown}" holds no letter or digit, so it names no customer`,
      field,
    ),
  };
}

/** field.tooLong when the text is longer than the field takes, else null. */
function tooLong(field: Field, length: number): FieldResult {
  const spec = FIELD_SPECS[field];
  if (length <= spec.maxLength) return null;
  return {
    problem: problem(
      'field.tooLong',
      `${spec.zh}过长：最多 ${spec.maxLength} 个字符（现为 ${length} 个）`,
      `${spec.en} is too long: at most ${spec.maxLength} characters (got ${length})`,
      field,
    ),
  };
}

/**
 * R2: the registrant; the signed-in user stands in only when the sheet has no registrant column.
 * A blank (or placeholder) cell in a 报备人 column is missing on every path — the import, the add-in
 * and the Google Sheets sync — whoever submits: a column that names who claims each row says nothing
 * for a blank one, and filing it under the submitter (a reviewer sending a team's sheet, the link's
 * owner, an administrator migrating history) would give them a protection (R17) they never claimed.
 * Exported for the Google Sheets sync, which checks the name against the link's team before sending.
 */
export function registrantOf(raw: RawRow, ctx: RowContext): { value: string } | { problem: Problem } {
  const given = raw.registrant === undefined ? (ctx.defaultRegistrant ?? null) : cellText(raw.registrant);
  if (given !== null && isExcelErrorText(given)) return { problem: excelErrorProblem('registrant', given) };
  const name = given === null || isPlaceholder(given) ? '' : cleanPersonName(given);
  if (name === '') return { problem: blankRegistrant() };
  const max = FIELD_SPECS.registrant.maxLength;
  if (name.length <= max) return { value: name };
  return {
    problem: problem(
      'field.tooLong',
      `${FIELD_SPECS.registrant.zh}过长：最多 ${max} 个字符（现为 ${name.length} 个）`,
      `${FIELD_SPECS.registrant.en} is too long: at most ${max} characters (got ${name.length})`,
      'registrant',
    ),
  };
}

/** 王  磊 → 王磊 (padding a two-character name to line up is common), John  Smith → John Smith. */
function cleanPersonName(text: string): string {
  return toHalfWidth(text)
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/(?<=[\u3400-\u9fff]) (?=[\u3400-\u9fff])/g, '');
}

/**
 * Customer type for a row that does not say: a name with an organisation word or a legal form, or
 * too long for a person's name, is an enterprise; otherwise an individual.
 */
function inferCustomerType(name: string): CustomerType {
  if (ORGANISATION_WORDS.test(name) || LATIN_LEGAL_FORM.test(name)) return 'enterprise';
  // Persons' names are 2–4 characters; a · joins the parts of a transliterated name (阿卜杜·热合曼).
  return HAN_NAME.test(name) && name.length > 4 ? 'enterprise' : 'individual';
}

/**
 * A field reported missing whose cell holds a placeholder says that it was read as empty, so the
 * registrant looking at 无 in the cell knows why the message says nothing was filled in; R5's
 * 信用代码或地址 names both cells (不详 in 地址 looks filled in).
 */
function placeholderNamed(p: Problem, raw: RawRow): Problem {
  const fields: readonly Field[] =
    p.code === 'field.required' && p.field !== undefined
      ? [p.field as Field]
      : p.code === 'customer.identification'
        ? ['creditCode', 'address']
        : [];
  const shown = fields.flatMap((field) => {
    const text = Object.hasOwn(raw, field) ? cellText(raw[field]) : null;
    return text !== null && isPlaceholder(text) ? [text.slice(0, 10)] : [];
  });
  if (shown.length === 0) return p;
  return {
    ...p,
    message: `${p.message}（${shown.map((t) => `「${t}」`).join('')}表示未填写）`,
    messageEn: `${p.messageEn} (${shown.map((t) => `"${t}"`).join(' ')} ${shown.length > 1 ? 'mean' : 'means'} not filled in)`,
  };
}

/** The one wording of a blank 报备人, shared by every path (the add-in and the sync show it too). */
function blankRegistrant(): Problem {
  return problem(
    'field.required',
    '报备人不能为空：表中有报备人列时，空白不由提交人代填，请填写报备人',
    'Registrant is required: where the sheet has a 报备人 column, a blank is not filled in with whoever submits; name the registrant',
    'registrant',
  );
}

function required(field: Field): Problem {
  const spec = FIELD_SPECS[field];
  return problem('field.required', `${spec.zh}不能为空`, `${spec.en} is required`, field);
}
