/**
 * The record a split share (R16) is split with, read from the store: whether the share lasts on a day
 * follows that record's state (core effectiveShare, sharePartner), so every reader fetches it here.
 */
import type { StoredRecord } from '../../core/schema.js';
import type { ReadTx } from './store.js';

/** Undefined when the record holds no split (no share, or 100% already), or the partner is not found. */
export async function splitPartnerOf(tx: ReadTx, record: StoredRecord): Promise<StoredRecord | undefined> {
  const partnerNo = splitPartnerNo(record);
  return partnerNo === undefined ? undefined : tx.getRecord(partnerNo);
}

/**
 * splitPartnerOf for every record of a page, by record number, the partners fetched at once where
 * the store pays a round trip per read (PostgreSQL: one query for the page, not one per split
 * share). Only for reads: a write may prefetch only when exclusive (ReadTx.prefetchRecordsByNo).
 */
export async function splitPartnersOf(
  tx: ReadTx,
  records: readonly StoredRecord[],
): Promise<Map<string, StoredRecord | undefined>> {
  const partnerNos = records.flatMap((r) => splitPartnerNo(r) ?? []);
  if (partnerNos.length > 0) await tx.prefetchRecordsByNo?.(partnerNos);
  const partners = new Map<string, StoredRecord | undefined>();
  for (const r of records) partners.set(r.no, await splitPartnerOf(tx, r));
  return partners;
}

function splitPartnerNo(record: StoredRecord): string | undefined {
  return record.share === undefined || record.share.percent >= 100 ? undefined : record.share.withNo;
}
