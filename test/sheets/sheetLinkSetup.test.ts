/**
 * What linking prepares in the Google sheet (issue 11), end to end: the real service over HTTP, the
 * real googleapis client against the fake Google server. One warning-only protected range over the
 * result columns and validation on 客户类型 and the date column, in one spreadsheets.batchUpdate;
 * linking again keeps ours (or replaces a stale one) and never adds a second; Google failing for
 * good is a 503/502 with a stable code and Retry-After, recorded on the link and shown by
 * `sheets list`.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { OAuth2Client } from 'google-auth-library';
import { sheets as sheetsApi } from 'googleapis/build/src/apis/sheets/index.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseFieldCell } from '../../core/row.js';
import { CUSTOMER_TYPE_LABELS, CUSTOMER_TYPES } from '../../core/schema.js';
import { sheetLinkResponseSchema } from '../../server/http/sheetRoutes.js';
import { describeLinks, type LinkView } from '../../server/sheets/sheetsCommand.js';
import {
  planLinkSetup,
  PROTECTION_MARKER,
  type LinkSetupReport,
} from '../../server/sheets/sheetLinkSetup.js';
import type { FakeGoogle } from '../fakes/fakeGoogle.js';
import type { Api } from '../support/testService.js';
import { SERVICE_ACCOUNT, startSheetsService, type SheetsService } from './sheetsService.js';

const SA = SERVICE_ACCOUNT;
const TAB = '报备';
const OWNER = 'owner@example.com';
const HEADER = ['客户名称', '联系人', '联系电话', '客户类型', '地址', '客户来源', '预计签约时间'];

interface Linked {
  id: string;
  shareWith: string;
  mapping: { column: number; header: string; field: string | null; confidence: number }[];
  setup: LinkSetupReport;
}

interface ErrorBody {
  error: { code: string; message: string; messageEn: string; details?: Record<string, unknown> };
}

describe('linking a Google sheet prepares it (issue 11)', () => {
  let fake: FakeGoogle;
  let sheets: SheetsService;
  let admin: Api;
  let id: string;

  beforeEach(async () => {
    sheets = await startSheetsService({ dirPrefix: 'baobei-sheets-setup-' });
    ({ fake, admin } = sheets);
    id = fake.createSpreadsheet({
      sheets: [
        {
          title: TAB,
          values: [
            HEADER,
            [
              '上海华信科技有限公司',
              '张三',
              '13812345678',
              '企业',
              '上海市浦东新区张江路 100 号',
              '展会',
              46100,
            ],
          ],
        },
      ],
      sharedWith: { [SA]: 'writer' },
      owner: OWNER,
    });
  });

  afterEach(async () => {
    await sheets.close();
  });

  const link = () =>
    admin.post<Linked & ErrorBody>('/api/sheets', {
      spreadsheet: id,
      sheet: TAB,
      team: '华东一部',
      owner: '王磊',
    });

  async function unlink(linkId: string): Promise<void> {
    const token = (await readFile(path.join(sheets.dataDir, 'admin.token'), 'utf8')).trim();
    const res = await fetch(`${sheets.service.url}/api/sheets/${linkId}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(204);
  }

  const list = async () => (await admin.get<{ items: LinkView[] }>('/api/sheets')).body.items;

  it('sets one warning-only protected range over the result columns and validation on 客户类型 and dates, in one batchUpdate', async () => {
    fake.clearCalls();
    const res = await link();
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(fake.callCounts()['spreadsheets.batchUpdate']).toBe(1);

    // Result columns appended after G: H..L (报备编号 … 提示), protected from the header row down.
    expect(fake.values(id, TAB)[0]).toEqual([...HEADER, '报备编号', '状态', '保护截止', '冲突说明', '提示']);
    const protections = fake.protectedRanges(id, TAB);
    expect(protections).toHaveLength(1);
    expect(protections[0]).toMatchObject({
      warningOnly: true,
      range: { sheetId: 0, startRowIndex: 0, startColumnIndex: 7, endColumnIndex: 12 },
    });
    expect(protections[0]?.['range']).not.toHaveProperty('endRowIndex');
    expect(String(protections[0]?.['description'])).toMatch(
      new RegExp(`^${PROTECTION_MARKER}.*请勿手工修改`),
    );
    expect(protections[0]).not.toHaveProperty('editors');

    // 客户类型 (D): a drop-down of core's words, not strict, with a Chinese input message; rows typed later too.
    const words = Object.values(CUSTOMER_TYPE_LABELS).map((l) => l.zh);
    for (const cell of ['D2', 'D3', 'D900']) {
      expect(fake.cell(id, TAB, cell).validation).toEqual({
        condition: { type: 'ONE_OF_LIST', values: words.map((w) => ({ userEnteredValue: w })) },
        inputMessage: `请选择 ${words.join('、')}`,
        strict: false,
        showCustomUi: true,
      });
    }
    // 预计签约时间 (G): a date.
    expect(fake.cell(id, TAB, 'G2').validation).toMatchObject({
      condition: { type: 'DATE_IS_VALID' },
      strict: false,
      inputMessage: expect.stringMatching(/^请输入日期/) as unknown,
    });
    // Not the headers, not the other columns.
    for (const cell of ['D1', 'G1', 'A2', 'C2', 'H2']) expect(fake.cell(id, TAB, cell).validation).toBeNull();

    // The answer says what was set, with the mapping and its confidence — as the OpenAPI document says.
    expect(sheetLinkResponseSchema.safeParse(res.body).error).toBeUndefined();
    expect(res.body.shareWith).toBe(SA);
    expect(res.body.mapping.find((m) => m.header === '客户类型')).toMatchObject({ field: 'customerType' });
    expect(res.body.mapping.every((m) => m.confidence >= 0 && m.confidence <= 1)).toBe(true);
    expect(res.body.setup.protection).toMatchObject({
      action: 'added',
      warningOnly: true,
      ranges: [`'${TAB}'!H1:L`],
      headers: ['报备编号', '状态', '保护截止', '冲突说明', '提示'],
    });
    expect(res.body.setup.validations).toEqual([
      expect.objectContaining({
        field: 'customerType',
        range: `'${TAB}'!D2:D`,
        condition: 'ONE_OF_LIST',
        values: words,
      }),
      expect.objectContaining({
        field: 'expectedSignDate',
        range: `'${TAB}'!G2:G`,
        condition: 'DATE_IS_VALID',
      }),
    ]);

    // The sync still writes the protected cells (warning-only binds people, not the API).
    const synced = await admin.post<{ registered: number }>(`/api/sheets/${res.body.id}/sync`, {});
    expect(synced.status, JSON.stringify(synced.body)).toBe(200);
    expect(synced.body.registered).toBe(1);
    expect(String(fake.values(id, TAB)[1]?.[7])).toMatch(/^BB-2026-\d{6}$/);
  });

  it('linking again keeps our protected range; a stale one of ours is replaced; a person’s own is left alone', async () => {
    const first = await link();
    expect(first.status).toBe(201);
    await unlink(first.body.id);
    const again = await link();
    expect(again.status, JSON.stringify(again.body)).toBe(201);
    expect(again.body.setup.protection.action).toBe('kept');
    expect(fake.protectedRanges(id, TAB)).toHaveLength(1);
    await unlink(again.body.id);

    // Ours, but over other columns (an older layout), and the owner's own protection of the header row.
    const owner = sheetsApi({
      version: 'v4',
      auth: (() => {
        const a = new OAuth2Client();
        a.setCredentials({ access_token: fake.issueToken(OWNER) });
        return a;
      })(),
      rootUrl: fake.url,
      retry: false,
    });
    const stale = fake.protectedRanges(id, TAB)[0]!;
    await owner.spreadsheets.batchUpdate({
      spreadsheetId: id,
      requestBody: {
        requests: [
          { deleteProtectedRange: { protectedRangeId: stale['protectedRangeId'] as number } },
          {
            addProtectedRange: {
              protectedRange: {
                range: { sheetId: 0, startRowIndex: 0, startColumnIndex: 7, endColumnIndex: 9 },
                warningOnly: true,
                description: `${PROTECTION_MARKER}旧的`,
              },
            },
          },
          {
            addProtectedRange: {
              protectedRange: {
                range: { sheetId: 0, startRowIndex: 0, endRowIndex: 1 },
                warningOnly: true,
                description: '表头请勿修改',
              },
            },
          },
        ],
      },
    });
    const third = await link();
    expect(third.status, JSON.stringify(third.body)).toBe(201);
    expect(third.body.setup.protection.action).toBe('replaced');
    const after = fake.protectedRanges(id, TAB);
    expect(after).toHaveLength(2);
    expect(after.filter((p) => String(p['description']).startsWith(PROTECTION_MARKER))).toMatchObject([
      { warningOnly: true, range: { startRowIndex: 0, startColumnIndex: 7, endColumnIndex: 12 } },
    ]);
    expect(after.find((p) => p['description'] === '表头请勿修改')).toBeDefined();
  });

  it('a 429 storm on a sync answers 503 google.rate_limited with Retry-After, and the link shows the error', async () => {
    const linked = await link();
    expect(linked.status).toBe(201);
    // The fake's clock and Google's refusals never let the minute refill within the client's tries.
    fake.setQuotas({ sheetsReadPerMinutePerUser: 0 });
    const res = await admin.post<ErrorBody>(`/api/sheets/${linked.body.id}/sync`, {});
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('60');
    expect(res.body.error).toMatchObject({
      code: 'google.rate_limited',
      message: expect.stringContaining('Google 配额已用尽') as unknown,
      messageEn: expect.stringContaining('Google quota exhausted') as unknown,
      details: { httpStatus: 429, retryAfterSeconds: 60, attempts: 2 },
    });

    const items = await list();
    expect(items[0]?.error).toMatchObject({ code: 'google.rate_limited' });
    // `baobei sheets list` prints GET /api/sheets with describeLinks: the code and both messages.
    const row = describeLinks(items)[2];
    expect(row).toContain('google.rate_limited: Google 配额已用尽');
    expect(row).toContain('Google quota exhausted');

    // Google recovers: the next sync clears the error.
    fake.setQuotas({ sheetsReadPerMinutePerUser: 60 });
    const ok = await admin.post(`/api/sheets/${linked.body.id}/sync`, {});
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect((await list())[0]?.error).toBeUndefined();
  });

  it('Google’s 5xx after the retries is a 502 google.unavailable, with Google’s Retry-After when it sent one', async () => {
    const linked = await link();
    // The sync's read of the tab (values, notes and row keys in one spreadsheets.get).
    fake.injectFault({
      method: 'spreadsheets.get',
      status: 503,
      times: 2,
      retryAfterSeconds: 12,
    });
    const res = await admin.post<ErrorBody>(`/api/sheets/${linked.body.id}/sync`, {});
    expect(res.status).toBe(502);
    expect(res.headers.get('retry-after')).toBe('12');
    expect(res.body.error.code).toBe('google.unavailable');
    expect((await list())[0]?.error?.code).toBe('google.unavailable');

    fake.injectFault({ method: 'spreadsheets.get', status: 500, times: 2 });
    const bare = await admin.post<ErrorBody>(`/api/sheets/${linked.body.id}/sync`, {});
    expect(bare.status).toBe(502);
    expect(bare.headers.get('retry-after')).toBeNull();
  });

  it('a link whose preparation Google refuses stores no link; linking again then succeeds with one protected range', async () => {
    fake.injectFault({ method: 'spreadsheets.batchUpdate', status: 429, times: 2 });
    const refused = await link();
    expect(refused.status).toBe(503);
    expect(refused.body.error.code).toBe('google.rate_limited');
    expect(refused.headers.get('retry-after')).toBe('60');
    expect(await list()).toEqual([]);
    expect(fake.protectedRanges(id, TAB)).toEqual([]);

    const linked = await link();
    expect(linked.status, JSON.stringify(linked.body)).toBe(201);
    expect(linked.body.setup.protection.action).toBe('added');
    expect(fake.protectedRanges(id, TAB)).toHaveLength(1);
    expect(await list()).toHaveLength(1);
  });
});

describe('planLinkSetup (the requests, without Google)', () => {
  it('protects result columns that are not adjacent with one range per run, and sets no rule for unmapped fields', () => {
    const plan = planLinkSetup({
      sheet: '报备',
      sheetId: 5,
      protectedRanges: [],
      headerRow: 3,
      fieldColumns: { customerName: 1, contactPhone: 2 },
      // 报备编号 and 状态 where a person put them (C, D); the others appended after two input columns.
      resultColumns: { registrationNo: 3, status: 4, protectedUntil: 7, conflict: 8, hint: 9 },
    });
    const adds = plan.requests.flatMap((r) =>
      r.addProtectedRange ? [r.addProtectedRange.protectedRange] : [],
    );
    expect(adds).toEqual([
      expect.objectContaining({
        range: { sheetId: 5, startRowIndex: 2, startColumnIndex: 2, endColumnIndex: 4 },
      }),
      expect.objectContaining({
        range: { sheetId: 5, startRowIndex: 2, startColumnIndex: 6, endColumnIndex: 9 },
      }),
    ]);
    expect(plan.report.protection.ranges).toEqual(["'报备'!C3:D", "'报备'!G3:I"]);
    expect(plan.requests.some((r) => r.setDataValidation !== undefined)).toBe(false);
    expect(plan.report.validations).toEqual([]);
  });

  it('offers in the 客户类型 drop-down only words core reads as a customer type, one per type', () => {
    const plan = planLinkSetup({
      sheet: '报备',
      sheetId: 0,
      protectedRanges: [],
      headerRow: 1,
      fieldColumns: { customerName: 1, customerType: 2 },
      resultColumns: { registrationNo: 3, status: 4, protectedUntil: 5, conflict: 6, hint: 7 },
    });
    const words = plan.report.validations.find((v) => v.field === 'customerType')?.values ?? [];
    const types = words.map((w) => {
      const parsed = parseFieldCell('customerType', w, '2026-11-23');
      return parsed !== null && 'value' in parsed ? parsed.value : null;
    });
    expect([...types].sort()).toEqual([...CUSTOMER_TYPES].sort());
  });
});
