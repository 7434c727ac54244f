/**
 * Reading many registrations at once, as the add-in does: by number (no=…, scoped by role), the
 * review queue in pages, and who the caller is (/api/me).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RowResult } from '../../core/schema.js';
import { enterpriseRow } from '../support/customers.js';
import { startTestService, type TestService } from '../support/testService.js';

describe('lookups', () => {
  let service: TestService;
  let wang: string;
  let li: string;
  let reviewer: string;
  let wangNos: string[];
  let liNos: string[];
  beforeAll(async () => {
    service = await startTestService();
    wang = await service.user('王磊', 'sales', '华东一部');
    li = await service.user('李娜', 'sales', '华东一部');
    reviewer = await service.user('周主管', 'reviewer', '华东一部');
    const submit = async (token: string, from: number) =>
      (
        await service.api(token).post<{ results: RowResult[] }>('/api/registrations', {
          rows: Array.from({ length: 5 }, (_, i) => enterpriseRow(from + i)),
        })
      ).body.results.map((r) => r.registrationNo!);
    wangNos = await submit(wang, 1);
    liNos = await submit(li, 100);
  });
  afterAll(async () => {
    await service.close();
  });

  it('[R14] lists registrations by number, only those the caller may see', async () => {
    const wanted = [wangNos[0]!, wangNos[3]!, liNos[1]!, 'BB-2026-999999'];
    const own = await service
      .api(wang)
      .get<{ items: { no: string }[]; total: number }>(`/api/registrations?no=${wanted.join(',')}`);
    expect(own.status).toBe(200);
    expect(own.body.items.map((r) => r.no).sort()).toEqual([wangNos[0], wangNos[3]].sort());
    const team = await service
      .api(reviewer)
      .get<{ items: { no: string }[] }>(`/api/registrations?no=${wanted.join(',')}`);
    expect(team.body.items.map((r) => r.no).sort()).toEqual([wangNos[0], wangNos[3], liNos[1]].sort());
    const bad = await service.api(wang).get<{ error: { field: string } }>('/api/registrations?no=12345');
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toMatch(/^no/);
  });

  it('pages the review queue oldest claim first, and says when there is more', async () => {
    const api = service.api(reviewer);
    const first = await api.get<{
      groups: { competitors: { registrationNo: string }[] }[];
      hasMore: boolean;
    }>('/api/review-queue?limit=4&offset=0');
    expect(first.body.groups).toHaveLength(4);
    expect(first.body.hasMore).toBe(true);
    const rest = await api.get<{ groups: { competitors: { registrationNo: string }[] }[]; hasMore: boolean }>(
      '/api/review-queue?limit=100&offset=4',
    );
    expect(rest.body.hasMore).toBe(false);
    const seen = [...first.body.groups, ...rest.body.groups].flatMap((g) =>
      g.competitors.map((c) => c.registrationNo),
    );
    expect(seen.sort()).toEqual([...wangNos, ...liNos].sort());
    expect(first.body.groups[0]?.competitors[0]?.registrationNo).toBe(wangNos[0]);
    expect((await api.get('/api/review-queue?limit=0')).status).toBe(400);
  });

  it('tells the caller who they are', async () => {
    const me = await service.api(reviewer).get<{ name: string; role: string; team: string }>('/api/me');
    expect(me.body).toMatchObject({ name: '周主管', role: 'reviewer', team: '华东一部' });
    expect((await service.api('bb_nope').get('/api/me')).status).toBe(401);
  });
});
