/**
 * Two service instances on one PostgreSQL schema, both running the outbox worker every 50 ms
 * (issue 10): each entry is claimed by exactly one of them (FOR UPDATE SKIP LOCKED under the
 * lease), so the receiver sees every dedupe key once — no message sent by both.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RowResult } from '../../core/schema.js';
import { startRobotReceivers, type FakeRobot, type RobotReceivers } from '../fakes/robotReceivers.js';
import { enterpriseRow } from '../support/customers.js';
import { startTestService, type TestService } from '../support/testService.js';
import { dropSchema, TEST_DATABASE_URL as DATABASE_URL } from '../support/postgresSchema.js';

const schema = `outbox_${randomBytes(6).toString('hex')}`;
// Instances of one deployment share the data key.
const key = randomBytes(32).toString('hex');
const ENV = {
  BAOBEI_STORE: 'postgres',
  DATABASE_URL,
  BAOBEI_PG_SCHEMA: schema,
  BAOBEI_OUTBOX_POLL_MS: '50',
  BAOBEI_OUTBOX_RETRY_MS: '10',
};

let receivers: RobotReceivers;
let robot: FakeRobot;
let first: TestService;
let second: TestService;

beforeAll(async () => {
  receivers = await startRobotReceivers();
  // Feishu allows 100 a minute and 5 a second per bot: enough for 12 messages without a summary.
  robot = receivers.feishu({ secret: 'feishu-instances-secret' });
  first = await startTestService({ env: ENV, key });
  // The admin token is written by the instance that created the schema; the other reads the same users.
  const secondDir = await mkdtemp(path.join(os.tmpdir(), 'baobei-outbox-second-'));
  await writeFile(path.join(secondDir, 'admin.token'), first.adminToken);
  second = await startTestService({ env: ENV, key, dataDir: secondDir });
});

afterAll(async () => {
  await first?.close();
  await second?.close();
  await receivers?.close();
  await dropSchema(DATABASE_URL, schema);
});

it('sends each entry once when two instances deliver the same outbox', async () => {
  const wang = await first.user('王磊', 'sales', '华东一部');
  const reviewer = await first.user('张敏', 'reviewer', '华东一部');
  const admin = first.api(first.adminToken);
  expect(
    (
      await admin.put('/api/notify/robots/east-1', {
        kind: 'feishu',
        webhookUrl: robot.webhookUrl,
        secret: robot.secret,
        team: '华东一部',
        name: '华东一部群',
      })
    ).status,
  ).toBe(200);
  expect((await admin.put('/api/notify/defaults', { robot: { decision: 'immediate' } })).status).toBe(200);

  const registered = await first.api(wang).post<{ results: RowResult[] }>('/api/registrations', {
    rows: Array.from({ length: 12 }, (_, i) => enterpriseRow(800 + i)),
  });
  expect(registered.status).toBe(200);
  const numbers = registered.body.results.map((r) => r.registrationNo ?? '');
  // Decisions made on both instances, interleaved, while both workers poll.
  await Promise.all(
    numbers.map((no, i) =>
      (i % 2 === 0 ? first : second)
        .api(reviewer)
        .post(`/api/registrations/${no}/review`, { decision: 'approve', reason: '资料齐全' }),
    ),
  );
  const end = Date.now() + 30_000;
  let sent = 0;
  while (Date.now() < end) {
    const page = await admin.get<{ counts: Record<string, number>; total: number }>('/api/outbox');
    sent = page.body.counts['sent'] ?? 0;
    if (sent === 12 && page.body.total === 12) break;
    // The services' clocks stand still unless moved; the per-robot limiter (5 a second, 100 a
    // minute for Feishu) schedules what is over the limit for later service time.
    const later = new Date(first.now().getTime() + 2_000);
    first.setNow(later);
    second.setNow(later);
    await new Promise((r) => setTimeout(r, 100));
  }
  expect(sent).toBe(12);
  // Let any second sender that would have raced show up before counting.
  await new Promise((r) => setTimeout(r, 300));
  const counts = [...receivers.deliveredKeys().values()];
  expect(counts).toHaveLength(12);
  expect(counts.every((c) => c === 1)).toBe(true);
  expect(robot.requests()).toHaveLength(12);
}, 60_000);
