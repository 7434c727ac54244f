/**
 * Reports: registrations per person per month by status (R41) and protections expiring soon,
 * counted from the store's clear fields without opening a single record.
 */
import { addDays, daysInMonth, dayOf } from '../../core/day.js';
import type { Store } from '../store/store.js';
import { listScope, type Actor } from './actor.js';
import { allRecords } from './recordPages.js';
import type { RegistrationService } from './registrationService.js';

export const EXPIRING_SOON_DAYS = 20;

export interface Summary {
  month: string;
  byStatus: Record<string, number>;
  byRegistrant: { registrant: string; team?: string; total: number; byStatus: Record<string, number> }[];
  expiringSoon: { registrationNo: string; registrant: string; protectedUntil: string }[];
}

export async function monthlySummary(
  store: Store,
  registrations: RegistrationService,
  actor: Actor,
  month: string | undefined,
  now: Date,
): Promise<Summary> {
  const today = dayOf(now);
  const m = month ?? today.slice(0, 7);
  const [y, mo] = m.split('-').map(Number) as [number, number];
  const from = `${m}-01`;
  const to = `${m}-${String(daysInMonth(y, mo)).padStart(2, '0')}`;
  const scope = listScope(actor);
  const { counts, expiring } = await store.read(async (tx) => ({
    counts: await tx.countRecords({ today, ...(scope ? { scope } : {}), receivedBetween: { from, to } }),
    // Every one of them: a report stopping at a fixed count would leave some out without a word.
    expiring: await allRecords(tx, {
      today,
      ...(scope ? { scope } : {}),
      expiringWithinDays: EXPIRING_SOON_DAYS,
    }),
  }));
  const byStatus: Record<string, number> = {};
  const people = new Map<string, Summary['byRegistrant'][number]>();
  for (const c of counts) {
    byStatus[c.status] = (byStatus[c.status] ?? 0) + c.count;
    let person = people.get(c.registrant);
    if (!person) {
      person = {
        registrant: c.registrant,
        ...(c.team !== undefined ? { team: c.team } : {}),
        total: 0,
        byStatus: {},
      };
      people.set(c.registrant, person);
    }
    person.total += c.count;
    person.byStatus[c.status] = (person.byStatus[c.status] ?? 0) + c.count;
  }
  const expiringSoon = expiring
    .filter((r) => r.protectedUntil !== undefined && r.protectedUntil <= addDays(today, EXPIRING_SOON_DAYS))
    .map((r) => ({
      registrationNo: r.no,
      registrant: r.registration.registrant,
      protectedUntil: r.protectedUntil!,
    }))
    .sort((a, b) => a.protectedUntil.localeCompare(b.protectedUntil));
  await registrations.audit(
    actor,
    'report.summary',
    expiringSoon.map((e) => e.registrationNo),
    { month: m },
  );
  return {
    month: m,
    byStatus,
    byRegistrant: [...people.values()].sort(
      (a, b) => b.total - a.total || a.registrant.localeCompare(b.registrant),
    ),
    expiringSoon,
  };
}
