/**
 * Every record a query matches, read a page at a time (the store's scanRecords): a report, a reminder
 * list, the reviewer's desk or the retention sweep that stopped at a fixed count would leave out,
 * without a word, whatever lay past it.
 */
import type { Day, StoredRecord } from '../../core/schema.js';
import type { ReadTx, RecordScan } from '../store/store.js';

/** Records opened per store call: bounded memory per page, a few calls for a large company. */
export const RECORD_PAGE = 1000;

export async function allRecords(
  tx: Pick<ReadTx, 'scanRecords'>,
  query: RecordScan,
): Promise<StoredRecord[]> {
  const out: StoredRecord[] = [];
  await forEachRecord(tx, query, (record) => {
    out.push(record);
  });
  return out;
}

/** The first record, in the store's order (newest first), that `matches`: no page after it is read. */
export async function findRecord(
  tx: Pick<ReadTx, 'scanRecords'>,
  query: RecordScan,
  matches: (record: StoredRecord) => boolean,
): Promise<StoredRecord | undefined> {
  let found: StoredRecord | undefined;
  await forEachRecord(tx, query, (record) => {
    if (!matches(record)) return;
    found = record;
    return 'stop';
  });
  return found;
}

/**
 * The lost registrations whose objection window (R12) is open on `today`: rejected, their last day
 * to object today or later, found by the deadline the stores keep in clear — never every rejection
 * of ten years (R39). The reminders and a holiday schedule's re-dating read these.
 */
export function openObjectionWindows(tx: Pick<ReadTx, 'scanRecords'>, today: Day): Promise<StoredRecord[]> {
  return allRecords(tx, { today, statuses: ['rejected'], objectionDeadlineFrom: today });
}

/**
 * Each record the query matches, in the store's order (newest first), holding one page at a time;
 * a visit that answers 'stop' ends it there.
 */
export async function forEachRecord(
  tx: Pick<ReadTx, 'scanRecords'>,
  query: RecordScan,
  visit: (record: StoredRecord) => void | 'stop',
): Promise<void> {
  for await (const page of tx.scanRecords(query, RECORD_PAGE)) {
    for (const record of page) if (visit(record) === 'stop') return;
  }
}
