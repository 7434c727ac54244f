/**
 * The record a split share (R16) is split with, read from the store: whether the share lasts on a day
 * follows that record's state (core effectiveShare, sharePartner), so every reader fetches it here.
 */
import type { StoredRecord } from '../../core/schema.js';
import type { ReadTx } from './store.js';

/** Undefined when the record holds no split (no share, or 100% already), or the partner is not found. */
export async function splitPartnerOf(tx: ReadTx, record: StoredRecord): Promise<StoredRecord | undefined> {
  if (record.share === undefined || record.share.percent >= 100) return undefined;
  return tx.getRecord(record.share.withNo);
}
