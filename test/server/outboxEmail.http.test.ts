/**
 * Issue 10: a decision yields outbox entries for the people it concerns and none for the person
 * who made it — over real HTTP against the real service (no SMTP needed to enqueue).
 * Only a first slice of what the issue asks for; see docs/notifications.md.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { RowResult } from '../../core/schema.js';
import { enterpriseRow } from '../support/customers.js';
import { startTestService, type TestService } from '../support/testService.js';

interface OutboxItem {
  channel: string;
  to: { kind: string; userId?: string; name?: string };
  event: { type: string; recordNo: string };
}

let svc: TestService;
beforeEach(async () => {
  svc = await startTestService();
});
afterEach(async () => {
  await svc.close();
});

it('an approval enqueues an email to the registrant and nothing to the reviewer who approved', async () => {
  const sales = await svc.user('王磊', 'sales', '华东一部');
  const reviewer = await svc.user('张敏', 'reviewer', '华东一部');
  const admin = svc.api(svc.adminToken);
  const ids = new Map<string, string>();
  for (const token of [sales, reviewer]) {
    const me = await svc.api(token).get<{ id: string; name: string }>('/api/me');
    ids.set(me.body.name, me.body.id);
    const put = await admin.put(`/api/users/${me.body.id}/contact`, { email: `${me.body.id}@example.com` });
    expect(put.status).toBe(200);
  }
  const reg = await svc
    .api(sales)
    .post<{ results: RowResult[] }>('/api/registrations', { rows: [enterpriseRow(1)] });
  expect(reg.status).toBe(200);
  const no = reg.body.results[0]?.registrationNo;
  expect(no).toBeDefined();
  const review = await svc
    .api(reviewer)
    .post(`/api/registrations/${no}/review`, { decision: 'approve', reason: '资料齐全' });
  expect(review.status).toBe(200);
  const outbox = await admin.get<{ items: OutboxItem[] }>('/api/outbox?channel=email&limit=1000');
  expect(outbox.status).toBe(200);
  const aboutIt = outbox.body.items.filter((i) => i.event.recordNo === no);
  const toSales = aboutIt.filter((i) => i.to.userId === ids.get('王磊'));
  expect(toSales.map((i) => i.event.type)).toContain('decision');
  // Never told about one's own action.
  expect(aboutIt.filter((i) => i.to.userId === ids.get('张敏') && i.event.type === 'decision')).toEqual([]);
  // The admin view carries no address.
  expect(JSON.stringify(outbox.body)).not.toContain('@example.com');
});
