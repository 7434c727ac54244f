/**
 * Scheduled reminders into the outbox (issue 10): which are due comes from core (`dueReminders`,
 * Asia/Shanghai days, the working-day calendar, the policy's thresholds); each is claimed once
 * under `(type, record, threshold)` in `notify-reminders` and its outbox entries are written in the
 * same transaction — so a reminder is enqueued once, and never again after a restart, whichever
 * instance gets there first.
 */
import type { WorkCalendar } from '../../core/calendar.js';
import { dayOf } from '../../core/day.js';
import { hasObjected } from '../../core/objection.js';
import type { Policy } from '../../core/policy.js';
import { dueReminders, type ReminderRecord } from '../../core/reminders.js';
import { nextServiceDue } from '../../core/serviceCadence.js';
import type { Day, RecordStatus, StoredRecord } from '../../core/schema.js';
import { splitPartnersOf } from '../store/splitPartner.js';
import type { ReadTx, Store, WriteTx } from '../store/store.js';
import { PassCoverage } from '../services/passCoverage.js';
import { openObjectionWindows } from '../services/recordPages.js';
import { recordFactsOf } from './notifyEvent.js';
import { RecipientDirectory, enqueueEvents, type EnqueueItem } from './outbox.js';

export const REMINDERS_COLLECTION = 'notify-reminders';

/**
 * Statuses that can have a reminder: protected ones and those awaiting review; lost conflicts
 * (rejected) too, but only while their objection window is open (read apart, below).
 */
const REMINDABLE: readonly RecordStatus[] = ['protected', 'extension-requested', 'pending', 'conflict'];

export function reminderRecordOf(record: StoredRecord): ReminderRecord {
  let last: string | undefined;
  for (const f of record.followUps) if (last === undefined || f.at > last) last = f.at;
  return {
    no: record.no,
    status: record.status,
    protectedUntil: record.protectedUntil,
    reviewDueBy: record.reviewDueBy,
    objectionDeadline: record.objectionDeadline,
    // A loser whose objection was decided may object to a later grant (R12): reminded of that window.
    objected: hasObjected(record),
    approvedDay: record.approvedAt !== undefined ? dayOf(record.approvedAt) : undefined,
    extensionRequestedDay:
      record.extension !== undefined && record.extension.decision === undefined
        ? dayOf(record.extension.requestedAt)
        : undefined,
    lastFollowUpDay: last !== undefined ? dayOf(last) : undefined,
  };
}

/**
 * Claims a reminder; returns the key it was claimed under, or undefined when it was sent before.
 * A holder's reminder claimed for someone who no longer holds the record (R38: transferred, handed
 * over since) is claimed again for the new holder under a key of their own — else the new holder
 * would never hear, say, that today is the last day to ask for an extension. Only transferred
 * records are looked at twice; claims written before holders were recorded count as the current
 * holder's, so an upgrade re-sends nothing.
 */
async function claim(
  tx: WriteTx,
  base: string,
  holder: string | undefined,
  record: StoredRecord,
  at: string,
): Promise<string | undefined> {
  if (await tx.insertDoc(REMINDERS_COLLECTION, base, { at, ...(holder !== undefined ? { holder } : {}) }))
    return base;
  if (holder === undefined || !record.history.some((h) => h.action === 'transfer')) return undefined;
  const first = (await tx.getDoc(REMINDERS_COLLECTION, base)) as { holder?: unknown } | undefined;
  if (typeof first?.holder !== 'string' || first.holder === holder) return undefined;
  const own = `${base}:to:${holder}`;
  return (await tx.insertDoc(REMINDERS_COLLECTION, own, { at, holder })) ? own : undefined;
}

export interface ReminderRun {
  /** Reminders due today (before deduplication). */
  due: number;
  /** Newly claimed (never enqueued before). */
  claimed: number;
  /** Outbox entries written. */
  entries: number;
  computeMs: number;
  enqueueMs: number;
}

export interface ReminderOptions {
  now: Date;
  calendar: WorkCalendar;
  policy: Policy;
}

/** Every record that can have a reminder today: what a full pass reads. */
async function remindableRecords(tx: ReadTx, today: Day): Promise<StoredRecord[]> {
  // Rejections are kept ten years (R39): only the open objection windows.
  return [...(await tx.recordsWithStatus(REMINDABLE)), ...(await openObjectionWindows(tx, today))];
}

/** Whether a record is one remindableRecords would read. */
function isRemindable(record: StoredRecord, today: Day): boolean {
  if (REMINDABLE.includes(record.status)) return true;
  return (
    record.status === 'rejected' &&
    record.objectionDeadline !== undefined &&
    record.objectionDeadline >= today
  );
}

/** Every reminder due today, over every remindable record (tests, the bench, a one-off run). */
export async function runReminders(store: Store, options: ReminderOptions): Promise<ReminderRun> {
  const started = performance.now();
  const records = await store.read((tx) => remindableRecords(tx, dayOf(options.now)));
  return remindAbout(store, records, options, started);
}

/**
 * The reminder run of the service's sweep (issue 12: cost follows the work). Which reminders are
 * due depends only on a record, the day, the policy and the calendar; so once a pass has read every
 * remindable record on a Shanghai day (the day's first sweep, and the first after start), what else
 * can fall due that day is on records written since. The other sweeps of the day read only those
 * (ReadTx.recordsWrittenSince, from a mark taken before the last read). A new day, another policy
 * or calendar, a pass that failed, or a store that can no longer tell what was written, run the
 * full pass again. Claims still make each reminder go out once, so passes that overlap (a restart,
 * a second instance) send nothing twice.
 */
export class ReminderSweep {
  private readonly coverage = new PassCoverage();

  constructor(private readonly store: Store) {}

  async run(options: ReminderOptions): Promise<ReminderRun & { pass: 'full' | 'written'; read: number }> {
    const started = performance.now();
    const today = dayOf(options.now);
    const { start, written, records } = await this.store.read(async (tx) => {
      const start = await this.coverage.begin(tx, {
        day: today,
        policy: options.policy,
        calendar: options.calendar,
      });
      const written = await this.coverage.written(tx, start);
      return {
        start,
        written,
        records: written?.filter((r) => isRemindable(r, today)) ?? (await remindableRecords(tx, today)),
      };
    });
    const run = await remindAbout(this.store, records, options, started);
    this.coverage.covers(start);
    return { ...run, pass: written !== undefined ? 'written' : 'full', read: records.length };
  }
}

async function remindAbout(
  store: Store,
  records: readonly StoredRecord[],
  options: ReminderOptions,
  started: number,
): Promise<ReminderRun> {
  const today = dayOf(options.now);
  const at = options.now.toISOString();
  const byNo = new Map(records.map((r) => [r.no, r]));
  // Follow-ups are due by the service clock (issue 13, core/serviceCadence), grades and working days included.
  const due = dueReminders(
    records.map((r) => ({
      ...reminderRecordOf(r),
      serviceDue: nextServiceDue(r, options.policy, options.calendar)?.due,
    })),
    today,
    options.policy,
    options.calendar,
  );
  const computed = performance.now();
  if (due.length === 0)
    return { due: 0, claimed: 0, entries: 0, computeMs: computed - started, enqueueMs: 0 };
  const { claimed, entries } = await store.write(async (tx) => {
    const directory = new RecipientDirectory(tx);
    const items: EnqueueItem[] = [];
    // The share partners of every record reminded of, in one read, not one per reminder (R16).
    const partners = await splitPartnersOf(
      tx,
      [...new Set(due.map((d) => d.recordNo))].map((no) => byNo.get(no)!),
    );
    for (const reminder of due) {
      const record = byNo.get(reminder.recordNo)!;
      const base = `${reminder.type}:${reminder.recordNo}:${reminder.threshold}`;
      const holder = reminder.to === 'holder' ? record.registration.registrant : undefined;
      const key = await claim(tx, base, holder, record, at);
      if (key === undefined) continue;
      items.push({
        event: { type: reminder.type, recordNo: reminder.recordNo, at, details: reminder.details },
        facts: recordFactsOf(record, { today, partner: partners.get(record.no) }),
        to:
          reminder.to === 'holder'
            ? { name: record.registration.registrant }
            : { reviewersOf: record.team ?? null },
        eventKey: `r:${key}`,
        // A group is told once per threshold, whoever holds the record now.
        robotKey: `r:${base}`,
      });
    }
    const entries = await enqueueEvents(tx, items, {
      now: at,
      digestHour: options.policy.reminders.digestHour,
      directory,
    });
    return { claimed: items.length, entries };
  });
  return {
    due: due.length,
    claimed,
    entries,
    computeMs: computed - started,
    enqueueMs: performance.now() - computed,
  };
}
