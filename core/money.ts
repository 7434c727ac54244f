/**
 * Amounts of money in yuan (元) as sales sheets write them: 50万, 50w, ¥500,000, 500000元, 1.2亿,
 * 3千 / 3k, RMB 5,000, plain numbers.
 */
import { withoutInvisibles } from './cellText.js';
import { toHalfWidth } from './halfWidth.js';
import { problem, type Problem } from './problem.js';
import { FIELD_SPECS, type CellValue, type Field } from './schema.js';
import { toSimplified } from './simplified.js';

export type MoneyResult = { ok: true; yuan: number } | { ok: false; problem: Problem };

/** Unit words and their multipliers; 千/k are common shorthand in sales notes and unambiguous for money. */
const UNITS: Record<string, number> = {
  亿: 100_000_000,
  千万: 10_000_000,
  百万: 1_000_000,
  万: 10_000,
  w: 10_000,
  千: 1_000,
  k: 1_000,
};
/** Above this an amount is a typo, not a deal (one trillion yuan). */
const MAX_YUAN = 1_000_000_000_000;
const AMOUNT =
  /^(?:¥|rmb|cny|人民币)?(\d+(?:\.\d+)?|\d{1,3}(?:,\d{3})+(?:\.\d+)?)(亿|千万|百万|万|w|千|k)?(?:元|圆|块)?(?:整)?$/;

/** Parses an amount to yuan, rounded to fen (2 decimals); negative or unreadable → `money.invalid`. */
export function parseMoney(value: CellValue, field?: string): MoneyResult {
  if (typeof value === 'number') return fromNumber(value, String(value), field);
  if (typeof value !== 'string') return { ok: false, problem: invalid(describe(value), field) };
  const written = toHalfWidth(withoutInvisibles(value))
    .trim()
    .toLowerCase()
    .replace(/[\s\u00a0]/g, '')
    .replace(/，/g, ',')
    .replace(/^￥/, '¥');
  // A minus sign may stand before or after the currency sign (-¥500, ¥-500).
  const text = written.replace(/^(¥|rmb|cny|人民币)?[-\u2212]/, '$1');
  const sign = text === written ? 1 : -1;
  const match = AMOUNT.exec(text);
  if (match === null) return { ok: false, problem: invalid(value, field) };
  const amount = Number((match[1] as string).replace(/,/g, ''));
  const unit = match[2] === undefined ? 1 : (UNITS[match[2]] as number);
  return fromNumber(sign * amount * unit, value, field);
}

/**
 * The unit a money column's header names — 预计金额（万元）, 金额(万), 预计签约金额万元, 单价【千元】 —
 * as its multiplier to yuan; 1 when it names none or plain 元. Such a sheet writes 50 for 500,000
 * yuan, and R15 ranks conflicting claims by the amount, so the unit cannot be dropped.
 */
export function moneyUnitOfHeader(header: string): number {
  return namedUnit(header) ?? 1;
}

/**
 * The unit a header names, or null when it names none: 预计单价（元） names plain yuan, which must win
 * over a 金额（万元） group header above it, while 预计单价 alone takes the group's unit.
 */
function namedUnit(header: string): number | null {
  const text = toSimplified(toHalfWidth(header)).replace(/\s/g, '').toLowerCase();
  const match =
    /(亿|千万|百万|万|千)元/.exec(text) ??
    /[([【](亿|千万|百万|万|千)[)\]】]/.exec(text) ??
    /(亿|千万|百万|万)$/.exec(text);
  if (match !== null) return UNITS[match[1] as string] as number;
  // A bracket as sheets fill it: （单位：万）, （万/年）, （w）, （单位：元）, （人民币元）, （¥）, (RMB).
  for (const [, inside] of text.matchAll(/[([【]([^)\]】]*)[)\]】]/g)) {
    const unit = /^(?:单位:?)?(?:人民币|rmb|cny|¥)?(亿|千万|百万|万|千|w|k)?(元)?(?:\/|$)/.exec(inside ?? '');
    if (unit === null || unit[0] === '' || unit[0] === '/') continue;
    if (unit[1] !== undefined) return UNITS[unit[1]] as number;
    return 1;
  }
  // 金额元, (rmb)元: yuan named outright.
  return /元$/.test(text) ? 1 : null;
}

/**
 * The unit each money column's plain numbers are in: its own header's (预计金额（万元）, 预计单价（元）),
 * else — in a two-row header — that of the group header above it (金额（万元） over 预计金额 |
 * 预计单价). Only columns in a unit other than yuan are listed. The import, the add-in and the Google
 * Sheets sync read the same sheet alike through this, each passing its columns left to right.
 *
 * A CSV has no merged cells, and a merge written only in its first cell looks the same: the group text
 * is spread right over every column with a lower header (core/headers.ts), so 预计金额（万元）,, over
 * 预计签约金额,备注,预计签约单价 puts 万元 over 备注 and 预计签约单价 too. A unit describes amounts, so
 * the group's unit reaches its first money column and the money columns right next to it, one after
 * the other; any column between (备注, an unmapped or a blank one) ends it: 预计签约单价 past 备注 is
 * read in yuan, as its own header says. Only the money columns' positions decide, so the add-in and
 * the sync, which know their unmapped columns less well than the import, bound a group alike.
 */
export function moneyUnitsOfColumns(
  columns: readonly { column?: number; field: Field | null; header: string; group?: string | undefined }[],
): Partial<Record<Field, number>> {
  const units: Partial<Record<Field, number>> = {};
  /** Per group text: the column of its last money column the unit reached, or null once it ended. */
  const reach = new Map<string, number | null>();
  let previous: number | undefined;
  for (const { column, field, header, group } of columns) {
    // Without column numbers the list is taken as adjacent columns.
    const at = column ?? (previous === undefined ? 1 : previous + 1);
    previous = at;
    if (field === null || FIELD_SPECS[field].kind !== 'money') continue;
    let unit = namedUnit(header);
    if (group !== undefined) {
      const last = reach.get(group);
      const reaches = last === undefined || (last !== null && last === at - 1);
      reach.set(group, reaches ? at : null);
      if (unit === null && reaches) unit = moneyUnitOfHeader(group);
    }
    if (unit !== null && unit !== 1) units[field] = unit;
  }
  return units;
}

/**
 * A cell of a column whose header names a unit, in yuan: a number (typed or as text) is in the
 * header's unit; a cell that names its own unit or currency word (80万元, 3000元) or cannot be read
 * is left as written, so that its own unit wins and its error shows what was typed.
 */
export function inHeaderUnit(value: CellValue, unit: number): CellValue {
  if (unit === 1) return value;
  // A negative amount is refused anyway: its error shows the number as typed.
  if (typeof value === 'number') return value >= 0 ? value * unit : value;
  // ¥, RMB, CNY and 人民币 name the yuan as 元 does: ¥500,000 is not 50亿.
  if (typeof value !== 'string' || /[亿万千wk元圆块¥￥]|rmb|cny|人民币/i.test(toHalfWidth(value)))
    return value;
  const parsed = parseMoney(value);
  return parsed.ok ? parsed.yuan * unit : value;
}

function fromNumber(yuan: number, shown: string, field: string | undefined): MoneyResult {
  if (!Number.isFinite(yuan) || yuan > MAX_YUAN) return { ok: false, problem: invalid(shown, field) };
  if (yuan < 0) return { ok: false, problem: negative(shown, field) };
  // Multiplying a decimal by a unit leaves binary noise (1.1 × 10000 = 11000.000000000002).
  // `|| 0` turns -0 (from "-0") into 0.
  return { ok: true, yuan: Math.round(yuan * 100) / 100 || 0 };
}

function invalid(shown: string, field: string | undefined): Problem {
  const text = shown.length > 40 ? `${shown.slice(0, 40)}…` : shown;
  return problem(
    'money.invalid',
    `金额「${text}」无法识别：请写成 500000、50万、¥500,000 或 1.2亿 这样的金额`,
    `Amount "${text}" is not recognised: write it like 500000, 50万, ¥500,000 or 1.2亿`,
    field,
  );
}

function negative(shown: string, field: string | undefined): Problem {
  return problem(
    'money.invalid',
    `金额「${shown}」不能为负数`,
    `Amount "${shown}" cannot be negative`,
    field,
  );
}

function describe(value: CellValue): string {
  return value instanceof Date ? value.toISOString() : String(value);
}
