/**
 * Chinese working days (工作日): weekdays minus public holidays, plus make-up workdays (调休) on
 * weekends, from the chinese-days package. Years it has no data for fall back to Monday–Friday.
 */
// The package's published data file, not its functions: those key their tables by the runtime's
// local date of UTC midnight, so west of Greenwich every answer is a day off (2026-10-01 reads as
// 2026-09-30). Plain data is also free of the package's CommonJS/ESM interop and bundles as JSON.
import chineseDaysData from 'chinese-days/dist/chinese-days.json' with { type: 'json' };
import { makeDay } from './day.js';
import type { Day } from './schema.js';

/**
 * Where a year's working days come from: the official holiday schedule shipped in chinese-days, or
 * the Monday–Friday fallback for years it has no data for. The State Council publishes a year's
 * schedule around November of the year before; updating chinese-days brings the new year.
 */
export type CalendarCoverage = 'official' | 'weekends-only';

/** A computed day, and whether any day it depends on was judged by the Monday–Friday fallback. */
export interface EstimatedDay {
  day: Day;
  /** True when a year without official data was involved: the day may move once it is published. */
  estimated: boolean;
}

interface YearCalendar {
  /** 1 = working day, indexed by day of year (0 = 1 January). */
  workdays: Uint8Array;
  coverage: CalendarCoverage;
}

/** Days that differ from Monday–Friday: 放假 holidays and 调休 make-up workdays, keyed `YYYY-MM-DD`. */
const officialDays: { holidays: Record<string, string>; workdays: Record<string, string> } = chineseDaysData;

const DAY_MS = 24 * 60 * 60 * 1000;
// Per-year tables make addWorkdays a walk over an array instead of date arithmetic per step.
const yearCalendars = new Map<number, YearCalendar>();
let officialYears: ReadonlySet<number> | undefined;

/** Whether people work on this day in mainland China (official schedule, or Monday–Friday when unknown). */
export function isWorkday(day: Day): boolean {
  const [year, ordinal] = yearAndOrdinal(day);
  return yearCalendar(year).workdays[ordinal] === 1;
}

/** Whether the year's working days are official or the Monday–Friday fallback. */
export function calendarCoverage(year: number): CalendarCoverage {
  if (!Number.isInteger(year) || makeDay(year, 1, 1) === null)
    throw new RangeError(`year out of range: ${year}`);
  return yearCalendar(year).coverage;
}

/**
 * The n-th working day after `day` (n ≥ 0); `day` itself never counts, so "received + 7 working
 * days" on a Friday before National Day lands after the holiday. n = 0 means "the first working day
 * from `day` on": `day` itself if it is a working day, else the next one — so a deadline of zero
 * working days still falls on a day someone can act.
 */
export function addWorkdays(day: Day, n: number): Day {
  return addWorkdaysWithCoverage(day, n).day;
}

/** `addWorkdays`, also telling whether the answer relied on the Monday–Friday fallback. */
export function addWorkdaysWithCoverage(day: Day, n: number): EstimatedDay {
  if (!Number.isInteger(n) || n < 0)
    throw new RangeError(`working days must be a whole number ≥ 0, got ${n}`);
  let [year, ordinal] = yearAndOrdinal(day);
  let calendar = yearCalendar(year);
  let estimated = calendar.coverage !== 'official';
  let remaining = n;
  if (remaining === 0 && calendar.workdays[ordinal] !== 1) remaining = 1;
  while (remaining > 0) {
    ordinal += 1;
    if (ordinal >= calendar.workdays.length) {
      year += 1;
      ordinal = 0;
      calendar = yearCalendar(year);
      estimated ||= calendar.coverage !== 'official';
    }
    if (calendar.workdays[ordinal] === 1) remaining -= 1;
  }
  return { day: dayFromOrdinal(year, ordinal), estimated };
}

const DAY_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;
const DAYS_BEFORE_MONTH = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365];

// Plain arithmetic rather than Date objects: this runs for every call and was most of their cost.
function yearAndOrdinal(day: Day): [number, number] {
  const match = DAY_PATTERN.exec(day);
  const year = Number(match?.[1]);
  const month = Number(match?.[2]);
  const dayOfMonth = Number(match?.[3]);
  const leapDay = month > 2 && isLeapYear(year) ? 1 : 0;
  const monthLength =
    (DAYS_BEFORE_MONTH[month] ?? 0) -
    (DAYS_BEFORE_MONTH[month - 1] ?? 0) +
    (month === 2 && isLeapYear(year) ? 1 : 0);
  if (
    match === null ||
    year < 1900 ||
    month < 1 ||
    month > 12 ||
    dayOfMonth < 1 ||
    dayOfMonth > monthLength
  ) {
    throw new RangeError(`not a calendar day: ${day}`);
  }
  return [year, (DAYS_BEFORE_MONTH[month - 1] ?? 0) + leapDay + dayOfMonth - 1];
}

function dayFromOrdinal(year: number, ordinal: number): Day {
  const leapDays = isLeapYear(year) ? 1 : 0;
  let month = 1;
  while (month < 12 && ordinal >= (DAYS_BEFORE_MONTH[month] ?? 0) + (month >= 2 ? leapDays : 0)) month += 1;
  const dayOfMonth = ordinal - (DAYS_BEFORE_MONTH[month - 1] ?? 0) - (month > 2 ? leapDays : 0) + 1;
  return `${year}-${String(month).padStart(2, '0')}-${String(dayOfMonth).padStart(2, '0')}`;
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function yearCalendar(year: number): YearCalendar {
  const cached = yearCalendars.get(year);
  if (cached !== undefined) return cached;
  const firstMs = Date.UTC(year, 0, 1);
  const length = Math.round((Date.UTC(year + 1, 0, 1) - firstMs) / DAY_MS);
  const workdays = new Uint8Array(length);
  for (let ordinal = 0; ordinal < length; ordinal++) {
    const date = new Date(firstMs + ordinal * DAY_MS);
    const day = date.toISOString().slice(0, 10);
    const weekdayNumber = date.getUTCDay();
    const mondayToFriday = weekdayNumber !== 0 && weekdayNumber !== 6;
    const works = day in officialDays.workdays || (mondayToFriday && !(day in officialDays.holidays));
    workdays[ordinal] = works ? 1 : 0;
  }
  const calendar: YearCalendar = {
    workdays,
    coverage: yearsWithOfficialData().has(year) ? 'official' : 'weekends-only',
  };
  yearCalendars.set(year, calendar);
  return calendar;
}

// Every published year has holidays (元旦 at least), so a year with none is one the data lacks.
function yearsWithOfficialData(): ReadonlySet<number> {
  officialYears ??= new Set(Object.keys(officialDays.holidays).map((day) => Number(day.slice(0, 4))));
  return officialYears;
}
