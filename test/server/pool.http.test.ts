/**
 * Serving customers, the public pool and the cap over real HTTP (issue 13; R31, R32, R42–R45),
 * with the service's clock moved by the test: register with a grade → a reviewer regrades →
 * visits → reminders and the lapse by the sweep → the pool listing (nothing R3 hides) → the former
 * holder refused within the cooldown → someone else claims → what later checks see; R32 at a
 * month end; the cap and the migration exemption; the compliance report. The whole file runs on
 * the embedded store and on PostgreSQL (a fresh schema per test): nothing here needs an adapter of
 * its own, it all lives in sealed records, bans and documents.
 */
import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PACKAGE_CALENDAR } from '../../core/calendar.js';
import type { Policy } from '../../core/policy.js';
import { REMINDERS_COLLECTION, runReminders } from '../../server/notify/reminderScheduler.js';
import type { RowResult, SubmissionRow } from '../../core/schema.js';
import type { NotificationView } from '../../server/services/notificationService.js';
import type { RecordView } from '../../server/services/recordView.js';
import type { ServiceReport } from '../../server/services/serviceReport.js';
import type { AuditEntry } from '../../server/store/store.js';
import { companyNameFor, creditCodeFor, enterpriseRow, phoneFor } from '../support/customers.js';
import { startTestService, type ErrorBody, type TestService } from '../support/testService.js';
import { dropSchema, TEST_DATABASE_URL as DATABASE_URL } from '../support/postgresSchema.js';
import { at } from '../support/shanghaiTime.js';

interface Results {
  results: RowResult[];
}
interface PoolPage {
  items: Record<string, unknown>[];
  total: number;
}

const admin = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
afterAll(async () => {
  await admin.end();
});

let svc: TestService;
let wang: string;
let li: string;
let zhou: string;
let reviewer: string;
let schema: string | undefined;

/** Everything the store keeps, as text: the data directory, and the PostgreSQL schema's rows. */
async function atRest(): Promise<string> {
  let text = '';
  for (const entry of await readdir(svc.dataDir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) text += await readFile(path.join(entry.parentPath, entry.name), 'utf8');
  }
  if (schema !== undefined) {
    const tables = await admin.query<{ table_name: string }>(
      'SELECT table_name FROM information_schema.tables WHERE table_schema = $1',
      [schema],
    );
    for (const { table_name } of tables.rows) {
      const rows = await admin.query<{ row: string }>(
        `SELECT t::text AS row FROM "${schema}"."${table_name}" t`,
      );
      text += rows.rows.map((r) => r.row).join('\n');
    }
  }
  return text;
}

async function setPolicy(body: Record<string, unknown>): Promise<Policy> {
  const res = await svc.api(svc.adminToken).put<Policy>('/api/policy', body);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

async function submit(token: string, rows: SubmissionRow[]): Promise<RowResult[]> {
  const res = await svc.api(token).post<Results>('/api/registrations', { rows });
  expect(res.status).toBe(200);
  return res.body.results;
}

async function check(token: string, row: SubmissionRow): Promise<RowResult> {
  const res = await svc.api(token).post<Results>('/api/check', { rows: [row] });
  expect(res.status).toBe(200);
  return res.body.results[0]!;
}

async function record(token: string, no: string): Promise<RecordView> {
  const res = await svc.api(token).get<RecordView>(`/api/registrations/${no}`);
  expect(res.status).toBe(200);
  return res.body;
}

async function notifications(token: string): Promise<NotificationView[]> {
  return (await svc.api(token).get<{ items: NotificationView[] }>('/api/notifications')).body.items;
}

async function approve(no: string): Promise<void> {
  const res = await svc
    .api(reviewer)
    .post<RecordView>(`/api/registrations/${no}/review`, { decision: 'approve', reason: '资料齐全' });
  expect(res.status).toBe(200);
  expect(res.body.status).toBe('protected');
}

const sweep = () => svc.running.services.lifecycle.sweep();

for (const storeKind of ['lowdb', 'postgres'] as const) {
  describe(`on ${storeKind}`, () => {
    beforeEach(async () => {
      schema = storeKind === 'postgres' ? `pool_${randomBytes(6).toString('hex')}` : undefined;
      svc = await startTestService({
        now: at('2026-03-02', '09:00'),
        ...(schema !== undefined
          ? { env: { BAOBEI_STORE: 'postgres', DATABASE_URL, BAOBEI_PG_SCHEMA: schema } }
          : {}),
      });
      wang = await svc.user('王磊', 'sales', '华东一部');
      li = await svc.user('李娜', 'sales', '华东一部');
      zhou = await svc.user('周杰', 'sales', '华东一部');
      reviewer = await svc.user('张敏', 'reviewer', '华东一部');
    });

    afterEach(async () => {
      await svc.close();
      if (schema !== undefined) await dropSchema(DATABASE_URL, schema);
    });

    describe('register → grade → visits → lapse → pool → cooldown → claim (follow-up preset)', () => {
      it('[R31][R42][R43][R44] the whole path, day by day', async () => {
        const policy = await setPolicy({ preset: 'follow-up' });
        expect(policy).toMatchObject({
          followUp: { firstWithinDays: 3, everyDays: 7 },
          gradeCadenceDays: { A: 7, B: 14, C: 30 },
          reassignAfterNoServiceMonths: 3,
          poolCooldownDays: 30,
          maxActivePerRegistrant: null,
        });
        const customer = enterpriseRow(1, { grade: 'B类' });

        // Mon 2026-03-02: Wang registers with grade B (the sheet's 客户等级 column), approved the same day.
        const [registered] = await submit(wang, [customer]);
        const no = registered!.registrationNo!;
        expect(registered!.status).toBe('pending');
        expect((await record(wang, no)).registration.grade).toBe('B');
        svc.setNow(at('2026-03-02', '10:00'));
        await approve(no);
        expect((await record(wang, no)).service).toEqual({
          lastServiceDay: '2026-03-02',
          nextDue: '2026-03-05',
          dueRule: 'R31',
          lapsesOn: '2026-03-06',
          lapseRule: 'R31',
        });

        // R42: a reviewer regrades with a reason; history (R37) and audit (R36) keep it.
        const bad = await svc
          .api(reviewer)
          .put<ErrorBody>(`/api/registrations/${no}/grade`, { grade: 'D', reason: 'x' });
        expect(bad.status).toBe(400);
        expect(bad.body.error).toMatchObject({
          field: 'grade',
          message: '字段 grade：须为 A、B 或 C（也可写 A类、B级）',
          messageEn: 'Field grade: expected A, B or C (A类, B级 are read too)',
        });
        const noReason = await svc
          .api(reviewer)
          .put<ErrorBody>(`/api/registrations/${no}/grade`, { grade: 'A' });
        expect(noReason.status).toBe(400);
        expect(noReason.body.error.field).toBe('reason');
        const regraded = await svc
          .api(reviewer)
          // Written as the sheet's 客户等级 column takes it: one reading of a grade everywhere.
          .put<RecordView>(`/api/registrations/${no}/grade`, { grade: 'Ａ类客户', reason: '集团战略客户' });
        expect(regraded.status).toBe(200);
        expect(regraded.headers.get('etag')).toBe(regraded.body.etag);
        expect(regraded.body.registration.grade).toBe('A');
        expect(regraded.body.history.at(-1)).toMatchObject({
          by: '张敏',
          action: 'grade.change',
          reason: '集团战略客户',
          details: { from: 'B', to: 'A' },
        });
        const audit = await svc
          .api(svc.adminToken)
          .get<{ items: AuditEntry[] }>(`/api/audit?record=${no}&limit=50`);
        expect(audit.body.items.map((e) => e.action)).toContain('registration.grade');
        // The holder cannot lower their own cadence by a PATCH either.
        const etag = (await svc.api(wang).get(`/api/registrations/${no}`)).headers.get('etag')!;
        const patch = await svc
          .api(wang)
          .patch<ErrorBody>(
            `/api/registrations/${no}`,
            { changes: { grade: 'C' }, reason: '降级' },
            { 'If-Match': etag },
          );
        expect(patch.status).toBeGreaterThanOrEqual(400);
        expect((await record(wang, no)).registration.grade).toBe('A');

        // Wed 03-04: a visit with way (English alias), content, feedback and next step.
        svc.setNow(at('2026-03-04', '16:00'));
        const badWay = await svc
          .api(wang)
          .post<ErrorBody>(`/api/registrations/${no}/follow-ups`, { way: 'fax', note: '发传真' });
        expect(badWay.status).toBe(400);
        expect(badWay.body.error.field).toBe('way');
        const noWay = await svc
          .api(wang)
          .post<ErrorBody>(`/api/registrations/${no}/follow-ups`, { note: '电话' });
        expect(noWay.status).toBe(400);
        expect(noWay.body.error.field).toBe('way');
        const future = await svc.api(wang).post<ErrorBody>(`/api/registrations/${no}/follow-ups`, {
          way: '电话',
          note: '预约',
          at: at('2026-03-04', '16:30'),
        });
        expect(future.status).toBe(422);
        expect(future.body.error).toMatchObject({ code: 'followUp.future', field: 'at' });
        const visit = await svc.api(wang).post<RecordView>(`/api/registrations/${no}/follow-ups`, {
          way: 'visit',
          note: '上门拜访采购部，演示样机',
          feedback: '对价格敏感，要求试用两周',
          nextStep: '下周二送试用机',
          at: at('2026-03-04', '14:00'),
        });
        expect(visit.status).toBe(201);
        // The record shows its service outlook: A's week from the visit, lapsing the day after (R31).
        expect(visit.body.service).toEqual({
          lastServiceDay: '2026-03-04',
          nextDue: '2026-03-11',
          dueRule: 'R42',
          lapsesOn: '2026-03-12',
          lapseRule: 'R31',
        });
        expect(visit.body.followUps).toEqual([
          {
            at: at('2026-03-04', '14:00'),
            by: '王磊',
            note: '上门拜访采购部，演示样机',
            way: '上门',
            feedback: '对价格敏感，要求试用两周',
            nextStep: '下周二送试用机',
          },
        ]);
        // Sealed at rest like all personal data (R35): the feedback is nowhere on disk in clear.
        const onDisk = await atRest();
        expect(onDisk.length).toBeGreaterThan(0);
        expect(onDisk).not.toContain('对价格敏感');
        expect(onDisk).not.toContain('下周二送试用机');

        // Grade A after the first visit: due a week later, Wed 03-11; without it the record lapses on
        // 03-12. From three days before (T−3) the holder is warned, once.
        svc.setNow(at('2026-03-08', '08:00'));
        expect(await sweep()).toMatchObject({ expired: 0, voided: 0, reminded: 0 });
        svc.setNow(at('2026-03-09', '08:00'));
        expect(await sweep()).toMatchObject({ expired: 0, voided: 0, reminded: 1 });
        svc.setNow(at('2026-03-11', '08:00'));
        expect(await sweep()).toMatchObject({ expired: 0, voided: 0, reminded: 0 });
        const reminderKeys = async () =>
          (await svc.running.store.read((tx) => tx.listDocs('service-reminders'))).map((d) => d.key);
        // Keyed day first (no personal data), so old ones are dropped by a key range.
        expect(await reminderKeys()).toEqual([`2026-03-12|${no}|pool.lapsing`]);
        const reminders = (await notifications(wang)).filter((n) => n.recordNo === no);
        expect(reminders.filter((n) => n.type === 'pool.lapsing').map((n) => n.details)).toEqual([
          expect.objectContaining({ lapsesOn: '2026-03-12', rule: 'R31' }),
        ]);
        expect((await record(wang, no)).status).toBe('protected');

        // Thu 03-12: nothing recorded by the due day → the sweep voids it into the pool (R31, R44).
        svc.setNow(at('2026-03-12', '02:00'));
        expect(await sweep()).toMatchObject({ voided: 1 });
        const lapsed = await record(wang, no);
        expect(lapsed.status).toBe('void');
        expect(lapsed.reasonCode).toBe('followUp.lapsed');
        expect(lapsed.history.at(-1)).toMatchObject({
          by: 'system',
          action: 'follow_up.lapsed',
          from: 'protected',
          to: 'void',
          details: { rule: 'R31', deadline: '2026-03-11' },
        });
        const told = (await notifications(wang)).find((n) => n.type === 'pool.lapsed' && n.recordNo === no);
        expect(told?.details).toMatchObject({ rule: 'R31', reclaimAfter: '2026-04-11' });
        // Told once, as pool.lapsed (not also as a generic end of protection).
        expect(
          (await notifications(wang)).filter((n) => n.recordNo === no && n.type === 'protection.ended'),
        ).toEqual([]);
        expect((await notifications(reviewer)).map((n) => [n.type, n.recordNo])).toContainEqual([
          'pool.lapsed',
          no,
        ]);
        expect(await sweep()).toMatchObject({ voided: 0 });

        // The pool: name, type, region, grade, last service day, since when — nothing R3 hides.
        const pool = await svc.api(li).get<PoolPage>('/api/pool');
        expect(pool.status).toBe(200);
        expect(pool.body).toEqual({
          total: 1,
          items: [
            {
              poolNo: no,
              customerName: customer.customerName,
              customerType: 'enterprise',
              region: '上海',
              grade: 'A',
              lastServiceDay: '2026-03-04',
              pooledSince: '2026-03-12',
            },
          ],
        });
        const text = JSON.stringify(pool.body);
        for (const hidden of [phoneFor(1), creditCodeFor(1), '王磊', '对价格敏感'])
          expect(text).not.toContain(hidden);
        expect((await svc.api(li).get<ErrorBody>('/api/pool?limit=0')).status).toBe(400);
        expect((await svc.api(li).get<PoolPage>('/api/pool?limit=10&offset=1')).body).toEqual({
          items: [],
          total: 1,
        });

        // A check on the pooled customer: "in the pool since …", not "protected by …".
        const seen = await check(zhou, customer);
        expect(seen.status).toBe('pending');
        expect(seen.conflicts).toEqual([]);
        expect(seen.warnings).toEqual([
          expect.objectContaining({ code: 'pool.available', details: { pooledSince: '2026-03-12' } }),
        ]);
        expect(seen.warnings[0]!.message).toContain('公海');
        expect(seen.warnings[0]!.messageEn).toContain('in the pool since 2026-03-12');

        // Fri 03-13: the former holder is refused within the cooldown, with the day they may claim again.
        svc.setNow(at('2026-03-13'));
        for (const res of [await check(wang, customer), (await submit(wang, [customer]))[0]!]) {
          expect(res.status).toBe('rejected');
          expect(res.registrationNo).toBeUndefined();
          expect(res.errors).toEqual([
            expect.objectContaining({ code: 'pool.cooldown', details: { mayClaimFrom: '2026-04-11' } }),
          ]);
          expect(res.errors[0]!.messageEn).toContain('2026-04-11');
        }

        // Someone else claims it: a normal registration, first come first served.
        const [claimed] = await submit(li, [{ ...customer, grade: 'C' }]);
        expect(claimed!.status).toBe('pending');
        expect(claimed!.warnings.map((w) => w.code)).toContain('pool.available');
        const claimNo = claimed!.registrationNo!;
        expect((await record(li, claimNo)).history[0]).toMatchObject({
          action: 'register',
          details: { fromPool: no },
        });
        expect(
          await svc
            .api(li)
            .get<PoolPage>('/api/pool')
            .then((r) => r.body),
        ).toEqual({ items: [], total: 0 });
        expect(
          (await notifications(wang)).find((n) => n.type === 'pool.claimed' && n.recordNo === no)?.details,
        ).toMatchObject({ claimedNo: claimNo });

        // Later checks see Li's claim as any other registration (R3 view), not the pool.
        const after = await check(zhou, customer);
        expect(after.status).toBe('conflict');
        expect(after.conflicts).toEqual([
          expect.objectContaining({
            registrationNo: claimNo,
            status: 'pending',
            holder: { name: '李娜', team: '华东一部' },
          }),
        ]);
        expect(after.warnings.map((w) => w.code)).not.toContain('pool.available');

        // After the cooldown the former holder is an ordinary competitor again.
        svc.setNow(at('2026-04-11'));
        // Warning keys are dropped by the sweep 30 days after their day.
        await sweep();
        expect(await reminderKeys()).toEqual([`2026-03-12|${no}|pool.lapsing`]);
        svc.setNow(at('2026-04-12'));
        await sweep();
        expect(await reminderKeys()).toEqual([]);
        svc.setNow(at('2026-04-11'));
        const back = await check(wang, customer);
        expect(back.errors).toEqual([]);
        expect(back.status).toBe('conflict');

        // The compliance report for March: Wang had two due visits (first within 3 days, then A's
        // week), met one, missed one, one lapse into the pool; Li claimed one.
        const report = await svc.api(svc.adminToken).get<ServiceReport>('/api/reports/service?month=2026-03');
        expect(report.status).toBe(200);
        const byName = Object.fromEntries(report.body.byRegistrant.map((p) => [p.registrant, p]));
        expect(byName['王磊']).toMatchObject({
          visits: 1,
          due: { A: 2, B: 0, C: 0, ungraded: 0 },
          met: { A: 1, B: 0, C: 0, ungraded: 0 },
          missed: 1,
          lapses: { R31: 1, R32: 0 },
          poolEntries: 1,
          claims: 0,
        });
        expect(byName['李娜']).toMatchObject({ claims: 1, poolEntries: 0 });
        // Sales see only their own line (R34).
        const own = await svc.api(li).get<ServiceReport>('/api/reports/service?month=2026-03');
        expect(own.body.byRegistrant.map((p) => p.registrant)).toEqual(['李娜']);
        expect((await svc.api(li).get<ErrorBody>('/api/reports/service?month=2026-13')).status).toBe(400);
      });

      it('[R31] a visit on the due day keeps the record; the next one is due by the grade', async () => {
        await setPolicy({ preset: 'follow-up' });
        const [r] = await submit(wang, [enterpriseRow(2, { grade: 'C' })]);
        svc.setNow(at('2026-03-02', '10:00'));
        await approve(r!.registrationNo!);
        svc.setNow(at('2026-03-05', '18:00'));
        expect(
          (
            await svc
              .api(wang)
              .post(`/api/registrations/${r!.registrationNo}/follow-ups`, { way: '微信', note: '微信沟通' })
          ).status,
        ).toBe(201);
        svc.setNow(at('2026-03-06', '09:00'));
        expect(await sweep()).toMatchObject({ voided: 0 });
        // Grade C: 30 days after 03-05 → 04-04 (Saturday, 清明 holidays 04-04..04-06) → next working day.
        // The outbox's scheduled reminders use the same due day (grade C, off the holiday): the day
        // before it, "due"; nothing overdue although R31's weekly rule alone would say 03-12.
        const policy = (await svc.api(svc.adminToken).get<Policy>('/api/policy')).body;
        await runReminders(svc.running.store, {
          now: new Date(at('2026-04-06', '09:00')),
          calendar: PACKAGE_CALENDAR,
          policy,
        });
        const scheduled = (await svc.running.store.read((tx) => tx.listDocs(REMINDERS_COLLECTION))).map(
          (d) => d.key,
        );
        expect(scheduled.filter((k) => k.startsWith('followUp.'))).toEqual([
          `followUp.due:${r!.registrationNo}:2026-04-07:D-1`,
        ]);
        svc.setNow(at('2026-04-07', '09:00'));
        expect(await sweep()).toMatchObject({ voided: 0 });
        svc.setNow(at('2026-04-08', '09:00'));
        expect(await sweep()).toMatchObject({ voided: 1 });
      });

      it('[R43] a follow-up may not be dated before the registration was filed', async () => {
        await setPolicy({ preset: 'follow-up' });
        // Filed Mon 2026-03-02 09:00 (Shanghai), approved at 10:00.
        const [r] = await submit(wang, [enterpriseRow(4)]);
        const no = r!.registrationNo!;
        svc.setNow(at('2026-03-02', '10:00'));
        await approve(no);
        svc.setNow(at('2026-03-04', '10:00'));
        const followUp = (token: string, recordNo: string, when: string) =>
          svc.api(token).post<ErrorBody>(`/api/registrations/${recordNo}/follow-ups`, {
            way: '电话',
            note: '回访',
            at: when,
          });
        for (const when of ['0001-01-01T00:00:00Z', at('2026-03-01', '23:59')]) {
          const res = await followUp(wang, no, when);
          expect(res.status, when).toBe(422);
          expect(res.body.error).toMatchObject({ code: 'followUp.before_registration', field: 'at' });
          expect(res.body.error.message).toContain('2026-03-02');
          expect(res.body.error.messageEn).toContain('2026-03-02');
        }
        // By Shanghai day: a call earlier on the filing day (before the upload) is kept.
        expect((await followUp(wang, no, at('2026-03-02', '08:00'))).status).toBe(201);
        expect((await record(wang, no)).followUps).toHaveLength(1);

        // A migrated record (history mode) may have visits back to its old approval date.
        const [migrated] = await submit(svc.adminToken, [
          enterpriseRow(6, { registrant: '王磊', approvedAt: '2026-02-10', status: 'protected' }),
        ]);
        expect(migrated!.status).toBe('protected');
        expect((await followUp(wang, migrated!.registrationNo!, at('2026-02-10', '15:00'))).status).toBe(201);
        const early = await followUp(wang, migrated!.registrationNo!, at('2026-02-09', '15:00'));
        expect(early.status).toBe(422);
        expect(early.body.error).toMatchObject({ code: 'followUp.before_registration', field: 'at' });
      });

      it('[R31][R44] a sweep that runs late dates the pool entry and the cooldown from the lapse day', async () => {
        await setPolicy({ preset: 'follow-up' });
        const customer = enterpriseRow(3);
        const [r] = await submit(wang, [customer]);
        const no = r!.registrationNo!;
        svc.setNow(at('2026-03-02', '10:00'));
        await approve(no);
        // The first follow-up was due Thu 03-05; the record lapsed on 03-06. The service was down
        // until Fri 03-20, when the sweep first runs.
        svc.setNow(at('2026-03-20', '09:00'));
        expect(await sweep()).toMatchObject({ voided: 1 });
        expect((await record(wang, no)).history.at(-1)).toMatchObject({
          action: 'follow_up.lapsed',
          details: { rule: 'R31', deadline: '2026-03-05' },
        });
        const pool = await svc.api(li).get<PoolPage>('/api/pool');
        expect(pool.body.items).toEqual([
          expect.objectContaining({ poolNo: no, pooledSince: '2026-03-06', lastServiceDay: '2026-03-02' }),
        ]);
        expect(
          (await notifications(wang)).find((n) => n.type === 'pool.lapsed' && n.recordNo === no)?.details,
        ).toMatchObject({ reclaimAfter: '2026-04-05' });
        // 30 days from the lapse day, as if the sweep had run on 03-06.
        svc.setNow(at('2026-04-04'));
        expect((await check(wang, customer)).errors).toEqual([
          expect.objectContaining({ code: 'pool.cooldown', details: { mayClaimFrom: '2026-04-05' } }),
        ]);
        svc.setNow(at('2026-04-05'));
        expect((await check(wang, customer)).errors).toEqual([]);
        // The compliance report counts the lapse in March either way.
        const report = await svc.api(svc.adminToken).get<ServiceReport>('/api/reports/service?month=2026-03');
        expect(report.body.byRegistrant.find((p) => p.registrant === '王磊')).toMatchObject({
          lapses: { R31: 1, R32: 0 },
          poolEntries: 1,
        });
      });
    });

    describe('[R44] a claim that ends before protection', () => {
      /** Customer 5 registered by Wang, approved 2026-03-02, lapsed by the sweep on 03-06 (R31). */
      async function pooled(): Promise<string> {
        await setPolicy({ preset: 'follow-up' });
        const [r] = await submit(wang, [enterpriseRow(5)]);
        svc.setNow(at('2026-03-02', '10:00'));
        await approve(r!.registrationNo!);
        svc.setNow(at('2026-03-06', '09:00'));
        expect(await sweep()).toMatchObject({ voided: 1 });
        return r!.registrationNo!;
      }
      const total = async () => (await svc.api(zhou).get<PoolPage>('/api/pool')).body.total;

      it('[R44] a rejected or withdrawn claim puts the customer back in the pool', async () => {
        await pooled();
        const [claim] = await submit(li, [enterpriseRow(5)]);
        expect(await total()).toBe(0);
        const rejected = await svc.api(reviewer).post(`/api/registrations/${claim!.registrationNo}/review`, {
          decision: 'reject',
          reason: '资料不全',
        });
        expect(rejected.status).toBe(200);
        expect(await total()).toBe(1);
        const [again] = await submit(zhou, [enterpriseRow(5)]);
        expect(again!.warnings.map((w) => w.code)).toContain('pool.available');
        expect(await total()).toBe(0);
        const withdrawn = await svc.api(zhou).post(`/api/registrations/${again!.registrationNo}/close`, {
          outcome: 'withdrawn',
          note: '客户暂无需求',
        });
        expect(withdrawn.status).toBe(200);
        expect(await total()).toBe(1);
      });

      it('[R44][R17] with a second claimant waiting, the claim passes to them and the customer stays out of the pool', async () => {
        await pooled();
        const [first] = await submit(li, [enterpriseRow(5)]);
        const [second] = await submit(zhou, [enterpriseRow(5)]);
        expect(second!.status).toBe('conflict');
        await svc.api(reviewer).post(`/api/registrations/${first!.registrationNo}/review`, {
          decision: 'reject',
          reason: '资料不全',
        });
        expect(await total()).toBe(0);
        expect((await record(zhou, second!.registrationNo!)).status).toBe('pending');
      });
    });

    describe('[R44] the former holder in the cooldown, by resubmission or change', () => {
      /** Customer 7: Wang's first registration rejected, his second approved and lapsed on 03-06 (R31). */
      async function lapsedWithRejected(): Promise<string> {
        await setPolicy({ preset: 'follow-up' });
        const [rejectedOne] = await submit(wang, [enterpriseRow(7)]);
        const rejected = await svc
          .api(reviewer)
          .post(`/api/registrations/${rejectedOne!.registrationNo}/review`, {
            decision: 'reject',
            reason: '资料不全',
          });
        expect(rejected.status).toBe(200);
        const [second] = await submit(wang, [enterpriseRow(7)]);
        svc.setNow(at('2026-03-02', '10:00'));
        await approve(second!.registrationNo!);
        svc.setNow(at('2026-03-06', '09:00'));
        expect(await sweep()).toMatchObject({ voided: 1 });
        svc.setNow(at('2026-03-07'));
        return rejectedOne!.registrationNo!;
      }

      it('[R44][R13] resubmitting a rejected registration of the pooled customer is refused with pool.cooldown', async () => {
        const no = await lapsedWithRejected();
        const res = await svc
          .api(wang)
          .post<ErrorBody>(`/api/registrations/${no}/resubmit`, { reason: '已补全资料' });
        expect(res.status).toBe(422);
        expect(res.body.error).toMatchObject({
          code: 'pool.cooldown',
          details: { mayClaimFrom: '2026-04-05' },
        });
        expect(res.body.error.messageEn).toContain('2026-04-05');
        expect((await record(wang, no)).status).toBe('rejected');
      });

      it('[R44] changing a registration into the pooled customer is refused with pool.cooldown', async () => {
        await lapsedWithRejected();
        const [other] = await submit(wang, [enterpriseRow(8)]);
        const no = other!.registrationNo!;
        const etag = (await svc.api(wang).get(`/api/registrations/${no}`)).headers.get('etag')!;
        const res = await svc.api(wang).patch<ErrorBody>(
          `/api/registrations/${no}`,
          {
            changes: {
              customerName: enterpriseRow(7).customerName,
              creditCode: enterpriseRow(7).creditCode,
              contactPhone: enterpriseRow(7).contactPhone,
            },
            reason: '更正客户',
          },
          { 'If-Match': etag },
        );
        expect(res.status).toBe(422);
        expect(res.body.error).toMatchObject({
          code: 'pool.cooldown',
          details: { mayClaimFrom: '2026-04-05' },
        });
      });
    });

    describe('[R44] a claim by a change of customer or a resubmission', () => {
      /** Customer 7, Wang's, lapsed into the pool on 03-06 (R31). */
      async function pooledSeven(): Promise<string> {
        const [w] = await submit(wang, [enterpriseRow(7)]);
        svc.setNow(at('2026-03-02', '10:00'));
        await approve(w!.registrationNo!);
        svc.setNow(at('2026-03-06', '09:00'));
        expect(await sweep()).toMatchObject({ voided: 1 });
        return w!.registrationNo!;
      }
      const pool = async () => (await svc.api(zhou).get<PoolPage>('/api/pool')).body;

      it('[R44] a registration changed into the pooled customer claims it; withdrawn, the customer is back', async () => {
        await setPolicy({ preset: 'follow-up' });
        const poolNo = await pooledSeven();
        const [other] = await submit(li, [enterpriseRow(8)]);
        const no = other!.registrationNo!;
        const etag = (await svc.api(li).get(`/api/registrations/${no}`)).headers.get('etag')!;
        const seven = enterpriseRow(7);
        const res = await svc.api(li).patch<{ record: RecordView }>(
          `/api/registrations/${no}`,
          {
            changes: {
              customerName: seven.customerName,
              creditCode: seven.creditCode,
              contactPhone: seven.contactPhone,
            },
            reason: '更正客户',
          },
          { 'If-Match': etag },
        );
        expect(res.status).toBe(200);
        expect(res.body.record.history.at(-1)?.details).toMatchObject({ fromPool: poolNo });
        // Li holds the customer now: not offered in the pool, not "protected by nobody" to a check.
        expect(await pool()).toEqual({ items: [], total: 0 });
        const seen = await check(zhou, seven);
        expect(seen.warnings.map((w) => w.code)).not.toContain('pool.available');
        expect(seen.conflicts.map((c) => c.registrationNo)).toEqual([no]);
        const withdrawn = await svc
          .api(li)
          .post(`/api/registrations/${no}/close`, { outcome: 'withdrawn', note: '客户暂无需求' });
        expect(withdrawn.status).toBe(200);
        expect((await pool()).total).toBe(1);
      });

      it('[R44][R13] a resubmitted registration of the pooled customer claims it', async () => {
        await setPolicy({ preset: 'follow-up', poolCooldownDays: 0 });
        const [first] = await submit(wang, [enterpriseRow(7)]);
        await svc.api(reviewer).post(`/api/registrations/${first!.registrationNo}/review`, {
          decision: 'reject',
          reason: '资料不全',
        });
        const poolNo = await pooledSeven();
        expect((await pool()).total).toBe(1);
        const res = await svc
          .api(wang)
          .post<{ record: RecordView }>(`/api/registrations/${first!.registrationNo}/resubmit`, {
            reason: '已补全资料',
          });
        expect(res.status).toBe(200);
        expect(res.body.record.history.at(-1)?.details).toMatchObject({ fromPool: poolNo });
        expect(await pool()).toEqual({ items: [], total: 0 });
        // Rejected again: the customer returns to the pool.
        await svc.api(reviewer).post(`/api/registrations/${first!.registrationNo}/review`, {
          decision: 'reject',
          reason: '仍不完整',
        });
        expect((await pool()).total).toBe(1);
      });
    });

    describe('[R44] a lapse with a registration of the customer waiting', () => {
      it('[R44][R17] the queued registration is promoted and holds the claim: the customer is not offered in the pool', async () => {
        await setPolicy({ preset: 'follow-up' });
        const [w] = await submit(wang, [enterpriseRow(50)]);
        svc.setNow(at('2026-03-02', '10:00'));
        await approve(w!.registrationNo!);
        const [queued] = await submit(li, [enterpriseRow(50)]);
        expect(queued!.status).toBe('conflict');
        svc.setNow(at('2026-03-06', '09:00'));
        expect(await sweep()).toMatchObject({ voided: 1 });
        const liNo = queued!.registrationNo!;
        expect((await record(li, liNo)).status).toBe('pending');
        expect((await svc.api(zhou).get<PoolPage>('/api/pool')).body).toEqual({ items: [], total: 0 });
        const seen = await check(zhou, enterpriseRow(50));
        expect(seen.warnings.map((x) => x.code)).not.toContain('pool.available');
        expect(seen.conflicts.map((c) => c.registrationNo)).toEqual([liNo]);
        // Li's claim rejected: nobody is left, the customer is back in the pool.
        const rejected = await svc
          .api(reviewer)
          .post(`/api/registrations/${liNo}/review`, { decision: 'reject', reason: '资料不全' });
        expect(rejected.status).toBe(200);
        expect((await svc.api(zhou).get<PoolPage>('/api/pool')).body.total).toBe(1);
      });

      it('[R44][R16] a shared customer whose other partner still holds it is not offered in the pool', async () => {
        await setPolicy({ preset: 'follow-up' });
        const [mine] = await submit(wang, [enterpriseRow(51)]);
        const [theirs] = await submit(li, [enterpriseRow(51)]);
        svc.setNow(at('2026-03-02', '10:00'));
        const shared = await svc.api(reviewer).post(`/api/registrations/${mine!.registrationNo}/review`, {
          decision: 'share',
          reason: '资源互补',
          shareWith: theirs!.registrationNo,
        });
        expect(shared.status).toBe(200);
        // Li visits her customer; Wang does not, and his record lapses.
        svc.setNow(at('2026-03-04', '15:00'));
        const visit = await svc
          .api(li)
          .post(`/api/registrations/${theirs!.registrationNo}/follow-ups`, { way: '上门', note: '拜访' });
        expect(visit.status).toBe(201);
        svc.setNow(at('2026-03-06', '09:00'));
        expect(await sweep()).toMatchObject({ voided: 1 });
        // Li holds the customer alone now (R16): her share shows the whole of it.
        expect(await record(li, theirs!.registrationNo!)).toMatchObject({
          status: 'protected',
          share: { withNo: mine!.registrationNo, percent: 100 },
        });
        expect((await svc.api(zhou).get<PoolPage>('/api/pool')).body).toEqual({ items: [], total: 0 });
        const seen = await check(zhou, enterpriseRow(51));
        expect(seen.warnings.map((x) => x.code)).not.toContain('pool.available');
      });
    });

    describe('[R31][R16] a lapse before the sweep writes it', () => {
      it('[R31][R16][R34] is decided by what was recorded by the end of the deadline day: a follow-up logged after it is refused, and the sweep voids the record', async () => {
        // Whether a record lapsed depends on what was recorded by the end of its deadline day
        // (Shanghai), not on when the sweep runs: a visit logged the morning after, dated on the
        // deadline, no longer rescues it (it used to, until the sweep ran; docs/api.md, follow-ups).
        await setPolicy({ preset: 'follow-up' });
        const [mine] = await submit(wang, [enterpriseRow(52)]);
        const [theirs] = await submit(li, [enterpriseRow(52)]);
        const wangNo = mine!.registrationNo!;
        const liNo = theirs!.registrationNo!;
        svc.setNow(at('2026-03-02', '10:00'));
        const shared = await svc.api(reviewer).post(`/api/registrations/${wangNo}/review`, {
          decision: 'share',
          reason: '资源互补',
          shareWith: liNo,
        });
        expect(shared.status).toBe(200);
        svc.setNow(at('2026-03-04', '15:00'));
        const visit = await svc
          .api(li)
          .post(`/api/registrations/${liNo}/follow-ups`, { way: '上门', note: '拜访' });
        expect(visit.status).toBe(201);
        // The day Wang's record lapses (no visit by 2026-03-05), before any sweep: reads still show
        // the split and Wang's record due to lapse today; the sweep writes it within one period.
        svc.setNow(at('2026-03-06', '00:00'));
        expect(await record(wang, wangNo)).toMatchObject({
          status: 'protected',
          service: { lapsesOn: '2026-03-06' },
        });
        expect(await record(li, liNo)).toMatchObject({ share: { withNo: wangNo, percent: 50 } });
        // Wang logs the visit he says he made on his deadline day: too late, nothing written.
        const before = await record(wang, wangNo);
        const late = await svc.api(wang).post<ErrorBody>(`/api/registrations/${wangNo}/follow-ups`, {
          way: '电话',
          note: '补记',
          at: at('2026-03-05', '17:00'),
        });
        expect(late.status).toBe(409);
        expect(late.body.error).toMatchObject({
          code: 'registration.lapsed',
          message: expect.stringContaining('2026-03-05') as unknown,
          messageEn: expect.stringContaining('2026-03-05') as unknown,
          details: { deadline: '2026-03-05', lapsesOn: '2026-03-06', rule: 'R31' },
        });
        // Nor does regrading it change the deadline that has passed (R42 sets the cadence).
        const regrade = await svc
          .api(reviewer)
          .put<ErrorBody>(`/api/registrations/${wangNo}/grade`, { grade: 'C', reason: '降级' });
        expect(regrade.status).toBe(409);
        expect(regrade.body.error.code).toBe('registration.lapsed');
        // Nor can the lapsed record be extended or closed as signed before the sweep writes it void.
        const extension = await svc
          .api(wang)
          .post<ErrorBody>(`/api/registrations/${wangNo}/extension`, { reason: '客户仍在洽谈' });
        expect(extension.status).toBe(409);
        expect(extension.body.error.code).toBe('registration.lapsed');
        const signed = await svc
          .api(wang)
          .post<ErrorBody>(`/api/registrations/${wangNo}/close`, { outcome: 'signed', note: '已签约' });
        expect(signed.status).toBe(409);
        expect(signed.body.error.code).toBe('registration.lapsed');
        // Nor handed over (R38): the colleague would take a record that is void from its lapse day.
        const handedOver = await svc
          .api(reviewer)
          .post<ErrorBody>(`/api/registrations/${wangNo}/transfer`, { to: '周杰' });
        expect(handedOver.status).toBe(409);
        expect(handedOver.body.error.code).toBe('registration.lapsed');
        const after = await record(wang, wangNo);
        expect(after.version).toBe(before.version);
        expect(after.followUps).toHaveLength(0);
        expect(after.registration.grade).toBeUndefined();
        expect(await sweep()).toMatchObject({ voided: 1 });
        expect(await record(wang, wangNo)).toMatchObject({ status: 'void', reasonCode: 'followUp.lapsed' });
        expect(await record(li, liNo)).toMatchObject({ share: { withNo: wangNo, percent: 100 } });
        expect((await svc.api(wang).get(`/api/registrations/${liNo}`)).status).toBe(403);
      });

      it('[R31] a follow-up logged on the deadline day itself, dated that day, keeps the record', async () => {
        await setPolicy({ preset: 'follow-up' });
        const [r] = await submit(wang, [enterpriseRow(53)]);
        const no = r!.registrationNo!;
        svc.setNow(at('2026-03-02', '10:00'));
        await approve(no);
        svc.setNow(at('2026-03-05', '23:59'));
        const visit = await svc.api(wang).post(`/api/registrations/${no}/follow-ups`, {
          way: '电话',
          note: '回访',
          at: at('2026-03-05', '09:00'),
        });
        expect(visit.status).toBe(201);
        svc.setNow(at('2026-03-06', '00:01'));
        expect(await sweep()).toMatchObject({ voided: 0 });
        expect(await record(wang, no)).toMatchObject({ status: 'protected' });
      });
    });

    describe('[R39][R44] destruction after the retention period', () => {
      it('[R39][R44] a destroyed record’s customer leaves the pool and its entry keeps no name', async () => {
        await setPolicy({ preset: 'follow-up' });
        const [r] = await submit(wang, [enterpriseRow(9)]);
        const no = r!.registrationNo!;
        svc.setNow(at('2026-03-02', '10:00'));
        await approve(no);
        svc.setNow(at('2026-03-06', '09:00'));
        expect(await sweep()).toMatchObject({ voided: 1 });
        expect((await svc.api(li).get<PoolPage>('/api/pool')).body.total).toBe(1);
        // Nobody claimed it; ten years after the lapse the record is destroyed (two administrators).
        const second = await svc.user('管理员乙', 'admin');
        svc.setNow(at('2036-03-07'));
        const requested = await svc
          .api(svc.adminToken)
          .post<{ id: string; nos: string[] }>('/api/retention/destructions', {});
        expect(requested.status).toBe(201);
        expect(requested.body.nos).toContain(no);
        const approved = await svc
          .api(second)
          .post<{ destroyed: string[] }>(`/api/retention/destructions/${requested.body.id}/approve`, {});
        expect(approved.status).toBe(200);
        expect(approved.body.destroyed).toContain(no);
        const pool = await svc.api(li).get<PoolPage>('/api/pool');
        expect(pool.body).toEqual({ items: [], total: 0 });
        const entries = await svc.running.store.read((tx) => tx.listDocs('pool'));
        expect(JSON.stringify(entries)).not.toContain(enterpriseRow(9).customerName);
      });
    });

    describe('[R31][R32][R42] switching the service rules on', () => {
      const followUpKeys = async () =>
        (await svc.running.store.read((tx) => tx.listDocs(REMINDERS_COLLECTION)))
          .map((d) => d.key)
          .filter((k) => k.startsWith('followUp.'));
      const reminders = async (day: string) =>
        runReminders(svc.running.store, {
          now: new Date(at(day, '09:00')),
          calendar: PACKAGE_CALENDAR,
          policy: (await svc.api(svc.adminToken).get<Policy>('/api/policy')).body,
        });

      it('[R31][R32][R42] records approved long before count from the day the rules were switched on', async () => {
        // Approved Mon 2026-03-02 under the standard preset: no service rules, no visits since.
        const [r] = await submit(wang, [enterpriseRow(8, { grade: 'B' })]);
        const no = r!.registrationNo!;
        svc.setNow(at('2026-03-02', '10:00'));
        await approve(no);

        // Wed 04-01 the administrator switches the follow-up preset on; the sweep runs a minute later.
        svc.setNow(at('2026-04-01', '09:00'));
        const policy = await setPolicy({ preset: 'follow-up' });
        svc.setNow(at('2026-04-01', '09:01'));
        expect(await sweep()).toMatchObject({ expired: 0, voided: 0, reminded: 0 });
        // The first follow-up is due 3 days from the switch: Sat 04-04 (清明, off until 04-06) → Tue 04-07.
        expect((await record(wang, no)).service).toEqual({
          lastServiceDay: '2026-03-02',
          nextDue: '2026-04-07',
          dueRule: 'R31',
          lapsesOn: '2026-04-08',
          lapseRule: 'R31',
        });
        expect(policy.serviceRulesSince).toEqual({
          followUp: '2026-04-01',
          reassignAfterNoServiceMonths: '2026-04-01',
          gradeCadenceDays: '2026-04-01',
        });
        // The outbox's reminders use the same start: nothing overdue today, due the day before.
        await reminders('2026-04-01');
        expect(await followUpKeys()).toEqual([]);
        await reminders('2026-04-06');
        expect(await followUpKeys()).toEqual([`followUp.due:${no}:2026-04-07:D-1`]);

        // Another setting changes, the rules stay on: their day stays; a day sent by a caller is ignored.
        svc.setNow(at('2026-04-03', '09:00'));
        const changed = await setPolicy({
          preset: 'follow-up',
          poolCooldownDays: 10,
          serviceRulesSince: { followUp: '2026-01-01' },
        });
        expect(changed.serviceRulesSince).toEqual(policy.serviceRulesSince);
        expect((await svc.api(svc.adminToken).get<Policy>('/api/policy')).body.serviceRulesSince).toEqual(
          policy.serviceRulesSince,
        );

        svc.setNow(at('2026-04-07', '20:00'));
        expect(await sweep()).toMatchObject({ voided: 0 });
        svc.setNow(at('2026-04-08', '00:30'));
        expect(await sweep()).toMatchObject({ voided: 1 });
        expect((await record(wang, no)).history.at(-1)).toMatchObject({
          action: 'follow_up.lapsed',
          details: { rule: 'R31', deadline: '2026-04-07' },
        });
      });

      it('[R31][R32] a record migrated with an old approval date counts from the day it was migrated', async () => {
        await setPolicy({ preset: 'follow-up' });
        // Tue 03-10 the administrator migrates the register (history mode): approved 2026-01-05.
        svc.setNow(at('2026-03-10', '11:00'));
        const [migrated] = await submit(svc.adminToken, [
          enterpriseRow(10, { registrant: '王磊', approvedAt: '2026-01-05', status: 'protected' }),
        ]);
        expect(migrated!.status).toBe('protected');
        const no = migrated!.registrationNo!;
        expect(await sweep()).toMatchObject({ voided: 0 });
        expect((await record(wang, no)).service).toEqual({
          lastServiceDay: '2026-01-05',
          nextDue: '2026-03-13',
          dueRule: 'R31',
          lapsesOn: '2026-03-14',
          lapseRule: 'R31',
        });
        await reminders('2026-03-10');
        expect(await followUpKeys()).toEqual([]);
        svc.setNow(at('2026-03-13', '18:00'));
        expect(await sweep()).toMatchObject({ voided: 0 });
        svc.setNow(at('2026-03-14', '09:00'));
        expect(await sweep()).toMatchObject({ voided: 1 });
      });
    });

    describe('[R32] no service for months', () => {
      it('[R32] approved 2026-01-30, one month without a visit: the deadline is 02-28 (month end), void on 03-01', async () => {
        // The rule is on before the record is approved (switching it on later dates its clock).
        svc.setNow(at('2026-01-30', '09:00'));
        await setPolicy({ reassignAfterNoServiceMonths: 1, poolCooldownDays: 0 });
        svc.setNow(at('2026-01-30'));
        const [r] = await submit(wang, [enterpriseRow(3)]);
        const no = r!.registrationNo!;
        await approve(no);
        svc.setNow(at('2026-02-28', '23:00'));
        expect(await sweep()).toMatchObject({ voided: 0 });
        svc.setNow(at('2026-03-01', '00:30'));
        expect(await sweep()).toMatchObject({ voided: 1 });
        const view = await record(wang, no);
        expect(view.status).toBe('void');
        expect(view.reasonCode).toBe('service.lapsed');
        expect(view.history.at(-1)).toMatchObject({ action: 'service.lapsed', details: { rule: 'R32' } });
        // No cooldown set: the former holder may claim again at once.
        const again = await check(wang, enterpriseRow(3));
        expect(again.errors).toEqual([]);
        expect(again.warnings.map((w) => w.code)).toContain('pool.available');
      });

      it('[R32] off by default: the standard preset never voids for want of service', async () => {
        svc.setNow(at('2026-01-30'));
        const [r] = await submit(wang, [enterpriseRow(4)]);
        await approve(r!.registrationNo!);
        svc.setNow(at('2026-04-20'));
        expect(await sweep()).toMatchObject({ voided: 0 });
        expect((await record(wang, r!.registrationNo!)).service).toBeUndefined();
      });
    });

    it('[R17][R44] two claims of one pooled customer at once that share no key: the entry is claimed once, its holder told once', async () => {
      await setPolicy({ preset: 'follow-up' });
      const pooled: { n: number; no: string }[] = [];
      for (let n = 700; n < 710; n++) {
        const [registered] = await submit(wang, [enterpriseRow(n)]);
        await approve(registered!.registrationNo!);
        pooled.push({ n, no: registered!.registrationNo! });
      }
      svc.setNow(at('2026-04-20'));
      await sweep();
      // Li names the customer by its credit code under its new name; Zhou by its name and address,
      // without a code. Each matches the pooled record exactly, but the two rows share no lock key
      // (cc:+new nm: against the old nm:), so on PostgreSQL they are decided side by side.
      const claims = pooled.flatMap(({ n }) => [
        submit(li, [
          enterpriseRow(n, { customerName: `${companyNameFor(n)}（新名）`, contactPhone: phoneFor(n + 100) }),
        ]),
        submit(zhou, [
          {
            ...enterpriseRow(n, { contactPhone: phoneFor(n + 200) }),
            creditCode: undefined,
            address: '上海市浦东新区',
          },
        ]),
      ]);
      const results = (await Promise.all(claims)).map((r) => r[0]!);
      const fromPool = (result: RowResult) => result.warnings.some((w) => w.code === 'pool.available');
      const told = (await notifications(wang)).filter((x) => x.type === 'pool.claimed');
      for (const [i, { no }] of pooled.entries()) {
        const pair = results.slice(2 * i, 2 * i + 2);
        // R17: the first claim takes the entry; the second is an ordinary registration after it.
        expect(pair.filter(fromPool), no).toHaveLength(1);
        expect(
          told.filter((x) => x.recordNo === no),
          no,
        ).toHaveLength(1);
      }
    });

    describe('[R45] cap on active registrations', () => {
      it('[R45] over the cap a row is rejected with registration.cap naming cap and count; a freed place can be used', async () => {
        await setPolicy({ maxActivePerRegistrant: 2 });
        const first = await submit(wang, [enterpriseRow(10), enterpriseRow(11), enterpriseRow(12)]);
        expect(first.map((r) => r.status)).toEqual(['pending', 'pending', 'rejected']);
        expect(first[2]!.registrationNo).toBeUndefined();
        expect(first[2]!.errors).toEqual([
          expect.objectContaining({ code: 'registration.cap', details: { cap: 2, count: 2 } }),
        ]);
        expect(first[2]!.errors[0]!.message).toMatch(/2.*2/);
        // The dry run says the same; others are not affected.
        expect((await check(wang, enterpriseRow(12))).errors[0]?.code).toBe('registration.cap');
        expect((await submit(li, [enterpriseRow(12)]))[0]!.status).toBe('pending');
        // A rejected registration is no longer active: the place is free again.
        const rejected = await svc
          .api(reviewer)
          .post(`/api/registrations/${first[0]!.registrationNo}/review`, {
            decision: 'reject',
            reason: '资料不全',
          });
        expect(rejected.status).toBe(200);
        expect((await submit(wang, [enterpriseRow(13)]))[0]!.status).toBe('pending');
      });

      it('[R45][R13] resubmitting a rejected registration at the cap is refused with the cap and the count', async () => {
        await setPolicy({ maxActivePerRegistrant: 2 });
        const [first] = await submit(wang, [enterpriseRow(30)]);
        const rejected = await svc.api(reviewer).post(`/api/registrations/${first!.registrationNo}/review`, {
          decision: 'reject',
          reason: '资料不全',
        });
        expect(rejected.status).toBe(200);
        // The freed place is taken by two new registrations: Wang is at the cap again.
        const taken = await submit(wang, [enterpriseRow(31), enterpriseRow(32)]);
        expect(taken.map((r) => r.status)).toEqual(['pending', 'pending']);
        const res = await svc
          .api(wang)
          .post<ErrorBody>(`/api/registrations/${first!.registrationNo}/resubmit`, { reason: '已补全资料' });
        expect(res.status).toBe(422);
        expect(res.body.error).toMatchObject({ code: 'registration.cap', details: { cap: 2, count: 2 } });
        expect((await record(wang, first!.registrationNo!)).status).toBe('rejected');
        // Below the cap the resubmission goes through as before.
        const withdrawn = await svc.api(wang).post(`/api/registrations/${taken[0]!.registrationNo}/close`, {
          outcome: 'withdrawn',
          note: '客户暂无需求',
        });
        expect(withdrawn.status).toBe(200);
        const again = await svc
          .api(wang)
          .post<RecordView>(`/api/registrations/${first!.registrationNo}/resubmit`, { reason: '已补全资料' });
        expect(again.status).toBe(200);
        expect((await record(wang, first!.registrationNo!)).status).toBe('pending');
      });

      it('[R45][R16] a shared customer counts once for each partner, not twice', async () => {
        await setPolicy({ maxActivePerRegistrant: 2 });
        const [mine] = await submit(wang, [enterpriseRow(40)]);
        const [theirs] = await submit(li, [enterpriseRow(40)]);
        expect(theirs!.status).toBe('conflict');
        const shared = await svc.api(reviewer).post(`/api/registrations/${mine!.registrationNo}/review`, {
          decision: 'share',
          reason: '资源互补',
          shareWith: theirs!.registrationNo,
        });
        expect(shared.status).toBe(200);
        // Each holds one registration (their own, shared): one place of two is left.
        const [next, over] = await submit(wang, [enterpriseRow(41), enterpriseRow(42)]);
        expect(next!.status).toBe('pending');
        expect(over!.errors).toEqual([
          expect.objectContaining({ code: 'registration.cap', details: { cap: 2, count: 2 } }),
        ]);
        expect((await submit(li, [enterpriseRow(43)]))[0]!.status).toBe('pending');
      });

      it('[R45] an administrator’s history migration is exempt and says so', async () => {
        await setPolicy({ maxActivePerRegistrant: 1 });
        await submit(wang, [enterpriseRow(20)]);
        const [migrated] = await submit(svc.adminToken, [
          enterpriseRow(21, { registrant: '王磊', approvedAt: '2026-02-01', status: 'protected' }),
        ]);
        expect(migrated!.status).toBe('protected');
        expect(migrated!.warnings).toEqual(
          expect.arrayContaining([
            expect.objectContaining({ code: 'registration.cap_exempt', details: { cap: 1, count: 1 } }),
          ]),
        );
      });
    });
  });
}
