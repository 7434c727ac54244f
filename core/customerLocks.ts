/**
 * Lock keys of a customer: strings two writers take before registering rows, so that two rows the
 * matching calls one customer (an exact match) are never decided in parallel. Pure: the server
 * hashes these strings into advisory-lock numbers.
 *
 * Every exact rule of compareIdentities needs one equal value on both sides, and that value is a key:
 * - creditCode: the same code → `cc:code`.
 * - name (two organisations): the same name key → `nm:name`.
 * - household (R19): equal households, or a household equal to an individual's name. Households and
 *   names share the `nm:` kind (they are compared with each other, hashed under one prefix), so
 *   every row files its name — an individual's too — and its household under `nm:`.
 * - phone: the same full number → `ph:phone`.
 * - email: the same address → `em:email`.
 * - maskedPhone (R8): the same masked key (a full number has one as well) → `mk:masked`.
 * The keys are coarser than the rules (two people called 王伟 share `nm:`), which costs only waiting,
 * never correctness. Possible matches go to review, so they need no lock.
 */
import type { IdentityKeys } from './schema.js';

export function customerLockKeys(identity: IdentityKeys): string[] {
  const keys = new Set<string>();
  if (identity.creditCode !== null) keys.add(`cc:${identity.creditCode}`);
  keys.add(`nm:${identity.name}`);
  if (identity.household !== null) keys.add(`nm:${identity.household}`);
  if (identity.phone !== null) keys.add(`ph:${identity.phone}`);
  if (identity.email !== null) keys.add(`em:${identity.email}`);
  if (identity.maskedPhone !== null) keys.add(`mk:${identity.maskedPhone}`);
  return [...keys].sort();
}

/**
 * The keys of customerLockKeys this row may hold SHARED, because they only have to meet another
 * row's claim of the other kind, never one of their own kind:
 * - an individual's name (`nm:`): two individuals of one name are no exact match; the name only has
 *   to meet a household that names it (R19), and a household is held exclusive;
 * - a full number's masked key (`mk:`): the masked-phone rule (R8) needs one side masked; two full
 *   numbers meet on `ph:` instead, and a masked number holds its key exclusive.
 * Shared never waits for shared, and every exact pair still shares a key that one side holds
 * exclusive — so common names (王伟) in two batches no longer make the batches wait for each other.
 */
export function sharedLockKeys(identity: IdentityKeys): string[] {
  const shared: string[] = [];
  if (identity.customerType === 'individual' && identity.household !== identity.name) {
    shared.push(`nm:${identity.name}`);
  }
  if (identity.maskedPhone !== null && !identity.phoneMasked) shared.push(`mk:${identity.maskedPhone}`);
  return shared;
}

/** The lock keys of several rows (a batch), sorted and without duplicates. */
export function batchLockKeys(identities: Iterable<IdentityKeys>): string[] {
  const keys = new Set<string>();
  for (const identity of identities) for (const key of customerLockKeys(identity)) keys.add(key);
  return [...keys].sort();
}
