/**
 * How a record is kept at rest, for every adapter: the few fields the store filters on stay in
 * clear (number, status, registrant, team, dates, whether an objection awaits a decision, hashed
 * identity keys); everything else —
 * customer name, contact, phone, email, credit code, address, notes, history — is sealed with
 * AES-256-GCM as one blob (R35). No customer personal data is readable without the key.
 */
import { z } from 'zod';
import {
  daySchema,
  identityKeysSchema,
  recordStatusSchema,
  type IdentityKeys,
  type StoredRecord,
} from '../../core/schema.js';
import { sharePartner } from '../../core/lifecycle.js';
import { awaitsObjectionDecision } from '../../core/objection.js';
import type { Keyring } from '../security/keyring.js';

export const sealedRecordSchema = z.object({
  no: z.string(),
  status: recordStatusSchema,
  registrant: z.string(),
  team: z.string().optional(),
  receivedAt: z.string(),
  claimedAt: z.string(),
  protectedUntil: daySchema.optional(),
  /**
   * Other registrant sharing the customer (R16) while the share lasts by the stored status (core
   * sharePartner): sees the record too. Queries also require the record to protect on their day.
   */
  sharedWith: z.string().optional(),
  /**
   * The record waits for a reviewer to decide its objection (R12, core awaitsObjectionDecision).
   * Always written; absent only in records sealed before it existed, which the stores work out
   * once when they open (lowdbStore.ts upgradeOlderRecords, and the PostgreSQL migration to schema 4).
   */
  objectionOpen: z.boolean().optional(),
  /**
   * A rejected record's last day to object (R12), kept only on rejected records: the daily reminder
   * and a holiday schedule's re-dating read the few whose window is still open, not every rejection
   * of ten years (R39). A date, no personal data. Worked out with objectionOpen for older records.
   */
  objectionDeadline: daySchema.optional(),
  /**
   * The partner record's number beside `sharedWith`: a query lists the record to its partner only
   * while that record shares too (core partnerHasLeft). Absent in records sealed before it was kept,
   * which the stores work out once (lowdbStore.ts at open, the PostgreSQL migration to schema 5).
   */
  sharedWithNo: z.string().optional(),
  identity: identityKeysSchema,
  version: z.number().int(),
  sealed: z.string(),
});
export type SealedRecord = z.infer<typeof sealedRecordSchema>;

export function sealRecord(record: StoredRecord, keyring: Pick<Keyring, 'seal'>): SealedRecord {
  const { identity, ...rest } = record;
  const clear: SealedRecord = {
    no: record.no,
    status: record.status,
    registrant: record.registration.registrant,
    receivedAt: record.receivedAt,
    claimedAt: record.claimedAt,
    ...clearObjectionFields(record),
    identity,
    version: record.version,
    sealed: keyring.seal(JSON.stringify(rest)),
  };
  if (record.team !== undefined) clear.team = record.team;
  if (record.protectedUntil !== undefined) clear.protectedUntil = record.protectedUntil;
  return { ...clear, ...clearShareFields(record) };
}

/**
 * A record from its sealed form. The body is not run through zod again: AES-GCM authenticates it,
 * so it is exactly the JSON that sealRecord wrote from a typed record (and a changed byte
 * fails `open`). Parsing 100,000-record stores' candidates with zod cost more than everything else
 * on a row. The identity keys come from the clear part (a database column, say), so they are parsed,
 * unless the caller says its sealed records were parsed already (`identity: 'parsed'`: the embedded
 * store zod-checks its snapshot and journal when it reads them, and holds only those records and
 * ones its typed callers put).
 */
export function openRecord(
  sealed: SealedRecord,
  keyring: Pick<Keyring, 'open'>,
  identity: 'parse' | 'parsed' = 'parse',
): StoredRecord {
  const record = JSON.parse(keyring.open(sealed.sealed)) as StoredRecord;
  record.identity = copyIdentity(identity === 'parsed' ? sealed.identity : checkedIdentity(sealed.identity));
  return record;
}

/**
 * Identity objects already parsed. The embedded store hands the same object for a record until the
 * record changes (its file was parsed whole at start), so each is parsed once, not once per look-up.
 */
const parsedIdentities = new WeakMap<object, IdentityKeys>();

function checkedIdentity(identity: unknown): IdentityKeys {
  if (typeof identity === 'object' && identity !== null) {
    const known = parsedIdentities.get(identity);
    if (known !== undefined) return known;
    const parsed = identityKeysSchema.parse(identity);
    parsedIdentities.set(identity, parsed);
    return parsed;
  }
  return identityKeysSchema.parse(identity);
}

/** A copy the caller may change without touching the store's or the cache's. */
function copyIdentity(identity: IdentityKeys): IdentityKeys {
  return { ...identity, nameBlocks: identity.nameBlocks.slice(), nameGrams: identity.nameGrams.slice() };
}

/**
 * What sealRecord keeps in clear of a record's objection (R12): whether it awaits a decision, and a
 * rejected record's last day to object. The stores work out the same for records sealed before
 * these were kept (lowdb at open, PostgreSQL's migration to schema 4).
 */
export function clearObjectionFields(
  record: Pick<StoredRecord, 'status' | 'objection' | 'objectionDeadline' | 'destroyed'>,
): Pick<SealedRecord, 'objectionOpen' | 'objectionDeadline'> {
  const deadline = record.status === 'rejected' ? record.objectionDeadline : undefined;
  return {
    objectionOpen: awaitsObjectionDecision(record),
    ...(deadline !== undefined ? { objectionDeadline: deadline } : {}),
  };
}

/**
 * What sealRecord keeps in clear of a record's share (R16): the partner's name and record number
 * while the share lasts by the stored status (core sharePartner). The stores work out the number
 * for records sealed before it was kept (lowdb at open, PostgreSQL's migration to schema 5).
 */
export function clearShareFields(
  record: Pick<StoredRecord, 'status' | 'protectedUntil' | 'share'>,
): Pick<SealedRecord, 'sharedWith' | 'sharedWithNo'> {
  const partner = sharePartner(record);
  if (partner === undefined || record.share === undefined) return {};
  return { sharedWith: partner, sharedWithNo: record.share.withNo };
}
