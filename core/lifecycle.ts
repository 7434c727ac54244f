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
  share?: { withRegistrant: string; percent: number } | undefined;
}

/**
 * Statuses in which a record's share lasts (R16): while it protects, and once signed — the deal the
 * two registrants agreed to split is won, and both keep seeing it.
 */
export const SHARING_STATUSES: readonly RecordStatus[] = [...PROTECTING_STATUSES, 'signed'];

/**
 * R16 with R34: whom this record is shared with while the share lasts, so that partner reads it.
 * The share ends when this record stops protecting other than by signing (closed, expired, lapsed,
 * terminated by an upheld objection — both shares end then) or when its partner left: the survivor
 * then holds the whole customer (percent 100, `share.partner_left`), and a decided split is never
 * 100. Without `today` it reads the stored status (what the store keeps in clear); with it, a
 * protection past its last day has ended before the sweep writes so.
 */
export function sharePartner(record: ShareView, today?: Day): string | undefined {
  if (record.share === undefined || record.share.percent >= 100) return undefined;
  const status = today === undefined ? record.status : effectiveStatus(record, today);
  return SHARING_STATUSES.includes(status) ? record.share.withRegistrant : undefined;
}

export function effectiveStatus(record: StatusView, today: Day): RecordStatus {
  if (
    PROTECTING_STATUSES.includes(record.status) &&
    record.protectedUntil !== undefined &&
    record.protectedUntil < today
  ) {
    return 'expired';
  }
  return record.status;
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
