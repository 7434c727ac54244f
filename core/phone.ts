/**
 * Phone numbers (联系电话) as sheets write them — mobiles with +86 and any spacing, landlines with
 * area code and extension, 400/800 numbers, and mobiles masked to the first three and last four
 * digits (前三后四, R8) — parsed to one canonical value and a matching key.
 */
import { withoutInvisibles } from './cellText.js';
import { toHalfWidth } from './halfWidth.js';
import { problem, type Problem } from './problem.js';

export interface Phone {
  kind: 'mobile' | 'landline' | 'masked';
  /** Canonical display form: `13812345678`, `021-12345678`, `021-12345678转123`, `400-123-4567`, `138****5678`. */
  value: string;
  /** Matching key: all digits (area code included, extension excluded); the masked form for masked numbers. */
  key: string;
  /** First three and last four digits of a mobile, `138****5678` (R8); null for landlines. */
  maskedKey: string | null;
  /** Landline extension (分机), kept out of the key. */
  extension: string | null;
}

export type PhoneResult = { ok: true; phone: Phone } | { ok: false; problem: Problem };

const MOBILE = /^1[3-9]\d{9}$/;
const MASKED = /^(1[3-9]\d)[*xX×]{4}(\d{4})$/;
const SERVICE = /^([48]00)(\d{3})(\d{4})$/;
/** Separators people put inside numbers; brackets only ever group the area or country code. */
const SEPARATORS = /[\s\-.()\u2010-\u2015\u00b7]/g;
const EXTENSION = /^(.*?)\s*(?:转|分机|ext\.?|extension|#)\s*(\d{1,6})$/i;
/** `021-12345678-123`: a third group after a full landline is an extension. */
const DASHED_EXTENSION = /^(.*\d{7,8})\s*-\s*(\d{1,6})$/;

/** Parses a phone cell; `field` is set on the problem (the row parser passes the canonical field). */
export function parsePhone(raw: string, field?: string): PhoneResult {
  const text = toHalfWidth(withoutInvisibles(raw)).trim();
  const explicit = EXTENSION.exec(text);
  const main = explicit?.[1] ?? text;
  const extension = explicit?.[2] ?? null;

  const compact = main.replace(SEPARATORS, '');
  const { national, international } = withoutCountryCode(compact);

  const masked = MASKED.exec(national);
  if (masked !== null && extension === null) {
    const value = `${masked[1]}****${masked[2]}`;
    return ok({ kind: 'masked', value, key: value, maskedKey: value, extension: null });
  }
  if (MOBILE.test(national) && extension === null) {
    const maskedKey = `${national.slice(0, 3)}****${national.slice(7)}`;
    return ok({ kind: 'mobile', value: national, key: national, maskedKey, extension: null });
  }
  const service = SERVICE.exec(national);
  if (service !== null) {
    const value = `${service[1]}-${service[2]}-${service[3]}`;
    return ok({
      kind: 'landline',
      value: withExtension(value, extension),
      key: national,
      maskedKey: null,
      extension,
    });
  }
  const landline = parseLandline(international && !national.startsWith('0') ? `0${national}` : national);
  if (landline !== null) {
    const value = `${landline.area}-${landline.local}`;
    return ok({
      kind: 'landline',
      value: withExtension(value, extension),
      key: landline.area + landline.local,
      maskedKey: null,
      extension,
    });
  }
  if (extension === null) {
    const dashed = DASHED_EXTENSION.exec(main);
    if (dashed !== null) {
      const withoutExtension = parsePhone(dashed[1] as string, field);
      if (withoutExtension.ok && withoutExtension.phone.kind === 'landline') {
        return parsePhone(`${withoutExtension.phone.value}转${dashed[2] as string}`, field);
      }
    }
  }
  return {
    ok: false,
    problem: problem(
      'phone.invalid',
      '电话号码格式不正确：应为 11 位手机号（如 13812345678）、带区号的固定电话（如 021-12345678）或前三后四的号码（如 138****5678）',
      'Invalid phone number: expected an 11-digit mobile (13812345678), a landline with area code (021-12345678) or a masked mobile (138****5678)',
      field,
    ),
  };
}

function ok(phone: Phone): PhoneResult {
  return { ok: true, phone };
}

function withExtension(value: string, extension: string | null): string {
  return extension === null ? value : `${value}转${extension}`;
}

function withoutCountryCode(compact: string): { national: string; international: boolean } {
  for (const prefix of ['+86', '0086']) {
    if (compact.startsWith(prefix)) return { national: compact.slice(prefix.length), international: true };
  }
  // A bare 86 is only a country code in front of something that is a full mobile or masked mobile.
  const rest = compact.slice(2);
  if (compact.startsWith('86') && (MOBILE.test(rest) || MASKED.test(rest))) {
    return { national: rest, international: true };
  }
  return { national: compact, international: false };
}

/** Area code 0 + 2–3 digits (010 and 020–029 are the short ones), then a 7–8 digit local number. */
function parseLandline(digits: string): { area: string; local: string } | null {
  if (!/^0[1-9]\d+$/.test(digits)) return null;
  if (digits.startsWith('01') && !digits.startsWith('010')) return null;
  const areaLength = /^0(?:10|2)/.test(digits) ? 3 : 4;
  const area = digits.slice(0, areaLength);
  const local = digits.slice(areaLength);
  return /^[1-9]\d{6,7}$/.test(local) ? { area, local } : null;
}
