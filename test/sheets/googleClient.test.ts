/**
 * The Google adapter against the fake Sheets/Drive server: the operations the sync uses, the
 * service-account JWT path with a throw-away RSA key, typed errors (not shared, missing, tab
 * missing), retries with backoff on 429/5xx/network failures, the token bucket keeping a busy
 * account under Sheets' per-minute quota, the 2 MB pre-check, and credentials validation.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeGoogle } from '../fakes/fakeGoogle.js';
import {
  GoogleSheetsClient,
  GOOGLE_MAX_REQUEST_BYTES,
  requestBytes,
  type GoogleClientOptions,
} from '../../server/sheets/googleClient.js';
import { GoogleApiError } from '../../server/sheets/googleApiError.js';
import { GoogleRateLimiter, type Clock } from '../../server/sheets/googleRateLimiter.js';
import {
  credentialsSource,
  GoogleCredentialsError,
  loadServiceAccountKey,
  parseServiceAccountKey,
} from '../../server/sheets/googleCredentials.js';
import { a1Range, columnLetter, quoteSheetTitle } from '../../server/sheets/a1Range.js';
import { ConfigError, loadConfig } from '../../server/config.js';

const SA = 'baobei-sync@baobei-test.iam.gserviceaccount.com';

interface TestClock extends Clock {
  sleeps: number[];
}

function testClock(start: number, opts: { frozen?: boolean } = {}): TestClock & { t: number } {
  const clock = {
    t: start,
    sleeps: [] as number[],
    now: () => clock.t,
    sleep: async (ms: number) => {
      clock.sleeps.push(ms);
      if (opts.frozen !== true) clock.t += ms;
    },
  };
  return clock;
}

async function caught(p: Promise<unknown>): Promise<GoogleApiError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof GoogleApiError) return e;
    throw e;
  }
  throw new Error('expected a GoogleApiError');
}

describe('GoogleSheetsClient', () => {
  let clock: ReturnType<typeof testClock>;
  let fake: FakeGoogle;
  let token: string;
  let id: string;

  function client(extra: Partial<GoogleClientOptions> = {}): GoogleSheetsClient {
    return new GoogleSheetsClient({
      auth: { accessToken: token, identity: SA },
      rootUrl: fake.url,
      clock,
      rateLimiter: new GoogleRateLimiter(clock),
      random: () => 0.5,
      ...extra,
    });
  }

  beforeEach(async () => {
    clock = testClock(Date.UTC(2026, 2, 5, 2, 0, 0));
    fake = await new FakeGoogle({ now: () => clock.t }).start();
    token = fake.issueToken(SA);
    id = fake.createSpreadsheet({
      sheets: [
        {
          title: "It's 报备",
          values: [
            ['客户名称', '联系电话'],
            ['上海华信科技有限公司', '13812345678'],
          ],
        },
        { title: 'Other', sheetId: 5 },
      ],
      sharedWith: { [SA]: 'writer' },
    });
  });

  afterEach(async () => {
    await fake.close();
  });

  describe('operations', () => {
    it('reads the version, the tabs, and values; writes values RAW; applies batch requests; searches metadata', async () => {
      const c = client();
      expect(await c.getVersion(id)).toEqual({ version: '1', modifiedTime: new Date(clock.t).toISOString() });

      const info = await c.getSpreadsheet(id);
      expect(info.tabs.map((t) => [t.sheetId, t.title, t.rowCount, t.columnCount])).toEqual([
        [0, "It's 报备", 1000, 26],
        [5, 'Other', 1000, 26],
      ]);

      const range = a1Range("It's 报备", { startRow: 0, startColumn: 0, endColumn: 8 });
      expect(range).toBe("'It''s 报备'!A1:H");
      const [read] = await c.batchGetValues(id, [range]);
      expect(read).toEqual({
        range: "'It''s 报备'!A1:H1000",
        values: [
          ['客户名称', '联系电话'],
          ['上海华信科技有限公司', 13812345678],
        ],
      });

      const written = await c.batchUpdateValues(id, [
        {
          range: a1Range("It's 报备", { startRow: 1, endRow: 2, startColumn: 2, endColumn: 5 }),
          values: [['0123', '=1+1', null]],
        },
      ]);
      expect(written.updatedCells).toBe(2);
      expect(fake.cell(id, "It's 报备", 'C2').value).toBe('0123');
      expect(fake.cell(id, "It's 报备", 'D2').formula).toBeNull();

      const replies = await c.batchUpdate(id, [
        {
          createDeveloperMetadata: {
            developerMetadata: {
              metadataId: 424242,
              metadataKey: 'baobei.rowKey',
              metadataValue: 'row-1',
              visibility: 'PROJECT',
              location: { dimensionRange: { sheetId: 0, dimension: 'ROWS', startIndex: 1, endIndex: 2 } },
            },
          },
        },
        {
          addProtectedRange: {
            protectedRange: {
              range: { sheetId: 0, startColumnIndex: 4, endColumnIndex: 8 },
              warningOnly: true,
            },
          },
        },
      ]);
      expect(replies[0]?.createDeveloperMetadata?.developerMetadata?.metadataId).toBe(424242);
      fake.insertRows(id, "It's 报备", 1, 3);
      const found = await c.searchDeveloperMetadata(id, [
        { developerMetadataLookup: { metadataKey: 'baobei.rowKey' } },
      ]);
      expect(
        found.map((m) => [m.metadata.metadataValue, m.metadata.location?.dimensionRange?.startIndex]),
      ).toEqual([['row-1', 4]]);
      expect((await c.getSpreadsheet(id)).tabs[0]?.protectedRanges[0]).toMatchObject({ warningOnly: true });
      expect(fake.callCounts()).toEqual({
        'drive.files.get': 1,
        'spreadsheets.get': 2,
        'spreadsheets.values.batchGet': 1,
        'spreadsheets.values.batchUpdate': 1,
        'spreadsheets.batchUpdate': 1,
        'spreadsheets.developerMetadata.search': 1,
      });
    });

    it('reads a grid in one spreadsheets.get: effective values, notes, error cells, row keys and the tab id', async () => {
      const c = client();
      fake.editCells(id, "It's 报备", 'C2', [['=1/0']]);
      await c.batchUpdate(id, [
        {
          createDeveloperMetadata: {
            developerMetadata: {
              metadataKey: 'baobei.rowKey',
              metadataValue: 'k-2',
              visibility: 'PROJECT',
              location: { dimensionRange: { sheetId: 0, dimension: 'ROWS', startIndex: 1, endIndex: 2 } },
            },
          },
        },
        {
          updateCells: {
            range: { sheetId: 0, startRowIndex: 1, endRowIndex: 2, startColumnIndex: 1, endColumnIndex: 2 },
            rows: [{ values: [{ note: '电话号码无效' }] }],
            fields: 'note',
          },
        },
      ]);
      fake.insertRows(id, "It's 报备", 2); // the key follows its row down to row 3
      fake.clearCalls();
      const grid = await c.readGrid(id, "'It''s 报备'", { notes: true });
      expect(fake.callCounts()).toEqual({ 'spreadsheets.get': 1 });
      expect(grid.sheetId).toBe(0);
      expect(grid.startRow).toBe(0);
      expect(grid.rows[0]?.values).toEqual(['客户名称', '联系电话']);
      expect(grid.rows[1]?.values).toEqual([]);
      const row = grid.rows[2]!;
      expect(row.values).toEqual(['上海华信科技有限公司', 13812345678, '#ERROR']);
      expect([...row.errors]).toEqual([[3, '#ERROR']]);
      expect([...row.notes]).toEqual([[2, '电话号码无效']]);
      expect(row.metadata).toEqual([{ key: 'baobei.rowKey', value: 'k-2' }]);
      // One column: cells stay at their column (B is index 1), keys come with the rows; no notes asked.
      const column = await c.readGrid(id, "'It''s 报备'!B:B", { notes: false });
      expect(column.rows[2]?.values).toEqual(['', 13812345678]);
      expect(column.rows[2]?.notes.size).toBe(0);
      expect(column.rows[2]?.metadata[0]?.value).toBe('k-2');
    });

    it('builds A1 ranges that quote every title and double quotes inside it', () => {
      expect(quoteSheetTitle('Sheet1')).toBe("'Sheet1'");
      expect(columnLetter(0)).toBe('A');
      expect(columnLetter(25)).toBe('Z');
      expect(columnLetter(26)).toBe('AA');
      expect(columnLetter(701)).toBe('ZZ');
      expect(a1Range('报备', { startRow: 4, endRow: 9, startColumn: 26, endColumn: 28 })).toBe(
        "'报备'!AA5:AB9",
      );
    });
  });

  describe('typed errors', () => {
    it('tells which service account to share with, as Editor, when the spreadsheet is not shared', async () => {
      fake.unshare(id, SA);
      const sheetsErr = await caught(client().getSpreadsheet(id));
      expect(sheetsErr).toMatchObject({
        code: 'google.not_shared',
        kind: 'not_shared',
        httpStatus: 403,
        googleStatus: 'PERMISSION_DENIED',
        attempts: 1,
      });
      expect(sheetsErr.messageEn).toContain(`Share the spreadsheet with the service account ${SA} as Editor`);
      expect(sheetsErr.message).toContain(`把服务账号 ${SA} 添加为「编辑者」`);
      // Drive says 404 for a file the caller may not see: the same advice.
      const driveErr = await caught(client().getVersion(id));
      expect(driveErr).toMatchObject({ kind: 'not_shared', httpStatus: 404, reason: 'notFound' });
      expect(driveErr.messageEn).toContain(SA);
    });

    it('reports a reader share as not shared when writing', async () => {
      fake.share(id, SA, 'reader');
      const err = await caught(
        client().batchUpdate(id, [
          { updateSheetProperties: { properties: { sheetId: 0, title: 'x' }, fields: 'title' } },
        ]),
      );
      expect(err.kind).toBe('not_shared');
    });

    it('distinguishes a missing spreadsheet and a missing tab', async () => {
      expect(await caught(client().getSpreadsheet('no-such-id'))).toMatchObject({
        kind: 'not_found',
        code: 'google.not_found',
        httpStatus: 404,
      });
      fake.renameSheet(id, "It's 报备", '报备');
      const tab = await caught(client().batchGetValues(id, ["'It''s 报备'!A1:H"]));
      expect(tab).toMatchObject({
        kind: 'tab_missing',
        httpStatus: 400,
        googleStatus: 'INVALID_ARGUMENT',
        attempts: 1,
      });
      expect(tab.messageEn).toContain("'It''s 报备'!A1:H");
      const grid = await caught(
        client().batchUpdate(id, [
          { repeatCell: { range: { sheetId: 99 }, cell: { note: 'x' }, fields: 'note' } },
        ]),
      );
      expect(grid.kind).toBe('tab_missing');
    });

    it('keeps other 400s as bad_request with Google’s message', async () => {
      const err = await caught(
        client().batchUpdate(id, [{ repeatCell: { range: { sheetId: 0 }, cell: { note: 'x' } } }]),
      );
      expect(err).toMatchObject({
        kind: 'bad_request',
        googleMessage: 'Invalid requests[0].repeatCell: At least one field must be specified.',
      });
    });

    it('never carries the bearer token in the error', async () => {
      fake.unshare(id, SA);
      const err = await caught(client().getSpreadsheet(id));
      expect(JSON.stringify(err)).not.toContain(token);
      expect(inspect(err, { depth: 10 })).not.toContain(token);
      expect(inspect(err, { depth: 10 })).not.toContain('ya29.');
    });
  });

  describe('retries', () => {
    it('retries 5xx with exponential backoff and jitter, then succeeds', async () => {
      fake.injectFault({ method: 'spreadsheets.values.batchGet', status: 503, times: 2 });
      const [read] = await client().batchGetValues(id, ["'It''s 报备'!A1:B2"]);
      expect(read?.values[0]).toEqual(['客户名称', '联系电话']);
      expect(fake.calls.map((c) => c.status)).toEqual([503, 503, 200]);
      // random() = 0.5 → half of the 1 s jitter on top of 1 s, then 2 s.
      expect(clock.sleeps).toEqual([1_500, 2_500]);
    });

    it('gives up after 5 tries with a typed error carrying Google’s status', async () => {
      fake.injectFault({ api: 'drive', status: 500, times: 10 });
      const err = await caught(client().getVersion(id));
      expect(err).toMatchObject({
        kind: 'unavailable',
        code: 'google.unavailable',
        httpStatus: 500,
        googleMessage: 'Internal error encountered.',
        attempts: 5,
      });
      expect(fake.calls).toHaveLength(5);
      expect(clock.sleeps).toEqual([1_500, 2_500, 4_500, 8_500]);
    });

    it('waits out a 429 quota refusal and succeeds once the minute has refilled', async () => {
      fake.setQuotas({ sheetsReadPerMinutePerUser: 2 });
      const c = client();
      await c.getSpreadsheet(id);
      await c.getSpreadsheet(id);
      const started = clock.t;
      await c.getSpreadsheet(id);
      const statuses = fake.calls.map((call) => call.status);
      expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(0);
      expect(statuses.at(-1)).toBe(200);
      expect(Math.floor(clock.t / 60_000)).toBeGreaterThan(Math.floor(started / 60_000));
    });

    it('reports rate_limited with Google’s reason when the quota never refills in time', async () => {
      const frozen = testClock(clock.t, { frozen: true });
      fake.setQuotas({ sheetsWritePerMinutePerUser: 0 });
      const err = await caught(
        client({ clock: frozen, rateLimiter: new GoogleRateLimiter(frozen) }).batchUpdateValues(id, [
          { range: "'Other'!A1", values: [['x']] },
        ]),
      );
      expect(err).toMatchObject({
        kind: 'rate_limited',
        httpStatus: 429,
        googleStatus: 'RESOURCE_EXHAUSTED',
        reason: 'RATE_LIMIT_EXCEEDED',
        attempts: 5,
        // Google sent no Retry-After: its quotas refill each minute.
        retryAfterSeconds: 60,
        code: 'google.rate_limited',
      });
      expect(frozen.sleeps).toHaveLength(4);
    });

    it('waits at least Google’s Retry-After between tries and passes the last one on when it gives up', async () => {
      fake.injectFault({ method: 'spreadsheets.get', status: 503, times: 10, retryAfterSeconds: 7 });
      const err = await caught(client().getSpreadsheet(id));
      expect(err).toMatchObject({ code: 'google.unavailable', retryAfterSeconds: 7, attempts: 5 });
      expect(err.details).toMatchObject({ retryAfterSeconds: 7 });
      expect(clock.sleeps.slice(0, 3)).toEqual([7_000, 7_000, 7_000]);
    });

    it('does not retry a 4xx that will not change', async () => {
      await caught(client().batchGetValues(id, ['Nope!A1']));
      expect(fake.calls).toHaveLength(1);
    });

    it('retries network failures and then reports Google as unreachable', async () => {
      const url = fake.url;
      await fake.close();
      const c = new GoogleSheetsClient({
        auth: { accessToken: token, identity: SA },
        rootUrl: url,
        clock,
        rateLimiter: new GoogleRateLimiter(clock),
        random: () => 0,
      });
      const err = await caught(c.getVersion(id));
      expect(err).toMatchObject({ kind: 'unreachable', httpStatus: undefined, attempts: 5 });
      expect(err.messageEn).toContain('HTTPS_PROXY');
      fake = await new FakeGoogle().start(); // for afterEach
    });
  });

  describe('token bucket', () => {
    it('keeps 150 reads by one service account under Sheets’ 60 per minute per user: no 429 at all', async () => {
      const c = client();
      const started = clock.t;
      // One after another: the test clock jumps on every wait, so a call must reach the fake at the
      // time the bucket let it go for the per-minute counts to mean anything.
      for (let i = 0; i < 150; i++) await c.batchGetValues(id, ["'Other'!A1"]);
      expect(fake.calls).toHaveLength(150);
      expect(fake.calls.filter((call) => call.status !== 200)).toEqual([]);
      // 5 at once, then 50 a minute: 145 more take at least 2.9 minutes.
      expect(clock.t - started).toBeGreaterThanOrEqual(2.9 * 60_000 - 1);
      // Never more than 55 in one clock minute.
      const perMinute = new Map<number, number>();
      for (const call of fake.calls)
        perMinute.set(Math.floor(call.at / 60_000), (perMinute.get(Math.floor(call.at / 60_000)) ?? 0) + 1);
      expect(Math.max(...perMinute.values())).toBeLessThanOrEqual(55);
    });

    it('gives reads and writes their own buckets, shared by clients of the same account', async () => {
      const limiter = new GoogleRateLimiter(clock, {
        sheetsRead: { perMinute: 1, burst: 1 },
        sheetsWrite: { perMinute: 60, burst: 1 },
        drive: { perMinute: 60, burst: 1 },
      });
      const a = client({ rateLimiter: limiter });
      const b = client({ rateLimiter: limiter });
      const started = clock.t;
      await a.batchGetValues(id, ["'Other'!A1"]);
      await a.batchUpdateValues(id, [{ range: "'Other'!A1", values: [['x']] }]);
      expect(clock.t).toBe(started); // the write did not wait for the read bucket
      await b.batchGetValues(id, ["'Other'!A1"]);
      expect(clock.t - started).toBeGreaterThanOrEqual(60_000); // b waited for a's read token
    });
  });

  describe('payload size', () => {
    it('refuses a body over Google’s 2 MB recommendation before sending it', async () => {
      const values = Array.from({ length: 3000 }, () => ['x'.repeat(800)]);
      const body = {
        valueInputOption: 'RAW',
        data: [{ range: "'Other'!A1", majorDimension: 'ROWS', values }],
      };
      expect(requestBytes(body)).toBeGreaterThan(GOOGLE_MAX_REQUEST_BYTES);
      const err = await caught(client().batchUpdateValues(id, [{ range: "'Other'!A1", values }]));
      expect(err).toMatchObject({ kind: 'payload_too_large', code: 'google.payload_too_large', attempts: 0 });
      expect(fake.calls).toHaveLength(0);
    });
  });

  describe('service account (JWT with useJWTAccessWithScope)', () => {
    let dir: string;

    beforeEach(async () => {
      dir = await mkdtemp(path.join(os.tmpdir(), 'baobei-google-'));
    });

    afterEach(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    function keyPair() {
      const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      return {
        privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
        publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      };
    }

    it('signs its own JWT from the key file; the fake verifies it and knows the caller', async () => {
      await fake.close();
      fake = await new FakeGoogle().start(); // JWTs carry the wall-clock time
      const { privatePem, publicPem } = keyPair();
      const file = path.join(dir, 'key.json');
      await writeFile(
        file,
        JSON.stringify({
          type: 'service_account',
          project_id: 'baobei-test',
          private_key_id: 'k-123',
          private_key: privatePem,
          client_email: SA,
          client_id: '1',
          token_uri: 'https://oauth2.googleapis.com/token',
        }),
      );
      const key = await loadServiceAccountKey({ file, variable: 'BAOBEI_GOOGLE_CREDENTIALS' });
      fake.addServiceAccount(SA, { publicKeyPem: publicPem, keyId: 'k-123' });
      const sheetId = fake.createSpreadsheet({
        sheets: [{ title: '报备', values: [['客户名称']] }],
        sharedWith: { [SA]: 'writer' },
      });
      const c = new GoogleSheetsClient({
        auth: { serviceAccount: key },
        rootUrl: fake.url,
        rateLimiter: new GoogleRateLimiter(),
      });
      expect(c.identity).toBe(SA);
      expect((await c.getVersion(sheetId)).version).toBe('1');
      await c.batchUpdateValues(sheetId, [{ range: "'报备'!B1", values: [['状态']] }]);
      expect(fake.values(sheetId, '报备')).toEqual([['客户名称', '状态']]);
      expect(fake.calls.map((call) => [call.identity, call.status])).toEqual([
        [SA, 200],
        [SA, 200],
      ]);
      // A key the fake does not trust is refused as unauthenticated, not retried.
      const other = keyPair();
      const stranger = new GoogleSheetsClient({
        auth: { serviceAccount: { ...key, privateKey: other.privatePem } },
        rootUrl: fake.url,
        rateLimiter: new GoogleRateLimiter(),
      });
      expect(await caught(stranger.getVersion(sheetId))).toMatchObject({
        kind: 'unauthenticated',
        attempts: 1,
      });
    });

    it('validates the key file with messages naming the variable and the field, never the key', async () => {
      const { privatePem } = keyPair();
      const source = { file: path.join(dir, 'key.json'), variable: 'BAOBEI_GOOGLE_CREDENTIALS' as const };
      const good = {
        type: 'service_account',
        project_id: 'p',
        private_key_id: 'k',
        private_key: privatePem,
        client_email: SA,
      };
      const message = (text: string): string => {
        try {
          parseServiceAccountKey(text, source);
        } catch (e) {
          expect(e).toBeInstanceOf(GoogleCredentialsError);
          expect(e).toBeInstanceOf(ConfigError);
          return (e as Error).message;
        }
        throw new Error('expected a failure');
      };
      expect(parseServiceAccountKey(JSON.stringify(good), source)).toMatchObject({
        clientEmail: SA,
        projectId: 'p',
        privateKeyId: 'k',
      });
      const { client_email: _omit, ...noEmail } = good;
      expect(message(JSON.stringify(noEmail))).toMatch(
        /BAOBEI_GOOGLE_CREDENTIALS \(.*key\.json → client_email\): 缺失 \/ missing/,
      );
      expect(message(JSON.stringify({ ...good, type: 'authorized_user' }))).toMatch(
        /→ type\): 须为 "service_account".* \/ must be "service_account"/,
      );
      expect(message('{not json')).toMatch(
        /BAOBEI_GOOGLE_CREDENTIALS \(.*key\.json\): 不是 JSON 文件.* \/ not a JSON file/,
      );
      const broken = `-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQ\n-----END PRIVATE KEY-----\n`;
      const brokenMessage = message(JSON.stringify({ ...good, private_key: broken }));
      expect(brokenMessage).toMatch(
        /→ private_key\): 不是可读的 PEM 私钥 \/ is not a readable PEM private key/,
      );
      expect(brokenMessage).not.toContain('MIIEvQ');
      const emailMessage = message(JSON.stringify({ ...good, client_email: privatePem }));
      expect(emailMessage).toMatch(/→ client_email\): /);
      expect(emailMessage).not.toContain('PRIVATE KEY');
      await expect(
        loadServiceAccountKey({ ...source, file: path.join(dir, 'missing.json') }),
      ).rejects.toThrow(/无法读取密钥文件（ENOENT） \/ cannot read the key file \(ENOENT\)/);
    });

    it('takes the key file from BAOBEI_GOOGLE_CREDENTIALS before GOOGLE_APPLICATION_CREDENTIALS', () => {
      expect(
        credentialsSource({
          BAOBEI_GOOGLE_CREDENTIALS: '/a.json',
          GOOGLE_APPLICATION_CREDENTIALS: '/b.json',
        }),
      ).toEqual({ file: '/a.json', variable: 'BAOBEI_GOOGLE_CREDENTIALS' });
      expect(credentialsSource({ GOOGLE_APPLICATION_CREDENTIALS: '/b.json' })).toEqual({
        file: '/b.json',
        variable: 'GOOGLE_APPLICATION_CREDENTIALS',
      });
      expect(credentialsSource({})).toBeUndefined();
      expect(
        loadConfig({
          BAOBEI_GOOGLE_CREDENTIALS: '/etc/baobei/key.json',
          GOOGLE_APPLICATION_CREDENTIALS: '/x.json',
        }).googleCredentials,
      ).toEqual({
        file: '/etc/baobei/key.json',
        variable: 'BAOBEI_GOOGLE_CREDENTIALS',
      });
      expect(loadConfig({ GOOGLE_APPLICATION_CREDENTIALS: '/x.json' }).googleCredentials?.variable).toBe(
        'GOOGLE_APPLICATION_CREDENTIALS',
      );
      expect(loadConfig({}).googleCredentials).toBeUndefined();
      expect(() => loadConfig({ BAOBEI_GOOGLE_CREDENTIALS: '' })).toThrow(/BAOBEI_GOOGLE_CREDENTIALS/);
    });
  });
});
