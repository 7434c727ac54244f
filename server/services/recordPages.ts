/**
 * Every record a query matches, read a page at a time (as the retention sweep and the objection's
 * loser look-up read theirs): a report, a reminder list or the reviewer's desk that stopped at a fixed
 * count would leave out, without a word, whatever lay past it.
 */
import type { StoredRecord } from '../../core/schema.js';
import type { ReadTx, RecordQuery } from '../store/store.js';

/** Records opened per store call: bounded memory per page, a few calls for a large company. */
export const RECORD_PAGE = 1000;

export async function allRecords(
  tx: Pick<ReadTx, 'listRecords'>,
  query: Omit<RecordQuery, 'limit' | 'offset'>,
): Promise<StoredRecord[]> {
  const out: StoredRecord[] = [];
  await forEachRecord(tx, query, (record) => {
    out.push(record);
  });
  return out;
}

/** The first record, in the store's order (newest first), that `matches`: no page after it is read. */
export async function findRecord(
  tx: Pick<ReadTx, 'listRecords'>,
  query: Omit<RecordQuery, 'limit' | 'offset'>,
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
 * Each record the query matches, in the store's order (newest first), holding one page at a time;
 * a visit that answers 'stop' ends it there.
 */
export async function forEachRecord(
  tx: Pick<ReadTx, 'listRecords'>,
  query: Omit<RecordQuery, 'limit' | 'offset'>,
  visit: (record: StoredRecord) => void | 'stop',
): Promise<void> {
  // PostgreSQL reads one snapshot; the embedded store reads live data, where a registration saved
  // between two pages pushes the newest-first order down by one: a record seen twice is visited once.
  const seen = new Set<string>();
  for (let offset = 0; ; offset += RECORD_PAGE) {
    const { items } = await tx.listRecords({ ...query, limit: RECORD_PAGE, offset });
    for (const record of items) {
      if (seen.has(record.no)) continue;
      seen.add(record.no);
      if (visit(record) === 'stop') return;
    }
    if (items.length < RECORD_PAGE) return;
  }
}
