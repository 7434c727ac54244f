/**
 * The notification outbox through the real service (issue 10): events of a real review reach the
 * team's robot (local receivers that check signatures and limits like DingTalk and Feishu do),
 * nobody is @mentioned for their own action, no customer personal data goes to a group, a
 * company-wide group gets no record numbers (R34), each (event, registration, recipient, channel)
 * is sent once, and neither a restart nor a repeated reminder scan sends anything again.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RowResult } from '../../core/schema.js';
import { startRobotReceivers, type FakeRobot, type RobotReceivers } from '../fakes/robotReceivers.js';
import { enterpriseRow } from '../support/customers.js';
import { startTestService, type ErrorBody, type TestService } from '../support/testService.js';
import { at } from '../support/shanghaiTime.js';

interface OutboxPage {
  items: {
    key: string;
    status: string;
    channel: string;
    to: { kind: string; robotId?: string };
    event: { type: string; recordNo?: string };
  }[];
  total: number;
  counts: Record<string, number>;
}

const CONTACT = { name: '赵敏', phone: '13912345678', amount: 1_234_567 };
const WANG_MOBILE = '13800000001';
const REVIEWER_MOBILE = '13800000009';

let receivers: RobotReceivers;
let teamRobot: FakeRobot;
let companyRobot: FakeRobot;
let svc: TestService;
let dataDir: string;
let key: string;
let wang: string;
let reviewer: string;
let no: string;

async function settled(service: TestService): Promise<OutboxPage> {
  // The worker polls every 50 ms here; wait until nothing is pending or being sent.
  for (let i = 0; i < 200; i++) {
    const page = await service.api(service.adminToken).get<OutboxPage>('/api/outbox?limit=1000');
    expect(page.status).toBe(200);
    if ((page.body.counts['pending'] ?? 0) + (page.body.counts['sending'] ?? 0) === 0) return page.body;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('the outbox never settled');
}

function messageText(robot: FakeRobot): string[] {
  return robot.delivered().map((r) => r.rawBody);
}

async function start(now: string): Promise<TestService> {
  return startTestService({
    now,
    dataDir,
    keepData: true,
    key,
    env: { BAOBEI_OUTBOX_POLL_MS: '50', BAOBEI_OUTBOX_RETRY_MS: '10' },
  });
}

beforeAll(async () => {
  receivers = await startRobotReceivers();
  teamRobot = receivers.dingtalk({ secret: 'SECteamSecret0123' });
  companyRobot = receivers.feishu({ secret: 'feishu-company-secret' });
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'baobei-outbox-'));
  key = randomBytes(32).toString('hex');
  svc = await start(at('2026-11-23'));
  wang = await svc.user('王磊', 'sales', '华东一部');
  reviewer = await svc.user('张敏', 'reviewer', '华东一部');
  const admin = svc.api(svc.adminToken);
  const users = await admin.get<{ items?: { id: string; name: string }[] } | { id: string; name: string }[]>(
    '/api/users',
  );
  const list = Array.isArray(users.body) ? users.body : (users.body.items ?? []);
  const idOf = (name: string) => list.find((u) => u.name === name)?.id ?? '';
  expect((await admin.put(`/api/users/${idOf('王磊')}/contact`, { mobile: WANG_MOBILE })).status).toBe(200);
  expect((await admin.put(`/api/users/${idOf('张敏')}/contact`, { mobile: REVIEWER_MOBILE })).status).toBe(
    200,
  );
  const put1 = await admin.put('/api/notify/robots/east-1', {
    kind: 'dingtalk',
    webhookUrl: teamRobot.webhookUrl,
    secret: teamRobot.secret,
    team: '华东一部',
    name: '华东一部群',
  });
  expect(put1.status).toBe(200);
  const put2 = await admin.put('/api/notify/robots/company', {
    kind: 'feishu',
    webhookUrl: companyRobot.webhookUrl,
    secret: companyRobot.secret,
    team: null,
    name: '全公司群',
  });
  expect(put2.status).toBe(200);

  // Decisions concern one person and go by email out of the box; this company also wants them in
  // the team's group (an administrator's default), which the test needs to see a group message.
  const defaults = await admin.put('/api/notify/defaults', { robot: { decision: 'immediate' } });
  expect(defaults.status).toBe(200);
  const res = await svc.api(wang).post<{ results: RowResult[] }>('/api/registrations', {
    rows: [
      enterpriseRow(1, {
        contactName: CONTACT.name,
        contactPhone: CONTACT.phone,
        expectedAmount: CONTACT.amount,
      }),
    ],
  });
  expect(res.status).toBe(200);
  no = res.body.results[0]?.registrationNo ?? '';
  expect(no).not.toBe('');
  const approved = await svc
    .api(reviewer)
    .post(`/api/registrations/${no}/review`, { decision: 'approve', reason: '资料齐全' });
  expect(approved.status).toBe(200);
  await settled(svc);
}, 60_000);

afterAll(async () => {
  await svc?.close();
  await receivers?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('the outbox, end to end', () => {
  it('tells the team group of the decision and @mentions the registrant, never the reviewer who decided', () => {
    const delivered = teamRobot.delivered();
    expect(delivered.length).toBeGreaterThan(0);
    const mentioned = delivered.flatMap((r) => r.mentions?.mobiles ?? []);
    expect(mentioned).toContain(WANG_MOBILE);
    // The reviewer's own action: never @mentioned for it.
    expect(mentioned).not.toContain(REVIEWER_MOBILE);
    // The team may see the record: its number is allowed in the team's group (R34).
    expect(messageText(teamRobot).some((t) => t.includes(no))).toBe(true);
  });

  it('puts no customer personal data into any group message, and no record number into a company-wide group', () => {
    const all = [...messageText(teamRobot), ...messageText(companyRobot)];
    expect(all.length).toBeGreaterThan(0);
    for (const text of all) {
      expect(text).not.toContain(CONTACT.name);
      expect(text).not.toContain(CONTACT.phone);
      for (const amount of ['1234567', '1,234,567', '123.4567万']) expect(text).not.toContain(amount);
    }
    for (const text of messageText(companyRobot)) expect(text).not.toContain(no);
  });

  it('sends each entry once: unique keys in the outbox, no key delivered twice', async () => {
    const page = await settled(svc);
    const keys = page.items.map((i) => i.key);
    expect(new Set(keys).size).toBe(keys.length);
    expect(page.counts['sent']).toBeGreaterThan(0);
    for (const [, count] of receivers.deliveredKeys()) expect(count).toBe(1);
  });

  it('sends nothing again after a restart on the same data dir', async () => {
    const before = receivers.requests.length;
    await svc.close();
    svc = await start(at('2026-11-23', '11:00'));
    await new Promise((r) => setTimeout(r, 400));
    await settled(svc);
    expect(receivers.requests.length).toBe(before);
  });

  it('reminds the holder once at T−20 (the last day to ask for an extension, R28), and not again after a restart or a second scan', async () => {
    const rec = await svc.api(wang).get<{ protectedUntil: string }>(`/api/registrations/${no}`);
    expect(rec.status).toBe(200);
    const until = new Date(`${rec.body.protectedUntil}T00:00:00Z`);
    const t20 = new Date(until.getTime() - 20 * 86_400_000).toISOString().slice(0, 10);
    // The sweep (and with it the reminder scan) runs at start-up: restart on the T−20 day.
    await svc.close();
    svc = await start(at(t20, '09:00'));
    const page = await settled(svc);
    const reminders = page.items.filter(
      (i) => i.event.type === 'protection.ending' && i.event.recordNo === no,
    );
    expect(reminders.length).toBeGreaterThan(0);
    expect(reminders.every((r) => r.status === 'sent')).toBe(true);
    expect(reminders.some((r) => r.to.robotId === 'east-1')).toBe(true);
    const delivered = receivers.requests.length;
    // Same day, another start: the reminder was claimed once and stays claimed.
    await svc.close();
    svc = await start(at(t20, '15:00'));
    const again = await settled(svc);
    expect(
      again.items.filter((i) => i.event.type === 'protection.ending' && i.event.recordNo === no).length,
    ).toBe(reminders.length);
    await new Promise((r) => setTimeout(r, 300));
    expect(receivers.requests.length).toBe(delivered);
    for (const [, count] of receivers.deliveredKeys()) expect(count).toBe(1);
  }, 30_000);
});

describe('the outbox routes', () => {
  it('are for administrators only', async () => {
    const asSales = svc.api(wang);
    for (const path of ['/api/outbox', '/api/notify/robots']) {
      const res = await asSales.get<ErrorBody>(path);
      expect(res.status).toBe(403);
    }
    const put = await asSales.put<ErrorBody>('/api/notify/robots/mine', {
      kind: 'wecom',
      webhookUrl: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc',
      team: '华东一部',
      name: 'x',
    });
    expect(put.status).toBe(403);
  });

  it('never return a webhook token or signing secret', async () => {
    const res = await svc
      .api(svc.adminToken)
      .get<{ items: { webhookUrl: string; hasSecret: boolean }[] }>('/api/notify/robots');
    expect(res.status).toBe(200);
    const text = JSON.stringify(res.body);
    expect(text).not.toContain(teamRobot.secret ?? '@@');
    expect(text).not.toContain(teamRobot.token);
    expect(res.body.items.every((r) => r.hasSecret)).toBe(true);
  });

  it('refuse a bad robot with a bilingual error naming the field', async () => {
    const res = await svc.api(svc.adminToken).put<ErrorBody>('/api/notify/robots/bad', {
      kind: 'dingtalk',
      webhookUrl: 'http://example.com/robot/send?access_token=x',
      team: '华东一部',
      name: '坏的',
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('request.invalid');
    expect(res.body.error.field).toBe('webhookUrl');
    expect(res.body.error.message).not.toBe(res.body.error.messageEn);
  });

  it('send a test message to a robot and report the provider refusing it', async () => {
    const admin = svc.api(svc.adminToken);
    const ok = await admin.post<{ ok: boolean }>('/api/outbox/test', { robot: 'east-1' });
    expect(ok.status).toBe(200);
    expect(ok.body.ok).toBe(true);
    teamRobot.failNext(1, { kind: 'errcode', code: 310000, message: 'keywords not in content' });
    const refused = await admin.post<{ ok: boolean; providerCode?: number }>('/api/outbox/test', {
      robot: 'east-1',
    });
    expect(refused.status).toBe(502);
    expect(refused.body.ok).toBe(false);
    expect(refused.body.providerCode).toBe(310000);
    const missing = await admin.post<ErrorBody>('/api/outbox/test', { robot: 'nope' });
    expect(missing.body.error.code).toBe('notify.robot_not_found');
  });

  it('a test message takes its slot in the robot’s window: the 21st in a minute is refused with 429, never sent to be throttled', async () => {
    const admin = svc.api(svc.adminToken);
    const busy = receivers.dingtalk();
    const put = await admin.put('/api/notify/robots/busy-1', {
      kind: 'dingtalk',
      webhookUrl: busy.webhookUrl,
      secret: busy.secret,
      team: '华东二部',
      name: '华东二部群',
    });
    expect(put.status).toBe(200);
    for (let i = 0; i < 20; i++) {
      const ok = await admin.post<{ ok: boolean }>('/api/outbox/test', { robot: 'busy-1' });
      expect(ok.status, `test message ${i + 1}`).toBe(200);
    }
    const refused = await admin.post<ErrorBody>('/api/outbox/test', { robot: 'busy-1' });
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe('notify.robot_busy');
    expect(refused.body.error.field).toBe('robot');
    expect(refused.body.error.message).not.toBe(refused.body.error.messageEn);
    expect(busy.requests()).toHaveLength(20);
    expect(busy.requests().every((r) => r.outcome === 'delivered')).toBe(true);
  });
});
