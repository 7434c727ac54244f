/**
 * Re-keying stored records: a record keeps the keyed hashes of the identity keys computed when it
 * was written, and a registration is matched against those. When the rules that compute them change
 * (a new IDENTITY_RULES_VERSION: the keys depend on the registration and the code, never on the
 * policy), every stored record's identity is computed again from its registration and those that
 * changed are written back, so old and new registrations of one customer meet on one key.
 *
 * The rules a store's records were keyed by are kept as one document. A store without it that holds
 * records was keyed before the document existed (version 1), or a pass is under way or was
 * interrupted: a pass removes the document first. The pass runs in batches, each its own write; the
 * document is set only once all are done, so an interrupted pass runs again from the start at the
 * next start-up (recomputing a record already re-keyed changes nothing).
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { dayOf } from '../../core/day.js';
import { hashIdentityKeys, identityKeys, indexKeys, IDENTITY_RULES_VERSION } from '../../core/matching.js';
import type { IdentityKeys, StoredRecord } from '../../core/schema.js';
import type { Keyring } from '../security/keyring.js';
import type { Ban, Store, WriteTx } from '../store/store.js';

/** Documents about the store itself (never personal data). */
export const STORE_META_COLLECTION = 'store-meta';
const IDENTITY_RULES_KEY = 'identity-rules';
/** The pass under way (or interrupted), by a random id: only the latest pass records the rules. */
const REKEY_PASS_KEY = 'identity-rekey-pass';
/** Records read and written back per write: a 100,000-record store is never one transaction. */
export const REKEY_BATCH = 1000;

// Stores keyed by versions 1–3 recorded the policy's householdIsOneCustomer beside the version (the
// household key followed it then); it is read and ignored: any such store is re-keyed to version 4.
const identityRulesSchema = z.object({ version: z.number().int().min(1) });
export type IdentityRules = z.infer<typeof identityRulesSchema>;

export interface RekeyResult {
  /** Records whose identity was computed again. */
  checked: number;
  /** Records whose identity changed and was written back. */
  rekeyed: number;
  /** Bans (R27, R44) re-filed under their record's new keys. */
  bans: number;
  /** The rules the store was keyed by before (null: not recorded). */
  from: IdentityRules | null;
  to: IdentityRules;
}

export interface RekeyOptions {
  clock: () => Date;
  batchSize?: number;
  /**
   * Run the pass even when the recorded rules are the current ones: an older release run on the store
   * after them (a rollback) filed its records under its own keys and recorded nothing.
   */
  force?: boolean;
  /** Called after each batch's write (progress, and tests that stop a pass midway). */
  onBatch?: (progress: { checked: number; rekeyed: number }) => void | Promise<void>;
}

/** The rules the code computes identities by. */
export function currentIdentityRules(): IdentityRules {
  return { version: IDENTITY_RULES_VERSION };
}

/** The rules the store's records are keyed by, as recorded; null when nothing is recorded. */
export async function storedIdentityRules(store: Store): Promise<IdentityRules | null> {
  const doc = await store.read((tx) => tx.getDoc(STORE_META_COLLECTION, IDENTITY_RULES_KEY));
  return doc === undefined ? null : identityRulesSchema.parse(doc);
}

/**
 * Re-keys the store when its records were keyed by other rules than the current ones (see the
 * module comment); null when they were keyed by these already. An empty store only records the rules.
 */
export async function rekeyIfNeeded(
  store: Store,
  keyring: Pick<Keyring, 'hash'>,
  options: RekeyOptions,
): Promise<RekeyResult | null> {
  const from = await storedIdentityRules(store);
  const to = currentIdentityRules();
  if (from !== null && sameRules(from, to) && options.force !== true) return null;
  const batchSize = options.batchSize ?? REKEY_BATCH;
  const today = dayOf(options.clock());
  // Until this pass is done the records follow no one set of rules: a pass asked for meanwhile (a
  // forced one, or another instance's start) must not find the old rules recorded and skip. The
  // pass's own mark lets only the latest pass record the rules (see the end).
  const pass = randomUUID();
  await store.write(async (tx) => {
    await tx.deleteDoc(STORE_META_COLLECTION, IDENTITY_RULES_KEY);
    await tx.putDoc(STORE_META_COLLECTION, REKEY_PASS_KEY, { pass });
  });
  let checked = 0;
  let rekeyed = 0;
  let bans = 0;
  const isStale = (record: StoredRecord): boolean =>
    keyable(record) && !sameIdentity(record.identity, identityOf(record, keyring));
  // Numbers first, then a page of records by number: paging by offset would sort the whole store
  // for every page on the embedded store. Records added meanwhile are keyed by the current rules.
  const nos = await store.read((tx) => tx.recordNumbers());
  for (let start = 0; start < nos.length; start += batchSize) {
    const wanted = nos.slice(start, start + batchSize);
    const page = await store.read((tx) =>
      tx.listRecords({ today, nos: wanted, limit: wanted.length, offset: 0 }),
    );
    const stale = page.items.filter(isStale);
    if (stale.length > 0) {
      const written = await store.write((tx) => writeBack(tx, stale, keyring, today));
      rekeyed += written.records;
      bans += written.bans;
    }
    checked += page.items.length;
    await options.onBatch?.({ checked, rekeyed });
  }
  await store.write(async (tx) => {
    // Another pass started after this one may still be re-keying records this one passed: then
    // that pass records the rules.
    const latest = (await tx.getDoc(STORE_META_COLLECTION, REKEY_PASS_KEY)) as { pass?: unknown } | undefined;
    if (latest?.pass !== pass) return;
    await tx.putDoc(STORE_META_COLLECTION, IDENTITY_RULES_KEY, to);
    await tx.deleteDoc(STORE_META_COLLECTION, REKEY_PASS_KEY);
  });
  return { checked, rekeyed, bans, from, to };
}

/**
 * Writes the records back with their identity computed again, each read anew inside the write (a
 * request may have changed it since the page was read). Bans (R27 false information, R44 pool
 * cooldown) are filed under the identity their record had; each in force is filed again under the new.
 */
async function writeBack(
  tx: WriteTx,
  stale: readonly StoredRecord[],
  keyring: Pick<Keyring, 'hash'>,
  today: string,
): Promise<{ records: number; bans: number }> {
  let records = 0;
  let bans = 0;
  for (const { no } of stale) {
    const record = await tx.getRecord(no);
    if (record === undefined) continue;
    if (!keyable(record)) continue;
    const identity = identityOf(record, keyring);
    if (sameIdentity(record.identity, identity)) continue;
    for (const registrant of registrantsOf(record)) {
      const own = await tx.findBans(indexKeys(record.identity), registrant, today);
      // The old entry stays: when the keys come back (an older release run on the store, then a
      // forced pass) the ban is there under them already, and copying every copy again would double
      // the bans with each pass.
      const filed = await tx.findBans(indexKeys(identity), registrant, today);
      const done = new Set(
        filed.filter((b) => b.recordNo === record.no && sameIdentity(b.identity, identity)).map(banId),
      );
      for (const ban of own) {
        if (ban.recordNo !== record.no || !sameIdentity(ban.identity, record.identity)) continue;
        if (done.has(banId(ban))) continue;
        done.add(banId(ban));
        await tx.addBan({ ...ban, identity });
        bans++;
      }
    }
    await tx.putRecord({ ...record, identity });
    records++;
  }
  return { records, bans };
}

/** One ban of one record, whatever keys it is filed under. */
function banId(ban: Ban): string {
  return `${ban.registrant}\u0000${ban.until}\u0000${ban.at}`;
}

/**
 * Everyone who has held the record: a ban is filed for the registrant it was barred (R27) or pooled
 * (R44) under, and a handover (R38) of the closed record since then names someone else in the record.
 */
function registrantsOf(record: StoredRecord): string[] {
  const names = new Set([record.registration.registrant]);
  for (const entry of record.history) {
    const from = entry.action === 'transfer' ? entry.details?.['from'] : undefined;
    if (typeof from === 'string') names.add(from);
  }
  return [...names];
}

/**
 * Whether a record's identity comes from its registration. A destroyed one (R39) holds keys that
 * match nothing on purpose (core/retention.ts), and its erased registration must not give it keys again.
 */
function keyable(record: StoredRecord): boolean {
  return record.destroyed === undefined;
}

function identityOf(record: StoredRecord, keyring: Pick<Keyring, 'hash'>): IdentityKeys {
  return hashIdentityKeys(identityKeys(record.registration), keyring.hash);
}

function sameRules(a: IdentityRules, b: IdentityRules): boolean {
  return a.version === b.version;
}

function sameIdentity(a: IdentityKeys, b: IdentityKeys): boolean {
  return (
    a.customerType === b.customerType &&
    a.creditCode === b.creditCode &&
    a.name === b.name &&
    sameList(a.nameBlocks, b.nameBlocks) &&
    sameList(a.nameGrams, b.nameGrams) &&
    a.phone === b.phone &&
    a.phoneIsMobile === b.phoneIsMobile &&
    a.maskedPhone === b.maskedPhone &&
    a.phoneMasked === b.phoneMasked &&
    a.email === b.email &&
    a.household === b.household &&
    a.person === b.person &&
    a.surname === b.surname
  );
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value, i) => value === b[i]);
}
