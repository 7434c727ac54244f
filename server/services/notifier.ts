/**
 * Notifications (R12): decisions, competing registrations decided, objection windows, queue
 * promotions. Stored with record numbers and machine data only; the text a person reads is
 * composed when it is read, so no customer name is ever written into a notification.
 */
import { randomUUID } from 'node:crypto';
import type { StoredRecord } from '../../core/schema.js';
import type { Notification, WriteTx } from '../store/store.js';

type Details = Notification['details'];

export class Notifier {
  private readonly pending: Notification[] = [];

  constructor(private readonly at: string) {}

  toRegistrant(record: StoredRecord, type: Notification['type'], details: Details = {}): void {
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
    if (this.pending.length > 0) await tx.addNotifications(this.pending.splice(0));
  }
}
