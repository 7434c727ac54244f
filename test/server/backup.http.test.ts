/**
 * `baobei backup` and `baobei restore` as an operator runs them (issue 12, R35; issue 17's
 * calendars): the service runs as its own process and keeps serving registrations while the CLI
 * takes a backup over HTTP; the backup restores into an empty data dir (and an empty PostgreSQL
 * schema) and compares equal; a wrong key, a wrong data key or a changed byte is refused with
 * nothing written; a target holding data is refused; only administrators may take a backup.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RowResult } from '../../core/schema.js';
import { keyringFromMasterKey } from '../../server/security/keyring.js';
import { readBackupHeader } from '../../server/store/backupFile.js';
import {
  compareContent,
  openLocation,
  readContent,
  type StoreContent,
  type StoreLocation,
} from '../../server/store/storeTransfer.js';
import { SYNTHETIC_2027 } from '../fixtures/calendar2027.js';
import { runCli, spawnService, type ChildService } from '../support/childService.js';
import { enterpriseRow } from '../support/customers.js';
import { apiClient, startTestService, type ErrorBody } from '../support/testService.js';
import { ConfigError, loadConfig } from '../../server/config.js';
import { dropSchema, TEST_DATABASE_URL as DATABASE_URL } from '../support/postgresSchema.js';

const schema = `backup_${process.pid}_${Date.now().toString(36)}`;
const BATCH = 4;

const key = randomBytes(32).toString('hex');
const backupKey = randomBytes(32).toString('hex');
const keyring = keyringFromMasterKey(Buffer.from(key, 'hex'));
let work = '';
let dataDir = '';
let service: ChildService;
let adminToken = '';
let salesToken = '';
let next = 1;

async function register(n: number): Promise<number> {
  const rows = Array.from({ length: n }, () => enterpriseRow(next++, { contactName: '陈伟' }));
  const res = await apiClient(service.url, salesToken).post<{ results: RowResult[] }>('/api/registrations', {
    rows,
  });
  if (res.status !== 200) throw new Error(`register: ${res.status}`);
  return res.body.results.length;
}

async function contentOf(location: StoreLocation): Promise<StoreContent> {
  const opened = await openLocation(location, keyring, 'test');
  try {
    return await readContent(opened.store, opened.files, new Date());
  } finally {
    await opened.store.close();
    await opened.files.close();
  }
}

const cli = (args: string[], env: Record<string, string> = {}) =>
  runCli(args, { dataDir, key, env: { BAOBEI_BACKUP_KEY: backupKey, ...env }, timeoutMs: 60_000 });

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'baobei-backup-'));
  dataDir = path.join(work, 'live');
  service = await spawnService({ dataDir, key, env: { BAOBEI_BACKUP_KEY: backupKey } });
  adminToken = (await readFile(path.join(dataDir, 'admin.token'), 'utf8')).trim();
  const created = await apiClient(service.url, adminToken).post<{ token: string }>('/api/users', {
    name: '王磊',
    role: 'sales',
    team: '华东一部',
  });
  salesToken = created.body.token;
  await register(BATCH);
  const put = await apiClient(service.url, adminToken).put('/api/calendar/2027', SYNTHETIC_2027);
  expect(put.status).toBe(200);
}, 60_000);

afterAll(async () => {
  if (service) await service.kill('SIGTERM');
  await dropSchema(DATABASE_URL, schema);
  await rm(work, { recursive: true, force: true });
});

describe('backup and restore', () => {
  it('only administrators may take a backup', async () => {
    const res = await apiClient(service.url, salesToken).post<ErrorBody>('/api/admin/backup', {});
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('auth.forbidden');
    const anonymous = await fetch(`${service.url}/api/admin/backup`, { method: 'POST' });
    expect(anonymous.status).toBe(401);
  });

  it('a backup taken while registrations are served restores to a consistent state', async () => {
    const file = path.join(work, 'during.bbk');
    let writing = true;
    let written = 0;
    const writer = (async () => {
      while (writing) written += await register(BATCH);
    })();
    // Let some writes land before and after the snapshot.
    while (written < 3 * BATCH) await new Promise((r) => setTimeout(r, 20));
    const backup = await cli(['backup', file]);
    const afterBackup = written;
    while (written < afterBackup + 3 * BATCH) await new Promise((r) => setTimeout(r, 20));
    writing = false;
    await writer;
    expect(backup.code, backup.stderr).toBe(0);
    expect(backup.stdout).toContain('backup written');

    // The clear header says what is inside, and nothing personal.
    const bytes = await readFile(file);
    const { header } = readBackupHeader(bytes);
    expect(header).toMatchObject({ format: 'baobei-backup', version: 1, store: 'lowdb' });
    expect(bytes.includes(Buffer.from('陈伟'))).toBe(false);
    expect(bytes.includes(Buffer.from('有限公司'))).toBe(false);

    const target = path.join(work, 'restored-during');
    const restored = await cli(['restore', file, '--data-dir', target]);
    expect(restored.code, restored.stderr).toBe(0);
    const content = await contentOf({ kind: 'lowdb', dataDir: target });
    const records = content.dump.records;
    expect(records.length).toBe(header.counts['records']);
    // Batches commit whole: a consistent snapshot holds only whole batches …
    expect(records.length % BATCH).toBe(0);
    expect(records.length).toBeGreaterThanOrEqual(4 * BATCH);
    // … and numbers with no gap, up to the counter.
    const numbers = records.map((r) => Number(r.no.slice(-6))).sort((a, b) => a - b);
    expect(numbers).toEqual(Array.from({ length: numbers.length }, (_, i) => i + 1));
    expect(Object.values(content.dump.counters)).toEqual([numbers.length]);
    // Issue 17: the administrator's calendar is in the backup.
    const calendar = content.dump.docs.find((d) => d.collection === 'calendars' && d.key === '2027');
    expect(calendar?.value).toMatchObject(SYNTHETIC_2027);
  }, 120_000);

  it('restores equal to the store it was taken from, into lowdb and into PostgreSQL', async () => {
    const file = path.join(work, 'quiet.bbk');
    const backup = await cli(['backup', file]);
    expect(backup.code, backup.stderr).toBe(0);
    await service.kill('SIGTERM');
    const source = await contentOf({ kind: 'lowdb', dataDir });

    const target = path.join(work, 'restored');
    // Equal to the source but for the restore's own audit entry (R36), which comes last.
    const withoutRestoreEntry = (content: StoreContent): StoreContent => {
      expect(content.dump.audit.at(-1)?.action).toBe('restore');
      return { ...content, dump: { ...content.dump, audit: content.dump.audit.slice(0, -1) } };
    };
    const toLowdb = await cli(['restore', file, '--data-dir', target]);
    expect(toLowdb.code, toLowdb.stderr).toBe(0);
    expect(
      compareContent(source, withoutRestoreEntry(await contentOf({ kind: 'lowdb', dataDir: target }))),
    ).toEqual([]);

    const toPg = await cli(['restore', file, '--pg-url', DATABASE_URL, '--pg-schema', schema]);
    expect(toPg.code, toPg.stderr).toBe(0);
    expect(
      compareContent(
        source,
        withoutRestoreEntry(await contentOf({ kind: 'postgres', connectionString: DATABASE_URL, schema })),
      ),
    ).toEqual([]);

    // A target holding data is refused, in both languages.
    const again = await cli(['restore', file, '--data-dir', target]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('已有数据');
    expect(again.stderr).toContain('already holds data');
    service = await spawnService({ dataDir, key, env: { BAOBEI_BACKUP_KEY: backupKey } });
  }, 120_000);

  it('restore goes where its options point: --pg-schema alone is PostgreSQL, both kinds are refused', async () => {
    const file = path.join(work, 'quiet.bbk');
    const pgSchema = `${schema}_only`;
    // The address from DATABASE_URL, the schema from --pg-schema: once restored into the lowdb
    // BAOBEI_DATA_DIR instead, saying "restored" while the schema named stayed empty.
    const defaultDir = path.join(work, 'default-data-dir');
    const run = (args: string[]) =>
      runCli(args, {
        dataDir: defaultDir,
        key,
        env: { BAOBEI_BACKUP_KEY: backupKey, DATABASE_URL },
        timeoutMs: 60_000,
      });
    try {
      const both = await run(['restore', file, '--data-dir', path.join(work, 'x'), '--pg-schema', pgSchema]);
      expect(both.code).toBe(2);
      expect(both.stderr).toContain('只能指定一个');
      expect(both.stderr).toContain('one target');
      expect(existsSync(path.join(work, 'x'))).toBe(false);

      const restored = await run(['restore', file, '--pg-schema', pgSchema]);
      expect(restored.code, restored.stderr).toBe(0);
      expect(existsSync(path.join(defaultDir, 'baobei.json'))).toBe(false);
      const content = await contentOf({ kind: 'postgres', connectionString: DATABASE_URL, schema: pgSchema });
      expect(content.dump.records.length).toBeGreaterThan(0);
      // [R36] The restore itself is on the restored store's audit trail, after the backup's entries.
      expect(content.dump.audit.at(-1)).toMatchObject({ action: 'restore', actorRole: 'system' });
    } finally {
      await dropSchema(DATABASE_URL, pgSchema);
    }
  }, 120_000);

  it('[R36] a backup the CLI takes from the store itself (PostgreSQL, no service) is audited too', async () => {
    const location: StoreLocation = { kind: 'postgres', connectionString: DATABASE_URL, schema };
    const before = (await contentOf(location)).dump.audit.length;
    const file = path.join(work, 'direct.bbk');
    const taken = await cli(['backup', file], {
      BAOBEI_STORE: 'postgres',
      DATABASE_URL,
      BAOBEI_PG_SCHEMA: schema,
    });
    expect(taken.code, taken.stderr).toBe(0);
    const audit = (await contentOf(location)).dump.audit;
    expect(audit.length).toBe(before + 1);
    expect(audit.at(-1)).toMatchObject({ action: 'backup', actorRole: 'system', records: [] });
    // Audited first, as the route does: the backup holds its own entry.
    expect(readBackupHeader(await readFile(file)).header.counts.audit).toBe(before + 1);
  }, 60_000);

  it('a backup is not written beside its backup key file', async () => {
    // "A backup with its key beside it is not protected" (operations.md): a FILE in the directory of
    // BAOBEI_BACKUP_KEY_FILE (a shared backup folder holding both) is refused before it is written.
    const keys = path.join(work, 'backups');
    await mkdir(keys);
    const keyFile = path.join(keys, 'backup.key');
    await writeFile(keyFile, backupKey, { mode: 0o600 });
    const file = path.join(keys, 'beside.bbk');
    const beside = await runCli(['backup', file], {
      dataDir,
      key,
      env: { BAOBEI_BACKUP_KEY_FILE: keyFile },
      timeoutMs: 60_000,
    });
    expect(beside.code).toBe(2);
    expect(beside.stderr).toContain('备份密钥文件');
    expect(beside.stderr).toContain('beside its backup key file');
    expect(existsSync(file)).toBe(false);
    expect((await readdir(keys)).sort()).toEqual(['backup.key']);
  }, 60_000);

  it('a wrong backup key, a wrong data key or a changed byte is refused and nothing is written', async () => {
    const file = path.join(work, 'during.bbk');
    const target = path.join(work, 'never');
    const wrongKey = await cli(['restore', file, '--data-dir', target], {
      BAOBEI_BACKUP_KEY: randomBytes(32).toString('hex'),
    });
    expect(wrongKey.code).toBe(2);
    expect(wrongKey.stderr).toContain('备份密钥');
    expect(wrongKey.stderr).toContain('not the one it was made with');

    const bytes = await readFile(file);
    for (const at of [bytes.length - 40, bytes.indexOf(Buffer.from('"createdAt"')) + 14]) {
      const changed = Buffer.from(bytes);
      changed[at] = changed[at]! ^ 0x01;
      const tampered = path.join(work, 'tampered.bbk');
      await writeFile(tampered, changed);
      const refused = await cli(['restore', tampered, '--data-dir', target]);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/damaged|not a Baobei backup/);
    }
    const cut = path.join(work, 'cut.bbk');
    await writeFile(cut, bytes.subarray(0, bytes.length - 100));
    expect((await cli(['restore', cut, '--data-dir', target])).stderr).toContain('cut short');

    const otherDataKey = await runCli(['restore', file, '--data-dir', target], {
      dataDir: path.join(work, 'elsewhere'),
      key: randomBytes(32).toString('hex'),
      env: { BAOBEI_BACKUP_KEY: backupKey },
    });
    expect(otherDataKey.code).toBe(2);
    expect(otherDataKey.stderr).toContain('data key');
    expect(existsSync(target)).toBe(false);
  }, 120_000);

  it('a backup file that cannot be read or written is named, with the reason, and nothing is left', async () => {
    const missing = path.join(work, 'no-such.bbk');
    const target = path.join(work, 'not-restored');
    const unread = await cli(['restore', missing, '--data-dir', target]);
    expect(unread.code).toBe(2);
    expect(unread.stderr).toContain(`无法读取备份文件 ${missing}：文件不存在`);
    expect(unread.stderr).toContain('no such file');
    expect(unread.stderr).not.toContain('internal error');
    expect(existsSync(target)).toBe(false);

    // Through the running service (it holds the data dir) and into a directory that is not there.
    const nowhere = path.join(work, 'no-such-dir', 'x.bbk');
    const unwritten = await cli(['backup', nowhere]);
    expect(unwritten.code).toBe(2);
    expect(unwritten.stderr).toContain('its directory does not exist');
    expect(unwritten.stderr).toContain('所在目录不存在');
    // Over a directory: refused too, and neither the directory nor a part file is touched.
    const unwrittenOverDir = await cli(['backup', work]);
    expect(unwrittenOverDir.code).toBe(2);
    expect(unwrittenOverDir.stderr).toContain('it is a directory');
    const leftBeside = (await readdir(path.dirname(work))).filter((f) =>
      f.startsWith(`.${path.basename(work)}.`),
    );
    expect(leftBeside).toEqual([]);
  }, 60_000);

  it('without a backup key the route says so (503); a bad key stops the start naming the variable', async () => {
    const svc = await startTestService();
    try {
      const res = await svc.api(svc.adminToken).post<ErrorBody>('/api/admin/backup', {});
      expect(res.status).toBe(503);
      expect(res.body.error.code).toBe('backup.not_configured');
      expect(res.body.error.message).toContain('BAOBEI_BACKUP_KEY');
    } finally {
      await svc.close();
    }
    const bad = (() => {
      try {
        loadConfig({ BAOBEI_BACKUP_KEY: 'too-short' });
        return undefined;
      } catch (err) {
        return err;
      }
    })();
    expect(bad).toBeInstanceOf(ConfigError);
    expect((bad as Error).message).toContain('BAOBEI_BACKUP_KEY');
    expect((bad as Error).message).not.toContain('too-short');
    expect(() => loadConfig({ BAOBEI_BACKUP_KEY: backupKey, BAOBEI_BACKUP_KEY_FILE: '/k' })).toThrow(
      /BAOBEI_BACKUP_KEY_FILE/,
    );
  });

  it('the backup key never reaches the service log', async () => {
    const svc = await startTestService({ env: { BAOBEI_BACKUP_KEY: backupKey, LOG_LEVEL: 'debug' } });
    try {
      const res = await fetch(`${svc.url}/api/admin/backup`, {
        method: 'POST',
        headers: { authorization: `Bearer ${svc.adminToken}` },
      });
      expect(res.status).toBe(200);
      expect((await res.arrayBuffer()).byteLength).toBeGreaterThan(100);
      expect(svc.logText()).not.toContain(backupKey);
    } finally {
      await svc.close();
    }
  });
});
