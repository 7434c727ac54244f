/**
 * What a caller sees of a record: everything but the hashed identity keys, with the status the
 * record has today (a protected record past its last day reads as expired, R25).
 */
import { z } from 'zod';
import { effectiveStatus } from '../../core/lifecycle.js';
import { recordStatusSchema, storedRecordSchema, type Day, type StoredRecord } from '../../core/schema.js';

export const recordViewSchema = storedRecordSchema.omit({ identity: true, version: true }).extend({
  status: recordStatusSchema,
});
export type RecordView = z.infer<typeof recordViewSchema>;

export function recordView(record: StoredRecord, today: Day): RecordView {
  const { identity: _identity, version: _version, ...rest } = record;
  return { ...rest, status: effectiveStatus(record, today) };
}
