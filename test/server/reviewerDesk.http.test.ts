/**
 * The reviewer's desk over real HTTP (issue 9): extension requests and objections waiting for a
 * decision (GET /api/review-queue/actions), deciding them, and the 报表 figures
 * (GET /api/reports/review) — with the authorisation matrix. Dates follow the rule they come from.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addWorkdays } from '../../core/calendar.js';
import type { RowResult, StoredRecord, SubmissionRow } from '../../core/schema.js';
import type { RecordView } from '../../server/services/recordView.js';
import type { ReviewActions, ReviewReport } from '../../server/services/reviewerDesk.js';
import { enterpriseRow } from '../support/customers.js';
import { record as storedRecord } from '../support/storedRecords.js';
import { startTestService, type ErrorBody, type TestService } from '../support/testService.js';
import { at } from '../support/shanghaiTime.js';

let svc: TestService;
let wang: string;
let li: string;
let reviewer: string;
let otherReviewer: string;

beforeEach(async () => {
  svc = await startTestService({ now: at('2026-09-28') });
  wang = await svc.user('王磊', 'sales', '华东一部');
  li = await svc.user('李娜', 'sales', '华东一部');
  reviewer = await svc.user('张敏', 'reviewer', '华东一部');
  otherReviewer = await svc.user('赵强', 'reviewer', '华南二部');
});

afterEach(async () => {
  await svc.close();
});

async function register(token: string, row: SubmissionRow): Promise<string> {
  const res = await svc.api(token).post<{ results: RowResult[] }>('/api/registrations', { rows: [row] });
  expect(res.status).toBe(200);
  const no = res.body.results[0]?.registrationNo;
  if (no === undefined) throw new Error('not saved');
  return no;
}

async function act(token: string, no: string, action: string, body: unknown): Promise<RecordView> {
  const res = await svc.api(token).post<RecordView>(`/api/registrations/${no}/${action}`, body);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

async function actions(token: string): Promise<ReviewActions> {
  const res = await svc.api(token).get<ReviewActions>('/api/review-queue/actions');
  expect(res.status).toBe(200);
  return res.body;
}

/** Wang and Li claim one customer on Mon 2026-09-28; Wang wins on Wed 2026-09-30; Li objects. */
async function objected(): Promise<{ wangNo: string; liNo: string }> {
  svc.setNow(at('2026-09-28', '09:00'));
  const wangNo = await register(wang, enterpriseRow(1));
  svc.setNow(at('2026-09-28', '10:00'));
  const liNo = await register(li, { ...enterpriseRow(1), contactPhone: '13900000002' });
  svc.setNow(at('2026-09-30'));
  await act(reviewer, wangNo, 'review', { decision: 'approve', reason: '资料齐全' });
  svc.setNow(at('2026-10-08'));
  await act(li, liNo, 'objection', { reason: '我方 9 月 20 日已拜访客户' });
  return { wangNo, liNo };
}

/** Wang, Li and Chen claim one customer on Mon 2026-09-28, in that order; the day is then Wed 2026-09-30. */
async function threeClaims(): Promise<{ chen: string; wangNo: string; liNo: string; chenNo: string }> {
  const chen = await svc.user('陈晨', 'sales', '华东一部');
  svc.setNow(at('2026-09-28', '09:00'));
  const wangNo = await register(wang, enterpriseRow(1));
  svc.setNow(at('2026-09-28', '10:00'));
  const liNo = await register(li, { ...enterpriseRow(1), contactPhone: '13900000002' });
  svc.setNow(at('2026-09-28', '11:00'));
  const chenNo = await register(chen, { ...enterpriseRow(1), contactPhone: '13900000003' });
  svc.setNow(at('2026-09-30'));
  return { chen, wangNo, liNo, chenNo };
}

/** threeClaims, Li's decided as a share with Wang (Li 40%, Wang 60%); a week later. */
async function liSharesWithWang(): ReturnType<typeof threeClaims> {
  const claims = await threeClaims();
  await act(reviewer, claims.liNo, 'review', {
    decision: 'share',
    shareWith: claims.wangNo,
    split: 40,
    reason: '资源互补',
  });
  svc.setNow(at('2026-10-08'));
  return claims;
}

describe('GET /api/review-queue/actions', () => {
  it('lists an extension request with its protection dates; approve and reject decide it and empty the list', async () => {
    svc.setNow(at('2026-11-23'));
    const a = await register(wang, enterpriseRow(7));
    const b = await register(wang, enterpriseRow(8));
    await act(reviewer, a, 'review', { decision: 'approve', reason: '资料齐全' });
    await act(reviewer, b, 'review', { decision: 'approve', reason: '资料齐全' });
    svc.setNow(at('2027-01-05'));
    await act(wang, a, 'extension', { reason: '客户预算推迟' });
    await act(wang, b, 'extension', { reason: '需要更多时间' });
    const before = await actions(reviewer);
    expect(before.objections).toEqual([]);
    expect(
      before.extensions.map((e) => [
        e.registrationNo,
        e.registrant,
        e.protectedFrom,
        e.protectedUntil,
        e.reason,
      ]),
    ).toEqual([
      [a, '王磊', '2026-11-23', '2027-02-22', '客户预算推迟'],
      [b, '王磊', '2026-11-23', '2027-02-22', '需要更多时间'],
    ]);
    // Another team's reviewer sees none of them (R34).
    expect(await actions(otherReviewer)).toEqual({ extensions: [], objections: [] });
    expect((await act(reviewer, a, 'extension/review', { decision: 'approve', reason: '同意' })).status).toBe(
      'protected',
    );
    const refused = await act(reviewer, b, 'extension/review', { decision: 'reject', reason: '理由不足' });
    expect(refused).toMatchObject({ status: 'protected', protectedUntil: '2027-02-22' });
    expect((await actions(reviewer)).extensions).toEqual([]);
    // Deciding twice is refused by the state machine.
    const again = await svc.api(reviewer).post<ErrorBody>(`/api/registrations/${b}/extension/review`, {
      decision: 'approve',
      reason: '再批',
    });
    expect(again.status).toBe(409);
  });

  it('lists an objection with its reason, the ranking (claim times) and the winner by number and registrant only', async () => {
    const { wangNo, liNo } = await objected();
    const list = await actions(reviewer);
    expect(list.extensions).toEqual([]);
    expect(list.objections).toHaveLength(1);
    const item = list.objections[0]!;
    expect(item).toMatchObject({
      registrationNo: liNo,
      registrant: '李娜',
      reason: '我方 9 月 20 日已拜访客户',
      objectionDeadline: addWorkdays('2026-09-30', 2),
      claimedAt: at('2026-09-28', '10:00'),
      against: { registrationNo: wangNo, registrant: '王磊', claimedAt: at('2026-09-28', '09:00') },
    });
    // R3: nothing of the winner's customer details beyond number, registrant and claim time.
    expect(Object.keys(item.against ?? {}).sort()).toEqual(['claimedAt', 'registrant', 'registrationNo']);
  });

  it('[R16] an objection to a shared decision names the share partner too, by number, registrant and share', async () => {
    const { chen, wangNo, liNo, chenNo } = await threeClaims();
    await act(reviewer, wangNo, 'review', {
      decision: 'share',
      shareWith: liNo,
      split: 60,
      reason: '资源互补',
    });
    svc.setNow(at('2026-10-08'));
    await act(chen, chenNo, 'objection', { reason: '我方先拜访' });
    const item = (await actions(reviewer)).objections.find((o) => o.registrationNo === chenNo);
    expect(item?.against).toEqual({
      registrationNo: wangNo,
      registrant: '王磊',
      claimedAt: at('2026-09-28', '09:00'),
      percent: 60,
      sharedWith: { registrationNo: liNo, registrant: '李娜', percent: 40 },
    });
    // R36: the listing read the partner's record too, and says so.
    const trail = await svc
      .api(svc.adminToken)
      .get<{ items: { action: string; records: string[] }[] }>(`/api/audit?record=${liNo}`);
    expect(trail.body.items.find((e) => e.action === 'registration.review_actions')?.records).toEqual([
      chenNo,
      wangNo,
      liNo,
    ]);
  });

  it('[R16] a share partner who has left is not named: the winner holds the customer alone', async () => {
    const { chen, wangNo, liNo, chenNo } = await liSharesWithWang();
    await act(wang, wangNo, 'close', { outcome: 'withdrawn', note: '客户放弃' });
    await act(chen, chenNo, 'objection', { reason: '我方先拜访' });
    const item = (await actions(reviewer)).objections.find((o) => o.registrationNo === chenNo);
    expect(item?.against).toEqual({
      registrationNo: liNo,
      registrant: '李娜',
      claimedAt: at('2026-09-28', '10:00'),
    });
  });

  it('[R16][R25] a share partner whose protection ran out yesterday is not named, before any sweep', async () => {
    const { chen, wangNo, liNo, chenNo } = await liSharesWithWang();
    await act(chen, chenNo, 'objection', { reason: '我方先拜访' });
    // Li is given more time (R28); Wang's protection ends on 2026-12-29.
    svc.setNow(at('2026-12-01'));
    await act(li, liNo, 'extension', { reason: '客户仍在洽谈' });
    await act(reviewer, liNo, 'extension/review', { decision: 'approve', reason: '同意' });
    const against = async () =>
      (await actions(reviewer)).objections.find((o) => o.registrationNo === chenNo)?.against;
    svc.setNow(at('2026-12-29'));
    expect(await against()).toMatchObject({
      percent: 40,
      sharedWith: { registrationNo: wangNo, percent: 60 },
    });
    svc.setNow(at('2026-12-30'));
    expect(await against()).toEqual({
      registrationNo: liNo,
      registrant: '李娜',
      claimedAt: at('2026-09-28', '10:00'),
    });
  });

  it('uphold: the objector is protected and the winner terminated; the list empties', async () => {
    const { wangNo, liNo } = await objected();
    const upheld = await act(reviewer, liNo, 'review', { decision: 'approve', reason: '拜访记录属实' });
    expect(upheld).toMatchObject({ status: 'protected', objection: { decision: 'upheld' } });
    const winner = await svc.api(reviewer).get<RecordView>(`/api/registrations/${wangNo}`);
    expect(winner.body.status).toBe('terminated');
    expect((await actions(reviewer)).objections).toEqual([]);
  });

  it('dismiss: nothing changes; deciding it again is refused', async () => {
    const { wangNo, liNo } = await objected();
    const dismissed = await act(reviewer, liNo, 'review', { decision: 'reject', reason: '无证据' });
    expect(dismissed).toMatchObject({ status: 'rejected', objection: { decision: 'dismissed' } });
    expect((await svc.api(reviewer).get<RecordView>(`/api/registrations/${wangNo}`)).body.status).toBe(
      'protected',
    );
    expect((await actions(reviewer)).objections).toEqual([]);
    const again = await svc.api(reviewer).post<ErrorBody>(`/api/registrations/${liNo}/review`, {
      decision: 'approve',
      reason: '改判',
    });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('status.transition');
  });

  it('authorisation: sales 403; another team’s reviewer cannot decide (403); admin sees all', async () => {
    const { liNo } = await objected();
    expect((await svc.api(wang).get<ErrorBody>('/api/review-queue/actions')).status).toBe(403);
    expect(
      (await svc.api(svc.adminToken).get<ReviewActions>('/api/review-queue/actions')).body.objections,
    ).toHaveLength(1);
    expect((await actions(otherReviewer)).objections).toEqual([]);
    const foreign = await svc.api(otherReviewer).post<ErrorBody>(`/api/registrations/${liNo}/review`, {
      decision: 'approve',
      reason: '?',
    });
    expect(foreign.status).toBe(403);
    expect((await svc.api('not-a-token').get<ErrorBody>('/api/review-queue/actions')).status).toBe(401);
  });
});

describe('[R39] an objection never decided, on a record destroyed after its retention', () => {
  it('is not on the desk and cannot be decided: its personal data is gone', async () => {
    const { liNo } = await objected();
    expect((await actions(reviewer)).objections.map((o) => o.registrationNo)).toEqual([liNo]);
    // Rejected 2026-09-30, kept 10 years (R39): destroyed in 2037 by two administrators.
    svc.setNow(at('2037-03-02'));
    const second = await svc.user('管理员乙', 'admin');
    const requested = await svc
      .api(svc.adminToken)
      .post<{ id: string; nos: string[] }>('/api/retention/destructions', {});
    expect(requested.status).toBe(201);
    expect(requested.body.nos).toContain(liNo);
    const approved = await svc
      .api(second)
      .post<{ destroyed: string[] }>(`/api/retention/destructions/${requested.body.id}/approve`, {});
    expect(approved.body.destroyed).toContain(liNo);

    expect((await actions(reviewer)).objections).toEqual([]);
    expect(
      (await svc.api(svc.adminToken).get<ReviewActions>('/api/review-queue/actions')).body.objections,
    ).toEqual([]);
    const before = (await svc.api(reviewer).get<RecordView>(`/api/registrations/${liNo}`)).body;
    const decided = await svc.api(reviewer).post<ErrorBody>(`/api/registrations/${liNo}/review`, {
      decision: 'approve',
      reason: '拜访记录属实',
    });
    expect(decided.status).toBe(409);
    expect(decided.body.error.code).toBe('retention.destroyed');
    expect((await svc.api(reviewer).get<RecordView>(`/api/registrations/${liNo}`)).body).toEqual(before);
  });
});

describe('the reviewer desk past 20,000 records (its former cap)', () => {
  // One more of each kind than the desk used to read: a pending objection and an extension request
  // received before 20,000 later extension requests, all of the team, all in September.
  const LATER = 20_000;
  const requested = (no: string, receivedAt: string): StoredRecord =>
    storedRecord(no, {
      status: 'extension-requested',
      receivedAt,
      claimedAt: receivedAt,
      approvedAt: receivedAt,
      protectedFrom: '2026-07-11',
      protectedUntil: '2026-10-10',
      extension: { requestedAt: '2026-09-20T02:00:00.000Z', reason: '客户仍在洽谈' },
    });

  beforeEach(async () => {
    await svc.running.store.write(async (tx) => {
      await tx.putRecord(
        storedRecord('BB-2026-000001', {
          status: 'rejected',
          reasonCode: 'conflict.lost',
          receivedAt: '2026-09-01T00:00:00.000Z',
          claimedAt: '2026-09-01T00:00:00.000Z',
          objection: { at: '2026-09-25T02:00:00.000Z', reason: '我方先拜访', against: '' },
        }),
      );
      await tx.putRecord(requested('BB-2026-000002', '2026-09-01T01:00:00.000Z'));
      for (let i = 0; i < LATER; i++) {
        const no = `BB-2026-${String(100_000 + i)}`;
        await tx.putRecord(
          requested(no, new Date(Date.parse('2026-09-02T00:00:00.000Z') + i * 60_000).toISOString()),
        );
      }
    });
  });

  it('lists every extension request and open objection, however many records it reads', async () => {
    const desk = await actions(reviewer);
    expect(desk.objections.map((o) => o.registrationNo)).toEqual(['BB-2026-000001']);
    expect(desk.extensions).toHaveLength(LATER + 1);
    expect(desk.extensions.map((e) => e.registrationNo)).toContain('BB-2026-000002');
  });

  it('counts every registration received in the range and lists every protection ending soon', async () => {
    const res = await svc.api(reviewer).get<ReviewReport>('/api/reports/review?from=2026-09&to=2026-09');
    expect(res.status).toBe(200);
    expect(res.body.sla.map((m) => [m.month, m.received])).toEqual([['2026-09', LATER + 2]]);
    expect(res.body.byRegistrantMonth.reduce((sum, c) => sum + c.total, 0)).toBe(LATER + 2);
    expect(res.body.expiringSoon).toHaveLength(LATER + 1);
    expect(res.body.expiringSoon[0]?.registrationNo).toBe('BB-2026-000002');
  });
});

describe('the review queue past 10,000 undecided registrations (its former cap)', () => {
  it('starts with the oldest claim, however many newer ones wait', async () => {
    const LATER = 10_000;
    const pending = (no: string, claimedAt: string): StoredRecord =>
      storedRecord(no, { status: 'pending', receivedAt: claimedAt, claimedAt });
    await svc.running.store.write(async (tx) => {
      await tx.putRecord(pending('BB-2026-000001', '2026-09-01T00:00:00.000Z'));
      for (let i = 0; i < LATER; i++) {
        const claimedAt = new Date(Date.parse('2026-09-02T00:00:00.000Z') + i * 60_000).toISOString();
        await tx.putRecord(pending(`BB-2026-${String(100_000 + i)}`, claimedAt));
      }
    });
    const res = await svc.api(reviewer).get<{
      groups: { competitors: { registrationNo: string }[] }[];
      hasMore: boolean;
    }>('/api/review-queue?limit=2&offset=0');
    expect(res.status).toBe(200);
    expect(res.body.groups.map((g) => g.competitors.map((c) => c.registrationNo))).toEqual([
      ['BB-2026-000001'],
      ['BB-2026-100000'],
    ]);
    expect(res.body.hasMore).toBe(true);
  });
});

describe('GET /api/reports/review', () => {
  it('counts per person per month by status, the SLA by the Chinese working-day calendar, and lists overdue reviews', async () => {
    // Received Mon 2026-09-28 → due 7 working days later: 1–7 October is the National Day holiday
    // and Saturday 10 October a make-up workday (调休): 29, 30 Sep, 8, 9, 10, 12, 13 Oct.
    const due = addWorkdays('2026-09-28', 7);
    expect(due).toBe('2026-10-13');
    svc.setNow(at('2026-09-28', '09:00'));
    const inTime = await register(wang, enterpriseRow(1));
    const late = await register(wang, enterpriseRow(2));
    const waiting = await register(li, enterpriseRow(3));
    svc.setNow(at('2026-10-13', '17:00'));
    await act(reviewer, inTime, 'review', { decision: 'approve', reason: '资料齐全' });
    svc.setNow(at('2026-10-14'));
    await act(reviewer, late, 'review', { decision: 'reject', reason: '资料不全' });
    svc.setNow(at('2026-10-20'));
    const october = await register(li, enterpriseRow(4));

    const res = await svc.api(reviewer).get<ReviewReport>('/api/reports/review?from=2026-09&to=2026-10');
    expect(res.status).toBe(200);
    const r = res.body;
    expect(r.months).toEqual(['2026-09', '2026-10']);
    expect(r.byRegistrantMonth.map((c) => [c.registrant, c.month, c.total, c.byStatus])).toEqual([
      ['李娜', '2026-09', 1, { pending: 1 }],
      ['李娜', '2026-10', 1, { pending: 1 }],
      ['王磊', '2026-09', 2, { protected: 1, rejected: 1 }],
    ]);
    expect(r.sla).toEqual([
      { month: '2026-09', received: 3, decidedInTime: 1, decidedLate: 1, undecided: 1, overdue: 1 },
      { month: '2026-10', received: 1, decidedInTime: 0, decidedLate: 0, undecided: 1, overdue: 0 },
    ]);
    expect(r.overdue).toEqual(
      [
        {
          registrationNo: late,
          registrant: '王磊',
          receivedOn: '2026-09-28',
          dueBy: due,
          decidedOn: '2026-10-14',
        },
        { registrationNo: waiting, registrant: '李娜', receivedOn: '2026-09-28', dueBy: due },
      ].sort((a, b) => a.registrationNo.localeCompare(b.registrationNo)),
    );
    expect(r.overdue.map((o) => o.registrationNo)).not.toContain(october);
    // Only September: October's registration is not counted.
    const sept = await svc.api(reviewer).get<ReviewReport>('/api/reports/review?from=2026-09&to=2026-09');
    expect(sept.body.sla.map((s) => s.received)).toEqual([3]);
  });

  it('lists protections ending within 20 days', async () => {
    svc.setNow(at('2026-09-28'));
    const no = await register(wang, enterpriseRow(5));
    await act(reviewer, no, 'review', { decision: 'approve', reason: '资料齐全' }); // until 2026-12-27
    svc.setNow(at('2026-12-10'));
    const r = (await svc.api(reviewer).get<ReviewReport>('/api/reports/review')).body;
    expect(r.expiringSoon).toEqual([
      { registrationNo: no, registrant: '王磊', protectedUntil: '2026-12-27' },
    ]);
    expect(r.months).toEqual(['2026-12']);
  });

  it('authorisation and validation: sales 403, another team sees nothing, bad ranges 400 naming the field', async () => {
    const no = await register(wang, enterpriseRow(6));
    expect(no).toBeTruthy();
    expect((await svc.api(wang).get<ErrorBody>('/api/reports/review')).status).toBe(403);
    const other = (
      await svc.api(otherReviewer).get<ReviewReport>('/api/reports/review?from=2026-09&to=2026-09')
    ).body;
    expect(other.byRegistrantMonth).toEqual([]);
    expect(other.sla).toEqual([
      { month: '2026-09', received: 0, decidedInTime: 0, decidedLate: 0, undecided: 0, overdue: 0 },
    ]);
    const admin = (
      await svc.api(svc.adminToken).get<ReviewReport>('/api/reports/review?from=2026-09&to=2026-09')
    ).body;
    expect(admin.sla[0]?.received).toBe(1);
    const reversed = await svc.api(reviewer).get<ErrorBody>('/api/reports/review?from=2026-10&to=2026-09');
    expect(reversed.status).toBe(400);
    expect(reversed.body.error.field).toBe('from');
    const tooLong = await svc.api(reviewer).get<ErrorBody>('/api/reports/review?from=2024-01&to=2026-09');
    expect(tooLong.status).toBe(400);
    expect((await svc.api(reviewer).get<ErrorBody>('/api/reports/review?from=2026-13')).status).toBe(400);
  });

  it('a `from` without `to` keeps the same limits against this month, the default of `to`', async () => {
    // Today is 2026-09-28: `from` alone reaches back at most 23 months, and never past this month.
    const longest = await svc.api(reviewer).get<ReviewReport>('/api/reports/review?from=2024-10');
    expect(longest.status).toBe(200);
    expect(longest.body.to).toBe('2026-09');
    expect(longest.body.sla).toHaveLength(24);
    const tooLong = await svc.api(reviewer).get<ErrorBody>('/api/reports/review?from=2024-09');
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.error).toMatchObject({ code: 'request.invalid', field: 'from' });
    expect(tooLong.body.error.messageEn).toContain('at most 24 months');
    const ancient = await svc.api(reviewer).get<ErrorBody>('/api/reports/review?from=1900-01');
    expect(ancient.status).toBe(400);
    const future = await svc.api(reviewer).get<ErrorBody>('/api/reports/review?from=2026-10');
    expect(future.status).toBe(400);
    expect(future.body.error).toMatchObject({ code: 'request.invalid', field: 'from' });
    expect(future.body.error.message).toContain('2026-09');
  });
});
