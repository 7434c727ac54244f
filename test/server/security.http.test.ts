/**
 * Security over real HTTP (issue 3, Security and Storage): headers that let Office frame the task
 * pane, CORS for configured origins only, body and rate limits, generic 500s, no personal data in
 * the logs or in clear on disk (R35), one process per data dir, and a corrupt data file refused.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RowResult } from '../../core/schema.js';
import type { ReadTx } from '../../server/store/store.js';
import { ForwardingStore } from '../support/forwardingStore.js';
import { runCli } from '../support/childService.js';
import { creditCodeFor, enterpriseRow } from '../support/customers.js';
import {
  startTestApp,
  startTestService,
  type ErrorBody,
  type TestApp,
  type TestService,
} from '../support/testService.js';

interface Results {
  results: RowResult[];
}

const started: (TestService | TestApp)[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const s of started.splice(0)) await s.close();
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function service(options: Parameters<typeof startTestService>[0] = {}): Promise<TestService> {
  const s = await startTestService(options);
  started.push(s);
  return s;
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'baobei-sec-'));
  dirs.push(dir);
  return dir;
}

describe('headers', () => {
  it('CSP frame-ancestors lets the Office hosts frame the task pane; no X-Frame-Options', async () => {
    const svc = await service();
    const res = await fetch(`${svc.url}/api/health`);
    const csp = res.headers.get('content-security-policy') ?? '';
    const frameAncestors = /frame-ancestors ([^;]+)/.exec(csp)?.[1]?.split(' ') ?? [];
    for (const host of [
      "'self'",
      'https://*.office.com',
      'https://*.officeapps.live.com',
      'https://*.sharepoint.com',
      'https://*.office365.com',
    ]) {
      expect(frameAncestors).toContain(host);
    }
    expect(frameAncestors).not.toContain('*');
    expect(res.headers.get('x-frame-options')).toBeNull();
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-powered-by')).toBeNull();
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('CORS answers only the configured origins, by name, never *', async () => {
    const svc = await service({
      env: { BAOBEI_CORS_ORIGINS: 'https://addin.example.com, https://localhost:3001' },
    });
    const ask = (origin: string, init: RequestInit = {}) =>
      fetch(`${svc.url}/api/registrations`, {
        ...init,
        headers: { origin, ...(init.headers as Record<string, string>) },
      });

    const allowed = await ask('https://addin.example.com', {
      headers: { authorization: `Bearer ${svc.adminToken}` },
    });
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://addin.example.com');
    expect(allowed.headers.get('access-control-expose-headers')).toContain('Idempotent-Replayed');

    const other = await ask('https://evil.example.com', {
      headers: { authorization: `Bearer ${svc.adminToken}` },
    });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();

    const preflight = await ask('https://localhost:3001', {
      method: 'OPTIONS',
      headers: {
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type,idempotency-key',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://localhost:3001');
    expect(preflight.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('idempotency-key');

    const refused = await ask('https://evil.example.com', {
      method: 'OPTIONS',
      headers: { 'access-control-request-method': 'POST' },
    });
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
    for (const res of [allowed, other, preflight, refused])
      expect(res.headers.get('access-control-allow-origin')).not.toBe('*');
  });
});

describe('limits', () => {
  it('a JSON body over the limit (5 MB by default) → 413 with the error shape', async () => {
    const svc = await service();
    const sales = await svc.user('王磊', 'sales', '华东一部');
    const notes = 'x'.repeat(1000);
    const rows = Array.from({ length: 5_600 }, (_, i) => ({ ...enterpriseRow(i), notes }));
    const body = JSON.stringify({ rows });
    expect(body.length).toBeGreaterThan(5 * 1024 * 1024);
    const res = await fetch(`${svc.url}/api/registrations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${sales}`, 'content-type': 'application/json' },
      body,
    });
    expect(res.status).toBe(413);
    const json = (await res.json()) as ErrorBody;
    expect(json.error).toMatchObject({
      code: 'request.body_too_large',
      message: expect.any(String),
      messageEn: expect.any(String),
    });
    expect(json.error.requestId).toBe(res.headers.get('x-request-id'));
  });

  it('rate limit per token: the 6th request in a minute under BAOBEI_RATE_LIMIT=5 → 429; another token is unaffected', async () => {
    const svc = await service({ env: { BAOBEI_RATE_LIMIT: '5' } });
    const a = await svc.user('王磊', 'sales', '华东一部');
    const b = await svc.user('李娜', 'sales', '华东一部');
    for (let i = 0; i < 5; i++) expect((await svc.api(a).get('/api/registrations')).status).toBe(200);
    const sixth = await svc.api(a).get<ErrorBody>('/api/registrations');
    expect(sixth.status).toBe(429);
    expect(sixth.body.error).toMatchObject({ code: 'rate.limited', requestId: expect.any(String) });
    expect((await svc.api(b).get('/api/registrations')).status).toBe(200);
  });
});

/** A store that, once armed, fails every read with a plain Error, as a broken disk would. */
class FailingStore extends ForwardingStore {
  failReads = false;

  override read<T>(fn: (tx: ReadTx) => Promise<T>): Promise<T> {
    if (this.failReads)
      return Promise.reject(new Error('EIO: read failed at /srv/baobei/secret-volume/baobei.json'));
    return this.inner.read(fn);
  }
}

describe('unexpected errors', () => {
  it('become a generic 500 naming only the request id; the details go to the log', async () => {
    let failing: FailingStore | undefined;
    const app = await startTestApp({ wrapStore: (store) => (failing = new FailingStore(store)) });
    started.push(app);
    const token = await app.user('王磊', 'sales', '华东一部');
    failing!.failReads = true;
    const res = await fetch(`${app.url}/api/registrations`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(500);
    const text = await res.text();
    const body = JSON.parse(text) as ErrorBody;
    expect(Object.keys(body)).toEqual(['error']);
    expect(Object.keys(body.error).sort()).toEqual(['code', 'message', 'messageEn', 'requestId']);
    expect(body.error.code).toBe('internal');
    expect(body.error.requestId).toBe(res.headers.get('x-request-id'));
    expect(body.error.messageEn).toContain(body.error.requestId);
    for (const leak of ['EIO', 'secret-volume', 'baobei.json', 'Error', 'at '])
      expect(text).not.toContain(leak);
    // The administrator finds the cause in the log under the same request id.
    const line = app
      .logText()
      .split('\n')
      .find((l) => l.includes('secret-volume'));
    expect(line).toBeDefined();
    expect(line).toContain(body.error.requestId!);
  });
});

describe('[R35] personal data', () => {
  it('never reaches the logs, and is never in clear in the data dir', async () => {
    const svc = await service();
    const wang = await svc.user('王磊', 'sales', '华东一部');
    const reviewer = await svc.user('张敏', 'reviewer', '华东一部');
    const secret = {
      customerName: '苏州绝密精工机械有限公司',
      contactName: '欧阳娜娜',
      contactPhone: '135 6677 8899',
      email: 'ouyang.nana@jingmi.example',
      creditCode: creditCodeFor(777_777),
      address: '苏州工业园区星湖街328号',
      individual: '司马相如',
      individualPhone: '15911223344',
      landline: '0512-66881234',
    };
    const rows = [
      {
        customerName: secret.customerName,
        customerType: '企业',
        contactName: secret.contactName,
        contactPhone: secret.contactPhone,
        email: secret.email,
        creditCode: secret.creditCode,
        address: secret.address,
        source: '展会',
        expectedAmount: '88万',
      },
      {
        customerName: secret.individual,
        customerType: '个人',
        contactPhone: secret.individualPhone,
        source: '转介绍',
      },
      {
        customerName: '苏州另一家机械有限公司',
        customerType: '企业',
        address: '苏州',
        contactPhone: secret.landline,
        source: '展会',
      },
    ];
    const api = svc.api(wang);
    const created = await api.post<Results>(
      '/api/registrations',
      { rows },
      { 'Idempotency-Key': 'secret-batch' },
    );
    expect(created.body.results.map((r) => r.status)).toEqual(['pending', 'pending', 'pending']);
    await api.post('/api/check', { rows });
    await api.post('/api/registrations', { rows }, { 'Idempotency-Key': 'secret-batch' });
    const no = created.body.results[0]!.registrationNo!;
    await api.get(`/api/registrations?q=${encodeURIComponent(secret.customerName)}`);
    await api.get(`/api/registrations?q=${encodeURIComponent(secret.individual)}&status=pending`);
    await svc.api(reviewer).get(`/api/registrations/${no}`);
    await svc
      .api(reviewer)
      .post(`/api/registrations/${no}/review`, { decision: 'approve', reason: '资料齐全' });
    await api.post(`/api/registrations/${no}/follow-ups`, { way: '上门', note: '拜访' });
    await api.get('/api/notifications');
    // Bad input carrying personal data: a bad phone, an unknown field, a body that is not JSON.
    const bad = await api.post<Results>('/api/registrations', {
      rows: [
        { customerName: secret.individual, customerType: '个人', contactPhone: '1591122334X', source: 'x' },
      ],
    });
    expect(bad.body.results[0]?.status).toBe('invalid');
    expect(
      (await api.post('/api/registrations', { rows: [{ ...rows[1], 手机: secret.individualPhone }] })).status,
    ).toBe(400);
    const notJson = await fetch(`${svc.url}/api/registrations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${wang}`, 'content-type': 'application/json' },
      body: `{"rows":[{"customerName":"${secret.individual}","contactPhone":"${secret.individualPhone}"`,
    });
    expect(notJson.status).toBe(400);
    expect(
      (
        await api.post(
          '/api/registrations',
          { rows: [{ contactPhone: secret.individualPhone }] },
          { 'Idempotency-Key': 'secret-batch' },
        )
      ).status,
    ).toBe(422);
    await svc.running.services.lifecycle.sweep();

    const digits = (p: string) => p.replace(/\D/g, '');
    const needles = [
      secret.customerName,
      secret.contactName,
      digits(secret.contactPhone),
      secret.contactPhone,
      secret.email,
      secret.creditCode,
      secret.address,
      secret.individual,
      secret.individualPhone,
      '1591122334',
      secret.landline,
      digits(secret.landline),
      '苏州另一家机械',
    ];
    const log = svc.logText();
    expect(log.length).toBeGreaterThan(1000); // requests were logged
    for (const n of needles) expect(log, `log contains ${n}`).not.toContain(n);
    expect(log).not.toContain(wang); // nor a token

    await svc.running.close(); // everything flushed to disk
    let onDisk = '';
    const files: string[] = [];
    for (const entry of await readdir(svc.dataDir, { withFileTypes: true, recursive: true })) {
      if (!entry.isFile()) continue;
      files.push(entry.name);
      onDisk += await readFile(path.join(entry.parentPath, entry.name), 'utf8');
    }
    expect(files).toEqual(expect.arrayContaining(['baobei.json', 'audit.jsonl']));
    for (const n of needles) expect(onDisk, `data dir contains ${n}`).not.toContain(n);
    // The masked form (前三后四) of a phone is personal data too.
    expect(onDisk).not.toContain('135****8899');
  });
});

describe('the data dir', () => {
  it('a second service on the same data dir refuses to start (store.locked); the first keeps serving', async () => {
    const key = randomBytes(32).toString('hex');
    const first = await service({ key });
    await expect(startTestService({ dataDir: first.dataDir, keepData: true, key })).rejects.toMatchObject({
      code: 'store.locked',
    });
    // Another process, as an administrator would start it: exit code 2 and a message naming the owner.
    const other = await runCli(['serve'], { dataDir: first.dataDir, key });
    expect(other.code).toBe(2);
    expect(other.stderr).toContain(first.dataDir);
    expect(other.stderr).toContain(`pid ${process.pid}`);
    const health = await fetch(`${first.url}/api/health`);
    expect(health.status).toBe(200);
    expect((await registerOne(first)).status).toBe('pending');
  });

  it('a corrupt baobei.json: start is refused naming the file, and the file is left untouched', async () => {
    const key = randomBytes(32).toString('hex');
    const dataDir = await tempDir();
    const svc = await startTestService({ dataDir, keepData: true, key });
    await registerOne(svc);
    await svc.close();
    const file = path.join(dataDir, 'baobei.json');
    const good = await readFile(file);

    for (const damaged of [
      good.subarray(0, Math.floor(good.length / 2)),
      Buffer.from(JSON.stringify({ format: 'baobei-lowdb', version: 1 })),
    ]) {
      await writeFile(file, damaged);
      for (let attempt = 0; attempt < 2; attempt++) {
        // Refused every time (the failed start released the lock, so a retry is not "locked").
        const err: unknown = await startTestService({ dataDir, keepData: true, key }).then(
          () => new Error('started'),
          (e: unknown) => e,
        );
        expect(err).toMatchObject({ code: 'store.corrupt' });
        expect((err as Error).message).toContain(file);
      }
      const cli = await runCli(['serve'], { dataDir, key });
      expect(cli.code).toBe(2);
      expect(cli.stderr).toContain(file);
      expect(Buffer.compare(await readFile(file), damaged)).toBe(0);
    }

    // Restored from the backup, it starts again with the data intact.
    await writeFile(file, good);
    const restored = await service({ dataDir, key });
    const list = await restored.api(restored.adminToken).get<{ total: number }>('/api/registrations');
    expect(list.body.total).toBe(1);
  });
});

/** One registration by a fresh sales user, proving the service takes writes. */
async function registerOne(svc: TestService): Promise<RowResult> {
  const token = await svc.user(`销售${randomBytes(3).toString('hex')}`, 'sales', '华东一部');
  const res = await svc.api(token).post<Results>('/api/registrations', { rows: [enterpriseRow(1)] });
  expect(res.status).toBe(200);
  return res.body.results[0]!;
}
