/**
 * The embedded store: lowdb over a snapshot (one JSON file, written durably: temp, fsync, rename,
 * fsync dir) plus an append-only journal of sealed changes (journal.ts). A commit appends what it
 * changed to the journal and fsyncs it, so its cost follows the change, not the store; the journal
 * is folded into the snapshot (compaction) once it is as big as the snapshot, off the commit path,
 * and replayed on top of the snapshot at start-up. Write transactions run one at a time against an
 * overlay and are applied only when they succeed; transactions that finish while a journal write
 * is in progress are grouped into the next one (group commit), and each resolves once the write
 * holding it is on disk. One file, over 600 lines: the store, its transaction and its file format
 * are one concept, split only where a piece stands alone (journal, durable file, codec, lock).
 */
import { appendFile, mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Low } from 'lowdb';
import { z } from 'zod';
import { indexKeys, indexPairs } from '../../core/matching.js';
import { effectiveStatus, partnerHasLeft, SHARING_STATUSES } from '../../core/lifecycle.js';
import { addDays, dayOf } from '../../core/day.js';
import { policySchema, type Policy } from '../../core/policy.js';
import {
  type Day,
  type IdentityKeys,
  type Instant,
  type RecordStatus,
  type StoredRecord,
} from '../../core/schema.js';
import { DomainError, problem } from '../../core/problem.js';
import type { Keyring } from '../security/keyring.js';
import { cooperativeLoop, type Pause } from '../services/cooperativeLoop.js';
import { corruptFile, DurableJSONFile, writeFileDurably } from './durableFile.js';
import { distinctNumbers } from './distinctNumbers.js';
import { dropTornTail, JournalWriter, readJournal, syncDir, type EntryBuilder } from './journal.js';
import { lockDataDir, type DataDirLock } from './dataDirLock.js';
import {
  clearObjectionFields,
  clearShareFields,
  openRecord,
  sealedRecordSchema,
  sealRecord,
  type SealedRecord,
} from './recordCodec.js';
import {
  auditEntrySchema,
  banSchema,
  notificationSchema,
  userSchema,
  type AuditEntry,
  type Ban,
  type DocEntry,
  type DocRange,
  type IdempotencyEntry,
  type Notification,
  type ReadTx,
  type RecordClearFields,
  type RecordQuery,
  type RecordScan,
  type Role,
  type Store,
  type StoreDump,
  type StoreWarning,
  type User,
  type WriteMark,
  type WriteTx,
  KEY_CHECK,
  MAX_NOTIFICATIONS,
  checkDocAddress,
  keyInRange,
  storeNotEmpty,
} from './store.js';

const sealedIdempotencySchema = z.object({
  userId: z.string(),
  key: z.string(),
  bodyHash: z.string(),
  at: z.string(),
  sealed: z.string(),
});
const sealedImportSchema = z.object({
  id: z.string(),
  owner: z.string(),
  createdAt: z.string(),
  mode: z.enum(['submit', 'history']),
  dryRun: z.boolean(),
  sealed: z.string(),
});

/** The file's shape; checked at start so a damaged file is refused rather than half-read. */
const fileSchema = z.object({
  format: z.literal('baobei-lowdb'),
  version: z.literal(1),
  keyCheck: z.string(),
  counters: z.record(z.string(), z.number().int()),
  records: z.record(z.string(), sealedRecordSchema),
  users: z.array(userSchema),
  policy: policySchema.nullable(),
  bans: z.array(banSchema),
  notifications: z.array(notificationSchema),
  idempotency: z.record(z.string(), sealedIdempotencySchema),
  /** Import reports of versions before the file vault (fileVault.ts); dropped when the file is opened. */
  imports: z.record(z.string(), sealedImportSchema).optional(),
  /** Documents by collection and key, each value sealed (files written before documents existed have none). */
  docs: z.record(z.string(), z.record(z.string(), z.string())).default({}),
  /** The last journal change this snapshot holds; replay skips up to it (0 in files before the journal). */
  journalSeq: z.number().int().min(0).default(0),
});
type FileData = z.infer<typeof fileSchema>;

/** One committed transaction as the journal keeps it: only sealed or clear-by-design fields (R35). */
const changeSchema = z.object({
  seq: z.number().int().positive(),
  records: z.array(sealedRecordSchema),
  users: z.array(userSchema),
  policy: policySchema.optional(),
  bans: z.array(banSchema),
  notifications: z.array(notificationSchema),
  pruneBefore: z.string().optional(),
  idempotency: z.array(sealedIdempotencySchema),
  counters: z.record(z.string(), z.number().int()),
  docs: z.array(z.object({ collection: z.string(), key: z.string(), sealed: z.string().nullable() })),
});
type Change = z.infer<typeof changeSchema>;
/** A journal line: the changes of one group commit, each with its own sequence number. */
const journalEntrySchema = z.object({ changes: z.array(changeSchema) });

/**
 * Record writes the store remembers for recordsWrittenSince. A sweep asks every minute, so a log of
 * this many (a day's writes of a busy store several times over, a few MB) answers it; a mark older
 * than what is kept is answered "cannot tell" and its caller reads in full.
 */
const WRITE_LOG_LIMIT = 200_000;

/** The journal is compacted once it reaches the snapshot's size, and never below this. */
const MIN_COMPACT_BYTES = 16 * 1024 * 1024;

export interface LowdbStoreOptions {
  dataDir: string;
  keyring: Keyring;
  /** Who opens the store, written into the lock file (`serve`, `import`, …). */
  purpose?: string;
  /** Records from which `healthWarnings` advises PostgreSQL (BAOBEI_LOWDB_WARN_RECORDS). */
  warnRecords?: number;
  /** Journal bytes that trigger a compaction (default: the snapshot's size, at least 16 MiB). */
  compactBytes?: number;
  /** Record writes remembered for recordsWrittenSince (default WRITE_LOG_LIMIT). */
  writeLogEntries?: number;
}

export class LowdbStore implements Store {
  readonly kind = 'lowdb' as const;
  readonly file: string;
  private readonly auditFile: string;
  private readonly keyring: Keyring;
  private readonly lock: DataDirLock;
  private readonly db: Low<FileData>;
  /**
   * Identity key → record number(s), so a conflict check looks up its keys instead of scanning:
   * one Map per kind of key (`cc:`, `nm:` … as core's indexPairs gives them), keyed by the value,
   * which is the string the record's identity holds already. Keyed by the joined key (`nm:…`), the
   * index made a string per key, 7 per record: 7,000 more survivors per 1,000-row commit for the
   * collector to copy, and 216 MiB more heap at 1M records. Most keys name one record: kept
   * as the bare string, a Set only once a second record shares the key (a Set per key was most of
   * the index's memory and start-up GC at 1M records).
   */
  private readonly keyIndex = new Map<string, Map<string, string | Set<string>>>();
  private readonly journalFile: string;
  /** The previous journal while a compaction writes the snapshot that replaces it. */
  private readonly oldJournalFile: string;
  private journal!: JournalWriter;
  /** Sequence number of the last change applied in memory. */
  private seq = 0;
  /** Journal lines of applied changes not yet on disk. */
  private pending: Change[] = [];
  private snapshotBytes = 0;
  private compacting: Promise<void> | undefined;
  private recordCount = 0;
  /**
   * The records each change since the store was opened put, in order: change sequence numbers and
   * record numbers side by side (recordsWrittenSince). Its older half is dropped past
   * WRITE_LOG_LIMIT entries; `writeLogFrom` is the last change no longer in it.
   */
  private writeLog: { seqs: number[]; nos: string[] } = { seqs: [], nos: [] };
  private writeLogFrom = 0;
  /** Opened documents (their JSON text) by collection and key, kept current by writes. */
  private readonly docText = new Map<string, string>();
  /** Decrypted customer names for `q` search, filled on first use and kept current by writes. */
  private nameCache: Map<string, string> | undefined;
  private writeQueue: Promise<unknown> = Promise.resolve();
  private flushing: Promise<void> | undefined;
  private dirty = false;
  private failure: Error | undefined;
  private auditQueue: Promise<void> = Promise.resolve();
  private closed = false;

  private constructor(
    private readonly options: LowdbStoreOptions,
    lock: DataDirLock,
    db: Low<FileData>,
    file: string,
  ) {
    this.file = file;
    this.auditFile = path.join(options.dataDir, 'audit.jsonl');
    this.journalFile = path.join(options.dataDir, 'baobei.journal');
    this.oldJournalFile = path.join(options.dataDir, 'baobei.journal.compacting');
    this.keyring = options.keyring;
    this.lock = lock;
    this.db = db;
    this.seq = db.data.journalSeq;
    // One pass: counting while indexing, not a second array of every key.
    for (const no in db.data.records) {
      this.indexRecord(db.data.records[no]!);
      this.recordCount++;
    }
  }

  static async open(options: LowdbStoreOptions): Promise<LowdbStore> {
    await mkdir(options.dataDir, { recursive: true, mode: 0o700 });
    const lock = lockDataDir(options.dataDir, options.purpose ?? 'store');
    try {
      const file = path.join(options.dataDir, 'baobei.json');
      // The store exists only after the read; the adapter reports snapshot sizes to it from then on.
      const opened: { store?: LowdbStore } = {};
      const adapter = new DurableJSONFile<FileData>(
        file,
        (data) =>
          snapshotChunks(data, (bytes) => {
            if (opened.store) opened.store.snapshotBytes = bytes;
          }),
        // Checked against fileSchema right after the read.
        (bytes) => parseSnapshot(bytes) as FileData,
      );
      const db = new Low<FileData>(adapter, emptyFile(options.keyring));
      const raw = await adapter.read();
      if (raw === null) {
        await db.write();
      } else {
        const parsed = fileSchema.safeParse(raw);
        if (!parsed.success) {
          const issue = parsed.error.issues[0];
          throw corruptFile(file, `${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`);
        }
        db.data = parsed.data;
        // Reports kept here by earlier versions grew every write; they are derived and now expire anyway.
        delete db.data.imports;
        // Throws store.key_mismatch when BAOBEI_KEY / the key file is not the one that wrote the data.
        if (options.keyring.open(db.data.keyCheck) !== KEY_CHECK) throw corruptFile(file, 'key check value');
      }
      const store = new LowdbStore(options, lock, db, file);
      opened.store = store;
      store.snapshotBytes = (await stat(file)).size;
      await store.replayJournals();
      await store.upgradeOlderRecords();
      store.writeLog = { seqs: [], nos: [] };
      store.writeLogFrom = store.seq;
      return store;
    } catch (err) {
      lock.release();
      throw err;
    }
  }

  read<T>(fn: (tx: ReadTx) => Promise<T>): Promise<T> {
    this.assertOpen();
    return fn(new LowdbTx(this, this.db.data, false));
  }

  write<T>(fn: (tx: WriteTx) => Promise<T>): Promise<T> {
    this.assertOpen();
    const run = async (): Promise<{ value: T; durable: Promise<void> }> => {
      if (this.failure) throw storeFailed(this.failure);
      const tx = new LowdbTx(this, this.db.data, true);
      const value = await fn(tx);
      if (!tx.hasChanges()) return { value, durable: Promise.resolve() };
      const change = tx.toChange(this.seq + 1);
      this.applyChange(change, tx.stagedRecords);
      this.pending.push(change);
      return { value, durable: this.scheduleFlush() };
    };
    // The queue serialises transactions; durability is awaited outside it so that transactions
    // arriving during a file write are applied meanwhile and share the next write.
    const turn = this.writeQueue.then(run);
    this.writeQueue = turn.catch(() => undefined);
    return turn.then(async ({ value, durable }) => {
      await durable;
      return value;
    });
  }

  simulate<T>(fn: (tx: WriteTx) => Promise<T>): Promise<T> {
    this.assertOpen();
    // Queued like a write so it sees a state no concurrent write is halfway through.
    const turn = this.writeQueue.then(() => fn(new LowdbTx(this, this.db.data, true, true)));
    this.writeQueue = turn.catch(() => undefined);
    return turn;
  }

  async appendAudit(entries: readonly AuditEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const text = entries.map((e) => JSON.stringify(e)).join('\n') + '\n';
    const next = this.auditQueue.then(() => appendFile(this.auditFile, text, { mode: 0o600 }));
    this.auditQueue = next.catch(() => undefined);
    return next;
  }

  async listAudit(query: {
    actor?: string;
    record?: string;
    since?: Instant;
    limit: number;
    offset: number;
  }): Promise<{ items: AuditEntry[]; total: number }> {
    await this.auditQueue;
    if (!existsSync(this.auditFile)) return { items: [], total: 0 };
    const lines = (await readFile(this.auditFile, 'utf8')).split('\n');
    const matching: AuditEntry[] = [];
    for (const line of lines) {
      if (line === '') continue;
      const entry = auditEntrySchema.parse(JSON.parse(line));
      if (query.actor !== undefined && entry.actor !== query.actor) continue;
      if (query.record !== undefined && !entry.records.includes(query.record)) continue;
      if (query.since !== undefined && entry.at < query.since) continue;
      matching.push(entry);
    }
    matching.reverse();
    return { items: matching.slice(query.offset, query.offset + query.limit), total: matching.length };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.writeQueue;
    await this.flushing;
    await this.compacting;
    await this.auditQueue;
    // Folding the journal in now makes the next start-up a snapshot read only.
    if (!this.failure && this.journal.bytes > 0) await this.compact().catch(() => undefined);
    this.closed = true;
    this.lock.release();
  }

  /** What an operator should know about the store's size: the embedded store is not for every size. */
  healthWarnings(): StoreWarning[] {
    const limit = this.options.warnRecords;
    if (limit === undefined || this.recordCount < limit) return [];
    return [
      {
        code: 'store.lowdb_too_large',
        message: `内置存储已有 ${this.recordCount} 条登记（BAOBEI_LOWDB_WARN_RECORDS=${limit}）；启动和压缩时间随数据量增长，请迁移到 PostgreSQL（BAOBEI_STORE=postgres，见 docs/operations.md）`,
        messageEn: `The embedded store holds ${this.recordCount} records (BAOBEI_LOWDB_WARN_RECORDS=${limit}); start-up and compaction grow with it: move to PostgreSQL (BAOBEI_STORE=postgres, see docs/operations.md)`,
        details: { records: this.recordCount, warnRecords: limit },
      },
    ];
  }

  /** The snapshot, then the journal(s) on top of it; a torn last entry is cut off, other damage refused. */
  private async replayJournals(): Promise<void> {
    const leftOver = existsSync(this.oldJournalFile);
    for (const [file, last] of [
      [this.oldJournalFile, false],
      [this.journalFile, true],
    ] as const) {
      const content = await readJournal(file, last);
      if (content === null) continue;
      let n = 0;
      for (const raw of content.entries) {
        n++;
        const parsed = journalEntrySchema.safeParse(raw);
        if (!parsed.success)
          throw corruptFile(file, `entry ${n}: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
        for (const change of parsed.data.changes) {
          if (change.seq <= this.seq) continue;
          if (change.seq !== this.seq + 1)
            throw corruptFile(file, `entry ${n}: change ${change.seq} after ${this.seq}`);
          this.applyChange(change, undefined);
        }
      }
      if (content.tornBytes > 0) await dropTornTail(file, content.validBytes);
    }
    this.journal = await JournalWriter.create(this.journalFile);
    // A compaction was cut short: finish it before the next one would need the name.
    if (leftOver) await this.compact();
  }

  /**
   * Records sealed by earlier versions get, once, what later ones keep in clear: the objection flag
   * and deadline (a rejected record is opened to see its objection, any other cannot be waiting
   * for an objection decision), and a share's partner record number beside the partner's name (the
   * record is opened for it), without which a survivor would stay on its former partner's list
   * until rewritten. Files of earlier versions and journal lines an earlier release appended alike.
   * The snapshot is then written, so the next start reads them; nothing is written when every
   * record has them already.
   */
  private async upgradeOlderRecords(): Promise<void> {
    const records = this.db.data.records;
    let upgraded = 0;
    for (const no in records) {
      const sealed = records[no]!;
      const objectionMissing = sealed.objectionOpen === undefined;
      const partnerNoMissing = sealed.sharedWith !== undefined && sealed.sharedWithNo === undefined;
      if (!objectionMissing && !partnerNoMissing) continue;
      // Only a rejected record can hold an objection, only a shared one a partner: others are not opened.
      const opened =
        (objectionMissing && sealed.status === 'rejected') || partnerNoMissing
          ? openRecord(sealed, this.keyring, 'parsed')
          : undefined;
      const objection = !objectionMissing
        ? {}
        : opened !== undefined && sealed.status === 'rejected'
          ? clearObjectionFields(opened)
          : { objectionOpen: false };
      const share = partnerNoMissing && opened !== undefined ? clearShareFields(opened) : {};
      // A new object, as a commit makes: a snapshot being written holds the old one.
      records[no] = { ...sealed, ...objection, ...share };
      upgraded++;
    }
    if (upgraded > 0) await this.compact();
  }

  /**
   * Applies a committed change to the in-memory document and the indexes. `staged` is what the
   * transaction already knows of its records (the customer name), absent on replay.
   */
  private applyChange(change: Change, staged: ReadonlyMap<string, StagedRecordExtras> | undefined): void {
    const data = this.db.data;
    for (const sealed of change.records) {
      const previous = data.records[sealed.no];
      if (!previous) this.recordCount++;
      data.records[sealed.no] = sealed;
      this.replaceRecord(previous, sealed, staged?.get(sealed.no));
      this.writeLog.seqs.push(change.seq);
      this.writeLog.nos.push(sealed.no);
    }
    this.dropOlderWrites(this.options.writeLogEntries ?? WRITE_LOG_LIMIT);
    for (const user of change.users) {
      const at = data.users.findIndex((u) => u.id === user.id);
      if (at >= 0) data.users[at] = user;
      else data.users.push(user);
    }
    if (change.policy !== undefined) data.policy = change.policy;
    data.bans.push(...change.bans);
    if (change.notifications.length > 0) {
      data.notifications.push(...change.notifications);
      if (data.notifications.length > MAX_NOTIFICATIONS) {
        data.notifications.splice(0, data.notifications.length - MAX_NOTIFICATIONS);
      }
    }
    if (change.pruneBefore !== undefined) {
      for (const [k, v] of Object.entries(data.idempotency)) {
        if (v.at < change.pruneBefore) delete data.idempotency[k];
      }
    }
    for (const entry of change.idempotency) data.idempotency[idemKey(entry.userId, entry.key)] = entry;
    for (const [year, n] of Object.entries(change.counters)) data.counters[year] = n;
    for (const { collection, key, sealed } of change.docs) this.replaceDoc(collection, key, sealed);
    this.seq = change.seq;
  }

  /**
   * Past `limit` entries, drops the older half of the write log until it is within it, at a change's
   * boundary: a change is in it whole or not at all (one change bigger than the limit empties it).
   */
  private dropOlderWrites(limit: number): void {
    while (this.writeLog.seqs.length > limit) {
      const { seqs, nos } = this.writeLog;
      let cut = Math.floor(seqs.length / 2);
      while (cut > 0 && seqs[cut] === seqs[cut - 1]) cut--;
      if (cut === 0) while (cut < seqs.length && seqs[cut] === seqs[0]) cut++;
      this.writeLogFrom = seqs[cut - 1]!;
      this.writeLog = { seqs: seqs.slice(cut), nos: nos.slice(cut) };
    }
  }

  /** The change last applied: a mark for recordsWrittenSince. */
  get writeSeq(): number {
    return this.seq;
  }

  /**
   * The numbers of the records put by changes after `seq`, each once; undefined when the log no
   * longer reaches back to it (or it is ahead of the store: a mark of some other store).
   */
  recordsWrittenAfter(seq: number): string[] | undefined {
    if (seq < this.writeLogFrom || seq > this.seq) return undefined;
    const { seqs, nos } = this.writeLog;
    // The log is in change order: the first entry past the mark by bisection, not a scan.
    let lo = 0;
    let hi = seqs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (seqs[mid]! <= seq) lo = mid + 1;
      else hi = mid;
    }
    return [...new Set(nos.slice(lo))];
  }

  /** Writes the snapshot of everything applied, then drops the journals it replaces (no commit runs meanwhile). */
  private async compact(): Promise<void> {
    this.db.data.journalSeq = this.seq;
    await this.db.write();
    await rm(this.journalFile, { force: true });
    await rm(this.oldJournalFile, { force: true });
    this.journal = await JournalWriter.create(this.journalFile);
  }

  // ---- internals used by LowdbTx ----

  get keyringForTx(): Keyring {
    return this.keyring;
  }

  /** Committed bans by index key (their positions in `bans`), for findBans; built for that array. */
  private banIndex: { bans: readonly Ban[]; indexed: number; byKey: Map<string, number[]> } | undefined;

  /**
   * Positions in `bans` (the committed bans) of those filed under any of `keys`, in order. Bans are
   * only ever appended, so the index files the new ones when the array grew and is rebuilt when it
   * is another array (a store opened again).
   */
  bansFor(bans: readonly Ban[], keys: readonly string[]): number[] {
    let index = this.banIndex;
    if (index === undefined || index.bans !== bans || index.indexed > bans.length) {
      index = { bans, indexed: 0, byKey: new Map() };
      this.banIndex = index;
    }
    for (; index.indexed < bans.length; index.indexed++) {
      for (const key of new Set(indexKeys(bans[index.indexed]!.identity))) {
        const at = index.byKey.get(key);
        if (at) at.push(index.indexed);
        else index.byKey.set(key, [index.indexed]);
      }
    }
    const found: number[] = [];
    for (const key of keys) {
      const at = index.byKey.get(key);
      if (at) for (const i of at) if (!found.includes(i)) found.push(i);
    }
    return found.sort((a, b) => a - b);
  }

  /**
   * Appends to `found` the numbers of the committed records filed under any of `keys`, in the order
   * met, repeats included (the caller drops them: distinctNumbers).
   */
  candidatesInto(keys: readonly string[], found: string[]): void {
    for (const key of keys) {
      // `kind:value`, as core's indexKeys joins them; a kind ends at its colon.
      const colon = key.indexOf(':') + 1;
      const hit = this.keyIndex.get(key.slice(0, colon))?.get(key.slice(colon));
      if (typeof hit === 'string') found.push(hit);
      else if (hit) for (const no of hit) found.push(no);
    }
  }

  namesForSearch(): Map<string, string> {
    if (!this.nameCache) {
      this.nameCache = new Map();
      for (const sealed of Object.values(this.db.data.records)) {
        this.nameCache.set(sealed.no, openRecord(sealed, this.keyring).registration.customerName);
      }
    }
    return this.nameCache;
  }

  /** A committed document's JSON text, opened once and cached; undefined when there is none. */
  committedDocText(collection: string, key: string): string | undefined {
    const sealed = this.db.data.docs[collection]?.[key];
    if (sealed === undefined) return undefined;
    const id = docId(collection, key);
    let text = this.docText.get(id);
    if (text === undefined) {
      text = this.keyring.open(sealed);
      this.docText.set(id, text);
    }
    return text;
  }

  replaceDoc(collection: string, key: string, sealed: string | null): void {
    const docs = this.db.data.docs;
    const id = docId(collection, key);
    // Opened again on first read: cheaper than keeping every document's text for a replayed journal.
    this.docText.delete(id);
    if (sealed === null) {
      const inCollection = docs[collection];
      if (inCollection) {
        delete inCollection[key];
        if (Object.keys(inCollection).length === 0) delete docs[collection];
      }
      this.docText.delete(id);
      return;
    }
    (docs[collection] ??= {})[key] = sealed;
  }

  replaceRecord(
    previous: SealedRecord | undefined,
    next: SealedRecord,
    staged: StagedRecordExtras | undefined,
  ): void {
    if (previous) this.unindexRecord(previous);
    this.indexRecord(next);
    if (this.nameCache) {
      this.nameCache.set(
        next.no,
        staged?.customerName ?? openRecord(next, this.keyring).registration.customerName,
      );
    }
  }

  /** Files a record under its keys. */
  private indexRecord(record: SealedRecord): void {
    const pairs = indexPairs(record.identity);
    for (let i = 0; i < pairs.length; i += 2) {
      const kind = pairs[i]!;
      const value = pairs[i + 1]!;
      let byValue = this.keyIndex.get(kind);
      if (byValue === undefined) this.keyIndex.set(kind, (byValue = new Map()));
      const hit = byValue.get(value);
      if (hit === undefined || hit === record.no) byValue.set(value, record.no);
      else if (typeof hit === 'string') byValue.set(value, new Set([hit, record.no]));
      else hit.add(record.no);
    }
  }

  private unindexRecord(record: SealedRecord): void {
    const pairs = indexPairs(record.identity);
    for (let i = 0; i < pairs.length; i += 2) {
      const byValue = this.keyIndex.get(pairs[i]!);
      const value = pairs[i + 1]!;
      const hit = byValue?.get(value);
      if (byValue === undefined || hit === undefined) continue;
      if (hit === record.no) byValue.delete(value);
      else if (typeof hit === 'object') {
        hit.delete(record.no);
        if (hit.size === 1) byValue.set(value, hit.values().next().value!);
      }
    }
  }

  private scheduleFlush(): Promise<void> {
    this.dirty = true;
    if (!this.flushing) this.flushing = this.flushLoop();
    // Resolves when a write that started after this change has finished.
    return this.flushing;
  }

  private async flushLoop(): Promise<void> {
    try {
      while (this.dirty) {
        this.dirty = false;
        const changes = this.pending;
        this.pending = [];
        await this.journal.append((entry) => writeChanges(entry, changes));
        const threshold = this.options.compactBytes ?? Math.max(MIN_COMPACT_BYTES, this.snapshotBytes);
        if (!this.compacting && this.journal.bytes >= threshold) {
          // The rotation is awaited here (no append may run during it); the snapshot is not.
          let rotated!: () => void;
          const rotation = new Promise<void>((resolve) => (rotated = resolve));
          this.compacting = this.compactRotating(rotated).finally(() => (this.compacting = undefined));
          await rotation;
        }
      }
    } catch (err) {
      // Memory now holds changes the disk does not: refuse every further write rather than
      // acknowledge anything on top of them. A restart reloads the last durable state.
      this.failure = err as Error;
      throw storeFailed(this.failure);
    } finally {
      this.flushing = undefined;
    }
  }

  private async compactRotating(rotated: () => void): Promise<void> {
    try {
      await rename(this.journalFile, this.oldJournalFile);
      this.journal = await JournalWriter.create(this.journalFile);
      this.db.data.journalSeq = this.seq;
      // write() takes the snapshot's content synchronously (snapshotChunks): the state as of
      // this.seq; it is turned into text and written while commits go on into the new journal.
      const written = this.db.write();
      rotated();
      await written;
      await rm(this.oldJournalFile, { force: true });
      await syncDir(path.dirname(this.file));
    } catch (err) {
      // The journals still hold every commit, but a second rotation would overwrite the old one:
      // stop accepting writes; a restart finishes the compaction.
      this.failure ??= err as Error;
      rotated();
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('store closed');
  }

  async dump(): Promise<StoreDump> {
    this.assertOpen();
    // Taken synchronously, between two commits: `apply` replaces records, entries and documents
    // rather than changing them, so shallow copies of the containers are a consistent snapshot and
    // the (slow) opening below runs while writes go on.
    const data = this.db.data;
    const records = Object.values(data.records);
    const counters = { ...data.counters };
    const users = data.users.slice();
    const policy = data.policy;
    const bans = data.bans.slice();
    const notifications = data.notifications.slice();
    const idempotency = Object.values(data.idempotency);
    const docs = Object.entries(data.docs).map(([collection, byKey]) => [collection, { ...byKey }] as const);
    const keyring = this.keyring;
    const out: StoreDump = {
      records: [],
      counters,
      users: structuredClone(users),
      policy: structuredClone(policy),
      bans: structuredClone(bans),
      notifications: structuredClone(notifications),
      idempotency: [],
      docs: [],
      audit: [],
    };
    for (const [i, sealed] of records.entries()) {
      out.records.push(openRecord(sealed, keyring));
      // Yield now and then so a large dump never holds the event loop longer than a commit does.
      if (i % 1000 === 999) await new Promise((resolve) => setImmediate(resolve));
    }
    for (const e of idempotency) {
      const response = JSON.parse(keyring.open(e.sealed)) as IdempotencyEntry['response'];
      out.idempotency.push({ userId: e.userId, key: e.key, bodyHash: e.bodyHash, at: e.at, response });
    }
    for (const [collection, byKey] of docs) {
      for (const key of Object.keys(byKey).sort(cmp)) {
        out.docs.push({ collection, key, value: JSON.parse(keyring.open(byKey[key]!)) });
      }
    }
    // The audit file is appended apart from commits; entries written meanwhile may be included.
    const total = (await this.listAudit({ limit: 0, offset: 0 })).total;
    out.audit = (await this.listAudit({ limit: total, offset: 0 })).items.reverse();
    return out;
  }

  async load(dump: StoreDump): Promise<void> {
    this.assertOpen();
    const run = async (): Promise<void> => {
      if (this.failure) throw storeFailed(this.failure);
      const data = this.db.data;
      if (
        Object.keys(data.records).length > 0 ||
        Object.keys(data.counters).length > 0 ||
        data.users.length > 0 ||
        data.policy !== null ||
        data.bans.length > 0 ||
        data.notifications.length > 0 ||
        Object.keys(data.idempotency).length > 0 ||
        Object.keys(data.docs).length > 0 ||
        (await this.listAudit({ limit: 0, offset: 0 })).total > 0
      ) {
        throw storeNotEmpty('lowdb');
      }
      const tx = new LowdbTx(this, data, true);
      for (const record of dump.records) await tx.putRecord(record);
      for (const user of dump.users) await tx.putUser(user);
      if (dump.policy !== null) await tx.putPolicy(dump.policy);
      for (const ban of dump.bans) await tx.addBan(ban);
      await tx.addNotifications(dump.notifications);
      for (const entry of dump.idempotency) await tx.putIdempotency(entry);
      for (const doc of dump.docs) await tx.putDoc(doc.collection, doc.key, doc.value);
      for (const [year, n] of Object.entries(dump.counters)) tx.setCounter(year, n);
      // One change in the journal like any commit: applied, then made durable below.
      const change = tx.toChange(this.seq + 1);
      this.applyChange(change, tx.stagedRecords);
      this.pending.push(change);
      // The audit trail first: should the data file's write fail, the store stays refused (failure).
      if (dump.audit.length > 0) {
        await writeFileDurably(this.auditFile, [
          Buffer.from(dump.audit.map((e) => JSON.stringify(e)).join('\n') + '\n'),
        ]);
      }
      await this.scheduleFlush();
    };
    const turn = this.writeQueue.then(run);
    this.writeQueue = turn.catch(() => undefined);
    await turn;
  }
}

/**
 * A journal line's JSON, `{"changes":[…]}`, for changes already applied, written a record at a time:
 * the records are nearly all of a commit's bytes, and one string of them all cost more to make and
 * encode than to write. A large import's line takes seconds to encode (1.5 s at 100,000 records), so
 * this gives way to the event loop every ~10 ms as it goes; commits that arrive meanwhile are applied
 * and wait for the next line. Records may be encoded after later commits without changing what is
 * written: a commit replaces a record's object, never changes it (as for snapshotChunks). Everything
 * else in the changes is encoded first, before any pause.
 */
export async function writeChanges(
  entry: EntryBuilder,
  changes: readonly (Pick<Change, 'seq'> & { records: readonly object[] })[],
  pause: Pause = cooperativeLoop(),
): Promise<void> {
  // `rest` always has `seq`: its JSON is `{…}`, continued after the records.
  const rests = changes.map(({ records: _records, ...rest }) => JSON.stringify(rest).slice(1));
  entry.text('{"changes":[');
  for (const [i, { records }] of changes.entries()) {
    if (i > 0) entry.text(',');
    entry.text('{"records":[');
    for (const [j, record] of records.entries()) {
      if (j > 0) entry.text(',');
      entry.json(record);
      const turn = pause();
      if (turn) await turn;
    }
    entry.text('],');
    entry.text(rests[i]!);
  }
  entry.text(']}');
}

/** Bytes of snapshot text made between two writes (and two turns of the event loop). */
const SNAPSHOT_CHUNK_BYTES = 1024 * 1024;

/**
 * The snapshot's content, made while it is written. What it holds is taken at the call, at once:
 * the head as text and the records as they are now (a commit replaces a record's object, never
 * changes it, so the references taken are that state); the records are then turned into text a
 * chunk at a time between writes, so commits go on during a compaction instead of waiting for a
 * whole store to be serialised (seconds at 1M records). Each record is on a line of its own (still
 * plain JSON) so `parseSnapshot` can read it back a record at a time — one string of a million
 * records would pass V8's string limit. `done` gets the snapshot's size once all of it is made.
 */
function snapshotChunks(data: FileData, done: (bytes: number) => void): AsyncIterable<Uint8Array> {
  const { records, ...rest } = data;
  const head = JSON.stringify(rest);
  const nos = Object.keys(records);
  const sealed = Object.values(records);
  return (async function* () {
    // One buffer, reused: the writer is done with a chunk before it asks for the next.
    let buf = Buffer.allocUnsafe(2 * SNAPSHOT_CHUNK_BYTES);
    let length = 0;
    let total = 0;
    const put = (text: string): void => {
      const room = length + text.length * 3;
      if (room > buf.length) {
        const bigger = Buffer.allocUnsafe(room * 2);
        buf.copy(bigger, 0, 0, length);
        buf = bigger;
      }
      length += buf.write(text, length);
    };
    put(`${head.slice(0, -1)},"records":{\n`);
    for (let i = 0; i < nos.length; i++) {
      put(`${i > 0 ? ',\n' : ''}${JSON.stringify(nos[i])}:${JSON.stringify(sealed[i])}`);
      if (length >= SNAPSHOT_CHUNK_BYTES) {
        total += length;
        yield buf.subarray(0, length);
        length = 0;
      }
    }
    put('\n}}');
    total += length;
    yield buf.subarray(0, length);
    done(total);
  })();
}

/**
 * Reads a snapshot. A file as `snapshotChunks` writes it (the head, then one record per line) is
 * parsed a line at a time: at 1M records the file is over 1 GB, past the longest string V8 makes.
 * Any other JSON (files of earlier versions, a file edited by hand) is parsed whole.
 */
function parseSnapshot(bytes: Buffer): unknown {
  const RECORDS = ',"records":{\n';
  const firstEnd = bytes.indexOf(0x0a);
  const first = firstEnd < 0 ? '' : bytes.toString('utf8', 0, firstEnd + 1);
  if (!first.endsWith(RECORDS) || !bytes.subarray(bytes.length - 3).equals(Buffer.from('\n}}'))) {
    return JSON.parse(bytes.toString('utf8'));
  }
  const head = JSON.parse(`${first.slice(0, -RECORDS.length)}}`) as Record<string, unknown>;
  const records: Record<string, unknown> = {};
  const end = bytes.length - 3;
  let offset = firstEnd + 1;
  while (offset < end) {
    let next = bytes.indexOf(0x0a, offset);
    if (next < 0 || next > end) next = end;
    let line = bytes.toString('utf8', offset, next);
    if (line.endsWith(',')) line = line.slice(0, -1);
    // `"no":{…}`: the number is a JSON string without '":' in it (snapshotChunks wrote it), so the
    // key and the record are parsed apart — no one-property object per record to copy from.
    const colon = line.indexOf('":');
    if (colon < 0) throw new Error(`snapshot line at byte ${offset}: no record key`);
    records[JSON.parse(line.slice(0, colon + 1)) as string] = JSON.parse(line.slice(colon + 2));
    offset = next + 1;
  }
  return { ...head, records };
}

function emptyFile(keyring: Keyring): FileData {
  return {
    format: 'baobei-lowdb',
    version: 1,
    keyCheck: keyring.seal(KEY_CHECK),
    counters: {},
    records: {},
    users: [],
    policy: null,
    bans: [],
    notifications: [],
    idempotency: {},
    docs: {},
    journalSeq: 0,
  };
}

/**
 * How a dry run (`simulate`) stages records: the "sealed" body is the record's JSON in clear. Its
 * changes are discarded, never applied, journalled or written, so nothing leaves the process; only
 * a commit needs the seal (AES-GCM cost a check row ~10 µs of its CPU).
 */
const DRY_RUN_CODEC = {
  seal: (plain: string): string => plain,
  open: (staged: string): string => staged,
};

/**
 * Records a dry run stages in clear before it seals the rest: a check request's most rows. The JSON
 * text of a record with Chinese in it takes ~1.3× the memory of its seal (986 against 743 bytes for
 * the bench's records), so an import's dry run of a large sheet keeps the rest sealed only.
 */
export const DRY_RUN_CLEAR_RECORDS = 5_000;

/** What a transaction knows of a record it staged, beyond the sealed record. */
interface StagedRecordExtras {
  customerName: string;
}

interface StagedRecord extends StagedRecordExtras {
  /** Sealed with the keyring, or with DRY_RUN_CODEC (its body in clear) when `inClear`. */
  sealed: SealedRecord;
  inClear: boolean;
}

/** A document written in a transaction: its JSON text (read back by the transaction) and its seal. */
interface StagedDoc {
  text: string;
  sealed: string;
}

function docId(collection: string, key: string): string {
  return `${collection}\u0000${key}`;
}

function storeFailed(cause: Error): DomainError {
  return new DomainError(
    problem(
      'store.unavailable',
      '数据写入失败，服务暂停接受修改；请检查磁盘后重启服务',
      'Writing the data file failed; the service accepts no changes until it is restarted (check the disk)',
    ),
    { cause: cause.message },
  );
}

/**
 * A transaction: reads see the committed data plus this transaction's own changes; changes are
 * staged and applied to the store only by `apply`, after the transaction function returned.
 */
class LowdbTx implements WriteTx {
  /**
   * Staged records, sealed at once (a later read of the transaction opens the seal: keeping each
   * record's plain JSON too was ~2 KB more per row for the collector to copy, for rare reads).
   */
  private readonly records = new Map<string, StagedRecord>();
  /**
   * Index keys of staged records, so later rows of the same batch find earlier ones. Nearly every
   * key names one record: the bare number then, an array only when several share it (a Set per
   * key was ~7,000 Sets per 1,000-row batch for the collector).
   */
  private readonly stagedKeys = new Map<string, string | string[]>();
  /**
   * The index keys of staged records that were committed before: a change of identity within the
   * transaction is found by its new keys and no longer by the committed ones.
   */
  private readonly restagedKeys = new Map<string, Set<string>>();
  private readonly users = new Map<string, User>();
  private policy: Policy | undefined;
  private readonly bans: Ban[] = [];
  private readonly notifications: Notification[] = [];
  private readonly idempotency = new Map<string, IdempotencyEntry>();
  private pruneBefore: string | undefined;
  private readonly counters = new Map<string, number>();
  /** Documents put (or deleted: null) in this transaction, by collection and key. */
  private readonly docs = new Map<string, { collection: string; key: string; doc: StagedDoc | null }>();

  constructor(
    private readonly store: LowdbStore,
    private readonly data: FileData,
    /** In a write (or simulate) turn; reads run outside the queue and may not claim. */
    private readonly writable: boolean,
    /** A simulated write: its changes are discarded, so its records are staged unsealed. */
    private readonly dryRun = false,
  ) {}

  /** How a staged record was sealed, hence how it is opened. */
  private codecOf(staged: StagedRecord): Pick<Keyring, 'seal' | 'open'> {
    return staged.inClear ? DRY_RUN_CODEC : this.store.keyringForTx;
  }

  hasChanges(): boolean {
    return (
      this.records.size > 0 ||
      this.users.size > 0 ||
      this.policy !== undefined ||
      this.bans.length > 0 ||
      this.notifications.length > 0 ||
      this.idempotency.size > 0 ||
      this.pruneBefore !== undefined ||
      this.counters.size > 0 ||
      this.docs.size > 0
    );
  }

  /** The transaction's changes, sealed, as the journal keeps them. */
  toChange(seq: number): Change {
    // A dry run's records are staged in clear: they must never reach the journal or the snapshot.
    if (this.dryRun) throw new Error('a simulated transaction has no change to commit');
    const keyring = this.store.keyringForTx;
    const change: Change = {
      seq,
      records: [...this.records.values()].map((r) => r.sealed),
      users: [...this.users.values()],
      bans: this.bans,
      notifications: this.notifications,
      idempotency: [...this.idempotency.values()].map((entry) => ({
        userId: entry.userId,
        key: entry.key,
        bodyHash: entry.bodyHash,
        at: entry.at,
        sealed: keyring.seal(JSON.stringify(entry.response)),
      })),
      counters: Object.fromEntries(this.counters),
      docs: [...this.docs.values()].map(({ collection, key, doc }) => ({
        collection,
        key,
        sealed: doc === null ? null : doc.sealed,
      })),
    };
    if (this.policy !== undefined) change.policy = this.policy;
    if (this.pruneBefore !== undefined) change.pruneBefore = this.pruneBefore;
    return change;
  }

  /** Sets a registration-number counter as a loaded dump has it (store copy and restore). */
  setCounter(key: string, n: number): void {
    this.counters.set(key, n);
  }

  /** The staged records' customer names, for the store's name cache. */
  get stagedRecords(): ReadonlyMap<string, StagedRecordExtras> {
    return this.records;
  }

  // ---- reads ----

  async getRecord(no: string): Promise<StoredRecord | undefined> {
    const staged = this.records.get(no);
    if (staged) return openRecord(staged.sealed, this.codecOf(staged), 'parsed');
    const sealed = this.data.records[no];
    return sealed ? openRecord(sealed, this.store.keyringForTx, 'parsed') : undefined;
  }

  async findRecordsByKeys(
    keys: readonly string[],
    accept?: (identity: IdentityKeys, clear?: RecordClearFields) => boolean,
  ): Promise<StoredRecord[]> {
    const met: string[] = [];
    this.store.candidatesInto(keys, met);
    if (this.stagedKeys.size > 0) {
      for (const key of keys) {
        const staged = this.stagedKeys.get(key);
        if (typeof staged === 'string') met.push(staged);
        else if (staged) for (const no of staged) met.push(no);
      }
    }
    const out: StoredRecord[] = [];
    const keyring = this.store.keyringForTx;
    const restagedAny = this.restagedKeys.size > 0;
    for (const no of distinctNumbers(met)) {
      const restaged = restagedAny ? this.restagedKeys.get(no) : undefined;
      if (restaged !== undefined && !keys.some((key) => restaged.has(key))) continue;
      // Staged before committed, as getRecord reads; the sealed form's clear fields go to the
      // filter so records the caller drops (ended ones, say) are never opened.
      const staged = this.records.get(no);
      const sealed = staged?.sealed ?? this.data.records[no];
      if (sealed === undefined || (accept && !accept(sealed.identity, sealed))) continue;
      out.push(openRecord(sealed, staged ? this.codecOf(staged) : keyring, 'parsed'));
    }
    return out;
  }

  async listRecords(query: RecordQuery): Promise<{ items: StoredRecord[]; total: number }> {
    const hits = this.matching(query);
    const keyring = this.store.keyringForTx;
    const items = hits
      .slice(query.offset, query.offset + query.limit)
      .map((s) => openRecord(s, keyring, 'parsed'));
    return { items, total: hits.length };
  }

  async *scanRecords(query: RecordScan, pageSize: number): AsyncIterable<StoredRecord[]> {
    // One filter and sort for the whole scan; each page is opened when it is asked for.
    const hits = this.matching(query);
    const nos = query.nos ? new Set(query.nos) : undefined;
    for (let start = 0; start < hits.length; start += pageSize) {
      const keyring = this.store.keyringForTx;
      const page: StoredRecord[] = [];
      for (const { no } of hits.slice(start, start + pageSize)) {
        // Reads are live: a record written or destroyed since the scan began (a commit between two
        // pages) is read as it is now, and left out if it no longer matches.
        const sealed = this.data.records[no];
        if (sealed !== undefined && matchesQuery(sealed, query, nos, this.data.records)) {
          page.push(openRecord(sealed, keyring, 'parsed'));
        }
      }
      yield page;
    }
  }

  /** The committed records a query matches, newest first, none opened but for the name search. */
  private matching(query: RecordScan & Pick<RecordQuery, 'q'>): SealedRecord[] {
    const names = query.q !== undefined && query.q !== '' ? this.store.namesForSearch() : undefined;
    const needle = query.q?.toLowerCase();
    const hits: SealedRecord[] = [];
    const nos = query.nos ? new Set(query.nos) : undefined;
    const candidates = nos
      ? [...nos].flatMap((no) => (this.data.records[no] ? [this.data.records[no]] : []))
      : Object.values(this.data.records);
    for (const sealed of candidates) {
      if (!matchesQuery(sealed, query, nos, this.data.records)) continue;
      if (names && needle !== undefined && !(names.get(sealed.no) ?? '').toLowerCase().includes(needle))
        continue;
      hits.push(sealed);
    }
    hits.sort((a, b) => (a.receivedAt === b.receivedAt ? cmp(b.no, a.no) : cmp(b.receivedAt, a.receivedAt)));
    return hits;
  }

  async recordNumbers(): Promise<string[]> {
    const nos = new Set(Object.keys(this.data.records));
    for (const no of this.records.keys()) nos.add(no);
    return [...nos].sort(cmp);
  }

  async countRecords(
    query: RecordScan,
  ): Promise<{ registrant: string; team?: string; status: RecordStatus; count: number }[]> {
    const counts = new Map<
      string,
      { registrant: string; team?: string; status: RecordStatus; count: number }
    >();
    const nos = query.nos ? new Set(query.nos) : undefined;
    for (const sealed of Object.values(this.data.records)) {
      if (!matchesQuery(sealed, query, nos, this.data.records)) continue;
      const status = effectiveStatus(sealed, query.today);
      const key = `${sealed.registrant}\u0000${sealed.team ?? ''}\u0000${status}`;
      const entry = counts.get(key);
      if (entry) entry.count++;
      else
        counts.set(key, {
          registrant: sealed.registrant,
          ...(sealed.team !== undefined ? { team: sealed.team } : {}),
          status,
          count: 1,
        });
    }
    return [...counts.values()];
  }

  async recordsEndingBefore(day: Day, statuses: readonly RecordStatus[]): Promise<StoredRecord[]> {
    const keyring = this.store.keyringForTx;
    return Object.values(this.data.records)
      .filter((s) => statuses.includes(s.status) && s.protectedUntil !== undefined && s.protectedUntil < day)
      .map((s) => openRecord(s, keyring, 'parsed'));
  }

  async recordsWithStatus(statuses: readonly RecordStatus[]): Promise<StoredRecord[]> {
    const keyring = this.store.keyringForTx;
    return Object.values(this.data.records)
      .filter((s) => statuses.includes(s.status))
      .map((s) => openRecord(s, keyring, 'parsed'));
  }

  async writeMark(): Promise<WriteMark> {
    return `lowdb:${this.store.writeSeq}` as WriteMark;
  }

  async recordsWrittenSince(mark: WriteMark): Promise<StoredRecord[] | undefined> {
    const seq = /^lowdb:(\d+)$/.exec(mark)?.[1];
    const committed = seq !== undefined ? this.store.recordsWrittenAfter(Number(seq)) : undefined;
    if (committed === undefined) return undefined;
    // This transaction's own puts are written after any mark too.
    const nos = new Set([...committed, ...this.records.keys()]);
    const out: StoredRecord[] = [];
    for (const no of nos) {
      const record = await this.getRecord(no);
      if (record !== undefined) out.push(record);
    }
    return out;
  }

  async findBans(keys: readonly string[], registrant: string, today: Day): Promise<Ban[]> {
    // Runs for every row: committed bans come from the store's index by key, not a scan of all.
    const out: Ban[] = [];
    for (const i of this.store.bansFor(this.data.bans, keys)) {
      const ban = this.data.bans[i]!;
      if (ban.registrant === registrant && ban.until >= today) out.push(ban);
    }
    if (this.bans.length === 0) return out;
    const wanted = new Set(keys);
    for (const ban of this.bans) {
      if (
        ban.registrant === registrant &&
        ban.until >= today &&
        indexKeys(ban.identity).some((k) => wanted.has(k))
      )
        out.push(ban);
    }
    return out;
  }

  async getUserByTokenHash(tokenHash: string): Promise<User | undefined> {
    return this.findUser((u) => u.tokenHash === tokenHash);
  }

  async getUserByName(name: string): Promise<User | undefined> {
    return this.findUser((u) => u.name === name);
  }

  async listUsers(): Promise<User[]> {
    return this.allUsers();
  }

  async getPolicy(): Promise<Policy | undefined> {
    return this.policy ?? this.data.policy ?? undefined;
  }

  async listNotifications(
    forUser: { name: string; role: Role; team?: string },
    limit: number,
  ): Promise<Notification[]> {
    const all = [...this.data.notifications, ...this.notifications];
    const out: Notification[] = [];
    for (let i = all.length - 1; i >= 0 && out.length < limit; i--) {
      const n = all[i]!;
      if ('name' in n.to ? n.to.name === forUser.name : isReviewerOf(forUser, n.to.reviewersOf)) out.push(n);
    }
    return out;
  }

  async getIdempotency(userId: string, key: string): Promise<IdempotencyEntry | undefined> {
    const staged = this.idempotency.get(idemKey(userId, key));
    if (staged) return staged;
    const sealed = this.data.idempotency[idemKey(userId, key)];
    if (!sealed) return undefined;
    const response = JSON.parse(this.store.keyringForTx.open(sealed.sealed)) as IdempotencyEntry['response'];
    return { userId: sealed.userId, key: sealed.key, bodyHash: sealed.bodyHash, at: sealed.at, response };
  }

  async getDoc(collection: string, key: string): Promise<unknown> {
    checkDocAddress(collection, key);
    const text = this.docText(collection, key);
    return text === undefined ? undefined : JSON.parse(text);
  }

  async listDocs(collection: string, range: DocRange = {}): Promise<DocEntry[]> {
    checkDocAddress(collection);
    const keys = new Set(Object.keys(this.data.docs[collection] ?? {}));
    for (const { collection: c, key } of this.docs.values()) if (c === collection) keys.add(key);
    const out: DocEntry[] = [];
    for (const key of [...keys].filter((k) => keyInRange(k, range)).sort(cmp)) {
      if (range.limit !== undefined && out.length >= range.limit) break;
      const text = this.docText(collection, key);
      if (text !== undefined) out.push({ key, value: JSON.parse(text) });
    }
    return out;
  }

  /** The document as this transaction sees it: staged first, then committed. */
  private docText(collection: string, key: string): string | undefined {
    const staged = this.docs.get(docId(collection, key));
    if (staged) return staged.doc?.text;
    return this.store.committedDocText(collection, key);
  }

  // ---- writes (staged) ----

  async putRecord(record: StoredRecord): Promise<void> {
    // Later reads of the transaction find the record by the keys it has now: a new record, and one
    // whose identity a change replaced (issue 15) — then no longer by its earlier keys.
    const keys = indexKeys(record.identity);
    for (const key of keys) {
      const staged = this.stagedKeys.get(key);
      if (staged === undefined || staged === record.no) this.stagedKeys.set(key, record.no);
      else if (typeof staged === 'string') this.stagedKeys.set(key, [staged, record.no]);
      else if (!staged.includes(record.no)) staged.push(record.no);
    }
    if (this.records.has(record.no) || this.data.records[record.no] !== undefined) {
      this.restagedKeys.set(record.no, new Set(keys));
    }
    const inClear = this.dryRun && this.records.size < DRY_RUN_CLEAR_RECORDS;
    const sealed = sealRecord(record, inClear ? DRY_RUN_CODEC : this.store.keyringForTx);
    this.records.set(record.no, { sealed, inClear, customerName: record.registration.customerName });
  }

  async nextRegistrationNo(year: number): Promise<string> {
    const key = String(year);
    const n = (this.counters.get(key) ?? this.data.counters[key] ?? 0) + 1;
    this.counters.set(key, n);
    return `BB-${year}-${String(n).padStart(6, '0')}`;
  }

  async putUser(user: User): Promise<void> {
    this.users.set(user.id, user);
  }

  async putPolicy(policy: Policy): Promise<void> {
    this.policy = policy;
  }

  async addBan(ban: Ban): Promise<void> {
    this.bans.push(ban);
  }

  async addNotifications(notifications: Notification[]): Promise<void> {
    this.notifications.push(...notifications);
  }

  async putIdempotency(entry: IdempotencyEntry): Promise<void> {
    this.idempotency.set(idemKey(entry.userId, entry.key), entry);
  }

  async pruneIdempotency(olderThan: Instant): Promise<void> {
    this.pruneBefore = olderThan;
  }

  async putDoc(collection: string, key: string, value: unknown): Promise<void> {
    checkDocAddress(collection, key);
    const text = JSON.stringify(value);
    if (text === undefined) throw new Error(`document ${collection}/${key}: value is not JSON`);
    this.docs.set(docId(collection, key), {
      collection,
      key,
      doc: { text, sealed: this.store.keyringForTx.seal(text) },
    });
  }

  async insertDoc(collection: string, key: string, value: unknown): Promise<boolean> {
    checkDocAddress(collection, key);
    if (this.docText(collection, key) !== undefined) return false;
    await this.putDoc(collection, key, value);
    return true;
  }

  async deleteDoc(collection: string, key: string): Promise<void> {
    checkDocAddress(collection, key);
    this.docs.set(docId(collection, key), { collection, key, doc: null });
  }

  /** One process owns the file and writes run one at a time: what is listed is already held. */
  async claimDocs(collection: string, range: DocRange = {}): Promise<DocEntry[]> {
    if (!this.writable) throw new Error('claimDocs needs a write transaction');
    return await this.listDocs(collection, range);
  }

  /** Writes run one at a time here: every document a write reads is already its own. */
  async holdDocs(collection: string, keys: readonly string[]): Promise<Map<string, unknown>> {
    if (!this.writable) throw new Error('holdDocs needs a write transaction');
    const out = new Map<string, unknown>();
    for (const key of [...keys].sort()) {
      const value = await this.getDoc(collection, key);
      if (value !== undefined) out.set(key, value);
    }
    return out;
  }

  /**
   * A user as this transaction sees them: a staged user replaces the committed one with its id.
   * Runs for every row (the registrant's team) and request: no map of every user per call.
   */
  private findUser(match: (user: User) => boolean): User | undefined {
    for (const u of this.users.values()) if (match(u)) return u;
    return this.data.users.find((u) => !this.users.has(u.id) && match(u));
  }

  private allUsers(): User[] {
    const byId = new Map(this.data.users.map((u) => [u.id, u]));
    for (const u of this.users.values()) byId.set(u.id, u);
    return [...byId.values()];
  }
}

/**
 * The share partner sees the record while the share lasts (R16, core sharePartner): the clear
 * field follows the stored status and percent; on the query's day a protection past its last day
 * has ended, and a partner record past its own has left (core partnerHasLeft), before the sweep.
 */
function sharedOn(
  sealed: SealedRecord,
  status: RecordStatus,
  today: Day,
  records: Readonly<Record<string, SealedRecord>>,
): boolean {
  if (sealed.sharedWith === undefined || !SHARING_STATUSES.includes(status)) return false;
  const partner = sealed.sharedWithNo !== undefined ? records[sealed.sharedWithNo] : undefined;
  return !partnerHasLeft(sealed, partner, today);
}

/**
 * The clear-field part of a record query (everything but the name search); `nos` is `query.nos` as
 * a Set, made once per query: the re-key pages 1,000 numbers at a time.
 */
function matchesQuery(
  sealed: SealedRecord,
  query: RecordScan,
  nos: ReadonlySet<string> | undefined,
  records: Readonly<Record<string, SealedRecord>>,
): boolean {
  const status = effectiveStatus(sealed, query.today);
  const sharedToday = (): boolean => sharedOn(sealed, status, query.today, records);
  if (query.statuses && !query.statuses.includes(status)) return false;
  const scope = query.scope;
  if (scope && (scope.registrants || scope.teams)) {
    const mine =
      (scope.registrants?.includes(sealed.registrant) ?? false) ||
      (sealed.sharedWith !== undefined &&
        scope.registrants?.includes(sealed.sharedWith) === true &&
        sharedToday());
    const team = sealed.team !== undefined && (scope.teams?.includes(sealed.team) ?? false);
    if (!mine && !team) return false;
  }
  if (
    query.registrant !== undefined &&
    sealed.registrant !== query.registrant &&
    !(sealed.sharedWith === query.registrant && sharedToday())
  ) {
    return false;
  }
  if (query.expiringWithinDays !== undefined) {
    if (status !== 'protected' && status !== 'extension-requested') return false;
    const last = addDays(query.today, query.expiringWithinDays);
    if (sealed.protectedUntil === undefined || sealed.protectedUntil > last) return false;
  }
  if (nos && !nos.has(sealed.no)) return false;
  if (query.receivedBetween) {
    const day = dayOf(sealed.receivedAt);
    if (day < query.receivedBetween.from || day > query.receivedBetween.to) return false;
  }
  // Every record has the flag once the store is open (upgradeOlderRecords).
  if (query.objectionOpen !== undefined && sealed.objectionOpen !== query.objectionOpen) return false;
  if (
    query.objectionDeadlineFrom !== undefined &&
    (sealed.objectionDeadline === undefined || sealed.objectionDeadline < query.objectionDeadlineFrom)
  )
    return false;
  return true;
}

function idemKey(userId: string, key: string): string {
  return `${userId}\u0000${key}`;
}

function isReviewerOf(user: { role: Role; team?: string }, team: string | null): boolean {
  if (user.role === 'admin') return true;
  return user.role === 'reviewer' && (team === null || user.team === undefined || user.team === team);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
