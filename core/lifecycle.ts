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
