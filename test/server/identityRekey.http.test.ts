/**
 * The first start after an upgrade of the identity rules re-keys the stored records before serving:
 * a record stored under version 1 keys (★ hid its region) then conflicts with the plain name.
 */
import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { hashIdentityKeys, identityKeys, lookupKeys } from '../../core/matching.js';
import type { Registration, SubmissionRow } from '../../core/schema.js';
import { rekeyIfNeeded, STORE_META_COLLECTION } from '../../server/services/identityRekey.js';
import { keyringFromMasterKey, parseMasterKey } from '../../server/security/keyring.js';
import { LowdbStore } from '../../server/store/lowdbStore.js';
import { record } from '../support/storedRecords.js';
import { runCli } from '../support/childService.js';
import { phoneFor } from '../support/customers.js';
import { STARRED, starredKeysOfVersion1 } from '../support/identityRulesV1.js';
import { startTestApp, startTestService, type TestService } from '../support/testService.js';
import type { ReadTx, Store } from '../../server/store/store.js';

interface Results {
  results: { status: string; registrationNo?: string; conflicts: { registrationNo: string }[] }[];
}

const services: TestService[] = [];
afterEach(async () => {
  for (const s of services.splice(0)) await s.close();
});

/** An enterprise known by name and address (R5), no credit code: only the name can match. */
function row(customerName: string, n: number): SubmissionRow {
  return {
    customerName,
    customerType: '企业',
    address: '上海市浦东新区世纪大道100号',
    contactPhone: phoneFor(n),
    source: '展会',
  };
}

describe('identity re-key at start-up', () => {
  it('a plain-name registration conflicts with a ★-name record stored under the old keys, after restart', async () => {
    const key = randomBytes(32).toString('hex');
    const first = await startTestService({ keepData: true, key });
    services.push(first);
    const wang = await first.user('王磊', 'sales');
    const saved = await first.api(wang).post<Results>('/api/registrations', { rows: [row(STARRED, 1)] });
    expect(saved.body.results[0]?.status).toBe('pending');
    const dataDir = first.dataDir;
    await services.pop()!.close();

    // The store as the previous version left it: the record under version 1 keys, no rules recorded.
    const keyring = keyringFromMasterKey(parseMasterKey(key));
    const old = await LowdbStore.open({ dataDir, keyring });
    await old.write(async (tx) => {
      const stored = await tx.getRecord('BB-2026-000001');
      if (stored === undefined) throw new Error('record missing');
      const identity = hashIdentityKeys(starredKeysOfVersion1(stored.registration), keyring.hash);
      await tx.putRecord({ ...stored, identity });
      await tx.deleteDoc(STORE_META_COLLECTION, 'identity-rules');
    });
    await old.close();

    const second = await startTestService({ dataDir, key });
    services.push(second);
    const li = await second.user('李娜', 'sales');
    // One request per name: rows of one batch would meet each other first (R3).
    for (const [n, name] of ['上海华信科技有限公司', '“上海华信科技有限公司”', STARRED].entries()) {
      const res = await second.api(li).post<Results>('/api/check', { rows: [row(name, n + 2)] });
      expect(res.body.results[0]?.status, name).toBe('conflict');
      expect(res.body.results[0]?.conflicts[0]?.registrationNo, name).toBe('BB-2026-000001');
    }
    // Counts only: no customer name in the log.
    expect(second.logText()).toMatch(/"rekeyed":1\b.*identity re-key done/);
    expect(second.logText()).not.toContain('华信');
    await rm(dataDir, { recursive: true, force: true }).catch(() => undefined);
  });

  it('[R27][R38] a ban stays in force after the re-key when its record was handed over to someone else', async () => {
    const key = randomBytes(32).toString('hex');
    const first = await startTestService({ keepData: true, key });
    services.push(first);
    const wang = await first.user('王磊', 'sales');
    await first.user('李娜', 'sales');
    const saved = await first.api(wang).post<Results>('/api/registrations', { rows: [row(STARRED, 1)] });
    const no = saved.body.results[0]?.registrationNo as string;
    const admin = first.api(first.adminToken);
    const closed = await admin.post(`/api/registrations/${no}/close`, {
      outcome: 'false_info',
      note: '虚假信息',
    });
    expect(closed.status).toBe(200);
    const dataDir = first.dataDir;
    await services.pop()!.close();

    // The store as the previous version left it: record and ban under version 1 keys, no rules
    // recorded, and the terminated record handed over (R38), which that version allowed (a closed
    // record is no longer transferred): the ban stays 王磊's, he gave the false information.
    const keyring = keyringFromMasterKey(parseMasterKey(key));
    const old = await LowdbStore.open({ dataDir, keyring });
    const dump = await old.dump();
    await old.close();
    const v1 = (reg: Registration) => hashIdentityKeys(starredKeysOfVersion1(reg), keyring.hash);
    const stored = dump.records.find((r) => r.no === no)!;
    expect(dump.bans).toMatchObject([{ registrant: '王磊', recordNo: no }]);
    const oldDir = await mkdtemp(path.join(os.tmpdir(), 'baobei-rekey-ban-'));
    const seeded = await LowdbStore.open({ dataDir: oldDir, keyring });
    await seeded.load({
      ...dump,
      records: dump.records.map((r) =>
        r.no === no
          ? {
              ...r,
              registration: { ...r.registration, registrant: '李娜' },
              history: [
                ...r.history,
                {
                  at: r.history.at(-1)!.at,
                  by: 'admin',
                  action: 'transfer',
                  details: { from: '王磊', to: '李娜' },
                },
              ],
              identity: v1(r.registration),
            }
          : r,
      ),
      bans: dump.bans.map((b) => ({ ...b, identity: v1(stored.registration) })),
      docs: dump.docs.filter((d) => d.collection !== STORE_META_COLLECTION),
    });
    await seeded.close();
    await copyFile(path.join(dataDir, 'admin.token'), path.join(oldDir, 'admin.token'));
    await rm(dataDir, { recursive: true, force: true });

    const second = await startTestService({ dataDir: oldDir, key });
    services.push(second);
    for (const name of ['上海华信科技有限公司', STARRED]) {
      const res = await second
        .api(wang)
        .post<Results & { results: { errors: { code: string }[] }[] }>('/api/check', {
          rows: [row(name, 5)],
        });
      expect(
        res.body.results[0]?.errors.map((e) => e.code),
        name,
      ).toEqual(['registration.banned']);
    }
  });

  it('[R19] turning householdIsOneCustomer on makes a household conflict with a member registered before', async () => {
    const svc = await startTestService();
    services.push(svc);
    const wang = await svc.user('王磊', 'sales');
    const member: SubmissionRow = {
      customerName: '李秀英',
      customerType: '个人',
      contactPhone: phoneFor(11),
      householdOf: '王建国',
      source: '展会',
    };
    const saved = await svc.api(wang).post<Results>('/api/registrations', { rows: [member] });
    expect(saved.body.results[0]?.status).toBe('pending');

    const put = await svc.api(svc.adminToken).put('/api/policy', { householdIsOneCustomer: true });
    expect(put.status).toBe(200);
    const li = await svc.user('李娜', 'sales');
    const head: SubmissionRow = {
      customerName: '王建国',
      customerType: '个人',
      contactPhone: phoneFor(12),
      source: '展会',
    };
    const res = await svc.api(li).post<Results>('/api/check', { rows: [head] });
    expect(res.body.results[0]?.status).toBe('conflict');
    expect(res.body.results[0]?.conflicts[0]?.registrationNo).toBe('BB-2026-000001');
  });

  it('[R19][R36] turning householdIsOneCustomer on runs no pass over the records: answered at once, audited', async () => {
    // A store that fails when anything lists its records: a pass over them would answer 500.
    const failing = (store: Store): Store =>
      Object.assign(Object.create(store) as Store, {
        read: <T>(fn: (tx: ReadTx) => Promise<T>) =>
          store.read((tx) =>
            fn(
              Object.assign(Object.create(tx) as ReadTx, {
                recordNumbers: () => Promise.reject(new Error('store gone')),
              }),
            ),
          ),
      });
    const app = await startTestApp({ wrapStore: failing });
    try {
      const admin = await app.user('管理员', 'admin');
      const put = await app.api(admin).put('/api/policy', { householdIsOneCustomer: true });
      expect(put.status).toBe(200);
      const audit = await app.store.listAudit({ limit: 10, offset: 0 });
      expect(audit.items.find((e) => e.action === 'policy.update')?.details).toEqual({ preset: 'standard' });
      expect(await app.store.read((tx) => tx.getPolicy())).toMatchObject({ householdIsOneCustomer: true });
    } finally {
      await app.close();
    }
  });

  it('baobei store rekey re-keys a stopped store and prints counts only; a second run has nothing to do', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'baobei-rekey-cli-'));
    const key = randomBytes(32).toString('hex');
    const keyring = keyringFromMasterKey(parseMasterKey(key));
    try {
      const store = await LowdbStore.open({ dataDir, keyring });
      await store.write(async (tx) => {
        const reg: Registration = { customerName: STARRED, customerType: 'enterprise', registrant: '王磊' };
        const identity = hashIdentityKeys(starredKeysOfVersion1(reg), keyring.hash);
        await tx.putRecord({ ...record('BB-2026-000001', {}, STARRED), registration: reg, identity });
      });
      await store.close();

      const first = await runCli(['store', 'rekey'], { dataDir, key });
      expect(first.code, first.stderr).toBe(0);
      expect(first.stdout).toContain('1 checked, 1 re-keyed');
      expect(first.stdout).not.toContain('华信');
      const again = await runCli(['store', 'rekey'], { dataDir, key });
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout).toContain('nothing to do');

      const reopened = await LowdbStore.open({ dataDir, keyring });
      try {
        const plain = hashIdentityKeys(
          identityKeys({
            customerName: '上海华信科技有限公司',
            customerType: 'enterprise',
            registrant: '李娜',
          }),
          keyring.hash,
        );
        const found = await reopened.read((tx) => tx.findRecordsByKeys(lookupKeys(plain)));
        expect(found.map((r) => r.no)).toEqual(['BB-2026-000001']);
      } finally {
        await reopened.close();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('baobei store rekey --force re-keys records an older release wrote after the rules were recorded (a rollback)', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'baobei-rekey-force-'));
    const key = randomBytes(32).toString('hex');
    const keyring = keyringFromMasterKey(parseMasterKey(key));
    try {
      // Upgraded (rules recorded), then rolled back: the older release filed a record under its keys.
      const store = await LowdbStore.open({ dataDir, keyring });
      await rekeyIfNeeded(store, keyring, { clock: () => new Date() });
      await store.write(async (tx) => {
        const reg: Registration = { customerName: STARRED, customerType: 'enterprise', registrant: '王磊' };
        const identity = hashIdentityKeys(starredKeysOfVersion1(reg), keyring.hash);
        await tx.putRecord({ ...record('BB-2026-000001', {}, STARRED), registration: reg, identity });
      });
      await store.close();

      const plain = await runCli(['store', 'rekey'], { dataDir, key });
      expect(plain.stdout).toContain('nothing to do');
      const forced = await runCli(['store', 'rekey', '--force'], { dataDir, key });
      expect(forced.code, forced.stderr).toBe(0);
      expect(forced.stdout).toContain('1 checked, 1 re-keyed');
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('baobei store rekey where there is no store (a mistyped data dir) is refused and creates nothing', async () => {
    const parent = await mkdtemp(path.join(os.tmpdir(), 'baobei-rekey-none-'));
    const dataDir = path.join(parent, 'no-such-store');
    try {
      const res = await runCli(['store', 'rekey'], { dataDir, key: randomBytes(32).toString('hex') });
      // A DomainError: the CLI prints its two messages and its code, and exits 2.
      expect(res.code).toBe(2);
      expect(res.stderr).toContain('[store.not_found]');
      expect(res.stderr).toContain('此处没有存储');
      expect(res.stderr).toContain('There is no store');
      expect(res.stdout).not.toContain('re-key done');
      expect(existsSync(dataDir)).toBe(false);
    } finally {
      await rm(parent, { recursive: true, force: true });
    }
  });
});

describe('names that are only marks', () => {
  it('[R2] a customer or household named only by marks (★, ※, “”, ？？) is refused, not an exact match of every other such name', async () => {
    const svc = await startTestService();
    services.push(svc);
    const wang = await svc.user('王磊', 'sales');
    const li = await svc.user('李娜', 'sales');
    const first = await svc.api(wang).post<Results>('/api/registrations', { rows: [row('★', 1)] });
    expect(first.body.results[0]?.status).toBe('invalid');
    for (const [n, name] of ['※', '“”', '？？', '《》'].entries()) {
      const res = await svc
        .api(li)
        .post<Results & { results: { errors: { code: string }[] }[] }>('/api/check', {
          rows: [row(name, n + 2)],
        });
      expect(res.body.results[0]?.status, name).toBe('invalid');
      expect(
        res.body.results[0]?.errors.map((e) => e.code),
        name,
      ).toEqual(['name.no_letters']);
    }
    const household: SubmissionRow = {
      customerName: '李秀英',
      customerType: '个人',
      contactPhone: phoneFor(9),
      householdOf: '★',
      source: '展会',
    };
    const res = await svc
      .api(li)
      .post<Results & { results: { errors: { code: string; field: string }[] }[] }>('/api/check', {
        rows: [household],
      });
    expect(res.body.results[0]?.errors).toMatchObject([{ code: 'name.no_letters', field: 'householdOf' }]);
    // A name with letters around its marks stays a name.
    const plain = await svc.api(li).post<Results>('/api/check', { rows: [row('★华信科技', 20)] });
    expect(plain.body.results[0]?.status).toBe('pending');
  });
});
