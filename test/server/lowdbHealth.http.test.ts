/**
 * The embedded store says when it has grown past what it should carry (BAOBEI_LOWDB_WARN_RECORDS):
 * in /api/health and in the start-up log, pointing to PostgreSQL, with figures and no personal data.
 */
import { rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/config.js';
import { enterpriseRow } from '../support/customers.js';
import { startTestService, type TestService } from '../support/testService.js';

interface Health {
  ok: boolean;
  warnings?: { code: string; message: string; messageEn: string; details?: Record<string, unknown> }[];
}

const services: TestService[] = [];
afterEach(async () => {
  for (const s of services.splice(0)) await s.close();
});

const storeWarnings = async (svc: TestService) =>
  ((await svc.api('').get<Health>('/api/health')).body.warnings ?? []).filter((w) =>
    w.code.startsWith('store.'),
  );

describe('the embedded store size warning', () => {
  it('appears in /api/health once the store reaches BAOBEI_LOWDB_WARN_RECORDS, and in the start-up log', async () => {
    const env = { BAOBEI_LOWDB_WARN_RECORDS: '3' };
    const key = randomBytes(32).toString('hex');
    const first = await startTestService({ env, now: '2026-06-01T02:00:00Z', keepData: true, key });
    services.push(first);
    const token = await first.user('sales1', 'sales');
    expect(await storeWarnings(first)).toEqual([]);
    const res = await first
      .api(token)
      .post('/api/registrations', { rows: [1, 2, 3].map((n) => enterpriseRow(n)) });
    expect(res.status).toBe(200);
    const [warning] = await storeWarnings(first);
    expect(warning).toMatchObject({ code: 'store.lowdb_too_large', details: { records: 3, warnRecords: 3 } });
    expect(warning?.messageEn).toContain('PostgreSQL');
    expect(warning?.message).toContain('PostgreSQL');
    expect(first.logText()).not.toContain('store.lowdb_too_large');
    const dataDir = first.dataDir;
    await services.pop()!.close();

    const second = await startTestService({ env, now: '2026-06-01T03:00:00Z', dataDir, key });
    services.push(second);
    expect(second.logText()).toContain('store.lowdb_too_large');
    expect(second.logText()).not.toContain(enterpriseRow(1).customerName as string);
    await rm(dataDir, { recursive: true, force: true }).catch(() => undefined);
  });

  it('is off with BAOBEI_LOWDB_WARN_RECORDS=0, and a bad value stops the start naming the variable', async () => {
    const svc = await startTestService({ env: { BAOBEI_LOWDB_WARN_RECORDS: '0' } });
    services.push(svc);
    const token = await svc.user('sales1', 'sales');
    await svc.api(token).post('/api/registrations', { rows: [enterpriseRow(1)] });
    expect(await storeWarnings(svc)).toEqual([]);
    expect(() => loadConfig({ BAOBEI_LOWDB_WARN_RECORDS: 'lots' })).toThrow(/BAOBEI_LOWDB_WARN_RECORDS/);
    // Unset, it warns well before 1M, where the store takes minutes to open (docs/operations.md).
    expect(loadConfig({}).lowdbWarnRecords).toBe(200_000);
  });
});
