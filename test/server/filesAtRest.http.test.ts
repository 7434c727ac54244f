/**
 * Files at rest (issue 16, issue 14 "no amplification"): an import's report and annotated workbook
 * are sealed in the file vault, outside the main store document; nothing in the data dir — every
 * file, every archive unzipped — holds a phone number, contact name or credit code in clear; the
 * files expire (dry runs sooner) and the sweep deletes them; a per-user quota; every creation,
 * download and deletion is audited; repeated uploads never grow the store file.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { gunzipSync, unzipSync } from 'fflate';
import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { ImportReport } from '../../server/import/importSheet.js';
import { csvOf } from '../fixtures/legacySheets.js';
import { companyNameFor, creditCodeFor, phoneFor } from '../support/customers.js';
import { startTestService, type ErrorBody, type TestService } from '../support/testService.js';
import { dropSchema, TEST_DATABASE_URL } from '../support/postgresSchema.js';

type UploadBody = ImportReport & { id: string; annotatedUrl: string; expiresAt: string } & Partial<ErrorBody>;

const started: TestService[] = [];
afterEach(async () => {
  for (const s of started.splice(0)) await s.close();
});

async function service(env: Record<string, string> = {}): Promise<TestService> {
  const s = await startTestService({ env });
  started.push(s);
  return s;
}

const CONTACTS = ['欧阳明远', '司马青云', '上官婉清'];
const HEADER = [
  '客户名称',
  '客户类型',
  '统一社会信用代码',
  '联系人',
  '联系电话',
  '客户来源',
  '报备人',
  '报备日期',
];

/** A legacy sheet of `n` customers (n ≤ 3 have the named contacts), registered by `registrant`. */
function sheet(registrant: string, first: number, n: number): Buffer {
  const rows = Array.from({ length: n }, (_, i) => [
    companyNameFor(first + i),
    '企业',
    creditCodeFor(first + i),
    CONTACTS[i % CONTACTS.length]!,
    phoneFor(first + i),
    '展会',
    registrant,
    '2026-11-20',
  ]);
  return Buffer.from(csvOf([HEADER, ...rows]));
}

/** What must never be readable in the data dir: the customers' phones, contacts and credit codes. */
function secretsOf(first: number, n: number): string[] {
  return [
    ...CONTACTS,
    ...Array.from({ length: n }, (_, i) => [phoneFor(first + i), creditCodeFor(first + i)]).flat(),
  ];
}

async function upload(
  s: TestService,
  token: string,
  bytes: Uint8Array,
  fields: Record<string, string>,
  name = '台账.csv',
): Promise<{ status: number; body: UploadBody }> {
  const form = new FormData();
  form.set('file', new Blob([new Uint8Array(bytes)]), name);
  for (const [k, v] of Object.entries(fields)) form.set(k, v);
  const res = await fetch(`${s.url}/api/imports`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
    body: form,
  });
  return { status: res.status, body: (await res.json()) as UploadBody };
}

function get(s: TestService, token: string, url: string): Promise<Response> {
  return fetch(`${s.url}${url}`, { headers: { authorization: `Bearer ${token}` } });
}

/** Every file under a directory, recursively. */
async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(full)));
    else if (entry.isFile()) out.push(full);
  }
  return out;
}

/** The texts a file holds: itself, and every entry of it when it is a ZIP or gzip archive (recursively). */
function textsOf(name: string, bytes: Uint8Array): { name: string; text: string }[] {
  const out = [{ name, text: Buffer.from(bytes).toString('utf8') }];
  if (bytes[0] === 0x50 && bytes[1] === 0x4b) {
    for (const [entry, content] of Object.entries(unzipSync(bytes)))
      out.push(...textsOf(`${name}!${entry}`, content));
  } else if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    out.push(...textsOf(`${name}!gz`, gunzipSync(bytes)));
  }
  return out;
}

/** Where each secret is found in clear: `file[!entry]: secret`. */
function findInClear(texts: { name: string; text: string }[], secrets: string[]): string[] {
  const hits: string[] = [];
  for (const { name, text } of texts)
    for (const secret of secrets) if (text.includes(secret)) hits.push(`${name}: ${secret}`);
  return hits;
}

describe('files at rest', () => {
  it('[R35] after imports, downloads and notifications, no file in the data dir — archives unzipped — holds a phone, contact or credit code in clear', async () => {
    const s = await service();
    const wang = await s.user('王磊', 'sales', '华东一部');
    const reviewer = await s.user('赵敏', 'reviewer', '华东一部');
    const submitted = await upload(s, wang, sheet('王磊', 1, 3), { dryRun: 'false' });
    expect(submitted.status).toBe(201);
    const dry = await upload(s, wang, sheet('王磊', 10, 3), { dryRun: 'true' });
    expect(dry.status).toBe(200);
    // A decision notifies the registrant; its notification is kept in the store.
    const no = submitted.body.rows.find((r) => r.registrationNo !== undefined)?.registrationNo;
    expect(no).toBeDefined();
    const review = await s.api(reviewer).post(`/api/registrations/${no}/review`, {
      decision: 'approve',
      reason: '资料齐全',
    });
    expect(review.status).toBe(200);

    // The control: the workbook handed to the uploader holds the customers in clear, so the search finds them there.
    const workbook = await get(s, wang, submitted.body.annotatedUrl);
    expect(workbook.status).toBe(200);
    const served = textsOf('annotated.xlsx', new Uint8Array(await workbook.arrayBuffer()));
    expect(findInClear(served, secretsOf(1, 3))).toHaveLength(9);
    const dryWorkbook = await get(s, wang, dry.body.annotatedUrl);
    expect(
      findInClear(textsOf('dry.xlsx', new Uint8Array(await dryWorkbook.arrayBuffer())), secretsOf(10, 3)),
    ).not.toEqual([]);

    const files = await filesUnder(s.dataDir);
    // Both imports' report and workbook are kept, sealed, under files/; no blobs/ any more.
    expect(files.filter((f) => f.includes(`${path.sep}files${path.sep}`))).toHaveLength(4);
    expect(files.some((f) => f.includes(`${path.sep}blobs${path.sep}`))).toBe(false);
    const texts = (
      await Promise.all(files.map(async (f) => textsOf(path.relative(s.dataDir, f), await readFile(f))))
    ).flat();
    expect(findInClear(texts, [...secretsOf(1, 3), ...secretsOf(10, 3)])).toEqual([]);
    // …and the store document holds no report either (the file name and rows are only in the vault).
    expect(await readFile(path.join(s.dataDir, 'baobei.json'), 'utf8')).not.toContain('台账.csv');
  });

  it('repeated uploads no longer grow the store file', async () => {
    const s = await service();
    const wang = await s.user('王磊', 'sales');
    const storeFile = path.join(s.dataDir, 'baobei.json');
    const bytes = sheet('王磊', 100, 300);
    expect((await upload(s, wang, bytes, { dryRun: 'true' })).status).toBe(200);
    const before = (await stat(storeFile)).size;
    for (let i = 0; i < 5; i++) expect((await upload(s, wang, bytes, { dryRun: 'true' })).status).toBe(200);
    expect((await stat(storeFile)).size).toBe(before);
    // The six imports' files are in the vault instead, each one sealed.
    const kept = await readdir(path.join(s.dataDir, 'files'));
    expect(kept.filter((f) => f.endsWith('.sealed'))).toHaveLength(12);
  });

  it('files expire: a dry run after a day, an import after the retention; the sweep deletes them and the audit says so', async () => {
    const s = await service({ BAOBEI_FILE_RETENTION_DAYS: '30', BAOBEI_DRY_RUN_RETENTION_HOURS: '24' });
    const wang = await s.user('王磊', 'sales');
    const dry = await upload(s, wang, sheet('王磊', 200, 2), { dryRun: 'true' });
    const real = await upload(s, wang, sheet('王磊', 210, 2), { dryRun: 'false' });
    expect([dry.status, real.status]).toEqual([200, 201]);
    expect(Date.parse(dry.body.expiresAt) - s.now().getTime()).toBe(24 * 3_600_000);
    expect(Date.parse(real.body.expiresAt) - s.now().getTime()).toBe(30 * 86_400_000);
    const sweep = () => s.running.services.importFiles.sweep();

    expect(await sweep()).toBe(0);
    s.setNow(new Date(s.now().getTime() + 25 * 3_600_000));
    expect(await sweep()).toBe(2);
    expect((await get(s, wang, `/api/imports/${dry.body.id}`)).status).toBe(404);
    expect((await get(s, wang, dry.body.annotatedUrl)).status).toBe(404);
    expect((await get(s, wang, `/api/imports/${real.body.id}`)).status).toBe(200);

    s.setNow(new Date(s.now().getTime() + 30 * 86_400_000));
    expect(await sweep()).toBe(2);
    expect((await get(s, wang, `/api/imports/${real.body.id}`)).status).toBe(404);
    expect((await readdir(path.join(s.dataDir, 'files'))).filter((f) => f.endsWith('.sealed'))).toEqual([]);

    const audit = await s.running.store.listAudit({ limit: 100, offset: 0 });
    const fileEntries = audit.items.filter((e) => e.action.startsWith('file.'));
    expect(fileEntries.filter((e) => e.action === 'file.create')).toHaveLength(4);
    const deletions = fileEntries.filter((e) => e.action === 'file.delete');
    expect(deletions).toHaveLength(4);
    expect(deletions.every((e) => e.actor === 'system' && e.details?.['reason'] === 'expired')).toBe(true);
  });

  it('downloads and deletions are audited; only the uploader and administrators read or delete', async () => {
    const s = await service();
    const wang = await s.user('王磊', 'sales');
    const li = await s.user('李娜', 'sales');
    const res = await upload(s, wang, sheet('王磊', 300, 2), { dryRun: 'true' });
    expect(res.status).toBe(200);
    expect((await get(s, li, res.body.annotatedUrl)).status).toBe(403);
    expect((await get(s, s.adminToken, res.body.annotatedUrl)).status).toBe(200);
    const del = (token: string) =>
      fetch(`${s.url}/api/imports/${res.body.id}`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${token}` },
      });
    expect((await del(li)).status).toBe(403);
    expect((await del(wang)).status).toBe(204);
    expect((await del(wang)).status).toBe(404);
    expect((await get(s, wang, res.body.annotatedUrl)).status).toBe(404);
    const actions = (await s.running.store.listAudit({ limit: 100, offset: 0 })).items.map(
      (e) => `${e.actor} ${e.action}${e.details?.['reason'] ? ` ${String(e.details['reason'])}` : ''}`,
    );
    expect(actions).toEqual(
      expect.arrayContaining(['王磊 file.create', 'admin file.download', '王磊 file.delete request']),
    );
  });

  it('a per-user quota: a full quota refuses the next import (409, coded, bilingual) until files are deleted', async () => {
    // 1 KB: the first import's files fill it.
    const s = await service({ BAOBEI_FILE_QUOTA_MB: '0.001' });
    const wang = await s.user('王磊', 'sales');
    const li = await s.user('李娜', 'sales');
    const first = await upload(s, wang, sheet('王磊', 400, 2), { dryRun: 'true' });
    expect(first.status).toBe(200);
    const refused = await upload(s, wang, sheet('王磊', 400, 2), { dryRun: 'true' });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: 'import.quota_exceeded', field: 'file' });
    expect(refused.body.error?.message).toMatch(/上限/);
    expect(refused.body.error?.messageEn).toMatch(/quota/);
    // Another user's quota is their own.
    expect((await upload(s, li, sheet('李娜', 410, 2), { dryRun: 'true' })).status).toBe(200);
    const del = await fetch(`${s.url}/api/imports/${first.body.id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${wang}` },
    });
    expect(del.status).toBe(204);
    expect((await upload(s, wang, sheet('王磊', 400, 2), { dryRun: 'true' })).status).toBe(200);
  });

  it('a sealed file that was altered is refused, never served', async () => {
    const s = await service();
    const wang = await s.user('王磊', 'sales');
    const res = await upload(s, wang, sheet('王磊', 500, 2), { dryRun: 'true' });
    const file = path.join(s.dataDir, 'files', `${res.body.id}.xlsx.sealed`);
    const bytes = await readFile(file);
    bytes[bytes.length - 20] = bytes[bytes.length - 20]! ^ 0xff;
    const { writeFile } = await import('node:fs/promises');
    await writeFile(file, bytes);
    const download = await get(s, wang, res.body.annotatedUrl);
    expect(download.status).not.toBe(200);
    expect(((await download.json()) as ErrorBody).error.code).toBe('store.key_mismatch');
  });

  it('with PostgreSQL the files are rows of sealed_files: sealed, served to the uploader, never in the store tables', async () => {
    const url = TEST_DATABASE_URL;
    const schema = `files_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Pool({ connectionString: url, max: 1 });
    try {
      const s = await service({ BAOBEI_STORE: 'postgres', DATABASE_URL: url, BAOBEI_PG_SCHEMA: schema });
      const wang = await s.user('王磊', 'sales');
      const res = await upload(s, wang, sheet('王磊', 600, 3), { dryRun: 'true' });
      expect(res.status).toBe(200);
      const workbook = await get(s, wang, res.body.annotatedUrl);
      expect(
        findInClear(textsOf('a.xlsx', new Uint8Array(await workbook.arrayBuffer())), secretsOf(600, 3)),
      ).not.toEqual([]);
      const rows = await admin.query<{ key: string; sealed: Buffer }>(
        `SELECT key, sealed FROM "${schema}".sealed_files ORDER BY key`,
      );
      expect(rows.rows.map((r) => r.key)).toEqual([`${res.body.id}.report`, `${res.body.id}.xlsx`]);
      const texts = rows.rows.flatMap((r) => textsOf(r.key, r.sealed));
      expect(findInClear(texts, secretsOf(600, 3))).toEqual([]);
      // The store's old tables for reports and workbooks stay empty.
      for (const table of ['imports', 'blobs']) {
        const n = await admin.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${schema}"."${table}"`);
        expect(n.rows[0]?.n).toBe(0);
      }
    } finally {
      for (const s of started.splice(0)) await s.close();
      await dropSchema(url, schema);
      await admin.end();
    }
  });
});
