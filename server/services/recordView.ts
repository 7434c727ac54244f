/**
 * What a caller sees of a record: everything but the hashed identity keys, with the status the
 * record has today (a protected record past its last day reads as expired, R25) and the share it
 * holds today (R16: 100% once its partner has left), its version and the entity tag a change sends
 * back (`If-Match`).
 */
import { effectiveShare, effectiveStatus } from '../../core/lifecycle.js';
import { estimatedFields } from '../../core/protection.js';
import { recordEtag, type RecordView } from '../../core/responses.js';
import type { Day, StoredRecord } from '../../core/schema.js';
import type { WorkCalendar } from '../../core/calendar.js';
import { serviceOutlook, type ServicePolicy } from '../../core/serviceCadence.js';

export type { RecordView };

/**
 * With `service` (the policy and the working-day calendar in force), a protected record under
 * cadences also shows its service outlook: next visit due, lapse day (R31, R32, R42).
 */
export function recordView(
  record: StoredRecord,
  today: Day,
  /** The record its share is split with (splitPartnerOf). */
  partner: StoredRecord | undefined,
  service?: { policy: ServicePolicy; calendar: WorkCalendar },
): RecordView {
  const { identity: _identity, estimatedDeadlines: _estimates, share: _share, ...rest } = record;
  const share = effectiveShare(record, partner, today);
  const estimated = estimatedFields(record);
  const outlook = service ? serviceOutlook(record, service.policy, service.calendar, today) : undefined;
  return {
    ...rest,
    status: effectiveStatus(record, today),
    ...(share !== undefined ? { share } : {}),
    ...(estimated.length > 0 ? { estimated } : {}),
    etag: recordEtag(record.version),
    ...(outlook ? { service: outlook } : {}),
  };
}
