/**
 * Matching (撞单 / 重客): identity keys of a registration, the index keys a stored record is filed
 * under and looked up by, the comparison that says whether two registrations are one customer, and
 * an in-memory index. Comparisons use only equality and set overlap of opaque strings, so they work
 * the same on clear keys and on the keyed hashes the server stores.
 */
import { cleanCompanyName, companyKey, nameBigrams, splitCompanyKey } from './companyName.js';
import { parsePhone } from './phone.js';
import type { Policy } from './policy.js';
import type { IdentityKeys, MatchedOn, MatchStrength, Registration } from './schema.js';

export interface Match {
  matchedOn: MatchedOn;
  strength: MatchStrength;
  /** Dice similarity of the names (0–1), for matches found by name similarity. */
  similarity?: number;
}

export type MatchPolicy = Pick<Policy, 'nameSimilarityThreshold' | 'householdIsOneCustomer'>;

/*
 * Layout of `nameBlocks` (organisations only; individuals have none). Positions matter because
 * hashed blocks cannot be told apart by their text:
 *   [0] trade block  `t:region|字号`  first two characters of the core (the trade name), in its region
 *   [1] core block   `c:core`         the whole name without region or legal form
 *   [2] region       `r:region`       only when the name names a region; not a block
 * Names sharing the trade block (same region, same trade name) are compared; so are a name without
 * a region and a name with one that share the core block (华信科技 and 上海华信科技). Names in two
 * different regions never are: 北京华信科技 is not 上海华信科技. The trade name, not the industry
 * (科技, 贸易) or the legal form (有限公司), is what makes a name distinctive, so the trade block
 * keeps lookups small.
 */
const TRADE_BLOCK = 0;
const CORE_BLOCK = 1;
const REGION = 2;

/** Compound surnames (复姓) common enough to meet; any other Chinese name's surname is its first character. */
const COMPOUND_SURNAMES = new Set(
  [
    '欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒',
    '夏侯 轩辕 令狐 端木 独孤 南宫 西门 申屠 澹台 公冶 太史 百里',
    '呼延 万俟 闻人 赫连 钟离 宗政 濮阳 淳于 单于 拓跋',
  ]
    .join(' ')
    .split(' '),
);

/**
 * Version of the rules identityKeys (and companyKey under it) computes keys by. Stored records keep
 * the keyed hashes of the keys computed when they were written, so a change that gives any name
 * another key bumps this, and the server re-keys every stored record once (server/services/identityRekey.ts).
 *   1: keys as first shipped.
 *   2: marks and quotes around a name (★, ※, “”, 《》) no longer change its key.
 *   3: nor does a mark in brackets of its own (上海华信科技有限公司【★】), or empty brackets.
 *   4: the household key (R19) is kept whatever the policy; before, it existed only while the policy
 *      joined households, so turning that on left every stored member unfindable until a re-key.
 */
export const IDENTITY_RULES_VERSION = 4;

/**
 * The identity keys of a registration. Organisations (enterprise, other) are known by credit code
 * and name; an individual (个人) by phone, email, or masked phone together with the name — two
 * people called 王伟 are not one customer, so an individual's name is never a key on its own.
 *
 * The keys depend on the registration alone, never on the policy: a stored record keeps them, and
 * keys that followed the policy would go stale the moment it changed. The policy decides which of
 * them are looked up (lookupKeys) and compared (compareIdentities): the household key (R19) is kept
 * always and used only while households are joined.
 */
export function identityKeys(reg: Registration): IdentityKeys {
  const organisation = reg.customerType !== 'individual';
  const name = companyKey(reg.customerName);
  const phone = reg.contactPhone === undefined ? null : parsePhone(reg.contactPhone);
  const parsed = phone !== null && phone.ok ? phone.phone : null;
  // For an individual the customer is the person; for an organisation, its contact.
  const personName = organisation ? reg.contactName : reg.customerName;
  let personKey: string | null = name;
  if (organisation) personKey = personName === undefined ? null : companyKey(personName);
  return {
    customerType: reg.customerType,
    creditCode: reg.creditCode ?? null,
    name,
    nameBlocks: organisation ? nameBlocksOf(name) : [],
    nameGrams: organisation ? nameGramsOf(name) : [],
    phone: parsed === null || parsed.kind === 'masked' ? null : parsed.key,
    phoneIsMobile: parsed?.kind === 'mobile',
    maskedPhone: parsed?.maskedKey ?? null,
    phoneMasked: parsed?.kind === 'masked',
    email: reg.email === undefined ? null : reg.email.trim().toLowerCase(),
    household: reg.householdOf === undefined ? null : companyKey(reg.householdOf),
    person: personKey === null || personKey === '|' ? null : personKey,
    surname: personName === undefined || personKey === null ? null : surnameOf(personName, personKey),
  };
}

/** Hash prefixes: one per kind of value, so that equal text of different kinds never hashes alike. */
const HASH_PREFIX = {
  creditCode: 'cc:',
  // Names, contact persons and households are compared with one another, so they share a prefix.
  name: 'nm:',
  nameBlock: 'nb:',
  nameGram: 'ng:',
  phone: 'ph:',
  maskedPhone: 'mk:',
  email: 'em:',
  surname: 'sn:',
} as const;

/**
 * Keys with every identifying string replaced by `hash(prefix + value)` (each block and gram on its
 * own). With an injective hash, every comparison gives the same answer as on the clear keys.
 */
export function hashIdentityKeys(keys: IdentityKeys, hash: (value: string) => string): IdentityKeys {
  // Names, persons and households share a prefix: equal values (an individual's person is its name)
  // hash alike, so each is hashed once.
  const name = hash(HASH_PREFIX.name + keys.name);
  const sameAsName = (value: string | null): string | null =>
    value === keys.name ? name : hashOrNull(hash, HASH_PREFIX.name, value);
  return {
    customerType: keys.customerType,
    creditCode: hashOrNull(hash, HASH_PREFIX.creditCode, keys.creditCode),
    name,
    nameBlocks: hashAll(hash, HASH_PREFIX.nameBlock, keys.nameBlocks),
    nameGrams: hashAll(hash, HASH_PREFIX.nameGram, keys.nameGrams),
    phone: hashOrNull(hash, HASH_PREFIX.phone, keys.phone),
    phoneIsMobile: keys.phoneIsMobile,
    maskedPhone: hashOrNull(hash, HASH_PREFIX.maskedPhone, keys.maskedPhone),
    phoneMasked: keys.phoneMasked,
    email: hashOrNull(hash, HASH_PREFIX.email, keys.email),
    household: sameAsName(keys.household),
    person: sameAsName(keys.person),
    surname: hashOrNull(hash, HASH_PREFIX.surname, keys.surname),
  };
}

function hashOrNull(hash: (value: string) => string, prefix: string, value: string | null): string | null {
  return value === null ? null : hash(prefix + value);
}

function hashAll(hash: (value: string) => string, prefix: string, values: readonly string[]): string[] {
  const out = new Array<string>(values.length);
  for (let i = 0; i < values.length; i++) out[i] = hash(prefix + (values[i] as string));
  return out;
}

/**
 * Inverted-index keys a stored record is filed under: a kind prefix and a value. Some kinds are
 * filed under one prefix and looked up under another, so that a lookup fetches only records it can
 * match: a masked phone (`mk:`) is looked up by every row with that masked key, a full mobile (`mf:`)
 * only by masked rows; a core block with a region (`nc:`) only by names without one (`nb:`).
 */
export function indexKeys(keys: IdentityKeys): string[] {
  return joinPairs(indexPairs(keys));
}

/**
 * Index keys to query for a new row: every record that compareIdentities can match shares one of
 * them with the record's indexKeys. An individual does not look up its own name (no match on a
 * person's name alone, and 王伟 would fetch thousands), but does look up households naming it.
 * Given a policy that does not join households (R19), household keys are left out.
 */
export function lookupKeys(keys: IdentityKeys, policy?: Pick<Policy, 'householdIsOneCustomer'>): string[] {
  return joinPairs(lookupPairs(keys, policy?.householdIsOneCustomer ?? true));
}

/**
 * indexKeys as a flat list of kind, value, kind, value… (the index looks values up per kind): an
 * index keyed by the values the identity holds makes no string per key.
 */
export function indexPairs(keys: IdentityKeys): string[] {
  const out: string[] = [];
  if (keys.creditCode !== null) out.push('cc:', keys.creditCode);
  // Individuals are filed by name too: a household row (R19) names them.
  out.push('nm:', keys.name);
  if (keys.phone !== null) out.push('ph:', keys.phone);
  if (keys.maskedPhone !== null) out.push(keys.phoneMasked ? 'mk:' : 'mf:', keys.maskedPhone);
  if (keys.email !== null) out.push('em:', keys.email);
  const [trade, core] = keys.nameBlocks;
  if (trade !== undefined) out.push('nb:', trade);
  if (core !== undefined) out.push(hasRegion(keys) ? 'nc:' : 'nb:', core);
  if (keys.household !== null) out.push('hh:', keys.household);
  return out;
}

function lookupPairs(keys: IdentityKeys, households: boolean): string[] {
  const out: string[] = [];
  if (keys.creditCode !== null) out.push('cc:', keys.creditCode);
  if (keys.customerType !== 'individual') out.push('nm:', keys.name);
  else if (households) out.push('hh:', keys.name);
  if (keys.phone !== null) out.push('ph:', keys.phone);
  if (keys.maskedPhone !== null) {
    out.push('mk:', keys.maskedPhone);
    if (keys.phoneMasked) out.push('mf:', keys.maskedPhone);
  }
  if (keys.email !== null) out.push('em:', keys.email);
  const [trade, core] = keys.nameBlocks;
  if (trade !== undefined) out.push('nb:', trade);
  if (core !== undefined) {
    out.push('nb:', core);
    if (!hasRegion(keys)) out.push('nc:', core);
  }
  if (households && keys.household !== null) out.push('nm:', keys.household, 'hh:', keys.household);
  return out;
}

function joinPairs(pairs: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < pairs.length; i += 2) out.push((pairs[i] as string) + (pairs[i + 1] as string));
  return out;
}

function hasRegion(keys: IdentityKeys): boolean {
  return keys.nameBlocks.length > REGION;
}

/** Order of reasons when two hold with the same strength: the most telling first. */
const REASON_RANK: Record<MatchedOn, number> = {
  creditCode: 0,
  name: 1,
  household: 2,
  phone: 3,
  email: 4,
  maskedPhone: 5,
};

/**
 * Whether `other` is the same customer as `row`, and the strongest reason (exact beats possible).
 *
 * - creditCode: same code → exact.
 * - name: same name key of two organisations → exact (possible when both carry credit codes and
 *   they differ); names in one region with the same trade name and Dice similarity ≥ threshold,
 *   or the same name with the region unknown on one side (similarity 1) → possible. Names in two
 *   different regions never match, not even when one region contains the other (广东, 深圳).
 * - phone: same full number (mobile or landline, extension ignored) → exact when both are
 *   individuals (a landline is then a home number), else possible: switchboards and family phones
 *   are shared. Two organisations with the same number and the same contact person → exact, as with
 *   a masked number below (knowing the whole number never makes a match weaker).
 * - email: same address → exact when both are individuals, else possible.
 * - maskedPhone (R8): one side masked, same first 3 + last 4 digits, and the same customer name or
 *   contact person → exact (possible when one is an individual and the other not), or the same
 *   surname → possible. The masked key alone never matches: 10,000 numbers share it.
 * - household (R19, when the policy joins households): a row naming another (individual) customer
 *   as its household, or two rows naming the same household → exact.
 * Two different credit codes are two legal entities: every reason is then possible at most.
 */
export function compareIdentities(row: IdentityKeys, other: IdentityKeys, policy: MatchPolicy): Match | null {
  const bothIndividuals = row.customerType === 'individual' && other.customerType === 'individual';
  const bothOrganisations = row.customerType !== 'individual' && other.customerType !== 'individual';
  const codesDiffer =
    row.creditCode !== null && other.creditCode !== null && row.creditCode !== other.creditCode;
  // Plain statements, no closure: this runs once per candidate record. The reasons are checked in
  // the order of REASON_RANK, so the first exact one is the answer.
  if (row.creditCode !== null && row.creditCode === other.creditCode) {
    return { matchedOn: 'creditCode', strength: 'exact' };
  }
  let best: Match | null = null;

  if (bothOrganisations) {
    if (row.name === other.name) best = stronger(best, 'name', 'exact', codesDiffer);
    else {
      const similarity = similarName(row, other, policy.nameSimilarityThreshold);
      if (similarity !== null) best = stronger(best, 'name', 'possible', codesDiffer, similarity);
    }
    if (best?.strength === 'exact') return best;
  }

  if (policy.householdIsOneCustomer && sameHousehold(row, other)) {
    best = stronger(best, 'household', 'exact', codesDiffer);
    if (best.strength === 'exact') return best;
  }

  if (row.phone !== null && row.phone === other.phone) {
    const samePerson = bothOrganisations && row.person !== null && row.person === other.person;
    best = stronger(best, 'phone', bothIndividuals || samePerson ? 'exact' : 'possible', codesDiffer);
    if (best.strength === 'exact') return best;
  }

  if (row.email !== null && row.email === other.email) {
    best = stronger(best, 'email', bothIndividuals ? 'exact' : 'possible', codesDiffer);
    if (best.strength === 'exact') return best;
  }

  if (
    (row.phoneMasked || other.phoneMasked) &&
    row.maskedPhone !== null &&
    row.maskedPhone === other.maskedPhone
  ) {
    const sameType = bothIndividuals || bothOrganisations;
    if (row.name === other.name || (row.person !== null && row.person === other.person)) {
      best = stronger(best, 'maskedPhone', sameType ? 'exact' : 'possible', codesDiffer);
    } else if (row.surname !== null && row.surname === other.surname) {
      best = stronger(best, 'maskedPhone', 'possible', codesDiffer);
    }
  }
  return best;
}

/** The stronger of the best match so far and a new reason (capped at possible when credit codes differ). */
function stronger(
  best: Match | null,
  matchedOn: MatchedOn,
  strength: MatchStrength,
  codesDiffer: boolean,
  similarity?: number,
): Match {
  const capped = codesDiffer ? 'possible' : strength;
  const candidate: Match =
    similarity === undefined ? { matchedOn, strength: capped } : { matchedOn, strength: capped, similarity };
  return best === null || compareMatches(candidate, best) < 0 ? candidate : best;
}

/** Negative when `a` is the stronger match: exact first, then the more telling reason, then similarity. */
export function compareMatches(a: Match, b: Match): number {
  if (a.strength !== b.strength) return a.strength === 'exact' ? -1 : 1;
  const byReason = REASON_RANK[a.matchedOn] - REASON_RANK[b.matchedOn];
  if (byReason !== 0) return byReason;
  return (b.similarity ?? 1) - (a.similarity ?? 1);
}

/**
 * Name similarity of two organisations whose names are compared (see the nameBlocks layout) when it
 * reaches the threshold, else null. The same core with the region unknown on one side is 1.
 */
function similarName(a: IdentityKeys, b: IdentityKeys, threshold: number): number | null {
  if (a.nameBlocks.length <= CORE_BLOCK || b.nameBlocks.length <= CORE_BLOCK) return null;
  const sameCore = a.nameBlocks[CORE_BLOCK] === b.nameBlocks[CORE_BLOCK];
  if (a.nameBlocks[TRADE_BLOCK] !== b.nameBlocks[TRADE_BLOCK]) {
    return sameCore && (!hasRegion(a) || !hasRegion(b)) ? 1 : null;
  }
  if (sameCore) return 1;
  // Dice is at most 2·min/(|a|+|b|): names of very different lengths need no counting.
  const aSize = a.nameGrams.length;
  const bSize = b.nameGrams.length;
  if ((2 * Math.min(aSize, bSize)) / (aSize + bSize) < threshold) return null;
  const similarity = diceOfSets(a.nameGrams, b.nameGrams);
  return similarity >= threshold ? similarity : null;
}

/** Dice coefficient of two lists of distinct strings (identityKeys makes the grams distinct). */
function diceOfSets(a: readonly string[], b: readonly string[]): number {
  if (a.length === 0 || b.length === 0) return 0;
  let shared = 0;
  for (const gram of a) if (b.includes(gram)) shared++;
  return (2 * shared) / (a.length + b.length);
}

function sameHousehold(a: IdentityKeys, b: IdentityKeys): boolean {
  if (a.household !== null && a.household === b.household) return true;
  if (a.household !== null && b.customerType === 'individual' && a.household === b.name) return true;
  return b.household !== null && a.customerType === 'individual' && b.household === a.name;
}

function nameBlocksOf(key: string): string[] {
  const { region, core, branch } = splitCompanyKey(key);
  if (core === '') return [];
  const own = branch === '' ? core : `${core}#${branch}`;
  // A Latin-script trade name needs more than two letters to be distinctive.
  const tradeLength = /^[\u3400-\u9fff]/.test(core) ? 2 : 4;
  const blocks = [`t:${region}|${[...core].slice(0, tradeLength).join('')}`, `c:${own}`];
  if (region !== '') blocks.push(`r:${region}`);
  return blocks;
}

/** Bigrams of the name without its region: names are compared only within one region. */
function nameGramsOf(key: string): string[] {
  const { core, branch } = splitCompanyKey(key);
  return nameBigrams(branch === '' ? `|${core}` : `|${core}#${branch}`);
}

/**
 * Surname of a person, from the name key (simplified, no spaces): a compound surname (欧阳), else the
 * first character; for a Latin-script name, the last word as written.
 */
function surnameOf(personName: string, personKey: string): string | null {
  const { core } = splitCompanyKey(personKey);
  if (core === '') return null;
  if (!/[\u3400-\u9fff]/.test(core)) {
    const words = cleanCompanyName(personName).toLowerCase().split(' ');
    return words[words.length - 1] ?? null;
  }
  const chars = [...core];
  const two = chars.slice(0, 2).join('');
  return chars.length > 2 && COMPOUND_SURNAMES.has(two) ? two : (chars[0] as string);
}

/** A bucket holds one slot inline (most keys belong to one record) or several in an array. */
type Bucket = number | number[];

/**
 * An in-memory index of identity keys: add, remove, and look up the records a row matches. Used by
 * the legacy import (matching within a file) and by the benchmark. Lookups fetch only records that
 * share an index key with the row, then compare each with compareIdentities.
 */
export class MatchIndex<Id extends string = string> {
  // Records by slot, in parallel arrays (fewer objects to chase per candidate than one per record).
  private readonly ids: (Id | undefined)[] = [];
  private readonly keysOf: (IdentityKeys | undefined)[] = [];
  /** When each record was added; ties between equally strong matches go to the earlier record. */
  private readonly addedAt: number[] = [];
  private readonly slotOf = new Map<Id, number>();
  private readonly freeSlots: number[] = [];
  /** Buckets per kind of key (`cc:`, `nm:` …) and value: looking up a value needs no new string. */
  private readonly buckets = new Map<string, Map<string, Bucket>>();
  private added = 0;
  /** Per slot, the number of the last lookup that compared it: de-duplicates without a Set per lookup. */
  private visitedBy = new Uint32Array(1024);
  private lookups = 0;

  constructor(private readonly policy: MatchPolicy) {}

  get size(): number {
    return this.slotOf.size;
  }

  /** Adds a record (replacing one with the same id). */
  add(id: Id, keys: IdentityKeys): void {
    this.remove(id);
    const slot = this.freeSlots.pop() ?? this.ids.length;
    this.ids[slot] = id;
    this.keysOf[slot] = keys;
    this.addedAt[slot] = this.added++;
    this.slotOf.set(id, slot);
    if (slot >= this.visitedBy.length) {
      const grown = new Uint32Array(this.visitedBy.length * 2);
      grown.set(this.visitedBy);
      this.visitedBy = grown;
    }
    const pairs = indexPairs(keys);
    for (let i = 0; i < pairs.length; i += 2) {
      const kind = pairs[i] as string;
      const value = pairs[i + 1] as string;
      let byValue = this.buckets.get(kind);
      if (byValue === undefined) this.buckets.set(kind, (byValue = new Map()));
      const bucket = byValue.get(value);
      if (bucket === undefined) byValue.set(value, slot);
      else if (typeof bucket === 'number') {
        if (bucket !== slot) byValue.set(value, [bucket, slot]);
      } else if (bucket[bucket.length - 1] !== slot) bucket.push(slot);
    }
  }

  /** Removes a record; false when it was not there. */
  remove(id: Id): boolean {
    const slot = this.slotOf.get(id);
    if (slot === undefined) return false;
    const pairs = indexPairs(this.keysOf[slot] as IdentityKeys);
    for (let i = 0; i < pairs.length; i += 2) {
      const byValue = this.buckets.get(pairs[i] as string);
      const value = pairs[i + 1] as string;
      const bucket = byValue?.get(value);
      if (byValue === undefined || bucket === undefined) continue;
      if (typeof bucket === 'number') {
        if (bucket === slot) byValue.delete(value);
        continue;
      }
      const at = bucket.indexOf(slot);
      if (at >= 0) bucket.splice(at, 1);
      if (bucket.length === 1) byValue.set(value, bucket[0] as number);
    }
    this.ids[slot] = undefined;
    this.keysOf[slot] = undefined;
    this.slotOf.delete(id);
    this.freeSlots.push(slot);
    return true;
  }

  /** The records a row matches, best first (then in the order they were added). */
  lookup(keys: IdentityKeys): { id: Id; match: Match }[] {
    this.lookups++;
    if (this.lookups === 0xffffffff) {
      // The marks would wrap around: start them afresh.
      this.visitedBy.fill(0);
      this.lookups = 1;
    }
    const found: Hit<Id>[] = [];
    const pairs = lookupPairs(keys, this.policy.householdIsOneCustomer);
    for (let i = 0; i < pairs.length; i += 2) {
      const bucket = this.buckets.get(pairs[i] as string)?.get(pairs[i + 1] as string);
      if (bucket === undefined) continue;
      if (typeof bucket === 'number') this.compareWith(keys, bucket, found);
      else for (const slot of bucket) this.compareWith(keys, slot, found);
    }
    if (found.length > 1) found.sort((a, b) => compareMatches(a.match, b.match) || a.addedAt - b.addedAt);
    return found.map(({ id, match }) => ({ id, match }));
  }

  private compareWith(keys: IdentityKeys, slot: number, found: Hit<Id>[]): void {
    if (this.visitedBy[slot] === this.lookups) return;
    this.visitedBy[slot] = this.lookups;
    const match = compareIdentities(keys, this.keysOf[slot] as IdentityKeys, this.policy);
    if (match !== null)
      found.push({ id: this.ids[slot] as Id, match, addedAt: this.addedAt[slot] as number });
  }
}

interface Hit<Id> {
  id: Id;
  match: Match;
  addedAt: number;
}
