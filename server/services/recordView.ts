/**
 * What a caller sees of a record: everything but the hashed identity keys, with the status the
 * record has today (a protected record past its last day reads as expired, R25), its version and
 * the entity tag a change sends back (`If-Match`).
 */
import { effectiveStatus } from '../../core/lifecycle.js';
import { estimatedFields } from '../../core/protection.js';
import { recordEtag, type RecordView } from '../../core/responses.js';
import type { Day, StoredRecord } from '../../core/schema.js';

export type { RecordView };

export function recordView(record: StoredRecord, today: Day): RecordView {
  const { identity: _identity, estimatedDeadlines: _estimates, ...rest } = record;
  const estimated = estimatedFields(record);
  return {
    ...rest,
    status: effectiveStatus(record, today),
    ...(estimated.length > 0 ? { estimated } : {}),
    etag: recordEtag(record.version),
  };
}
