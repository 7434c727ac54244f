/**
 * The working-day schedules administrators enter (issue: years the calendar package does not know
 * yet): kept as documents in the store, turned into the calendar every deadline is counted by, and
 * watched — from 1 November the service warns when the coming year has no official schedule.
 */
import { z } from 'zod';
import { packageSchedule, PACKAGE_CALENDAR, workCalendar, type WorkCalendar } from '../../core/calendar.js';
import { dayOf } from '../../core/day.js';
import { validateSchedule, type OfficialSchedule, type ScheduleBody } from '../../core/officialSchedule.js';
import { DomainError, problem, type Problem } from '../../core/problem.js';
import { objectionDeadline, reviewDueBy, setDeadline, type WorkdayDeadline } from '../../core/protection.js';
import { daySchema, type Day } from '../../core/schema.js';
import { DEFAULT_POLICY, type Policy } from '../../core/policy.js';
import type { ReadTx, Store, WriteTx } from '../store/store.js';
import { requireRole, type Actor } from './actor.js';
import { openObjectionWindows } from './recordPages.js';

/** The store's document collection of entered schedules, keyed by year. */
export const CALENDAR_COLLECTION = 'calendars';

const storedScheduleSchema = z.object({
  year: z.number().int(),
  holidays: z.array(z.object({ from: daySchema, to: daySchema, name: z.string() })),
  workdays: z.array(daySchema),
  enteredBy: z.string(),
  enteredAt: z.string(),
});
export type StoredSchedule = z.infer<typeof storedScheduleSchema>;

/** What `GET /api/calendar/:year` answers. */
export interface CalendarView {
  year: number;
  source: 'package' | 'administrator' | 'weekends-only';
  holidays: { from: Day; to: Day; name: string }[];
  workdays: Day[];
  enteredBy?: string;
  enteredAt?: string;
}

/** An open deadline that the entered schedule would put on another day (kept as promised; R12). */
export interface MovedDeadline {
  registrationNo: string;
  field: WorkdayDeadline;
  /** The day stored with the record: still in force. */
  stored: Day;
  /** The day the entered schedule gives. */
  wouldBe: Day;
}

export interface HealthWarning extends Problem {
  details?: Record<string, unknown>;
}

/** What changed the rules a lapse is decided by (R31, R32): the audit entry of the lapses it wrote first says. */
export type RulesChangeCause = 'policy.update' | 'calendar.update';

/**
 * Runs a change of the rules in one write after voiding what lapsed by today under the rules in
 * force until now (LifecycleService.changeRules): an entered day off must not move a deadline
 * already passed.
 */
export interface RulesChanger {
  changeRules<T>(
    cause: RulesChangeCause,
    change: (tx: WriteTx, before: EnteredCalendar) => Promise<T>,
  ): Promise<{ result: T; lapsed: RulesChangeLapses }>;
}

/** The entered schedules as the store holds them, and the calendar they make. */
export interface EnteredCalendar {
  schedules: StoredSchedule[];
  calendar: WorkCalendar;
}

/** What a change of rules voided first (lapsed by today under the rules it replaced); PUT answers say it. */
export interface RulesChangeLapses {
  voided: number;
  /** Their registration numbers. */
  numbers: string[];
}

/** The schedules administrators entered, as the store holds them in `tx`. */
async function enteredSchedules(tx: ReadTx): Promise<StoredSchedule[]> {
  const docs = await tx.listDocs(CALENDAR_COLLECTION);
  return docs.map((d) => storedScheduleSchema.parse(d.value));
}

/**
 * The calendar over these entered schedules (and the package's data for other years), dated by the
 * latest entry: a due day it moves changed that day (core/serviceCadence.ts).
 */
function calendarOf(schedules: readonly StoredSchedule[]): WorkCalendar {
  let changedOn: Day | undefined;
  for (const s of schedules) {
    const day = dayOf(new Date(s.enteredAt));
    if (changedOn === undefined || day > changedOn) changedOn = day;
  }
  return workCalendar(schedules.map(scheduleOf), changedOn);
}

/**
 * The calendar in force as the store holds it (entered schedules over the package's), read in
 * `tx`: what a change of rules compares against, whatever this instance has loaded so far.
 */
export async function storedCalendar(tx: ReadTx): Promise<WorkCalendar> {
  return (await enteredCalendar(tx)).calendar;
}

/** The entered schedules read in `tx`, once, with their calendar: a change of rules hands it to the change. */
export async function enteredCalendar(tx: ReadTx): Promise<EnteredCalendar> {
  const schedules = await enteredSchedules(tx);
  return { schedules, calendar: calendarOf(schedules) };
}

/** Years outside which nobody needs a schedule (and which a typo in the URL would reach). */
const FIRST_YEAR = 2000;
const LAST_YEAR = 2100;

export class CalendarService {
  private entered: StoredSchedule[] = [];
  private current: WorkCalendar = PACKAGE_CALENDAR;
  private lastWarnedDay: Day | undefined;

  /**
   * `rules` writes the lapses the current calendar decided before a schedule is entered (`put`);
   * without it the service only reads (show, import).
   */
  constructor(
    private readonly store: Store,
    private readonly clock: () => Date,
    private readonly rules?: RulesChanger,
  ) {}

  /** A service with the schedules the store holds already loaded. */
  static async open(store: Store, clock: () => Date, rules?: RulesChanger): Promise<CalendarService> {
    const service = new CalendarService(store, clock, rules);
    await service.refresh();
    return service;
  }

  /** The calendar in force: entered schedules over the package's data. */
  calendar(): WorkCalendar {
    return this.current;
  }

  /**
   * Reads the entered schedules again. Called at start, after a change, and by the sweep — so an
   * instance sharing a database learns of another instance's entry within one sweep interval.
   */
  async refresh(): Promise<void> {
    const schedules = await this.store.read(enteredSchedules);
    const same =
      schedules.length === this.entered.length &&
      schedules.every(
        (s, i) => s.enteredAt === this.entered[i]?.enteredAt && s.year === this.entered[i]?.year,
      );
    if (same) return;
    this.entered = schedules;
    this.current = calendarOf(schedules);
  }

  view(year: number): CalendarView {
    checkYear(year);
    const entered = this.entered.find((s) => s.year === year);
    if (entered) {
      return {
        year,
        source: 'administrator',
        holidays: entered.holidays,
        workdays: entered.workdays,
        enteredBy: entered.enteredBy,
        enteredAt: entered.enteredAt,
      };
    }
    const shipped = packageSchedule(year);
    if (shipped) return { year, source: 'package', holidays: shipped.holidays, workdays: shipped.workdays };
    return { year, source: 'weekends-only', holidays: [], workdays: [] };
  }

  /**
   * Enters (or replaces) a year's official schedule. Deadlines already computed keep their stored
   * days; estimated ones the schedule confirms lose their `estimated` mark, and those it would move
   * are returned for a reviewer to decide on — a promise made is never rewritten silently. Lapse
   * deadlines (R31's due days under `serviceDueOnWorkdays`) are computed, not stored: what lapsed by
   * today under the calendar in force until now is voided first, in the same write (`rules`).
   */
  async put(
    actor: Actor,
    year: number,
    body: ScheduleBody,
  ): Promise<{
    calendar: CalendarView;
    moved: MovedDeadline[];
    confirmed: number;
    lapsed: RulesChangeLapses;
  }> {
    requireRole(actor, ['admin'], '录入工作日安排', 'enter the working-day schedule');
    checkYear(year);
    const checked = validateSchedule(year, body);
    if (!checked.ok) {
      const [first, ...rest] = checked.problems;
      throw new DomainError(
        first!,
        rest.length > 0 ? { more: rest.map((p) => `${p.field}: ${p.messageEn}`) } : {},
      );
    }
    const now = this.clock();
    const entry: StoredSchedule = {
      ...checked.schedule,
      enteredBy: actor.name,
      enteredAt: now.toISOString(),
    };
    const today = dayOf(now);
    if (this.rules === undefined) {
      // A wiring mistake, not the caller's: entering a schedule without the lapse pass would let it
      // move deadlines already passed.
      throw new Error('CalendarService.put needs the lifecycle to write lapses first (RulesChanger)');
    }
    const { result, lapsed } = await this.rules.changeRules('calendar.update', async (tx, before) => {
      // The years entered as the store holds them (read once, for the lapse pass too): another
      // instance may have entered one since this one last refreshed.
      const others = before.schedules.filter((s) => s.year !== year);
      const next = calendarOf([...others, entry]);
      await tx.putDoc(CALENDAR_COLLECTION, String(year), entry);
      const policy: Policy = (await tx.getPolicy()) ?? DEFAULT_POLICY;
      const moved: MovedDeadline[] = [];
      let confirmed = 0;
      // A rejection's deadline that matters is an objection window still open.
      const waiting = [
        ...(await tx.recordsWithStatus(['pending', 'conflict'])),
        ...(await openObjectionWindows(tx, today)),
      ];
      for (const record of waiting) {
        const estimates = record.estimatedDeadlines;
        if (estimates === undefined) continue;
        let changed = false;
        for (const field of ['reviewDueBy', 'objectionDeadline'] as const) {
          const from = estimates[field];
          const stored = record[field];
          if (from === undefined || stored === undefined || stored < today) continue;
          const recomputed =
            field === 'reviewDueBy' ? reviewDueBy(from, policy, next) : objectionDeadline(from, policy, next);
          if (recomputed.day === stored) {
            if (!recomputed.estimated) {
              setDeadline(record, field, recomputed, from);
              changed = true;
              confirmed++;
            }
          } else {
            moved.push({ registrationNo: record.no, field, stored, wouldBe: recomputed.day });
          }
        }
        if (changed) {
          record.version++;
          await tx.putRecord(record);
        }
      }
      return { moved, confirmed };
    });
    const { moved, confirmed } = result;
    await this.refresh();
    await this.store.appendAudit([
      {
        at: now.toISOString(),
        actor: actor.name,
        actorRole: actor.role,
        action: 'calendar.update',
        records: moved.map((m) => m.registrationNo),
        ...(actor.requestId !== undefined ? { requestId: actor.requestId } : {}),
        details: {
          year,
          holidays: entry.holidays.length,
          workdays: entry.workdays.length,
          moved: moved.length,
          confirmed,
        },
      },
    ]);
    return { calendar: this.view(year), moved, confirmed, lapsed };
  }

  /**
   * What an operator should hear about working days: this year or — from 1 November — next year
   * counted Monday–Friday for want of an official schedule.
   */
  warnings(now: Date = this.clock()): HealthWarning[] {
    const today = dayOf(now);
    const year = Number(today.slice(0, 4));
    const out: HealthWarning[] = [];
    if (this.current.coverage(year) === 'weekends-only') out.push(missingYear(year, 'calendar.year_missing'));
    if (today.slice(5) >= '11-01' && this.current.coverage(year + 1) === 'weekends-only') {
      out.push(missingYear(year + 1, 'calendar.next_year_missing'));
    }
    return out;
  }

  /** The warnings, once per Shanghai day (the sweep calls this; the log should not repeat them every minute). */
  warningsToLog(now: Date = this.clock()): HealthWarning[] {
    const today = dayOf(now);
    if (this.lastWarnedDay === today) return [];
    const warnings = this.warnings(now);
    if (warnings.length > 0) this.lastWarnedDay = today;
    return warnings;
  }
}

function scheduleOf(stored: StoredSchedule): OfficialSchedule {
  return { year: stored.year, holidays: stored.holidays, workdays: stored.workdays };
}

function checkYear(year: number): void {
  if (!Number.isInteger(year) || year < FIRST_YEAR || year > LAST_YEAR) {
    throw new DomainError(
      problem(
        'calendar.year_invalid',
        `年份须在 ${FIRST_YEAR}–${LAST_YEAR} 之间`,
        `The year must be between ${FIRST_YEAR} and ${LAST_YEAR}`,
        'year',
      ),
    );
  }
}

function missingYear(year: number, code: string): HealthWarning {
  return {
    ...problem(
      code,
      `${year} 年的法定节假日安排尚未录入：审核期限、异议期等工作日按周一至周五估算（标记为 estimated）。请管理员录入：PUT /api/calendar/${year} 或 npx baobei calendar set ${year} 文件`,
      `No official holiday schedule for ${year}: working-day deadlines (review, objection) are estimated Monday–Friday and marked estimated. An administrator should enter it: PUT /api/calendar/${year} or npx baobei calendar set ${year} FILE`,
    ),
    details: { year },
  };
}
