/**
 * A lowdb data dir filled through the real service over HTTP — registrations with history
 * (reviews, a closure), users, an entered calendar (issue 17), notifications and their read state,
 * an idempotent submit, audit entries — plus a kept import file in the vault, for store copy and
 * backup tests.
 */
import { randomBytes } from 'node:crypto';
import type { RowResult } from '../../core/schema.js';
import { keyringFromMasterKey, type Keyring } from '../../server/security/keyring.js';
import { DirFileVault } from '../../server/store/dirFileVault.js';
import { SYNTHETIC_2027 } from '../fixtures/calendar2027.js';
import { enterpriseRow } from './customers.js';
import { startTestService, type TestService } from './testService.js';

export interface Populated {
  dataDir: string;
  keyHex: string;
  keyring: Keyring;
  nos: string[];
}

/** Registers and reviews a few customers; used before a copy and while a backup runs. */
export async function registerSome(
  svc: TestService,
  token: string,
  from: number,
  n: number,
): Promise<string[]> {
  const rows = Array.from({ length: n }, (_, i) => enterpriseRow(from + i, { contactName: '陈伟' }));
  const res = await svc.api(token).post<{ results: RowResult[] }>('/api/registrations', { rows });
  if (res.status !== 200) throw new Error(`register: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.results.map((r) => r.registrationNo!);
}

export async function populate(options: { now?: string } = {}): Promise<Populated> {
  const keyHex = randomBytes(32).toString('hex');
  const svc = await startTestService({
    key: keyHex,
    keepData: true,
    now: options.now ?? '2026-11-23T02:00:00.000Z',
  });
  try {
    const wang = await svc.user('王磊', 'sales', '华东一部');
    const reviewer = await svc.user('张敏', 'reviewer', '华东一部');
    const nos = await registerSome(svc, wang, 1, 5);
    await svc
      .api(wang)
      .post('/api/registrations', { rows: [enterpriseRow(100)] }, { 'Idempotency-Key': 'batch-0001' });
    await svc
      .api(reviewer)
      .post(`/api/registrations/${nos[0]}/review`, { decision: 'approve', reason: '资料齐全' });
    await svc
      .api(reviewer)
      .post(`/api/registrations/${nos[1]}/review`, { decision: 'reject', reason: '信息不全' });
    await svc
      .api(wang)
      .post(`/api/registrations/${nos[2]}/close`, { outcome: 'withdrawn', note: '陈伟不买了' });
    const put = await svc.api(svc.adminToken).put('/api/calendar/2027', SYNTHETIC_2027);
    if (put.status !== 200) throw new Error(`calendar: ${put.status}`);
    await svc.api(wang).get('/api/notifications');
    const read = await svc.api(wang).post('/api/notifications/read', { all: true });
    if (read.status !== 200) throw new Error(`read: ${read.status}`);
    const keyring = keyringFromMasterKey(Buffer.from(keyHex, 'hex'));
    return { dataDir: svc.dataDir, keyHex, keyring, nos };
  } finally {
    await svc.running.close();
  }
}

/** A kept import report in the vault of a data dir, expiring at `expiresAt`. */
export async function keepFile(
  dataDir: string,
  keyring: Keyring,
  key: string,
  expiresAt: string,
): Promise<void> {
  const vault = await DirFileVault.open({ dataDir, keyring });
  await vault.put(
    { key, owner: 'u-1', kind: 'import.report', createdAt: '2026-11-23T02:00:00.000Z', expiresAt },
    Buffer.from(JSON.stringify({ rows: [{ customerName: '华信科技有限公司' }] })),
  );
}
