/**
 * Moving a store's whole content between adapters (`baobei store copy`) and loading a backup
 * (`baobei restore`): everything the store port holds (storeDump) plus the unexpired files of the
 * file vault. A target is never half-written: the content is loaded into a staging place (a sibling
 * directory for lowdb, a sibling schema for PostgreSQL), read back and compared record by record,
 * and only then swapped in with one rename (a directory rename, or `ALTER SCHEMA … RENAME` in one
 * transaction). A failure anywhere before the swap leaves the target as it was.
 */
import { isDeepStrictEqual } from 'node:util';
import { existsSync } from 'node:fs';
import { mkdir, readdir, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { DomainError, problem } from '../../core/problem.js';
import type { Keyring } from '../security/keyring.js';
import { DirFileVault } from './dirFileVault.js';
import type { FileVault, NewVaultFile } from './fileVault.js';
import { LowdbStore } from './lowdbStore.js';
import { PostgresFileVault } from './postgresFileVault.js';
import { foreignSchemaProblem, schemaText } from './foreignSchema.js';
import { postgresUnreachable } from './postgresReach.js';
import { PostgresStore, relationsInSchema } from './postgresStore.js';
import { dumpIsEmpty, storeNotEmpty, type AuditEntry, type Store, type StoreDump } from './store.js';

/** Where a store lives. */
export type StoreLocation =
  { kind: 'lowdb'; dataDir: string } | { kind: 'postgres'; connectionString: string; schema: string };

/** A kept file of the vault, opened. */
export interface VaultEntry {
  file: NewVaultFile;
  bytes: Buffer;
}

/** What a copy or a backup carries. */
export interface StoreContent {
  dump: StoreDump;
  files: VaultEntry[];
}

/** Entries per collection: what the summary prints and the backup header carries (no personal data). */
export type ContentCounts = Record<string, number>;

export function countContent(content: StoreContent): ContentCounts {
  const { dump } = content;
  const docs: ContentCounts = {};
  for (const doc of dump.docs) docs[`docs.${doc.collection}`] = (docs[`docs.${doc.collection}`] ?? 0) + 1;
  return {
    records: dump.records.length,
    counters: Object.keys(dump.counters).length,
    users: dump.users.length,
    policy: dump.policy === null ? 0 : 1,
    bans: dump.bans.length,
    notifications: dump.notifications.length,
    idempotency: dump.idempotency.length,
    docs: dump.docs.length,
    ...docs,
    audit: dump.audit.length,
    files: content.files.length,
  };
}

export async function openLocation(
  location: StoreLocation,
  keyring: Keyring,
  purpose: string,
): Promise<{ store: Store; files: FileVault }> {
  if (location.kind === 'lowdb') {
    const store = await LowdbStore.open({ dataDir: location.dataDir, keyring, purpose });
    return { store, files: await DirFileVault.open({ dataDir: location.dataDir, keyring }) };
  }
  const store = await PostgresStore.open({
    connectionString: location.connectionString,
    schema: location.schema,
    keyring,
  });
  try {
    const files = await PostgresFileVault.open({
      connectionString: location.connectionString,
      schema: location.schema,
      keyring,
    });
    return { store, files };
  } catch (err) {
    await store.close();
    throw err;
  }
}

/** The store's content and the vault's files that have not expired at `now`. */
export async function readContent(store: Store, files: FileVault, now: Date): Promise<StoreContent> {
  const dump = await store.dump();
  const out: VaultEntry[] = [];
  for (const head of await files.list()) {
    if (head.expiresAt <= now.toISOString()) continue;
    const opened = await files.open(head.key);
    // Removed by the sweep since it was listed: it would have expired anyway.
    if (!opened) continue;
    const { size: _size, ...file } = opened.file;
    out.push({ file, bytes: opened.bytes });
  }
  return { dump, files: out };
}

/** Differences between two contents, as short lines naming the collection and entry (no personal data). */
export function compareContent(a: StoreContent, b: StoreContent): string[] {
  const out: string[] = [];
  const ca = countContent(a);
  const cb = countContent(b);
  for (const name of new Set([...Object.keys(ca), ...Object.keys(cb)])) {
    if (ca[name] !== cb[name]) out.push(`${name}: ${ca[name] ?? 0} ≠ ${cb[name] ?? 0}`);
  }
  const records = new Map(b.dump.records.map((r) => [r.no, r]));
  for (const record of a.dump.records) {
    if (!isDeepStrictEqual(record, records.get(record.no))) out.push(`record ${record.no} differs`);
  }
  const pairs: [string, unknown[], unknown[]][] = [
    ['users', a.dump.users, b.dump.users],
    ['bans', a.dump.bans, b.dump.bans],
    ['notifications', a.dump.notifications, b.dump.notifications],
    [
      'idempotency',
      sortBy(a.dump.idempotency, (e) => `${e.userId}\u0000${e.key}`),
      sortBy(b.dump.idempotency, (e) => `${e.userId}\u0000${e.key}`),
    ],
    ['docs', sortBy(a.dump.docs, docId), sortBy(b.dump.docs, docId)],
    ['audit', a.dump.audit, b.dump.audit],
  ];
  for (const [name, xs, ys] of pairs) {
    xs.forEach((x, i) => {
      if (!isDeepStrictEqual(x, ys[i])) out.push(`${name}[${i}] differs`);
    });
  }
  if (!isDeepStrictEqual(a.dump.counters, b.dump.counters)) out.push('counters differ');
  if (!isDeepStrictEqual(a.dump.policy, b.dump.policy)) out.push('policy differs');
  const filesB = new Map(b.files.map((f) => [f.file.key, f]));
  for (const f of a.files) {
    const g = filesB.get(f.file.key);
    if (!g || !isDeepStrictEqual(f.file, g.file) || !f.bytes.equals(g.bytes))
      out.push(`file ${f.file.key} differs`);
  }
  return out;
}

export interface WriteOptions {
  /** Replace a target that holds data (kept aside, renamed, never deleted). */
  force?: boolean;
  now: Date;
  /**
   * The master key to write as `baobei.key` into a new lowdb data dir (when the key is not given
   * by BAOBEI_KEY): the copy must open with the key that hashed its identity keys.
   */
  keyFileContent?: string;
  /**
   * R36: the copy or restore itself, appended to the target's audit trail after the content's own
   * entries (loaded and verified with them, so it is there exactly when the swap happened).
   */
  audit?: AuditEntry;
  /** Progress, for the CLI: `staged`, `verified`, `swapped`. Throwing here aborts before the swap. */
  onStage?: (stage: 'staged' | 'verified' | 'swapped') => void | Promise<void>;
}

export interface WriteSummary {
  counts: ContentCounts;
  /** Records compared one by one with the source after the load. */
  compared: number;
  /** Where a replaced (forced) target was kept. */
  replacedKeptAs?: string;
}

/**
 * Loads content into the location, all of it or nothing: staged, verified, then swapped in.
 * Refuses a target holding data unless `force`.
 */
export async function writeContent(
  location: StoreLocation,
  keyring: Keyring,
  given: StoreContent,
  options: WriteOptions,
): Promise<WriteSummary> {
  const now = options.now.toISOString();
  const content: StoreContent = {
    dump:
      options.audit === undefined
        ? given.dump
        : { ...given.dump, audit: [...given.dump.audit, options.audit] },
    // A backup older than a file's retention holds files expired by now: the read-back (as
    // readContent) skips them and the restore failed verification; the sweep would remove them anyway.
    files: given.files.filter((f) => f.file.expiresAt > now),
  };
  // Another application's schema is no target, even with --force: set aside (renamed) it would take
  // that application's tables away from it.
  if (location.kind === 'postgres' && (await storeAt(location)) === 'foreign') {
    throw foreignSchemaProblem(location, 'pg-schema');
  }
  const targetHolds = await holdsData(location, keyring);
  if (targetHolds && !options.force) throw storeNotEmpty(location.kind);
  const stamp = options.now
    .toISOString()
    .replace(/[-:.TZ]/g, '')
    .slice(0, 14);
  const staging = stagingOf(location, `copy_${stamp}`);
  await dropLocation(staging);
  try {
    if (staging.kind === 'lowdb') {
      await mkdir(staging.dataDir, { recursive: true, mode: 0o700 });
      if (options.keyFileContent !== undefined) {
        await writeFile(path.join(staging.dataDir, 'baobei.key'), options.keyFileContent, { mode: 0o600 });
      }
    }
    const opened = await openLocation(staging, keyring, 'store copy');
    let verify: string[];
    try {
      await opened.store.load(content.dump);
      for (const entry of content.files) await opened.files.put(entry.file, entry.bytes);
      await options.onStage?.('staged');
      verify = compareContent(content, await readContent(opened.store, opened.files, options.now));
    } finally {
      await opened.store.close();
      await opened.files.close();
    }
    if (verify.length > 0) throw verifyFailed(verify);
    await options.onStage?.('verified');
    const replacedKeptAs = await swapIn(staging, location, targetHolds, stamp);
    await options.onStage?.('swapped');
    return {
      counts: countContent(content),
      compared: content.dump.records.length,
      ...(replacedKeptAs !== undefined ? { replacedKeptAs } : {}),
    };
  } catch (err) {
    await dropLocation(staging).catch(() => undefined);
    throw err;
  }
}

/** Copies one store into another location and verifies it. */
export async function copyStore(
  from: StoreLocation,
  to: StoreLocation,
  keyring: Keyring,
  options: WriteOptions,
): Promise<WriteSummary> {
  if (sameLocation(from, to)) {
    throw new DomainError(
      problem('store.copy_same', '源存储与目标存储相同', 'The source and the target are the same store'),
    );
  }
  // Opening a store creates it: a mistyped source would be copied as an empty store, and a
  // PostgreSQL schema or a data dir would be left where none was.
  // A schema of something else (no meta table) is no store either: opening it would create ours in it.
  const found = await storeAt(from);
  if (found === 'foreign' && from.kind === 'postgres') throw foreignSchemaProblem(from, 'pg-schema');
  if (found !== 'store') {
    const where = locationText(from);
    throw new DomainError(
      problem(
        'store.copy_source_missing',
        `源存储不存在：${where}；未创建或写入任何数据`,
        `There is no store to copy from at ${where}; nothing was created or written`,
        from.kind === 'lowdb' ? 'data-dir' : 'pg-schema',
      ),
    );
  }
  const source = await openLocation(from, keyring, 'store copy');
  let content: StoreContent;
  try {
    content = await readContent(source.store, source.files, options.now);
  } finally {
    await source.store.close();
    await source.files.close();
  }
  return await writeContent(to, keyring, content, options);
}

function sameLocation(a: StoreLocation, b: StoreLocation): boolean {
  if (a.kind === 'lowdb' && b.kind === 'lowdb') return path.resolve(a.dataDir) === path.resolve(b.dataDir);
  if (a.kind === 'postgres' && b.kind === 'postgres')
    return a.connectionString === b.connectionString && a.schema === b.schema;
  return false;
}

/** Where a store is, as messages name it: the data dir, or host:port/database and schema (never credentials). */
export function locationText(location: StoreLocation): string {
  return location.kind === 'lowdb' ? location.dataDir : schemaText(location);
}

/** Whether a store was ever opened there (a lowdb data file, a PostgreSQL schema). */
export async function storeExists(location: StoreLocation): Promise<boolean> {
  return location.kind === 'lowdb'
    ? existsSync(path.join(location.dataDir, 'baobei.json'))
    : await schemaExists(location);
}

/**
 * What is where a command means to open an existing store: a Baobei store, none (no data file, no
 * schema, or an empty schema), or a schema holding something else's tables and no `meta`.
 */
export async function storeAt(location: StoreLocation): Promise<'store' | 'none' | 'foreign'> {
  if (!(await storeExists(location))) return 'none';
  if (location.kind === 'lowdb' || (await isBaobeiSchema(location))) return 'store';
  // The file vault's tables are Baobei's own: a store's first open accepts them too (prepareSchema).
  return (await relationsIn(location, { besideVault: true })) > 0 ? 'foreign' : 'none';
}

/**
 * What an empty lowdb data dir may hold (a key, a store never written to, its lock and vault dir).
 * Anything else in the target dir is someone's file: swapIn deletes a target set aside that held
 * no data, so such a dir must count as holding data — refused, or kept aside under --force.
 */
const EMPTY_STORE_ENTRIES = new Set([
  'baobei.key',
  'baobei.json',
  'baobei.journal',
  'baobei.lock',
  'audit.jsonl',
  'files',
]);

/** Whether a store exists there and holds anything (a lowdb dir with only a key file holds nothing). */
async function holdsData(location: StoreLocation, keyring: Keyring): Promise<boolean> {
  if (location.kind === 'lowdb' && existsSync(location.dataDir)) {
    const entries = await readdir(location.dataDir);
    if (entries.some((name) => !EMPTY_STORE_ENTRIES.has(name))) return true;
    if (entries.includes('files') && (await readdir(path.join(location.dataDir, 'files'))).length > 0) {
      return true;
    }
  }
  if (!(await storeExists(location))) return false;
  // A schema that is not a Baobei store (`public`, another application's) would be "opened" — our
  // tables created in it — found empty, and swapped out with DROP SCHEMA … CASCADE, its tables too.
  // The file vault's table alone is ours: empty, nothing is lost with it; a kept file in it is an
  // annotated workbook or report, customer data, as a file in a lowdb dir's files/ is.
  if (location.kind === 'postgres' && !(await isBaobeiSchema(location))) {
    return (await relationsIn(location, { besideVault: true })) > 0 || (await vaultHoldsFiles(location));
  }
  const opened = await openLocation(location, keyring, 'store copy (check target)');
  try {
    const dump = await opened.store.dump();
    return !dumpIsEmpty(dump) || (await opened.files.list()).length > 0;
  } finally {
    await opened.store.close();
    await opened.files.close();
  }
}

function stagingOf(location: StoreLocation, suffix: string): StoreLocation {
  if (location.kind === 'lowdb') {
    const dir = path.resolve(location.dataDir);
    return { kind: 'lowdb', dataDir: `${dir}.${suffix.replace('_', '-')}` };
  }
  return { ...location, schema: `${location.schema.slice(0, 40)}_${suffix}` };
}

/** Removes a staging place (never a target: only called on names made by stagingOf). */
async function dropLocation(location: StoreLocation): Promise<void> {
  if (location.kind === 'lowdb') {
    await rm(location.dataDir, { recursive: true, force: true });
    return;
  }
  await withClient(location, (client) => client.query(`DROP SCHEMA IF EXISTS ${location.schema} CASCADE`));
}

/**
 * The one step that changes the target. lowdb: the target dir (when it exists) is renamed aside,
 * then the staged dir renamed into place. PostgreSQL: both renames in one transaction.
 */
async function swapIn(
  staging: StoreLocation,
  target: StoreLocation,
  targetHolds: boolean,
  stamp: string,
): Promise<string | undefined> {
  if (staging.kind === 'lowdb' && target.kind === 'lowdb') {
    const dir = path.resolve(target.dataDir);
    let keptAs: string | undefined;
    if (existsSync(dir)) {
      if (!targetHolds && (await readdir(dir)).length === 0) {
        await rmdir(dir);
      } else {
        keptAs = `${dir}.replaced-${stamp}`;
        await rename(dir, keptAs);
      }
    }
    await rename(staging.dataDir, dir);
    // An empty store set aside (the key file alone, or a store never written to) is not worth keeping.
    if (keptAs !== undefined && !targetHolds) {
      await rm(keptAs, { recursive: true, force: true });
      keptAs = undefined;
    }
    return keptAs;
  }
  if (staging.kind === 'postgres' && target.kind === 'postgres') {
    // 39 + 10 + 14 = 63, PostgreSQL's longest name: a longer one is cut, and the name reported missed.
    const keptAs = `${target.schema.slice(0, 39)}_replaced_${stamp}`;
    const exists = await schemaExists(target);
    await withClient(target, async (client) => {
      await client.query('BEGIN');
      try {
        if (exists) {
          await client.query(
            targetHolds
              ? `ALTER SCHEMA ${target.schema} RENAME TO ${keptAs}`
              : `DROP SCHEMA ${target.schema} CASCADE`,
          );
        }
        await client.query(`ALTER SCHEMA ${staging.schema} RENAME TO ${target.schema}`);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
    });
    return exists && targetHolds ? keptAs : undefined;
  }
  throw new Error('staging and target are different kinds');
}

async function schemaExists(location: { connectionString: string; schema: string }): Promise<boolean> {
  return await withClient(location, async (client) => {
    const found = await client.query<{ n: number }>({
      text: 'SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = $1',
      values: [location.schema],
    });
    return (found.rows[0]?.n ?? 0) > 0;
  });
}

async function isBaobeiSchema(location: { connectionString: string; schema: string }): Promise<boolean> {
  return await withClient(location, async (client) => {
    const found = await client.query<{ exists: boolean }>({
      text: 'SELECT to_regclass($1) IS NOT NULL AS exists',
      values: [`${location.schema}.meta`],
    });
    return found.rows[0]?.exists === true;
  });
}

/** The relations in the schema (postgresStore's relationsInSchema), on a connection of its own. */
async function relationsIn(
  location: { connectionString: string; schema: string },
  options: { besideVault?: boolean } = {},
): Promise<number> {
  return await withClient(location, (client) => relationsInSchema(client, location.schema, options));
}

/** Whether the schema's file vault table (`sealed_files`) is there and holds a file, read without creating it. */
async function vaultHoldsFiles(location: { connectionString: string; schema: string }): Promise<boolean> {
  return await withClient(location, async (client) => {
    const table = await client.query<{ exists: boolean }>({
      text: 'SELECT to_regclass($1) IS NOT NULL AS exists',
      values: [`${location.schema}.sealed_files`],
    });
    if (table.rows[0]?.exists !== true) return false;
    const file = await client.query(`SELECT 1 FROM ${location.schema}.sealed_files LIMIT 1`);
    return (file.rowCount ?? 0) > 0;
  });
}

async function withClient<T>(
  location: { connectionString: string },
  fn: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const client = new pg.Client({
    connectionString: location.connectionString,
    application_name: 'baobei-copy',
  });
  await client.connect().catch((err: unknown) => {
    throw postgresUnreachable(err, location.connectionString) ?? err;
  });
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

function verifyFailed(differences: string[]): DomainError {
  return new DomainError(
    problem(
      'store.verify_failed',
      `写入后核对不一致，目标未被替换：${differences.slice(0, 5).join('；')}`,
      `The data read back differs from the source; the target was not replaced: ${differences.slice(0, 5).join('; ')}`,
    ),
    { differences: differences.length },
  );
}

function docId(doc: { collection: string; key: string }): string {
  return `${doc.collection}\u0000${doc.key}`;
}

function sortBy<T>(items: readonly T[], key: (item: T) => string): T[] {
  return [...items].sort((x, y) => (key(x) < key(y) ? -1 : key(x) > key(y) ? 1 : 0));
}
