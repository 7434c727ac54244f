/**
 * Submission rows for HTTP tests: valid enterprise customers with distinct names, check-digit-valid
 * credit codes and distinct phones, so each row is one customer unless a test says otherwise.
 */
import { creditCodeCheckChar } from '../../core/creditCode.js';
import type { SubmissionRow } from '../../core/schema.js';

/** A valid 18-character unified social credit code (GB 32100-2015) derived from `n`. */
export function creditCodeFor(n: number): string {
  // 91 = enterprise registered with the market regulator; 310115 = Pudong; then 9 digits from n.
  const first17 = `91310115${String(n).padStart(9, '0')}`;
  return first17 + creditCodeCheckChar(first17);
}

/** An 11-digit mobile number derived from `n` (139 + 8 digits). */
export function phoneFor(n: number): string {
  return `139${String(n).padStart(8, '0')}`;
}

const SYLLABLES =
  '华信远景博达恒通瑞丰金鼎天宇中科明德安泰新元宏图嘉禾星海云峰正阳广源永盛汇川龙腾凯越启航东方';
const TRADES = ['科技', '贸易', '实业', '物流', '传媒', '工程', '电子', '医药', '食品', '建材'];

/** A company name unique per `n` (for n below about 400,000). */
export function companyNameFor(n: number): string {
  const s = SYLLABLES.length;
  const a = SYLLABLES.charAt(n % s);
  const b = SYLLABLES.charAt(Math.floor(n / s) % s);
  const c = SYLLABLES.charAt(Math.floor(n / (s * s)) % s);
  const trade = TRADES[Math.floor(n / (s * s * s)) % TRADES.length] ?? '科技';
  return `${c}${b}${a}${trade}有限公司`;
}

/** A valid enterprise row for customer `n` (R5: name + credit code; R6: source). */
export function enterpriseRow(n: number, extra: SubmissionRow = {}): SubmissionRow {
  return {
    customerName: companyNameFor(n),
    customerType: '企业',
    creditCode: creditCodeFor(n),
    region: '上海',
    contactPhone: phoneFor(n),
    source: '展会',
    ...extra,
  };
}

/** The header of a legacy sheet of enterprise customers, as `enterpriseSheetRow` fills it. */
export const ENTERPRISE_SHEET_HEADER = [
  '客户名称',
  '客户类型',
  '统一社会信用代码',
  '联系电话',
  '客户来源',
  '报备人',
  '报备日期',
];

/** A row under ENTERPRISE_SHEET_HEADER, column by column. */
export type EnterpriseSheetRow = [
  customerName: string,
  customerType: string,
  creditCode: string,
  contactPhone: string,
  source: string,
  registrant: string,
  registeredAt: string,
];

/** Customer `n` (the customer of `enterpriseRow(n)`) as a row under ENTERPRISE_SHEET_HEADER. */
export function enterpriseSheetRow(n: number, registrant: string, day = '2026-11-20'): EnterpriseSheetRow {
  return [companyNameFor(n), '企业', creditCodeFor(n), phoneFor(n), '展会', registrant, day];
}
