/**
 * If-Match on actions (issue 9: "a retry never files an action twice"): an action sent with the
 * ETag the client last saw is applied once; the same request repeated — a retry after a lost
 * answer — gets 412 with the record as it is now, and nothing is filed again. Without If-Match
 * actions behave as before.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RowResult } from '../../core/schema.js';
import type { RecordView } from '../../server/services/recordView.js';
import { enterpriseRow } from '../support/customers.js';
import { startTestService, type ErrorBody, type TestService } from '../support/testService.js';

let svc: TestService;
let wang = '';
let zhang = '';

beforeAll(async () => {
  svc = await startTestService({ now: '2026-03-02T02:00:00Z' });
  wang = await svc.user('王磊', 'sales', '华东一部');
  zhang = await svc.user('张敏', 'reviewer', '华东一部');
});

afterAll(async () => {
  await svc.close();
});

async function registered(n: number): Promise<RecordView> {
  const res = await svc
    .api(wang)
    .post<{ results: RowResult[] }>('/api/registrations', { rows: [enterpriseRow(n)] });
  const no = res.body.results[0]!.registrationNo!;
  return (await svc.api(wang).get<RecordView>(`/api/registrations/${no}`)).body;
}

describe('If-Match on actions', () => {
  it('a follow-up retried with the same ETag is filed once; the retry gets 412 with the current record', async () => {
    const record = await registered(1);
    const send = () =>
      svc
        .api(wang)
        .post<RecordView & ErrorBody>(
          `/api/registrations/${record.no}/follow-ups`,
          { way: '电话', note: '电话沟通，客户有意向' },
          { 'If-Match': record.etag },
        );
    const first = await send();
    expect(first.status).toBe(201);
    expect(first.body.followUps).toHaveLength(1);
    const retry = await send();
    expect(retry.status).toBe(412);
    expect(retry.body.error.code).toBe('registration.version_mismatch');
    expect(retry.body.error.messageEn).toContain('refresh');
    expect(retry.headers.get('etag')).toBe(first.body.etag);
    const now = await svc.api(wang).get<RecordView>(`/api/registrations/${record.no}`);
    expect(now.body.followUps).toHaveLength(1);
  });

  it('a review sent with a stale ETag is refused and the record stays pending', async () => {
    const record = await registered(2);
    await svc.api(wang).post(`/api/registrations/${record.no}/follow-ups`, { way: '上门', note: '上门拜访' });
    const stale = await svc
      .api(zhang)
      .post<ErrorBody>(
        `/api/registrations/${record.no}/review`,
        { decision: 'approve', reason: '资料齐全' },
        { 'If-Match': record.etag },
      );
    expect(stale.status).toBe(412);
    expect((await svc.api(zhang).get<RecordView>(`/api/registrations/${record.no}`)).body.status).toBe(
      'pending',
    );
  });

  it('a malformed If-Match is 400 naming the header; without one the action goes through', async () => {
    const record = await registered(3);
    const bad = await svc
      .api(wang)
      .post<ErrorBody>(
        `/api/registrations/${record.no}/close`,
        { outcome: 'withdrawn', note: 'x' },
        { 'If-Match': 'W/"x"' },
      );
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe('If-Match');
    const plain = await svc.api(wang).post<RecordView>(`/api/registrations/${record.no}/close`, {
      outcome: 'withdrawn',
      note: '客户无意向',
    });
    expect(plain.status).toBe(200);
    expect(plain.body.status).toBe('terminated');
  });
});
