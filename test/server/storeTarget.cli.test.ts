/**
 * Store commands that work on an existing store (`store rekey`, `backup` without a service) where
 * the configuration points at none: a data dir or PostgreSQL schema that is not there, or a schema
 * of another application. Opening a store creates it, so each must refuse first and leave nothing
 * behind — no schema, no Baobei tables among someone else's, no data dir, key or backup file.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/childService.js';
import { dropSchema, TEST_DATABASE_URL as DATABASE_URL } from '../support/postgresSchema.js';

const admin = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
const prefix = `target_${process.pid}_${Date.now().toString(36)}`;
const foreign = `${prefix}_foreign`;
const missing = `${prefix}_missing`;
const empty = `${prefix}_empty`;
const vaultOnly = `${prefix}_vault`;
const key = randomBytes(32).toString('hex');
const backupKey = randomBytes(32).toString('hex');
let work = '';

async function tablesIn(schema: string): Promise<string[] | null> {
  const found = await admin.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
  if (found.rowCount === 0) return null;
  const tables = await admin.query<{ relname: string }>(
    `SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relkind = 'r' ORDER BY relname`,
    [schema],
  );
  return tables.rows.map((r) => r.relname);
}

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'baobei-target-'));
  // Another application's schema: a table of its own, no Baobei `meta`.
  await admin.query(`CREATE SCHEMA "${foreign}"`);
  await admin.query(`CREATE TABLE "${foreign}".invoices (id int PRIMARY KEY)`);
  await admin.query(`INSERT INTO "${foreign}".invoices VALUES (1)`);
});

afterAll(async () => {
  for (const s of [foreign, missing, empty, vaultOnly]) await dropSchema(DATABASE_URL, s);
  await admin.end();
  await rm(work, { recursive: true, force: true });
});

const pgEnv = (schema: string) => ({ BAOBEI_STORE: 'postgres', DATABASE_URL, BAOBEI_PG_SCHEMA: schema });

describe('store commands where there is no Baobei store', () => {
  it('store rekey on a schema of another application is refused (store.foreign_schema), nothing created in it', async () => {
    const dataDir = path.join(work, 'rekey-foreign');
    const res = await runCli(['store', 'rekey'], { dataDir, key, env: pgEnv(foreign) });
    expect(res.code, res.stdout).toBe(2);
    expect(res.stderr).toContain('store.foreign_schema');
    expect(res.stderr).toContain('不是 Baobei 的存储');
    expect(res.stderr).toContain('not a Baobei store');
    expect(res.stderr).toContain(foreign);
    expect(res.stdout).not.toContain('re-key done');
    expect(await tablesIn(foreign)).toEqual(['invoices']);
    expect((await admin.query(`SELECT id FROM "${foreign}".invoices`)).rows).toEqual([{ id: 1 }]);
    expect(existsSync(dataDir)).toBe(false);
  }, 60_000);

  it('store rekey on a schema that does not exist is refused (store.not_found), no schema created', async () => {
    const dataDir = path.join(work, 'rekey-missing');
    const res = await runCli(['store', 'rekey'], { dataDir, key, env: pgEnv(missing) });
    expect(res.code, res.stdout).toBe(2);
    expect(res.stderr).toContain('store.not_found');
    expect(res.stderr).toContain('此处没有存储');
    expect(res.stderr).toContain('There is no store');
    expect(await tablesIn(missing)).toBeNull();
    expect(existsSync(dataDir)).toBe(false);
  }, 60_000);

  it('backup from a schema of another application, or one that does not exist, is refused and writes nothing', async () => {
    for (const [schema, code] of [
      [foreign, 'store.foreign_schema'],
      [missing, 'store.not_found'],
    ] as const) {
      const dataDir = path.join(work, `backup-${schema}`);
      const file = path.join(work, `${schema}.bbk`);
      const res = await runCli(['backup', file], {
        dataDir,
        key,
        env: { ...pgEnv(schema), BAOBEI_BACKUP_KEY: backupKey },
        timeoutMs: 60_000,
      });
      expect(res.code, res.stdout).toBe(2);
      expect(res.stderr).toContain(code);
      expect(res.stderr).toContain(schema);
      expect(existsSync(file)).toBe(false);
      expect(existsSync(dataDir)).toBe(false);
    }
    expect(await tablesIn(foreign)).toEqual(['invoices']);
    expect(await tablesIn(missing)).toBeNull();
  }, 60_000);

  // Eight node starts (tsx) in child processes: well past a minute when the machine is shared.
  it('serve, user add, import and calendar show on a schema of another application are refused, nothing created in it or on disk', async () => {
    // These may make a new store (a first start), but never among another application's tables,
    // and the refusal comes before the data dir or a key file is made.
    const csv = path.join(work, 'rows.csv');
    await writeFile(csv, '客户名称,客户类型,联系电话,客户来源\n上海华信科技有限公司,企业,13812345678,展会\n');
    for (const args of [
      ['serve'],
      ['user', 'add', '--name', '王磊', '--role', 'sales'],
      ['import', csv, '--dry-run'],
      ['calendar', 'show', '2027'],
    ]) {
      // With BAOBEI_KEY, and without (a first start would write baobei.key into the data dir).
      for (const [given, dataKey] of [
        ['key', key],
        ['no-key', ''],
      ] as const) {
        const what = `${args[0]} (${given})`;
        const dataDir = path.join(work, `first-${args[0]}-${given}`);
        const res = await runCli(args, { dataDir, key: dataKey, env: { ...pgEnv(foreign), PORT: '0' } });
        expect(res.code, `${what}: ${res.stdout}`).toBe(2);
        expect(res.stderr, what).toContain('[store.foreign_schema]');
        expect(res.stderr, what).toContain(foreign);
        expect(await tablesIn(foreign), what).toEqual(['invoices']);
        expect(existsSync(path.join(dataDir, 'baobei.key')), what).toBe(false);
        expect(existsSync(dataDir), what).toBe(false);
      }
    }
  }, 240_000);

  it('store copy (even with --force) and restore into a schema of another application are refused (store.foreign_schema); its tables stay where they are', async () => {
    // A Baobei store to copy from and a backup of it, on lowdb.
    const source = path.join(work, 'copy-source');
    const file = path.join(work, 'copy-source.bbk');
    const env = { BAOBEI_BACKUP_KEY: backupKey };
    expect(
      (await runCli(['user', 'add', '--name', '王磊', '--role', 'sales'], { dataDir: source, key })).code,
    ).toBe(0);
    expect((await runCli(['backup', file], { dataDir: source, key, env })).code).toBe(0);
    const into = ['--pg-url', DATABASE_URL, '--pg-schema', foreign];
    for (const args of [
      ['store', 'copy', '--from', 'lowdb', '--to', 'postgres', ...into, '--force'],
      ['store', 'copy', '--from', 'lowdb', '--to', 'postgres', ...into],
      ['restore', file, ...into],
    ]) {
      const what = args.slice(0, 2).join(' ') + (args.includes('--force') ? ' --force' : '');
      const res = await runCli(args, { dataDir: source, key, env, timeoutMs: 60_000 });
      expect(res.code, `${what}: ${res.stdout}`).toBe(2);
      expect(res.stderr, what).toContain('[store.foreign_schema]');
      expect(res.stderr, what).toContain(foreign);
      expect(res.stderr, what).toContain('--pg-schema');
      expect(await tablesIn(foreign), what).toEqual(['invoices']);
    }
    const aside = await admin.query('SELECT nspname FROM pg_namespace WHERE nspname LIKE $1', [
      `${foreign}_%`,
    ]);
    expect(aside.rows).toEqual([]);
  }, 120_000);

  it('an empty schema made for Baobei, or one holding only its file vault, is a new store: user add without BAOBEI_KEY makes it and its key file', async () => {
    await admin.query(`CREATE SCHEMA "${empty}"`);
    // The file vault's table alone is Baobei's own (the store's first open accepts it too).
    await admin.query(`CREATE SCHEMA "${vaultOnly}"`);
    await admin.query(`CREATE TABLE "${vaultOnly}".sealed_files (key text PRIMARY KEY)`);
    for (const schema of [empty, vaultOnly]) {
      const dataDir = path.join(work, `new-store-${schema}`);
      const res = await runCli(['user', 'add', '--name', '王磊', '--role', 'sales'], {
        dataDir,
        key: '',
        env: pgEnv(schema),
      });
      expect(res.code, `${schema}: ${res.stderr}`).toBe(0);
      expect(existsSync(path.join(dataDir, 'baobei.key')), schema).toBe(true);
      expect(await tablesIn(schema), schema).toContain('meta');
    }
  }, 60_000);

  it('backup of a mistyped lowdb data dir (no service) is refused (store.not_found), no store or file made', async () => {
    const dataDir = path.join(work, 'no-such-store');
    const file = path.join(work, 'lowdb.bbk');
    const res = await runCli(['backup', file], { dataDir, key, env: { BAOBEI_BACKUP_KEY: backupKey } });
    expect(res.code, res.stdout).toBe(2);
    expect(res.stderr).toContain('store.not_found');
    expect(res.stderr).toContain(dataDir);
    expect(existsSync(file)).toBe(false);
    expect(existsSync(dataDir)).toBe(false);
  }, 60_000);
});
