/**
 * Sheet links are a team's (R34): a reviewer links sheets for their own team only, and pauses,
 * resumes, syncs and unlinks only their team's links — the ones `GET /api/sheets` shows them. A
 * reviewer without a team, and administrators, act on every team's. Otherwise a reviewer of another
 * team could have rows registered in this team's owner's name, or stop or remove its sync.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FakeGoogle } from '../fakes/fakeGoogle.js';
import { companyNameFor, phoneFor } from '../support/customers.js';
import { apiClient, type Api } from '../support/testService.js';
import { SERVICE_ACCOUNT, linkSheet, startSheetsService, type SheetsService } from './sheetsService.js';

const TAB = '报备';
const HEADER = ['客户名称', '联系人', '联系电话', '客户类型', '地址', '客户来源'];

function sheetRow(n: number): string[] {
  return [companyNameFor(n), '张三', phoneFor(n), '企业', '上海市浦东新区张江路 100 号', '展会'];
}

interface Link {
  id: string;
  paused: boolean;
  lastSyncAt?: string;
}

describe('Google Sheets links belong to a team (issue 11, R34)', () => {
  let fake: FakeGoogle;
  let sheets: SheetsService;
  let admin: Api;
  let token: string;
  let other: Api;

  beforeEach(async () => {
    sheets = await startSheetsService({ dirPrefix: 'baobei-sheets-teams-' });
    ({ fake, admin } = sheets);
    const res = await admin.post<{ token: string }>('/api/users', {
      name: '陈主管',
      role: 'reviewer',
      team: '华南二部',
    });
    expect(res.status).toBe(201);
    token = res.body.token;
    other = apiClient(sheets.service.url, token);
  });

  afterEach(async () => {
    await sheets.close();
  });

  function spreadsheet(n: number): string {
    return fake.createSpreadsheet({
      sheets: [{ title: TAB, values: [HEADER, sheetRow(n)] }],
      sharedWith: { [SERVICE_ACCOUNT]: 'writer' },
    });
  }

  async function links(): Promise<Link[]> {
    return (await admin.get<{ items: Link[] }>('/api/sheets')).body.items;
  }

  it('a reviewer of another team cannot link a sheet for this team, nor sync, pause or unlink its link', async () => {
    const refused = await other.post<{ error: { code: string; message: string; messageEn: string } }>(
      '/api/sheets',
      { spreadsheet: spreadsheet(1), sheet: TAB, team: '华东一部', owner: '王磊' },
    );
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('auth.forbidden');
    expect(refused.body.error.message).toContain('华东一部');
    expect(refused.body.error.messageEn).toContain('华东一部');
    expect(await links()).toHaveLength(0);

    const linkId = await linkSheet(admin, spreadsheet(2), TAB);
    expect((await other.get<{ items: Link[] }>('/api/sheets')).body.items).toEqual([]);
    for (const action of ['sync', 'pause', 'resume']) {
      const res = await other.post<{ error: { code: string } }>(`/api/sheets/${linkId}/${action}`, {});
      expect(res.status, action).toBe(403);
      expect(res.body.error.code, action).toBe('auth.forbidden');
    }
    const del = await fetch(`${sheets.service.url}/api/sheets/${linkId}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(del.status).toBe(403);
    const [kept] = await links();
    expect(kept).toMatchObject({ id: linkId, paused: false });
    expect(kept?.lastSyncAt).toBeUndefined();
    expect((await admin.get<{ items: unknown[] }>('/api/registrations?limit=10')).body.items).toHaveLength(0);

    // The team's own reviewer (the owner) may.
    const wang = await admin.get<{ items: { id: string; name: string }[] }>('/api/users');
    const wangId = wang.body.items.find((u) => u.name === '王磊')!.id;
    const rotated = await admin.post<{ token: string }>(`/api/users/${wangId}/rotate-token`, {});
    const own = apiClient(sheets.service.url, rotated.body.token);
    expect((await own.post(`/api/sheets/${linkId}/pause`, {})).status).toBe(200);
    expect((await own.post(`/api/sheets/${linkId}/resume`, {})).status).toBe(200);
    expect((await own.post(`/api/sheets/${linkId}/sync`, {})).status).toBe(200);
    expect((await own.get<{ items: Link[] }>('/api/sheets')).body.items).toHaveLength(1);
  });
});
