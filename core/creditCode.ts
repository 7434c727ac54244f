/**
 * The unified social credit code (统一社会信用代码, GB 32100-2015) and the older 15-digit business
 * licence registration number (营业执照注册号) that legacy sheets still carry under 营业执照号:
 * normalisation and check-character validation.
 */
import { toHalfWidth } from './halfWidth.js';
import { problem, type Problem } from './problem.js';

/** The 31 characters a credit code may use; I, O, Z, S and V are left out. */
export const CREDIT_CODE_CHARSET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28] as const;
const CREDIT_CODE = /^[0-9A-HJ-NP-RTUWXY]{18}$/;
const REGISTRATION_NUMBER = /^\d{15}$/;

export type CreditCodeResult =
  { ok: true; code: string; kind: 'creditCode' | 'registrationNumber' } | { ok: false; problem: Problem };

/** The check character (18th) for the first 17 characters of a credit code. */
export function creditCodeCheckChar(first17: string): string {
  if (first17.length !== 17) throw new RangeError('creditCodeCheckChar needs exactly 17 characters');
  let sum = 0;
  for (let i = 0; i < 17; i++) {
    const value = CREDIT_CODE_CHARSET.indexOf(first17.charAt(i));
    if (value < 0) throw new RangeError(`not a credit code character: ${first17.charAt(i)}`);
    sum += value * (WEIGHTS[i] as number);
  }
  return CREDIT_CODE_CHARSET.charAt((31 - (sum % 31)) % 31);
}

/** The check digit (15th) of a 15-digit registration number: ISO 7064 MOD 11,10 over the first 14. */
export function registrationNumberCheckDigit(first14: string): string {
  if (!/^\d{14}$/.test(first14)) throw new RangeError('registrationNumberCheckDigit needs exactly 14 digits');
  let product = 10;
  for (const ch of first14) {
    const sum = (product % 11) + Number(ch);
    product = (sum % 10 || 10) * 2;
  }
  return String((11 - (product % 11)) % 10);
}

/**
 * Normalises (trim, upper case, full-width to half-width, spaces and dashes removed) and validates.
 * An 18-character credit code must have the right check character; a 15-digit registration number
 * (issued before 2015, still on old licences) is accepted when its MOD 11,10 check digit is right.
 */
export function parseCreditCode(raw: string, field?: string): CreditCodeResult {
  const code = toHalfWidth(raw)
    .toUpperCase()
    .replace(/[\s\-\u2010-\u2015]/g, '');
  if (REGISTRATION_NUMBER.test(code)) {
    const expected = registrationNumberCheckDigit(code.slice(0, 14));
    if (code.charAt(14) === expected) return { ok: true, code, kind: 'registrationNumber' };
    return {
      ok: false,
      problem: problem(
        'creditCode.checksum',
        `营业执照注册号校验位不正确：第 15 位应为 ${expected}`,
        `Business registration number check digit is wrong: the 15th digit should be ${expected}`,
        field,
      ),
    };
  }
  if (!CREDIT_CODE.test(code)) {
    return {
      ok: false,
      problem: problem(
        'creditCode.format',
        '统一社会信用代码格式不正确：应为 18 位数字或大写字母（不含 I、O、Z、S、V）',
        'Invalid credit code: expected 18 digits or capital letters (I, O, Z, S and V are not used)',
        field,
      ),
    };
  }
  const expected = creditCodeCheckChar(code.slice(0, 17));
  if (code.charAt(17) !== expected) {
    return {
      ok: false,
      problem: problem(
        'creditCode.checksum',
        `统一社会信用代码校验位不正确：第 18 位应为 ${expected}`,
        `Credit code check character is wrong: the 18th character should be ${expected}`,
        field,
      ),
    };
  }
  return { ok: true, code, kind: 'creditCode' };
}
