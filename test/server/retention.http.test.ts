/**
 * R39 over real HTTP with a controlled clock: records closed more than `retentionYears` ago are
 * listed by one administrator, approved by another and erased for good; the request stays as the
 * destruction record. Nothing younger than the retention is ever destroyed, and the requester can
 * never approve alone.
 */
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_POLICY } from '../../core/policy.js';
import type { RowResult } from '../../core/schema.js';
import { keyringFromMasterKey, parseMasterKey } from '../../server/security/keyring.js';
import type { RecordView } from '../../server/services/recordView.js';
import { LowdbStore } from '../../server/store/lowdbStore.js';
import { PostgresStore } from '../../server/store/postgresStore.js';
import { companyNameFor, enterpriseRow, phoneFor } from '../support/customers.js';
import { startTestService, type ErrorBody, type TestService } from '../support/testService.js';
import { dropSchema, TEST_DATABASE_URL } from '../support/postgresSchema.js';

interface Destruction {
  id: string;
  status: string;
  requestedBy: string;
  nos: string[];
  destroyed?: string[];
  kept?: string[];
  decidedBy?: string;
}

let svc: TestService;
let wang = '';
let second = '';
/** Withdrawn on 2016-04-10 (old), withdrawn on 2017-06-01 (young), protected from 2016-04-10 until it ran out. */
const no = { old: '', young: '', open: '' };

beforeAll(async () => {
  svc = await startTestService({ now: '2016-04-01T02:00:00Z' });
  wang = await svc.user('王磊', 'sales', '华东一部');
  const reviewer = await svc.user('张敏', 'reviewer', '华东一部');
  second = await svc.user('管理员乙', 'admin');
  const register = async (n: number): Promise<string> => {
    const res = await svc.api(wang).post<{ results: RowResult[] }>('/api/registrations', {
      rows: [enterpriseRow(n, { contactName: '陈伟' })],
    });
    return res.body.results[0]!.registrationNo!;
  };
  no.old = await register(1);
  no.young = await register(2);
  no.open = await register(3);
  svc.setNow('2016-04-10T02:00:00Z');
  await svc
    .api(wang)
    .post(`/api/registrations/${no.old}/close`, { outcome: 'withdrawn', note: '陈伟不买了' });
  await svc
    .api(reviewer)
    .post(`/api/registrations/${no.open}/review`, { decision: 'approve', reason: '资料齐全' });
  svc.setNow('2017-06-01T02:00:00Z');
  await svc.api(wang).post(`/api/registrations/${no.young}/close`, { outcome: 'withdrawn', note: '不买了' });
});

afterAll(async () => {
  await svc.close();
});

describe('[R39] destruction after the retention period', () => {
  it('nothing is listed while every closed record is younger than the retention', async () => {
    svc.setNow('2026-04-10T10:00:00Z');
    const res = await svc.api(svc.adminToken).post<ErrorBody>('/api/retention/destructions', {});
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('retention.nothing');
    expect(res.body.error.messageEn).toContain('10 years');
  });

  it('lists only records kept their full term; the requester cannot approve; another admin erases them', async () => {
    svc.setNow('2026-04-11T10:00:00Z');
    const admin = svc.api(svc.adminToken);
    const requested = await admin.post<Destruction>('/api/retention/destructions', {});
    expect(requested.status).toBe(201);
    expect(requested.body).toMatchObject({ status: 'requested', requestedBy: 'admin' });
    // The protection granted on 2016-04-10 ran out in July 2016: closed then, kept until July 2026.
    expect(requested.body.nos).toEqual([no.old]);

    const alone = await admin.post<ErrorBody>(`/api/retention/destructions/${requested.body.id}/approve`, {});
    expect(alone.status).toBe(409);
    expect(alone.body.error.code).toBe('retention.same_admin');
    expect((await admin.get<RecordView>(`/api/registrations/${no.old}`)).body.registration.customerName).toBe(
      companyNameFor(1),
    );

    const approved = await svc
      .api(second)
      .post<Destruction>(`/api/retention/destructions/${requested.body.id}/approve`, {});
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({ status: 'approved', decidedBy: '管理员乙' });
    expect(approved.body.destroyed).toEqual(requested.body.nos);

    const gone = await admin.get<RecordView>(`/api/registrations/${no.old}`);
    expect(gone.body.registration.customerName).toBe('（已销毁）');
    expect(JSON.stringify(gone.body)).not.toContain('陈伟');
    expect(JSON.stringify(gone.body)).not.toContain(phoneFor(1));
    expect(gone.body.registration.registrant).toBe('王磊');
    expect(gone.body.status).toBe('terminated');

    // The young record is untouched.
    const young = await admin.get<RecordView>(`/api/registrations/${no.young}`);
    expect(young.body.registration.customerName).toBe(companyNameFor(2));

    // The destruction record: numbers, dates, who — no customer data.
    const list = await admin.get<{ items: Destruction[] }>('/api/retention/destructions');
    expect(list.body.items[0]).toMatchObject({ id: requested.body.id, status: 'approved' });
    expect(JSON.stringify(list.body)).not.toContain(companyNameFor(1));
    const audit = await admin.get<{ items: { action: string; records: string[]; details?: object }[] }>(
      '/api/audit?limit=100',
    );
    const entry = audit.body.items.find((a) => a.action === 'retention.destroy');
    expect(entry?.records).toEqual(requested.body.nos);
    expect(entry?.details).toMatchObject({ requestedBy: 'admin', approvedBy: '管理员乙' });
    expect(JSON.stringify(audit.body)).not.toContain(companyNameFor(1));

    // A customer whose record was destroyed is a new customer to a later registration.
    const again = await svc
      .api(wang)
      .post<{ results: RowResult[] }>('/api/check', { rows: [enterpriseRow(1)] });
    expect(again.body.results[0]!.conflicts.map((c) => c.registrationNo)).not.toContain(no.old);
  });

  it('approval re-checks: a record no longer past the retention (raised meanwhile) is kept', async () => {
    svc.setNow('2027-06-02T10:00:00Z');
    const admin = svc.api(svc.adminToken);
    const requested = await admin.post<Destruction>('/api/retention/destructions', {});
    // The protection that ran out by itself in July 2016 is past its term now, as is the June 2017 close.
    expect(requested.body.nos).toEqual([no.young, no.open].sort());
    await admin.put('/api/policy', { retentionYears: 15 });
    const approved = await svc
      .api(second)
      .post<Destruction>(`/api/retention/destructions/${requested.body.id}/approve`, {});
    expect(approved.body).toMatchObject({
      status: 'approved',
      destroyed: [],
      kept: [no.young, no.open].sort(),
    });
    expect(
      (await admin.get<RecordView>(`/api/registrations/${no.young}`)).body.registration.customerName,
    ).toBe(companyNameFor(2));
    const twice = await svc
      .api(second)
      .post<ErrorBody>(`/api/retention/destructions/${requested.body.id}/approve`, {});
    expect(twice.body.error.code).toBe('retention.decided');
    await admin.put('/api/policy', { retentionYears: 10 });
  });

  it('a second administrator may reject with a reason; only administrators take part', async () => {
    const admin = svc.api(svc.adminToken);
    const requested = await admin.post<Destruction>('/api/retention/destructions', {});
    const noReason = await svc
      .api(second)
      .post<ErrorBody>(`/api/retention/destructions/${requested.body.id}/reject`, {});
    expect(noReason.status).toBe(400);
    expect(noReason.body.error.field).toBe('reason');
    const rejected = await svc
      .api(second)
      .post<Destruction>(`/api/retention/destructions/${requested.body.id}/reject`, { reason: '审计未结束' });
    expect(rejected.body.status).toBe('rejected');
    for (const [method, p] of [
      ['GET', '/api/retention/destructions'],
      ['POST', '/api/retention/destructions'],
      ['POST', `/api/retention/destructions/${requested.body.id}/approve`],
    ] as const) {
      const res =
        method === 'GET' ? await svc.api(wang).get<ErrorBody>(p) : await svc.api(wang).post<ErrorBody>(p, {});
      expect(res.status, p).toBe(403);
    }
  });
});

describe('[R39] the retention is never below the 10 years R39 sets', () => {
  it('a policy of fewer years is refused (400), so nothing closed 2 years ago is destroyed', async () => {
    const own = await startTestService({ now: '2016-04-01T02:00:00Z' });
    try {
      const admin = own.api(own.adminToken);
      const sales = await own.user('王磊', 'sales', '华东一部');
      const registered = await own
        .api(sales)
        .post<{ results: RowResult[] }>('/api/registrations', { rows: [enterpriseRow(1)] });
      const recordNo = registered.body.results[0]!.registrationNo!;
      await own
        .api(sales)
        .post(`/api/registrations/${recordNo}/close`, { outcome: 'withdrawn', note: '不买了' });
      own.setNow('2018-04-02T02:00:00Z');
      const lowered = await admin.put<ErrorBody>('/api/policy', { retentionYears: 1 });
      expect(lowered.status).toBe(400);
      expect(lowered.body.error.field).toBe('retentionYears');
      expect(lowered.body.error.message).toContain('10');
      expect(lowered.body.error.messageEn).toContain('10');
      const requested = await admin.post<Destruction & ErrorBody>('/api/retention/destructions', {});
      expect(requested.status).toBe(409);
      expect(requested.body.error.code).toBe('retention.nothing');
    } finally {
      await own.close();
    }
  });
});

describe('[R39] a policy stored with fewer than 10 years', () => {
  it('is read as 10 everywhere, raised in the store at the next start, and said so once (audit, log)', async () => {
    const key = randomBytes(32).toString('hex');
    const first = await startTestService({ keepData: true, key });
    const dataDir = first.dataDir;
    await first.close();
    try {
      // The store as a release before PUT /api/policy refused fewer than 10 years left it.
      const old = await LowdbStore.open({ dataDir, keyring: keyringFromMasterKey(parseMasterKey(key)) });
      await old.write((tx) => tx.putPolicy({ ...DEFAULT_POLICY, retentionYears: 2 }));
      await old.close();

      for (const start of [1, 2]) {
        const svc = await startTestService({ dataDir, key, keepData: true });
        try {
          const admin = svc.api(svc.adminToken);
          const policy = await admin.get<{ retentionYears: number }>('/api/policy');
          expect(policy.body.retentionYears, `start ${start}`).toBe(10);
          const requested = await admin.post<ErrorBody>('/api/retention/destructions', {});
          expect(requested.body.error.code).toBe('retention.nothing');
          expect(requested.body.error.message).toContain('（10 年）');
          expect(requested.body.error.messageEn).toContain('(10 years)');
          const audit = await admin.get<{
            items: { action: string; actorRole: string; details?: unknown }[];
          }>('/api/audit?limit=500');
          // [R36] Once: the first start raised it; the second finds 10 stored and says nothing.
          const raised = audit.body.items.filter((e) => e.action === 'policy.retention_raised');
          expect(raised, `start ${start}`).toEqual([
            expect.objectContaining({ actorRole: 'system', details: { from: 2, to: 10 } }),
          ]);
          const logged = svc.logText().includes('policy.retention_raised');
          expect(logged, `start ${start}`).toBe(start === 1);
        } finally {
          await svc.close();
        }
      }
      const reopened = await LowdbStore.open({ dataDir, keyring: keyringFromMasterKey(parseMasterKey(key)) });
      expect((await reopened.read((tx) => tx.getPolicy()))?.retentionYears).toBe(10);
      await reopened.close();
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('[R39] a policy written with fewer years while the service runs', () => {
  it('(an older instance on the same PostgreSQL schema) is still read as 10', async () => {
    const connectionString = TEST_DATABASE_URL;
    const schema = `retention_${process.pid}_${Date.now().toString(36)}`;
    const key = randomBytes(32).toString('hex');
    const svc = await startTestService({
      key,
      env: { BAOBEI_STORE: 'postgres', DATABASE_URL: connectionString, BAOBEI_PG_SCHEMA: schema },
    });
    try {
      const older = await PostgresStore.open({
        connectionString,
        schema,
        keyring: keyringFromMasterKey(parseMasterKey(key)),
      });
      await older.write((tx) => tx.putPolicy({ ...DEFAULT_POLICY, retentionYears: 3 }));
      await older.close();
      const admin = svc.api(svc.adminToken);
      expect((await admin.get<{ retentionYears: number }>('/api/policy')).body.retentionYears).toBe(10);
      const requested = await admin.post<ErrorBody>('/api/retention/destructions', {});
      expect(requested.body.error.message).toContain('（10 年）');
    } finally {
      await svc.close();
      await dropSchema(connectionString, schema);
    }
  });
});

describe('[R39] a destroyed record stays as the destruction left it', () => {
  it('is not resubmitted, changed, graded or transferred — 409 retention.destroyed', async () => {
    const own = await startTestService({ now: '2016-04-01T02:00:00Z' });
    try {
      const admin = own.api(own.adminToken);
      const sales = await own.user('王磊', 'sales', '华东一部');
      const reviewer = await own.user('张敏', 'reviewer', '华东一部');
      const approver = await own.user('管理员乙', 'admin');
      const registered = await own
        .api(sales)
        .post<{ results: RowResult[] }>('/api/registrations', { rows: [enterpriseRow(1)] });
      const recordNo = registered.body.results[0]!.registrationNo!;
      own.setNow('2016-04-10T02:00:00Z');
      // Rejected: the one closed status a holder may still correct and resubmit (R13).
      await own
        .api(reviewer)
        .post(`/api/registrations/${recordNo}/review`, { decision: 'reject', reason: '资料不全' });
      own.setNow('2026-04-11T10:00:00Z');
      const requested = await admin.post<Destruction>('/api/retention/destructions', {});
      const approved = await own
        .api(approver)
        .post<Destruction>(`/api/retention/destructions/${requested.body.id}/approve`, {});
      expect(approved.body.destroyed).toEqual([recordNo]);
      const before = await admin.get<RecordView>(`/api/registrations/${recordNo}`);

      // One at a time: each must find the record as the destruction left it.
      const refusals: [string, () => Promise<{ status: number; body: ErrorBody }>][] = [
        ['resubmit', () => own.api(sales).post<ErrorBody>(`/api/registrations/${recordNo}/resubmit`, {})],
        [
          'change',
          () =>
            own.api(sales).patch<ErrorBody>(
              `/api/registrations/${recordNo}`,
              {
                changes: { customerName: '新名字科技有限公司', contactPhone: '13900000077' },
                reason: '更正',
              },
              { 'If-Match': before.body.etag },
            ),
        ],
        [
          'grade',
          () =>
            own
              .api(reviewer)
              .put<ErrorBody>(`/api/registrations/${recordNo}/grade`, { grade: 'A', reason: '重点' }),
        ],
        ['transfer', () => admin.post<ErrorBody>(`/api/registrations/${recordNo}/transfer`, { to: '张敏' })],
      ];
      for (const [what, send] of refusals) {
        const res = await send();
        expect(res.status, what).toBe(409);
        expect(res.body.error.code, what).toBe('retention.destroyed');
        expect(res.body.error.messageEn, what).toContain(recordNo);
      }
      // Someone who may not read it learns no more than before.
      const stranger = await own.user('周杰', 'sales', '华南二部');
      expect((await own.api(stranger).post(`/api/registrations/${recordNo}/resubmit`, {})).status).toBe(403);

      const after = await admin.get<RecordView>(`/api/registrations/${recordNo}`);
      expect(after.body.version).toBe(before.body.version);
      expect(after.body.status).toBe('rejected');
      expect(after.body.registration).toEqual(before.body.registration);
    } finally {
      await own.close();
    }
  });
});

describe('[R39] what a destruction reaches beyond the record', () => {
  it('the outbox keeps no customer name for a destroyed record, sent or still waiting', async () => {
    const own = await startTestService({ now: '2016-04-01T02:00:00Z' });
    try {
      const admin = own.api(own.adminToken);
      const sales = await own.user('王磊', 'sales', '华东一部');
      const reviewer = await own.user('张敏', 'reviewer', '华东一部');
      const approver = await own.user('管理员乙', 'admin');
      // The team's group robot gets decisions: its outbox entry is written with the record's facts.
      // Nothing listens on port 9, and the worker is not asked to send: the entry stays pending.
      const robot = await admin.put('/api/notify/robots/east-1', {
        kind: 'wecom',
        webhookUrl: 'http://127.0.0.1:9/cgi-bin/webhook/send?key=k',
        team: '华东一部',
        name: '华东一部群',
      });
      expect(robot.status).toBe(200);
      expect((await admin.put('/api/notify/defaults', { robot: { decision: 'immediate' } })).status).toBe(
        200,
      );
      const registered = await own
        .api(sales)
        .post<{ results: RowResult[] }>('/api/registrations', { rows: [enterpriseRow(1)] });
      const recordNo = registered.body.results[0]!.registrationNo!;
      own.setNow('2016-04-10T02:00:00Z');
      await own
        .api(reviewer)
        .post(`/api/registrations/${recordNo}/review`, { decision: 'reject', reason: '资料不全' });
      const outbox = async (): Promise<string> =>
        JSON.stringify(await own.running.store.read((tx) => tx.listDocs('outbox')));
      expect(await outbox()).toContain(recordNo);
      expect(await outbox()).toContain(companyNameFor(1));

      own.setNow('2026-04-11T10:00:00Z');
      const requested = await admin.post<Destruction>('/api/retention/destructions', {});
      expect(requested.body.nos).toEqual([recordNo]);
      const approved = await own
        .api(approver)
        .post<Destruction>(`/api/retention/destructions/${requested.body.id}/approve`, {});
      expect(approved.body.destroyed).toEqual([recordNo]);

      const after = await outbox();
      expect(after).toContain(recordNo);
      expect(after).not.toContain(companyNameFor(1));
      expect(after).toContain('（已销毁）');
    } finally {
      await own.close();
    }
  });
});
