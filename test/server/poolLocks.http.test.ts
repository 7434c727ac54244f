/**
 * Claims of pooled customers (R44) on PostgreSQL, over real HTTP: batches that claim the same pooled
 * customers in crossing orders, with rows that share no lock key (one names a customer by its credit
 * code under a new name, one by its old name and an address, one by its phone and contact person),
 * run side by side and meet only on the pool entries. Each must answer 200, each entry be claimed
 * once. Holding the entries row by row, some batches deadlocked past the store's retries (500).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RowResult, SubmissionRow } from '../../core/schema.js';
import type { NotificationView } from '../../server/services/notificationService.js';
import { companyNameFor, enterpriseRow, phoneFor } from '../support/customers.js';
import { startTestService, type ErrorBody, type TestService } from '../support/testService.js';
import { dropSchema, TEST_DATABASE_URL as DATABASE_URL } from '../support/postgresSchema.js';
import { at } from '../support/shanghaiTime.js';

const admin = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
afterAll(async () => {
  await admin.end();
});

let svc: TestService;
let schema: string;

beforeEach(async () => {
  schema = `pool_locks_${randomBytes(6).toString('hex')}`;
  svc = await startTestService({
    now: at('2026-03-02', '09:00'),
    env: { BAOBEI_STORE: 'postgres', DATABASE_URL, BAOBEI_PG_SCHEMA: schema },
  });
});

afterEach(async () => {
  await svc.close();
  await dropSchema(DATABASE_URL, schema);
});

/** Customers n registered by `holder`, approved, then lapsed into the pool by the sweep (R31). */
async function pool(holder: string, reviewer: string, ns: readonly number[]): Promise<Map<number, string>> {
  const res = await svc.api(svc.adminToken).put('/api/policy', { preset: 'follow-up' });
  expect(res.status).toBe(200);
  const nos = new Map<number, string>();
  const submitted = await svc.api(holder).post<{ results: RowResult[] }>('/api/registrations', {
    rows: ns.map((n) => enterpriseRow(n, { contactName: contactFor(n) })),
  });
  expect(submitted.status).toBe(200);
  for (const [i, n] of ns.entries()) {
    const no = submitted.body.results[i]!.registrationNo!;
    const review = await svc
      .api(reviewer)
      .post(`/api/registrations/${no}/review`, { decision: 'approve', reason: '资料齐全' });
    expect(review.status).toBe(200);
    nos.set(n, no);
  }
  svc.setNow(at('2026-04-20'));
  await svc.running.services.lifecycle.sweep();
  return nos;
}

/** The contact person of customer n, for rows that name it by its phone. */
function contactFor(n: number): string {
  return `联系人${n}`;
}

/** Customer n by its phone and contact person under another name: an exact match, no key shared. */
function byPhoneRow(n: number, variant: number): SubmissionRow {
  return {
    ...enterpriseRow(n, {
      customerName: `${companyNameFor(n)}（分号${variant}）`,
      contactName: contactFor(n),
    }),
    creditCode: undefined,
    address: `上海市徐汇区${variant}号`,
  };
}

/** Customer n by its credit code under a new name. */
function byCodeRow(n: number, variant: number): SubmissionRow {
  return enterpriseRow(n, {
    customerName: `${companyNameFor(n)}（新名${variant}）`,
    contactPhone: phoneFor(n + 1000 * variant),
  });
}

/** Customer n by its old name and an address, without a credit code. */
function byNameRow(n: number, variant: number): SubmissionRow {
  return {
    ...enterpriseRow(n, { contactPhone: phoneFor(n + 1000 * variant) }),
    creditCode: undefined,
    address: `上海市浦东新区${variant}号`,
  };
}

describe('pool claims on PostgreSQL', () => {
  it(
    '[R17][R44] batches claiming the same pooled customers in opposite orders all answer 200; each entry is claimed once',
    { timeout: 240_000 },
    async () => {
      const wang = await svc.user('王磊', 'sales', '华东一部');
      const reviewer = await svc.user('张敏', 'reviewer', '华东一部');
      const claimants = await Promise.all(
        ['李娜', '周杰', '吴昊', '赵倩', '孙磊', '钱芳'].map((name) => svc.user(name, 'sales', '华东一部')),
      );
      const rounds = 6;
      const perRound = 6;
      const ns = Array.from({ length: rounds * perRound }, (_, i) => 800 + i);
      const nos = await pool(wang, reviewer, ns);

      const failures: string[] = [];
      const fromPool = new Map<number, number>();
      for (let round = 0; round < rounds; round++) {
        const group = ns.slice(round * perRound, (round + 1) * perRound);
        // Two batches of each kind (code, name, phone), each starting at another customer, half of
        // them going backwards: batches of different kinds cross.
        const orders = claimants.map((_, i) => {
          const from = i % perRound;
          const turned = [...group.slice(from), ...group.slice(0, from)];
          return i % 2 === 0 ? turned : turned.reverse();
        });
        const answers = await Promise.all(
          orders.map((order, i) =>
            svc.api(claimants[i]!).post<{ results: RowResult[] } & ErrorBody>('/api/registrations', {
              rows: order.map((n) => [byCodeRow, byNameRow, byPhoneRow][i % 3]!(n, i + 1)),
            }),
          ),
        );
        for (const [i, answer] of answers.entries()) {
          if (answer.status !== 200) {
            failures.push(`round ${round} batch ${i}: ${answer.status} ${answer.body.error?.code}`);
            continue;
          }
          for (const [j, result] of answer.body.results.entries()) {
            if (!result.warnings.some((w) => w.code === 'pool.available')) continue;
            const n = orders[i]![j]!;
            fromPool.set(n, (fromPool.get(n) ?? 0) + 1);
          }
        }
      }
      expect(failures).toEqual([]);
      // R17: the first claim of each customer takes its entry; the others register after it.
      expect(ns.filter((n) => fromPool.get(n) !== 1)).toEqual([]);
      const told = (
        await svc.api(wang).get<{ items: NotificationView[] }>('/api/notifications?limit=500')
      ).body.items.filter((x) => x.type === 'pool.claimed');
      for (const no of nos.values())
        expect(
          told.filter((x) => x.recordNo === no),
          no,
        ).toHaveLength(1);
    },
  );
});

describe('a write that keeps losing to a deadlock', () => {
  it(
    'answers 503 store.busy (zh+en, Retry-After) once the retries are spent, not 500; nothing is saved and the same request succeeds later',
    { timeout: 120_000 },
    async () => {
      const wang = await svc.user('王磊', 'sales', '华东一部');
      const reviewer = await svc.user('张敏', 'reviewer', '华东一部');
      const li = await svc.user('李娜', 'sales', '华东一部');
      const nos = await pool(wang, reviewer, [900, 901]);
      const [first, second] = [nos.get(900)!, nos.get(901)!];
      // Another session stands for a writer that takes the entries in the other order: it holds the
      // second, and each time the write waits for it, asks for the first. The write, which waited
      // first, is the one PostgreSQL ends; the session's own deadlock check is put off.
      const other = new pg.Client({ connectionString: DATABASE_URL });
      await other.connect();
      try {
        const otherPid = (await other.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
        const hold = `SELECT key FROM "${schema}".docs WHERE collection = 'pool' AND key = $1 FOR UPDATE`;
        await other.query(`BEGIN; SET LOCAL deadlock_timeout = '60s'`);
        await other.query(hold, [second]);
        let answered = false;
        const answer = svc
          .api(li)
          .post<{ results: RowResult[] } & ErrorBody>('/api/registrations', {
            rows: [byCodeRow(900, 1), byCodeRow(901, 1)],
          })
          .finally(() => {
            answered = true;
          });
        let crossings = 0;
        while (!answered) {
          const waiting = await admin.query<{ n: number }>(
            'SELECT count(*)::int AS n FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))',
            [otherPid],
          );
          if (waiting.rows[0]!.n === 0) {
            await new Promise((r) => setTimeout(r, 20));
            continue;
          }
          // Asked in a savepoint, so that the first entry is let go again once it is had.
          await other.query('SAVEPOINT crossing');
          await other.query(hold, [first]);
          await other.query('ROLLBACK TO SAVEPOINT crossing');
          crossings++;
        }
        const res = await answer;
        expect(crossings).toBeGreaterThanOrEqual(2);
        expect(res.status, JSON.stringify(res.body)).toBe(503);
        expect(res.headers.get('retry-after')).toBe('1');
        expect(res.body.error).toMatchObject({
          code: 'store.busy',
          message: expect.stringMatching(/[\u4e00-\u9fff]/),
          messageEn: expect.stringMatching(/try again/i),
        });
      } finally {
        await other.query('ROLLBACK');
        await other.end();
      }
      // Nothing of the failed write was kept: retried now, both rows claim their customers.
      const again = await svc.api(li).post<{ results: RowResult[] }>('/api/registrations', {
        rows: [byCodeRow(900, 1), byCodeRow(901, 1)],
      });
      expect(again.status).toBe(200);
      for (const result of again.body.results) {
        expect(result.warnings.map((w) => w.code)).toContain('pool.available');
      }
    },
  );
});
