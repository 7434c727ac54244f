/**
 * The authorization matrix over real HTTP (R34): sales staff see their own registrations, reviewers
 * their team's, administrators everything; role-only endpoints refuse other roles; every /api
 * route but health and the OpenAPI document needs a valid bearer token.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RowResult } from '../../core/schema.js';
import type { RecordView } from '../../server/services/recordView.js';
import { enterpriseRow } from '../support/customers.js';
import {
  startTestService,
  type ApiResponse,
  type ErrorBody,
  type TestService,
} from '../support/testService.js';

interface List {
  items: RecordView[];
  total: number;
}

let svc: TestService;
/** 华东一部: sales Wang and Li, reviewer Zhang. 华南二部: sales Zhou, reviewer Huang. */
const t = { wang: '', li: '', zhou: '', zhang: '', huang: '', admin: '' };
/** One registration each: Wang's and Li's in 华东一部, Zhou's in 华南二部. */
const no = { wang: '', li: '', zhou: '' };

beforeAll(async () => {
  svc = await startTestService();
  t.admin = svc.adminToken;
  t.wang = await svc.user('王磊', 'sales', '华东一部');
  t.li = await svc.user('李娜', 'sales', '华东一部');
  t.zhou = await svc.user('周杰', 'sales', '华南二部');
  t.zhang = await svc.user('张敏', 'reviewer', '华东一部');
  t.huang = await svc.user('黄蓉', 'reviewer', '华南二部');
  for (const [who, n] of [
    ['wang', 1],
    ['li', 2],
    ['zhou', 3],
  ] as const) {
    const res = await svc
      .api(t[who])
      .post<{ results: RowResult[] }>('/api/registrations', { rows: [enterpriseRow(n)] });
    no[who] = res.body.results[0]!.registrationNo!;
  }
});

afterAll(async () => {
  await svc.close();
});

async function status(
  token: string,
  method: 'GET' | 'POST' | 'PUT',
  path: string,
  body?: unknown,
): Promise<number> {
  const api = svc.api(token);
  const res =
    method === 'GET'
      ? await api.get(path)
      : method === 'PUT'
        ? await api.put(path, body)
        : await api.post(path, body);
  return res.status;
}

async function forbidden(
  token: string,
  method: 'GET' | 'POST' | 'PUT',
  path: string,
  body?: unknown,
): Promise<void> {
  const api = svc.api(token);
  const res =
    method === 'GET'
      ? await api.get<ErrorBody>(path)
      : method === 'PUT'
        ? await api.put<ErrorBody>(path, body)
        : await api.post<ErrorBody>(path, body);
  expect(res.status, `${method} ${path}`).toBe(403);
  expect(res.body.error.code).toBe('auth.forbidden');
}

describe('[R34] sales staff', () => {
  it('read their own registration, never another’s — not even a teammate’s', async () => {
    expect(await status(t.wang, 'GET', `/api/registrations/${no.wang}`)).toBe(200);
    await forbidden(t.wang, 'GET', `/api/registrations/${no.li}`);
    await forbidden(t.wang, 'GET', `/api/registrations/${no.zhou}`);
  });

  it('list only their own, and cannot ask for someone else’s', async () => {
    const mine = await svc.api(t.wang).get<List>('/api/registrations');
    expect(mine.body.items.map((r) => r.no)).toEqual([no.wang]);
    expect(mine.body.total).toBe(1);
    await forbidden(t.wang, 'GET', `/api/registrations?registrant=${encodeURIComponent('李娜')}`);
    const search = await svc.api(t.wang).get<List>(`/api/registrations?q=${encodeURIComponent('有限公司')}`);
    expect(search.body.items.map((r) => r.no)).toEqual([no.wang]);
  });

  it('cannot act on another’s registration', async () => {
    await forbidden(t.wang, 'POST', `/api/registrations/${no.li}/follow-ups`, { way: '电话', note: '跟进' });
    await forbidden(t.wang, 'POST', `/api/registrations/${no.li}/close`, {
      outcome: 'withdrawn',
      note: '撤回',
    });
  });

  it('cannot review, transfer, close for false information, change the policy, create users or read the audit', async () => {
    await forbidden(t.wang, 'POST', `/api/registrations/${no.wang}/review`, {
      decision: 'approve',
      reason: '自批',
    });
    await forbidden(t.wang, 'POST', `/api/registrations/${no.wang}/transfer`, { to: '李娜' });
    await forbidden(t.wang, 'POST', `/api/registrations/${no.wang}/close`, {
      outcome: 'false_info',
      note: 'x',
    });
    await forbidden(t.wang, 'POST', `/api/registrations/${no.wang}/extension/review`, {
      decision: 'approve',
      reason: 'x',
    });
    await forbidden(t.wang, 'PUT', '/api/policy', { autoApprove: true });
    await forbidden(t.wang, 'POST', '/api/users', { name: '赵六', role: 'admin' });
    await forbidden(t.wang, 'GET', '/api/users');
    await forbidden(t.wang, 'GET', '/api/audit');
    await forbidden(t.wang, 'GET', '/api/review-queue');
    // Nothing changed.
    const own = await svc.api(t.wang).get<RecordView>(`/api/registrations/${no.wang}`);
    expect(own.body.status).toBe('pending');
    expect((await svc.api(t.admin).get<{ autoApprove: boolean }>('/api/policy')).body.autoApprove).toBe(
      false,
    );
  });
});

describe('[R34] reviewers', () => {
  it('read and list their team’s registrations, not another team’s', async () => {
    expect(await status(t.zhang, 'GET', `/api/registrations/${no.wang}`)).toBe(200);
    expect(await status(t.zhang, 'GET', `/api/registrations/${no.li}`)).toBe(200);
    await forbidden(t.zhang, 'GET', `/api/registrations/${no.zhou}`);
    await forbidden(t.huang, 'GET', `/api/registrations/${no.wang}`);
    const list = await svc.api(t.zhang).get<List>('/api/registrations');
    expect(list.body.items.map((r) => r.no).sort()).toEqual([no.wang, no.li].sort());
    const other = await svc.api(t.huang).get<List>('/api/registrations');
    expect(other.body.items.map((r) => r.no)).toEqual([no.zhou]);
  });

  it('decide their team’s registrations, not another team’s', async () => {
    await forbidden(t.huang, 'POST', `/api/registrations/${no.li}/review`, {
      decision: 'approve',
      reason: 'x',
    });
    await forbidden(t.huang, 'POST', `/api/registrations/${no.li}/transfer`, { to: '周杰' });
    await forbidden(t.zhang, 'POST', `/api/registrations/${no.zhou}/review`, {
      decision: 'reject',
      reason: 'x',
    });
    const res = await svc
      .api(t.zhang)
      .post<RecordView>(`/api/registrations/${no.li}/review`, { decision: 'approve', reason: '资料齐全' });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('protected');
  });

  it('cannot change the policy, create users or read the audit', async () => {
    await forbidden(t.zhang, 'PUT', '/api/policy', { reviewWorkdays: 3 });
    await forbidden(t.zhang, 'POST', '/api/users', { name: '赵六', role: 'sales' });
    await forbidden(t.zhang, 'GET', '/api/audit');
    await forbidden(t.zhang, 'PUT', '/api/calendar/2027', {
      holidays: [{ from: '2027-02-08', to: '2027-02-14', name: '春节' }],
    });
  });
});

describe('[R34] changing and resubmitting a registration (issue 15)', () => {
  /** PATCH with the record's current ETag, read as an administrator (so only authorisation decides). */
  async function change(token: string, registrationNo: string): Promise<ApiResponse<ErrorBody>> {
    const etag = (await svc.api(t.admin).get(`/api/registrations/${registrationNo}`)).headers.get('etag')!;
    return svc.api(token).patch<ErrorBody>(
      `/api/registrations/${registrationNo}`,
      { changes: { notes: '授权检查' }, reason: 'x' },
      {
        'If-Match': etag,
      },
    );
  }

  it('the holder, a reviewer of the team and an administrator may change; nobody else', async () => {
    const matrix: [string, string, string, number][] = [
      ['wang (holder)', t.wang, no.wang, 200],
      ['li (teammate)', t.li, no.wang, 403],
      ['zhou (other team)', t.zhou, no.wang, 403],
      ['zhang (reviewer, same team)', t.zhang, no.wang, 200],
      ['huang (reviewer, other team)', t.huang, no.wang, 403],
      ['admin', t.admin, no.zhou, 200],
      ['zhang (reviewer, other team’s record)', t.zhang, no.zhou, 403],
    ];
    for (const [who, token, registrationNo, expected] of matrix) {
      const res = await change(token, registrationNo);
      expect(res.status, who).toBe(expected);
      if (expected === 403) expect(res.body.error.code).toBe('auth.forbidden');
    }
  });

  it('a refused caller learns nothing, not even whether the version was current', async () => {
    const res = await svc.api(t.zhou).patch<ErrorBody>(
      `/api/registrations/${no.wang}`,
      { changes: { notes: 'x' }, reason: 'x' },
      {
        'If-Match': '"999"',
      },
    );
    expect(res.status).toBe(403);
    expect(res.body.error.details).toBeUndefined();
    expect(res.headers.get('etag')).toBeNull();
  });

  it('only the holder resubmits, and only a rejected registration', async () => {
    for (const token of [t.li, t.zhou, t.zhang, t.huang, t.admin]) {
      await forbidden(token, 'POST', `/api/registrations/${no.wang}/resubmit`, {});
    }
    const own = await svc.api(t.wang).post<ErrorBody>(`/api/registrations/${no.wang}/resubmit`, {});
    expect(own.status).toBe(409);
    expect(own.body.error.code).toBe('resubmit.not_rejected');
  });
});

describe('[R34] administrators', () => {
  it('read and list everything', async () => {
    for (const n of Object.values(no))
      expect(await status(t.admin, 'GET', `/api/registrations/${n}`)).toBe(200);
    const list = await svc.api(t.admin).get<List>('/api/registrations');
    expect(list.body.items.map((r) => r.no).sort()).toEqual(Object.values(no).sort());
    expect(await status(t.admin, 'GET', '/api/audit')).toBe(200);
    expect(await status(t.admin, 'GET', '/api/users')).toBe(200);
  });
});

describe('[R34][R42][R44] grades, visits, the pool and the service report (issue 13)', () => {
  it('only reviewers of the team and administrators change a grade; nobody else, not the holder', async () => {
    const body = { grade: 'A', reason: '战略客户' };
    const matrix: [string, string, string, number][] = [
      ['wang (holder)', t.wang, no.wang, 403],
      ['li (teammate)', t.li, no.wang, 403],
      ['zhou (other team)', t.zhou, no.wang, 403],
      ['huang (reviewer, other team)', t.huang, no.wang, 403],
      ['zhang (reviewer, same team)', t.zhang, no.wang, 200],
      ['admin', t.admin, no.zhou, 200],
    ];
    for (const [who, token, registrationNo, expected] of matrix) {
      const res = await svc.api(token).put<ErrorBody>(`/api/registrations/${registrationNo}/grade`, body);
      expect(res.status, who).toBe(expected);
      if (expected === 403) expect(res.body.error.code, who).toBe('auth.forbidden');
    }
    const graded = await svc.api(t.admin).get<RecordView>(`/api/registrations/${no.wang}`);
    expect(graded.body.registration.grade).toBe('A');
  });

  it('the holder and reviewers of the team record visits; a teammate or another team’s reviewer may not', async () => {
    const visit = { way: '上门', note: '拜访' };
    const matrix: [string, string, number][] = [
      ['wang (holder)', t.wang, 201],
      ['zhang (reviewer, same team)', t.zhang, 201],
      ['li (teammate)', t.li, 403],
      ['huang (reviewer, other team)', t.huang, 403],
      ['admin', t.admin, 201],
    ];
    for (const [who, token, expected] of matrix) {
      expect(await status(token, 'POST', `/api/registrations/${no.wang}/follow-ups`, visit), who).toBe(
        expected,
      );
    }
  });

  it('everyone signed in sees the pool and their own service report', async () => {
    for (const token of [t.wang, t.zhang, t.huang, t.admin]) {
      expect(await status(token, 'GET', '/api/pool')).toBe(200);
      expect(await status(token, 'GET', '/api/reports/service')).toBe(200);
    }
  });
});

describe('authentication', () => {
  const protectedRoutes: [string, string][] = [
    ['GET', '/api/registrations'],
    ['POST', '/api/registrations'],
    ['POST', '/api/check'],
    ['GET', '/api/registrations/BB-2026-000001'],
    ['PATCH', '/api/registrations/BB-2026-000001'],
    ['POST', '/api/registrations/BB-2026-000001/resubmit'],
    ['GET', '/api/notifications'],
    ['GET', '/api/policy'],
    ['GET', '/api/audit'],
    ['GET', '/api/reports/summary'],
    ['GET', '/api/calendar/2027'],
    ['GET', '/api/pool'],
    ['GET', '/api/reports/service'],
    ['PUT', '/api/registrations/BB-2026-000001/grade'],
  ];

  it('no token → 401 auth.missing', async () => {
    for (const [method, path] of protectedRoutes) {
      const res = await fetch(svc.url + path, {
        method,
        ...(method === 'POST' || method === 'PATCH'
          ? { headers: { 'content-type': 'application/json' }, body: '{}' }
          : {}),
      });
      expect(res.status, `${method} ${path}`).toBe(401);
      expect(((await res.json()) as ErrorBody).error.code).toBe('auth.missing');
    }
    const basic = await fetch(`${svc.url}/api/registrations`, {
      headers: { authorization: 'Basic d2FuZzpwdw==' },
    });
    expect(basic.status).toBe(401);
    expect(((await basic.json()) as ErrorBody).error.code).toBe('auth.missing');
  });

  it('an unknown token → 401 auth.invalid', async () => {
    for (const token of ['bb_not-a-real-token', `${t.wang}x`, t.wang.slice(0, -1)]) {
      const res = await svc.api(token).get<ErrorBody>('/api/registrations');
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('auth.invalid');
    }
  });

  it('health and the OpenAPI document need no token', async () => {
    expect((await fetch(`${svc.url}/api/health`)).status).toBe(200);
    expect((await fetch(`${svc.url}/api/openapi.json`)).status).toBe(200);
  });
});
