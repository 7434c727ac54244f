/**
 * History migration by an administrator (rows with registeredAt / approvedAt / status): claims are
 * judged as of their own day, so a claim made inside someone else's protection lost then (R21),
 * even if that protection has ended by today; the earliest claim holds (R17).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RowResult } from '../../core/schema.js';
import { protectionWindow } from '../../core/protection.js';
import { DEFAULT_POLICY } from '../../core/policy.js';
import { enterpriseRow } from '../support/customers.js';
import { startTestService, type TestService } from '../support/testService.js';

describe('history migration', () => {
  let service: TestService;
  beforeAll(async () => {
    service = await startTestService({ now: '2026-11-23T02:00:00.000Z' });
    for (const name of ['王磊', '李娜', '张伟']) await service.user(name, 'sales', '华东一部');
  });
  afterAll(async () => {
    await service.close();
  });

  it('[R21] a claim made inside an earlier protection is a conflict for review, even though that protection has ended', async () => {
    const admin = service.api(service.adminToken);
    const customer = 101;
    const res = await admin.post<{ results: RowResult[] }>('/api/registrations', {
      rows: [
        enterpriseRow(customer, {
          clientRowId: 'A',
          registrant: '王磊',
          registeredAt: '2026-01-10',
          status: 'protected',
        }),
        enterpriseRow(customer, {
          clientRowId: 'B',
          registrant: '李娜',
          registeredAt: '2026-03-01',
          status: 'protected',
        }),
        enterpriseRow(customer, {
          clientRowId: 'C',
          registrant: '张伟',
          registeredAt: '2026-06-01',
          status: 'protected',
        }),
      ],
    });
    expect(res.status).toBe(200);
    const [a, b, c] = res.body.results;
    // A: protected from its registration date for 3 months (R25), long over by 2026-11-23.
    const windowA = protectionWindow('2026-01-10', DEFAULT_POLICY.protection);
    expect(a).toMatchObject({ clientRowId: 'A', status: 'expired', protectedUntil: windowA.until });
    // B claimed on 2026-03-01, inside A's window (through 2026-04-09): it lost then, and is kept for review.
    expect(b?.status).toBe('conflict');
    expect(b?.conflicts.map((x) => x.registrationNo)).toContain(a?.registrationNo);
    // C claimed after A's window ended: a fresh registration of its own, ended by now too.
    const windowC = protectionWindow('2026-06-01', DEFAULT_POLICY.protection);
    expect(c).toMatchObject({ clientRowId: 'C', status: 'expired', protectedUntil: windowC.until });
  });
});
