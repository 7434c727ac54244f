/**
 * `store copy` between the real stores (issue 12): a lowdb data dir filled over real HTTP is copied
 * into a fresh PostgreSQL schema and back into a new data dir, and every collection compares equal
 * record by record; a target holding data is refused; a failure before the swap leaves the target
 * as it was.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DomainError } from '../../core/problem.js';
import {
  compareContent,
  copyStore,
  openLocation,
  readContent,
  type StoreContent,
  type StoreLocation,
  writeContent,
} from '../../server/store/storeTransfer.js';
import { DirFileVault } from '../../server/store/dirFileVault.js';
import { foreignSchemaProblem } from '../../server/store/foreignSchema.js';
import { PostgresStore } from '../../server/store/postgresStore.js';
import type { FileVault } from '../../server/store/fileVault.js';
import { PostgresFileVault } from '../../server/store/postgresFileVault.js';
import { runCli } from '../support/childService.js';
import { keepFile, populate, type Populated } from '../support/populatedStore.js';
import { dropSchema, TEST_DATABASE_URL as DATABASE_URL } from '../support/postgresSchema.js';

const admin = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
const schema = `transfer_${process.pid}_${Date.now().toString(36)}`;
const NOW = new Date('2026-11-23T03:00:00.000Z');

let source: Populated;
let work = '';

async function contentOf(location: StoreLocation): Promise<StoreContent> {
  const opened = await openLocation(location, source.keyring, 'test');
  try {
    return await readContent(opened.store, opened.files, NOW);
  } finally {
    await opened.store.close();
    await opened.files.close();
  }
}

beforeAll(async () => {
  source = await populate();
  await keepFile(source.dataDir, source.keyring, 'imp-1.report.json', '2026-12-23T00:00:00.000Z');
  // Expired: not carried over (the sweep would delete it).
  await keepFile(source.dataDir, source.keyring, 'imp-0.report.json', '2026-11-01T00:00:00.000Z');
  work = await mkdtemp(path.join(os.tmpdir(), 'baobei-transfer-'));
}, 60_000);

afterAll(async () => {
  const schemas = await admin.query<{ nspname: string }>(
    `SELECT nspname FROM pg_namespace WHERE nspname LIKE $1`,
    [`${schema}%`],
  );
  for (const { nspname } of schemas.rows) await dropSchema(DATABASE_URL, nspname);
  await admin.end();
  await rm(source.dataDir, { recursive: true, force: true });
  await rm(work, { recursive: true, force: true });
});

/** A target holding the file vault alone (its table or dir), with one kept file or none. */
async function vaultOnly(location: StoreLocation, withFile: boolean): Promise<void> {
  const vault = await openVault(location);
  try {
    if (withFile) {
      await vault.put(
        {
          key: 'imp-9.report.json',
          owner: 'u-1',
          kind: 'import.report',
          createdAt: '2026-11-23T02:00:00.000Z',
          expiresAt: '2026-12-23T00:00:00.000Z',
        },
        Buffer.from(JSON.stringify({ rows: [{ customerName: '华信科技有限公司' }] })),
      );
    }
  } finally {
    await vault.close();
  }
}

async function vaultKeys(location: StoreLocation): Promise<string[]> {
  const vault = await openVault(location);
  try {
    return (await vault.list()).map((head) => head.key);
  } finally {
    await vault.close();
  }
}

async function openVault(location: StoreLocation): Promise<FileVault> {
  return location.kind === 'lowdb'
    ? await DirFileVault.open({ dataDir: location.dataDir, keyring: source.keyring })
    : await PostgresFileVault.open({ ...location, keyring: source.keyring });
}

async function dropTarget(location: StoreLocation): Promise<void> {
  if (location.kind === 'lowdb') await rm(location.dataDir, { recursive: true, force: true });
  else await dropSchema(DATABASE_URL, location.schema);
}

describe('store copy lowdb → PostgreSQL → lowdb', () => {
  const pgLocation = (): StoreLocation => ({ kind: 'postgres', connectionString: DATABASE_URL, schema });

  it('copies everything, verified record by record, and back again', async () => {
    const from: StoreLocation = { kind: 'lowdb', dataDir: source.dataDir };
    const original = await contentOf(from);
    expect(original.dump.records.length).toBe(6);
    expect(original.dump.records.some((r) => r.history.length > 1)).toBe(true);
    expect(original.dump.docs.some((d) => d.collection === 'calendars' && d.key === '2027')).toBe(true);
    expect(original.dump.idempotency.length).toBe(1);
    expect(original.dump.audit.length).toBeGreaterThan(0);
    expect(original.files.map((f) => f.file.key)).toEqual(['imp-1.report.json']);
    expect(original.dump.notifications.length).toBeGreaterThan(0);
    // The comparison itself can fail: one changed history entry is named.
    const changed = structuredClone(original);
    changed.dump.records[0]!.history.push({ ...changed.dump.records[0]!.history[0]! });
    expect(compareContent(original, changed)).toEqual([`record ${original.dump.records[0]!.no} differs`]);

    const toPg = await copyStore(from, pgLocation(), source.keyring, { now: NOW });
    expect(toPg.compared).toBe(6);
    expect(toPg.counts).toMatchObject({ records: 6, users: 3, files: 1 });
    expect(compareContent(original, await contentOf(pgLocation()))).toEqual([]);

    const back: StoreLocation = { kind: 'lowdb', dataDir: path.join(work, 'back') };
    await copyStore(pgLocation(), back, source.keyring, { now: NOW });
    expect(compareContent(original, await contentOf(back))).toEqual([]);
    // Nothing of the staging is left beside the target.
    expect((await readdir(work)).sort()).toEqual(['back']);
  }, 60_000);

  it('refuses a target that holds data unless forced, then keeps the replaced one aside', async () => {
    const from: StoreLocation = { kind: 'lowdb', dataDir: source.dataDir };
    const refused = await copyStore(from, pgLocation(), source.keyring, { now: NOW }).catch(
      (e: unknown) => e,
    );
    expect(refused).toBeInstanceOf(DomainError);
    expect((refused as DomainError).code).toBe('store.not_empty');
    expect((refused as DomainError).message).toContain('--force');
    expect((refused as DomainError).messageEn).toContain('--force');

    const forced = await copyStore(from, pgLocation(), source.keyring, { now: NOW, force: true });
    expect(forced.replacedKeptAs).toMatch(new RegExp(`^${schema}_replaced_`));
  }, 60_000);

  it('the schema a forced copy keeps aside is there under the name it reports, for the longest names', async () => {
    // 41 characters, the longest a schema may be named: "<40>_replaced_<14 digits>" is 64, one past
    // PostgreSQL's 63, and PostgreSQL cut the name the operator was told to look for.
    const long = `${schema}_`.padEnd(41, 'x').slice(0, 41);
    expect(long).toHaveLength(41);
    const from: StoreLocation = { kind: 'lowdb', dataDir: source.dataDir };
    const to: StoreLocation = { kind: 'postgres', connectionString: DATABASE_URL, schema: long };
    await copyStore(from, to, source.keyring, { now: NOW });
    const forced = await copyStore(from, to, source.keyring, { now: NOW, force: true });
    const kept = await admin.query(`SELECT 1 FROM pg_namespace WHERE nspname::text = $1::text`, [
      forced.replacedKeptAs,
    ]);
    expect(kept.rowCount).toBe(1);
  }, 60_000);

  it('a target schema holding tables of something else is refused, never dropped nor written into', async () => {
    // `--pg-schema public` or another application's schema: it was taken for an empty store (Baobei's
    // tables created in it), then swapped out with DROP SCHEMA … CASCADE, its tables gone with it.
    const foreign = `${schema}_foreign`;
    await admin.query(`CREATE SCHEMA "${foreign}"`);
    await admin.query(`CREATE TABLE "${foreign}".invoices (id int PRIMARY KEY)`);
    await admin.query(`INSERT INTO "${foreign}".invoices VALUES (1)`);
    const from: StoreLocation = { kind: 'lowdb', dataDir: source.dataDir };
    const to: StoreLocation = { kind: 'postgres', connectionString: DATABASE_URL, schema: foreign };
    // Named as what it is (not "holds data; add --force"): --force would not make it a target.
    const refused = await copyStore(from, to, source.keyring, { now: NOW }).catch((e: unknown) => e);
    expect((refused as DomainError).code).toBe('store.foreign_schema');
    const rows = await admin.query(`SELECT id FROM "${foreign}".invoices`);
    expect(rows.rows).toEqual([{ id: 1 }]);
    const tables = await admin.query(
      `SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relkind = 'r'`,
      [foreign],
    );
    expect(tables.rows.map((r: { relname: string }) => r.relname)).toEqual(['invoices']);

    // As a source (a mistyped --pg-schema naming it): named as what it is, not a store to copy, and
    // nothing created in it.
    const back: StoreLocation = { kind: 'lowdb', dataDir: path.join(work, 'from-foreign') };
    const asSource = await copyStore(to, back, source.keyring, { now: NOW }).catch((e: unknown) => e);
    expect((asSource as DomainError).code).toBe('store.foreign_schema');
    expect((asSource as DomainError).field).toBe('pg-schema');
    const after = await admin.query(
      `SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relkind = 'r'`,
      [foreign],
    );
    expect(after.rows.map((r: { relname: string }) => r.relname)).toEqual(['invoices']);
    expect(existsSync(back.dataDir)).toBe(false);

    // The store's own check under its lock (an instance opening it past the commands' look) says
    // the same as the configuration's refusal: one message, the address and schema named.
    const opened = await PostgresStore.open({
      connectionString: DATABASE_URL,
      schema: foreign,
      keyring: source.keyring,
    }).catch((e: unknown) => e);
    const expected = foreignSchemaProblem({ connectionString: DATABASE_URL, schema: foreign });
    expect((opened as DomainError).toProblem()).toEqual(expected.toProblem());
    expect(expected.messageEn).toContain(`schema ${foreign} is not a Baobei store`);
  }, 60_000);

  it('a source that is not there is refused, and neither it nor the target is created', async () => {
    const missingSchema = `${schema}_mistyped`;
    const lowdbTarget: StoreLocation = { kind: 'lowdb', dataDir: path.join(work, 'from-nothing') };
    const fromPg = await copyStore(
      { kind: 'postgres', connectionString: DATABASE_URL, schema: missingSchema },
      lowdbTarget,
      source.keyring,
      { now: NOW },
    ).catch((e: unknown) => e);
    expect((fromPg as DomainError).code).toBe('store.copy_source_missing');
    expect((fromPg as DomainError).messageEn).toContain(`schema ${missingSchema}`);
    const created = await admin.query(`SELECT 1 FROM pg_namespace WHERE nspname = $1`, [missingSchema]);
    expect(created.rowCount).toBe(0);

    const missingDir = path.join(work, 'no-such-data-dir');
    const fromLowdb = await copyStore({ kind: 'lowdb', dataDir: missingDir }, lowdbTarget, source.keyring, {
      now: NOW,
    }).catch((e: unknown) => e);
    expect((fromLowdb as DomainError).code).toBe('store.copy_source_missing');
    expect((fromLowdb as DomainError).message).toContain(missingDir);
    expect(existsSync(missingDir)).toBe(false);
    expect(existsSync(lowdbTarget.dataDir)).toBe(false);
  }, 60_000);

  it('a failure before the swap leaves the target untouched and no staging behind', async () => {
    const target: StoreLocation = { kind: 'lowdb', dataDir: path.join(work, 'back') };
    const before = await contentOf(target);
    const from: StoreLocation = { kind: 'lowdb', dataDir: source.dataDir };
    const failed = await copyStore(from, target, source.keyring, {
      now: NOW,
      force: true,
      onStage: (stage) => {
        if (stage === 'verified') throw new Error('disk full (injected)');
      },
    }).catch((e: unknown) => e);
    expect((failed as Error).message).toContain('injected');
    expect(compareContent(before, await contentOf(target))).toEqual([]);
    expect((await readdir(work)).sort()).toEqual(['back']);

    const pgBefore = await contentOf(pgLocation());
    const failedPg = await copyStore(target, pgLocation(), source.keyring, {
      now: NOW,
      force: true,
      onStage: (stage) => {
        if (stage === 'staged') throw new Error('connection lost (injected)');
      },
    }).catch((e: unknown) => e);
    expect((failedPg as Error).message).toContain('injected');
    expect(compareContent(pgBefore, await contentOf(pgLocation()))).toEqual([]);
    const staging = await admin.query(`SELECT 1 FROM pg_namespace WHERE nspname LIKE $1`, [
      `${schema}_copy%`,
    ]);
    expect(staging.rowCount).toBe(0);
  }, 60_000);

  it('a backup restored after some of its files expired loads without them (no verify failure)', async () => {
    // Content as a backup taken on NOW holds it: imp-1 kept until 2026-12-23. Restored a month later,
    // the file has expired; it was loaded, then missed by the read-back: store.verify_failed.
    const content = await contentOf({ kind: 'lowdb', dataDir: source.dataDir });
    expect(content.files.map((f) => f.file.key)).toEqual(['imp-1.report.json']);
    const later = new Date('2027-01-05T03:00:00.000Z');
    const target: StoreLocation = { kind: 'lowdb', dataDir: path.join(work, 'restored-later') };
    const summary = await writeContent(target, source.keyring, content, { now: later });
    expect(summary.counts.files).toBe(0);
    expect(summary.counts.records).toBe(6);
    await rm(target.dataDir, { recursive: true, force: true });
  }, 60_000);

  it('a target dir without a store but with other files is refused, and never emptied', async () => {
    // The operator's own files (the .bbk being restored, notes) in the dir named as the target:
    // they were once moved aside with the empty store and deleted with it.
    const dir = path.join(work, 'holds-other-files');
    await mkdir(dir);
    await writeFile(path.join(dir, 'baobei-2026-11-23.bbk'), 'not a store file');
    const target: StoreLocation = { kind: 'lowdb', dataDir: dir };
    const from: StoreLocation = { kind: 'lowdb', dataDir: source.dataDir };
    const refused = await copyStore(from, target, source.keyring, { now: NOW }).catch((e: unknown) => e);
    expect((refused as DomainError).code).toBe('store.not_empty');
    expect(await readFile(path.join(dir, 'baobei-2026-11-23.bbk'), 'utf8')).toBe('not a store file');

    // Forced, the dir is kept aside like any replaced target, the file in it.
    const forced = await copyStore(from, target, source.keyring, { now: NOW, force: true });
    expect(forced.replacedKeptAs).toBeDefined();
    expect(await readFile(path.join(forced.replacedKeptAs!, 'baobei-2026-11-23.bbk'), 'utf8')).toBe(
      'not a store file',
    );
    await rm(dir, { recursive: true, force: true });
    await rm(forced.replacedKeptAs!, { recursive: true, force: true });
  }, 60_000);

  it('a target holding only the file vault is empty while the vault is; a kept file is data: refused, kept aside under --force', async () => {
    // The vault's table (PostgreSQL) or dir (lowdb) is there before the store's first open, or
    // after its tables went: without files in it nothing is lost by replacing it. A kept file is
    // an annotated workbook or a report, customer data, so the target then holds data.
    const from: StoreLocation = { kind: 'lowdb', dataDir: source.dataDir };
    const targets: StoreLocation[] = [
      { kind: 'postgres', connectionString: DATABASE_URL, schema: `${schema}_vault` },
      { kind: 'lowdb', dataDir: path.join(work, 'vault-only') },
    ];
    for (const target of targets) {
      await vaultOnly(target, false);
      const copied = await copyStore(from, target, source.keyring, { now: NOW });
      expect(copied.replacedKeptAs, target.kind).toBeUndefined();
      expect(copied.counts.records, target.kind).toBe(6);
      await dropTarget(target);

      await vaultOnly(target, true);
      const refused = await copyStore(from, target, source.keyring, { now: NOW }).catch((e: unknown) => e);
      expect((refused as DomainError).code, target.kind).toBe('store.not_empty');
      const forced = await copyStore(from, target, source.keyring, { now: NOW, force: true });
      expect(forced.replacedKeptAs, target.kind).toBeDefined();
      // The file is where the operator is told the replaced target was kept.
      const kept: StoreLocation =
        target.kind === 'lowdb'
          ? { kind: 'lowdb', dataDir: forced.replacedKeptAs! }
          : { ...target, schema: forced.replacedKeptAs! };
      expect(await vaultKeys(kept), target.kind).toEqual(['imp-9.report.json']);
      await dropTarget(target);
      await dropTarget(kept);
    }
  }, 90_000);

  it('npx baobei store copy: refuses a store holding data in both languages, copies with --force', async () => {
    const cliSchema = `${schema}_cli`;
    const args = ['store', 'copy', '--from', 'lowdb', '--to', 'postgres', '--pg-url', DATABASE_URL];
    const env = { BAOBEI_PG_SCHEMA: cliSchema };
    const first = await runCli(args, { dataDir: source.dataDir, key: source.keyHex, env, timeoutMs: 60_000 });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('records: 6');
    expect(first.stdout).toContain('6 records compared one by one, all equal');
    // [R36] The copy is on the target's audit trail, after the source's entries.
    const copied = await contentOf({ kind: 'postgres', connectionString: DATABASE_URL, schema: cliSchema });
    expect(copied.dump.audit.at(-1)).toMatchObject({ action: 'store.copy', actorRole: 'system' });
    const again = await runCli(args, { dataDir: source.dataDir, key: source.keyHex, env, timeoutMs: 60_000 });
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('已有数据');
    expect(again.stderr).toContain('already holds data');
    const forced = await runCli([...args, '--force'], {
      dataDir: source.dataDir,
      key: source.keyHex,
      env,
      timeoutMs: 60_000,
    });
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stdout).toContain(`${cliSchema}_replaced_`);
  }, 90_000);
});
