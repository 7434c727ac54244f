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
  // One read transaction sees one state of the store, so offsets neither skip nor repeat a record.
  for (let offset = 0; ; offset += RECORD_PAGE) {
    const { items } = await tx.listRecords({ ...query, limit: RECORD_PAGE, offset });
    out.push(...items);
    if (items.length < RECORD_PAGE) return out;
  }
}
