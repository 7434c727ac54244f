/**
 * Issue 10, the settings routes over real HTTP against the real service: team robots (secrets
 * never returned), users' contacts, one's own preferences, the administrators' defaults, the
 * outbox view — who may call them, and bad input refused naming the field in both languages.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestService, type ErrorBody, type TestService } from '../support/testService.js';

let svc: TestService;
let sales: string;
let reviewer: string;
let salesId: string;

beforeEach(async () => {
  svc = await startTestService();
  sales = await svc.user('王磊', 'sales', '华东一部');
  reviewer = await svc.user('张敏', 'reviewer', '华东一部');
  const me = await svc.api(sales).get<{ id: string }>('/api/me');
  salesId = me.body.id;
});

afterEach(async () => {
  await svc.close();
});

async function del(token: string, p: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(svc.url + p, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
  const text = await res.text();
  return { status: res.status, body: text === '' ? undefined : (JSON.parse(text) as unknown) };
}

function expectBilingual(body: ErrorBody, code: string, field?: string): void {
  expect(body.error.code).toBe(code);
  expect(body.error.message).toMatch(/[\u4e00-\u9fff]/);
  expect(body.error.messageEn).toMatch(/[A-Za-z]/);
  if (field !== undefined) expect(body.error.field).toContain(field);
}

const SECRET = 'SEC0123456789abcdef';
const TOKEN = 'tok9876543210zyx';
const dingtalk = {
  kind: 'dingtalk',
  team: '华东一部',
  name: '华东一部群',
  webhookUrl: `https://oapi.dingtalk.com/robot/send?access_token=${TOKEN}`,
  secret: SECRET,
};

describe('team robots', () => {
  it('an admin stores a robot; reads never return its token or secret; delete then 404', async () => {
    const admin = svc.api(svc.adminToken);
    const put = await admin.put<Record<string, unknown>>('/api/notify/robots/east-1', dingtalk);
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ id: 'east-1', kind: 'dingtalk', team: '华东一部', hasSecret: true });
    const list = await admin.get<{ items: Record<string, unknown>[] }>('/api/notify/robots');
    expect(list.status).toBe(200);
    expect(list.body.items.map((r) => r['id'])).toEqual(['east-1']);
    const text = JSON.stringify([put.body, list.body]);
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain(TOKEN);
    expect((await del(svc.adminToken, '/api/notify/robots/east-1')).status).toBe(204);
    const again = await del(svc.adminToken, '/api/notify/robots/east-1');
    expect(again.status).toBe(404);
    expectBilingual(again.body as ErrorBody, 'notify.robot_not_found', 'robot');
    expect((await admin.get<{ items: unknown[] }>('/api/notify/robots')).body.items).toEqual([]);
  });

  it('refuses a DingTalk robot without its signing secret or with a wrong URL, naming the field', async () => {
    const admin = svc.api(svc.adminToken);
    const noSecret = await admin.put<ErrorBody>('/api/notify/robots/east-1', {
      ...dingtalk,
      secret: undefined,
    });
    expect(noSecret.status).toBe(400);
    expectBilingual(noSecret.body, 'request.invalid', 'secret');
    const badUrl = await admin.put<ErrorBody>('/api/notify/robots/east-1', {
      ...dingtalk,
      webhookUrl: 'http://example.com/robot/send?access_token=x',
    });
    expect(badUrl.status).toBe(400);
    expectBilingual(badUrl.body, 'request.invalid', 'webhookUrl');
    // The reason in each language (the Chinese said only "无效输入").
    expect(badUrl.body.error.message).toBe('字段 webhookUrl：须为 https://（http:// 仅限本机）');
    expect(badUrl.body.error.messageEn).toBe(
      'Field webhookUrl: must be https:// (http:// only to localhost)',
    );
    expect((await admin.get<{ items: unknown[] }>('/api/notify/robots')).body.items).toEqual([]);
  });

  it('sales and reviewers may neither list, set nor remove robots', async () => {
    for (const token of [sales, reviewer]) {
      expect((await svc.api(token).get('/api/notify/robots')).status).toBe(403);
      expect((await svc.api(token).put('/api/notify/robots/east-1', dingtalk)).status).toBe(403);
      expect((await del(token, '/api/notify/robots/east-1')).status).toBe(403);
    }
  });
});

describe('contacts, preferences, defaults, outbox', () => {
  it('an admin sets a contact; a bad mobile is refused naming mobile; others may not read it', async () => {
    const admin = svc.api(svc.adminToken);
    const ok = await admin.put(`/api/users/${salesId}/contact`, {
      email: 'wang@example.com',
      mobile: '13800138000',
    });
    expect(ok.status).toBe(200);
    const read = await admin.get(`/api/users/${salesId}/contact`);
    expect(read.body).toEqual({ email: 'wang@example.com', mobile: '13800138000', language: 'zh-CN' });
    const bad = await admin.put<ErrorBody>(`/api/users/${salesId}/contact`, { mobile: '12345' });
    expect(bad.status).toBe(400);
    expectBilingual(bad.body, 'request.invalid', 'mobile');
    const unknown = await admin.put<ErrorBody>('/api/users/nobody/contact', { email: 'x@example.com' });
    expect(unknown.status).toBe(404);
    expectBilingual(unknown.body, 'user.not_found');
    expect((await svc.api(reviewer).get(`/api/users/${salesId}/contact`)).status).toBe(403);
    expect(
      (await svc.api(sales).put(`/api/users/${salesId}/contact`, { email: 'a@example.com' })).status,
    ).toBe(403);
    // The audit names the fields changed, never the address or the number.
    expect(JSON.stringify((await admin.get('/api/audit')).body)).not.toContain('13800138000');
  });

  it('each user sets their own preferences over the defaults; a bad mode names the event', async () => {
    const me = svc.api(sales);
    const put = await me.put('/api/notify/preferences', { email: { 'extension.requested': 'digest' } });
    expect(put.status).toBe(200);
    const got = await me.get<{ preferences: { email: Record<string, string> } }>('/api/notify/preferences');
    expect(got.body.preferences.email['extension.requested']).toBe('digest');
    const other = await svc
      .api(reviewer)
      .get<{ preferences: { email: Record<string, string> } }>('/api/notify/preferences');
    expect(other.body.preferences.email).toEqual({});
    const bad = await me.put<ErrorBody>('/api/notify/preferences', {
      email: { 'extension.requested': 'loud' },
    });
    expect(bad.status).toBe(400);
    expectBilingual(bad.body, 'request.invalid', 'email');
  });

  it('only an admin sets the defaults; everyone can read them', async () => {
    expect((await svc.api(sales).put('/api/notify/defaults', { robot: { transfer: 'off' } })).status).toBe(
      403,
    );
    const put = await svc.api(svc.adminToken).put('/api/notify/defaults', { robot: { transfer: 'off' } });
    expect(put.status).toBe(200);
    const read = await svc.api(sales).get<{ robot: Record<string, string> }>('/api/notify/defaults');
    expect(read.body.robot['transfer']).toBe('off');
    const bad = await svc.api(svc.adminToken).put<ErrorBody>('/api/notify/defaults', { sms: {} });
    expect(bad.status).toBe(400);
    expectBilingual(bad.body, 'request.invalid');
  });

  it('the outbox is for admins; a filter outside the enum is refused naming it', async () => {
    expect((await svc.api(reviewer).get('/api/outbox')).status).toBe(403);
    const ok = await svc
      .api(svc.adminToken)
      .get<{ items: unknown[]; counts: Record<string, number> }>('/api/outbox');
    expect(ok.status).toBe(200);
    expect(ok.body.counts).toMatchObject({ pending: 0, sending: 0, sent: 0, failed: 0 });
    const bad = await svc.api(svc.adminToken).get<ErrorBody>('/api/outbox?status=lost');
    expect(bad.status).toBe(400);
    expectBilingual(bad.body, 'request.invalid', 'status');
    const test = await svc.api(svc.adminToken).post<ErrorBody>('/api/outbox/test', { robot: 'none' });
    expect(test.status).toBe(404);
    expectBilingual(test.body, 'notify.robot_not_found', 'robot');
  });

  it('a test request naming neither or both channels says which fields it takes, in both languages', async () => {
    const admin = svc.api(svc.adminToken);
    for (const body of [{}, { robot: 'east-1', email: salesId }, { email: 5 }]) {
      const bad = await admin.post<ErrorBody>('/api/outbox/test', body);
      expect(bad.status).toBe(400);
      expectBilingual(bad.body, 'request.invalid');
      expect(bad.body.error.message).toMatch(/robot.*email/);
      expect(bad.body.error.messageEn).toMatch(/robot.*email/);
    }
  });

  it('marking notifications read without ids or all: true says what it takes, in both languages', async () => {
    for (const body of [{}, { all: false }]) {
      const bad = await svc.api(sales).post<ErrorBody>('/api/notifications/read', body);
      expect(bad.status).toBe(400);
      expectBilingual(bad.body, 'request.invalid');
      expect(bad.body.error.message).toMatch(/ids.*all/);
      expect(bad.body.error.messageEn).toMatch(/ids.*all/);
    }
  });
});
