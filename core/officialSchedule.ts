/**
 * A year's official holiday schedule (国务院办公厅关于节假日安排的通知) as an administrator enters it:
 * the holiday ranges and the make-up workdays (调休). Validated here, so the HTTP route and the CLI
 * refuse the same mistakes with the same words, each naming the offending date.
 */
import { z } from 'zod';
import { addDays, makeDay, weekday } from './day.js';
import { problem, type Problem } from './problem.js';
import { daySchema, type Day } from './schema.js';

/** Upper bounds well above any published year (about 8 holidays and 6 make-up days). */
export const MAX_HOLIDAY_RANGES = 40;
export const MAX_MAKEUP_WORKDAYS = 30;

export const holidayRangeSchema = z
  .object({
    from: daySchema,
    to: daySchema,
    /** 春节, 国庆节… */
    name: z.string().trim().min(1).max(20),
  })
  .strict();

/** The body of `PUT /api/calendar/:year`. */
export const scheduleBodySchema = z
  .object({
    holidays: z.array(holidayRangeSchema).min(1).max(MAX_HOLIDAY_RANGES),
    workdays: z.array(daySchema).max(MAX_MAKEUP_WORKDAYS).default([]),
  })
  .strict();
export type ScheduleBody = z.infer<typeof scheduleBodySchema>;

/** A validated schedule for one year, as stored and as the calendar reads it. */
export interface OfficialSchedule {
  year: number;
  holidays: { from: Day; to: Day; name: string }[];
  workdays: Day[];
}

/**
 * Checks a schedule against its year: every date exists and lies in the year, ranges run forward
 * and do not overlap, a make-up workday is a Saturday or Sunday and not inside a holiday. Returns
 * the schedule sorted, or the problems (each naming its date and field path).
 */
export function validateSchedule(
  year: number,
  body: ScheduleBody,
): { ok: true; schedule: OfficialSchedule } | { ok: false; problems: Problem[] } {
  const problems: Problem[] = [];
  const inYear = (day: Day, field: string): boolean => {
    const [y, m, d] = day.split('-').map(Number) as [number, number, number];
    if (makeDay(y, m, d) === null) {
      problems.push(
        problem('calendar.date_invalid', `日期 ${day} 不存在`, `${day} is not a calendar date`, field),
      );
      return false;
    }
    if (y !== year) {
      problems.push(
        problem(
          'calendar.date_outside_year',
          `日期 ${day} 不在 ${year} 年内`,
          `${day} is not in ${year}`,
          field,
        ),
      );
      return false;
    }
    return true;
  };

  const holidays: OfficialSchedule['holidays'] = [];
  body.holidays.forEach((range, i) => {
    const fromOk = inYear(range.from, `holidays.${i}.from`);
    const toOk = inYear(range.to, `holidays.${i}.to`);
    if (!fromOk || !toOk) return;
    if (range.to < range.from) {
      problems.push(
        problem(
          'calendar.range_reversed',
          `假期“${range.name}”的结束日 ${range.to} 早于开始日 ${range.from}`,
          `Holiday "${range.name}" ends (${range.to}) before it starts (${range.from})`,
          `holidays.${i}.to`,
        ),
      );
      return;
    }
    holidays.push({ from: range.from, to: range.to, name: range.name });
  });
  holidays.sort((a, b) => (a.from < b.from ? -1 : a.from > b.from ? 1 : 0));
  for (let i = 1; i < holidays.length; i++) {
    const before = holidays[i - 1]!;
    const range = holidays[i]!;
    if (range.from <= before.to) {
      problems.push(
        problem(
          'calendar.range_overlap',
          `假期“${range.name}”（${range.from} 起）与“${before.name}”（至 ${before.to}）重叠`,
          `Holiday "${range.name}" (from ${range.from}) overlaps "${before.name}" (to ${before.to})`,
          'holidays',
        ),
      );
    }
  }

  const workdays: Day[] = [];
  const seen = new Set<Day>();
  body.workdays.forEach((day, i) => {
    const field = `workdays.${i}`;
    if (!inYear(day, field)) return;
    if (seen.has(day)) {
      problems.push(
        problem(
          'calendar.duplicate',
          `调休上班日 ${day} 重复`,
          `Make-up workday ${day} is listed twice`,
          field,
        ),
      );
      return;
    }
    seen.add(day);
    const holiday = holidays.find((h) => h.from <= day && day <= h.to);
    if (holiday) {
      problems.push(
        problem(
          'calendar.both',
          `${day} 同时是假期“${holiday.name}”和调休上班日`,
          `${day} is both a holiday ("${holiday.name}") and a make-up workday`,
          field,
        ),
      );
      return;
    }
    const dayOfWeek = weekday(day);
    if (dayOfWeek !== 0 && dayOfWeek !== 6) {
      problems.push(
        problem(
          'calendar.workday_not_weekend',
          `调休上班日 ${day} 不是周六或周日（平日本来就上班）`,
          `Make-up workday ${day} is not a Saturday or Sunday (weekdays are working days anyway)`,
          field,
        ),
      );
      return;
    }
    workdays.push(day);
  });
  workdays.sort();

  return problems.length > 0 ? { ok: false, problems } : { ok: true, schedule: { year, holidays, workdays } };
}

/**
 * A schedule from one line per day — date, 休 (holiday) or 班 (make-up workday), name — as
 * administrators type it from the State Council's notice. Consecutive holidays of one name become
 * one range. Lines are checked by `validateSchedule` afterwards.
 */
export function scheduleFromDays(
  days: readonly { date: Day; kind: 'holiday' | 'workday'; name: string }[],
): ScheduleBody {
  const holidays: ScheduleBody['holidays'] = [];
  const workdays: Day[] = [];
  const sorted = [...days].sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
  for (const entry of sorted) {
    if (entry.kind === 'workday') {
      workdays.push(entry.date);
      continue;
    }
    const last = holidays.at(-1);
    if (last !== undefined && last.name === entry.name && addDays(last.to, 1) === entry.date)
      last.to = entry.date;
    else holidays.push({ from: entry.date, to: entry.date, name: entry.name });
  }
  return { holidays, workdays };
}

/** 休 / 班 as the notices write them, and the English words an administrator might use. */
export function dayKindOf(text: string): 'holiday' | 'workday' | null {
  const t = text.trim().toLowerCase();
  if (['休', '假', '放假', 'holiday', 'off'].includes(t)) return 'holiday';
  if (['班', '上班', '调休', 'workday', 'work'].includes(t)) return 'workday';
  return null;
}
