/**
 * Notifications (R12): decisions, competing registrations decided, objection windows, queue
 * promotions. Stored with record numbers and machine data only; the text a person reads is
 * composed when it is read, so no customer name is ever written into a notification. The same
 * flush writes the outbox entries that carry them to email and the group robots (issue 10), in
 * the caller's transaction: the change and its messages commit together or not at all.
 */
import { randomUUID } from 'node:crypto';
import { dayOf } from '../../core/day.js';
import { DEFAULT_REMINDER_SETTINGS } from '../../core/policy.js';
import type { StoredRecord } from '../../core/schema.js';
import { enqueueEvents, type EnqueueItem } from '../notify/outbox.js';
import { recordFactsOf } from '../notify/notifyEvent.js';
import { splitPartnersOf } from '../store/splitPartner.js';
import type { Notification, WriteTx } from '../store/store.js';

type Details = Notification['details'];

export class Notifier {
  private readonly pending: Notification[] = [];
  /** The records notified about, read at flush time so the messages carry their final state. */
  private readonly records = new Map<string, StoredRecord>();

  /** `actor`: who caused these (never told about their own action); absent for the sweep. */
  constructor(
    private readonly at: string,
    private readonly actor?: string,
  ) {}

  toRegistrant(record: StoredRecord, type: Notification['type'], details: Details = {}): void {
    this.records.set(record.no, record);
    this.pending.push({
      id: randomUUID(),
      to: { name: record.registration.registrant },
      type,
      recordNo: record.no,
      at: this.at,
      details: { status: record.status, ...details },
    });
  }

  toReviewers(record: StoredRecord, type: Notification['type'], details: Details = {}): void {
    this.records.set(record.no, record);
    this.pending.push({
      id: randomUUID(),
      to: { reviewersOf: record.team ?? null },
      type,
      recordNo: record.no,
      at: this.at,
      details: { status: record.status, ...details },
    });
  }

  async flush(tx: WriteTx): Promise<void> {
    if (this.pending.length === 0) return;
    const notifications = this.pending.splice(0);
    await tx.addNotifications(notifications);
    const items: EnqueueItem[] = [];
    const today = dayOf(this.at);
    // Whom a share reaches follows its partner's state today (R16, R34: core sharePartner): the
    // partners of every record notified about, in one read (a sweep notifies about thousands).
    const notified = [...new Set(notifications.map((n) => n.recordNo))].flatMap(
      (no) => this.records.get(no) ?? [],
    );
    const partners = await splitPartnersOf(tx, notified);
    for (const n of notifications) {
      const record = this.records.get(n.recordNo);
      if (!record) continue;
      const partner = partners.get(record.no);
      items.push({
        event: {
          type: n.type,
          recordNo: n.recordNo,
          at: n.at,
          details: n.details,
          ...(this.actor !== undefined ? { actor: this.actor } : {}),
        },
        facts: recordFactsOf(record, { today, partner }),
        to: n.to,
        eventKey: `n:${n.id}`,
        robotKey: `e:${n.type}:${n.recordNo}:${n.at}`,
      });
    }
    const policy = await tx.getPolicy();
    await enqueueEvents(tx, items, {
      now: this.at,
      digestHour: (policy?.reminders ?? DEFAULT_REMINDER_SETTINGS).digestHour,
    });
  }
}
