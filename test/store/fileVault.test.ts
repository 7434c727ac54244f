/**
 * The file vault contract, run against both adapters: sealed files in the data dir (beside lowdb)
 * and a table in a real PostgreSQL (beside the PostgreSQL store, a fresh schema per run). Bytes are
 * never at rest in clear, a header moved onto another file or a different key does not open, and
 * listing by owner and expiry is what quota and the sweep rely on.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { keyringFromMasterKey, type Keyring } from '../../server/security/keyring.js';
import { DirFileVault } from '../../server/store/dirFileVault.js';
import type { FileVault, NewVaultFile } from '../../server/store/fileVault.js';
import { PostgresFileVault } from '../../server/store/postgresFileVault.js';
import { dropSchema, TEST_DATABASE_URL as DATABASE_URL } from '../support/postgresSchema.js';

const admin = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
afterAll(async () => {
  await admin.end();
});

const SECRET = '欧阳明远 13900001234 91310115000000001X';

function file(key: string, owner: string, expiresAt = '2026-12-01T00:00:00.000Z'): NewVaultFile {
  return { key, owner, kind: 'import.report', createdAt: '2026-11-23T02:00:00.000Z', expiresAt };
}

interface Adapter {
  name: string;
  open(keyring: Keyring): Promise<FileVault>;
  /** Every byte the adapter keeps, as text (to look for anything in clear). */
  atRest(): Promise<string>;
  /** Rewrites one file's clear owner behind the vault's back. */
  moveOwner(key: string, owner: string): Promise<void>;
}

async function dirAdapter(): Promise<Adapter> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'baobei-vault-'));
  cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
  const dir = path.join(dataDir, 'files');
  return {
    name: 'dir',
    open: (keyring) => DirFileVault.open({ dataDir, keyring }),
    async atRest() {
      const names = await readdir(dir);
      return (await Promise.all(names.map((n) => readFile(path.join(dir, n), 'utf8')))).join('\n');
    },
    async moveOwner(key, owner) {
      const f = path.join(dir, `${key}.sealed`);
      const bytes = await readFile(f);
      const text = bytes.toString('latin1').replace('"owner":"u1"', `"owner":"${owner}"`);
      await writeFile(f, Buffer.from(text, 'latin1'));
    },
  };
}

async function postgresAdapter(): Promise<Adapter> {
  const schema = `vault_${randomBytes(6).toString('hex')}`;
  cleanups.push(async () => {
    await dropSchema(DATABASE_URL, schema);
  });
  return {
    name: 'postgres',
    open: (keyring) => PostgresFileVault.open({ connectionString: DATABASE_URL, schema, keyring }),
    async atRest() {
      const result = await admin.query<{ row: string }>(
        `SELECT key || owner || kind || encode(sealed, 'escape') AS row FROM "${schema}".sealed_files`,
      );
      return result.rows.map((r) => r.row).join('\n');
    },
    async moveOwner(key, owner) {
      await admin.query(`UPDATE "${schema}".sealed_files SET owner = $2 WHERE key = $1`, [key, owner]);
    },
  };
}

for (const make of [dirAdapter, postgresAdapter]) {
  describe(`file vault (${make.name.replace('Adapter', '')})`, () => {
    const keyring = keyringFromMasterKey(randomBytes(32));

    async function opened(): Promise<{ adapter: Adapter; vault: FileVault }> {
      const adapter = await make();
      const vault = await adapter.open(keyring);
      cleanups.push(() => vault.close());
      return { adapter, vault };
    }

    it('keeps files sealed: what it returns is what was put; nothing at rest is in clear', async () => {
      const { adapter, vault } = await opened();
      const put = await vault.put(file('imp-1.report', 'u1'), Buffer.from(SECRET));
      expect(put.size).toBeGreaterThan(Buffer.byteLength(SECRET));
      const got = await vault.open('imp-1.report');
      expect(got?.bytes.toString('utf8')).toBe(SECRET);
      expect(got?.file).toMatchObject({ key: 'imp-1.report', owner: 'u1', kind: 'import.report' });
      expect(await vault.head('imp-1.report')).toEqual(got?.file);
      const rest = await adapter.atRest();
      expect(rest).toContain('imp-1.report');
      for (const part of SECRET.split(' ')) expect(rest).not.toContain(part);
      expect(await vault.open('missing.report')).toBeUndefined();
      expect(await vault.head('missing.report')).toBeUndefined();
    });

    it('a put replaces the file with the same key', async () => {
      const { vault } = await opened();
      await vault.put(file('a.report', 'u1'), Buffer.from('one'));
      await vault.put(file('a.report', 'u1'), Buffer.from('two'));
      expect((await vault.open('a.report'))?.bytes.toString()).toBe('two');
      expect(await vault.list()).toHaveLength(1);
    });

    it('lists by owner and by expiry, oldest first; removes', async () => {
      const { vault } = await opened();
      await vault.put(
        { ...file('b.report', 'u2', '2026-11-24T00:00:00.000Z'), createdAt: '2026-11-23T03:00:00.000Z' },
        Buffer.from('b'),
      );
      await vault.put(file('a.report', 'u1', '2026-11-24T00:00:00.000Z'), Buffer.from('a'));
      await vault.put(file('c.report', 'u1', '2026-12-24T00:00:00.000Z'), Buffer.from('c'));
      expect((await vault.list()).map((f) => f.key)).toEqual(['a.report', 'c.report', 'b.report']);
      expect((await vault.list({ owner: 'u1' })).map((f) => f.key)).toEqual(['a.report', 'c.report']);
      expect((await vault.list({ expiredAt: '2026-11-24T00:00:00.000Z' })).map((f) => f.key).sort()).toEqual([
        'a.report',
        'b.report',
      ]);
      expect((await vault.list({ owner: 'u2', expiredAt: '2026-11-23T23:59:59.999Z' })).length).toBe(0);
      expect(await vault.remove('a.report')).toBe(true);
      expect(await vault.remove('a.report')).toBe(false);
      expect((await vault.list({ owner: 'u1' })).map((f) => f.key)).toEqual(['c.report']);
    });

    it('a header moved to another owner, or another key, does not open', async () => {
      const { adapter, vault } = await opened();
      await vault.put(file('x.report', 'u1'), Buffer.from(SECRET));
      const other = await adapter.open(keyringFromMasterKey(randomBytes(32)));
      cleanups.push(() => other.close());
      await expect(other.open('x.report')).rejects.toMatchObject({ code: 'store.key_mismatch' });
      await adapter.moveOwner('x.report', 'u9');
      await expect(vault.open('x.report')).rejects.toMatchObject({ code: 'store.key_mismatch' });
    });

    it('refuses keys that could name a path', async () => {
      const { vault } = await opened();
      for (const key of ['../x', 'a/b', '', '.hidden', 'a..b'])
        await expect(vault.put(file(key, 'u1'), Buffer.from('x'))).rejects.toThrow(/bad vault file key/);
    });
  });
}

describe('file vault (postgres), several instances', () => {
  it('instances starting together on a fresh schema all open it (no duplicate-key race in CREATE … IF NOT EXISTS)', async () => {
    const keyring = keyringFromMasterKey(randomBytes(32));
    for (let round = 0; round < 5; round++) {
      const schema = `vault_${randomBytes(6).toString('hex')}`;
      cleanups.push(async () => {
        await dropSchema(DATABASE_URL, schema);
      });
      const opened = await Promise.allSettled(
        Array.from({ length: 8 }, () =>
          PostgresFileVault.open({ connectionString: DATABASE_URL, schema, keyring }),
        ),
      );
      for (const o of opened) if (o.status === 'fulfilled') await o.value.close();
      expect(opened.flatMap((o) => (o.status === 'rejected' ? [String(o.reason)] : []))).toEqual([]);
    }
  });
});
