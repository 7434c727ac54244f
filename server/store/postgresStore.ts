/**
 * The PostgreSQL store, for several service instances sharing one database: the lowdb store's
 * behaviour on tables, with records sealed by recordCodec. Writes are serialised only as far as
 * they must be (docs/architecture.md, "Locking on PostgreSQL"): a keyed write (registrations: the
 * customers' lock keys, core/customerLocks.ts) holds the schema's advisory lock SHARED plus a row
 * lock per key, taken in key order, so writes of unrelated customers commit in parallel on any
 * instance; every other write holds the advisory lock EXCLUSIVE and so runs alone. Registration
 * numbers come from a sequence per year.
 *
 * Over 600 lines as one file: the adapter's transactions, locks and SQL must be read together to see
 * that every write keeps the lock order; the schema name, prefetch, analyze, file vault and
 * reachability are split out. Not yet split: the SQL statements (statements()) could stand alone.
 */
import { createHash, hash } from 'node:crypto';
import pg from 'pg';
import { z } from 'zod';
import { addDays, dayOf } from '../../core/day.js';
import { SHARING_STATUSES } from '../../core/lifecycle.js';
import { indexKeys } from '../../core/matching.js';
import { policySchema, type Policy } from '../../core/policy.js';
import { DomainError, problem } from '../../core/problem.js';
import {
  PROTECTING_STATUSES,
  type Day,
  type IdentityKeys,
  type Instant,
  type RecordStatus,
  type StoredRecord,
} from '../../core/schema.js';
import type { Keyring } from '../security/keyring.js';
import { foreignSchemaProblem } from './foreignSchema.js';
import { pgSchemaNameProblem } from './pgSchemaName.js';
import { GrowthAnalyzer } from './postgresAnalyze.js';
import { Prefetched } from './postgresPrefetch.js';
import { postgresUnreachable } from './postgresReach.js';
import {
  clearObjectionFields,
  clearShareFields,
  openRecord,
  sealRecord,
  type SealedRecord,
} from './recordCodec.js';
import {
  auditEntrySchema,
  banSchema,
  idempotencyEntrySchema,
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
  type User,
  type WriteMark,
  type WriteOptions,
  type WriteTx,
  ClaimHeldError,
  KEY_CHECK,
  MAX_NOTIFICATIONS,
  checkDocAddress,
  storeNotEmpty,
} from './store.js';

const FORMAT = 'baobei-postgres';
const SCHEMA_VERSION = '6';
/**
 * What turns a schema of an older version into the next one, by the version it starts from. Run in
 * order at open, under the write lock, in the transaction that records the new version.
 */
const MIGRATIONS: Record<string, (schema: string) => string> = {
  // 1 → 2: documents (calendars, outbox, sheet links, read state…).
  '1': (s) => docsDdl(s),
  // 2 → 3: customer lock rows and registration numbers from sequences (started past the counters).
  '2': (s) => locksDdl(s),
  // 3 → 4: whether an objection awaits a decision and a rejection's objection deadline, in clear
  // (filled by markObjectionsOpen below), and the share partner's record number (rows of version 3
  // keep it empty until rewritten).
  '3': (s) => objectionDdl(s) + sharePartnerDdl(s),
  // 4 → 5: the transaction that last wrote each record (recordsWrittenSince; rows written before
  // keep 0, which no mark taken from then on reaches), and the share partner's record number of rows
  // version 3 wrote (filled by fillSharePartnerNos below).
  '4': (s) => writtenXidDdl(s),
  // 5 → 6: a transaction's block of registration numbers taken by one call (take_registration_nos),
  // and each record's index keys listed in its row, so that replacing them needs no index by number.
  '5': (s) => numberBlocksDdl(s) + recordKeysListedDdl(s),
};
/**
 * What a migration's SQL cannot do itself, by the version it starts from: work out a column from the
 * sealed records, which only the key opens. Run right after that migration's SQL, in its transaction.
 */
const MIGRATION_FILLS: Record<
  string,
  (client: pg.PoolClient, schema: string, keyring: Keyring) => Promise<void>
> = {
  '3': markObjectionsOpen,
  '4': fillSharePartnerNos,
};
/** Records opened per query while a migration works out a clear column from them. */
const MARK_PAGE = 1_000;
/** Staged records are written in statements of at most this many, bounding memory and statement size. */
const FLUSH_EVERY = 500;
/**
 * Keyed writes per instance at once. More batches in flight did not finish sooner: with 8 on the
 * 2-core test machine the backends spent 250–300 µs of CPU a row against 180–210 with 2 (and 131
 * for one), the service as much, and 2–3 of the 8 waited on another's lock (households against
 * individuals of one name). docs/architecture.md, "Locking on PostgreSQL".
 */
const KEYED_WRITES = 2;
/** The name search compares this tail of the sealed text, which holds the AES-GCM tag: unique per seal. */
const SEAL_TAG_CHARS = 24;
/**
 * Most registration numbers a transaction takes from the sequence in one round trip without a hint
 * of how many it needs (blocks double up to it).
 */
const NUMBER_BLOCK = 32;
/**
 * Most numbers taken in one round trip when the caller says how many it may need (a batch's
 * admitted rows still to decide, nextRegistrationNo's `upTo`): an import's chunk of rows. A block
 * is also never more than NUMBER_BLOCK or the numbers the transaction has given out so far,
 * whichever is larger: rows admitted ahead may still save nothing (duplicates, conflicts), and a
 * batch of one new customer among 999 duplicates must not leave a gap of 999 in the year's numbers.
 * An all-new 200-row batch takes 32, 32, 64 and 72 (four round trips, against eleven before);
 * the gap a transaction leaves is at most max(31, the numbers it used).
 */
const NUMBER_BLOCK_HINTED = 1_000;
/** Sealed records fetched per query when opening names for search. */
const NAME_BATCH = 1_000;

export interface PostgresStoreOptions {
  connectionString: string;
  keyring: Keyring;
  /** Schema holding the tables, created when missing (default `baobei`). */
  schema?: string;
  /**
   * Accepted so callers pass the same options to either store; nothing is kept there — kept files
   * live in the database (postgresFileVault.ts) so that every instance sees them.
   */
  dataDir?: string;
  /**
   * Connections per instance (default 10). Exclusive writes use one at a time; keyed writes up to
   * `keyedWritesAtOnce`, never more than all but two, so that reads (sign-in) always find a connection.
   */
  poolSize?: number;
  /**
   * Keyed writes (registration batches) of this instance at once (default KEYED_WRITES); the
   * others wait their turn in the instance, in arrival order.
   */
  keyedWritesAtOnce?: number;
}

/** PostgreSQL's error codes this store acts on. */
const DEADLOCK_DETECTED = '40P01';
const LOCK_NOT_AVAILABLE = '55P03';
/** A keyed write that PostgreSQL ended to break a deadlock is run again, this many times at most. */
const DEADLOCK_RETRIES = 3;
/** What a client that got `store.busy` is told to wait before sending the request again. */
const BUSY_RETRY_AFTER_SECONDS = 1;

/**
 * A keyed write that lost to a deadlock more often than it is retried: nothing was saved, and the
 * same request may well pass a moment later, so the client is told to retry (503), not that the
 * service failed (500).
 */
function storeBusy(): DomainError {
  return new DomainError(
    problem(
      'store.busy',
      '数据库繁忙（并发写入相互等待），本次未保存任何内容，请稍后重试',
      'The database is busy (concurrent writes waited on each other); nothing was saved, try again shortly',
    ),
    { retryAfterSeconds: BUSY_RETRY_AFTER_SECONDS },
  );
}

/** What both a pool (reads) and a checked-out client (transactions) can do. */
interface Queryable {
  query<R extends pg.QueryResultRow>(config: pg.QueryConfig): Promise<pg.QueryResult<R>>;
}

/** A fixed SQL text, prepared once per connection under its name. */
interface Statement {
  name: string;
  text: string;
}

type RecordRow = {
  no: string;
  status: RecordStatus;
  registrant: string;
  team: string | null;
  received_at: string;
  claimed_at: string;
  protected_until: string | null;
  shared_with: string | null;
  objection_open: boolean;
  objection_deadline: string | null;
  shared_with_no: string | null;
  identity: IdentityKeys;
  version: number;
  sealed: string;
};

const RECORD_COLUMNS =
  'no, status, registrant, team, received_at, claimed_at, protected_until, shared_with, shared_with_no, objection_open, objection_deadline, identity, version, sealed';

export class PostgresStore implements Store {
  readonly kind = 'postgres' as const;
  readonly keyedWrites = true;
  /** Customer names opened for `q` search, with the seal tag they were opened from (stale once it differs). */
  private readonly names = new Map<string, { tag: string; name: string }>();
  private writeQueue: Promise<unknown> = Promise.resolve();
  /** Keyed writes running now, so close() waits for them. */
  private readonly keyedRunning = new Set<Promise<unknown>>();
  private closed = false;

  private constructor(
    private readonly pool: pg.Pool,
    readonly keyring: Keyring,
    readonly sql: Statements,
    private readonly keyedSlots: Slots,
    /** For `store.unreachable`'s message (postgresReach prints host, port and database only). */
    private readonly connectionString: string,
    private readonly analyzer: GrowthAnalyzer,
  ) {}

  /** Keyed writes this instance runs at once (PostgresStoreOptions.keyedWritesAtOnce, within the pool). */
  get keyedWritesAtOnce(): number {
    return this.keyedSlots.size;
  }

  static async open(options: PostgresStoreOptions): Promise<PostgresStore> {
    const schema = options.schema ?? 'baobei';
    const refused = pgSchemaNameProblem(schema);
    if (refused !== undefined) throw new Error(`invalid PostgreSQL schema name "${schema}": ${refused}`);
    const pool = new pg.Pool({
      connectionString: options.connectionString,
      max: options.poolSize ?? 10,
      idleTimeoutMillis: 30_000,
      connectionTimeoutMillis: 10_000,
      // A stuck transaction holds the write lock of every instance; PostgreSQL ends it after a minute idle.
      idle_in_transaction_session_timeout: 60_000,
      application_name: 'baobei',
    });
    // An idle connection that dies emits 'error' on the pool; without a listener that would end the
    // process. The pool drops the connection and the next query opens a new one.
    pool.on('error', () => undefined);
    try {
      const sql = statements(schema);
      await prepareSchema(pool, sql, options.keyring, options.connectionString);
      const slots = new Slots(
        Math.max(1, Math.min(options.keyedWritesAtOnce ?? KEYED_WRITES, (options.poolSize ?? 10) - 2)),
      );
      const estimate = await pool.query<{ n: number }>(
        `SELECT greatest(reltuples, 0)::float8 AS n FROM pg_class WHERE oid = $1::regclass`,
        [`${sql.schema}.records`],
      );
      const analyzer = new GrowthAnalyzer(pool, sql.schema, estimate.rows[0]?.n ?? 0);
      return new PostgresStore(pool, options.keyring, sql, slots, options.connectionString, analyzer);
    } catch (err) {
      await pool.end();
      throw postgresUnreachable(err, options.connectionString) ?? err;
    }
  }

  read<T>(fn: (tx: ReadTx) => Promise<T>): Promise<T> {
    this.assertOpen();
    return this.reachable(fn(new PostgresTx(this, this.pool, false)));
  }

  write<T>(fn: (tx: WriteTx) => Promise<T>, options: WriteOptions = {}): Promise<T> {
    return this.reachable(
      options.keys !== undefined ? this.keyed(fn, 'commit', options) : this.enqueue(fn, 'commit', options),
    );
  }

  simulate<T>(fn: (tx: WriteTx) => Promise<T>, options: WriteOptions = {}): Promise<T> {
    return this.reachable(
      options.keys !== undefined
        ? this.keyed(fn, 'rollback', options)
        : this.enqueue(fn, 'rollback', options),
    );
  }

  /**
   * The database lost while running (restarted, failed over, network down) is the same fault as at
   * start-up: `store.unreachable` (HTTP 503, zh+en, naming host, port and database), not a pg error
   * that HTTP can only answer with a generic 500. Anything else is rethrown as it was.
   */
  private async reachable<T>(work: Promise<T>): Promise<T> {
    try {
      return await work;
    } catch (err) {
      throw postgresUnreachable(err, this.connectionString) ?? err;
    }
  }

  async appendAudit(entries: readonly AuditEntry[]): Promise<void> {
    this.assertOpen();
    if (entries.length === 0) return;
    await this.reachable(this.pool.query({ ...this.sql.appendAudit, values: [JSON.stringify(entries)] }));
  }

  async listAudit(query: {
    actor?: string;
    record?: string;
    since?: Instant;
    limit: number;
    offset: number;
  }): Promise<{ items: AuditEntry[]; total: number }> {
    this.assertOpen();
    const params = new Params();
    const conditions = ['true'];
    if (query.actor !== undefined) conditions.push(`actor = ${params.add(query.actor)}`);
    if (query.record !== undefined) conditions.push(`records @> ARRAY[${params.add(query.record)}::text]`);
    if (query.since !== undefined) conditions.push(`at >= ${params.add(query.since)}`);
    const from = `FROM ${this.sql.schema}.audit WHERE ${conditions.join(' AND ')}`;
    const filterValues = [...params.values];
    const [count, page] = await this.reachable(
      Promise.all([
        this.pool.query<{ total: number }>({
          text: `SELECT count(*)::int AS total ${from}`,
          values: filterValues,
        }),
        this.pool.query<AuditRow>({
          text: `SELECT at, actor, actor_role, action, records, request_id, details ${from}
               ORDER BY seq DESC LIMIT ${params.add(query.limit)} OFFSET ${params.add(query.offset)}`,
          values: params.values,
        }),
      ]),
    );
    return { items: page.rows.map(auditFromRow), total: count.rows[0]?.total ?? 0 };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.writeQueue;
    await Promise.allSettled([...this.keyedRunning]);
    await this.analyzer.settled();
    await this.pool.end();
  }

  /**
   * Customer names of these records for `q` search. A name is opened once per seal and kept, as
   * the lowdb store keeps its name cache; the tag tells a record another instance rewrote.
   */
  async customerNames(
    candidates: readonly { no: string; tag: string }[],
    db: Queryable,
  ): Promise<Map<string, string>> {
    const stale = candidates.filter((c) => this.names.get(c.no)?.tag !== c.tag).map((c) => c.no);
    // In slices, so the first search of a large register never holds every sealed record at once.
    for (let from = 0; from < stale.length; from += NAME_BATCH) {
      const rows = await db.query<{ no: string; sealed: string; tag: string }>({
        ...this.sql.sealedByNo,
        values: [stale.slice(from, from + NAME_BATCH)],
      });
      for (const row of rows.rows) {
        const { registration } = nameOnlySchema.parse(JSON.parse(this.keyring.open(row.sealed)));
        this.names.set(row.no, { tag: row.tag, name: registration.customerName });
      }
    }
    const out = new Map<string, string>();
    for (const { no } of candidates) out.set(no, this.names.get(no)?.name ?? '');
    return out;
  }

  private enqueue<T>(
    fn: (tx: WriteTx) => Promise<T>,
    end: 'commit' | 'rollback',
    options: WriteOptions,
  ): Promise<T> {
    this.assertOpen();
    // One exclusive transaction per instance at a time: the others would only wait on the advisory
    // lock while holding connections that reads need.
    const turn = this.writeQueue.then(() => this.transaction(fn, end, options));
    this.writeQueue = turn.catch(() => undefined);
    return turn;
  }

  /** A keyed write: beside the instance's other keyed writes, up to its share of the connections. */
  private keyed<T>(
    fn: (tx: WriteTx) => Promise<T>,
    end: 'commit' | 'rollback',
    options: WriteOptions,
  ): Promise<T> {
    this.assertOpen();
    const run = (async () => {
      const release = await this.keyedSlots.take();
      try {
        for (let attempt = 1; ; attempt++) {
          try {
            return await this.transaction(fn, end, options);
          } catch (err) {
            // Every lock of a keyed write is taken in one order before its work (key rows, then the
            // pool entries its rows match), and trimming old notifications skips rows another
            // writer is trimming, so a deadlock needs locks outside them (another session): rare,
            // and fn's changes were rolled back.
            if (pgCode(err) !== DEADLOCK_DETECTED) throw err;
            if (attempt > DEADLOCK_RETRIES) throw storeBusy();
          }
        }
      } finally {
        release();
      }
    })();
    this.keyedRunning.add(run);
    void run.then(
      () => this.keyedRunning.delete(run),
      () => this.keyedRunning.delete(run),
    );
    return run;
  }

  private async transaction<T>(
    fn: (tx: WriteTx) => Promise<T>,
    end: 'commit' | 'rollback',
    options: WriteOptions,
  ): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    const tx = new PostgresTx(this, client, true, end === 'rollback');
    const keys = options.keys !== undefined ? lockIds(options.keys) : undefined;
    const claim = options.claim !== undefined ? lockIds([options.claim])[0] : undefined;
    try {
      const rows = [...(keys ?? []), ...(claim !== undefined ? [claim] : [])].sort(compareIds);
      // READ COMMITTED: every statement after the locks sees what the previous holder committed.
      // (Under REPEATABLE READ the snapshot would be taken before the wait for the locks.)
      const begin = `${rows.length > 0 ? createLockRows(this.sql.schema, rows) : ''}BEGIN ISOLATION LEVEL READ COMMITTED`;
      const globalLock =
        keys !== undefined
          ? `SELECT pg_advisory_xact_lock_shared(${this.sql.lockId})`
          : `SELECT pg_advisory_xact_lock(${this.sql.lockId})`;
      // One round trip for the lock rows, BEGIN and the advisory lock when there is no claim to
      // take between them.
      await client.query(claim === undefined ? `${begin}; ${globalLock}` : begin);
      if (claim !== undefined) {
        // First and NOWAIT: a claim is never waited for, so it takes no part in any lock order, and a
        // held claim is refused at once, even to a write that would wait for the whole store.
        try {
          await client.query({ ...this.sql.claimLockRow, values: [claim] });
        } catch (err) {
          if (pgCode(err) === LOCK_NOT_AVAILABLE) throw new ClaimHeldError();
          throw err;
        }
        await client.query(globalLock);
      }
      // Row locks, not advisory locks: a 200-row batch holds ~1,000 keys, and PostgreSQL's shared
      // lock table (max_locks_per_transaction × connections, ~10,000 here) would run out with a
      // dozen such batches at once; a row lock is kept in the row, so it costs no shared memory.
      // Taken in key order (ORDER BY under FOR UPDATE), so two keyed writers never deadlock.
      if (keys !== undefined && keys.length > 0) {
        const shared = new Set(lockIds(options.sharedKeys ?? []));
        if (shared.size === 0) await client.query({ ...this.sql.lockRows, values: [keys] });
        else {
          // Mixed modes, still one pass in key order (one statement: one round trip for the batch).
          await client.query({
            ...this.sql.lockRowsShared,
            values: [keys, keys.map((id) => shared.has(id))],
          });
        }
      }
      const value = await fn(tx);
      if (end === 'commit') {
        await tx.flush();
        const committed = await client.query('COMMIT');
        // After a failed statement whose error fn caught, PostgreSQL answers COMMIT by rolling back.
        if (committed.command !== 'COMMIT') throw transactionAborted();
        this.analyzer.committed(tx.recordsWritten);
      } else {
        await client.query('ROLLBACK');
      }
      return value;
    } catch (err) {
      broken = await rollbackAfterError(client);
      throw err;
    } finally {
      tx.finish();
      // A connection that could not roll back is destroyed rather than returned to the pool.
      client.release(broken);
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('store closed');
  }

  /** One REPEATABLE READ, READ ONLY transaction: one snapshot of every table, no lock taken, writers never wait. */
  async dump(): Promise<StoreDump> {
    this.assertOpen();
    const client = await this.pool.connect();
    let broken: Error | undefined;
    const s = this.sql.schema;
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const rows = async <R extends pg.QueryResultRow>(text: string): Promise<R[]> =>
        (await client.query<R>(text)).rows;
      const out: StoreDump = {
        records: (await rows<RecordRow>(`SELECT ${RECORD_COLUMNS} FROM ${s}.records ORDER BY no`)).map(
          (row) => openRecord(sealedFromRow(row), this.keyring),
        ),
        counters: Object.fromEntries(
          (await new PostgresTx(this, client, true).numberedYears()).map((r) => [String(r.year), r.n]),
        ),
        users: (await rows<{ data: unknown }>(`SELECT data FROM ${s}.users ORDER BY seq`)).map((r) =>
          userSchema.parse(r.data),
        ),
        policy: await rows<{ data: unknown }>(`SELECT data FROM ${s}.policy`).then(([r]) =>
          r ? policySchema.parse(r.data) : null,
        ),
        bans: (
          await rows<BanRow>(`SELECT registrant, identity, until, record_no, at FROM ${s}.bans ORDER BY seq`)
        ).map((r) =>
          banSchema.parse({
            registrant: r.registrant,
            identity: r.identity,
            until: r.until,
            recordNo: r.record_no,
            at: r.at,
          }),
        ),
        notifications: (
          await rows<NotificationRow>(
            `SELECT id, to_kind, to_value, type, record_no, at, details FROM ${s}.notifications ORDER BY seq`,
          )
        ).map((row) =>
          notificationSchema.parse({
            id: row.id,
            to: row.to_kind === 'name' ? { name: row.to_value } : { reviewersOf: row.to_value },
            type: row.type,
            recordNo: row.record_no,
            at: row.at,
            details: row.details,
          }),
        ),
        idempotency: (
          await rows<{ user_id: string; key: string; body_hash: string; at: string; sealed: string }>(
            `SELECT user_id, key, body_hash, at, sealed FROM ${s}.idempotency ORDER BY user_id, key`,
          )
        ).map((r) => ({
          userId: r.user_id,
          key: r.key,
          bodyHash: r.body_hash,
          at: r.at,
          response: idempotencyEntrySchema.shape.response.parse(JSON.parse(this.keyring.open(r.sealed))),
        })),
        docs: (
          await rows<{ collection: string; key: string; sealed: string }>(
            `SELECT collection, key, sealed FROM ${s}.docs ORDER BY collection, key`,
          )
        ).map((r) => ({
          collection: r.collection,
          key: r.key,
          value: JSON.parse(this.keyring.open(r.sealed)),
        })),
        audit: (
          await rows<AuditRow>(
            `SELECT at, actor, actor_role, action, records, request_id, details FROM ${s}.audit ORDER BY seq`,
          )
        ).map(auditFromRow),
      };
      await client.query('COMMIT');
      return out;
    } catch (err) {
      broken = await rollbackAfterError(client);
      throw err;
    } finally {
      client.release(broken);
    }
  }

  /** One transaction under the write lock: an empty schema ends up with all of the dump or none of it. */
  async load(dump: StoreDump): Promise<void> {
    this.assertOpen();
    const turn = this.writeQueue.then(async () => {
      const client = await this.pool.connect();
      let broken: Error | undefined;
      const tx = new PostgresTx(this, client, true);
      const s = this.sql.schema;
      try {
        await client.query(
          `BEGIN ISOLATION LEVEL READ COMMITTED; SELECT pg_advisory_xact_lock(${this.sql.lockId})`,
        );
        const held = await client.query<{ n: number }>(
          `SELECT ((SELECT count(*) FROM ${s}.records) + (SELECT count(*) FROM ${s}.counters)
             + (SELECT count(*) FROM ${s}.users) + (SELECT count(*) FROM ${s}.policy)
             + (SELECT count(*) FROM ${s}.bans) + (SELECT count(*) FROM ${s}.notifications)
             + (SELECT count(*) FROM ${s}.idempotency) + (SELECT count(*) FROM ${s}.docs)
             + (SELECT count(*) FROM ${s}.audit))::int AS n`,
        );
        if ((held.rows[0]?.n ?? 0) > 0) throw storeNotEmpty('postgres');
        for (const record of dump.records) await tx.putRecord(record);
        await tx.flush();
        for (const user of dump.users) await tx.putUser(user);
        if (dump.policy !== null) await tx.putPolicy(dump.policy);
        for (const ban of dump.bans) await tx.addBan(ban);
        // In slices: one statement per slice, in order (the store keeps at most MAX_NOTIFICATIONS).
        for (let i = 0; i < dump.notifications.length; i += 5_000) {
          await tx.addNotifications(dump.notifications.slice(i, i + 5_000));
        }
        for (const entry of dump.idempotency) await tx.putIdempotency(entry);
        for (const doc of dump.docs) await tx.putDoc(doc.collection, doc.key, doc.value);
        // A year's sequence starts past its counter when first used; one left by an emptied store goes.
        for (const { year } of await tx.numberedYears()) {
          await client.query(`DROP SEQUENCE IF EXISTS ${s}.registration_no_${year}`);
        }
        for (const [year, n] of Object.entries(dump.counters)) {
          await client.query({
            text: `INSERT INTO ${s}.counters (year, n) VALUES ($1, $2)`,
            values: [Number(year), n],
          });
        }
        for (let i = 0; i < dump.audit.length; i += 5_000) {
          await client.query({
            ...this.sql.appendAudit,
            values: [JSON.stringify(dump.audit.slice(i, i + 5_000))],
          });
        }
        const committed = await client.query('COMMIT');
        if (committed.command !== 'COMMIT') throw transactionAborted();
        this.analyzer.committed(tx.recordsWritten);
      } catch (err) {
        broken = await rollbackAfterError(client);
        throw err;
      } finally {
        tx.finish();
        client.release(broken);
      }
    });
    this.writeQueue = turn.catch(() => undefined);
    await turn;
  }
}

const nameOnlySchema = z.object({ registration: z.object({ customerName: z.string() }) });

/**
 * A transaction on one connection (writes) or a read on the pool. Written records are sealed and
 * staged, and sent in multi-row statements: before any query that scans records, when many are
 * staged, and at commit. Lookups by number or index key see staged records through the overlay, as
 * in lowdb (sealed at put as there: the seal is the copy a caller's later change cannot reach, and a
 * staged record is opened again only when read back, which a batch's rows rarely do).
 */
class PostgresTx implements WriteTx {
  private readonly staged = new Map<string, { sealed: SealedRecord; keys: string[] }>();
  /** Index keys of staged records, so later rows of the same batch find earlier ones. */
  private readonly stagedByKey = new Map<string, Set<string>>();
  /**
   * A dry run's numbers, per year: counted on from the last number given out, never taken from
   * the sequence (a check must not use up numbers; simulated numbers are never shown).
   */
  private readonly dryRunNumbers = new Map<number, Promise<{ taken: number }>>();
  /**
   * Numbers taken from a year's sequence and not yet given out. Told how many it may need (`upTo`:
   * a batch's admitted rows still to decide), a transaction takes them all in one round trip;
   * otherwise 1, then 2, 4… up to NUMBER_BLOCK at a time, so that a one-row write takes exactly
   * one. Numbers left over at the end are a gap, as a rollback's are.
   */
  private readonly numberBlocks = new Map<number, { next: Promise<string[]>; size: number; given: number }>();
  /**
   * Users by name, read once per write transaction (a batch asks for its registrant once per row).
   * Users change only in exclusive writes, and putUser here clears it.
   */
  private readonly usersByName = new Map<string, Promise<User | undefined>>();
  /** Idempotency entries written here: a prune in the same transaction keeps them, as lowdb does. */
  private readonly idempotencyWritten: { userId: string; key: string }[] = [];
  /** What prefetchKeys fetched: look-ups whose keys it all covers are answered from here. */
  private prefetched: Prefetched | undefined;
  /** What prefetchRecordsByNo fetched, by number (null: not in the store), as flush leaves it. */
  private prefetchedByNo: Map<string, SealedRecord | null> | undefined;
  private finished = false;
  /** Records this transaction's flushes wrote (the store's GrowthAnalyzer counts them at commit). */
  recordsWritten = 0;

  constructor(
    private readonly store: PostgresStore,
    private readonly db: Queryable,
    /** A write transaction on its own connection (claims hold rows until it ends), or a read on the pool. */
    private readonly inTransaction: boolean,
    /** A transaction that will be rolled back (simulate). */
    private readonly dryRun = false,
  ) {}

  finish(): void {
    this.finished = true;
  }

  /** Writes the staged records and their index keys (replacing the keys a record had before). */
  async flush(): Promise<void> {
    if (this.staged.size === 0) return;
    const batch = [...this.staged.values()];
    this.recordsWritten += batch.length;
    this.staged.clear();
    this.stagedByKey.clear();
    const sealed = batch.map((staged) => staged.sealed);
    const nos = sealed.map((s) => s.no);
    // The prefetched look-ups now answer with what this flush writes, as the database will.
    if (this.prefetched)
      for (const [i, record] of sealed.entries()) this.prefetched.file(record, batch[i]!.keys);
    const byNo = this.prefetchedByNo;
    if (byNo) for (const record of sealed) if (byNo.has(record.no)) byNo.set(record.no, record);
    const sql = this.store.sql;
    // One JSON text for the batch, records with their index keys: JSON.stringify is native, where
    // text arrays were escaped element by element in JavaScript (the identities' JSON twice).
    const rows = sealed.map((s, i) => [
      s.no,
      s.status,
      s.registrant,
      s.team ?? null,
      s.receivedAt,
      dayOf(s.receivedAt),
      s.claimedAt,
      s.protectedUntil ?? null,
      s.sharedWith ?? null,
      s.identity,
      s.version,
      s.sealed,
      s.objectionOpen === true,
      s.objectionDeadline ?? null,
      s.sharedWithNo ?? null,
      batch[i]!.keys,
    ]);
    // The records, the keys they no longer have out and the new ones in: one statement.
    await this.query(sql.upsertRecords, [JSON.stringify(rows), nos]);
  }

  /** Last number given out per year that has any (sequence, or the counter of an older schema). */
  async numberedYears(): Promise<{ year: number; n: number }[]> {
    const rows = await this.query<{ year: number; n: string }>(this.store.sql.numberedYears, [
      this.store.sql.schemaName,
    ]);
    return rows.map((row) => ({ year: row.year, n: Number(row.n) })).filter((row) => row.n > 0);
  }

  // ---- reads ----

  async getRecord(no: string): Promise<StoredRecord | undefined> {
    const known = this.knownRecord(no);
    if (known !== undefined) return known ?? undefined;
    const [row] = await this.query<RecordRow>(this.store.sql.getRecord, [no]);
    return row ? this.open(row) : undefined;
  }

  /**
   * A record this transaction can answer without the database: staged first, then what a prefetch
   * holds (kept current by flush). Null: known not to be in the store; undefined: ask the database.
   */
  private knownRecord(no: string): StoredRecord | null | undefined {
    const staged = this.staged.get(no);
    if (staged) return openRecord(staged.sealed, this.store.keyring);
    const prefetched = this.prefetchedByNo?.get(no);
    return prefetched == null ? prefetched : openRecord(prefetched, this.store.keyring);
  }

  /**
   * Fetches these registrations in one query; getRecord then answers them from memory, a number
   * not in the store as well (a history sheet's own numbers mostly are not). Staged records are
   * overlaid as always, and flush files what it writes here, so answers are the database's. Safe
   * in a write only because the caller is an exclusive write (the import): no other transaction
   * changes records meanwhile, and this one changes them only through putRecord. A read (on the
   * pool, each statement its own snapshot) gets the records as this one query saw them.
   */
  async prefetchRecordsByNo(nos: readonly string[]): Promise<void> {
    this.prefetchedByNo = undefined;
    const byNo = new Map<string, SealedRecord | null>(nos.map((no) => [no, null]));
    if (byNo.size === 0) return;
    const rows = await this.query<RecordRow>(this.store.sql.recordsByNo, [[...byNo.keys()]]);
    for (const row of rows) byNo.set(row.no, sealedFromRow(row));
    this.prefetchedByNo = byNo;
  }

  async getRecordsByNo(nos: readonly string[]): Promise<Map<string, StoredRecord>> {
    const found = new Map<string, StoredRecord>();
    const ask: string[] = [];
    for (const no of new Set(nos)) {
      const known = this.knownRecord(no);
      if (known === undefined) ask.push(no);
      else if (known !== null) found.set(no, known);
    }
    if (ask.length > 0) {
      for (const row of await this.query<RecordRow>(this.store.sql.recordsByNo, [ask])) {
        found.set(row.no, this.open(row));
      }
    }
    return found;
  }

  /**
   * Fetches, in two queries, the records and bans filed under any of these index keys (a batch's
   * look-up keys, after its locks are taken); findRecordsByKeys and findBans then answer look-ups
   * of covered keys from memory, with staged records overlaid as always. A later call replaces the
   * cache with one of its own keys (an import prefetches a chunk of rows at a time): look-ups of
   * keys no longer covered ask the database, which holds what this transaction flushed.
   *
   * Why answering from this snapshot is safe (docs/architecture.md, "Locking on PostgreSQL"): bans
   * are added and records changed only by exclusive writes, which cannot run beside a keyed write
   * (advisory lock) and, in an exclusive write, beside anything. Beside a keyed write, other keyed
   * writes only add records. One that exactly matches a row here shares a lock key with it that one
   * side holds exclusive (core/customerLocks.ts): it committed before the locks were granted, so
   * the prefetch (a statement after them, READ COMMITTED) sees it, or it waits for this commit.
   * What may commit between the prefetch and a look-up is therefore at most a possible match on
   * keys held shared or not locked, and missing it is what happens anyway when that writer commits
   * just after this look-up (it cannot see this batch's uncommitted rows either). The records this
   * transaction writes are staged (overlaid) or flushed (filed into the cache by flush).
   */
  async prefetchKeys(keys: readonly string[]): Promise<void> {
    // Staged records need not be written first: look-ups overlay them, and flush files them here.
    this.prefetched = undefined;
    const wanted = new Set(keys);
    if (wanted.size === 0) return;
    const list = [...wanted];
    const rows = await this.query<(RecordRow & { keys: string[]; bans: null }) | { no: null; bans: unknown }>(
      this.store.sql.prefetchRecords,
      [list],
    );
    const prefetched = new Prefetched(wanted);
    prefetched.bans = [];
    for (const row of rows) {
      if (row.no !== null) prefetched.file(sealedFromRow(row), row.keys);
      else if (row.bans !== null) {
        for (const ban of prefetchedBansSchema.parse(row.bans))
          prefetched.bans.push({ ban: banFromRow(ban), keys: new Set(ban.keys) });
      }
    }
    this.prefetched = prefetched;
  }

  async findRecordsByKeys(
    keys: readonly string[],
    accept?: (identity: IdentityKeys, clear?: RecordClearFields) => boolean,
  ): Promise<StoredRecord[]> {
    if (keys.length === 0) return [];
    const out: StoredRecord[] = [];
    const stored =
      this.prefetched?.covers(keys) === true
        ? this.prefetched.recordsUnder(keys)
        : (await this.query<RecordRow>(this.store.sql.findRecordsByKeys, [[...keys]])).map(sealedFromRow);
    for (const sealed of stored) {
      // A staged version replaces the stored one, with the keys it has now. The clear fields go to
      // the filter, so records the caller drops (ended ones, say) are never opened.
      if (this.staged.has(sealed.no) || (accept && !accept(sealed.identity, sealed))) continue;
      out.push(openRecord(sealed, this.store.keyring));
    }
    const stagedNos = new Set<string>();
    for (const key of keys) for (const no of this.stagedByKey.get(key) ?? []) stagedNos.add(no);
    for (const no of stagedNos) {
      const staged = this.staged.get(no);
      if (staged && (!accept || accept(staged.sealed.identity, staged.sealed)))
        out.push(openRecord(staged.sealed, this.store.keyring));
    }
    return out;
  }

  /**
   * Without `q`, SQL filters, sorts, pages and counts. With `q` (names are sealed), the other
   * criteria select the candidates in SQL and their names are opened here: the first search costs
   * one decryption per candidate, later ones only fetch each candidate's number and seal tag, plus
   * the names of records changed since. Total and paging count the name matches.
   */
  async listRecords(query: RecordQuery): Promise<{ items: StoredRecord[]; total: number }> {
    await this.flush();
    const params = new Params();
    const table = `${this.store.sql.schema}.records`;
    const where = recordConditions(query, params, table);
    const order = 'ORDER BY received_at DESC, no DESC';
    if (query.q === undefined || query.q === '') {
      const filterValues = [...params.values];
      const [count, rows] = await Promise.all([
        this.query<{ total: number }>(
          `SELECT count(*)::int AS total FROM ${table} WHERE ${where}`,
          filterValues,
        ),
        this.query<RecordRow>(
          `SELECT ${RECORD_COLUMNS} FROM ${table} WHERE ${where} ${order}
           LIMIT ${params.add(query.limit)} OFFSET ${params.add(query.offset)}`,
          params.values,
        ),
      ]);
      return { items: rows.map((row) => this.open(row)), total: count[0]?.total ?? 0 };
    }
    const candidates = await this.query<{ no: string; tag: string }>(
      `SELECT no, right(sealed, ${SEAL_TAG_CHARS}) AS tag FROM ${table} WHERE ${where} ${order}`,
      params.values,
    );
    const names = await this.store.customerNames(candidates, this.db);
    const needle = query.q.toLowerCase();
    const hits = candidates.filter((c) => (names.get(c.no) ?? '').toLowerCase().includes(needle));
    const page = hits.slice(query.offset, query.offset + query.limit).map((c) => c.no);
    const byNo = new Map<string, StoredRecord>();
    if (page.length > 0) {
      for (const row of await this.query<RecordRow>(this.store.sql.recordsByNo, [page])) {
        byNo.set(row.no, this.open(row));
      }
    }
    return { items: page.flatMap((no) => byNo.get(no) ?? []), total: hits.length };
  }

  async *scanRecords(query: RecordScan, pageSize: number): AsyncIterable<StoredRecord[]> {
    // Keyset paging on (received_at, no), the records_received index's order: each page starts
    // where the last ended, with no offset to skip and no count.
    let after: { receivedAt: string; no: string } | undefined;
    for (;;) {
      await this.flush();
      const params = new Params();
      const table = `${this.store.sql.schema}.records`;
      const where = recordConditions(query, params, table);
      const from = after
        ? ` AND (received_at, no) < (${params.add(after.receivedAt)}, ${params.add(after.no)})`
        : '';
      const rows = await this.query<RecordRow>(
        `SELECT ${RECORD_COLUMNS} FROM ${table} WHERE ${where}${from}
         ORDER BY received_at DESC, no DESC LIMIT ${params.add(pageSize)}`,
        params.values,
      );
      const last = rows.at(-1);
      if (last === undefined) return;
      yield rows.map((row) => this.open(row));
      if (rows.length < pageSize) return;
      after = { receivedAt: last.received_at, no: last.no };
    }
  }

  async recordNumbers(): Promise<string[]> {
    await this.flush();
    const rows = await this.query<{ no: string }>(
      `SELECT no FROM ${this.store.sql.schema}.records ORDER BY no COLLATE "C"`,
      [],
    );
    return rows.map((row) => row.no);
  }

  async countRecords(
    query: RecordScan,
  ): Promise<{ registrant: string; team?: string; status: RecordStatus; count: number }[]> {
    await this.flush();
    const params = new Params();
    const where = recordConditions(query, params, `${this.store.sql.schema}.records`);
    const rows = await this.query<{
      registrant: string;
      team: string | null;
      status: RecordStatus;
      count: number;
    }>(
      `SELECT registrant, team, ${effectiveStatusSql(params, query.today)} AS status, count(*)::int AS count
       FROM ${this.store.sql.schema}.records WHERE ${where} GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
      params.values,
    );
    return rows.map((row) => ({
      registrant: row.registrant,
      ...(row.team !== null ? { team: row.team } : {}),
      status: row.status,
      count: row.count,
    }));
  }

  async recordsEndingBefore(day: Day, statuses: readonly RecordStatus[]): Promise<StoredRecord[]> {
    await this.flush();
    const rows = await this.query<RecordRow>(this.store.sql.recordsEndingBefore, [[...statuses], day]);
    return rows.map((row) => this.open(row));
  }

  async recordsWithStatus(statuses: readonly RecordStatus[]): Promise<StoredRecord[]> {
    await this.flush();
    const rows = await this.query<RecordRow>(this.store.sql.recordsWithStatus, [[...statuses]]);
    return rows.map((row) => this.open(row));
  }

  async writeMark(): Promise<WriteMark> {
    // Under the read's REPEATABLE READ this is the snapshot its other queries see; in a write
    // (READ COMMITTED) it is older than the snapshots of its later queries, which only see more.
    const [row] = await this.query<{ snapshot: string }>(this.store.sql.writeMark, []);
    return `pg:${row!.snapshot}` as WriteMark;
  }

  async recordsWrittenSince(mark: WriteMark): Promise<StoredRecord[] | undefined> {
    // pg_snapshot's text: xmin:xmax:xip,… (the transactions running when it was taken).
    const parsed = /^pg:(\d+):(\d+):([\d,]*)$/.exec(mark);
    if (parsed === null) return undefined;
    const running = parsed[3] === '' ? [] : parsed[3]!.split(',');
    await this.flush();
    const rows =
      running.length === 0
        ? await this.query<RecordRow>(this.store.sql.recordsWrittenAfter, [parsed[2]])
        : await this.query<RecordRow>(this.store.sql.recordsWrittenSince, [parsed[2], running]);
    return rows.map((row) => this.open(row));
  }

  async findBans(keys: readonly string[], registrant: string, today: Day): Promise<Ban[]> {
    if (keys.length === 0) return [];
    const prefetched = this.prefetched;
    if (prefetched?.bans !== undefined && prefetched.covers(keys)) {
      // As the query: the registrant's, in force on `today`, sharing a key, each once, oldest first.
      return prefetched.bans
        .filter(
          ({ ban, keys: filed }) =>
            ban.registrant === registrant && ban.until >= today && keys.some((key) => filed.has(key)),
        )
        .map(({ ban }) => structuredClone(ban));
    }
    const rows = await this.query<BanRow>(this.store.sql.findBans, [registrant, today, [...keys]]);
    return rows.map(banFromRow);
  }

  async getUserByTokenHash(tokenHash: string): Promise<User | undefined> {
    const [row] = await this.query<{ data: unknown }>(this.store.sql.userByTokenHash, [tokenHash]);
    return row ? userSchema.parse(row.data) : undefined;
  }

  async getUserByName(name: string): Promise<User | undefined> {
    const read = async () => {
      const [row] = await this.query<{ data: unknown }>(this.store.sql.userByName, [name]);
      return row ? userSchema.parse(row.data) : undefined;
    };
    if (!this.inTransaction) return await read();
    let user = this.usersByName.get(name);
    if (!user) {
      user = read();
      this.usersByName.set(name, user);
      // A failed read is not kept (the transaction is failing anyway, but a retry must not see it).
      user.catch(() => this.usersByName.delete(name));
    }
    const found = await user;
    return found ? structuredClone(found) : undefined;
  }

  async listUsers(): Promise<User[]> {
    return (await this.query<{ data: unknown }>(this.store.sql.listUsers, [])).map((row) =>
      userSchema.parse(row.data),
    );
  }

  async getPolicy(): Promise<Policy | undefined> {
    const [row] = await this.query<{ data: unknown }>(this.store.sql.getPolicy, []);
    return row ? policySchema.parse(row.data) : undefined;
  }

  async listNotifications(
    forUser: { name: string; role: Role; team?: string },
    limit: number,
  ): Promise<Notification[]> {
    const rows = await this.query<NotificationRow>(this.store.sql.listNotifications, [
      forUser.name,
      forUser.role,
      forUser.team ?? null,
      limit,
    ]);
    return rows.map((row) =>
      notificationSchema.parse({
        id: row.id,
        to: row.to_kind === 'name' ? { name: row.to_value } : { reviewersOf: row.to_value },
        type: row.type,
        recordNo: row.record_no,
        at: row.at,
        details: row.details,
      }),
    );
  }

  async getIdempotency(userId: string, key: string): Promise<IdempotencyEntry | undefined> {
    const [row] = await this.query<{ body_hash: string; at: string; sealed: string }>(
      this.store.sql.getIdempotency,
      [userId, key],
    );
    if (!row) return undefined;
    const response = idempotencyEntrySchema.shape.response.parse(
      JSON.parse(this.store.keyring.open(row.sealed)),
    );
    return { userId, key, bodyHash: row.body_hash, at: row.at, response };
  }

  async getDoc(collection: string, key: string): Promise<unknown> {
    checkDocAddress(collection, key);
    const [row] = await this.query<{ sealed: string }>(this.store.sql.getDoc, [collection, key]);
    return row ? JSON.parse(this.store.keyring.open(row.sealed)) : undefined;
  }

  listDocs(collection: string, range: DocRange = {}): Promise<DocEntry[]> {
    return this.selectDocs(collection, range, '');
  }

  async claimDocs(collection: string, range: DocRange = {}): Promise<DocEntry[]> {
    if (!this.inTransaction) throw new Error('claimDocs needs a write transaction');
    return await this.selectDocs(collection, range, 'FOR UPDATE SKIP LOCKED');
  }

  async holdDocs(collection: string, keys: readonly string[]): Promise<Map<string, unknown>> {
    if (!this.inTransaction) throw new Error('holdDocs needs a write transaction');
    for (const key of keys) checkDocAddress(collection, key);
    const out = new Map<string, unknown>();
    if (keys.length === 0) return out;
    const rows = await this.query<{ key: string; sealed: string }>(this.store.sql.holdDocs, [
      collection,
      [...new Set(keys)],
    ]);
    for (const row of rows) out.set(row.key, JSON.parse(this.store.keyring.open(row.sealed)));
    return out;
  }

  private async selectDocs(collection: string, range: DocRange, lock: string): Promise<DocEntry[]> {
    checkDocAddress(collection);
    const params = new Params();
    const conditions = [`collection = ${params.add(collection)}`];
    if (range.from !== undefined) conditions.push(`key >= ${params.add(range.from)}`);
    if (range.to !== undefined) conditions.push(`key < ${params.add(range.to)}`);
    // starts_with, not LIKE: a prefix holding % or _ means itself.
    if (range.prefix !== undefined) conditions.push(`starts_with(key, ${params.add(range.prefix)})`);
    const limit = range.limit !== undefined ? `LIMIT ${params.add(range.limit)}` : '';
    const rows = await this.query<{ key: string; sealed: string }>(
      `SELECT key, sealed FROM ${this.store.sql.schema}.docs WHERE ${conditions.join(' AND ')}
       ORDER BY key ${limit} ${lock}`,
      params.values,
    );
    return rows.map((row) => ({ key: row.key, value: JSON.parse(this.store.keyring.open(row.sealed)) }));
  }

  // ---- writes ----

  async putDoc(collection: string, key: string, value: unknown): Promise<void> {
    await this.query(this.store.sql.putDoc, [collection, key, this.sealDoc(collection, key, value)]);
  }

  async insertDoc(collection: string, key: string, value: unknown): Promise<boolean> {
    const inserted = await this.query(this.store.sql.insertDoc, [
      collection,
      key,
      this.sealDoc(collection, key, value),
    ]);
    return inserted.length > 0;
  }

  async deleteDoc(collection: string, key: string): Promise<void> {
    checkDocAddress(collection, key);
    await this.query(this.store.sql.deleteDoc, [collection, key]);
  }

  private sealDoc(collection: string, key: string, value: unknown): string {
    checkDocAddress(collection, key);
    const text = JSON.stringify(value);
    if (text === undefined) throw new Error(`document ${collection}/${key}: value is not JSON`);
    return this.store.keyring.seal(text);
  }

  async putRecord(record: StoredRecord): Promise<void> {
    const previous = this.staged.get(record.no);
    if (previous) for (const key of previous.keys) this.stagedByKey.get(key)?.delete(record.no);
    const keys = [...new Set(indexKeys(record.identity))];
    for (const key of keys) {
      let nos = this.stagedByKey.get(key);
      if (!nos) this.stagedByKey.set(key, (nos = new Set()));
      nos.add(record.no);
    }
    const sealed = sealRecord(record, this.store.keyring);
    // sealRecord keeps the caller's identity object in the clear part; the stage keeps its own.
    sealed.identity = structuredClone(sealed.identity);
    this.staged.set(record.no, { sealed, keys });
    if (this.staged.size >= FLUSH_EVERY) await this.flush();
  }

  async nextRegistrationNo(year: number, upTo?: number): Promise<string> {
    if (this.dryRun) {
      let pending = this.dryRunNumbers.get(year);
      if (!pending) {
        // Kept as a promise so that calls made before it resolves count on from the same start.
        pending = this.query<{ n: string }>(this.store.sql.lastNumber, [
          year,
          this.store.sql.schemaName,
        ]).then(([row]) => ({
          taken: Number(row?.n ?? 0),
        }));
        this.dryRunNumbers.set(year, pending);
      }
      const counter = await pending;
      counter.taken++;
      return registrationNo(year, counter.taken);
    }
    // A sequence never waits and never serialises writers; a rolled-back transaction leaves a gap
    // in the year's numbers (R7 asks for unique numbers, not for no gaps).
    let block = this.numberBlocks.get(year);
    if (!block) this.numberBlocks.set(year, (block = { next: Promise.resolve([]), size: 0, given: 0 }));
    // Chained, so that calls made together share blocks rather than each taking one.
    const current = block;
    const taking = current.next.then(async (left) => {
      if (left.length > 0) return left;
      current.size =
        upTo !== undefined
          ? Math.min(
              NUMBER_BLOCK_HINTED,
              Math.max(NUMBER_BLOCK, current.given),
              Math.max(1, Math.floor(upTo)),
            )
          : Math.min(NUMBER_BLOCK, Math.max(1, current.size * 2));
      const rows = await this.query<{ n: string }>(this.store.sql.nextNumbers, [
        year,
        this.store.sql.schemaName,
        current.size,
      ]);
      return rows.map((row) => row.n);
    });
    const taken = taking.then((left) => {
      if (left.length > 0) current.given++;
      return left[0];
    });
    current.next = taking.then(
      (left) => left.slice(1),
      () => [],
    );
    const n = await taken;
    if (n === undefined) throw new Error('take_registration_nos returned no row');
    return registrationNo(year, Number(n));
  }

  async putUser(user: User): Promise<void> {
    this.usersByName.clear();
    await this.query(this.store.sql.putUser, [user.id, user.name, user.tokenHash, JSON.stringify(user)]);
  }

  async putPolicy(policy: Policy): Promise<void> {
    await this.query(this.store.sql.putPolicy, [JSON.stringify(policy)]);
  }

  async addBan(ban: Ban): Promise<void> {
    // Prefetched bans no longer tell every ban: findBans asks the database again.
    if (this.prefetched) this.prefetched.bans = undefined;
    await this.query(this.store.sql.addBan, [
      ban.registrant,
      ban.until,
      ban.recordNo,
      ban.at,
      JSON.stringify(ban.identity),
      [...new Set(indexKeys(ban.identity))],
    ]);
  }

  async addNotifications(notifications: Notification[]): Promise<void> {
    if (notifications.length === 0) return;
    await this.query(this.store.sql.addNotifications, [JSON.stringify(notifications), MAX_NOTIFICATIONS]);
  }

  async putIdempotency(entry: IdempotencyEntry): Promise<void> {
    await this.query(this.store.sql.putIdempotency, [
      entry.userId,
      entry.key,
      entry.bodyHash,
      entry.at,
      this.store.keyring.seal(JSON.stringify(entry.response)),
    ]);
    this.idempotencyWritten.push({ userId: entry.userId, key: entry.key });
  }

  async pruneIdempotency(olderThan: Instant): Promise<void> {
    await this.query(this.store.sql.pruneIdempotency, [
      olderThan,
      this.idempotencyWritten.map((e) => e.userId),
      this.idempotencyWritten.map((e) => e.key),
    ]);
  }

  private open(row: RecordRow): StoredRecord {
    return openRecord(sealedFromRow(row), this.store.keyring);
  }

  private async query<R extends pg.QueryResultRow>(sql: Statement | string, values: unknown[]): Promise<R[]> {
    if (this.finished) throw new Error('transaction already finished');
    const config = typeof sql === 'string' ? { text: sql, values } : { ...sql, values };
    return (await this.db.query<R>(config)).rows;
  }
}

type BanRow = { registrant: string; identity: unknown; until: string; record_no: string; at: string };

/** The bans prefetchRecords sends as JSON (banFromRow checks each ban itself). */
const prefetchedBansSchema = z.array(
  z.object({
    registrant: z.string(),
    identity: z.unknown(),
    until: z.string(),
    record_no: z.string(),
    at: z.string(),
    keys: z.array(z.string()),
  }),
);

function banFromRow(row: BanRow): Ban {
  return banSchema.parse({
    registrant: row.registrant,
    identity: row.identity,
    until: row.until,
    recordNo: row.record_no,
    at: row.at,
  });
}

type NotificationRow = {
  id: string;
  to_kind: 'name' | 'reviewers';
  to_value: string | null;
  type: string;
  record_no: string;
  at: string;
  details: unknown;
};
type AuditRow = {
  at: string;
  actor: string;
  actor_role: string;
  action: string;
  records: string[];
  request_id: string | null;
  details: unknown;
};

function sealedFromRow(row: RecordRow): SealedRecord {
  const sealed: SealedRecord = {
    no: row.no,
    status: row.status,
    registrant: row.registrant,
    receivedAt: row.received_at,
    claimedAt: row.claimed_at,
    objectionOpen: row.objection_open,
    identity: row.identity,
    version: row.version,
    sealed: row.sealed,
  };
  if (row.team !== null) sealed.team = row.team;
  if (row.protected_until !== null) sealed.protectedUntil = row.protected_until;
  if (row.shared_with !== null) sealed.sharedWith = row.shared_with;
  if (row.objection_deadline !== null) sealed.objectionDeadline = row.objection_deadline;
  if (row.shared_with_no !== null) sealed.sharedWithNo = row.shared_with_no;
  return sealed;
}

function auditFromRow(row: AuditRow): AuditEntry {
  return auditEntrySchema.parse({
    at: row.at,
    actor: row.actor,
    actorRole: row.actor_role,
    action: row.action,
    records: row.records,
    ...(row.request_id !== null ? { requestId: row.request_id } : {}),
    ...(row.details !== null ? { details: row.details } : {}),
  });
}

/** Numbered placeholders for a query built from optional criteria. */
class Params {
  readonly values: unknown[] = [];

  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/**
 * R25 in SQL, as `effectiveStatus`: a protecting record past its last day reads as expired. `row`
 * qualifies the columns (`p.`) when another row of the table is in the query too.
 */
function effectiveStatusSql(params: Params, today: Day, row = ''): string {
  return `(CASE WHEN ${row}status = ANY(${params.add([...PROTECTING_STATUSES])}::text[])
            AND ${row}protected_until < ${params.add(today)} THEN 'expired' ELSE ${row}status END)`;
}

/**
 * The clear-column part of a query of `table` (`schema.records`, unaliased; everything but the name
 * search), as lowdb's matchesQuery.
 */
function recordConditions(query: RecordScan, params: Params, table: string): string {
  let effective: string | undefined;
  // Built on first use: a placeholder no condition refers to would leave its type undetermined.
  const status = (): string => (effective ??= effectiveStatusSql(params, query.today));
  const conditions = ['true'];
  if (query.statuses) conditions.push(`${status()} = ANY(${params.add(query.statuses)}::text[])`);
  // The share partner sees the record while the share lasts (R16, core sharePartner): the column
  // follows the stored status and percent; on the query's day a protection past its last day has
  // ended, and a partner record past its own has left (core partnerHasLeft), before the sweep.
  const sharedOn = (): string => {
    const sharing = params.add([...SHARING_STATUSES]);
    const partnerLeft =
      `${status()} = ANY(${params.add([...PROTECTING_STATUSES])}::text[])` +
      ` AND EXISTS (SELECT 1 FROM ${table} p WHERE p.no = records.shared_with_no` +
      ` AND ${effectiveStatusSql(params, query.today, 'p.')} <> ALL(${sharing}::text[]))`;
    return `(${status()} = ANY(${sharing}::text[]) AND NOT (${partnerLeft}))`;
  };
  const scope = query.scope;
  if (scope && (scope.registrants || scope.teams)) {
    const registrants = params.add(scope.registrants ?? []);
    conditions.push(
      `(registrant = ANY(${registrants}::text[])` +
        ` OR (shared_with = ANY(${registrants}::text[]) AND ${sharedOn()})` +
        ` OR team = ANY(${params.add(scope.teams ?? [])}::text[]))`,
    );
  }
  if (query.registrant !== undefined) {
    const registrant = params.add(query.registrant);
    conditions.push(`(registrant = ${registrant} OR (shared_with = ${registrant} AND ${sharedOn()}))`);
  }
  if (query.expiringWithinDays !== undefined) {
    conditions.push(
      `${status()} = ANY(${params.add([...PROTECTING_STATUSES])}::text[])` +
        ` AND protected_until <= ${params.add(addDays(query.today, query.expiringWithinDays))}`,
    );
  }
  if (query.nos) conditions.push(`no = ANY(${params.add(query.nos)}::text[])`);
  if (query.receivedBetween) {
    conditions.push(
      `received_day BETWEEN ${params.add(query.receivedBetween.from)} AND ${params.add(query.receivedBetween.to)}`,
    );
  }
  // Written out rather than a placeholder, so the planner sees the partial index's own condition.
  if (query.objectionOpen !== undefined)
    conditions.push(query.objectionOpen ? 'objection_open' : 'NOT objection_open');
  if (query.objectionDeadlineFrom !== undefined)
    conditions.push(`objection_deadline >= ${params.add(query.objectionDeadlineFrom)}`);
  return conditions.join(' AND ');
}

/** Rolls back after a failed statement; the error when even that fails (the connection is then unusable). */
async function rollbackAfterError(client: pg.PoolClient): Promise<Error | undefined> {
  try {
    await client.query('ROLLBACK');
    return undefined;
  } catch (rollbackError) {
    return rollbackError as Error;
  }
}

function transactionAborted(): Error {
  return new Error('the transaction was rolled back: a statement in it failed (its error was caught)');
}

function corruptSchema(schema: string, why: string): DomainError {
  return new DomainError(
    problem(
      'store.corrupt',
      `数据库中的数据无法识别，服务拒绝启动且不会修改它：schema ${schema}（${why}）。请检查 DATABASE_URL 与 schema。`,
      `The data in the database is not recognised; refusing to start and leaving it untouched: schema ${schema} (${why}). Check DATABASE_URL and the schema.`,
    ),
    { schema },
  );
}

/**
 * Tables, views, sequences… in a schema: anything there is someone's. `besideVault` leaves out the
 * file vault's own table (`sealed_files`), which may be there before the store's first open.
 */
export async function relationsInSchema(
  client: pg.ClientBase,
  schemaName: string,
  options: { besideVault?: boolean } = {},
): Promise<number> {
  const found = await client.query<{ n: number }>({
    text: `SELECT count(*)::int AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = $1 AND ($2 = false OR c.relname NOT LIKE 'sealed\\_files%')`,
    values: [schemaName, options.besideVault === true],
  });
  return found.rows[0]?.n ?? 0;
}

/**
 * Creates the tables on first use and checks the key on every open, under the write lock so that
 * instances starting together do not race to create them.
 */
async function prepareSchema(
  pool: pg.Pool,
  sql: Statements,
  keyring: Keyring,
  connectionString: string,
): Promise<void> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query(`BEGIN; SELECT pg_advisory_xact_lock(${sql.lockId})`);
    const found = await client.query<{ exists: boolean }>({
      text: 'SELECT to_regclass($1) IS NOT NULL AS exists',
      values: [`${sql.schema}.meta`],
    });
    if (found.rows[0]?.exists !== true) {
      // No store yet. A schema of another application (BAOBEI_PG_SCHEMA mistyped, or `public`) would
      // get Baobei's tables among its own: refused. The file vault's own table may be there already.
      if ((await relationsInSchema(client, sql.schemaName, { besideVault: true })) > 0)
        throw foreignSchemaProblem({ connectionString, schema: sql.schemaName });
      // Plain CREATE TABLE: a same-named table of something else in the schema fails loudly here.
      await client.query(schemaDdl(sql.schema));
      await client.query({
        text: `INSERT INTO ${sql.schema}.meta (name, value) VALUES ('format', $1), ('version', $2), ('keyCheck', $3)`,
        values: [FORMAT, SCHEMA_VERSION, keyring.seal(KEY_CHECK)],
      });
    } else {
      const rows = await client.query<{ name: string; value: string }>(
        `SELECT name, value FROM ${sql.schema}.meta`,
      );
      const meta = new Map(rows.rows.map((row) => [row.name, row.value]));
      if (meta.get('format') !== FORMAT) throw corruptSchema(sql.schema, 'not a Baobei store');
      let version = meta.get('version') ?? '';
      for (let migrate = MIGRATIONS[version]; migrate !== undefined; migrate = MIGRATIONS[version]) {
        await client.query(migrate(sql.schema));
        await MIGRATION_FILLS[version]?.(client, sql.schema, keyring);
        version = String(Number(version) + 1);
        await client.query({
          text: `UPDATE ${sql.schema}.meta SET value = $1 WHERE name = 'version'`,
          values: [version],
        });
      }
      if (version !== SCHEMA_VERSION) throw corruptSchema(sql.schema, `version ${meta.get('version')}`);
      const keyCheck = meta.get('keyCheck');
      if (keyCheck === undefined) throw corruptSchema(sql.schema, 'no key check value');
      // Throws store.key_mismatch when BAOBEI_KEY / the key file is not the one that wrote the data.
      if (keyring.open(keyCheck) !== KEY_CHECK) throw corruptSchema(sql.schema, 'key check value');
    }
    await client.query('COMMIT');
  } catch (err) {
    broken = await rollbackAfterError(client);
    throw err;
  } finally {
    client.release(broken);
  }
}

/**
 * The tables. Only what the store filters on is in clear (numbers, statuses, registrants, teams,
 * dates, hashed identity keys); customer data is sealed. Text compared or sorted uses the "C"
 * collation so the order is the lowdb store's (code units), whatever the database's locale.
 */
function schemaDdl(s: string): string {
  return (
    `
    CREATE SCHEMA IF NOT EXISTS ${s};
    CREATE TABLE ${s}.meta (name text PRIMARY KEY, value text NOT NULL);
    CREATE TABLE ${s}.records (
      no text COLLATE "C" PRIMARY KEY,
      status text NOT NULL,
      registrant text NOT NULL,
      team text,
      received_at text COLLATE "C" NOT NULL,
      received_day text COLLATE "C" NOT NULL,
      claimed_at text COLLATE "C" NOT NULL,
      protected_until text COLLATE "C",
      shared_with text,
      identity jsonb NOT NULL,
      version integer NOT NULL,
      sealed text NOT NULL
    );
    CREATE INDEX records_received ON ${s}.records (received_at DESC, no DESC);
    CREATE INDEX records_status ON ${s}.records (status, protected_until);
    CREATE INDEX records_registrant ON ${s}.records (registrant);
    CREATE INDEX records_shared_with ON ${s}.records (shared_with) WHERE shared_with IS NOT NULL;
    CREATE INDEX records_team ON ${s}.records (team);
    CREATE TABLE ${s}.record_keys (
      key text COLLATE "C" NOT NULL,
      no text COLLATE "C" NOT NULL,
      PRIMARY KEY (key, no)
    );
    CREATE INDEX record_keys_no ON ${s}.record_keys (no);
    CREATE TABLE ${s}.counters (year integer PRIMARY KEY, n integer NOT NULL);
    CREATE TABLE ${s}.users (
      id text PRIMARY KEY,
      seq bigint GENERATED ALWAYS AS IDENTITY,
      name text NOT NULL,
      token_hash text NOT NULL,
      data jsonb NOT NULL
    );
    CREATE INDEX users_token_hash ON ${s}.users (token_hash);
    CREATE INDEX users_name ON ${s}.users (name);
    CREATE TABLE ${s}.policy (singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton), data jsonb NOT NULL);
    CREATE TABLE ${s}.bans (
      seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      registrant text NOT NULL,
      until text COLLATE "C" NOT NULL,
      record_no text NOT NULL,
      at text NOT NULL,
      identity jsonb NOT NULL,
      keys text[] NOT NULL
    );
    CREATE INDEX bans_keys ON ${s}.bans USING gin (keys);
    CREATE TABLE ${s}.notifications (
      seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      id text NOT NULL,
      to_kind text NOT NULL CHECK (to_kind IN ('name', 'reviewers')),
      to_value text,
      type text NOT NULL,
      record_no text NOT NULL,
      at text NOT NULL,
      details jsonb NOT NULL
    );
    CREATE INDEX notifications_to ON ${s}.notifications (to_kind, to_value, seq);
    CREATE TABLE ${s}.idempotency (
      user_id text NOT NULL,
      key text NOT NULL,
      body_hash text NOT NULL,
      at text COLLATE "C" NOT NULL,
      sealed text NOT NULL,
      PRIMARY KEY (user_id, key)
    );
    CREATE INDEX idempotency_at ON ${s}.idempotency (at);
    -- imports and blobs: kept by versions before the file vault (postgresFileVault.ts); no longer written.
    CREATE TABLE ${s}.imports (
      id text PRIMARY KEY,
      owner text NOT NULL,
      created_at text NOT NULL,
      mode text NOT NULL,
      dry_run boolean NOT NULL,
      sealed text NOT NULL
    );
    CREATE TABLE ${s}.audit (
      seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      at text COLLATE "C" NOT NULL,
      actor text NOT NULL,
      actor_role text NOT NULL,
      action text NOT NULL,
      records text[] NOT NULL,
      request_id text,
      details jsonb
    );
    CREATE INDEX audit_actor ON ${s}.audit (actor, seq);
    CREATE INDEX audit_at ON ${s}.audit (at);
    CREATE INDEX audit_records ON ${s}.audit USING gin (records);
    CREATE FUNCTION ${s}.audit_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'the audit trail is append-only (R36)'; END $$;
    CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON ${s}.audit
      FOR EACH STATEMENT EXECUTE FUNCTION ${s}.audit_is_append_only();
    CREATE TABLE ${s}.blobs (name text PRIMARY KEY, bytes bytea NOT NULL);
  ` +
    docsDdl(s) +
    locksDdl(s) +
    objectionDdl(s) +
    sharePartnerDdl(s) +
    writtenXidDdl(s) +
    numberBlocksDdl(s) +
    recordKeysListedDdl(s)
  );
}

/**
 * Whether the record waits for a reviewer to decide its objection (R12, core awaitsObjectionDecision),
 * so the reviewer's desk reads the few that do. A partial index: nearly every record is false, and
 * the desk pages the true ones newest first. And a rejected record's last day to object, so the
 * reminders and a holiday schedule's re-dating read only the windows still open.
 */
function objectionDdl(s: string): string {
  return `
    ALTER TABLE ${s}.records ADD COLUMN objection_open boolean NOT NULL DEFAULT false;
    CREATE INDEX records_objection_open ON ${s}.records (received_at DESC, no DESC) WHERE objection_open;
    ALTER TABLE ${s}.records ADD COLUMN objection_deadline text COLLATE "C";
    CREATE INDEX records_objection_deadline ON ${s}.records (objection_deadline)
      WHERE objection_deadline IS NOT NULL;
  `;
}

/**
 * The objection flag and deadline of records written before they existed (schema 3): every rejected
 * record is opened once, a page at a time (no other record can wait for an objection decision or
 * keeps its deadline in clear), and marked. Runs inside the migration's transaction, under the
 * write lock.
 */
async function markObjectionsOpen(client: pg.PoolClient, s: string, keyring: Keyring): Promise<void> {
  for (let after = ''; ;) {
    const page = await client.query<{ no: string; sealed: string }>({
      text: `SELECT no, sealed FROM ${s}.records WHERE status = 'rejected' AND no > $1 ORDER BY no LIMIT ${MARK_PAGE}`,
      values: [after],
    });
    const marks = page.rows.flatMap((row) => {
      const opened = JSON.parse(keyring.open(row.sealed)) as Pick<
        StoredRecord,
        'objection' | 'objectionDeadline' | 'destroyed'
      >;
      const { objectionOpen: open = false, objectionDeadline: deadline = null } = clearObjectionFields({
        ...opened,
        status: 'rejected',
      });
      return open || deadline !== null ? [{ no: row.no, open, deadline }] : [];
    });
    if (marks.length > 0) {
      await client.query({
        text: `UPDATE ${s}.records r SET objection_open = m.open, objection_deadline = m.deadline
               FROM unnest($1::text[], $2::boolean[], $3::text[]) AS m(no, open, deadline)
               WHERE r.no = m.no`,
        values: [marks.map((m) => m.no), marks.map((m) => m.open), marks.map((m) => m.deadline)],
      });
    }
    if (page.rows.length < MARK_PAGE) return;
    after = page.rows[page.rows.length - 1]!.no;
  }
}

/**
 * The share partner's record number (R16) beside `shared_with`: a query lists a record to its partner
 * only while that record shares too (core partnerHasLeft). Rows written before version 4 get it in
 * the migration to version 5 (fillSharePartnerNos).
 */
function sharePartnerDdl(s: string): string {
  return `ALTER TABLE ${s}.records ADD COLUMN shared_with_no text COLLATE "C";`;
}

/**
 * The share partner's record number of rows written before it was kept (schema 3, carried into 4
 * empty): every row naming a partner (`shared_with`, the partial index's rows) without its number is
 * opened once, a page at a time, and given the number sealRecord would write (clearShareFields).
 * Without it a survivor stayed on its former partner's list until something rewrote it. Runs inside
 * the migration's transaction, under the write lock, after the same migration's written_xid column.
 */
async function fillSharePartnerNos(client: pg.PoolClient, s: string, keyring: Keyring): Promise<void> {
  for (let after = ''; ;) {
    const page = await client.query<{ no: string; sealed: string }>({
      text: `SELECT no, sealed FROM ${s}.records
             WHERE shared_with IS NOT NULL AND shared_with_no IS NULL AND no > $1 ORDER BY no LIMIT ${MARK_PAGE}`,
      values: [after],
    });
    const fills = page.rows.flatMap((row) => {
      const opened = JSON.parse(keyring.open(row.sealed)) as Pick<
        StoredRecord,
        'status' | 'protectedUntil' | 'share'
      >;
      const { sharedWithNo } = clearShareFields(opened);
      return sharedWithNo !== undefined ? [{ no: row.no, partnerNo: sharedWithNo }] : [];
    });
    if (fills.length > 0) {
      await client.query({
        text: `UPDATE ${s}.records r SET shared_with_no = f.partner_no
               FROM unnest($1::text[], $2::text[]) AS f(no, partner_no)
               WHERE r.no = f.no`,
        values: [fills.map((f) => f.no), fills.map((f) => f.partnerNo)],
      });
    }
    if (page.rows.length < MARK_PAGE) return;
    after = page.rows[page.rows.length - 1]!.no;
  }
}

/**
 * The id of the transaction that last wrote the record (pg_current_xact_id, 64 bits: it never wraps
 * around), so that recordsWrittenSince reads the records written after a snapshot: those whose
 * writer the snapshot did not see (at or past its xmax, or in progress when it was taken). Indexed:
 * a sweep reads the few records written in the last minute, not the table.
 */
function writtenXidDdl(s: string): string {
  return `
    ALTER TABLE ${s}.records ADD COLUMN written_xid bigint NOT NULL DEFAULT 0;
    ALTER TABLE ${s}.records ALTER COLUMN written_xid SET DEFAULT pg_current_xact_id()::text::bigint;
    CREATE INDEX records_written_xid ON ${s}.records (written_xid);
  `;
}

/**
 * Lock rows (one per customer lock key ever taken: a hashed number, no personal data) and the
 * registration numbers: a sequence per year, created on the year's first number and started past
 * the year's counter (kept by schemas before version 3, and by `load`). The functions take their
 * schema's name as an argument, so they keep working after `store copy` renames the schema.
 */
function locksDdl(s: string): string {
  return `
    CREATE TABLE ${s}.lock_keys (key bigint PRIMARY KEY);
    CREATE FUNCTION ${s}.next_registration_no(sch text, y integer) RETURNS bigint LANGUAGE plpgsql AS $$
      DECLARE
        seq text := format('%I.%I', sch, 'registration_no_' || y);
        counter bigint;
      BEGIN
        IF to_regclass(seq) IS NULL THEN
          EXECUTE format('SELECT n FROM %I.counters WHERE year = $1', sch) INTO counter USING y;
          BEGIN
            EXECUTE format('CREATE SEQUENCE %s START WITH %s', seq, coalesce(counter, 0) + 1);
          EXCEPTION WHEN duplicate_table OR unique_violation THEN
            NULL; -- another transaction created it first (this one waited for its commit)
          END;
        END IF;
        RETURN nextval(seq);
      END $$;
    -- lock_rows: no longer called (the lockRowsShared statement does it in one pass); kept, as schema 3
    -- has it and an earlier build on the same schema version calls it.
    CREATE FUNCTION ${s}.lock_rows(sch text, ids bigint[], shared boolean[]) RETURNS integer
      LANGUAGE plpgsql AS $$
      DECLARE
        exclusive text := format('SELECT 1 FROM %I.lock_keys WHERE key = $1 FOR UPDATE', sch);
        share text := format('SELECT 1 FROM %I.lock_keys WHERE key = $1 FOR SHARE', sch);
      BEGIN
        FOR i IN 1 .. coalesce(array_length(ids, 1), 0) LOOP
          EXECUTE CASE WHEN shared[i] THEN share ELSE exclusive END USING ids[i];
        END LOOP;
        RETURN coalesce(array_length(ids, 1), 0);
      END $$;
    CREATE FUNCTION ${s}.last_registration_no(sch text, y integer) RETURNS bigint LANGUAGE plpgsql STABLE AS $$
      DECLARE
        seq regclass := to_regclass(format('%I.%I', sch, 'registration_no_' || y));
        counter bigint;
      BEGIN
        EXECUTE format('SELECT n FROM %I.counters WHERE year = $1', sch) INTO counter USING y;
        RETURN greatest(
          coalesce(CASE WHEN seq IS NULL THEN NULL ELSE pg_sequence_last_value(seq) END, 0),
          coalesce(counter, 0));
      END $$;
  `;
}

/**
 * A block of a year's registration numbers in one call: next_registration_no called per number
 * looked the sequence up each time (a PL/pgSQL call per number, ~10 µs a row in a 200-row batch).
 * Creates the year's sequence on its first number, as next_registration_no does.
 */
function numberBlocksDdl(s: string): string {
  return `
    CREATE FUNCTION ${s}.take_registration_nos(sch text, y integer, count integer) RETURNS SETOF bigint
      LANGUAGE plpgsql AS $$
      DECLARE
        seq text := format('%I.%I', sch, 'registration_no_' || y);
        counter bigint;
      BEGIN
        IF to_regclass(seq) IS NULL THEN
          EXECUTE format('SELECT n FROM %I.counters WHERE year = $1', sch) INTO counter USING y;
          BEGIN
            EXECUTE format('CREATE SEQUENCE %s START WITH %s', seq, coalesce(counter, 0) + 1);
          EXCEPTION WHEN duplicate_table OR unique_violation THEN
            NULL; -- another transaction created it first (this one waited for its commit)
          END;
        END IF;
        RETURN QUERY SELECT nextval(seq::regclass) FROM generate_series(1, count);
      END $$;
  `;
}

/**
 * Each record lists the index keys it is filed under (`records.keys`), so that a rewrite deletes
 * the keys it no longer has by record_keys' primary key (key, no). Before, it deleted them by
 * number through record_keys_no, an index every key row of every upsert had to enter (~6 a
 * record). Filled from record_keys in the migration (one pass over both tables), then the index goes.
 */
function recordKeysListedDdl(s: string): string {
  return `
    ALTER TABLE ${s}.records ADD COLUMN keys text[] NOT NULL DEFAULT '{}';
    UPDATE ${s}.records r SET keys = k.keys
      FROM (SELECT no, array_agg(key) AS keys FROM ${s}.record_keys GROUP BY no) k WHERE k.no = r.no;
    DROP INDEX ${s}.record_keys_no;
  `;
}

function docsDdl(s: string): string {
  return `
    CREATE TABLE ${s}.docs (
      collection text COLLATE "C" NOT NULL,
      key text COLLATE "C" NOT NULL,
      sealed text NOT NULL,
      PRIMARY KEY (collection, key)
    );
  `;
}

type Statements = ReturnType<typeof statements>;

/** The fixed statements of a schema, prepared once per connection. */
function statements(schemaName: string) {
  const s = `"${schemaName}"`;
  const named = (name: string, text: string): Statement => ({ name: `baobei.${name}`, text });
  return {
    schema: s,
    schemaName,
    lockId: writeLockId(schemaName),
    getRecord: named('getRecord', `SELECT ${RECORD_COLUMNS} FROM ${s}.records WHERE no = $1`),
    recordsByNo: named(
      'recordsByNo',
      `SELECT ${RECORD_COLUMNS} FROM ${s}.records WHERE no = ANY($1::text[])`,
    ),
    sealedByNo: named(
      'sealedByNo',
      `SELECT no, sealed, right(sealed, ${SEAL_TAG_CHARS}) AS tag FROM ${s}.records WHERE no = ANY($1::text[])`,
    ),
    // Index lookup on record_keys.key, then the records by primary key: never a scan of records.
    findRecordsByKeys: named(
      'findRecordsByKeys',
      `SELECT ${RECORD_COLUMNS} FROM ${s}.records
       WHERE no IN (SELECT no FROM ${s}.record_keys WHERE key = ANY($1::text[])) ORDER BY no`,
    ),
    // The same look-up for a whole batch's keys, with the requested keys each record is filed under,
    // so later look-ups of a subset are answered from memory (PostgresTx.prefetchKeys). Every
    // registrant's bans on those keys, in force or not (findBans filters them in memory), come in the
    // same statement, so the ~1,000 keys are sent and decoded once: one more row, whose columns of a
    // record are all null, holding them as a JSON array oldest first (null when there are none).
    prefetchRecords: named(
      'prefetchRecords',
      `SELECT f.*, b.bans FROM (
         SELECT ${RECORD_COLUMNS}, m.keys FROM ${s}.records r JOIN (
           SELECT no, array_agg(key) AS keys FROM ${s}.record_keys WHERE key = ANY($1::text[]) GROUP BY no
         ) m USING (no)) f
       FULL JOIN (
         SELECT jsonb_agg(jsonb_build_object('registrant', registrant, 'identity', identity, 'until', until,
           'record_no', record_no, 'at', at, 'keys', keys) ORDER BY seq) AS bans
         FROM ${s}.bans WHERE keys && $1::text[]) b ON false`,
    ),
    recordsEndingBefore: named(
      'recordsEndingBefore',
      `SELECT ${RECORD_COLUMNS} FROM ${s}.records
       WHERE status = ANY($1::text[]) AND protected_until < $2 ORDER BY no`,
    ),
    recordsWithStatus: named(
      'recordsWithStatus',
      `SELECT ${RECORD_COLUMNS} FROM ${s}.records WHERE status = ANY($1::text[]) ORDER BY no`,
    ),
    writeMark: named('writeMark', `SELECT pg_current_snapshot()::text AS snapshot`),
    // The writers that began after the snapshot, then (a BitmapOr of two index conditions) also those
    // it saw running. Apart, because with no writer running (the usual case) the planner was seen
    // serving the always-false `= ANY('{}')` branch by the whole records_shared_with partial index.
    recordsWrittenAfter: named(
      'recordsWrittenAfter',
      `SELECT ${RECORD_COLUMNS} FROM ${s}.records WHERE written_xid >= $1::bigint ORDER BY no`,
    ),
    recordsWrittenSince: named(
      'recordsWrittenSince',
      `SELECT ${RECORD_COLUMNS} FROM ${s}.records
       WHERE written_xid >= $1::bigint OR written_xid = ANY($2::bigint[]) ORDER BY no`,
    ),
    // The keys a record is filed under before the statement are those its row lists (every CTE reads
    // the same snapshot); those it no longer has are deleted by record_keys' primary key, each looked
    // up on its own (a lateral probe, whatever the statistics say) and deleted by its tuple id, and
    // only keys it did not have are inserted, so no key row is both deleted and inserted.
    upsertRecords: named(
      'upsertRecords',
      `WITH batch AS (SELECT r FROM jsonb_array_elements($1::jsonb) AS x(r)),
       old_keys AS (SELECT o.no, k.key FROM ${s}.records o, unnest(o.keys) AS k(key) WHERE o.no = ANY($2::text[])),
       new_keys AS (SELECT r->>0 AS no, k.key FROM batch, jsonb_array_elements_text(r->15) AS k(key)),
       removed AS (
         DELETE FROM ${s}.record_keys WHERE ctid = ANY(ARRAY(
           SELECT f.ctid FROM (SELECT no, key FROM old_keys EXCEPT SELECT no, key FROM new_keys) g,
             LATERAL (SELECT ctid FROM ${s}.record_keys WHERE key = g.key AND no = g.no) f))),
       upserted AS (
         INSERT INTO ${s}.records (no, status, registrant, team, received_at, received_day, claimed_at,
           protected_until, shared_with, shared_with_no, identity, version, sealed, objection_open,
           objection_deadline, keys)
         SELECT r->>0, r->>1, r->>2, r->>3, r->>4, r->>5, r->>6, r->>7, r->>8, r->>14, r->9, (r->>10)::integer,
           r->>11, (r->>12)::boolean, r->>13, ARRAY(SELECT jsonb_array_elements_text(r->15))
         FROM batch
         ON CONFLICT (no) DO UPDATE SET status = excluded.status, registrant = excluded.registrant,
           team = excluded.team, received_at = excluded.received_at, received_day = excluded.received_day,
           claimed_at = excluded.claimed_at, protected_until = excluded.protected_until,
           shared_with = excluded.shared_with, shared_with_no = excluded.shared_with_no,
           identity = excluded.identity, version = excluded.version, sealed = excluded.sealed,
           objection_open = excluded.objection_open, objection_deadline = excluded.objection_deadline,
           keys = excluded.keys, written_xid = pg_current_xact_id()::text::bigint
         RETURNING no)
       INSERT INTO ${s}.record_keys (key, no)
       SELECT key, no FROM new_keys EXCEPT SELECT key, no FROM old_keys`,
    ),
    nextNumbers: named(
      'nextNumbers',
      `SELECT n FROM ${s}.take_registration_nos($2, $1, $3::integer) AS t(n) ORDER BY n`,
    ),
    lastNumber: named('lastNumber', `SELECT ${s}.last_registration_no($2, $1) AS n`),
    numberedYears: named(
      'numberedYears',
      `SELECT y AS year, ${s}.last_registration_no($1, y) AS n FROM (
         SELECT substr(sequencename, 17)::integer AS y FROM pg_sequences
         WHERE schemaname = $1 AND sequencename ~ '^registration_no_[0-9]+$'
         UNION SELECT year FROM ${s}.counters) years ORDER BY y`,
    ),
    lockRows: named(
      'lockRows',
      `SELECT count(*) FROM (SELECT key FROM ${s}.lock_keys WHERE key = ANY($1::bigint[]) ORDER BY key FOR UPDATE) l`,
    ),
    // Mixed modes in one pass in key order, in one statement: the keys are sorted in a subquery
    // (never flattened, as it has ORDER BY), and the lateral look-ups, which refer to each key, run
    // in a nested loop over them in that order, each locking its row as it is reached. (Schema 3's
    // lock_rows function did the same with a dynamic statement per key, ~7x the server time.)
    lockRowsShared: named(
      'lockRowsShared',
      `SELECT count(x.key) + count(s.key) AS n FROM (
         SELECT id, sh FROM unnest($1::bigint[], $2::boolean[]) AS u(id, sh) ORDER BY id) u
       LEFT JOIN LATERAL (SELECT key FROM ${s}.lock_keys WHERE key = u.id AND NOT u.sh FOR UPDATE) x ON true
       LEFT JOIN LATERAL (SELECT key FROM ${s}.lock_keys WHERE key = u.id AND u.sh FOR SHARE) s ON true`,
    ),
    claimLockRow: named('claimLockRow', `SELECT key FROM ${s}.lock_keys WHERE key = $1 FOR UPDATE NOWAIT`),
    findBans: named(
      'findBans',
      `SELECT registrant, identity, until, record_no, at FROM ${s}.bans
       WHERE registrant = $1 AND until >= $2 AND keys && $3::text[] ORDER BY seq`,
    ),
    addBan: named(
      'addBan',
      `INSERT INTO ${s}.bans (registrant, until, record_no, at, identity, keys)
       VALUES ($1, $2, $3, $4, $5::jsonb, $6::text[])`,
    ),
    userByTokenHash: named(
      'userByTokenHash',
      `SELECT data FROM ${s}.users WHERE token_hash = $1 ORDER BY seq LIMIT 1`,
    ),
    userByName: named('userByName', `SELECT data FROM ${s}.users WHERE name = $1 ORDER BY seq LIMIT 1`),
    listUsers: named('listUsers', `SELECT data FROM ${s}.users ORDER BY seq`),
    putUser: named(
      'putUser',
      `INSERT INTO ${s}.users (id, name, token_hash, data) VALUES ($1, $2, $3, $4::jsonb)
       ON CONFLICT (id) DO UPDATE SET name = excluded.name, token_hash = excluded.token_hash, data = excluded.data`,
    ),
    getPolicy: named('getPolicy', `SELECT data FROM ${s}.policy`),
    putPolicy: named(
      'putPolicy',
      `INSERT INTO ${s}.policy (data) VALUES ($1::jsonb) ON CONFLICT (singleton) DO UPDATE SET data = excluded.data`,
    ),
    // Same rule as the lowdb store's isReviewerOf: admins see every reviewers' notification,
    // reviewers those of their team (or of no team, or all when they have none).
    listNotifications: named(
      'listNotifications',
      `SELECT id, to_kind, to_value, type, record_no, at, details FROM ${s}.notifications
       WHERE (to_kind = 'name' AND to_value = $1)
          OR (to_kind = 'reviewers' AND ($2::text = 'admin' OR ($2::text = 'reviewer'
              AND (to_value IS NULL OR $3::text IS NULL OR to_value = $3::text))))
       ORDER BY seq DESC LIMIT $4`,
    ),
    // One statement for the batch, in order; then the oldest beyond the limit are dropped. Rows
    // another writer is dropping are skipped, not waited for (it deletes them; if it rolls back,
    // the next trim does): a trim that waited could close a deadlock cycle with that writer.
    addNotifications: named(
      'addNotifications',
      `WITH added AS (
         INSERT INTO ${s}.notifications (id, to_kind, to_value, type, record_no, at, details)
         SELECT n->>'id', CASE WHEN n->'to' ? 'name' THEN 'name' ELSE 'reviewers' END,
                COALESCE(n->'to'->>'name', n->'to'->>'reviewersOf'), n->>'type', n->>'recordNo', n->>'at', n->'details'
         FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS x(n, ord) ORDER BY ord
         RETURNING seq),
       trimmed AS (
         SELECT seq FROM ${s}.notifications WHERE seq <= (SELECT max(seq) FROM added) - $2::bigint
         ORDER BY seq FOR UPDATE SKIP LOCKED)
       DELETE FROM ${s}.notifications WHERE seq IN (SELECT seq FROM trimmed)`,
    ),
    getIdempotency: named(
      'getIdempotency',
      `SELECT body_hash, at, sealed FROM ${s}.idempotency WHERE user_id = $1 AND key = $2`,
    ),
    putIdempotency: named(
      'putIdempotency',
      `INSERT INTO ${s}.idempotency (user_id, key, body_hash, at, sealed) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (user_id, key) DO UPDATE SET body_hash = excluded.body_hash, at = excluded.at, sealed = excluded.sealed`,
    ),
    pruneIdempotency: named(
      'pruneIdempotency',
      `DELETE FROM ${s}.idempotency WHERE at < $1
         AND (user_id, key) NOT IN (SELECT * FROM unnest($2::text[], $3::text[]))`,
    ),
    appendAudit: named(
      'appendAudit',
      `INSERT INTO ${s}.audit (at, actor, actor_role, action, records, request_id, details)
       SELECT e->>'at', e->>'actor', e->>'actorRole', e->>'action',
              ARRAY(SELECT jsonb_array_elements_text(e->'records')), e->>'requestId', e->'details'
       FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS x(e, ord) ORDER BY ord`,
    ),
    getDoc: named('getDoc', `SELECT sealed FROM ${s}.docs WHERE collection = $1 AND key = $2`),
    // READ COMMITTED: after waiting for the holder, FOR UPDATE returns the row as it committed it.
    // Locked in key order (ORDER BY under FOR UPDATE), as the key rows are: no two holders cross.
    holdDocs: named(
      'holdDocs',
      `SELECT key, sealed FROM ${s}.docs WHERE collection = $1 AND key = ANY($2::text[]) ORDER BY key FOR UPDATE`,
    ),
    putDoc: named(
      'putDoc',
      `INSERT INTO ${s}.docs (collection, key, sealed) VALUES ($1, $2, $3)
       ON CONFLICT (collection, key) DO UPDATE SET sealed = excluded.sealed`,
    ),
    insertDoc: named(
      'insertDoc',
      `INSERT INTO ${s}.docs (collection, key, sealed) VALUES ($1, $2, $3)
       ON CONFLICT (collection, key) DO NOTHING RETURNING key`,
    ),
    deleteDoc: named('deleteDoc', `DELETE FROM ${s}.docs WHERE collection = $1 AND key = $2`),
  };
}

/** The lock rows of these keys: a 64-bit number per key, sorted (the order locks are taken in), no duplicates. */
function lockIds(keys: readonly string[]): string[] {
  const ids = new Set<bigint>();
  // The first 8 bytes of the SHA-256, signed big-endian; one-shot hash() in hex costs a third of a
  // Hash object per key (a batch has ~1,000 keys).
  for (const key of keys) ids.add(BigInt.asIntN(64, BigInt(`0x${hash('sha256', key).slice(0, 16)}`)));
  return [...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map(String);
}

/**
 * The statements that create a write's lock rows before its transaction, in a commit of their own: a
 * row lock needs a row, and a key's row stays for good (a number, no personal data). In key order,
 * so two instances creating the same new keys never wait on each other crosswise. Committed without
 * waiting for the WAL flush (synchronous_commit off for that commit only): others see the rows at
 * once all the same, and the write's own commit, synchronous, flushes the WAL past them, so a crash
 * loses lock rows only with every transaction that used them. Sent with the write's BEGIN as one
 * simple query, so the ids are written in (signed 64-bit integers from lockIds, nothing else).
 */
function createLockRows(schema: string, ids: readonly string[]): string {
  for (const id of ids) if (!/^-?[0-9]{1,19}$/.test(id)) throw new Error('lock id is not an integer');
  return (
    `BEGIN; SET LOCAL synchronous_commit TO off; ` +
    `INSERT INTO ${schema}.lock_keys (key) SELECT * FROM unnest('{${ids.join(',')}}'::bigint[]) ON CONFLICT DO NOTHING; ` +
    `COMMIT; `
  );
}

function compareIds(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

function registrationNo(year: number, n: number): string {
  return `BB-${year}-${String(n).padStart(6, '0')}`;
}

/** The SQLSTATE of a PostgreSQL error, if it is one. */
function pgCode(err: unknown): string | undefined {
  return err instanceof Error && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}

/** A counting semaphore: at most `size` holders at once, the others wait in arrival order. */
class Slots {
  private free: number;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly size: number) {
    this.free = size;
  }

  async take(): Promise<() => void> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    };
  }
}

/**
 * The advisory lock every write and simulate takes first (shared by keyed writes, exclusive by the others): a fixed 64-bit number per schema, so
 * stores on other schemas of the same database never wait on each other.
 */
function writeLockId(schema: string): string {
  return createHash('sha256').update(`baobei/write-lock/${schema}`).digest().readBigInt64BE(0).toString();
}
