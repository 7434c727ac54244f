import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CREDIT_CODE_CHARSET,
  creditCodeCheckChar,
  parseCreditCode,
  registrationNumberCheckDigit,
} from '../../core/creditCode.js';

const SEED = 20261123;
/** The example in GB 32100-2015. */
const STANDARD_EXAMPLE = '91350100M000100Y43';
/** The example in GS 15-2006 (工商行政管理市场主体注册号编制规则). */
const REGISTRATION_NUMBER_EXAMPLE = '110108000000016';

describe('parseCreditCode', () => {
  it.each([
    [STANDARD_EXAMPLE, STANDARD_EXAMPLE],
    ['91320505299181909R', '91320505299181909R'],
    ['91350100m000100y43', STANDARD_EXAMPLE],
    ['  9135 0100 M000 100Y 43 ', STANDARD_EXAMPLE],
    ['91350100-M000100Y4-3', STANDARD_EXAMPLE],
    ['９１３５０１００Ｍ０００１００Ｙ４３', STANDARD_EXAMPLE],
  ])('accepts and normalises %j', (raw, code) => {
    expect(parseCreditCode(raw)).toEqual({ ok: true, code, kind: 'creditCode' });
  });

  it.each([
    ['9135010 0M000100Y4', 'seventeen characters'],
    ['91350100M000100Y431', 'nineteen characters'],
    ['91350100I000100Y43', 'I'],
    ['91350100O000100Y43', 'O'],
    ['91350100Z000100Y43', 'Z'],
    ['91350100S000100Y43', 'S'],
    ['91350100V000100Y43', 'V'],
    ['91350100M000100Y4!', 'punctuation'],
    ['', 'nothing'],
    ['1234567890123', 'thirteen digits'],
  ])('rejects %j (%s) with creditCode.format', (raw) => {
    const result = parseCreditCode(raw, 'creditCode');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problem.code).toBe('creditCode.format');
    expect(result.problem.field).toBe('creditCode');
  });

  it('names the expected check character when it is wrong', () => {
    const result = parseCreditCode('91350100M000100Y44');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problem.code).toBe('creditCode.checksum');
    expect(result.problem.message).toContain('3');
    expect(result.problem.messageEn).toContain('should be 3');
  });

  it('accepts an old 15-digit registration number (营业执照注册号) with a valid MOD 11,10 check digit', () => {
    expect(registrationNumberCheckDigit(REGISTRATION_NUMBER_EXAMPLE.slice(0, 14))).toBe('6');
    expect(parseCreditCode(` ${REGISTRATION_NUMBER_EXAMPLE} `)).toEqual({
      ok: true,
      code: REGISTRATION_NUMBER_EXAMPLE,
      kind: 'registrationNumber',
    });
    const wrong = parseCreditCode('110108000000017');
    expect(!wrong.ok && wrong.problem.code).toBe('creditCode.checksum');
    expect(!wrong.ok && wrong.problem.messageEn).toContain('should be 6');
  });

  it('refuses to compute a check character from a bad prefix', () => {
    expect(() => creditCodeCheckChar('9135')).toThrow(RangeError);
    expect(() => creditCodeCheckChar('91350100I000100Y4')).toThrow(RangeError);
    expect(() => registrationNumberCheckDigit('1101080000000A')).toThrow(RangeError);
  });

  const first17 = fc
    .array(fc.constantFrom(...CREDIT_CODE_CHARSET.split('')), { minLength: 17, maxLength: 17 })
    .map((chars) => chars.join(''));

  it('accepts every code with the right check character and rejects every wrong one', () => {
    fc.assert(
      fc.property(first17, fc.constantFrom(...CREDIT_CODE_CHARSET.split('')), (prefix, check) => {
        const expected = creditCodeCheckChar(prefix);
        const result = parseCreditCode(prefix + check);
        if (check === expected) {
          expect(result).toEqual({ ok: true, code: prefix + check, kind: 'creditCode' });
        } else {
          expect(result.ok).toBe(false);
          expect(!result.ok && result.problem.code).toBe('creditCode.checksum');
        }
      }),
      { seed: SEED, numRuns: 1000 },
    );
  });

  it('accepts every 15-digit number with the right check digit and rejects every wrong one', () => {
    const digits14 = fc
      .array(fc.integer({ min: 0, max: 9 }), { minLength: 14, maxLength: 14 })
      .map((d) => d.join(''));
    fc.assert(
      fc.property(digits14, fc.integer({ min: 0, max: 9 }), (prefix, check) => {
        const result = parseCreditCode(`${prefix}${check}`);
        expect(result.ok).toBe(String(check) === registrationNumberCheckDigit(prefix));
      }),
      { seed: SEED, numRuns: 1000 },
    );
  });
});
