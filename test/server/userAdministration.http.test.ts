/**
 * Administering users over real HTTP (issue 9): disable and enable, rotate a token (the old one
 * stops at once, the new one is shown once), and hand a leaver's customers over (R38) in one
 * operation — disabled, every active registration moved, both people notified, the audit written.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RowResult } from '../../core/schema.js';
import type { RecordView } from '../../server/services/recordView.js';
import { enterpriseRow } from '../support/customers.js';
import { startTestService, type ErrorBody, type TestService } from '../support/testService.js';

interface UserView {
  id: string;
  name: string;
  role: string;
  team?: string;
  disabled?: boolean;
}

let svc: TestService;
const t = { wang: '', li: '', zhang: '', zhou: '' };
const ids: Record<string, string> = {};

beforeAll(async () => {
  svc = await startTestService({ now: '2026-03-02T02:00:00Z' });
  t.wang = await svc.user('王磊', 'sales', '华东一部');
  t.li = await svc.user('李娜', 'sales', '华东一部');
  t.zhang = await svc.user('张敏', 'reviewer', '华东一部');
  t.zhou = await svc.user('周杰', 'sales', '华南二部');
  const users = await svc.api(svc.adminToken).get<{ items: UserView[] }>('/api/users');
  for (const u of users.body.items) ids[u.name] = u.id;
});

afterAll(async () => {
  await svc.close();
});

async function register(token: string, n: number): Promise<string> {
  const res = await svc.api(token).post<{ results: RowResult[] }>('/api/registrations', {
    rows: [enterpriseRow(n)],
  });
  expect(res.status).toBe(200);
  expect(res.body.results[0]!.registrationNo, JSON.stringify(res.body.results[0])).toBeDefined();
  return res.body.results[0]!.registrationNo!;
}

describe('disable, enable, rotate (admin)', () => {
  it('a disabled user is refused at once and let in again when enabled', async () => {
    const admin = svc.api(svc.adminToken);
    expect((await svc.api(t.zhou).get('/api/me')).status).toBe(200);
    const disabled = await admin.post<UserView>(`/api/users/${ids['周杰']}/disable`, {});
    expect(disabled.status).toBe(200);
    expect(disabled.body).toMatchObject({ name: '周杰', disabled: true });
    expect(disabled.body).not.toHaveProperty('tokenHash');
    const refused = await svc.api(t.zhou).get<ErrorBody>('/api/me');
    expect(refused.status).toBe(401);
    expect(refused.body.error.code).toBe('auth.invalid');
    const enabled = await admin.post<UserView>(`/api/users/${ids['周杰']}/enable`, {});
    expect(enabled.body.disabled).toBeUndefined();
    expect((await svc.api(t.zhou).get('/api/me')).status).toBe(200);
  });

  it('an administrator cannot disable themselves, and an unknown id is 404', async () => {
    const admin = svc.api(svc.adminToken);
    const me = await admin.get<{ id: string }>('/api/me');
    const self = await admin.post<ErrorBody>(`/api/users/${me.body.id}/disable`, {});
    expect(self.status).toBe(409);
    expect(self.body.error).toMatchObject({ code: 'user.self', field: 'id' });
    expect(self.body.error.message).toMatch(/[\u4e00-\u9fff]/);
    expect(self.body.error.messageEn).toContain('another administrator');
    const missing = await admin.post<ErrorBody>('/api/users/no-such-user/disable', {});
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('user.not_found');
  });

  it('rotating a token returns the new one once; the old one stops working', async () => {
    const admin = svc.api(svc.adminToken);
    const rotated = await admin.post<{ user: UserView; token: string }>(
      `/api/users/${ids['李娜']}/rotate-token`,
      {},
    );
    expect(rotated.status).toBe(200);
    expect(rotated.body.token).toMatch(/^bb_/);
    expect(rotated.body.token).not.toBe(t.li);
    expect((await svc.api(t.li).get('/api/me')).status).toBe(401);
    const me = await svc.api(rotated.body.token).get<{ name: string }>('/api/me');
    expect(me.body.name).toBe('李娜');
    // Never shown again: the user list carries no token and no hash.
    const list = await admin.get<{ items: Record<string, unknown>[] }>('/api/users');
    expect(JSON.stringify(list.body)).not.toContain(rotated.body.token);
    expect(JSON.stringify(list.body)).not.toContain('tokenHash');
    t.li = rotated.body.token;
  });

  it('[R34] only administrators: sales and reviewers get 403 and nothing changes', async () => {
    for (const token of [t.wang, t.zhang]) {
      const api = svc.api(token);
      for (const path of ['disable', 'enable', 'rotate-token']) {
        const res = await api.post<ErrorBody>(`/api/users/${ids['李娜']}/${path}`, {});
        expect(res.status, path).toBe(403);
        expect(res.body.error.code).toBe('auth.forbidden');
      }
      const handOver = await api.post<ErrorBody>(`/api/users/${ids['李娜']}/hand-over`, { to: '王磊' });
      expect(handOver.status).toBe(403);
    }
    expect((await svc.api(t.li).get('/api/me')).status).toBe(200);
  });
});

describe('[R38] hand-over of a leaver', () => {
  it('disables the leaver and moves every active registration to the colleague, both notified, audited', async () => {
    const admin = svc.api(svc.adminToken);
    const kept = [await register(t.wang, 101), await register(t.wang, 102)];
    const approved = await register(t.wang, 103);
    const review = await svc
      .api(t.zhang)
      .post<RecordView>(`/api/registrations/${approved}/review`, { decision: 'approve', reason: '资料齐全' });
    expect(review.body.status).toBe('protected');
    const withdrawn = await register(t.wang, 104);
    await svc
      .api(t.wang)
      .post(`/api/registrations/${withdrawn}/close`, { outcome: 'withdrawn', note: '客户无意向' });

    const res = await admin.post<{ user: UserView; to: UserView; transferred: string[] }>(
      `/api/users/${ids['王磊']}/hand-over`,
      { to: '李娜' },
    );
    expect(res.status).toBe(200);
    expect(res.body.user).toMatchObject({ name: '王磊', disabled: true });
    expect(res.body.to.name).toBe('李娜');
    expect(res.body.transferred).toEqual([...kept, approved].sort());

    // The leaver is locked out; the colleague holds the records with their protection intact.
    expect((await svc.api(t.wang).get('/api/me')).status).toBe(401);
    for (const no of [...kept, approved]) {
      const record = await svc.api(t.li).get<RecordView>(`/api/registrations/${no}`);
      expect(record.status, no).toBe(200);
      expect(record.body.registration.registrant).toBe('李娜');
    }
    const protectedNow = await svc.api(t.li).get<RecordView>(`/api/registrations/${approved}`);
    expect(protectedNow.body.status).toBe('protected');
    // A closed registration stays with the leaver: history is not rewritten.
    const closed = await admin.get<RecordView>(`/api/registrations/${withdrawn}`);
    expect(closed.body.registration.registrant).toBe('王磊');

    const notes = await svc
      .api(t.li)
      .get<{ items: { type: string; recordNo: string }[] }>('/api/notifications');
    const transfers = notes.body.items.filter((n) => n.type === 'transfer').map((n) => n.recordNo);
    expect(transfers.sort()).toEqual([...kept, approved].sort());
    const audit = await admin.get<{
      items: { action: string; records: string[]; details?: Record<string, unknown> }[];
    }>('/api/audit?limit=50');
    const entry = audit.body.items.find((a) => a.action === 'user.hand_over');
    expect(entry?.records.sort()).toEqual([...kept, approved].sort());
    expect(entry?.details).toMatchObject({ user: '王磊', to: '李娜', count: 3 });
  });

  it('refuses a disabled or unknown colleague, or the leaver themselves, and changes nothing', async () => {
    const admin = svc.api(svc.adminToken);
    const zhouRecord = await register(t.zhou, 201);
    const unknown = await admin.post<ErrorBody>(`/api/users/${ids['周杰']}/hand-over`, { to: '无名氏' });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toMatchObject({ code: 'user.not_found', field: 'to' });
    const disabled = await admin.post<ErrorBody>(`/api/users/${ids['周杰']}/hand-over`, { to: '王磊' });
    expect(disabled.status).toBe(404);
    const self = await admin.post<ErrorBody>(`/api/users/${ids['周杰']}/hand-over`, { to: '周杰' });
    expect(self.body.error.code).toBe('user.hand_over_self');
    const bad = await admin.post<ErrorBody>(`/api/users/${ids['周杰']}/hand-over`, { to: '' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe('to');
    // Still enabled, still holding the record.
    expect((await svc.api(t.zhou).get('/api/me')).status).toBe(200);
    const record = await admin.get<RecordView>(`/api/registrations/${zhouRecord}`);
    expect(record.body.registration.registrant).toBe('周杰');
  });

  it('[R16] a shared customer: the partner record names the new holder, who sees it as the leaver did', async () => {
    const admin = svc.api(svc.adminToken);
    const sun = await svc.user('孙悦', 'sales', '华东一部');
    const qian = await svc.user('钱坤', 'sales', '华南二部');
    const users = await admin.get<{ items: UserView[] }>('/api/users');
    const sunId = users.body.items.find((u) => u.name === '孙悦')!.id;
    const sunNo = await register(sun, 301);
    const partnerRes = await svc.api(t.li).post<{ results: RowResult[] }>('/api/registrations', {
      rows: [{ ...enterpriseRow(301), contactPhone: '13900000302' }],
    });
    const liNo = partnerRes.body.results[0]!.registrationNo!;
    const shared = await svc.api(t.zhang).post<RecordView>(`/api/registrations/${sunNo}/review`, {
      decision: 'share',
      reason: '资源互补',
      shareWith: liNo,
    });
    expect(shared.status, JSON.stringify(shared.body)).toBe(200);
    // Before: the leaver reads the partner's record, shared with them (R34).
    expect((await svc.api(sun).get(`/api/registrations/${liNo}`)).status).toBe(200);

    const res = await admin.post<{ transferred: string[] }>(`/api/users/${sunId}/hand-over`, { to: '钱坤' });
    expect(res.body.transferred).toEqual([sunNo]);
    const moved = await admin.get<RecordView>(`/api/registrations/${sunNo}`);
    expect(moved.body.share).toMatchObject({ withNo: liNo, withRegistrant: '李娜' });
    const partner = await admin.get<RecordView>(`/api/registrations/${liNo}`);
    expect(partner.body.share).toMatchObject({ withNo: sunNo, withRegistrant: '钱坤' });
    expect((await svc.api(qian).get(`/api/registrations/${liNo}`)).status).toBe(200);
    const listed = await svc.api(qian).get<{ items: RecordView[] }>('/api/registrations');
    expect(listed.body.items.map((r) => r.no).sort()).toEqual([sunNo, liNo].sort());
    expect(partner.body.history.at(-1)).toMatchObject({
      action: 'share.partner_transfer',
      by: 'admin',
      details: { withNo: sunNo, from: '孙悦', to: '钱坤' },
    });

    // One registration handed on by /transfer: the partner follows the same way.
    const transferred = await admin.post<RecordView>(`/api/registrations/${sunNo}/transfer`, { to: '周杰' });
    expect(transferred.status, JSON.stringify(transferred.body)).toBe(200);
    const again = await admin.get<RecordView>(`/api/registrations/${liNo}`);
    expect(again.body.share).toMatchObject({ withNo: sunNo, withRegistrant: '周杰' });
    expect((await svc.api(t.zhou).get(`/api/registrations/${liNo}`)).status).toBe(200);
    expect((await svc.api(qian).get(`/api/registrations/${liNo}`)).status).toBe(403);
    // 李娜's record changed under her both times (its version too): she is told whom she shares with now.
    const notes = await svc
      .api(t.li)
      .get<{ items: { type: string; recordNo: string; message: string }[] }>('/api/notifications');
    const told = notes.body.items.filter((n) => n.type === 'transfer' && n.recordNo === liNo);
    expect(told.map((n) => n.message).sort()).toEqual(
      [
        `与您共享客户的报备 ${sunNo} 已由 孙悦 移交给 钱坤，您的报备 ${liNo} 现与 钱坤 共享`,
        `与您共享客户的报备 ${sunNo} 已由 钱坤 移交给 周杰，您的报备 ${liNo} 现与 周杰 共享`,
      ].sort(),
    );
  });
});
