/**
 * What a notification is about: an event (the stored notification types, plus the scheduled
 * reminders of issue 10) and the facts about its record that a message may draw on. `RecordFacts`
 * has no place for contact names, phones, emails, credit codes, addresses or amounts, so no
 * composer can put them into a message: they never leave `recordFactsOf`.
 */
import { z } from 'zod';
import { sharePartner, type ShareDay } from '../../core/lifecycle.js';
import { daySchema, recordStatusSchema, type CustomerType, type StoredRecord } from '../../core/schema.js';
import { NOTIFICATION_TYPES } from '../store/store.js';

/** Scheduled reminders, computed in Asia/Shanghai by the working-day calendar. */
export const REMINDER_TYPES = [
  /** Protection ends in `details.daysLeft` days (thresholds T−30/T−20/T−7/T−1 by default); R25, R28. */
  'protection.ending',
  /**
   * An extension request is still undecided as protection runs out (R28) — to reviewers, on the
   * protection-ending thresholds after the request; undecided on the last day, the request is lost.
   */
  'extension.undecided',
  /** The last working day to object to a lost conflict (R12). */
  'objection.closing',
  /** A review is due (`reviewDueBy`, 7 working days, R12) — to reviewers. */
  'review.due',
  /** A review is past `reviewDueBy` — to reviewers. */
  'review.overdue',
  /** A follow-up is due under the follow-up preset (R31). */
  'followUp.due',
  /** A follow-up is overdue; the record lapses if nothing is recorded (R31). */
  'followUp.overdue',
  /** The record is about to lapse and its customer to return to the pool (R31, R32, R44). */
  'pool.lapsing',
  /** The record lapsed; its customer is in the pool (R44). */
  'pool.lapsed',
  /** The customer of a lapsed record was claimed from the pool (R44). */
  'pool.claimed',
] as const;

export const NOTIFY_EVENT_TYPES = [...NOTIFICATION_TYPES, ...REMINDER_TYPES] as const;
export const notifyEventTypeSchema = z.enum(NOTIFY_EVENT_TYPES);
export type NotifyEventType = z.infer<typeof notifyEventTypeSchema>;

export const notifyEventSchema = z.object({
  type: notifyEventTypeSchema,
  recordNo: z.string().min(1),
  /** Who caused it (a user name); absent for scheduled reminders and the sweep. */
  actor: z.string().min(1).optional(),
  at: z.string(),
  /** Machine data as in `Notification.details`: status, days, outcome codes, other record numbers. */
  details: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])),
});
export type NotifyEvent = z.infer<typeof notifyEventSchema>;

export const recordFactsSchema = z.object({
  no: z.string(),
  status: recordStatusSchema,
  team: z.string().optional(),
  registrant: z.string(),
  /** The other registrant of a shared customer while the share lasts (R16, core sharePartner). */
  sharedWith: z.string().optional(),
  customerName: z.string(),
  customerType: z.enum(['enterprise', 'individual', 'other']),
  protectedUntil: daySchema.optional(),
  reviewDueBy: daySchema.optional(),
  objectionDeadline: daySchema.optional(),
});
/** What a message may draw on. The customer name is here; the policy decides who sees it. */
export type RecordFacts = z.infer<typeof recordFactsSchema>;

/** The facts of a stored record — and nothing else of it. */
/**
 * `on`: the day the facts are for and the record the share is split with (without it, the stored
 * status and percent decide whether a share lasts).
 */
export function recordFactsOf(record: StoredRecord, on?: ShareDay): RecordFacts {
  // R16 with R34: a former share partner is not one of the people who hold the record.
  const partner = sharePartner(record, on);
  const customerType: CustomerType = record.registration.customerType;
  return {
    no: record.no,
    status: record.status,
    ...(record.team !== undefined ? { team: record.team } : {}),
    registrant: record.registration.registrant,
    ...(partner !== undefined ? { sharedWith: partner } : {}),
    customerName: record.registration.customerName,
    customerType,
    ...(record.protectedUntil !== undefined ? { protectedUntil: record.protectedUntil } : {}),
    ...(record.reviewDueBy !== undefined ? { reviewDueBy: record.reviewDueBy } : {}),
    ...(record.objectionDeadline !== undefined ? { objectionDeadline: record.objectionDeadline } : {}),
  };
}
