/**
 * The store port: the few operations the services need, nothing an adapter has to fake. Every
 * change happens inside `write`, which runs transactions one at a time (so one customer is never
 * granted twice) and resolves only once the change is durable. Adapters: lowdb (one JSON file),
 * PostgreSQL. Records cross this port in clear; adapters seal personal data at rest. Files kept
 * with an import (its report, the annotated workbook) live in the file vault (fileVault.ts), not here.
 */
import { z } from 'zod';
import {
  identityKeysSchema,
  roleSchema,
  type Day,
  type IdentityKeys,
  type Instant,
  type RecordStatus,
  type Role,
  type StoredRecord,
} from '../../core/schema.js';
import type { Policy } from '../../core/policy.js';
import { DomainError, problem } from '../../core/problem.js';

export { ROLES, roleSchema, type Role } from '../../core/schema.js';

/** Sealed into every store at creation and opened at start: a wrong key is refused before any record is read. */
export const KEY_CHECK = 'baobei-key-check';
/** Notifications kept per store; older ones are dropped (they are derived from records). */
export const MAX_NOTIFICATIONS = 50_000;

export const userSchema = z.object({
  id: z.string(),
  name: z.string().min(1).max(50),
  role: roleSchema,
  team: z.string().min(1).max(50).optional(),
  /** SHA-256 of the bearer token; the token itself is shown once and never stored. */
  tokenHash: z.string(),
  createdAt: z.string(),
  disabled: z.boolean().optional(),
});
export type User = z.infer<typeof userSchema>;

/** R27: a registrant barred from a customer until a day, found by the customer's hashed identity. */
export const banSchema = z.object({
  registrant: z.string(),
  identity: identityKeysSchema,
  until: z.string(),
  recordNo: z.string(),
  at: z.string(),
});
export type Ban = z.infer<typeof banSchema>;

export const NOTIFICATION_TYPES = [
  'decision',
  'competitor.decided',
  'queue.promoted',
  'protection.ended',
  'extension.requested',
  'extension.decided',
  'objection.filed',
  'transfer',
  /** A registration's fields were changed by a reviewer, or its customer by the holder (issue 15). */
  'changed',
  /** A corrected rejected registration was resubmitted for review (R13). */
  'resubmitted',
  // Service and the pool (issue 13), written by the sweep and the registration pipeline. The same
  // names are reminder types of server/notify/notifyEvent.ts (a repeated name in a zod enum is one).
  /** A visit or call is due today or tomorrow (R31, R42); details.dueBy. */
  'followUp.due',
  /** A due visit or call was missed (R42; under R31 the record lapses instead); details.dueBy. */
  'followUp.overdue',
  /** The record lapses within three days and its customer returns to the pool (T−3); details.lapsesOn. */
  'pool.lapsing',
  /** The record lapsed (R31/R32) and its customer is in the pool (R44); details.rule, mayClaimFrom. */
  'pool.lapsed',
  /** Someone registered the pooled customer of this lapsed record (R44); details.claimedNo. */
  'pool.claimed',
] as const;
export const notificationSchema = z.object({
  id: z.string(),
  /** Recipient: a registrant by name, or the reviewers of a team (all reviewers when team is absent). */
  to: z.union([z.object({ name: z.string() }), z.object({ reviewersOf: z.string().nullable() })]),
  type: z.enum(NOTIFICATION_TYPES),
  recordNo: z.string(),
  at: z.string(),
  /** Machine data (status, dates, codes); never customer personal data. */
  details: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])),
});
export type Notification = z.infer<typeof notificationSchema>;

export const idempotencyEntrySchema = z.object({
  userId: z.string(),
  key: z.string(),
  bodyHash: z.string(),
  at: z.string(),
  /** The first response, replayed for the same key and body. */
  response: z.object({ status: z.number().int(), body: z.unknown() }),
});
export type IdempotencyEntry = z.infer<typeof idempotencyEntrySchema>;

export const auditEntrySchema = z.object({
  at: z.string(),
  actor: z.string(),
  actorRole: z.string(),
  action: z.string(),
  /** Registration numbers read or changed. */
  records: z.array(z.string()),
  requestId: z.string().optional(),
  details: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])).optional(),
});
export type AuditEntry = z.infer<typeof auditEntrySchema>;

/**
 * Small documents kept beside the records, in named collections: the working-day schedules
 * administrators enter, the notification outbox, linked Google sheets, per-user read state…
 * Features add collections without adding operations to every adapter. Values are JSON, sealed
 * at rest like records (they may name customers); keys stay in clear for ordering and must never
 * hold personal data (years, ids, registration numbers, instants).
 */
export const DOC_COLLECTION_PATTERN = /^[a-z][a-z0-9-]{0,39}$/;
/** Longest document key, in UTF-16 code units. */
export const MAX_DOC_KEY_LENGTH = 200;

export interface DocEntry {
  key: string;
  value: unknown;
}

/** Which documents of a collection; keys compare by code units (the "C" collation). */
export interface DocRange {
  /** Keys ≥ from. */
  from?: string;
  /** Keys < to. */
  to?: string;
  /** Keys starting with this. */
  prefix?: string;
  limit?: number;
}

/** Throws unless the collection name and key are ones every adapter can keep. */
export function checkDocAddress(collection: string, key?: string): void {
  if (!DOC_COLLECTION_PATTERN.test(collection)) throw new Error(`bad document collection "${collection}"`);
  if (key !== undefined && (key.length === 0 || key.length > MAX_DOC_KEY_LENGTH || key.includes('\u0000'))) {
    throw new Error(`bad document key in "${collection}"`);
  }
}

/** Whether a key falls in a range (the adapters without SQL filter with this). */
export function keyInRange(key: string, range: DocRange): boolean {
  if (range.from !== undefined && key < range.from) return false;
  if (range.to !== undefined && key >= range.to) return false;
  if (range.prefix !== undefined && !key.startsWith(range.prefix)) return false;
  return true;
}

export interface RecordQuery {
  /** Today, for effective statuses (a protected record past its last day reads as expired). */
  today: Day;
  statuses?: RecordStatus[];
  /** Who may be seen (R34): records of these registrants (or shared with them) or of these teams; absent = all. */
  scope?: { registrants?: string[]; teams?: string[] };
  /** Only this registrant's records (or those shared with them). */
  registrant?: string;
  /** Only these registration numbers (a client refreshing the rows it holds). */
  nos?: string[];
  /** Substring of the customer name (search over decrypted names; never stored in clear). */
  q?: string;
  /** Protected records whose last day falls within [today, today + n]. */
  expiringWithinDays?: number;
  /** Received within [from, to] (Shanghai days, inclusive). */
  receivedBetween?: { from: Day; to: Day };
  /**
   * Only records whose objection waits for a reviewer's decision (true), or only the others (false):
   * R12, core awaitsObjectionDecision. Kept in clear, so no record is opened to answer it.
   */
  objectionOpen?: boolean;
  /**
   * Only rejected records whose last day to object (R12) is this day or later: the objection
   * windows still open. Kept in clear on rejected records, so no record is opened to answer it.
   */
  objectionDeadlineFrom?: Day;
  limit: number;
  offset: number;
}

/** A store's position in its record writes (ReadTx.writeMark), opaque to callers. */
export type WriteMark = string & { readonly __writeMark: unique symbol };

/** A query for every record it matches (no page bounds; the name search is not offered). */
export type RecordScan = Omit<RecordQuery, 'limit' | 'offset' | 'q'>;

/** What a record keeps in clear beside its sealed body and a look-up can filter on before opening it. */
export interface RecordClearFields {
  no: string;
  status: RecordStatus;
  protectedUntil?: Day | undefined;
  /** Who claims the customer, their team and the claim's instant: what a conflict shows of another's record. */
  registrant: string;
  team?: string | undefined;
  claimedAt: Instant;
}

export interface ReadTx {
  getRecord(no: string): Promise<StoredRecord | undefined>;
  /**
   * Records carrying any of these hashed index keys (matching candidates). `accept` sees each
   * candidate's clear identity first, so records that do not match are never decrypted. An adapter
   * may also hand it the record's clear fields (status and end of protection, kept beside the seal),
   * so a caller can leave out records it would drop anyway, or take what it needs of them from the
   * clear fields and leave them unopened; without them `accept` must keep what the clear fields
   * would decide. The records come back in the order `accept` accepted them.
   */
  findRecordsByKeys(
    keys: readonly string[],
    accept?: (identity: IdentityKeys, clear?: RecordClearFields) => boolean,
  ): Promise<StoredRecord[]>;
  listRecords(query: RecordQuery): Promise<{ items: StoredRecord[]; total: number }>;
  /**
   * Every record the query matches, newest first (as listRecords), `pageSize` opened at a time. The
   * adapter keeps its place itself: paging by offset filtered and sorted the whole store again for
   * each page on the embedded store (and counted it on PostgreSQL), so reading years of records cost
   * the square of their number. services/recordPages.ts is the way services read it.
   */
  scanRecords(query: RecordScan, pageSize: number): AsyncIterable<StoredRecord[]>;
  /**
   * The number of every stored record, in code-unit order, none opened: a pass over all records
   * (identityRekey.ts) pages through them with `listRecords({ nos })` rather than by offset, which
   * sorts the whole store for every page on the embedded store.
   */
  recordNumbers(): Promise<string[]>;
  /** Counts per registrant and effective status (R41), without opening any record. */
  countRecords(
    query: RecordScan,
  ): Promise<{ registrant: string; team?: string; status: RecordStatus; count: number }[]>;
  /** Records whose stored status is one of these and whose `protectedUntil` is before `day`. */
  recordsEndingBefore(day: Day, statuses: readonly RecordStatus[]): Promise<StoredRecord[]>;
  /** Active records for the follow-up sweep (R31). */
  recordsWithStatus(statuses: readonly RecordStatus[]): Promise<StoredRecord[]>;
  /**
   * Where the store's record writes stand as this read sees them, for `recordsWrittenSince`. Taken
   * before the reads it is to follow, a later `recordsWrittenSince(mark)` returns every record those
   * reads could not have seen. Opaque; meaningful only to the store that gave it.
   */
  writeMark(): Promise<WriteMark>;
  /**
   * Every record written (put) after `mark` was taken, as it stands now: a write that had not
   * committed when the mark was taken counts as after it. May return more (records written around
   * the mark), never fewer. Undefined when the store can no longer tell (a mark from before the
   * store was opened, or older than what it keeps): the caller reads what it needs in full.
   */
  recordsWrittenSince(mark: WriteMark): Promise<StoredRecord[] | undefined>;
  /** Bans of a registrant, in force on `today`, whose customer shares an index key with `keys`. */
  findBans(keys: readonly string[], registrant: string, today: Day): Promise<Ban[]>;
  /**
   * Optional hint: the index keys the next rows will pass to findRecordsByKeys and findBans, given
   * after the write's locks are taken (a batch's keys once; an import's a chunk of rows at a time,
   * each call replacing the last). An adapter that pays a round trip per look-up (PostgreSQL)
   * fetches them all at once and answers later look-ups of these keys from that, with the
   * transaction's own changes; answers are those of a look-up run at this moment (see
   * postgresStore.ts for why that is safe in a keyed write). Adapters in memory leave it out.
   */
  prefetchKeys?(keys: readonly string[]): Promise<void>;
  /**
   * Optional hint, as prefetchKeys: the registration numbers the next rows will pass to getRecord (a
   * history import's 报备编号, a chunk of rows at a time, each call replacing the last). An adapter
   * that pays a round trip per read fetches them at once, those not in the store included, and
   * answers getRecord of these numbers from that, with the transaction's own changes. Writes call it
   * only when exclusive (the import), so nothing else changes those records meanwhile; a read (the
   * Sheets sync, the records of a tab's registered rows) gets them as of that one query, as a read of
   * each at that moment would.
   */
  prefetchRecordsByNo?(nos: readonly string[]): Promise<void>;
  /**
   * Optional: what getRecord answers for each of these numbers, now, in one round trip where the
   * store pays one per read (PostgreSQL), with the transaction's own changes. Keeps nothing after
   * (unlike prefetchRecordsByNo), so any read or write may call it, a keyed write too: the answers
   * are those of a getRecord per number at this moment. Numbers not in the store are left out.
   * Adapters in memory leave it out (splitPartnersOf then reads one at a time).
   */
  getRecordsByNo?(nos: readonly string[]): Promise<Map<string, StoredRecord>>;
  getUserByTokenHash(tokenHash: string): Promise<User | undefined>;
  getUserByName(name: string): Promise<User | undefined>;
  listUsers(): Promise<User[]>;
  getPolicy(): Promise<Policy | undefined>;
  listNotifications(
    forUser: { name: string; role: Role; team?: string },
    limit: number,
  ): Promise<Notification[]>;
  getIdempotency(userId: string, key: string): Promise<IdempotencyEntry | undefined>;
  getDoc(collection: string, key: string): Promise<unknown>;
  /** Documents of a collection in key order, within the range. */
  listDocs(collection: string, range?: DocRange): Promise<DocEntry[]>;
}

export interface WriteTx extends ReadTx {
  putRecord(record: StoredRecord): Promise<void>;
  /**
   * Next number for the year: `BB-2026-000123` (R7). `upTo`, a hint: at most this many numbers of
   * the year will be asked of this transaction from this one on (a batch's rows still to decide);
   * a store that pays a round trip per block of numbers (PostgreSQL) takes them in one.
   */
  nextRegistrationNo(year: number, upTo?: number): Promise<string>;
  putUser(user: User): Promise<void>;
  putPolicy(policy: Policy): Promise<void>;
  addBan(ban: Ban): Promise<void>;
  addNotifications(notifications: Notification[]): Promise<void>;
  putIdempotency(entry: IdempotencyEntry): Promise<void>;
  /** Removes idempotency entries older than the instant (kept 24 h). */
  pruneIdempotency(olderThan: Instant): Promise<void>;
  putDoc(collection: string, key: string, value: unknown): Promise<void>;
  /**
   * Adds a document unless its key exists (committed, or put earlier in this transaction); false
   * when it did. A key claimed this way is claimed once, across instances: a dedupe key.
   */
  insertDoc(collection: string, key: string, value: unknown): Promise<boolean>;
  deleteDoc(collection: string, key: string): Promise<void>;
  /**
   * `listDocs` that also holds the documents returned until this transaction ends; documents
   * another instance's transaction holds are skipped, not waited for (SKIP LOCKED). Workers that
   * share a queue claim disjoint entries this way.
   */
  claimDocs(collection: string, range?: DocRange): Promise<DocEntry[]>;
  /**
   * `getDoc` of several keys (those that exist), each also held until this transaction ends:
   * another write holding one waits, then reads what this one committed. Taken in one statement,
   * in key order, so two writes holding overlapping sets wait for each other in one direction only.
   * Keyed writes of customers that share no lock key can still meet on one document (a pool entry
   * both match, R44); this orders them.
   */
  holdDocs(collection: string, keys: readonly string[]): Promise<Map<string, unknown>>;
}

/**
 * How much of the store a write must have to itself. Without `keys` a write is exclusive: no other
 * write runs beside it. With `keys` (core/customerLocks.ts: the exact identity keys of the customers
 * it registers) it runs beside writes holding other keys, and waits for those holding one of its
 * own and for every exclusive write. An adapter that runs writes one at a time may ignore both.
 */
export interface WriteOptions {
  /** Lock keys of everything fn reads or changes that another keyed write could change too. */
  keys?: readonly string[];
  /**
   * Those of `keys` held SHARED (core/customerLocks.ts sharedLockKeys): two writes holding a key
   * shared run together; one holding it shared and one exclusive do not.
   */
  sharedKeys?: readonly string[];
  /**
   * A key taken without waiting before fn runs: when another write holds it, the write throws
   * ClaimHeldError instead (an idempotency key whose first request is still running, on any instance).
   */
  claim?: string;
}

/** Thrown by a write whose `claim` another running write holds. */
export class ClaimHeldError extends Error {
  constructor() {
    super('the claim is held by another running write');
    this.name = 'ClaimHeldError';
  }
}

export interface Store {
  readonly kind: 'lowdb' | 'postgres';
  /**
   * True when the adapter runs keyed writes of disjoint keys together (WriteOptions); callers then
   * work the keys out. Absent: writes run one at a time and keys would be computed for nothing.
   */
  readonly keyedWrites?: boolean;
  read<T>(fn: (tx: ReadTx) => Promise<T>): Promise<T>;
  /**
   * All of fn's changes commit together or not at all. Serialised with every other write, except
   * keyed writes (`options.keys`) on an adapter that runs writes of disjoint keys together.
   */
  write<T>(fn: (tx: WriteTx) => Promise<T>, options?: WriteOptions): Promise<T>;
  /** Like `write`, but every change is discarded: a dry run sees exactly what a write would (R3). */
  simulate<T>(fn: (tx: WriteTx) => Promise<T>, options?: WriteOptions): Promise<T>;
  /** Append-only audit trail (R36); kept apart from the records so reads never rewrite them. */
  appendAudit(entries: readonly AuditEntry[]): Promise<void>;
  listAudit(query: {
    actor?: string;
    record?: string;
    since?: Instant;
    limit: number;
    offset: number;
  }): Promise<{ items: AuditEntry[]; total: number }>;
  close(): Promise<void>;
  /**
   * Everything the store holds, records opened, as of one moment (store copy and backups,
   * storeTransfer.ts): lowdb snapshots its data between two commits, PostgreSQL reads in one
   * REPEATABLE READ transaction. Held in memory whole.
   */
  dump(): Promise<StoreDump>;
  /** Loads a dump into an empty store, all of it in one commit; refuses a store that holds anything. */
  load(dump: StoreDump): Promise<void>;
  /**
   * What an operator should act on about the store itself (say, the embedded store grown past what
   * it should carry); shown at start-up and in /api/health. Optional: an adapter with none omits it.
   */
  healthWarnings?(): StoreWarning[];
}

/** The content of a store, in clear, adapter-independent (records are re-sealed by the adapter that loads them). */
export interface StoreDump {
  records: StoredRecord[];
  /** Last registration number taken, per year. */
  counters: Record<string, number>;
  users: User[];
  policy: Policy | null;
  bans: Ban[];
  /** Oldest first. */
  notifications: Notification[];
  idempotency: IdempotencyEntry[];
  /** Every document of every collection (calendars, read state, outbox, pool, destructions…). */
  docs: { collection: string; key: string; value: unknown }[];
  /** Oldest first. */
  audit: AuditEntry[];
}

/** Whether a store holds nothing a copy or restore could overwrite. */
export function dumpIsEmpty(dump: StoreDump): boolean {
  return (
    dump.records.length === 0 &&
    Object.keys(dump.counters).length === 0 &&
    dump.users.length === 0 &&
    dump.policy === null &&
    dump.bans.length === 0 &&
    dump.notifications.length === 0 &&
    dump.idempotency.length === 0 &&
    dump.docs.length === 0 &&
    dump.audit.length === 0
  );
}

export function storeNotEmpty(kind: string): DomainError {
  return new DomainError(
    problem(
      'store.not_empty',
      `目标存储（${kind}）已有数据，拒绝覆盖；确认要合并覆盖时加 --force`,
      `The target store (${kind}) already holds data; refusing to overwrite it (add --force to allow it)`,
    ),
  );
}

/** A health warning from the store: a problem (code, zh, en) with figures, never personal data. */
export interface StoreWarning {
  code: string;
  message: string;
  messageEn: string;
  details?: Record<string, unknown>;
}
