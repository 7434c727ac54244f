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
 * splitPartnerOf for every record of a page or a batch of notices, by record number, the partners
 * read at once where the store pays a round trip per read (PostgreSQL: one query, not one per split
 * share). Safe in any transaction, a keyed write's too (ReadTx.getRecordsByNo keeps nothing after).
 */
export async function splitPartnersOf(
  tx: ReadTx,
  records: readonly StoredRecord[],
): Promise<Map<string, StoredRecord | undefined>> {
  const partnerNos = records.flatMap((r) => splitPartnerNo(r) ?? []);
  const read =
    partnerNos.length > 0 && tx.getRecordsByNo !== undefined
      ? await tx.getRecordsByNo(partnerNos)
      : undefined;
  const partners = new Map<string, StoredRecord | undefined>();
  for (const r of records) {
    const partnerNo = splitPartnerNo(r);
    partners.set(
      r.no,
      partnerNo === undefined
        ? undefined
        : read !== undefined
          ? read.get(partnerNo)
          : await tx.getRecord(partnerNo),
    );
  }
  return partners;
}

function splitPartnerNo(record: StoredRecord): string | undefined {
  return record.share === undefined || record.share.percent >= 100 ? undefined : record.share.withNo;
}
