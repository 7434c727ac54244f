/**
 * Two service processes on one PostgreSQL schema (issue 12): the 40-concurrent-claims case of
 * concurrency.http.test.ts spread over both — one customer is still granted once, though
 * registrations of different customers no longer wait for each other — and an Idempotency-Key
 * sent to both at once registers its rows once. The schema is BAOBEI_PG_SCHEMA's: the rows are
 * looked for there.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RowResult } from '../../core/schema.js';
import type { RecordView } from '../../server/services/recordView.js';
import { spawnService, type ChildService } from '../support/childService.js';
import { expectOneWinner, raceRow } from '../support/claimRace.js';
import { enterpriseRow } from '../support/customers.js';
import { apiClient, type Api } from '../support/testService.js';
import { dropSchema, TEST_DATABASE_URL as DATABASE_URL, uniqueSchema } from '../support/postgresSchema.js';

const admin = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
const schema = uniqueSchema('instances');
const key = randomBytes(32).toString('hex');
const ENV = { BAOBEI_STORE: 'postgres', DATABASE_URL, BAOBEI_PG_SCHEMA: schema };

interface Results {
  results: RowResult[];
}

const dirs: string[] = [];
let first: ChildService;
let second: ChildService;
let adminToken: string;

beforeAll(async () => {
  const dirA = await mkdtemp(path.join(os.tmpdir(), 'baobei-instance-a-'));
  const dirB = await mkdtemp(path.join(os.tmpdir(), 'baobei-instance-b-'));
  dirs.push(dirA, dirB);
  first = await spawnService({ dataDir: dirA, key, env: ENV });
  // The admin token is written by the instance that created the schema; the other shares its users.
  adminToken = (await readFile(path.join(dirA, 'admin.token'), 'utf8')).trim();
  second = await spawnService({ dataDir: dirB, key, env: ENV });
}, 60_000);

afterAll(async () => {
  await first?.kill('SIGTERM');
  await second?.kill('SIGTERM');
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  await dropSchema(DATABASE_URL, schema);
  await admin.end();
});

async function user(name: string): Promise<string> {
  const res = await apiClient(first.url, adminToken).post<{ token: string }>('/api/users', {
    name,
    role: 'sales',
    team: '华东一部',
  });
  if (res.status !== 201) throw new Error(`user ${name}: ${res.status}`);
  return res.body.token;
}

/** Alternates between the two processes. */
function on(i: number, token: string): Api {
  return apiClient((i % 2 === 0 ? first : second).url, token);
}

describe('two service processes on one PostgreSQL schema', () => {
  it(
    '[R17][R21] 40 registrants, one customer, half on each process: exactly one pending, 39 conflicts behind it',
    { timeout: 120_000 },
    async () => {
      const tokens = await Promise.all(
        Array.from({ length: 40 }, (_, i) => user(`销售${String(i + 1).padStart(2, '0')}`)),
      );
      const results = await Promise.all(
        tokens.map(async (token, i) => {
          const res = await on(i, token).post<Results>('/api/registrations', { rows: [raceRow(i)] });
          expect(res.status).toBe(200);
          return res.body.results[0]!;
        }),
      );
      const winner = expectOneWinner(results, /^BB-\d{4}-\d{6}$/);
      // Both processes see the same 40, one pending; and they are in BAOBEI_PG_SCHEMA.
      for (const service of [first, second]) {
        const list = await apiClient(service.url, adminToken).get<{ items: RecordView[]; total: number }>(
          '/api/registrations?limit=100',
        );
        expect(list.body.total).toBe(40);
        expect(list.body.items.filter((r) => r.status === 'pending').map((r) => r.no)).toEqual([winner]);
      }
      const stored = await admin.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${schema}".records`);
      expect(stored.rows[0]?.n).toBe(40);
    },
  );

  it(
    'an Idempotency-Key sent to both processes at once registers its rows once; the other answer is in flight or the replay',
    { timeout: 120_000 },
    async () => {
      const token = await user('王磊');
      const body = { rows: Array.from({ length: 300 }, (_, i) => enterpriseRow(5_000 + i)) };
      const headers = { 'Idempotency-Key': 'both-instances-1' };
      const answers = await Promise.all(
        [first, second].map((service) =>
          apiClient(service.url, token).post<Results & { error?: { code: string } }>(
            '/api/registrations',
            body,
            headers,
          ),
        ),
      );
      const granted = answers.filter((a) => a.status === 200);
      expect(granted.length).toBeGreaterThanOrEqual(1);
      for (const refused of answers.filter((a) => a.status !== 200)) {
        expect(refused.status).toBe(409);
        expect(refused.body.error?.code).toBe('idempotency.in_flight');
      }
      for (const answer of granted) {
        expect(answer.body.results.map((r) => r.status)).toEqual(body.rows.map(() => 'pending'));
        expect(answer.body.results).toEqual(granted[0]!.body.results);
      }
      // Retried on the other process: the replay, nothing registered again.
      const retry = await apiClient(second.url, token).post<Results>('/api/registrations', body, headers);
      expect(retry.status).toBe(200);
      expect(retry.headers.get('Idempotent-Replayed')).toBe('true');
      expect(retry.body.results).toEqual(granted[0]!.body.results);
      const mine = await admin.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM "${schema}".records WHERE registrant = '王磊'`,
      );
      expect(mine.rows[0]?.n).toBe(300);
    },
  );

  it(
    '[R45] one registrant, 30 customers at once over both processes, a cap of 5: exactly 5 held, 25 refused at the cap',
    { timeout: 120_000 },
    async () => {
      const token = await user('赵强');
      const set = await apiClient(first.url, adminToken).put('/api/policy', { maxActivePerRegistrant: 5 });
      expect(set.status).toBe(200);
      try {
        const results = await Promise.all(
          Array.from({ length: 30 }, async (_, i) => {
            const res = await on(i, token).post<Results>('/api/registrations', {
              rows: [enterpriseRow(9_000 + i)],
            });
            expect(res.status).toBe(200);
            return res.body.results[0]!;
          }),
        );
        expect(results.filter((r) => r.status === 'pending')).toHaveLength(5);
        const refused = results.filter((r) => r.status === 'rejected');
        expect(refused).toHaveLength(25);
        for (const r of refused) expect(r.errors.map((e) => e.code)).toContain('registration.cap');
      } finally {
        await apiClient(first.url, adminToken).put('/api/policy', { maxActivePerRegistrant: null });
      }
    },
  );
});
