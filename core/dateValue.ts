/**
 * Dates and date-times from cells: the ways sales sheets write them (2026年3月5日, 2026.3.5, 3月5日,
 * 20260305, Excel serial numbers, real date cells) read as Shanghai days and instants.
 */
import { withoutInvisibles } from './cellText.js';
import { dayOf, makeDay, shanghaiInstant } from './day.js';
import { toHalfWidth } from './halfWidth.js';
import { problem, type Problem } from './problem.js';
import type { CellValue, Day, Instant } from './schema.js';

export interface DateContext {
  /** The year for dates written without one (3月5日): the year of the reference date. */
  referenceYear: number;
}

export type DayResult = { ok: true; day: Day } | { ok: false; problem: Problem };
export type InstantResult =
  { ok: true; instant: Instant; hasTime: boolean } | { ok: false; problem: Problem };

/** Wall-clock parts in Shanghai, or an exact instant when the text carried its own zone. */
type Reading =
  | {
      kind: 'wallClock';
      year: number;
      month: number;
      day: number;
      hour: number;
      minute: number;
      second: number;
      hasTime: boolean;
    }
  | { kind: 'exact'; instant: Instant };

/** Excel's largest date, 9999-12-31. */
const MAX_SERIAL = 2958465;
/** Serial 60 is 1900-02-29, a day that never was (Excel kept Lotus 1-2-3's leap-year bug). */
const PHANTOM_LEAP_DAY = 60;
/** Serial numbers written as text are only believed for 1950–2100; outside, a number is more likely junk. */
const TEXT_SERIAL_MIN = 18264;
const TEXT_SERIAL_MAX = 73415;
const DAY_MS = 24 * 60 * 60 * 1000;

/** A calendar day; a time of day, if any, is ignored (an exact instant gives its Shanghai day). */
export function parseDay(value: CellValue, ctx: DateContext, field?: string): DayResult {
  const reading = read(value, ctx);
  if (reading === null) return { ok: false, problem: invalid(value, field) };
  if (reading.kind === 'exact') return { ok: true, day: dayOf(reading.instant) };
  const day = makeDay(reading.year, reading.month, reading.day);
  return day === null ? { ok: false, problem: invalid(value, field) } : { ok: true, day };
}

/**
 * An instant. Wall-clock values are Shanghai time; a date without a time is the start of that day
 * with `hasTime: false`, so callers know the claim is only known to the day.
 */
export function parseInstant(value: CellValue, ctx: DateContext, field?: string): InstantResult {
  const reading = read(value, ctx);
  if (reading === null) return { ok: false, problem: invalid(value, field) };
  if (reading.kind === 'exact') return { ok: true, instant: reading.instant, hasTime: true };
  const { year, month, day, hour, minute, second, hasTime } = reading;
  if (makeDay(year, month, day) === null) return { ok: false, problem: invalid(value, field) };
  return { ok: true, instant: shanghaiInstant(year, month, day, hour, minute, second), hasTime };
}

function read(value: CellValue, ctx: DateContext): Reading | null {
  if (value instanceof Date) return readDateCell(value);
  if (typeof value === 'number') return readNumber(value);
  if (typeof value === 'string') return readText(toHalfWidth(withoutInvisibles(value)).trim(), ctx);
  return null;
}

/**
 * exceljs returns a date cell as a JS Date whose UTC fields are the wall-clock time written in the
 * sheet (Excel stores no zone), so the UTC fields are read as Shanghai wall-clock time.
 */
function readDateCell(date: Date): Reading | null {
  if (Number.isNaN(date.getTime())) return null;
  const hour = date.getUTCHours();
  const minute = date.getUTCMinutes();
  const second = date.getUTCSeconds();
  return {
    kind: 'wallClock',
    year: date.getUTCFullYear(),
    month: date.getUTCMonth() + 1,
    day: date.getUTCDate(),
    hour,
    minute,
    second,
    hasTime: hour !== 0 || minute !== 0 || second !== 0,
  };
}

/** An Excel serial number (1900 date system), or 20260305 typed into a number cell. */
function readNumber(n: number): Reading | null {
  if (!Number.isFinite(n)) return null;
  if (Number.isInteger(n) && n >= 19000101 && n <= 99991231) return readCompactDate(String(n));
  if (n < 1 || n >= MAX_SERIAL + 1 || Math.floor(n) === PHANTOM_LEAP_DAY) return null;
  const whole = Math.floor(n);
  // Serials from 61 on count days from 1899-12-30; before the phantom 1900-02-29, from 1899-12-31.
  const epoch = whole > PHANTOM_LEAP_DAY ? Date.UTC(1899, 11, 30) : Date.UTC(1899, 11, 31);
  // The fraction is the time of day; rounded to the second because Excel stores it as a binary fraction.
  const seconds = Math.round((n - whole) * 86400);
  return readDateCell(new Date(epoch + whole * DAY_MS + seconds * 1000));
}

function readCompactDate(digits: string): Reading | null {
  const match = /^(\d{4})(\d{2})(\d{2})$/.exec(digits);
  if (match === null) return null;
  return wallClock(Number(match[1]), Number(match[2]), Number(match[3]));
}

const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$/i;
const YEAR_MONTH_DAY = /^(\d{4})\s*[年./-]\s*(\d{1,2})\s*[月./-]\s*(\d{1,2})\s*[日号]?(?:\s*T?\s*(.+))?$/i;
const MONTH_DAY = /^(\d{1,2})\s*月\s*(\d{1,2})\s*[日号](?:\s*(.+))?$/;
const TIME_OF_DAY = /^(\d{1,2})\s*[:时点]\s*(\d{1,2})(?:\s*[:分]\s*(\d{1,2})(?:\.\d{1,9})?\s*秒?)?\s*分?$/;
const NUMERIC_TEXT = /^\d+(?:\.\d+)?$/;

function readText(text: string, ctx: DateContext): Reading | null {
  if (text === '') return null;
  if (ISO_WITH_ZONE.test(text)) {
    if (makeDayOf(text) === null) return null;
    const ms = Date.parse(text);
    return Number.isNaN(ms) ? null : { kind: 'exact', instant: new Date(ms).toISOString() };
  }
  const full = YEAR_MONTH_DAY.exec(text);
  if (full !== null) return withTime(Number(full[1]), Number(full[2]), Number(full[3]), full[4]);
  const short = MONTH_DAY.exec(text);
  if (short !== null) return withTime(ctx.referenceYear, Number(short[1]), Number(short[2]), short[3]);
  if (/^\d{8}$/.test(text)) return readCompactDate(text);
  // A CSV saved from a sheet whose date column was formatted General carries serials as text.
  if (NUMERIC_TEXT.test(text)) {
    const n = Number(text);
    return n >= TEXT_SERIAL_MIN && n <= TEXT_SERIAL_MAX ? readNumber(n) : null;
  }
  return null;
}

function makeDayOf(isoText: string): Day | null {
  return makeDay(Number(isoText.slice(0, 4)), Number(isoText.slice(5, 7)), Number(isoText.slice(8, 10)));
}

function withTime(year: number, month: number, day: number, time: string | undefined): Reading | null {
  if (time === undefined) return wallClock(year, month, day);
  const match = TIME_OF_DAY.exec(time.trim());
  if (match === null) return null;
  const hour = Number(match[1]);
  const minute = Number(match[2]);
  const second = Number(match[3] ?? 0);
  if (hour > 23 || minute > 59 || second > 59) return null;
  return { kind: 'wallClock', year, month, day, hour, minute, second, hasTime: true };
}

function wallClock(year: number, month: number, day: number): Reading {
  return { kind: 'wallClock', year, month, day, hour: 0, minute: 0, second: 0, hasTime: false };
}

function invalid(value: CellValue, field: string | undefined): Problem {
  const shown = describe(value);
  return problem(
    'date.invalid',
    `日期「${shown}」无法识别或不存在：请写成 2026-03-05、2026年3月5日 或 2026/3/5 14:30 这样的日期`,
    `Date "${shown}" is not recognised or does not exist: write it like 2026-03-05, 2026年3月5日 or 2026/3/5 14:30`,
    field,
  );
}

function describe(value: CellValue): string {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
  const text = String(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
