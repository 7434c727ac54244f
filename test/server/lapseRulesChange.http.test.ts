/**
 * A lapse is decided under the rules in force on its deadline day (R31, R32, R43, R44), over real
 * HTTP on both stores: an administrator changing the policy (PUT /api/policy) or the working-day
 * calendar (PUT /api/calendar/:year) after a record's deadline day has passed — before the sweep
 * wrote `void` — does not move that deadline: the change voids it under the old rules in the same
 * write. A change made on or before the deadline day applies to it. And a leaver's hand-over (R38)
 * does not carry a lapsed record — not yet written `void` — over to the colleague.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { packageSchedule } from '../../core/calendar.js';
import type { CalendarPutResponse, PolicyPutResponse } from '../../core/responses.js';
import type { RowResult } from '../../core/schema.js';
import type { RecordView } from '../../server/services/recordView.js';
import type { AuditEntry } from '../../server/store/store.js';
import { enterpriseRow } from '../support/customers.js';
import { dropSchema, TEST_DATABASE_URL as DATABASE_URL, uniqueSchema } from '../support/postgresSchema.js';
import { at } from '../support/shanghaiTime.js';
import { startTestService, type ErrorBody, type TestService } from '../support/testService.js';

let svc: TestService;
let wang: string;
let reviewer: string;
let schema: string | undefined;

async function setPolicy(body: Record<string, unknown>): Promise<PolicyPutResponse> {
  const res = await svc.api(svc.adminToken).put<PolicyPutResponse>('/api/policy', body);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

async function record(no: string): Promise<RecordView> {
  const res = await svc.api(wang).get<RecordView>(`/api/registrations/${no}`);
  expect(res.status).toBe(200);
  return res.body;
}

/** Wang's customer `n`, registered and approved on Mon 2026-03-02: R31's first follow-up is due by Thu 03-05. */
async function protectedOnMonday(n: number): Promise<string> {
  svc.setNow(at('2026-03-02', '09:00'));
  const res = await svc.api(wang).post<{ results: RowResult[] }>('/api/registrations', {
    rows: [enterpriseRow(n)],
  });
  expect(res.status).toBe(200);
  const no = res.body.results[0]!.registrationNo!;
  svc.setNow(at('2026-03-02', '10:00'));
  const approved = await svc
    .api(reviewer)
    .post<RecordView>(`/api/registrations/${no}/review`, { decision: 'approve', reason: '资料齐全' });
  expect(approved.status).toBe(200);
  expect((await record(no)).service).toMatchObject({ nextDue: '2026-03-05', lapsesOn: '2026-03-06' });
  return no;
}

function followUp(no: string, day: string) {
  return svc.api(wang).post<ErrorBody>(`/api/registrations/${no}/follow-ups`, {
    way: '电话',
    note: '回访',
    at: at(day, '07:00'),
  });
}

const sweep = () => svc.running.services.lifecycle.sweep();

async function lapseAudits(): Promise<AuditEntry[]> {
  const res = await svc.api(svc.adminToken).get<{ items: AuditEntry[] }>('/api/audit?limit=200&offset=0');
  expect(res.status).toBe(200);
  return res.body.items.filter((e) => e.action === 'registration.lapse');
}

/** 2026 as the package has it, with Thu 2026-03-05 a day off as well. */
function scheduleWithMarch5Off() {
  const shipped = packageSchedule(2026)!;
  return {
    holidays: [...shipped.holidays, { from: '2026-03-05', to: '2026-03-05', name: '临时放假' }],
    workdays: shipped.workdays,
  };
}

for (const storeKind of ['lowdb', 'postgres'] as const) {
  describe(`on ${storeKind}`, () => {
    beforeEach(async () => {
      schema = storeKind === 'postgres' ? uniqueSchema('lapse') : undefined;
      svc = await startTestService({
        now: at('2026-03-02', '09:00'),
        ...(schema !== undefined
          ? { env: { BAOBEI_STORE: 'postgres', DATABASE_URL, BAOBEI_PG_SCHEMA: schema } }
          : {}),
      });
      wang = await svc.user('王磊', 'sales', '华东一部');
      reviewer = await svc.user('张敏', 'reviewer', '华东一部');
      await setPolicy({ preset: 'follow-up' });
    });

    afterEach(async () => {
      await svc.close();
      if (schema !== undefined) await dropSchema(DATABASE_URL, schema);
    });

    describe('[R31][R44] a policy change', () => {
      it('[R31][R44] after the deadline day, before the sweep: the record lapsed under the old policy and the change voids it; a late follow-up is refused', async () => {
        const no = await protectedOnMonday(61);
        // Fri 03-06, before any sweep: the record lapsed at the end of Thu 03-05 (first within 3 days).
        svc.setNow(at('2026-03-06', '08:00'));
        // The administrator gives first follow-ups five days from now on: under it, the deadline would be
        // Sat 03-07, moved to Mon 03-09.
        const policy = await setPolicy({
          preset: 'follow-up',
          followUp: { firstWithinDays: 5, everyDays: 7 },
        });
        expect(policy.followUp).toEqual({ firstWithinDays: 5, everyDays: 7 });
        // The answer says what the change voided first.
        expect(policy.lapsed).toEqual({ voided: 1, numbers: [no] });
        // The change wrote the lapse the day decided, under the rules then in force.
        const lapsed = await record(no);
        expect(lapsed).toMatchObject({ status: 'void', reasonCode: 'followUp.lapsed' });
        expect(lapsed.history.at(-1)).toMatchObject({
          action: 'follow_up.lapsed',
          by: 'system',
          details: { rule: 'R31', deadline: '2026-03-05' },
        });
        const late = await followUp(no, '2026-03-06');
        expect(late.status).toBe(409);
        expect(late.body.error.code).toBe('status.transition');
        expect((await record(no)).followUps).toHaveLength(0);
        // Nothing left for the sweep; the customer is in the pool (R44).
        expect(await sweep()).toMatchObject({ voided: 0 });
        const pool = await svc.api(reviewer).get<{ total: number }>('/api/pool');
        expect(pool.body.total).toBe(1);
        // The audit trail says the lapse was written by the policy change, and which record.
        expect(await lapseAudits()).toEqual([
          expect.objectContaining({
            actor: 'system',
            records: [no],
            details: { voided: 1, before: 'policy.update' },
          }),
        ]);
      });

      it('[R31] on the deadline day: the new deadline applies, and a follow-up the next day keeps the record', async () => {
        const no = await protectedOnMonday(62);
        svc.setNow(at('2026-03-05', '18:00'));
        await setPolicy({ preset: 'follow-up', followUp: { firstWithinDays: 5, everyDays: 7 } });
        // Five days from Mon 03-02 is Sat 03-07, moved to the next working day (serviceDueOnWorkdays).
        expect(await record(no)).toMatchObject({
          status: 'protected',
          service: { nextDue: '2026-03-09', lapsesOn: '2026-03-10' },
        });
        svc.setNow(at('2026-03-06', '08:00'));
        expect(await sweep()).toMatchObject({ voided: 0 });
        const visit = await followUp(no, '2026-03-06');
        expect(visit.status).toBe(201);
        expect(await record(no)).toMatchObject({ status: 'protected' });
        expect(await lapseAudits()).toEqual([]);
      });

      it('[R32] a record lapsed under R32 stays lapsed when the months are raised after its deadline', async () => {
        const r32 = { preset: 'follow-up', followUp: null, gradeCadenceDays: null };
        await setPolicy({ ...r32, reassignAfterNoServiceMonths: 1 });
        svc.setNow(at('2026-03-02', '09:00'));
        const res = await svc.api(wang).post<{ results: RowResult[] }>('/api/registrations', {
          rows: [enterpriseRow(63)],
        });
        const no = res.body.results[0]!.registrationNo!;
        svc.setNow(at('2026-03-02', '10:00'));
        const approved = await svc
          .api(reviewer)
          .post(`/api/registrations/${no}/review`, { decision: 'approve', reason: '资料齐全' });
        expect(approved.status).toBe(200);
        // R32 (1 month, no follow-up since approval): last day 2026-04-02, void from 04-03.
        expect((await record(no)).service).toMatchObject({ lapsesOn: '2026-04-03', lapseRule: 'R32' });
        svc.setNow(at('2026-04-03', '07:00'));
        await setPolicy({ ...r32, reassignAfterNoServiceMonths: 2 });
        expect(await record(no)).toMatchObject({ status: 'void', reasonCode: 'service.lapsed' });
        expect((await record(no)).history.at(-1)).toMatchObject({
          details: { rule: 'R32', deadline: '2026-04-02' },
        });
      });

      it('[R31] a shorter interval never puts a deadline before the change day: the record gets a first period from it, is not voided, and a follow-up today keeps it', async () => {
        const behind = await protectedOnMonday(68);
        const recent = await protectedOnMonday(69);
        svc.setNow(at('2026-03-03', '09:00'));
        expect((await followUp(behind, '2026-03-03')).status).toBe(201);
        expect((await followUp(recent, '2026-03-03')).status).toBe(201);
        svc.setNow(at('2026-03-06', '09:00'));
        expect((await followUp(recent, '2026-03-06')).status).toBe(201);
        expect((await record(behind)).service).toMatchObject({ nextDue: '2026-03-10' });
        expect((await record(recent)).service).toMatchObject({ nextDue: '2026-03-13' });
        // Tue 03-10, the behind record's deadline day: every 5 days from now on. Under it the behind
        // record was due Sun 03-08, moved to Mon 03-09 — yesterday, before the rule applied.
        svc.setNow(at('2026-03-10', '08:00'));
        const policy = await setPolicy({
          preset: 'follow-up',
          followUp: { firstWithinDays: 3, everyDays: 5 },
          gradeCadenceDays: null,
        });
        expect(policy.lapsed).toEqual({ voided: 0, numbers: [] });
        expect(policy.serviceRulesChangedOn).toMatchObject({ followUp: '2026-03-10' });
        // As for a rule switched on today: the first period from today, Fri 03-13.
        expect(await record(behind)).toMatchObject({
          status: 'protected',
          service: { nextDue: '2026-03-13', lapsesOn: '2026-03-14' },
        });
        // A deadline the shorter interval leaves on or after today stands: Fri 03-06 + 5 = Wed 03-11.
        expect((await record(recent)).service).toMatchObject({
          nextDue: '2026-03-11',
          lapsesOn: '2026-03-12',
        });
        expect(await sweep()).toMatchObject({ voided: 0 });
        expect((await followUp(behind, '2026-03-10')).status).toBe(201);
        expect(await record(behind)).toMatchObject({
          status: 'protected',
          service: { nextDue: '2026-03-16' },
        });
        // The sweep after the floor still voids a record that then misses it.
        svc.setNow(at('2026-03-12', '08:00'));
        expect(await sweep()).toMatchObject({ voided: 1 });
        expect(await record(recent)).toMatchObject({ status: 'void', reasonCode: 'followUp.lapsed' });
        expect(await lapseAudits()).toEqual([]);
      });

      it('[R31] a policy sent again unchanged does not date the rules: a deadline already behind is voided as before', async () => {
        const no = await protectedOnMonday(70);
        svc.setNow(at('2026-03-06', '08:00'));
        const policy = await setPolicy({ preset: 'follow-up' });
        expect(policy.lapsed).toEqual({ voided: 1, numbers: [no] });
        // Dated when the preset switched them on (beforeEach), not today.
        const switchedOn = {
          followUp: '2026-03-02',
          gradeCadenceDays: '2026-03-02',
          reassignAfterNoServiceMonths: '2026-03-02',
          serviceDueOnWorkdays: '2026-03-02',
        };
        expect(policy.serviceRulesChangedOn).toEqual(switchedOn);
        // PUT's answer sent back as a body: what it voided and the dates are the service's, ignored.
        const echoed = await setPolicy(policy);
        expect(echoed.lapsed).toEqual({ voided: 0, numbers: [] });
        expect(echoed.serviceRulesChangedOn).toEqual(switchedOn);
      });

      it('[R32] fewer months never put the deadline before the change day: counted from it instead', async () => {
        const r32 = { preset: 'follow-up', followUp: null, gradeCadenceDays: null };
        await setPolicy({ ...r32, reassignAfterNoServiceMonths: 3 });
        svc.setNow(at('2026-03-02', '09:00'));
        const res = await svc.api(wang).post<{ results: RowResult[] }>('/api/registrations', {
          rows: [enterpriseRow(71)],
        });
        const no = res.body.results[0]!.registrationNo!;
        svc.setNow(at('2026-03-02', '10:00'));
        await svc
          .api(reviewer)
          .post(`/api/registrations/${no}/review`, { decision: 'approve', reason: '资料齐全' });
        expect((await record(no)).service).toMatchObject({ lapsesOn: '2026-06-03', lapseRule: 'R32' });
        // Sun 05-10: two months from now on. Counted from approval the record would be void since 05-03.
        svc.setNow(at('2026-05-10', '09:00'));
        const policy = await setPolicy({ ...r32, reassignAfterNoServiceMonths: 2 });
        expect(policy.lapsed).toEqual({ voided: 0, numbers: [] });
        expect(await record(no)).toMatchObject({
          status: 'protected',
          service: { lapsesOn: '2026-07-11', lapseRule: 'R32' },
        });
        expect(await sweep()).toMatchObject({ voided: 0 });
      });

      it('[R31] a change refused (bad body) voids nothing', async () => {
        const no = await protectedOnMonday(64);
        svc.setNow(at('2026-03-06', '08:00'));
        const bad = await svc.api(svc.adminToken).put<ErrorBody>('/api/policy', {
          preset: 'follow-up',
          followUp: { firstWithinDays: 0, everyDays: 7 },
        });
        expect(bad.status).toBe(400);
        expect(await record(no)).toMatchObject({ status: 'protected' });
        expect(await lapseAudits()).toEqual([]);
        // A non-administrator learns nothing and changes nothing.
        const refused = await svc.api(reviewer).put<ErrorBody>('/api/policy', { preset: 'follow-up' });
        expect(refused.status).toBe(403);
        expect(await record(no)).toMatchObject({ status: 'protected' });
        // The sweep still writes the lapse.
        expect(await sweep()).toMatchObject({ voided: 1 });
      });
    });

    describe("[R38][R31] a leaver's hand-over before the sweep", () => {
      it('[R38][R31][R44] moves what is still held and leaves a lapsed record with the leaver, for the sweep to void in their name', async () => {
        const zhou = await svc.user('周杰', 'sales', '华南二部');
        const lapsedNo = await protectedOnMonday(68);
        // Approved on Wed 03-04: first follow-up due Sat 03-07, moved to Mon 03-09.
        svc.setNow(at('2026-03-04', '09:00'));
        const res = await svc.api(wang).post<{ results: RowResult[] }>('/api/registrations', {
          rows: [enterpriseRow(69)],
        });
        const heldNo = res.body.results[0]!.registrationNo!;
        const approved = await svc
          .api(reviewer)
          .post(`/api/registrations/${heldNo}/review`, { decision: 'approve', reason: '资料齐全' });
        expect(approved.status).toBe(200);
        svc.setNow(at('2026-03-06', '08:00'));
        const users = await svc
          .api(svc.adminToken)
          .get<{ items: { id: string; name: string }[] }>('/api/users');
        const wangId = users.body.items.find((u) => u.name === '王磊')!.id;
        const handOver = await svc
          .api(svc.adminToken)
          .post<{ transferred: string[]; lapsed: string[] }>(`/api/users/${wangId}/hand-over`, {
            to: '周杰',
          });
        expect(handOver.status, JSON.stringify(handOver.body)).toBe(200);
        expect(handOver.body).toMatchObject({ transferred: [heldNo], lapsed: [lapsedNo] });
        const held = await svc.api(zhou).get<RecordView>(`/api/registrations/${heldNo}`);
        expect(held.body.registration.registrant).toBe('周杰');
        // The lapsed record was not handed over: Zhou cannot read it, and the sweep voids it as Wang's.
        expect((await svc.api(zhou).get(`/api/registrations/${lapsedNo}`)).status).toBe(403);
        expect(await sweep()).toMatchObject({ voided: 1 });
        const voided = await svc.api(reviewer).get<RecordView>(`/api/registrations/${lapsedNo}`);
        expect(voided.body).toMatchObject({ status: 'void', registration: { registrant: '王磊' } });
        expect(voided.body.history.map((h) => h.action)).not.toContain('transfer');
      });
    });

    describe('[R31][R37] a change (PATCH) to a lapsed record before the sweep', () => {
      it('[R31][R37][R44] is refused as lapsed, whatever the field: the record is void from its lapse day and its customer goes to the pool as it was', async () => {
        const no = await protectedOnMonday(70);
        svc.setNow(at('2026-03-06', '08:00'));
        const before = await record(no);
        for (const changes of [{ notes: '客户仍有意向' }, { customerName: '上海改名科技有限公司' }]) {
          const res = await svc
            .api(wang)
            .patch<ErrorBody>(
              `/api/registrations/${no}`,
              { changes, reason: '补充' },
              { 'If-Match': before.etag },
            );
          expect(res.status, JSON.stringify(res.body)).toBe(409);
          expect(res.body.error).toMatchObject({
            code: 'registration.lapsed',
            messageEn: expect.stringContaining('2026-03-05') as unknown,
            // As a follow-up's refusal: the deadline, the day it lapsed and the rule, as data.
            details: { deadline: '2026-03-05', lapsesOn: '2026-03-06', rule: 'R31' },
          });
        }
        expect((await record(no)).version).toBe(before.version);
        expect(await sweep()).toMatchObject({ voided: 1 });
      });
    });

    describe('[R31][R44] a calendar change (serviceDueOnWorkdays)', () => {
      it('[R31][R44] a day off entered after the deadline day does not move it: the change voids the record', async () => {
        const no = await protectedOnMonday(65);
        svc.setNow(at('2026-03-06', '08:00'));
        const put = await svc
          .api(svc.adminToken)
          .put<CalendarPutResponse>('/api/calendar/2026', scheduleWithMarch5Off());
        expect(put.status, JSON.stringify(put.body)).toBe(200);
        expect(put.body.lapsed).toEqual({ voided: 1, numbers: [no] });
        expect(await record(no)).toMatchObject({ status: 'void', reasonCode: 'followUp.lapsed' });
        expect((await followUp(no, '2026-03-06')).status).toBe(409);
        expect(await sweep()).toMatchObject({ voided: 0 });
        expect(await lapseAudits()).toEqual([
          expect.objectContaining({ records: [no], details: { voided: 1, before: 'calendar.update' } }),
        ]);
      });

      it('[R31] a day off entered on the deadline day moves it to the next working day', async () => {
        const no = await protectedOnMonday(66);
        svc.setNow(at('2026-03-05', '08:00'));
        const put = await svc
          .api(svc.adminToken)
          .put<CalendarPutResponse>('/api/calendar/2026', scheduleWithMarch5Off());
        expect(put.status).toBe(200);
        expect(put.body.lapsed).toEqual({ voided: 0, numbers: [] });
        expect(await record(no)).toMatchObject({
          status: 'protected',
          service: { nextDue: '2026-03-06', lapsesOn: '2026-03-07' },
        });
        svc.setNow(at('2026-03-06', '08:00'));
        expect(await sweep()).toMatchObject({ voided: 0 });
        expect((await followUp(no, '2026-03-06')).status).toBe(201);
        expect(await lapseAudits()).toEqual([]);
      });

      it('[R31] a make-up workday entered on a due day after it passed never puts the deadline before the entry day', async () => {
        const no = await protectedOnMonday(72);
        svc.setNow(at('2026-03-05', '09:00'));
        expect((await followUp(no, '2026-03-05')).status).toBe(201);
        svc.setNow(at('2026-03-07', '09:00'));
        // Thu 03-05 + 7 = Thu 03-12; a follow-up on Sat 03-07 moves it to Sat 03-14 → Mon 03-16.
        expect((await followUp(no, '2026-03-07')).status).toBe(201);
        expect((await record(no)).service).toMatchObject({ nextDue: '2026-03-16' });
        // Mon 03-16: Sat 03-14 entered as a 调休 workday — under it the record was due on Saturday.
        svc.setNow(at('2026-03-16', '08:00'));
        const shipped = packageSchedule(2026)!;
        const put = await svc.api(svc.adminToken).put<CalendarPutResponse>('/api/calendar/2026', {
          holidays: shipped.holidays,
          workdays: [...shipped.workdays, '2026-03-14'],
        });
        expect(put.status, JSON.stringify(put.body)).toBe(200);
        expect(put.body.lapsed).toEqual({ voided: 0, numbers: [] });
        // The first period from the entry day: Thu 03-19.
        expect(await record(no)).toMatchObject({
          status: 'protected',
          service: { nextDue: '2026-03-19', lapsesOn: '2026-03-20' },
        });
        expect(await sweep()).toMatchObject({ voided: 0 });
        expect((await followUp(no, '2026-03-16')).status).toBe(201);
        expect(await record(no)).toMatchObject({ status: 'protected' });
        expect(await lapseAudits()).toEqual([]);
      });

      it('[R31] a schedule refused (a date outside the year) voids nothing', async () => {
        const no = await protectedOnMonday(67);
        svc.setNow(at('2026-03-06', '08:00'));
        const bad = await svc.api(svc.adminToken).put<ErrorBody>('/api/calendar/2026', {
          holidays: [{ from: '2027-03-05', to: '2027-03-05', name: '临时放假' }],
          workdays: [],
        });
        expect(bad.status).toBe(400);
        expect(await record(no)).toMatchObject({ status: 'protected' });
        expect(await sweep()).toMatchObject({ voided: 1 });
      });
    });
  });
}
