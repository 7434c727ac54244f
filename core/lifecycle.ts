/**
 * The record lifecycle (domain.md, Lifecycle): which status a record shows on a given day, and
 * which transitions are allowed. Protection ends by itself (R25): a protected record past its
 * last day reads as `expired` even before the sweep has written it.
 */
import type { Day, RecordStatus } from './schema.js';
import { PROTECTING_STATUSES } from './schema.js';

export interface StatusView {
  status: RecordStatus;
  protectedUntil?: Day | undefined;
}

/** A record with the share it may carry (R16). */
export interface ShareView extends StatusView {
  share?: Share | undefined;
}

/** 共享份额 (R16): the partner record, its registrant and this record's percent. */
export interface Share {
  withNo: string;
  withRegistrant: string;
  percent: number;
}

/**
 * Statuses in which a record's share lasts (R16): while it protects, and once signed — the deal the
 * two registrants agreed to split is won, and both keep seeing it.
 */
export const SHARING_STATUSES: readonly RecordStatus[] = [...PROTECTING_STATUSES, 'signed'];

/**
 * R16: whether a record's partner has left on `today` — this record still protects, by its effective
 * status, and the partner record (at `share.withNo`) no longer shares: closed, ran out, voided. A
 * partner past its last day has left the day after, as `effectiveStatus` ends a protection before
 * the sweep writes it. A lapse (R31, R32) is not judged here: it is final only once the sweep voids
 * the record, since until then the holder may still log the deadline day's visit (docs/api.md,
 * share). A partner record not found leaves nothing to judge by: not left. Both stores' list
 * filters mirror it over their clear fields.
 */
export function partnerHasLeft(record: StatusView, partner: StatusView | undefined, today: Day): boolean {
  return (
    partner !== undefined &&
    PROTECTING_STATUSES.includes(effectiveStatus(record, today)) &&
    !SHARING_STATUSES.includes(effectiveStatus(partner, today))
  );
}

/**
 * R16: the share a record holds on `today`, which is what every reader is shown. Once its partner
 * has left (partnerHasLeft) it holds the customer alone, 100%, before the sweep writes
 * `share.partner_left`: the sweep then only writes what was already read. A record that ended keeps
 * the split it held (R37). `partner` is the record at `share.withNo`.
 */
export function effectiveShare(
  record: ShareView,
  partner: StatusView | undefined,
  today: Day,
): Share | undefined {
  const share = record.share;
  if (share === undefined || share.percent >= 100) return share;
  return partnerHasLeft(record, partner, today) ? { ...share, percent: 100 } : share;
}

/** The day a share is judged on and the record at its `withNo` (effectiveShare). */
export interface ShareDay {
  today: Day;
  partner: StatusView | undefined;
}

/**
 * R16 with R34: whom this record is shared with while the share lasts, so that partner reads it.
 * The share ends when this record stops protecting other than by signing (closed, expired, lapsed,
 * terminated by an upheld objection — both shares end then) or when its partner left: the survivor
 * then holds the whole customer (percent 100, `share.partner_left`), and a decided split is never
 * 100. Without `on` it reads the stored status and percent (what the store keeps in clear); with it
 * (the day and the partner record), a protection past its last day has ended, and a partner past
 * its own has left, before the sweep writes so (effectiveShare).
 */
export function sharePartner(record: ShareView, on?: ShareDay): string | undefined {
  const share = on === undefined ? record.share : effectiveShare(record, on.partner, on.today);
  if (share === undefined || share.percent >= 100) return undefined;
  const status = on === undefined ? record.status : effectiveStatus(record, on.today);
  return SHARING_STATUSES.includes(status) ? share.withRegistrant : undefined;
}

export function effectiveStatus(record: StatusView, today: Day): RecordStatus {
  return protectionRanOut(record, today) ? 'expired' : record.status;
}

/** R25: the record still protects by its stored status, but its last day is before `today`: the sweep ends it. */
export function protectionRanOut(record: StatusView, today: Day): boolean {
  return (
    PROTECTING_STATUSES.includes(record.status) &&
    record.protectedUntil !== undefined &&
    record.protectedUntil < today
  );
}

/** Allowed moves; anything else is refused with `status.transition`. */
const TRANSITIONS: Record<RecordStatus, readonly RecordStatus[]> = {
  pending: ['protected', 'rejected', 'conflict', 'terminated'],
  conflict: ['pending', 'protected', 'rejected', 'terminated'],
  protected: ['extension-requested', 'signed', 'expired', 'terminated', 'void'],
  'extension-requested': ['protected', 'signed', 'expired', 'terminated', 'void'],
  signed: [],
  expired: [],
  terminated: [],
  // An upheld objection (R12) reopens a rejected record.
  rejected: ['protected', 'pending'],
  void: [],
};

export function canTransition(from: RecordStatus, to: RecordStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/** Statuses after which the customer is free again for the next in line (R21). */
export const ENDED_STATUSES: readonly RecordStatus[] = [
  'signed',
  'expired',
  'terminated',
  'rejected',
  'void',
];
