/**
 * The Sheets suites' set-up: the fake Google server, the real googleapis client talking to it with
 * a fixed token for the service account, and the real service (HTTP, lowdb in a temp dir) holding
 * that client — the scheduler and sweep set far apart so syncs run only when a test asks. The
 * links' owner, reviewer 王磊 of 华东一部, is created. Set SHEETS_TEST_LOG=1 to see the log.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { expect } from 'vitest';
import { loadConfig } from '../../server/config.js';
import { createLogger } from '../../server/logger.js';
import { startService, type RunningService } from '../../server/service.js';
import { GoogleSheetsClient } from '../../server/sheets/googleClient.js';
import { GoogleRateLimiter } from '../../server/sheets/googleRateLimiter.js';
import { FakeGoogle, type FakeGoogleOptions } from '../fakes/fakeGoogle.js';
import { apiClient, type Api } from '../support/testService.js';

export const SERVICE_ACCOUNT = 'baobei-sync@baobei-test.iam.gserviceaccount.com';

export interface SheetsService {
  fake: FakeGoogle;
  service: RunningService;
  dataDir: string;
  key: string;
  admin: Api;
  close(): Promise<void>;
}

export async function startSheetsService(options: {
  dirPrefix: string;
  /** The fake's clock (its per-minute quotas); the wall clock when absent. */
  googleNow?: () => number;
  /** The service's clock; 2026-11-23 10:00 Shanghai when absent. */
  serviceNow?: () => Date;
  /** More of the fake's options (e.g. whether row metadata follows a sort). */
  google?: Omit<FakeGoogleOptions, 'now'>;
  /** More of the service's environment (e.g. BAOBEI_STORE=postgres and its schema). */
  env?: Record<string, string>;
}): Promise<SheetsService> {
  const fake = await new FakeGoogle({
    ...options.google,
    ...(options.googleNow ? { now: options.googleNow } : {}),
  }).start();
  const clock = { now: () => Date.now(), sleep: async () => {} };
  const google = new GoogleSheetsClient({
    auth: { accessToken: fake.issueToken(SERVICE_ACCOUNT), identity: SERVICE_ACCOUNT },
    rootUrl: fake.url,
    clock,
    rateLimiter: new GoogleRateLimiter(clock),
    random: () => 0,
    retry: { maxAttempts: 2, baseDelayMs: 1, rateLimitBaseDelayMs: 1, maxDelayMs: 1, jitterMs: 0 },
  });
  const dataDir = await mkdtemp(path.join(os.tmpdir(), options.dirPrefix));
  const key = randomBytes(32).toString('hex');
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    BAOBEI_DATA_DIR: dataDir,
    BAOBEI_KEY: key,
    LOG_LEVEL: 'info',
    BAOBEI_SWEEP_SECONDS: '3600',
    BAOBEI_SHEETS_SYNC_SECONDS: '3600',
    ...options.env,
  });
  const sink = new Writable({
    write: (c: Buffer, _e, cb) => {
      if (process.env.SHEETS_TEST_LOG) process.stderr.write(c);
      cb();
    },
  });
  const fixedNow = new Date('2026-11-23T02:00:00.000Z');
  const service = await startService(config, {
    logger: createLogger('info', sink),
    clock: options.serviceNow ?? (() => fixedNow),
    google,
  });
  const admin = apiClient(service.url, (await readFile(path.join(dataDir, 'admin.token'), 'utf8')).trim());
  expect((await admin.post('/api/users', { name: '王磊', role: 'reviewer', team: '华东一部' })).status).toBe(
    201,
  );
  return {
    fake,
    service,
    dataDir,
    key,
    admin,
    async close() {
      await service.close();
      await fake.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Links `sheet` of `spreadsheet` for 华东一部 with 王磊 (the harness's reviewer) as owner; the link's id. */
export async function linkSheet(admin: Api, spreadsheet: string, sheet: string): Promise<string> {
  const res = await admin.post<{ id: string }>('/api/sheets', {
    spreadsheet,
    sheet,
    team: '华东一部',
    owner: '王磊',
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id;
}
