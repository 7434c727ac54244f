/**
 * Calendar days and instants in Asia/Shanghai. China has kept UTC+8 without daylight saving since
 * 1991, so a fixed offset is exact for every date this product meets; no time-zone database needed.
 */
import type { Day, Instant } from './schema.js';

const OFFSET_MS = 8 * 60 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

/** The Shanghai calendar day of an instant. */
export function dayOf(instant: Instant | Date): Day {
  // Fast path for the canonical form (toISOString, UTC): Shanghai is a day ahead from 16:00 UTC.
  if (typeof instant === 'string' && instant.length === 24 && instant[10] === 'T' && instant[23] === 'Z') {
    const day = instant.slice(0, 10);
    return Number(instant.slice(11, 13)) < 16 ? day : addDays(day, 1);
  }
  const ms = typeof instant === 'string' ? Date.parse(instant) : instant.getTime();
  return new Date(ms + OFFSET_MS).toISOString().slice(0, 10);
}

/** Midnight at the start of a Shanghai day, as an instant. */
export function startOfDay(day: Day): Instant {
  return new Date(dayToUtcMs(day) - OFFSET_MS).toISOString();
}

/** An instant from Shanghai wall-clock parts (month 1–12). */
export function shanghaiInstant(
  year: number,
  month: number,
  dayOfMonth: number,
  hour = 0,
  minute = 0,
  second = 0,
): Instant {
  return new Date(Date.UTC(year, month - 1, dayOfMonth, hour, minute, second) - OFFSET_MS).toISOString();
}

/** A day from its parts, or null when the date does not exist (2026-02-30, month 13). */
export function makeDay(year: number, month: number, dayOfMonth: number): Day | null {
  if (!Number.isInteger(year) || !Number.isInteger(month) || !Number.isInteger(dayOfMonth)) return null;
  if (year < 1900 || year > 9999 || month < 1 || month > 12 || dayOfMonth < 1) return null;
  if (dayOfMonth > daysInMonth(year, month)) return null;
  return `${String(year).padStart(4, '0')}-${pad2(month)}-${pad2(dayOfMonth)}`;
}

export function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

export function addDays(day: Day, n: number): Day {
  return new Date(dayToUtcMs(day) + n * DAY_MS).toISOString().slice(0, 10);
}

/**
 * Same day-of-month n months later, clamped to the month's last day (2026-11-30 + 3 months →
 * 2027-02-28). Used for "3 months from" periods; callers subtract a day for inclusive ends.
 */
export function addMonths(day: Day, n: number): Day {
  const [y, m, d] = dayParts(day);
  const total = y * 12 + (m - 1) + n;
  const year = Math.floor(total / 12);
  const month = (total % 12) + 1;
  const clamped = Math.min(d, daysInMonth(year, month));
  return `${String(year).padStart(4, '0')}-${pad2(month)}-${pad2(clamped)}`;
}

/** Whole days from a to b (b − a). */
export function daysBetween(a: Day, b: Day): number {
  return Math.round((dayToUtcMs(b) - dayToUtcMs(a)) / DAY_MS);
}

/** 0 = Sunday … 6 = Saturday. */
export function weekday(day: Day): number {
  return new Date(dayToUtcMs(day)).getUTCDay();
}

export function dayParts(day: Day): [number, number, number] {
  return [Number(day.slice(0, 4)), Number(day.slice(5, 7)), Number(day.slice(8, 10))];
}

function dayToUtcMs(day: Day): number {
  const [y, m, d] = dayParts(day);
  return Date.UTC(y, m - 1, d);
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

/** A clock: core never reads the wall clock itself. */
export type Clock = () => Date;
