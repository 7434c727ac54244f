/**
 * What happens to a registration after it is saved, over real HTTP (issue 3): review and
 * arbitration, objections, sharing, the queue behind a protection, expiry and the sweep,
 * extensions, closing, follow-ups, hand-over; plus reports, policy, users, audit and the
 * OpenAPI document. Every date is worked out from the rule it comes from.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addWorkdays, PACKAGE_CALENDAR } from '../../core/calendar.js';
import type { RowResult, SubmissionRow } from '../../core/schema.js';
import type { Policy } from '../../core/policy.js';
import type { PolicyPutResponse } from '../../core/responses.js';
import type { NotificationView } from '../../server/services/notificationService.js';
import { runReminders } from '../../server/notify/reminderScheduler.js';
import { RECORD_PAGE } from '../../server/services/recordPages.js';
import { STORE_META_COLLECTION } from '../../server/services/identityRekey.js';
import type { RecordView } from '../../server/services/recordView.js';
import type { Summary } from '../../server/services/reportService.js';
import type { AuditEntry } from '../../server/store/store.js';
import { enterpriseRow } from '../support/customers.js';
import {
  startTestService,
  type ApiResponse,
  type ErrorBody,
  type TestService,
} from '../support/testService.js';
import { dropSchema, TEST_DATABASE_URL as DATABASE_URL } from '../support/postgresSchema.js';
import { at } from '../support/shanghaiTime.js';

interface Results {
  results: RowResult[];
}
interface Competitor {
  registrationNo: string;
  registrant: string;
  rank: number;
}
type RecordWithCompetitors = RecordView & { competitors?: Competitor[] };

let svc: TestService;
let wang: string;
let li: string;
let chen: string;
let reviewer: string;

beforeEach(async () => {
  svc = await startTestService({ now: at('2026-11-23') });
  wang = await svc.user('王磊', 'sales', '华东一部');
  li = await svc.user('李娜', 'sales', '华东一部');
  chen = await svc.user('陈晨', 'sales', '华东一部');
  reviewer = await svc.user('张敏', 'reviewer', '华东一部');
});

afterEach(async () => {
  await svc.close();
});

async function register(token: string, row: SubmissionRow): Promise<string> {
  const res = await svc.api(token).post<Results>('/api/registrations', { rows: [row] });
  expect(res.status).toBe(200);
  const no = res.body.results[0]?.registrationNo;
  if (no === undefined) throw new Error(`not saved: ${JSON.stringify(res.body)}`);
  return no;
}

async function record(token: string, no: string): Promise<RecordWithCompetitors> {
  const res = await svc.api(token).get<RecordWithCompetitors>(`/api/registrations/${no}`);
  expect(res.status).toBe(200);
  return res.body;
}

function post<T = RecordView>(
  token: string,
  no: string,
  action: string,
  body: unknown,
): Promise<ApiResponse<T>> {
  return svc.api(token).post<T>(`/api/registrations/${no}/${action}`, body);
}

async function approve(no: string, reason = '资料齐全'): Promise<RecordView> {
  const res = await post(reviewer, no, 'review', { decision: 'approve', reason });
  expect(res.status).toBe(200);
  return res.body;
}

async function notifications(token: string): Promise<NotificationView[]> {
  const res = await svc.api(token).get<{ items: NotificationView[] }>('/api/notifications');
  expect(res.status).toBe(200);
  return res.body.items;
}

/**
 * Three registrants claim one customer on Mon 2026-09-28 (Wang first, then Li, then Chen); the
 * reviewer decides on Wed 2026-09-30, the day before the National Day holiday (1–7 October).
 */
async function contest(): Promise<{ wangNo: string; liNo: string; chenNo: string }> {
  svc.setNow(at('2026-09-28', '09:00'));
  const wangNo = await register(wang, enterpriseRow(1));
  svc.setNow(at('2026-09-28', '10:00'));
  const liNo = await register(li, { ...enterpriseRow(1), contactPhone: '13900000002' });
  svc.setNow(at('2026-09-28', '11:00'));
  const chenNo = await register(chen, { ...enterpriseRow(1), contactPhone: '13900000003' });
  svc.setNow(at('2026-09-30'));
  return { wangNo, liNo, chenNo };
}

/** The reviewer shares the customer between Wang (60%) and Li (40%), R16. */
async function shareWangAndLi(wangNo: string, liNo: string): Promise<void> {
  const shared = await post(reviewer, wangNo, 'review', {
    decision: 'share',
    shareWith: liNo,
    split: 60,
    reason: '资源互补',
  });
  expect(shared.status).toBe(200);
}

/**
 * A share of Wang (60%) and Li (40%) where Li asks for and gets more time on 2026-12-01 (R28: by 20
 * days before 2026-12-29) and Wang does not: Wang's protection runs out on 2026-12-29, Li's goes on.
 */
async function onlyLiExtended(): Promise<{ wangNo: string; liNo: string }> {
  const { wangNo, liNo } = await contest();
  await shareWangAndLi(wangNo, liNo);
  svc.setNow(at('2026-12-01'));
  expect((await post(li, liNo, 'extension', { reason: '客户仍在洽谈' })).status).toBe(200);
  expect(
    (await post(reviewer, liNo, 'extension/review', { decision: 'approve', reason: '同意' })).status,
  ).toBe(200);
  return { wangNo, liNo };
}

describe('review', () => {
  it('[R15][R17] the reviewer sees the competitors ranked first come, first served', async () => {
    const { wangNo, liNo, chenNo } = await contest();
    const view = await record(reviewer, liNo);
    expect(view.competitors?.map((c) => [c.rank, c.registrationNo, c.registrant])).toEqual([
      [1, wangNo, '王磊'],
      [2, liNo, '李娜'],
      [3, chenNo, '陈晨'],
    ]);
    // Sales never get the ranking (it carries the others' amounts).
    expect(await record(li, liNo)).not.toHaveProperty('competitors');
  });

  it('[R12][R25] approval protects for 3 months; competitors lose with a 2-working-day objection window and are told', async () => {
    const { wangNo, liNo, chenNo } = await contest();
    const approved = await approve(wangNo);
    // R25: from approval on 2026-09-30, 3 months, last day inclusive → 2026-12-29.
    expect(approved).toMatchObject({
      status: 'protected',
      protectedFrom: '2026-09-30',
      protectedUntil: '2026-12-29',
    });
    expect(approved).not.toHaveProperty('reviewDueBy');

    // R12: 2 working days after 2026-09-30 by the Chinese calendar — 1–7 Oct is a holiday → 8 and 9 Oct.
    expect(addWorkdays('2026-09-30', 2)).toBe('2026-10-09');
    for (const [token, no] of [
      [li, liNo],
      [chen, chenNo],
    ] as const) {
      const lost = await record(token, no);
      expect(lost).toMatchObject({
        status: 'rejected',
        reasonCode: 'conflict.lost',
        objectionDeadline: '2026-10-09',
      });
      const told = (await notifications(token)).filter((n) => n.type === 'competitor.decided');
      expect(told).toEqual([
        expect.objectContaining({
          recordNo: no,
          details: expect.objectContaining({ winner: wangNo, objectionDeadline: '2026-10-09' }),
        }),
      ]);
      expect(told[0]?.message).toContain('2026-10-09');
    }
    // The registrant is told the validity (R12).
    const wangTold = (await notifications(wang)).filter((n) => n.type === 'decision');
    expect(wangTold).toEqual([
      expect.objectContaining({
        recordNo: wangNo,
        details: expect.objectContaining({ decision: 'approve', protectedUntil: '2026-12-29' }),
      }),
    ]);
  });

  it('[R12] an objection within the window, upheld, terminates the winner and protects the objector', async () => {
    const { wangNo, liNo, chenNo } = await contest();
    await approve(wangNo);
    svc.setNow(at('2026-10-09', '17:00')); // the last day of the window
    const objected = await post(li, liNo, 'objection', { reason: '我方 9 月 20 日已拜访客户，有拜访记录' });
    expect(objected.status).toBe(200);
    expect(objected.body.objection).toMatchObject({
      against: wangNo,
      reason: '我方 9 月 20 日已拜访客户，有拜访记录',
    });
    expect((await notifications(reviewer)).map((n) => [n.type, n.recordNo])).toContainEqual([
      'objection.filed',
      liNo,
    ]);
    expect((await post(li, liNo, 'objection', { reason: '再次异议' })).status).toBe(409);

    svc.setNow(at('2026-10-12'));
    const upheld = await post(reviewer, liNo, 'review', { decision: 'approve', reason: '拜访记录属实' });
    expect(upheld.status).toBe(200);
    // Protected from the decision on 2026-10-12 for 3 months → 2027-01-11.
    expect(upheld.body).toMatchObject({
      status: 'protected',
      protectedFrom: '2026-10-12',
      protectedUntil: '2027-01-11',
    });
    expect(upheld.body.objection?.decision).toBe('upheld');
    // 处理意见 / 最近审核意见 is the uphold's reason, not the lost decision's "granted to 王磊".
    expect(upheld.body.reason).toBe('拜访记录属实');
    expect((await record(li, liNo)).reason).toBe('拜访记录属实');
    expect(await record(wang, wangNo)).toMatchObject({
      status: 'terminated',
      reasonCode: 'objection.upheld',
    });
    expect((await notifications(wang)).map((n) => [n.type, n.details['outcome']])).toContainEqual([
      'protection.ended',
      'objection.upheld',
    ]);
    expect((await record(chen, chenNo)).status).toBe('rejected');
  });

  it('[R12] two losers object; once one is upheld the other is closed as superseded, and may object to the new grant at once', async () => {
    const { wangNo, liNo, chenNo } = await contest();
    await approve(wangNo);
    svc.setNow(at('2026-10-08'));
    expect((await post(li, liNo, 'objection', { reason: '我方 9 月 20 日已拜访客户' })).status).toBe(200);
    expect((await post(chen, chenNo, 'objection', { reason: '我方有报价单' })).status).toBe(200);
    const first = await post(reviewer, liNo, 'review', { decision: 'approve', reason: '拜访记录属实' });
    expect(first.body.status).toBe('protected');

    // Wang (the grant Chen objected to) is gone and Li holds the customer: Chen's objection is moot.
    // Left open it could only be dismissed (upheld it would grant the customer twice), so it is
    // closed, saying why, and not left on the reviewer's desk while Chen's new window runs.
    const chenView = await record(chen, chenNo);
    expect(chenView).toMatchObject({ status: 'rejected', reasonCode: 'conflict.lost' });
    expect(chenView.objection).toMatchObject({ against: wangNo, decision: 'dismissed' });
    const closed = chenView.history.find((h) => h.action === 'objection.dismiss');
    expect(closed?.reason).toContain(liNo);
    expect(closed?.details).toEqual({ superseded: liNo });
    const second = await post<ErrorBody>(reviewer, chenNo, 'review', {
      decision: 'approve',
      reason: '报价属实',
    });
    // Nothing is left for a reviewer to decide on Chen's record.
    expect([second.status, second.body.error.code]).toEqual([409, 'objection.superseded']);
    expect((await record(li, liNo)).status).toBe('protected');
    // One objection per decision: Chen lost to Li's grant too (R12) and may object to it, at once.
    const again = await post(chen, chenNo, 'objection', { reason: '我方报价早于李娜' });
    expect(again.status).toBe(200);
    expect(again.body.objection).toMatchObject({ against: liNo, reason: '我方报价早于李娜' });
    expect(again.body.objection?.decision).toBeUndefined();
  });

  it('[R12][R16] upholding an objection to a shared decision ends both shares and protects the objector alone', async () => {
    const { wangNo, liNo, chenNo } = await contest();
    await shareWangAndLi(wangNo, liNo);
    svc.setNow(at('2026-10-08'));
    expect((await post(chen, chenNo, 'objection', { reason: '我方先拜访' })).status).toBe(200);
    const upheld = await post(reviewer, chenNo, 'review', { decision: 'approve', reason: '拜访记录属实' });
    expect(upheld.status).toBe(200);
    expect(upheld.body.status).toBe('protected');
    for (const [token, no] of [
      [wang, wangNo],
      [li, liNo],
    ] as const) {
      expect(await record(token, no)).toMatchObject({ status: 'terminated', reasonCode: 'objection.upheld' });
      expect((await notifications(token)).map((n) => [n.type, n.recordNo])).toContainEqual([
        'protection.ended',
        no,
      ]);
    }
    // R34: the share ended with both records; neither former partner reads or lists the other's.
    for (const [token, other] of [
      [wang, liNo],
      [li, wangNo],
    ] as const) {
      expect((await svc.api(token).get(`/api/registrations/${other}`)).status).toBe(403);
      const mine = await svc.api(token).get<{ items: RecordView[] }>('/api/registrations');
      expect(mine.body.items.map((r) => r.no)).not.toContain(other);
    }
  });

  it('[R12] an upheld objection is a new decision: the other losers and the queue are told, and the losers may object to it', async () => {
    const { wangNo, liNo, chenNo } = await contest();
    const zhao = await svc.user('赵强', 'sales', '华东一部');
    const zhaoNo = await register(zhao, { ...enterpriseRow(1), contactPhone: '13900000005' });
    await approve(wangNo);
    const zhou = await svc.user('周洁', 'sales', '华东一部');
    const zhouNo = await register(zhou, { ...enterpriseRow(1), contactPhone: '13900000004' });
    expect(await record(reviewer, zhaoNo)).toMatchObject({ status: 'rejected', reasonCode: 'conflict.lost' });
    expect(await record(reviewer, zhouNo)).toMatchObject({ status: 'conflict', blockedBy: [wangNo] });
    // Everyone reads email; Zhao has turned conflict decisions off for email.
    const admin = svc.api(svc.adminToken);
    const ids = new Map<string, string>();
    for (const token of [chen, zhao, zhou]) {
      const me = await svc.api(token).get<{ id: string }>('/api/me');
      ids.set(token, me.body.id);
      expect(
        (await admin.put(`/api/users/${me.body.id}/contact`, { email: `${me.body.id}@example.com` })).status,
      ).toBe(200);
    }
    expect(
      (await svc.api(zhao).put('/api/notify/preferences', { email: { 'competitor.decided': 'off' } })).status,
    ).toBe(200);

    svc.setNow(at('2026-10-08'));
    expect((await post(li, liNo, 'objection', { reason: '我方先拜访' })).status).toBe(200);
    svc.setNow(at('2026-10-12'));
    expect((await post(reviewer, liNo, 'review', { decision: 'approve', reason: '属实' })).status).toBe(200);

    // R12: the customer is now granted to Li; the other losers are told and may object within
    // 2 working days of this decision (Mon 2026-10-12 → Wed 2026-10-14), though their first window
    // (to Wang's approval) closed on 2026-10-09.
    expect(addWorkdays('2026-10-12', 2)).toBe('2026-10-14');
    for (const [token, no] of [
      [chen, chenNo],
      [zhao, zhaoNo],
    ] as const) {
      expect(await record(token, no)).toMatchObject({
        status: 'rejected',
        reasonCode: 'conflict.lost',
        objectionDeadline: '2026-10-14',
      });
      const told = (await notifications(token)).filter(
        (n) => n.type === 'competitor.decided' && n.details['winner'] === liNo,
      );
      expect(told).toEqual([
        expect.objectContaining({
          recordNo: no,
          details: expect.objectContaining({ objectionDeadline: '2026-10-14' }),
        }),
      ]);
      expect(told[0]?.message).toContain('2026-10-14');
    }
    // The queue behind Wang now waits behind Li, and is told so (no objection window: it did not lose).
    const zhouTold = (await notifications(zhou)).filter((n) => n.type === 'competitor.decided');
    expect(zhouTold.map((n) => [n.recordNo, n.details['winner'], n.details['queued']])).toEqual([
      [zhouNo, liNo, true],
    ]);
    // Through the outbox, as every notice: by email where the person's preferences allow it.
    const outbox = await admin.get<{
      items: { channel: string; to: { userId?: string }; event: { type: string; recordNo: string } }[];
    }>('/api/outbox?channel=email&limit=1000');
    const told = (no: string) =>
      outbox.body.items.filter((i) => i.event.type === 'competitor.decided' && i.event.recordNo === no);
    // Contacts were entered after Wang's approval: this is the email of Li's grant.
    expect(told(chenNo).map((i) => i.to.userId)).toEqual([ids.get(chen)]);
    expect(told(zhouNo).map((i) => i.to.userId)).toEqual([ids.get(zhou)]);
    expect(told(zhaoNo)).toEqual([]);

    svc.setNow(at('2026-10-13'));
    const objected = await post(chen, chenNo, 'objection', { reason: '我方有报价单' });
    expect(objected.status).toBe(200);
    expect(objected.body.objection?.against).toBe(liNo);
    expect((await notifications(reviewer)).map((n) => [n.type, n.recordNo])).toContainEqual([
      'objection.filed',
      chenNo,
    ]);
  });

  it('[R12] a loser whose objection to the reversed decision was closed is reminded the day its new window closes', async () => {
    const { wangNo, liNo, chenNo } = await contest();
    await approve(wangNo);
    svc.setNow(at('2026-10-08'));
    expect((await post(li, liNo, 'objection', { reason: '我方先拜访' })).status).toBe(200);
    expect((await post(chen, chenNo, 'objection', { reason: '我方有报价单' })).status).toBe(200);
    expect((await post(reviewer, liNo, 'review', { decision: 'approve', reason: '属实' })).status).toBe(200);
    // Two working days after Thu 2026-10-08: Fri 9th, Sat 10th (a make-up workday).
    expect(await record(chen, chenNo)).toMatchObject({ objectionDeadline: '2026-10-10' });
    const me = await svc.api(chen).get<{ id: string }>('/api/me');
    expect(
      (await svc.api(svc.adminToken).put(`/api/users/${me.body.id}/contact`, { email: 'c@example.com' }))
        .status,
    ).toBe(200);
    svc.setNow(at('2026-10-10', '09:00'));
    const policy = (await svc.api(svc.adminToken).get<Policy>('/api/policy')).body;
    await runReminders(svc.running.store, { now: svc.now(), calendar: PACKAGE_CALENDAR, policy });
    const outbox = await svc
      .api(svc.adminToken)
      .get<{ items: { event: { type: string; recordNo: string } }[] }>(
        '/api/outbox?channel=email&limit=1000',
      );
    expect(
      outbox.body.items.filter((i) => i.event.type === 'objection.closing').map((i) => i.event.recordNo),
    ).toEqual([chenNo]);
  });

  it('[R12][R34] a reviewer of another team upholding an objection tells the reviewers of the team whose decision it reverses', async () => {
    const liu = await svc.user('刘洋', 'sales', '华东二部');
    const other = await svc.user('孙丽', 'reviewer', '华东二部');
    svc.setNow(at('2026-09-28', '09:00'));
    const wangNo = await register(wang, enterpriseRow(1));
    svc.setNow(at('2026-09-28', '10:00'));
    const liuNo = await register(liu, { ...enterpriseRow(1), contactPhone: '13900000002' });
    svc.setNow(at('2026-09-30'));
    await approve(wangNo); // 张敏 of 华东一部 decides for Wang
    expect(await record(liu, liuNo)).toMatchObject({ status: 'rejected', reasonCode: 'conflict.lost' });
    const me = await svc.api(reviewer).get<{ id: string }>('/api/me');
    expect(
      (await svc.api(svc.adminToken).put(`/api/users/${me.body.id}/contact`, { email: 'zm@example.com' }))
        .status,
    ).toBe(200);

    svc.setNow(at('2026-10-08'));
    expect((await post(liu, liuNo, 'objection', { reason: '我方先拜访' })).status).toBe(200);
    // Liu's objection is his team's to decide (R34): 孙丽 of 华东二部 upholds it.
    const upheld = await post(other, liuNo, 'review', { decision: 'approve', reason: '拜访记录属实' });
    expect(upheld.status).toBe(200);
    expect(await record(wang, wangNo)).toMatchObject({
      status: 'terminated',
      reasonCode: 'objection.upheld',
    });

    // 华东一部's reviewer, whose approval was reversed, hears it: who reversed it, and for whom.
    const told = (await notifications(reviewer)).filter(
      (n) => n.type === 'protection.ended' && n.recordNo === wangNo,
    );
    expect(told).toEqual([
      expect.objectContaining({
        to: { reviewersOf: '华东一部' },
        details: expect.objectContaining({
          outcome: 'objection.upheld',
          by: liuNo,
          decidedBy: '孙丽',
          decidedByTeam: '华东二部',
        }),
      }),
    ]);
    expect(told[0]?.message).toContain('孙丽');
    expect(told[0]?.message).toContain('华东二部');
    expect(told[0]?.messageEn).toContain(liuNo);
    // By email too, as the reviewer's preferences (the defaults here) say.
    const outbox = await svc.api(svc.adminToken).get<{
      items: { to: { userId?: string }; event: { type: string; recordNo: string } }[];
    }>('/api/outbox?channel=email&limit=1000');
    expect(
      outbox.body.items.filter(
        (i) =>
          i.to.userId === me.body.id && i.event.type === 'protection.ended' && i.event.recordNo === wangNo,
      ),
    ).toHaveLength(1);
    // The deciding reviewer's own team is not told of its own decision as someone else's.
    expect(
      (await notifications(other)).filter((n) => n.type === 'protection.ended' && n.recordNo === wangNo),
    ).toEqual([]);
  });

  it('[R12][R21] a registration queued behind the winner waits behind the objector once upheld, and moves up after', async () => {
    const { wangNo, liNo } = await contest();
    await approve(wangNo);
    const zhou = await svc.user('周洁', 'sales', '华东一部');
    const zhouNo = await register(zhou, { ...enterpriseRow(1), contactPhone: '13900000004' });
    expect(await record(reviewer, zhouNo)).toMatchObject({ status: 'conflict', blockedBy: [wangNo] });
    svc.setNow(at('2026-10-08'));
    expect((await post(li, liNo, 'objection', { reason: '我方先拜访' })).status).toBe(200);
    expect((await post(reviewer, liNo, 'review', { decision: 'approve', reason: '属实' })).status).toBe(200);
    expect(await record(reviewer, zhouNo)).toMatchObject({ status: 'conflict', blockedBy: [liNo] });

    expect((await post(li, liNo, 'close', { outcome: 'withdrawn', note: '客户放弃' })).status).toBe(200);
    expect(await record(zhou, zhouNo)).toMatchObject({ status: 'pending' });
    expect((await notifications(zhou)).map((n) => [n.type, n.recordNo])).toContainEqual([
      'queue.promoted',
      zhouNo,
    ]);
  });

  it('[R12] an objection to a winner who has since signed cannot be upheld (409 objection.customer_signed)', async () => {
    const { wangNo, liNo } = await contest();
    await approve(wangNo);
    expect((await post(wang, wangNo, 'close', { outcome: 'signed', note: '已签合同' })).status).toBe(200);
    expect((await post(li, liNo, 'objection', { reason: '我方先拜访' })).status).toBe(200);
    const upheld = await post<ErrorBody>(reviewer, liNo, 'review', { decision: 'approve', reason: '属实' });
    expect(upheld.status).toBe(409);
    expect(upheld.body.error).toMatchObject({
      code: 'objection.customer_signed',
      details: { winner: wangNo },
    });
    expect(upheld.body.error.message).toContain(wangNo);
    expect(upheld.body.error.messageEn).toContain('dismiss');
    expect((await record(li, liNo)).status).toBe('rejected');
    expect((await record(wang, wangNo)).status).toBe('signed');
    const dismissed = await post(reviewer, liNo, 'review', { decision: 'reject', reason: '客户已签约' });
    expect(dismissed.body).toMatchObject({ status: 'rejected', objection: { decision: 'dismissed' } });
  });

  it('[R12][R16] an objection to a shared decision whose partner has since signed cannot be upheld', async () => {
    const { wangNo, liNo, chenNo } = await contest();
    await shareWangAndLi(wangNo, liNo);
    svc.setNow(at('2026-10-08'));
    // Li signs the customer on her share; Wang's share is still protected.
    expect((await post(li, liNo, 'close', { outcome: 'signed', note: '已签合同' })).status).toBe(200);
    expect((await post(chen, chenNo, 'objection', { reason: '我方先拜访' })).status).toBe(200);
    const upheld = await post<ErrorBody>(reviewer, chenNo, 'review', { decision: 'approve', reason: '属实' });
    expect(upheld.status).toBe(409);
    expect(upheld.body.error).toMatchObject({ code: 'objection.customer_signed', details: { winner: liNo } });
    expect(upheld.body.error.message).toContain(liNo);
    expect(upheld.body.error.messageEn).toContain(liNo);
    expect((await record(chen, chenNo)).status).toBe('rejected');
    expect((await record(wang, wangNo)).status).toBe('protected');
  });

  it('[R12][R16] a loser may object naming either share of a shared decision', async () => {
    const { wangNo, liNo, chenNo } = await contest();
    await shareWangAndLi(wangNo, liNo);
    const objected = await post(chen, liNo, 'objection', { reason: '我方先拜访' });
    expect(objected.status).toBe(200);
    expect(objected.body.no).toBe(chenNo);
    expect(objected.body.objection?.against).toBe(wangNo);
  });

  it('[R12][R21] upheld after the winner withdrew: the registration promoted meanwhile waits behind the objector', async () => {
    const { wangNo, liNo } = await contest();
    await approve(wangNo);
    const zhou = await svc.user('周洁', 'sales', '华东一部');
    const zhouNo = await register(zhou, { ...enterpriseRow(1), contactPhone: '13900000004' });
    svc.setNow(at('2026-10-08'));
    expect((await post(li, liNo, 'objection', { reason: '我方先拜访' })).status).toBe(200);
    // Wang withdraws before the objection is decided: Zhou moves up to review.
    expect((await post(wang, wangNo, 'close', { outcome: 'withdrawn', note: '客户放弃' })).status).toBe(200);
    expect((await record(zhou, zhouNo)).status).toBe('pending');
    const upheld = await post(reviewer, liNo, 'review', { decision: 'approve', reason: '属实' });
    expect(upheld.status).toBe(200);
    expect(upheld.body.status).toBe('protected');
    // Li now holds the customer: Zhou cannot be approved beside her, so he waits behind her as he
    // would have had the objection been upheld first (not left pending, to be rejected and lose
    // his place).
    expect(await record(reviewer, zhouNo)).toMatchObject({
      status: 'conflict',
      conflictKind: 'queued',
      blockedBy: [liNo],
    });
    const told = (await notifications(zhou)).filter((n) => n.type === 'competitor.decided');
    expect(told.map((n) => [n.recordNo, n.details['winner'], n.details['queued']])).toEqual([
      [zhouNo, liNo, true],
    ]);
    expect(told[0]?.message).toContain(liNo);
    // It did not lose the customer, so it is not offered an objection window.
    expect(told[0]?.message).not.toContain('前提出');
    expect(told[0]?.messageEn).not.toContain('Object by');
    expect((await post(li, liNo, 'close', { outcome: 'withdrawn', note: '客户放弃' })).status).toBe(200);
    expect((await record(zhou, zhouNo)).status).toBe('pending');
  });

  it('[R12][R16] an objection is upheld or dismissed, not shared: decision share on it is refused', async () => {
    const { wangNo, liNo } = await contest();
    await approve(wangNo);
    svc.setNow(at('2026-10-08'));
    expect((await post(li, liNo, 'objection', { reason: '我方先拜访' })).status).toBe(200);
    const shared = await post<ErrorBody>(reviewer, liNo, 'review', {
      decision: 'share',
      shareWith: wangNo,
      split: 50,
      reason: '双方各有资源',
    });
    expect(shared.status).toBe(422);
    expect(shared.body.error).toMatchObject({ code: 'objection.share_not_allowed', field: 'decision' });
    expect(shared.body.error.message).toContain('approve');
    expect(shared.body.error.messageEn).toContain('approve');
    // Nothing moved: Wang still holds, the objection still awaits a decision.
    expect((await record(wang, wangNo)).status).toBe('protected');
    const liView = await record(li, liNo);
    expect(liView.status).toBe('rejected');
    expect(liView.objection?.decision).toBeUndefined();
  });

  it('[R12][R21][R29] upheld after the winner’s window ran out: the queue waits behind the objector, and the sweep leaves it there', async () => {
    expect((await svc.api(svc.adminToken).put('/api/policy', { preset: 'channel' })).status).toBe(200);
    // R29: one month from the first visit. Wang's visit 2026-10-09 → protected through 2026-11-08;
    // Li's visit 2026-10-30 → her window would run through 2026-11-29.
    svc.setNow(at('2026-11-02', '09:00'));
    const wangNo = await register(wang, { ...enterpriseRow(14), firstVisitAt: '2026-10-09' });
    svc.setNow(at('2026-11-02', '10:00'));
    const liNo = await register(li, {
      ...enterpriseRow(14),
      contactPhone: '13900000002',
      firstVisitAt: '2026-10-30',
    });
    svc.setNow(at('2026-11-02', '11:00'));
    await approve(wangNo);
    svc.setNow(at('2026-11-03'));
    const zhou = await svc.user('周洁', 'sales', '华东一部');
    const zhouNo = await register(zhou, { ...enterpriseRow(14), contactPhone: '13900000004' });
    expect(await record(reviewer, zhouNo)).toMatchObject({ status: 'conflict', blockedBy: [wangNo] });
    svc.setNow(at('2026-11-04'));
    expect((await post(li, liNo, 'objection', { reason: '我方先拜访' })).status).toBe(200);
    // Decided after Wang's window ran out (read as expired, not yet swept).
    svc.setNow(at('2026-11-10'));
    const upheld = await post(reviewer, liNo, 'review', { decision: 'approve', reason: '属实' });
    expect(upheld.status).toBe(200);
    expect(upheld.body).toMatchObject({ status: 'protected', protectedUntil: '2026-11-29' });
    expect(await record(reviewer, zhouNo)).toMatchObject({ status: 'conflict', blockedBy: [liNo] });
    // The sweep writes Wang's expiry; Zhou keeps waiting behind Li instead of moving up beside her.
    expect((await svc.running.services.lifecycle.sweep()).expired).toBe(1);
    expect(await record(reviewer, zhouNo)).toMatchObject({ status: 'conflict', blockedBy: [liNo] });
  });

  it('[R13][R26] a registration that lost to a winner who has since signed is not resubmitted', async () => {
    const { wangNo, liNo, chenNo } = await contest();
    await shareWangAndLi(wangNo, liNo);
    svc.setNow(at('2026-10-12'));
    // Wang signs the customer; Li withdraws her share. Nobody holds the customer any more, but it is
    // signed: like the queue behind a signature (customer.signed), the loser does not come back.
    expect((await post(wang, wangNo, 'close', { outcome: 'signed', note: '已签合同' })).status).toBe(200);
    expect((await post(li, liNo, 'close', { outcome: 'withdrawn', note: '退出' })).status).toBe(200);
    const again = await post<ErrorBody>(chen, chenNo, 'resubmit', {});
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('resubmit.customer_signed');
    expect(again.body.error.messageEn).toContain('signed');
    expect((await record(chen, chenNo)).status).toBe('rejected');
  });

  it('[R12] an objection may name the winning number; a dismissed objection changes nothing', async () => {
    const { wangNo, chenNo } = await contest();
    await approve(wangNo);
    const objected = await post(chen, wangNo, 'objection', { reason: '客户先联系的我' });
    expect(objected.status).toBe(200);
    expect(objected.body.no).toBe(chenNo);
    const dismissed = await post(reviewer, chenNo, 'review', { decision: 'reject', reason: '证据不足' });
    expect(dismissed.status).toBe(200);
    expect(dismissed.body).toMatchObject({ status: 'rejected', objection: { decision: 'dismissed' } });
    expect((await record(wang, wangNo)).status).toBe('protected');
  });

  it('[R12] naming the winner finds the loser’s record behind any number of later rejected ones', async () => {
    const { wangNo, liNo } = await contest();
    await approve(wangNo);
    // Li's register, migrated afterwards, holds a page and more of rejected registrations received
    // after the one that lost to Wang: the look-up reads them a page at a time, newest first.
    svc.setNow(at('2026-09-30', '11:00'));
    const rows = Array.from({ length: RECORD_PAGE + 1 }, (_, i) =>
      enterpriseRow(5000 + i, { registrant: '李娜', registeredAt: '2026-09-29', status: 'rejected' }),
    );
    const migrated = await svc.api(svc.adminToken).post<Results>('/api/registrations', { rows });
    expect(migrated.status).toBe(200);
    expect(migrated.body.results.filter((r) => r.status === 'rejected')).toHaveLength(RECORD_PAGE + 1);
    svc.setNow(at('2026-10-08'));
    const objected = await post(li, wangNo, 'objection', { reason: '我方先拜访' });
    expect(objected.status).toBe(200);
    expect(objected.body.no).toBe(liNo);
    expect(objected.body.objection?.against).toBe(wangNo);
  });

  it('[R12] an objection after the deadline → 422 objection.too_late; only a losing competitor may object', async () => {
    const { wangNo, liNo } = await contest();
    await approve(wangNo);
    svc.setNow(at('2026-10-10')); // Saturday 10 October is a make-up workday, but the window ended on the 9th
    const late = await post<ErrorBody>(li, liNo, 'objection', { reason: '晚了' });
    expect(late.status).toBe(422);
    expect(late.body.error.code).toBe('objection.too_late');
    expect(late.body.error.details).toEqual({ objectionDeadline: '2026-10-09' });
    expect(late.body.error.messageEn).toContain('2026-10-09');

    const winner = await post<ErrorBody>(wang, wangNo, 'objection', { reason: '?' });
    expect(winner.status).toBe(422);
    expect(winner.body.error.code).toBe('objection.not_allowed');
  });

  it('[R11][R21] reject: the registrant sees the reason; the competing registration moves up to pending and is told', async () => {
    const wangNo = await register(wang, enterpriseRow(2));
    svc.setNow(at('2026-11-23', '11:00'));
    const liNo = await register(li, enterpriseRow(2));
    svc.setNow(at('2026-11-25'));
    const rejected = await post(reviewer, wangNo, 'review', {
      decision: 'reject',
      reason: '客户名称与营业执照不符',
    });
    expect(rejected.status).toBe(200);
    expect(await record(wang, wangNo)).toMatchObject({
      status: 'rejected',
      reason: '客户名称与营业执照不符',
    });
    expect((await notifications(wang)).map((n) => [n.type, n.details['decision']])).toContainEqual([
      'decision',
      'reject',
    ]);

    // Promoted on Wed 2026-11-25: a fresh review deadline, 7 working days on → Fri 2026-12-04.
    expect(addWorkdays('2026-11-25', 7)).toBe('2026-12-04');
    const promoted = await record(li, liNo);
    expect(promoted).toMatchObject({ status: 'pending', reviewDueBy: '2026-12-04' });
    expect(promoted).not.toHaveProperty('blockedBy');
    expect((await notifications(li)).filter((n) => n.type === 'queue.promoted')).toEqual([
      expect.objectContaining({
        recordNo: liNo,
        details: expect.objectContaining({ after: wangNo, reviewDueBy: '2026-12-04' }),
      }),
    ]);
  });

  it('[R13] a rejected registration can be corrected and submitted again', async () => {
    const first = await register(wang, { ...enterpriseRow(3), source: '朋友介绍' });
    await post(reviewer, first, 'review', { decision: 'reject', reason: '来源不清' });
    const again = await register(wang, { ...enterpriseRow(3), source: '2026 上海工博会' });
    expect(again).not.toBe(first);
    expect((await record(wang, again)).status).toBe('pending');
  });

  it('[R16] share: two registrants hold the customer together with a split; the others lose', async () => {
    const { wangNo, liNo, chenNo } = await contest();
    const missing = await post<ErrorBody>(reviewer, wangNo, 'review', {
      decision: 'share',
      reason: '资源互补',
    });
    expect(missing.status).toBe(400);
    expect(missing.body.error.field).toBe('shareWith');
    const stranger = await register(chen, enterpriseRow(4));
    const wrong = await post<ErrorBody>(reviewer, wangNo, 'review', {
      decision: 'share',
      reason: 'x',
      shareWith: stranger,
    });
    expect(wrong.status).toBe(422);
    expect(wrong.body.error).toMatchObject({ code: 'share.partner_invalid', field: 'shareWith' });
    // A split or partner with a plain approval would be dropped without a word: refused instead.
    for (const extra of [{ shareWith: liNo }, { split: 60 }]) {
      const plain = await post<ErrorBody>(reviewer, wangNo, 'review', {
        decision: 'approve',
        reason: '资源互补',
        ...extra,
      });
      expect(plain.status).toBe(400);
      expect(plain.body.error).toMatchObject({ code: 'request.invalid', field: Object.keys(extra)[0] });
      expect(plain.body.error.message).toContain('share');
      expect(plain.body.error.messageEn).toContain('share');
    }
    expect((await record(wang, wangNo)).status).toBe('pending');

    const shared = await post(reviewer, wangNo, 'review', {
      decision: 'share',
      reason: '资源互补',
      shareWith: liNo,
      split: 60,
    });
    expect(shared.status).toBe(200);
    expect(shared.body).toMatchObject({
      status: 'protected',
      protectedUntil: '2026-12-29',
      share: { withNo: liNo, withRegistrant: '李娜', percent: 60 },
    });
    expect(await record(li, liNo)).toMatchObject({
      status: 'protected',
      protectedFrom: '2026-09-30',
      protectedUntil: '2026-12-29',
      share: { withNo: wangNo, withRegistrant: '王磊', percent: 40 },
    });
    // The partner sees the shared record too.
    expect((await svc.api(li).get(`/api/registrations/${wangNo}`)).status).toBe(200);
    expect(await record(chen, chenNo)).toMatchObject({ status: 'rejected', reasonCode: 'conflict.lost' });
  });

  it('[R16] a share whose partner leaves holds the customer alone: 100%, in its history, and its holder is told', async () => {
    const { wangNo, liNo } = await contest();
    await shareWangAndLi(wangNo, liNo);
    svc.setNow(at('2026-10-20'));
    expect((await post(wang, wangNo, 'close', { outcome: 'withdrawn', note: '客户放弃' })).status).toBe(200);
    const survivor = await record(li, liNo);
    expect(survivor).toMatchObject({ status: 'protected', share: { withNo: wangNo, percent: 100 } });
    expect(survivor.history.at(-1)).toMatchObject({
      action: 'share.partner_left',
      by: '王磊',
      details: { withNo: wangNo, from: '40', to: '100' },
    });
    expect(
      (await notifications(li))
        .filter((n) => n.type === 'changed' && n.recordNo === liNo)
        .map((n) => n.details),
    ).toEqual([expect.objectContaining({ fields: 'share', by: '王磊' })]);
    // The one who left keeps what it held, in its own (ended) record.
    expect(await record(wang, wangNo)).toMatchObject({ status: 'terminated', share: { percent: 60 } });
  });

  it('[R16][R25][R28] a share whose partner’s protection ran out holds the customer alone once the sweep ends it', async () => {
    const { wangNo, liNo } = await onlyLiExtended();
    svc.setNow(at('2026-12-30'));
    expect((await svc.running.services.lifecycle.sweep()).expired).toBe(1);
    expect(await record(wang, wangNo)).toMatchObject({ status: 'expired' });
    expect(await record(li, liNo)).toMatchObject({
      status: 'protected',
      share: { withNo: wangNo, percent: 100 },
    });
  });

  it('[R16][R25][R34] the day after its partner’s last day, before any sweep, a share reads 100% and the former partner no longer reads or lists it', async () => {
    const { wangNo, liNo } = await onlyLiExtended();
    const listed = async (token: string): Promise<RecordView[]> => {
      const res = await svc.api(token).get<{ items: RecordView[] }>('/api/registrations');
      expect(res.status).toBe(200);
      return res.body.items;
    };
    // Wang's last day (2026-12-29): the split still stands, and each reads the other's share.
    svc.setNow(at('2026-12-29'));
    expect(await record(li, liNo)).toMatchObject({ share: { withNo: wangNo, percent: 40 } });
    expect((await svc.api(wang).get(`/api/registrations/${liNo}`)).status).toBe(200);
    const { version } = await record(reviewer, liNo);

    // The next day Wang's protection has run out; no sweep has run.
    svc.setNow(at('2026-12-30'));
    const survivor = await record(li, liNo);
    expect(survivor).toMatchObject({ status: 'protected', share: { withNo: wangNo, percent: 100 }, version });
    expect((await listed(li)).find((r) => r.no === liNo)?.share).toMatchObject({ percent: 100 });
    expect((await listed(reviewer)).find((r) => r.no === liNo)?.share).toMatchObject({ percent: 100 });
    const read = await svc.api(wang).get<ErrorBody>(`/api/registrations/${liNo}`);
    expect(read.status).toBe(403);
    expect(read.body.error.code).toBe('auth.forbidden');
    expect((await listed(wang)).map((r) => r.no)).toEqual([wangNo]);
    // The one who left keeps the split it held, in its own (ended) record.
    expect(await record(wang, wangNo)).toMatchObject({ status: 'expired', share: { percent: 60 } });

    // The sweep then writes what was read already: one share.partner_left entry.
    await svc.running.services.lifecycle.sweep();
    const written = await record(li, liNo);
    expect(written.share).toMatchObject({ percent: 100 });
    expect(written.history.filter((h) => h.action === 'share.partner_left')).toHaveLength(1);
  });

  it.each(['lowdb', 'postgres'] as const)(
    '[R16] a store written before shares caught up (%s): the next start finds a survivor whose partner already left, once',
    async (storeKind) => {
      // One data dir, key and schema across restarts, as an upgrade finds them.
      await svc.close();
      const dataDir = await mkdtemp(path.join(os.tmpdir(), 'baobei-shares-'));
      const key = randomBytes(32).toString('hex');
      const schema = `shares_${randomBytes(6).toString('hex')}`;
      const env: Record<string, string> =
        storeKind === 'postgres' ? { BAOBEI_STORE: 'postgres', DATABASE_URL, BAOBEI_PG_SCHEMA: schema } : {};
      const restart = async (day: string): Promise<void> => {
        await svc.close();
        svc = await startTestService({ now: at(day), dataDir, key, keepData: true, env });
      };
      try {
        svc = await startTestService({ now: at('2026-09-28'), dataDir, key, keepData: true, env });
        wang = await svc.user('王磊', 'sales', '华东一部');
        li = await svc.user('李娜', 'sales', '华东一部');
        chen = await svc.user('陈晨', 'sales', '华东一部');
        reviewer = await svc.user('张敏', 'reviewer', '华东一部');
        const { wangNo, liNo } = await contest();
        await shareWangAndLi(wangNo, liNo);
        // What an older version left behind: Wang withdrew and Li's record kept its 40% (and the clear
        // partner name the store lists it by), with no share.partner_left and no notice — and no
        // mark that the catch-up ever ran (this version's first start made one).
        svc.setNow(at('2026-10-15'));
        await svc.running.store.write(async (tx) => {
          expect(await tx.getDoc(STORE_META_COLLECTION, 'share-catch-up')).toMatchObject({ written: 0 });
          await tx.deleteDoc(STORE_META_COLLECTION, 'share-catch-up');
          const left = (await tx.getRecord(wangNo))!;
          await tx.putRecord({
            ...left,
            status: 'terminated',
            version: left.version + 1,
            history: [
              ...left.history,
              {
                at: at('2026-10-15'),
                by: '王磊',
                action: 'close.withdrawn',
                from: 'protected',
                to: 'terminated',
              },
            ],
          });
        });
        const old = await svc.running.store.read(async (tx) => (await tx.getRecord(liNo))!);
        expect(old.share).toMatchObject({ percent: 40 });
        const notices = async (): Promise<NotificationView[]> =>
          (await notifications(li)).filter((n) => n.type === 'changed' && n.recordNo === liNo);
        expect(await notices()).toEqual([]);

        // The upgraded service starts: Li's record is written at 100%, once, and Li is told.
        await restart('2026-10-20');
        const stored = await svc.running.store.read(async (tx) => (await tx.getRecord(liNo))!);
        expect(stored).toMatchObject({ status: 'protected', share: { withNo: wangNo, percent: 100 } });
        expect(stored.version).toBe(old.version + 1);
        expect(stored.history.filter((h) => h.action === 'share.partner_left')).toEqual([
          expect.objectContaining({ by: 'system', details: { withNo: wangNo, from: '40', to: '100' } }),
        ]);
        expect(await notices()).toEqual([
          expect.objectContaining({ details: expect.objectContaining({ fields: 'share' }) }),
        ]);
        // The clear partner name went with the split: Wang lists only his own record.
        const wangList = await svc.api(wang).get<{ items: RecordView[] }>('/api/registrations');
        expect(wangList.body.items.map((r) => r.no)).toEqual([wangNo]);

        // A second start changes nothing: the catch-up has run on this store.
        expect(
          await svc.running.store.read((tx) => tx.getDoc(STORE_META_COLLECTION, 'share-catch-up')),
        ).toMatchObject({ written: 1 });
        await restart('2026-10-21');
        expect((await record(li, liNo)).version).toBe(stored.version);
        expect(await notices()).toHaveLength(1);
        expect(await svc.running.services.lifecycle.catchUpShares()).toBe(0);
      } finally {
        // afterEach closes it again, which a closed service answers at once.
        await svc.close();
        await rm(dataDir, { recursive: true, force: true });
        if (storeKind === 'postgres') await dropSchema(DATABASE_URL, schema);
      }
    },
  );

  it('[R16][R34] once a share ends, the former partner reads, lists and is told of the other record no more', async () => {
    const { wangNo, liNo } = await contest();
    await shareWangAndLi(wangNo, liNo);
    const listed = async (token: string, query = ''): Promise<string[]> => {
      const res = await svc.api(token).get<{ items: RecordView[] }>(`/api/registrations${query}`);
      expect(res.status).toBe(200);
      return res.body.items.map((r) => r.no).sort();
    };
    // During the share each reads and lists the other's record (R16).
    svc.setNow(at('2026-10-20'));
    expect((await svc.api(wang).get(`/api/registrations/${liNo}`)).status).toBe(200);
    expect((await svc.api(li).get(`/api/registrations/${wangNo}`)).status).toBe(200);
    expect(await listed(wang)).toEqual([wangNo, liNo].sort());
    expect(await listed(li, `?registrant=${encodeURIComponent('李娜')}`)).toEqual([wangNo, liNo].sort());

    // Wang withdraws: Li holds the customer alone (100%); neither is the other's partner any more.
    expect((await post(wang, wangNo, 'close', { outcome: 'withdrawn', note: '客户放弃' })).status).toBe(200);
    for (const [token, other] of [
      [wang, liNo],
      [li, wangNo],
    ] as const) {
      const read = await svc.api(token).get<ErrorBody>(`/api/registrations/${other}`);
      expect(read.status).toBe(403);
      expect(read.body.error.code).toBe('auth.forbidden');
    }
    expect(await listed(wang)).toEqual([wangNo]);
    expect(await listed(li)).toEqual([liNo]);
    expect(await listed(li, `?registrant=${encodeURIComponent('李娜')}`)).toEqual([liNo]);
    // Nearing the end of Li's protection (2026-12-29), the reminder and the expiring report are hers
    // alone: Wang, who left, is not reminded of a customer he no longer holds.
    svc.setNow(at('2026-12-15'));
    const expiringOf = async (token: string): Promise<string[]> => [
      ...(await notifications(token)).filter((n) => n.details['expiring'] === true).map((n) => n.recordNo),
      ...(await svc.api(token).get<Summary>('/api/reports/summary')).body.expiringSoon.map(
        (e) => e.registrationNo,
      ),
    ];
    expect(await expiringOf(li)).toEqual([liNo, liNo]);
    expect(await expiringOf(wang)).toEqual([]);
    // The reviewer still reads both (R34: their team's).
    expect((await svc.api(reviewer).get(`/api/registrations/${wangNo}`)).status).toBe(200);
    expect((await svc.api(reviewer).get(`/api/registrations/${liNo}`)).status).toBe(200);
  });

  it('[R16][R34] a shared customer signed on one share is still read and listed by both: the deal is theirs to split', async () => {
    const { wangNo, liNo } = await contest();
    await shareWangAndLi(wangNo, liNo);
    svc.setNow(at('2026-10-20'));
    expect((await post(wang, wangNo, 'close', { outcome: 'signed', note: '合同已签' })).status).toBe(200);
    expect(await record(wang, wangNo)).toMatchObject({
      status: 'signed',
      share: { withNo: liNo, percent: 60 },
    });
    expect(await record(li, wangNo)).toMatchObject({ status: 'signed' });
    expect(await record(wang, liNo)).toMatchObject({ share: { withNo: wangNo, percent: 40 } });
    const mine = await svc.api(li).get<{ items: RecordView[] }>('/api/registrations');
    expect(mine.body.items.map((r) => r.no).sort()).toEqual([wangNo, liNo].sort());
  });

  it('[R16][R25][R34] a share that ran out (not yet swept) is no longer read by the former partner', async () => {
    const { wangNo, liNo } = await contest();
    await shareWangAndLi(wangNo, liNo);
    // Both protections end on 2026-12-29; the next day, before any sweep, both read as expired.
    svc.setNow(at('2026-12-30'));
    expect((await svc.api(li).get(`/api/registrations/${wangNo}`)).status).toBe(403);
    expect((await svc.api(wang).get(`/api/registrations/${liNo}`)).status).toBe(403);
    const mine = await svc.api(li).get<{ items: RecordView[] }>('/api/registrations');
    expect(mine.body.items.map((r) => r.no)).toEqual([liNo]);
  });

  it('[R16] the share partner sees the other share but cannot close it, ask for its extension or log visits on it', async () => {
    const { wangNo, liNo } = await contest();
    await shareWangAndLi(wangNo, liNo);
    const version = (await record(wang, wangNo)).version;
    svc.setNow(at('2026-10-08'));
    for (const outcome of ['withdrawn', 'signed', 'lost_to_competitor'] as const) {
      const closed = await post<ErrorBody>(li, wangNo, 'close', { outcome, note: '替对方关闭' });
      expect(closed.status).toBe(403);
      expect(closed.body.error.code).toBe('auth.forbidden');
    }
    const extension = await post<ErrorBody>(li, wangNo, 'extension', { reason: '替对方延期' });
    expect(extension.status).toBe(403);
    expect(extension.body.error.code).toBe('auth.forbidden');
    // A visit resets the service clock of the record it is logged on (R31, R32): each on their own.
    const visit = await post<ErrorBody>(li, wangNo, 'follow-ups', { way: '上门', note: '拜访客户' });
    expect(visit.status).toBe(403);
    expect(visit.body.error.code).toBe('auth.forbidden');
    expect((await post(li, liNo, 'follow-ups', { way: '上门', note: '拜访客户' })).status).toBe(201);
    expect(await record(wang, wangNo)).toMatchObject({ status: 'protected', version });
    // Each holder still acts on their own share.
    expect((await post(li, liNo, 'close', { outcome: 'withdrawn', note: '退出共享' })).status).toBe(200);
    expect((await post(wang, wangNo, 'extension', { reason: '客户仍在谈判' })).status).toBe(200);
  });

  it('[R29][R21] approval whose protection window already ended is refused; the competitor is not decided', async () => {
    expect((await svc.api(svc.adminToken).put('/api/policy', { preset: 'channel' })).status).toBe(200);
    // First visit 2026-10-01, registered late on 2026-11-23 (R4 flags it): R29 counts one month from
    // the visit, 2026-10-01 … 2026-10-31, which ended before the review on 2026-11-23.
    const wangNo = await register(wang, { ...enterpriseRow(12), firstVisitAt: '2026-10-01' });
    svc.setNow(at('2026-11-23', '11:00'));
    const liNo = await register(li, { ...enterpriseRow(12), contactPhone: '13900000002' });
    const refused = await post<ErrorBody>(reviewer, wangNo, 'review', {
      decision: 'approve',
      reason: '同意',
    });
    expect(refused.status).toBe(422);
    expect(refused.body.error.code).toBe('review.protection_over');
    expect(refused.body.error.message).toContain('2026-10-31');
    expect(refused.body.error.messageEn).toContain('2026-10-31');
    expect(refused.body.error.details).toEqual({ protectedFrom: '2026-10-01', protectedUntil: '2026-10-31' });
    // Nothing changed: Wang still awaits review and Li still competes, not lost to a lapsed protection.
    expect((await record(wang, wangNo)).status).toBe('pending');
    expect(await record(li, liNo)).toMatchObject({ status: 'conflict' });
    expect((await record(li, liNo)).reasonCode).toBeUndefined();
    // As the refusal advises, rejecting Wang lets Li move up.
    expect(
      (await post(reviewer, wangNo, 'review', { decision: 'reject', reason: '到访已逾一个月' })).status,
    ).toBe(200);
    expect((await record(li, liNo)).status).toBe('pending');
  });
  it('[R29][R12] upholding an objection whose window already ended is refused; the winner keeps the customer', async () => {
    expect((await svc.api(svc.adminToken).put('/api/policy', { preset: 'channel' })).status).toBe(200);
    // Li's first visit was 2026-10-01 (window 2026-10-01 … 2026-10-31); Wang's on 2026-11-20.
    const liNo = await register(li, { ...enterpriseRow(13), firstVisitAt: '2026-10-01' });
    svc.setNow(at('2026-11-23', '11:00'));
    const wangNo = await register(wang, {
      ...enterpriseRow(13),
      contactPhone: '13900000002',
      firstVisitAt: '2026-11-20',
    });
    await approve(wangNo); // protected 2026-11-20 … 2026-12-19; Li loses and may object
    expect((await post(li, liNo, 'objection', { reason: '我方先报备' })).status).toBe(200);
    const refused = await post<ErrorBody>(reviewer, liNo, 'review', {
      decision: 'approve',
      reason: '异议成立',
    });
    expect(refused.status).toBe(422);
    expect(refused.body.error.code).toBe('review.protection_over');
    expect(refused.body.error.details).toEqual({ protectedFrom: '2026-10-01', protectedUntil: '2026-10-31' });
    expect(await record(wang, wangNo)).toMatchObject({ status: 'protected', protectedUntil: '2026-12-19' });
    const lost = await record(li, liNo);
    expect(lost).toMatchObject({ status: 'rejected', reasonCode: 'conflict.lost' });
    expect(lost.objection?.decision).toBeUndefined();
  });
});

describe('[R21] the queue behind a protection', () => {
  it('a queued registration becomes pending when the holder withdraws', async () => {
    const wangNo = await register(wang, enterpriseRow(5));
    await approve(wangNo);
    const liNo = await register(li, enterpriseRow(5));
    expect((await record(li, liNo)).conflictKind).toBe('queued');
    svc.setNow(at('2026-11-24'));
    const closed = await post(wang, wangNo, 'close', { outcome: 'withdrawn', note: '客户暂无需求' });
    expect(closed.status).toBe(200);
    expect(closed.body.status).toBe('terminated');
    // Promoted Tue 2026-11-24 → review due 7 working days later, Thu 2026-12-03.
    expect(addWorkdays('2026-11-24', 7)).toBe('2026-12-03');
    expect(await record(li, liNo)).toMatchObject({ status: 'pending', reviewDueBy: '2026-12-03' });
    expect((await notifications(li)).map((n) => [n.type, n.recordNo])).toContainEqual([
      'queue.promoted',
      liNo,
    ]);
  });

  it('[R25] protection ends by itself: expired on read at once, written by the sweep, which moves the queue', async () => {
    const wangNo = await register(wang, enterpriseRow(6));
    await approve(wangNo); // Mon 2026-11-23 → protected through 2027-02-22
    const liNo = await register(li, enterpriseRow(6));

    svc.setNow(at('2027-02-22', '23:59'));
    expect((await record(wang, wangNo)).status).toBe('protected');

    svc.setNow(at('2027-02-23', '00:00'));
    const expired = await record(wang, wangNo);
    expect(expired.status).toBe('expired');
    expect(expired.history.map((h) => h.action)).not.toContain('expire'); // not written yet
    const stored = () => svc.running.store.read(async (tx) => (await tx.getRecord(wangNo))?.status);
    expect(await stored()).toBe('protected');
    const list = await svc.api(wang).get<{ items: RecordView[] }>('/api/registrations?status=expired');
    expect(list.body.items.map((r) => r.no)).toEqual([wangNo]);
    expect((await record(li, liNo)).status).toBe('conflict');

    expect(await svc.running.services.lifecycle.sweep()).toMatchObject({
      expired: 1,
      voided: 0,
      reminded: 0,
    });
    expect(await stored()).toBe('expired');
    const written = await record(wang, wangNo);
    expect(written.history.at(-1)).toMatchObject({
      by: 'system',
      action: 'expire',
      to: 'expired',
    });
    expect((await notifications(wang)).map((n) => [n.type, n.details['outcome']])).toContainEqual([
      'protection.ended',
      'expired',
    ]);
    // Promoted on Tue 2027-02-23 (2027 has no official calendar yet: Monday–Friday) → due Thu 2027-03-04.
    expect(addWorkdays('2027-02-23', 7)).toBe('2027-03-04');
    expect(await record(li, liNo)).toMatchObject({ status: 'pending', reviewDueBy: '2027-03-04' });
    expect((await notifications(li)).map((n) => [n.type, n.recordNo])).toContainEqual([
      'queue.promoted',
      liNo,
    ]);

    expect(await svc.running.services.lifecycle.sweep()).toMatchObject({
      expired: 0,
      voided: 0,
      reminded: 0,
    });
  });
});

describe('[R28] extension', () => {
  it('too late → 422 extension.too_late naming the last day; in time → requested → approved by policy.extensionMonths', async () => {
    expect((await svc.api(svc.adminToken).put('/api/policy', { extensionMonths: 2 })).status).toBe(200);
    const wangNo = await register(wang, enterpriseRow(7));
    await approve(wangNo); // protected 2026-11-23 … 2027-02-22
    // At least 20 days before expiry: the last day to ask is 2027-02-22 − 20 days = 2027-02-02.
    svc.setNow(at('2027-02-03'));
    const late = await post<ErrorBody>(wang, wangNo, 'extension', { reason: '客户预算推迟至三月' });
    expect(late.status).toBe(422);
    expect(late.body.error.code).toBe('extension.too_late');
    expect(late.body.error.details).toEqual({ lastDay: '2027-02-02', protectedUntil: '2027-02-22' });
    expect(late.body.error.message).toContain('2027-02-02');

    svc.setNow(at('2027-02-02', '18:00'));
    expect((await post<ErrorBody>(li, wangNo, 'extension', { reason: '?' })).status).toBe(403);
    const asked = await post(wang, wangNo, 'extension', {
      reason: '客户预算推迟至三月，已约 3 月 10 日复谈',
    });
    expect(asked.status).toBe(200);
    expect(asked.body).toMatchObject({ status: 'extension-requested', protectedUntil: '2027-02-22' });
    expect((await notifications(reviewer)).map((n) => [n.type, n.recordNo])).toContainEqual([
      'extension.requested',
      wangNo,
    ]);

    const decided = await post(reviewer, wangNo, 'extension/review', {
      decision: 'approve',
      reason: '同意延期',
    });
    expect(decided.status).toBe(200);
    // Two more months from the day after the old last day: 2027-02-23 … 2027-04-22.
    expect(decided.body).toMatchObject({ status: 'protected', protectedUntil: '2027-04-22' });
    expect((await notifications(wang)).map((n) => [n.type, n.details['protectedUntil']])).toContainEqual([
      'extension.decided',
      '2027-04-22',
    ]);
  });

  it('a refused extension leaves the protection as it was', async () => {
    const wangNo = await register(wang, enterpriseRow(8));
    await approve(wangNo);
    await post(wang, wangNo, 'extension', { reason: '需要更多时间' });
    const refused = await post(reviewer, wangNo, 'extension/review', {
      decision: 'reject',
      reason: '无新进展',
    });
    expect(refused.body).toMatchObject({
      status: 'protected',
      protectedUntil: '2027-02-22',
      extension: { decision: 'reject' },
    });
    const again = await post<ErrorBody>(reviewer, wangNo, 'extension/review', {
      decision: 'approve',
      reason: 'x',
    });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('status.transition');
  });
});

describe('closing', () => {
  it('[R27] false info ends protection and bans that registrant from that customer through D + 3 months − 1 day', async () => {
    const wangNo = await register(wang, enterpriseRow(9));
    await approve(wangNo);
    svc.setNow(at('2026-11-25'));
    expect(
      (await post<ErrorBody>(wang, wangNo, 'close', { outcome: 'false_info', note: '自报' })).status,
    ).toBe(403);
    const closed = await post(reviewer, wangNo, 'close', { outcome: 'false_info', note: '联系人电话为虚构' });
    expect(closed.status).toBe(200);
    expect(closed.body).toMatchObject({ status: 'terminated', reasonCode: 'false_info' });
    // Found on 2026-11-25: banned for 3 months → through 2027-02-24.
    expect((await notifications(wang)).map((n) => n.details['bannedUntil'])).toContain('2027-02-24');

    const liNo = await register(li, enterpriseRow(9));
    expect((await record(li, liNo)).status).toBe('pending');

    svc.setNow(at('2027-02-24', '23:00'));
    const banned = await svc.api(wang).post<Results>('/api/registrations', { rows: [enterpriseRow(9)] });
    expect(banned.body.results[0]).toMatchObject({
      status: 'rejected',
      errors: [expect.objectContaining({ code: 'registration.banned' })],
    });
    expect(banned.body.results[0]?.errors[0]?.messageEn).toContain('2027-02-24');
    // Another customer is no problem for Wang.
    expect((await record(wang, await register(wang, enterpriseRow(10)))).status).toBe('pending');

    svc.setNow(at('2027-02-25'));
    const free = await svc.api(wang).post<Results>('/api/registrations', { rows: [enterpriseRow(9)] });
    // The ban is over; Li's pending registration came first, so Wang competes with it.
    expect(free.body.results[0]).toMatchObject({
      status: 'conflict',
      conflicts: [expect.objectContaining({ registrationNo: liNo })],
    });
  });

  it('[R26] signed: the holder’s record is signed and registrations queued for the customer are rejected', async () => {
    const wangNo = await register(wang, enterpriseRow(11));
    const early = await post<ErrorBody>(wang, wangNo, 'close', { outcome: 'signed', note: '已签约' });
    expect(early.status).toBe(409);
    expect(early.body.error.code).toBe('status.transition');
    await approve(wangNo);
    const liNo = await register(li, enterpriseRow(11));
    const signed = await post(wang, wangNo, 'close', { outcome: 'signed', note: '合同 HT-2026-118' });
    expect(signed.status).toBe(200);
    expect(signed.body.status).toBe('signed');
    expect(await record(li, liNo)).toMatchObject({ status: 'rejected', reasonCode: 'customer.signed' });
    expect((await notifications(li)).map((n) => [n.type, n.details['signed']])).toContainEqual([
      'competitor.decided',
      wangNo,
    ]);
    const bad = await post<ErrorBody>(wang, wangNo, 'close', { outcome: 'sold', note: 'x' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe('outcome');
  });
});

describe('follow-ups and hand-over', () => {
  it('records follow-ups now or in the past; a future one is refused', async () => {
    const wangNo = await register(wang, enterpriseRow(12));
    svc.setNow(at('2026-11-24'));
    const now = await post(wang, wangNo, 'follow-ups', { way: '电话', note: '电话沟通需求' });
    expect(now.status).toBe(201);
    const past = await post(wang, wangNo, 'follow-ups', {
      way: 'visit',
      note: '上门拜访',
      at: '2026-11-23T15:00:00+08:00',
    });
    expect(past.status).toBe(201);
    expect(past.body.followUps).toEqual([
      { at: at('2026-11-24'), by: '王磊', note: '电话沟通需求', way: '电话' },
      { at: '2026-11-23T07:00:00.000Z', by: '王磊', note: '上门拜访', way: '上门' },
    ]);
    // An hour before now, written in Shanghai time: in the past, whatever its text sorts like.
    const earlier = await post(wang, wangNo, 'follow-ups', {
      way: '微信',
      note: '微信确认',
      at: '2026-11-24T09:00:00+08:00',
    });
    expect(earlier.status).toBe(201);
    expect(earlier.body.followUps.at(-1)).toMatchObject({ at: at('2026-11-24', '09:00') });
    const future = await post<ErrorBody>(wang, wangNo, 'follow-ups', {
      way: '电话',
      note: '预约',
      at: at('2026-11-24', '10:01'),
    });
    expect(future.status).toBe(422);
    expect(future.body.error).toMatchObject({ code: 'followUp.future', field: 'at' });
    const badAt = await post<ErrorBody>(wang, wangNo, 'follow-ups', { way: '电话', note: 'x', at: '明天' });
    expect(badAt.status).toBe(400);
    expect(badAt.body.error.field).toBe('at');
    expect((await post(li, wangNo, 'follow-ups', { way: '电话', note: '不是我的' })).status).toBe(403);
    expect((await record(wang, wangNo)).followUps).toHaveLength(3);
  });

  it('[R38] a reviewer hands a registration over to another member of staff', async () => {
    const wangNo = await register(wang, enterpriseRow(13));
    await approve(wangNo);
    const moved = await post(reviewer, wangNo, 'transfer', { to: '李娜' });
    expect(moved.status).toBe(200);
    expect(moved.body.registration.registrant).toBe('李娜');
    expect(moved.body.history.at(-1)).toMatchObject({
      by: '张敏',
      action: 'transfer',
      details: { from: '王磊', to: '李娜' },
    });
    expect((await record(li, wangNo)).status).toBe('protected');
    expect((await svc.api(wang).get(`/api/registrations/${wangNo}`)).status).toBe(403);
    expect((await notifications(li)).map((n) => [n.type, n.recordNo])).toContainEqual(['transfer', wangNo]);
    expect((await notifications(wang)).map((n) => [n.type, n.details['to']])).toContainEqual([
      'transfer',
      '李娜',
    ]);

    const nobody = await post<ErrorBody>(reviewer, wangNo, 'transfer', { to: '查无此人' });
    expect(nobody.status).toBe(404);
    expect(nobody.body.error).toMatchObject({ code: 'user.not_found', field: 'to' });
  });

  it('[R38] a closed registration is not handed over: its history keeps who held it', async () => {
    const wangNo = await register(wang, enterpriseRow(14));
    await approve(wangNo);
    expect((await post(wang, wangNo, 'close', { outcome: 'signed', note: '已签约' })).status).toBe(200);
    const before = await record(wang, wangNo);
    const moved = await post<ErrorBody>(reviewer, wangNo, 'transfer', { to: '李娜' });
    expect(moved.status).toBe(409);
    expect(moved.body.error).toMatchObject({ code: 'status.transition', details: { status: 'signed' } });
    const after = await record(wang, wangNo);
    expect(after.version).toBe(before.version);
    expect(after.registration.registrant).toBe('王磊');
  });
});

describe('reports, policy, users, audit', () => {
  it('[R25][R41] the expiring report and reminders list every protection ending soon, past a page of records', async () => {
    // A page of migrated protections plus one, all Li's, all ending on 2026-11-29 (approved 2026-08-30).
    const rows = Array.from({ length: RECORD_PAGE + 1 }, (_, i) =>
      enterpriseRow(7000 + i, {
        registrant: '李娜',
        registeredAt: '2026-08-20',
        approvedAt: '2026-08-30',
        status: 'protected',
      }),
    );
    const migrated = await svc.api(svc.adminToken).post<Results>('/api/registrations', { rows });
    expect(migrated.status).toBe(200);
    const nos = migrated.body.results.map((r) => r.registrationNo).sort();
    expect(new Set(migrated.body.results.map((r) => r.protectedUntil))).toEqual(new Set(['2026-11-29']));
    expect(nos).toHaveLength(RECORD_PAGE + 1);
    for (const token of [li, svc.adminToken]) {
      const summary = await svc.api(token).get<Summary>('/api/reports/summary');
      expect(summary.status).toBe(200);
      expect(summary.body.expiringSoon.map((e) => e.registrationNo).sort()).toEqual(nos);
    }
    const reminders: string[] = [];
    for (let offset = 0; ; offset += 500) {
      const page = await svc
        .api(li)
        .get<{ items: NotificationView[]; total: number }>(`/api/notifications?limit=500&offset=${offset}`);
      expect(page.status).toBe(200);
      reminders.push(...page.body.items.filter((n) => n.details['expiring'] === true).map((n) => n.recordNo));
      if (offset + 500 >= page.body.total) break;
    }
    expect(reminders.sort()).toEqual(nos);
  });

  it('[R41] GET /api/reports/summary counts a month’s registrations by status and registrant', async () => {
    svc.setNow(at('2026-11-02'));
    const w1 = await register(wang, enterpriseRow(20));
    await register(wang, enterpriseRow(21));
    await register(li, enterpriseRow(21)); // conflict behind Wang's pending claim
    await approve(w1);
    svc.setNow(at('2026-12-01'));
    await register(chen, enterpriseRow(22)); // December: not in November's counts
    svc.setNow(at('2027-01-20'));
    const res = await svc.api(svc.adminToken).get<Summary>('/api/reports/summary?month=2026-11');
    expect(res.status).toBe(200);
    expect(res.body.month).toBe('2026-11');
    expect(res.body.byStatus).toEqual({ protected: 1, pending: 1, conflict: 1 });
    expect(res.body.byRegistrant).toEqual([
      { registrant: '王磊', team: '华东一部', total: 2, byStatus: { protected: 1, pending: 1 } },
      { registrant: '李娜', team: '华东一部', total: 1, byStatus: { conflict: 1 } },
    ]);
    // Approved 2026-11-02 → protected through 2027-02-01, within 20 days of 2027-01-20.
    expect(res.body.expiringSoon).toEqual([
      { registrationNo: w1, registrant: '王磊', protectedUntil: '2027-02-01' },
    ]);

    const december = await svc.api(svc.adminToken).get<Summary>('/api/reports/summary?month=2026-12');
    expect(december.body.byRegistrant).toEqual([
      { registrant: '陈晨', team: '华东一部', total: 1, byStatus: { pending: 1 } },
    ]);
    // Sales staff see their own line only.
    const own = await svc.api(li).get<Summary>('/api/reports/summary?month=2026-11');
    expect(own.body.byRegistrant.map((r) => r.registrant)).toEqual(['李娜']);
    const bad = await svc.api(svc.adminToken).get<ErrorBody>('/api/reports/summary?month=2026-13');
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe('month');
  });

  it('[R29][R30] PUT /api/policy validates every setting and applies presets; the new policy governs new decisions', async () => {
    const admin = svc.api(svc.adminToken);
    const cases: [unknown, string][] = [
      [{ reviewWorkdays: 0 }, 'reviewWorkdays'],
      [{ protection: { months: 0, days: 0, from: 'approval' } }, 'protection'],
      [{ protection: { months: 3, from: 'signing' } }, 'protection.from'],
      [{ preset: 'premium' }, 'preset'],
      [{ autoApprove: 'yes' }, 'autoApprove'],
      [{ reviewDays: 5 }, ''],
    ];
    for (const [body, field] of cases) {
      const res = await admin.put<ErrorBody>('/api/policy', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe('request.invalid');
      if (field !== '') expect(res.body.error.field).toBe(field);
      else expect(res.body.error.messageEn).toContain('reviewDays');
    }
    expect((await admin.get<Policy>('/api/policy')).body.preset).toBe('standard');

    const channel = await admin.put<Policy>('/api/policy', { preset: 'channel' });
    expect(channel.status).toBe(200);
    // R29: 1 month from the first visit; R8: 30 minutes; R19/R20: households, same-day split.
    expect(channel.body).toMatchObject({
      preset: 'channel',
      protection: { months: 1, from: 'firstVisit' },
      minLeadMinutesBeforeVisit: 30,
      householdIsOneCustomer: true,
      sameDayTie: 'split',
    });

    const office = await admin.put<PolicyPutResponse>('/api/policy', {
      preset: 'sales-office',
      reviewWorkdays: 5,
    });
    expect(office.body).toMatchObject({
      preset: 'sales-office',
      protection: { months: 2, from: 'registration' },
      reviewWorkdays: 5,
    });
    // PUT answers the policy in force and what the change voided first (nothing: no cadences).
    const { lapsed, ...inForce } = office.body;
    expect(lapsed).toEqual({ voided: 0, numbers: [] });
    expect((await svc.api(wang).get<Policy>('/api/policy')).body).toEqual(inForce);

    const res = await svc.api(wang).post<Results>('/api/registrations', { rows: [enterpriseRow(23)] });
    // reviewWorkdays 5: Mon 2026-11-23 → Mon 2026-11-30.
    expect(res.body.results[0]?.reviewDueBy).toBe(addWorkdays('2026-11-23', 5));
    expect(res.body.results[0]?.reviewDueBy).toBe('2026-11-30');
    svc.setNow(at('2026-11-26'));
    // R30: 2 months counted from the registration (2026-11-23), not the approval → through 2027-01-22.
    const approved = await approve(res.body.results[0]!.registrationNo!);
    expect(approved).toMatchObject({ protectedFrom: '2026-11-23', protectedUntil: '2027-01-22' });
  });

  it('POST /api/users: the administrator creates users, the token is shown once and works; a taken name → 409', async () => {
    const admin = svc.api(svc.adminToken);
    const created = await admin.post<{ user: Record<string, unknown>; token: string }>('/api/users', {
      name: '周杰',
      role: 'sales',
      team: '华南二部',
    });
    expect(created.status).toBe(201);
    expect(created.body.user).toMatchObject({ name: '周杰', role: 'sales', team: '华南二部' });
    expect(created.body.user).not.toHaveProperty('tokenHash');
    expect((await svc.api(created.body.token).get('/api/registrations')).status).toBe(200);
    const users = await admin.get<{ items: Record<string, unknown>[] }>('/api/users');
    expect(users.body.items.map((u) => u['name'])).toContain('周杰');
    expect(JSON.stringify(users.body)).not.toContain(created.body.token);

    const taken = await admin.post<ErrorBody>('/api/users', { name: '周杰', role: 'reviewer' });
    expect(taken.status).toBe(409);
    expect(taken.body.error).toMatchObject({ code: 'user.exists', field: 'name' });
    const badRole = await admin.post<ErrorBody>('/api/users', { name: '吴昊', role: 'manager' });
    expect(badRole.status).toBe(400);
    expect(badRole.body.error.field).toBe('role');
    expect((await svc.api(reviewer).post('/api/users', { name: '吴昊', role: 'sales' })).status).toBe(403);
  });

  it('[R36] GET /api/audit records every read and change of customer data with the record numbers', async () => {
    const no = await register(wang, enterpriseRow(24));
    svc.setNow(at('2026-11-23', '11:00'));
    await record(reviewer, no);
    await svc.api(reviewer).get(`/api/registrations?q=${encodeURIComponent('有限公司')}`);
    svc.setNow(at('2026-11-23', '12:00'));
    await approve(no);
    const res = await svc
      .api(svc.adminToken)
      .get<{ items: AuditEntry[]; total: number }>(`/api/audit?record=${no}`);
    expect(res.status).toBe(200);
    const trail = [...res.body.items].reverse().map((e) => [e.actor, e.action, e.records, e.at]);
    expect(trail).toEqual([
      ['王磊', 'registration.create', [no], at('2026-11-23')],
      ['张敏', 'registration.read', [no], at('2026-11-23', '11:00')],
      ['张敏', 'registration.list', [no], at('2026-11-23', '11:00')],
      ['张敏', 'registration.review', [no], at('2026-11-23', '12:00')],
    ]);
    for (const e of res.body.items) expect(e.requestId).toEqual(expect.any(String));
    const byActor = await svc
      .api(svc.adminToken)
      .get<{ items: AuditEntry[] }>(`/api/audit?actor=${encodeURIComponent('王磊')}`);
    expect(byActor.body.items.every((e) => e.actor === '王磊')).toBe(true);
    expect(byActor.body.items.map((e) => e.action)).toContain('registration.create');
    // The trail names records, never the customer.
    expect(JSON.stringify(res.body)).not.toContain(enterpriseRow(24).customerName as string);
    expect((await svc.api(reviewer).get('/api/audit')).status).toBe(403);

    // since: an offset is the instant it names (11:30 in Shanghai = 03:30 UTC), a bare day is
    // midnight in Shanghai, and anything else is named.
    const since = async (value: string) =>
      (
        await svc
          .api(svc.adminToken)
          .get<{ items: AuditEntry[] }>(`/api/audit?record=${no}&since=${encodeURIComponent(value)}`)
      ).body.items.map((e) => e.action);
    expect(await since('2026-11-23T11:30:00+08:00')).toEqual(['registration.review']);
    expect(await since('2026-11-23T03:00:00Z')).toEqual([
      'registration.review',
      'registration.list',
      'registration.read',
    ]);
    expect(await since('2026-11-23')).toHaveLength(4);
    expect(await since('2026-11-24')).toEqual([]);
    const bad = await svc.api(svc.adminToken).get<ErrorBody>('/api/audit?since=yesterday');
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: 'request.invalid', field: 'since' });
    expect(bad.body.error.message).toContain('YYYY-MM-DD');
    expect(bad.body.error.messageEn).toContain(
      'a day YYYY-MM-DD (from midnight in Shanghai) or an ISO 8601 instant',
    );
  });
});

describe('GET /api/openapi.json', () => {
  /** Every route the running Express app serves, as `METHOD /path/{param}` (read from Express's router). */
  function servedRoutes(): string[] {
    const out: string[] = [];
    const walk = (stack: unknown, prefix: string) => {
      if (!Array.isArray(stack)) return;
      for (const layer of stack as {
        rawPath?: unknown;
        route?: { path?: unknown; methods?: object };
        handle?: { stack?: unknown };
      }[]) {
        const raw = typeof layer.rawPath === 'string' ? layer.rawPath : '';
        if (layer.route && typeof layer.route.path === 'string') {
          for (const method of Object.keys(layer.route.methods ?? {})) {
            out.push(`${method.toUpperCase()} ${(prefix + layer.route.path).replace(/:(\w+)/g, '{$1}')}`);
          }
        } else if (layer.handle?.stack) {
          walk(layer.handle.stack, prefix + raw);
        }
      }
    };
    walk((svc.running.app as unknown as { router?: { stack?: unknown } }).router?.stack, '');
    return out;
  }

  it('documents every endpoint the service serves, including each one the issue lists', async () => {
    const res = await fetch(`${svc.url}/api/openapi.json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toMatch(/^3\./);
    const documented = new Set(
      Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`)),
    );
    const issue = [
      'GET /api/health',
      'POST /api/check',
      'POST /api/registrations',
      'GET /api/registrations',
      'GET /api/registrations/{no}',
      'POST /api/registrations/{no}/review',
      'POST /api/registrations/{no}/extension',
      'POST /api/registrations/{no}/extension/review',
      'POST /api/registrations/{no}/objection',
      'POST /api/registrations/{no}/close',
      'POST /api/registrations/{no}/follow-ups',
      'POST /api/registrations/{no}/transfer',
      'GET /api/notifications',
      'GET /api/reports/summary',
      'GET /api/policy',
      'PUT /api/policy',
      'POST /api/users',
      'GET /api/audit',
    ];
    expect(issue.filter((e) => !documented.has(e))).toEqual([]);
    const served = servedRoutes().filter((e) => e.split(' ')[1]?.startsWith('/api/')); // not the add-in's files
    expect(served).toEqual(expect.arrayContaining(issue));
    // Whatever the app serves, including routes added later, must be in the document.
    expect(served.filter((e) => !documented.has(e))).toEqual([]);
    // [R31][R44] the answers of a change of rules say what it voided first.
    const answer = (path: string) =>
      JSON.stringify((doc.paths[path]?.put as { responses?: unknown } | undefined)?.responses ?? null);
    expect(answer('/api/policy')).toContain('"lapsed"');
    expect(answer('/api/calendar/{year}')).toContain('"lapsed"');
  });
});
