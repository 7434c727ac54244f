/**
 * A crash while the outbox is delivering (issue 10): the service process is SIGKILLed while a robot
 * message is on the wire (the receiver holds it unanswered) and two more wait behind it. After a
 * restart on the same data dir the lease runs out, all three go, and from the receiver's point of view every
 * entry arrived exactly once (by its dedupe key): nothing lost, nothing that had been sent resent.
 *
 * What is and is not promised (docs/notifications.md): delivery is at-least-once with a stable
 * dedupe key per entry. A message the provider accepted in the instant before the kill, with the
 * answer lost, goes again under the same key; DingTalk, WeCom and Feishu do not deduplicate, so the
 * group could see it twice — only that window, never a resend of what was recorded as sent.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RowResult } from '../../core/schema.js';
import { startRobotReceivers, type FakeRobot, type RobotReceivers } from '../fakes/robotReceivers.js';
import { spawnService, type ChildService } from '../support/childService.js';
import { enterpriseRow } from '../support/customers.js';
import { apiClient, type Api } from '../support/testService.js';

interface OutboxPage {
  items: { key: string; status: string }[];
  counts: Record<string, number>;
}

const ENV = { BAOBEI_OUTBOX_POLL_MS: '50', BAOBEI_OUTBOX_LEASE_SECONDS: '1', BAOBEI_OUTBOX_RETRY_MS: '10' };

let receivers: RobotReceivers;
let robot: FakeRobot;
let dataDir: string;
let key: string;
let child: ChildService | undefined;

async function until(what: string, check: () => Promise<boolean> | boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

beforeAll(async () => {
  receivers = await startRobotReceivers();
  robot = receivers.dingtalk({ secret: 'SECcrashTest0123' });
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'baobei-outbox-crash-'));
  key = randomBytes(32).toString('hex');
});

afterAll(async () => {
  if (child) await child.kill('SIGTERM');
  await receivers?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

it('after a SIGKILL mid-delivery, every entry reaches the receiver exactly once by its dedupe key', async () => {
  child = await spawnService({ dataDir, key, env: ENV });
  const adminToken = (await readFile(path.join(dataDir, 'admin.token'), 'utf8')).trim();
  let admin: Api = apiClient(child.url, adminToken);
  const tokenOf = async (name: string, role: 'sales' | 'reviewer') => {
    const res = await admin.post<{ token: string }>('/api/users', { name, role, team: '华东一部' });
    expect(res.status).toBe(201);
    return res.body.token;
  };
  const wangToken = await tokenOf('王磊', 'sales');
  const reviewerToken = await tokenOf('张敏', 'reviewer');
  const robotPut = await admin.put('/api/notify/robots/east-1', {
    kind: 'dingtalk',
    webhookUrl: robot.webhookUrl,
    secret: robot.secret,
    team: '华东一部',
    name: '华东一部群',
  });
  expect(robotPut.status).toBe(200);
  expect((await admin.put('/api/notify/defaults', { robot: { decision: 'immediate' } })).status).toBe(200);

  const wang = apiClient(child.url, wangToken);
  const registered = await wang.post<{ results: RowResult[] }>('/api/registrations', {
    rows: [1, 2, 3, 4, 5, 6].map((n) => enterpriseRow(700 + n)),
  });
  expect(registered.status).toBe(200);
  const numbers = registered.body.results.map((r) => r.registrationNo ?? '');
  expect(numbers.every((n) => n !== '')).toBe(true);
  const approve = (url: string, no: string) =>
    apiClient(url, reviewerToken).post(`/api/registrations/${no}/review`, {
      decision: 'approve',
      reason: '资料齐全',
    });

  // Three decisions delivered and recorded as sent.
  for (const no of numbers.slice(0, 3)) expect((await approve(child.url, no)).status).toBe(200);
  await until('three deliveries', () => robot.delivered().length === 3);
  await until('three entries recorded as sent', async () => {
    const page = await admin.get<OutboxPage>('/api/outbox');
    return page.body.counts['sent'] === 3;
  });

  // Three more: the receiver holds the first unanswered; the process dies while it is in flight.
  robot.failNext(1, { kind: 'hang' });
  for (const no of numbers.slice(3)) expect((await approve(child.url, no)).status).toBe(200);
  // The worker posts to one robot in order: the first is held, the other two wait behind it.
  await until('a request on the wire', () => robot.requests().length === 4);
  const exit = await child.kill('SIGKILL');
  expect(exit.signal).toBe('SIGKILL');
  expect(robot.delivered()).toHaveLength(3);

  child = await spawnService({ dataDir, key, env: ENV });
  admin = apiClient(child.url, adminToken);
  await until(
    'the outbox to settle after the restart',
    async () => {
      const page = await admin.get<OutboxPage>('/api/outbox');
      return page.body.counts['sent'] === 6;
    },
    30_000,
  );
  const page = await admin.get<OutboxPage>('/api/outbox');
  expect(page.body.items).toHaveLength(6);
  expect(page.body.items.every((i) => i.status === 'sent')).toBe(true);
  expect(robot.delivered()).toHaveLength(6);
  const counts = [...receivers.deliveredKeys().values()];
  expect(counts).toHaveLength(6);
  expect(counts.every((c) => c === 1)).toBe(true);
}, 90_000);
