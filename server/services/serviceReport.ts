/**
 * Service compliance per person per month (R41 with R31, R42–R44): visits recorded, visits due by
 * grade and how many were met in time, lapses into the pool by rule, and customers claimed from
 * the pool. Due days come from core/serviceCadence (the same maths the sweep voids by); counts
 * are per registrant, within the caller's scope (R34).
 */
import { PACKAGE_CALENDAR } from '../../core/calendar.js';
import { daysInMonth, dayOf } from '../../core/day.js';
import { ENDED_STATUSES } from '../../core/lifecycle.js';
import { POOL_COLLECTION } from '../../core/pool.js';
import type { Day, Grade, StoredRecord } from '../../core/schema.js';
import { serviceSchedule } from '../../core/serviceCadence.js';
import { listScope, type Actor } from './actor.js';
import { poolEntryOf } from './poolService.js';
import { forEachRecord } from './recordPages.js';
import type { RegistrationService, ServiceDeps } from './registrationService.js';

type GradeKey = Grade | 'ungraded';
const GRADE_KEYS: readonly GradeKey[] = ['A', 'B', 'C', 'ungraded'];

export interface ServiceCompliance {
  registrant: string;
  team?: string;
  /** Visits and calls recorded in the month on this person's registrations. */
  visits: number;
  /** Due days falling in the month, by the record's grade, and how many were met in time. */
  due: Record<GradeKey, number>;
  met: Record<GradeKey, number>;
  /** Due days in the month that passed without a visit. */
  missed: number;
  /** Records that lapsed in the month, by rule (R31 follow-up lapsed, R32 no service). */
  lapses: { R31: number; R32: number };
  /** Customers of this person's records that entered the pool in the month (= lapses). */
  poolEntries: number;
  /** Pooled customers this person claimed in the month (R44). */
  claims: number;
}

export interface ServiceReport {
  month: string;
  byRegistrant: ServiceCompliance[];
}

const zeroGrades = (): Record<GradeKey, number> => ({ A: 0, B: 0, C: 0, ungraded: 0 });

export async function serviceReport(
  deps: ServiceDeps,
  registrations: RegistrationService,
  actor: Actor,
  month: string | undefined,
): Promise<ServiceReport> {
  const now = deps.clock();
  const today = dayOf(now);
  const m = month ?? today.slice(0, 7);
  const [y, mo] = m.split('-').map(Number) as [number, number];
  const from: Day = `${m}-01`;
  const to: Day = `${m}-${String(daysInMonth(y, mo)).padStart(2, '0')}`;
  const calendar = deps.calendar?.() ?? PACKAGE_CALENDAR;
  const scope = listScope(actor);
  const people = new Map<string, ServiceCompliance>();
  const person = (registrant: string, team: string | undefined): ServiceCompliance => {
    let p = people.get(registrant);
    if (!p) {
      p = {
        registrant,
        ...(team !== undefined ? { team } : {}),
        visits: 0,
        due: zeroGrades(),
        met: zeroGrades(),
        missed: 0,
        lapses: { R31: 0, R32: 0 },
        poolEntries: 0,
        claims: 0,
      };
      people.set(registrant, p);
    }
    return p;
  };
  // Records are counted as they are read, a page at a time: a decade of them is never held at once.
  const visible = new Set<string>();
  const pool = await deps.store.read(async (tx) => {
    const pool = (await tx.listDocs(POOL_COLLECTION)).flatMap((d) => {
      const e = poolEntryOf(d.value);
      return e ? [e] : [];
    });
    const policy = await registrations.policy(tx);
    const poolByNo = new Map(pool.map((e) => [e.no, e]));
    await forEachRecord(tx, { today, ...(scope ? { scope } : {}) }, (record) => {
      visible.add(record.no);
      // Only a record that was protected has a service clock (and visits to count).
      if (record.approvedAt === undefined) return;
      const p = person(record.registration.registrant, record.team);
      for (const f of record.followUps) {
        const day = dayOf(f.at);
        if (day >= from && day <= to) p.visits++;
      }
      const lapsedOn = poolByNo.has(record.no) ? dayOf(poolByNo.get(record.no)!.since) : undefined;
      const until = [to, today, endDay(record) ?? to].sort()[0]!;
      const grade: GradeKey = record.registration.grade ?? 'ungraded';
      for (const d of serviceSchedule({ ...record, lapsedOn }, policy, calendar, until, today)) {
        if (d.due < from || d.due > to) continue;
        p.due[grade]++;
        if (!d.missed) p.met[grade]++;
        else p.missed++;
      }
    });
    return pool;
  });
  for (const entry of pool) {
    const day = dayOf(entry.since);
    if (day >= from && day <= to && visible.has(entry.no)) {
      const p = person(entry.formerHolder, entry.team);
      p.lapses[entry.rule]++;
      p.poolEntries++;
    }
    if (entry.claimed && visible.has(entry.claimed.no)) {
      const claimDay = dayOf(entry.claimed.at);
      if (claimDay >= from && claimDay <= to) person(entry.claimed.by, undefined).claims++;
    }
  }
  const byRegistrant = [...people.values()]
    .filter((p) => p.visits + p.poolEntries + p.claims + GRADE_KEYS.reduce((s, g) => s + p.due[g], 0) > 0)
    .sort((a, b) => a.registrant.localeCompare(b.registrant));
  await registrations.audit(actor, 'report.service', [], { month: m });
  return { month: m, byRegistrant };
}

/** The day a record stopped being served: when it ended (signed, expired, void…), if it has. */
function endDay(record: StoredRecord): Day | undefined {
  if (!ENDED_STATUSES.includes(record.status)) return undefined;
  const ended = record.history.findLast((h) => h.to !== undefined && ENDED_STATUSES.includes(h.to));
  if (ended) return dayOf(ended.at);
  return record.protectedUntil;
}
