/**
 * Protection dates counted from the first visit (R29) over real HTTP: what auto-approval does with
 * a window already over (R21), and what a later change of the first visit does to a granted window.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RecordView } from '../../core/responses.js';
import type { RowResult } from '../../core/schema.js';
import { enterpriseRow } from '../support/customers.js';
import { startTestService, type ErrorBody, type TestService } from '../support/testService.js';

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

  it('the check (POST /api/check) says the same before anything is saved', async () => {
    const res = await svc
      .api(wang)
      .post<{ results: RowResult[] }>('/api/check', {
        rows: [{ ...enterpriseRow(3), firstVisitAt: '2026-09-20' }],
      });
    expect(res.body.results[0]?.status).toBe('pending');
    expect(res.body.results[0]?.warnings.map((w) => w.code)).toContain('registration.protection_over');
  });
});
