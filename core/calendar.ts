/**
 * Chinese working days (工作日): weekdays minus public holidays, plus make-up workdays (调休) on
 * weekends. A year's schedule comes from an administrator when one was entered (the State Council
 * publishes it around November, long before a package release), else from the chinese-days
 * package's published data, else Monday–Friday — and then every answer says it is an estimate.
 * Schedules are plain data passed in (`workCalendar`): core keeps no state of its own.
 */
// The package's published data file, not its functions: those key their tables by the runtime's
// local date of UTC midnight, so west of Greenwich every answer is a day off (2026-10-01 reads as
// 2026-09-30). Plain data is also free of the package's CommonJS/ESM interop and bundles as JSON.
import chineseDaysData from 'chinese-days/dist/chinese-days.json' with { type: 'json' };
import { addDays, makeDay } from './day.js';
import type { OfficialSchedule } from './officialSchedule.js';
import type { Day } from './schema.js';

/**
 * Where a year's working days come from: an administrator's entry of the official schedule, the
 * schedule shipped in chinese-days, or the Monday–Friday fallback for a year nobody has data for.
 */
export type CalendarCoverage = 'administrator' | 'package' | 'weekends-only';

/** A computed day, and whether any day it depends on was judged by the Monday–Friday fallback. */
export interface EstimatedDay {
  day: Day;
  /** True when a year without official data was involved: the day may move once it is published. */
  estimated: boolean;
}

/** Working days under a set of entered schedules (and the package's data for the other years). */
export interface WorkCalendar {
  /** Whether people work on this day in mainland China. */
  isWorkday(day: Day): boolean;
  /** Whose schedule a year follows. */
  coverage(year: number): CalendarCoverage;
  /**
   * The n-th working day after `day` (n ≥ 0); `day` itself never counts, so "received + 7 working
   * days" on a Friday before National Day lands after the holiday. n = 0 means "the first working
   * day from `day` on": `day` itself if it is a working day, else the next one — so a deadline of
   * zero working days still falls on a day someone can act. `estimated` when a year on the
   * Monday–Friday fallback was walked through.
   */
  addWorkdays(day: Day, n: number): EstimatedDay;
  /**
   * The Shanghai day a schedule was last entered (none: the package's data alone). A due day the
   * calendar moves (`serviceDueOnWorkdays`) is a rule that changed that day (core/serviceCadence.ts).
   */
  readonly changedOn?: Day;
}

interface YearCalendar {
  /** 1 = working day, indexed by day of year (0 = 1 January). */
  workdays: Uint8Array;
  coverage: CalendarCoverage;
}

/** Days that differ from Monday–Friday: 放假 holidays and 调休 make-up workdays, keyed `YYYY-MM-DD`. */
const packageDays: { holidays: Record<string, string>; workdays: Record<string, string> } = chineseDaysData;
// Every published year has holidays (元旦 at least), so a year with none is one the data lacks.
const packageYears: ReadonlySet<number> = new Set(
  Object.keys(packageDays.holidays).map((day) => Number(day.slice(0, 4))),
);

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * A calendar over these entered schedules (one per year; an entered year replaces the package's
 * data for that year entirely, 调休 included). Tables are built per year on first use, so walking
 * working days is an array scan, not date arithmetic per step.
 */
export function workCalendar(schedules: readonly OfficialSchedule[] = [], changedOn?: Day): WorkCalendar {
  const entered = new Map<number, OfficialSchedule>(schedules.map((s) => [s.year, s]));
  const years = new Map<number, YearCalendar>();

  const yearCalendar = (year: number): YearCalendar => {
    const cached = years.get(year);
    if (cached !== undefined) return cached;
    const schedule = entered.get(year);
    const built =
      schedule !== undefined
        ? buildYear(year, 'administrator', scheduleDays(schedule))
        : buildYear(year, packageYears.has(year) ? 'package' : 'weekends-only', packageDays);
    years.set(year, built);
    return built;
  };

  return {
    ...(changedOn !== undefined ? { changedOn } : {}),
    isWorkday(day) {
      const [year, ordinal] = yearAndOrdinal(day);
      return yearCalendar(year).workdays[ordinal] === 1;
    },
    coverage(year) {
      if (!Number.isInteger(year) || makeDay(year, 1, 1) === null)
        throw new RangeError(`year out of range: ${year}`);
      return yearCalendar(year).coverage;
    },
    addWorkdays(day, n) {
      if (!Number.isInteger(n) || n < 0)
        throw new RangeError(`working days must be a whole number ≥ 0, got ${n}`);
      let [year, ordinal] = yearAndOrdinal(day);
      let calendar = yearCalendar(year);
      let estimated = calendar.coverage === 'weekends-only';
      let remaining = n;
      if (remaining === 0 && calendar.workdays[ordinal] !== 1) remaining = 1;
      while (remaining > 0) {
        ordinal += 1;
        if (ordinal >= calendar.workdays.length) {
          year += 1;
          ordinal = 0;
          calendar = yearCalendar(year);
          estimated ||= calendar.coverage === 'weekends-only';
        }
        if (calendar.workdays[ordinal] === 1) remaining -= 1;
      }
      return { day: dayFromOrdinal(year, ordinal), estimated };
    },
  };
}

/** The package's schedule only: what a calendar with nothing entered answers. */
export const PACKAGE_CALENDAR: WorkCalendar = workCalendar();

/** Whether people work on this day, by the package's schedule (or Monday–Friday when unknown). */
export function isWorkday(day: Day): boolean {
  return PACKAGE_CALENDAR.isWorkday(day);
}

/** Whose schedule a year follows when nothing was entered. */
export function calendarCoverage(year: number): CalendarCoverage {
  return PACKAGE_CALENDAR.coverage(year);
}

/** `PACKAGE_CALENDAR.addWorkdays(…).day`. */
export function addWorkdays(day: Day, n: number): Day {
  return PACKAGE_CALENDAR.addWorkdays(day, n).day;
}

/** `PACKAGE_CALENDAR.addWorkdays`. */
export function addWorkdaysWithCoverage(day: Day, n: number): EstimatedDay {
  return PACKAGE_CALENDAR.addWorkdays(day, n);
}

/**
 * The package's schedule of a year in the shape administrators enter (holiday ranges by name,
 * make-up workdays), or null for a year the package does not know.
 */
export function packageSchedule(year: number): OfficialSchedule | null {
  if (!packageYears.has(year)) return null;
  const prefix = `${year}-`;
  const nameOf = (entry: string) => entry.split(',')[1] ?? entry;
  const holidays: OfficialSchedule['holidays'] = [];
  for (const day of Object.keys(packageDays.holidays)
    .filter((d) => d.startsWith(prefix))
    .sort()) {
    const name = nameOf(packageDays.holidays[day]!);
    const last = holidays.at(-1);
    if (last !== undefined && last.name === name && addDays(last.to, 1) === day) last.to = day;
    else holidays.push({ from: day, to: day, name });
  }
  const workdays = Object.keys(packageDays.workdays)
    .filter((d) => d.startsWith(prefix))
    .sort();
  return { year, holidays, workdays };
}

/** An entered schedule as the day sets the table builder reads. */
function scheduleDays(schedule: OfficialSchedule): {
  holidays: Record<string, string>;
  workdays: Record<string, string>;
} {
  const holidays: Record<string, string> = {};
  for (const range of schedule.holidays) {
    for (let day = range.from; day <= range.to; day = addDays(day, 1)) holidays[day] = range.name;
  }
  const workdays: Record<string, string> = {};
  for (const day of schedule.workdays) workdays[day] = '调休';
  return { holidays, workdays };
}

function buildYear(
  year: number,
  coverage: CalendarCoverage,
  days: { holidays: Record<string, string>; workdays: Record<string, string> },
): YearCalendar {
  const firstMs = Date.UTC(year, 0, 1);
  const length = Math.round((Date.UTC(year + 1, 0, 1) - firstMs) / DAY_MS);
  const workdays = new Uint8Array(length);
  for (let ordinal = 0; ordinal < length; ordinal++) {
    const date = new Date(firstMs + ordinal * DAY_MS);
    const day = date.toISOString().slice(0, 10);
    const weekdayNumber = date.getUTCDay();
    const mondayToFriday = weekdayNumber !== 0 && weekdayNumber !== 6;
    const works = day in days.workdays || (mondayToFriday && !(day in days.holidays));
    workdays[ordinal] = works ? 1 : 0;
  }
  return { workdays, coverage };
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
