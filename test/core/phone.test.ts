import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parsePhone, type Phone } from '../../core/phone.js';

const SEED = 20261123;

function parsed(raw: string): Phone {
  const result = parsePhone(raw);
  if (!result.ok) throw new Error(`expected ${raw} to parse: ${result.problem.messageEn}`);
  return result.phone;
}

describe('parsePhone', () => {
  it.each([
    '13812345678',
    '138 1234 5678',
    '138-1234-5678',
    '138.1234.5678',
    '+86 138 1234 5678',
    '+86-138-1234-5678',
    '+8613812345678',
    '0086 13812345678',
    '86 13812345678',
    '8613812345678',
    '(+86)13812345678',
    '(+86) 138 1234 5678',
    '１３８１２３４５６７８',
    '＋８６ １３８ １２３４ ５６７８',
  ])('[R8] mobile %j → 13812345678 with masked key 138****5678', (raw) => {
    expect(parsed(raw)).toEqual({
      kind: 'mobile',
      value: '13812345678',
      key: '13812345678',
      maskedKey: '138****5678',
      extension: null,
    });
  });

  it.each([
    ['021-12345678', '021-12345678', '02112345678'],
    ['02112345678', '021-12345678', '02112345678'],
    ['(021)12345678', '021-12345678', '02112345678'],
    ['（021）1234 5678', '021-12345678', '02112345678'],
    ['(0755)8888 6666', '0755-88886666', '075588886666'],
    ['0755-8888666', '0755-8888666', '07558888666'],
    ['010 12345678', '010-12345678', '01012345678'],
    ['+86 21 12345678', '021-12345678', '02112345678'],
    ['+86 755 8888 6666', '0755-88886666', '075588886666'],
    ['0086-10-12345678', '010-12345678', '01012345678'],
    ['400-123-4567', '400-123-4567', '4001234567'],
    ['4001234567', '400-123-4567', '4001234567'],
    ['800 123 4567', '800-123-4567', '8001234567'],
  ])('landline %j → %s', (raw, value, key) => {
    expect(parsed(raw)).toEqual({ kind: 'landline', value, key, maskedKey: null, extension: null });
  });

  it.each([
    ['021-12345678转123', '021-12345678转123'],
    ['021-12345678 转 123', '021-12345678转123'],
    ['021-12345678-123', '021-12345678转123'],
    ['021-12345678 ext 123', '021-12345678转123'],
    ['021-12345678 ext.123', '021-12345678转123'],
    ['021-12345678分机123', '021-12345678转123'],
    ['0755-8888666-8001', '0755-8888666转8001'],
  ])('keeps the extension of %j out of the key', (raw, value) => {
    const phone = parsed(raw);
    expect(phone.kind).toBe('landline');
    expect(phone.value).toBe(value);
    expect(phone.key).toBe(phone.value.startsWith('021') ? '02112345678' : '07558888666');
    expect(phone.extension).toBe(value.split('转')[1]);
  });

  it.each([
    '138****5678',
    '138xxxx5678',
    '138XXXX5678',
    '138＊＊＊＊5678',
    '138 **** 5678',
    '138-****-5678',
    '+86 138****5678',
    '(+86)138****5678',
  ])('[R8] masked 前三后四 %j → 138****5678', (raw) => {
    expect(parsed(raw)).toEqual({
      kind: 'masked',
      value: '138****5678',
      key: '138****5678',
      maskedKey: '138****5678',
      extension: null,
    });
  });

  it.each([
    ['1381234', 'seven digits without an area code'],
    ['12345', 'five digits'],
    ['', 'nothing'],
    ['无', 'a word'],
    ['138123456789', 'twelve digits'],
    ['1381234567', 'ten digits'],
    ['12812345678', 'a mobile prefix that does not exist (12x)'],
    ['23812345678', 'eleven digits not starting with 1'],
    ['138***5678', 'three mask characters'],
    ['138*****678', 'a mask in the wrong place'],
    ['13812345678转123', 'a mobile with an extension'],
    ['13812345678/13912345678', 'two numbers'],
    ['021-123456', 'a six-digit local number'],
    ['021-012345678', 'a local number starting with 0'],
    ['0123-1234567', 'an area code 01x other than 010'],
    ['021 1234 5678 ext', 'an extension word without a number'],
  ])('rejects %j (%s) with phone.invalid', (raw) => {
    const result = parsePhone(raw, 'contactPhone');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problem.code).toBe('phone.invalid');
    expect(result.problem.field).toBe('contactPhone');
    expect(result.problem.message).toContain('13812345678');
    expect(result.problem.messageEn).toContain('expected');
  });

  it('leaves the field out of the problem when none is given', () => {
    const result = parsePhone('12345');
    expect(!result.ok && result.problem.field).toBe(undefined);
  });

  const mobileDigits = fc
    .tuple(
      fc.integer({ min: 3, max: 9 }),
      fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 9, maxLength: 9 }),
    )
    .map(([second, rest]) => `1${second}${rest.join('')}`);
  const separator = fc.constantFrom('', ' ', '-', '.', '  ', ' - ');
  const countryCode = fc.constantFrom(
    '',
    '+86',
    '+86 ',
    '+86-',
    '0086',
    '0086 ',
    '86',
    '86 ',
    '(+86)',
    '(+86) ',
  );
  const fullWidth = (text: string) =>
    text.replace(/[0-9+()]/g, (ch) => String.fromCharCode(ch.charCodeAt(0) + 0xfee0));

  it('[R8] formatting variants of one mobile give one key and one masked key', () => {
    fc.assert(
      fc.property(
        mobileDigits,
        countryCode,
        separator,
        separator,
        fc.boolean(),
        (digits, cc, s1, s2, wide) => {
          const written = `${cc}${digits.slice(0, 3)}${s1}${digits.slice(3, 7)}${s2}${digits.slice(7)}`;
          const phone = parsed(wide ? fullWidth(written) : written);
          expect(phone.kind).toBe('mobile');
          expect(phone.key).toBe(digits);
          expect(phone.maskedKey).toBe(`${digits.slice(0, 3)}****${digits.slice(7)}`);
          // The masked form of the same number shares the masked key (R8).
          expect(parsed(`${digits.slice(0, 3)}${s1}****${s2}${digits.slice(7)}`).maskedKey).toBe(
            phone.maskedKey,
          );
        },
      ),
      { seed: SEED, numRuns: 500 },
    );
  });

  const landlineParts = fc.tuple(
    fc.constantFrom('010', '021', '022', '025', '027', '0571', '0755', '0512', '0991'),
    fc.integer({ min: 1, max: 9 }),
    fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 6, maxLength: 7 }),
  );

  it('formatting variants of one landline give one key', () => {
    fc.assert(
      fc.property(
        landlineParts,
        fc.constantFrom('plain', 'dash', 'space', 'brackets', 'international'),
        fc.boolean(),
        ([area, first, rest], style, wide) => {
          const local = `${first}${rest.join('')}`;
          const written =
            style === 'plain'
              ? area + local
              : style === 'dash'
                ? `${area}-${local}`
                : style === 'space'
                  ? `${area} ${local.slice(0, 4)} ${local.slice(4)}`
                  : style === 'brackets'
                    ? `(${area})${local}`
                    : `+86 ${area.slice(1)} ${local}`;
          const phone = parsed(wide ? fullWidth(written) : written);
          expect(phone).toEqual({
            kind: 'landline',
            value: `${area}-${local}`,
            key: area + local,
            maskedKey: null,
            extension: null,
          });
        },
      ),
      { seed: SEED, numRuns: 500 },
    );
  });

  it('is idempotent: parsing a parsed value gives the same phone', () => {
    const anyPhone = fc.oneof(
      mobileDigits,
      mobileDigits.map((d) => `+86 ${d.slice(0, 3)}****${d.slice(7)}`),
      landlineParts.map(([area, first, rest]) => `(${area}) ${first}${rest.join('')}`),
      landlineParts.map(([area, first, rest]) => `${area}-${first}${rest.join('')}-88`),
    );
    fc.assert(
      fc.property(anyPhone, (raw) => {
        const phone = parsed(raw);
        expect(parsed(phone.value)).toEqual(phone);
      }),
      { seed: SEED, numRuns: 500 },
    );
  });
});
