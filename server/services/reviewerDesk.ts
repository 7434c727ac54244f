/**
 * The reviewer's desk beyond first review (issue 9): the extension requests and objections
 * waiting for a decision, and the 报表 figures (R41 per person per month by status over a month
 * range, protections expiring soon, and the R12 review SLA: received vs decided within
 * `reviewWorkdays` working days by the Chinese calendar, overdue ones listed).
 *
 * Only records the caller reviews (R34) are counted or listed, and a listed item carries what
 * the decision needs and nothing R3 hides from the reviewer's scope: the winner an objection is
 * against appears by number and registrant only, never with its customer details.
 */
import { PACKAGE_CALENDAR } from '../../core/calendar.js';
import { DEFAULT_POLICY } from '../../core/policy.js';
import { addDays, daysInMonth, dayOf } from '../../core/day.js';
import { effectiveShare, effectiveStatus, sharePartner } from '../../core/lifecycle.js';
import { awaitsObjectionDecision } from '../../core/objection.js';
import { reviewDueBy } from '../../core/protection.js';
import { PROTECTING_STATUSES, type Day, type RecordStatus, type StoredRecord } from '../../core/schema.js';
import { splitPartnerOf } from '../store/splitPartner.js';
import { forbidden, listScope, reviews, type Actor } from './actor.js';
import type { RegistrationService, ServiceDeps } from './registrationService.js';
import { allRecords, forEachRecord } from './recordPages.js';
import { EXPIRING_SOON_DAYS } from './reportService.js';

/** Statuses a record waits for its first review in. */
const UNDECIDED: readonly RecordStatus[] = ['pending', 'conflict'];
export interface ExtensionItem {
  registrationNo: string;
  customer: string;
  registrant: string;
  team?: string;
  protectedFrom?: string;
  protectedUntil?: string;
  requestedAt: string;
  reason: string;
}

export interface ObjectionItem {
  registrationNo: string;
  customer: string;
  registrant: string;
  team?: string;
  /** When the objector's own claim counts from (R17) — its place in the ranking. */
  claimedAt: string;
  objectedAt: string;
  reason: string;
  objectionDeadline?: string;
  /**
   * The winning registration, by number and registrant only (R3); for a shared decision (R16) its
   * share and the partner's, which the same objection reverses.
   */
  against: {
    registrationNo: string;
    registrant?: string;
    claimedAt?: string;
    percent?: number;
    sharedWith?: { registrationNo: string; registrant: string; percent: number };
  } | null;
}

export interface ReviewActions {
  extensions: ExtensionItem[];
  objections: ObjectionItem[];
}

export async function reviewActions(
  deps: ServiceDeps,
  registrations: RegistrationService,
  actor: Actor,
): Promise<ReviewActions> {
  if (actor.role === 'sales') throw forbidden('查看审核队列', 'see the review queue');
  const today = dayOf(deps.clock());
  const scope = listScope(actor);
  const result = await deps.store.read(async (tx) => {
    // The extension requests, and the records whose objection awaits a decision by the flag the
    // stores keep in clear: years of rejections (R39) are never opened to find the handful waiting.
    const mine: StoredRecord[] = [];
    const keepMine = (r: StoredRecord): void => {
      if (reviews(actor, r)) mine.push(r);
    };
    const scoped = { today, ...(scope ? { scope } : {}) };
    await forEachRecord(tx, { ...scoped, statuses: ['extension-requested'] }, keepMine);
    await forEachRecord(tx, { ...scoped, objectionOpen: true }, keepMine);
    const extensions: ExtensionItem[] = mine
      .filter((r) => effectiveStatus(r, today) === 'extension-requested' && r.extension !== undefined)
      .map((r) => ({
        registrationNo: r.no,
        customer: r.registration.customerName,
        registrant: r.registration.registrant,
        ...(r.team !== undefined ? { team: r.team } : {}),
        ...(r.protectedFrom !== undefined ? { protectedFrom: r.protectedFrom } : {}),
        ...(r.protectedUntil !== undefined ? { protectedUntil: r.protectedUntil } : {}),
        requestedAt: r.extension!.requestedAt,
        reason: r.extension!.reason,
      }))
      .sort(
        (a, b) =>
          a.requestedAt.localeCompare(b.requestedAt) || a.registrationNo.localeCompare(b.registrationNo),
      );
    const objections: ObjectionItem[] = [];
    for (const r of mine) {
      if (!awaitsObjectionDecision(r)) continue;
      const winner = r.objection.against !== '' ? await tx.getRecord(r.objection.against) : undefined;
      const shared =
        winner !== undefined ? sharedDecision(winner, await splitPartnerOf(tx, winner), today) : undefined;
      objections.push({
        registrationNo: r.no,
        customer: r.registration.customerName,
        registrant: r.registration.registrant,
        ...(r.team !== undefined ? { team: r.team } : {}),
        claimedAt: r.claimedAt,
        objectedAt: r.objection.at,
        reason: r.objection.reason,
        ...(r.objectionDeadline !== undefined ? { objectionDeadline: r.objectionDeadline } : {}),
        against:
          r.objection.against === ''
            ? null
            : {
                registrationNo: r.objection.against,
                ...(winner
                  ? { registrant: winner.registration.registrant, claimedAt: winner.claimedAt }
                  : {}),
                ...(shared ?? {}),
              },
      });
    }
    objections.sort(
      (a, b) => a.objectedAt.localeCompare(b.objectedAt) || a.registrationNo.localeCompare(b.registrationNo),
    );
    return { extensions, objections };
  });
  await registrations.audit(actor, 'registration.review_actions', [
    ...result.extensions.map((e) => e.registrationNo),
    ...result.objections.flatMap((o) => [
      o.registrationNo,
      ...(o.against ? [o.against.registrationNo] : []),
      ...(o.against?.sharedWith ? [o.against.sharedWith.registrationNo] : []),
    ]),
  ]);
  return result;
}

export interface ReviewReport {
  from: string;
  to: string;
  /** The months of the range, in order (the 报表's columns). */
  months: string[];
  /** Registrations received per person per month, by effective status today (R41). */
  byRegistrantMonth: {
    registrant: string;
    team?: string;
    month: string;
    total: number;
    byStatus: Record<string, number>;
  }[];
  expiringSoon: { registrationNo: string; registrant: string; protectedUntil: string }[];
  /** R12 review SLA per month of receipt. */
  sla: {
    month: string;
    received: number;
    decidedInTime: number;
    decidedLate: number;
    undecided: number;
    overdue: number;
  }[];
  /** Reviews past their due day: decided late, or still waiting past it. */
  overdue: {
    registrationNo: string;
    registrant: string;
    receivedOn: string;
    dueBy: string;
    decidedOn?: string;
  }[];
}

/** The day a record left its first review (approved, rejected, lost…), if it has. */
function decidedOn(record: StoredRecord): Day | undefined {
  const entry = record.history.find(
    (h) =>
      h.from !== undefined && UNDECIDED.includes(h.from) && h.to !== undefined && !UNDECIDED.includes(h.to),
  );
  if (entry) return dayOf(entry.at);
  return record.approvedAt !== undefined ? dayOf(record.approvedAt) : undefined;
}

export function monthsBetween(from: string, to: string): string[] {
  const out: string[] = [];
  let [y, m] = from.split('-').map(Number) as [number, number];
  const [ty, tm] = to.split('-').map(Number) as [number, number];
  while (y < ty || (y === ty && m <= tm)) {
    out.push(`${y}-${String(m).padStart(2, '0')}`);
    m += 1;
    if (m > 12) {
      m = 1;
      y += 1;
    }
  }
  return out;
}

export async function reviewReport(
  deps: ServiceDeps,
  registrations: RegistrationService,
  actor: Actor,
  range: { from?: string | undefined; to?: string | undefined },
): Promise<ReviewReport> {
  if (actor.role === 'sales') throw forbidden('查看审核报表', 'see the review report');
  const today = dayOf(deps.clock());
  const to = range.to ?? today.slice(0, 7);
  const from = range.from ?? to;
  const months = monthsBetween(from, to);
  const [ty, tm] = to.split('-').map(Number) as [number, number];
  const lastDay = `${to}-${String(daysInMonth(ty, tm)).padStart(2, '0')}`;
  const calendar = deps.calendar?.() ?? PACKAGE_CALENDAR;
  const policy = (await deps.store.read((tx) => tx.getPolicy())) ?? DEFAULT_POLICY;
  const scope = listScope(actor);
  const cells = new Map<string, ReviewReport['byRegistrantMonth'][number]>();
  const sla = new Map(
    months.map((m) => [
      m,
      { month: m, received: 0, decidedInTime: 0, decidedLate: 0, undecided: 0, overdue: 0 },
    ]),
  );
  const overdue: ReviewReport['overdue'] = [];
  // Counted a page at a time: a long range holds only its tallies, not every record in it.
  const countReceived = (r: StoredRecord): void => {
    if (!reviews(actor, r) && actor.role !== 'admin') return;
    const receivedOn = dayOf(r.receivedAt);
    const month = receivedOn.slice(0, 7);
    const status = effectiveStatus(r, today);
    const key = `${r.registration.registrant}\u0000${month}`;
    let cell = cells.get(key);
    if (!cell) {
      cell = {
        registrant: r.registration.registrant,
        ...(r.team !== undefined ? { team: r.team } : {}),
        month,
        total: 0,
        byStatus: {},
      };
      cells.set(key, cell);
    }
    cell.total += 1;
    cell.byStatus[status] = (cell.byStatus[status] ?? 0) + 1;
    const row = sla.get(month);
    if (!row) return;
    row.received += 1;
    // Counted by today's calendar from the day of receipt, as the reviewer's deadline is (R12).
    const dueBy = r.reviewDueBy ?? reviewDueBy(receivedOn, policy, calendar).day;
    const decided = decidedOn(r);
    if (decided !== undefined) {
      if (decided <= dueBy) row.decidedInTime += 1;
      else {
        row.decidedLate += 1;
        overdue.push({
          registrationNo: r.no,
          registrant: r.registration.registrant,
          receivedOn,
          dueBy,
          decidedOn: decided,
        });
      }
    } else {
      row.undecided += 1;
      if (today > dueBy) {
        row.overdue += 1;
        overdue.push({ registrationNo: r.no, registrant: r.registration.registrant, receivedOn, dueBy });
      }
    }
  };
  const expiring = await deps.store.read(async (tx) => {
    await forEachRecord(
      tx,
      { today, ...(scope ? { scope } : {}), receivedBetween: { from: `${from}-01`, to: lastDay } },
      countReceived,
    );
    return allRecords(tx, { today, ...(scope ? { scope } : {}), expiringWithinDays: EXPIRING_SOON_DAYS });
  });
  const expiringSoon = expiring
    .filter((r) => reviews(actor, r) || actor.role === 'admin')
    .filter((r) => r.protectedUntil !== undefined && r.protectedUntil <= addDays(today, EXPIRING_SOON_DAYS))
    .map((r) => ({
      registrationNo: r.no,
      registrant: r.registration.registrant,
      protectedUntil: r.protectedUntil!,
    }))
    .sort(
      (a, b) =>
        a.protectedUntil.localeCompare(b.protectedUntil) || a.registrationNo.localeCompare(b.registrationNo),
    );
  overdue.sort((a, b) => a.dueBy.localeCompare(b.dueBy) || a.registrationNo.localeCompare(b.registrationNo));
  await registrations.audit(
    actor,
    'report.review',
    [...overdue.map((o) => o.registrationNo), ...expiringSoon.map((e) => e.registrationNo)],
    {
      from,
      to,
    },
  );
  return {
    from,
    to,
    months,
    byRegistrantMonth: [...cells.values()].sort(
      (a, b) => a.registrant.localeCompare(b.registrant) || a.month.localeCompare(b.month),
    ),
    expiringSoon,
    sla: [...sla.values()],
    overdue,
  };
}

/**
 * A shared decision (R16) as the desk names it: the winner's share and its partner's as they stand
 * today (core sharePartner, effectiveShare). A partner who has left — ran out yesterday and not yet
 * swept included — is not part of what upholding would end, nor one who signed (R26: the deal is
 * closed, and upholding is refused).
 */
function sharedDecision(
  winner: StoredRecord,
  partner: StoredRecord | undefined,
  today: Day,
): Pick<NonNullable<ObjectionItem['against']>, 'percent' | 'sharedWith'> | undefined {
  if (partner?.share?.withNo !== winner.no || sharePartner(winner, { today, partner }) === undefined) {
    return undefined;
  }
  if (!PROTECTING_STATUSES.includes(effectiveStatus(partner, today))) return undefined;
  const own = effectiveShare(winner, partner, today);
  const theirs = effectiveShare(partner, winner, today);
  if (own === undefined || theirs === undefined) return undefined;
  return {
    percent: own.percent,
    sharedWith: {
      registrationNo: partner.no,
      registrant: partner.registration.registrant,
      percent: theirs.percent,
    },
  };
}
