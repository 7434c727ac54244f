/**
 * Protection dates counted from the first visit (R29) over real HTTP: what auto-approval does with
 * a window already over (R21), and what a later change of the first visit does to a granted window.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ChangeResponse, RecordView } from '../../core/responses.js';
import type { RowResult } from '../../core/schema.js';
import { enterpriseRow } from '../support/customers.js';
import { startTestService, type ErrorBody, type TestService } from '../support/testService.js';
import { at } from '../support/shanghaiTime.js';

/** Monday 2026-11-23, 10:00 in Shanghai. */
const MONDAY = '2026-11-23T02:00:00.000Z';

let svc: TestService;
let wang: string;
let reviewer: string;

beforeEach(async () => {
  svc = await startTestService({ now: MONDAY });
  wang = await svc.user('王磊', 'sales', '华东一部');
  reviewer = await svc.user('张敏', 'reviewer', '华东一部');
});

afterEach(async () => {
  await svc.close();
});

async function register(row: unknown): Promise<RowResult> {
  const res = await svc.api(wang).post<{ results: RowResult[] }>('/api/registrations', { rows: [row] });
  expect(res.status).toBe(200);
  return res.body.results[0]!;
}

async function read(token: string, no: string): Promise<RecordView> {
  const res = await svc.api(token).get<RecordView>(`/api/registrations/${no}`);
  expect(res.status).toBe(200);
  return res.body;
}

describe('[R29][R21] auto-approval under the channel preset', () => {
  beforeEach(async () => {
    const put = await svc.api(svc.adminToken).put('/api/policy', { preset: 'channel', autoApprove: true });
    expect(put.status).toBe(200);
  });

  it('a first visit whose month already ended is not auto-approved: pending for a reviewer, saying why', async () => {
    // First visit 2026-09-20: one month, 2026-09-20 … 2026-10-19, over before today (2026-11-23).
    const result = await register({ ...enterpriseRow(1), firstVisitAt: '2026-09-20' });
    expect(result.status).toBe('pending');
    expect(result).not.toHaveProperty('protectedUntil');
    expect(result.reviewDueBy).toBeDefined();
    const why = result.warnings.find((w) => w.code === 'registration.protection_over');
    expect(why).toMatchObject({ field: 'firstVisitAt' });
    expect(why?.message).toContain('2026-10-19');
    expect(why?.messageEn).toContain('2026-10-19');
    const record = await read(wang, result.registrationNo!);
    expect(record).toMatchObject({ status: 'pending' });
    expect(record.approvedAt).toBeUndefined();
    expect(record.protectedUntil).toBeUndefined();
    // The reviewer is told the same window if they try to approve it (and may reject it).
    const approve = await svc
      .api(reviewer)
      .post<ErrorBody>(`/api/registrations/${result.registrationNo!}/review`, {
        decision: 'approve',
        reason: '同意',
      });
    expect(approve.status).toBe(422);
    expect(approve.body.error.code).toBe('review.protection_over');
  });

  it('a first visit whose month still runs is protected at once through its last day', async () => {
    // First visit 2026-11-01: 2026-11-01 … 2026-11-30, still running today.
    const result = await register({ ...enterpriseRow(2), firstVisitAt: '2026-11-01' });
    expect(result).toMatchObject({
      status: 'protected',
      protectedFrom: '2026-11-01',
      protectedUntil: '2026-11-30',
    });
    expect(result.warnings.map((w) => w.code)).not.toContain('registration.protection_over');
  });

  it('a first visit further ahead than a month is not auto-approved: pending, saying why; a reviewer may still approve it', async () => {
    // A month from today runs to 2026-12-22; a visit on 2027-05-10 would hold the customer until 2027-06-09.
    const result = await register({ ...enterpriseRow(4), firstVisitAt: '2027-05-10' });
    expect(result.status).toBe('pending');
    const why = result.warnings.find((w) => w.code === 'registration.visit_far_ahead');
    expect(why).toMatchObject({ field: 'firstVisitAt' });
    expect(why?.message).toContain('2026-12-22');
    expect(why?.messageEn).toContain('2027-06-09');
    const approve = await svc
      .api(reviewer)
      .post<RecordView>(`/api/registrations/${result.registrationNo!}/review`, {
        decision: 'approve',
        reason: '已确认到访安排',
      });
    expect(approve.status).toBe(200);
    expect(await read(wang, result.registrationNo!)).toMatchObject({
      status: 'protected',
      protectedFrom: '2027-05-10',
      protectedUntil: '2027-06-09',
    });
  });

  it('the check (POST /api/check) says the same before anything is saved', async () => {
    const res = await svc.api(wang).post<{ results: RowResult[] }>('/api/check', {
      rows: [{ ...enterpriseRow(3), firstVisitAt: '2026-09-20' }],
    });
    expect(res.body.results[0]?.status).toBe('pending');
    expect(res.body.results[0]?.warnings.map((w) => w.code)).toContain('registration.protection_over');
  });
});

describe('[R29] changing the first visit of a filed registration', () => {
  beforeEach(async () => {
    expect((await svc.api(svc.adminToken).put('/api/policy', { preset: 'channel' })).status).toBe(200);
  });

  async function change(token: string, no: string, firstVisitAt: string) {
    const { etag } = await read(token, no);
    return svc
      .api(token)
      .patch<ChangeResponse & ErrorBody>(
        `/api/registrations/${no}`,
        { changes: { firstVisitAt }, reason: '更正到访时间' },
        { 'If-Match': etag },
      );
  }

  async function approved(firstVisitAt: string, n: number): Promise<string> {
    const { registrationNo: no } = await register({ ...enterpriseRow(n), firstVisitAt });
    const res = await svc
      .api(reviewer)
      .post(`/api/registrations/${no!}/review`, { decision: 'approve', reason: '同意' });
    expect(res.status).toBe(200);
    return no!;
  }

  it('on a pending registration the corrected first visit is what approval counts from', async () => {
    const { registrationNo: no } = await register({ ...enterpriseRow(10), firstVisitAt: '2026-11-10' });
    expect((await change(wang, no!, '2026-11-12')).status).toBe(200);
    await svc.api(reviewer).post(`/api/registrations/${no!}/review`, { decision: 'approve', reason: '同意' });
    expect(await read(wang, no!)).toMatchObject({
      status: 'protected',
      protectedFrom: '2026-11-12',
      protectedUntil: '2026-12-11',
    });
  });

  it('the holder cannot move the first visit of a granted protection (it would move the window): refused, dates kept', async () => {
    const no = await approved('2026-11-10', 11); // 2026-11-10 … 2026-12-09
    const later = await change(wang, no, '2026-11-20');
    expect(later.status).toBe(409);
    expect(later.body.error).toMatchObject({ code: 'change.protection_granted', field: 'firstVisitAt' });
    expect(later.body.error.message).toContain('2026-12-09');
    expect(later.body.error.messageEn).toContain('2026-12-09');
    expect(await read(wang, no)).toMatchObject({
      protectedFrom: '2026-11-10',
      protectedUntil: '2026-12-09',
      registration: { firstVisitAt: '2026-11-09T16:00:00.000Z' },
    });
  });

  it('[R8] the holder may correct the time of the first visit on its day: the window does not move', async () => {
    const no = await approved('2026-11-10', 13); // 2026-11-10 … 2026-12-09
    // The time of the visit matters on its own (R8: registered 30 minutes before it).
    const res = await change(wang, no, '2026-11-10 15:30');
    expect(res.status).toBe(200);
    expect(res.body.record).toMatchObject({
      status: 'protected',
      protectedFrom: '2026-11-10',
      protectedUntil: '2026-12-09',
      registration: { firstVisitAt: '2026-11-10T07:30:00.000Z' },
    });
  });

  it('a reviewer correcting the first visit of a granted protection moves the window with it', async () => {
    const no = await approved('2026-11-10', 12);
    const res = await change(reviewer, no, '2026-11-05');
    expect(res.status).toBe(200);
    expect(res.body.record).toMatchObject({
      status: 'protected',
      protectedFrom: '2026-11-05',
      protectedUntil: '2026-12-04',
    });
    const entry = res.body.record.history.at(-1);
    expect(entry?.details).toMatchObject({
      field: 'firstVisitAt',
      protectedFrom: '2026-11-05',
      protectedUntil: '2026-12-04',
    });
    // A visit corrected to more than a month ago ends the protection: the record reads expired.
    const over = await change(reviewer, no, '2026-10-01');
    expect(over.status).toBe(200);
    expect(over.body.record).toMatchObject({
      status: 'expired',
      protectedFrom: '2026-10-01',
      protectedUntil: '2026-10-31',
    });
  });
});

describe('[R4] registering within 3 working days of the first visit, across holidays and 调休', () => {
  async function lateOn(firstVisitAt: string, registeredOn: string, time = '10:00'): Promise<boolean> {
    svc.setNow(at(registeredOn, time));
    const result = await register({
      ...enterpriseRow(Number(registeredOn.replaceAll('-', '')) % 1000),
      firstVisitAt,
    });
    expect(result.status).toBe('pending');
    return result.warnings.some((w) => w.code === 'registration.late');
  }

  it('National Day 2026: visit Wed 09-30; 10-01…10-07 off, Thu 10-08, Fri 10-09, Sat 10-10 (调休) → last day 10-10', async () => {
    expect(await lateOn('2026-09-30', '2026-10-10', '23:59')).toBe(false);
    expect(await lateOn('2026-09-30', '2026-10-12', '00:01')).toBe(true);
  });

  it('Spring Festival 2026: visit Fri 02-13; Sat 02-14 (调休), 02-15…02-23 off, Tue 02-24, Wed 02-25 → last day 02-25', async () => {
    expect(await lateOn('2026-02-13', '2026-02-25')).toBe(false);
    expect(await lateOn('2026-02-13', '2026-02-26')).toBe(true);
  });
});

describe('[R4] a late flag counted over a year without an official schedule', () => {
  it('Spring Festival 2027 (no schedule entered): the flag names its last day and says it is a Monday–Friday estimate', async () => {
    // Visit Fri 2027-02-05; Monday–Friday: 02-08, 02-09, 02-10 → registered Thu 02-11 is late by the estimate.
    svc.setNow(at('2027-02-11'));
    const result = await register({ ...enterpriseRow(40), firstVisitAt: '2027-02-05' });
    const late = result.warnings.find((w) => w.code === 'registration.late');
    expect(late?.message).toContain('2027-02-10');
    expect(late?.message).toContain('按周一至周五估算');
    expect(late?.messageEn).toContain('2027-02-10');
    expect(late?.messageEn).toContain('estimated Monday–Friday');
    // 2026 has its schedule: the flag names the last day and is no estimate.
    svc.setNow(at('2026-10-12'));
    const known = await register({ ...enterpriseRow(41), firstVisitAt: '2026-09-30' });
    const flag = known.warnings.find((w) => w.code === 'registration.late');
    expect(flag?.message).toContain('2026-10-10');
    expect(flag?.message).not.toContain('估算');
    expect(flag?.messageEn).not.toContain('estimated');
  });
});

describe('[R28] asking for an extension at least 20 days before the last day', () => {
  it('counts calendar days, holidays included: last day 2026-10-31 → ask by 2026-10-11 (Shanghai day)', async () => {
    // Approved 2026-08-01 under the standard preset: 2026-08-01 … 2026-10-31.
    svc.setNow(at('2026-08-01'));
    const { registrationNo: no } = await register(enterpriseRow(30));
    const approve = await svc
      .api(reviewer)
      .post(`/api/registrations/${no!}/review`, { decision: 'approve', reason: '同意' });
    expect(approve.status).toBe(200);
    expect(await read(wang, no!)).toMatchObject({
      protectedFrom: '2026-08-01',
      protectedUntil: '2026-10-31',
    });
    // 2026-10-11 23:30 in Shanghai is still 2026-10-11 there (15:30 UTC), the last day to ask.
    svc.setNow(at('2026-10-12', '00:30'));
    const late = await svc
      .api(wang)
      .post<ErrorBody>(`/api/registrations/${no!}/extension`, { reason: '国庆后客户再议' });
    expect(late.status).toBe(422);
    expect(late.body.error.code).toBe('extension.too_late');
    expect(late.body.error.details).toMatchObject({ lastDay: '2026-10-11' });
    svc.setNow(at('2026-10-11', '23:30'));
    const inTime = await svc
      .api(wang)
      .post(`/api/registrations/${no!}/extension`, { reason: '国庆后客户再议' });
    expect(inTime.status).toBe(200);
  });
});
