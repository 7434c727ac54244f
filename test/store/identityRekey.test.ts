/**
 * Re-keying stored records (server/services/identityRekey.ts) on both adapters: a record stored
 * under keys computed by older rules is found by its customer's current keys only after the pass,
 * on the open store (lowdb's in-memory index, PostgreSQL's key rows) and after reopening it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  compareIdentities,
  hashIdentityKeys,
  identityKeys,
  IDENTITY_RULES_VERSION,
  lookupKeys,
} from '../../core/matching.js';
import { DEFAULT_POLICY, type Policy } from '../../core/policy.js';
import { eraseRecord } from '../../core/retention.js';
import type { IdentityKeys, Registration, StoredRecord } from '../../core/schema.js';
import {
  rekeyIfNeeded,
  storedIdentityRules,
  type RekeyOptions,
} from '../../server/services/identityRekey.js';
import { keyringFromMasterKey, type Keyring } from '../../server/security/keyring.js';
import { LowdbStore } from '../../server/store/lowdbStore.js';
import { PostgresStore } from '../../server/store/postgresStore.js';
import type { Store } from '../../server/store/store.js';
import { STARRED, starredKeysOfVersion1 } from '../support/identityRulesV1.js';
import { record } from '../support/storedRecords.js';
import { dropSchema, TEST_DATABASE_URL as DATABASE_URL, uniqueSchema } from '../support/postgresSchema.js';

interface Harness {
  store: Store;
  reopen(): Promise<Store>;
  dispose(): Promise<void>;
}

const ADAPTERS: [string, (keyring: Keyring) => Promise<Harness>][] = [
  [
    'lowdb',
    async (keyring) => {
      const dataDir = await mkdtemp(path.join(os.tmpdir(), 'baobei-rekey-'));
      let store = await LowdbStore.open({ dataDir, keyring });
      return {
        store,
        async reopen() {
          await store.close();
          return (store = await LowdbStore.open({ dataDir, keyring }));
        },
        async dispose() {
          await store.close();
          await rm(dataDir, { recursive: true, force: true });
        },
      };
    },
  ],
  [
    'postgres',
    async (keyring) => {
      const schema = uniqueSchema('baobei_test');
      const open = () => PostgresStore.open({ connectionString: DATABASE_URL, keyring, schema });
      let store = await open();
      return {
        store,
        async reopen() {
          await store.close();
          return (store = await open());
        },
        async dispose() {
          await store.close();
          await dropSchema(DATABASE_URL, schema);
        },
      };
    },
  ],
];

const CLOCK: RekeyOptions['clock'] = () => new Date('2026-12-01T02:00:00Z');
const TODAY = '2026-12-01';
const PLAIN = '上海华信科技有限公司';

function registration(customerName: string, fields: Partial<Registration> = {}): Registration {
  return { customerName, customerType: 'enterprise', registrant: '王磊', ...fields };
}

function stored(no: string, reg: Registration, identity: IdentityKeys): StoredRecord {
  const base = record(no, { status: 'protected', protectedUntil: '2027-03-01' }, reg.customerName);
  return { ...base, registration: reg, identity };
}

/** Records a registration of `name` would be compared with, and how each matches it. */
async function matchesOf(
  store: Store,
  keyring: Keyring,
  name: string,
  policy: Policy = DEFAULT_POLICY,
  fields: Partial<Registration> = {},
): Promise<Record<string, string | undefined>> {
  const keys = hashIdentityKeys(identityKeys(registration(name, fields)), keyring.hash);
  const found = await store.read((tx) => tx.findRecordsByKeys(lookupKeys(keys, policy)));
  return Object.fromEntries(
    found.map((r) => [r.no, compareIdentities(keys, r.identity, policy)?.strength ?? 'none']),
  );
}

describe.each(ADAPTERS)('identity re-key: %s', (_adapter, open) => {
  it('re-keys a record stored under version 1 keys: then a ★ or plain registration conflicts with it', async () => {
    const keyring = keyringFromMasterKey(randomBytes(32));
    const h = await open(keyring);
    try {
      const starred = registration(STARRED);
      const other = registration('北京博远贸易有限公司');
      const oldIdentity = hashIdentityKeys(starredKeysOfVersion1(starred), keyring.hash);
      await h.store.write(async (tx) => {
        await tx.putRecord(stored('BB-2026-000001', starred, oldIdentity));
        await tx.putRecord(
          stored('BB-2026-000002', other, hashIdentityKeys(identityKeys(other), keyring.hash)),
        );
        // R27: the holder of the starred record was barred from its customer (under its old keys).
        await tx.addBan({
          registrant: '王磊',
          identity: oldIdentity,
          until: '2027-06-01',
          recordNo: 'BB-2026-000001',
          at: '2026-11-20T02:00:00.000Z',
        });
      });
      // The bug, as stored: neither the plain nor the starred name finds the record.
      expect(await matchesOf(h.store, keyring, PLAIN)).toEqual({});
      expect(await matchesOf(h.store, keyring, STARRED)).toEqual({});

      const result = await rekeyIfNeeded(h.store, keyring, { clock: CLOCK });
      expect(result).toMatchObject({ checked: 2, rekeyed: 1, bans: 1, from: null });
      expect(result?.to).toEqual({ version: IDENTITY_RULES_VERSION });

      // On the open store (its in-memory index or key rows follow the write), then read back anew.
      for (const store of [h.store, undefined]) {
        const now = store ?? (await h.reopen());
        expect(await matchesOf(now, keyring, PLAIN)).toEqual({ 'BB-2026-000001': 'exact' });
        expect(await matchesOf(now, keyring, STARRED)).toEqual({ 'BB-2026-000001': 'exact' });
        expect(await matchesOf(now, keyring, '“上海华信科技有限公司”')).toEqual({
          'BB-2026-000001': 'exact',
        });
        const plainKeys = hashIdentityKeys(identityKeys(registration(PLAIN)), keyring.hash);
        const bans = await now.read((tx) => tx.findBans(lookupKeys(plainKeys), '王磊', TODAY));
        expect(bans.map((ban) => ban.recordNo)).toContain('BB-2026-000001');
        expect(await storedIdentityRules(now)).toEqual(result?.to);
        // Recorded: the next start does nothing.
        expect(await rekeyIfNeeded(now, keyring, { clock: CLOCK })).toBeNull();
      }
    } finally {
      await h.dispose();
    }
  });

  it('[R39] leaves a destroyed record unfindable: its erased registration is not keyed again', async () => {
    const keyring = keyringFromMasterKey(randomBytes(32));
    const h = await open(keyring);
    try {
      const reg = registration(STARRED);
      const live = stored('BB-2026-000001', reg, hashIdentityKeys(starredKeysOfVersion1(reg), keyring.hash));
      const destroyed = eraseRecord(live, '2026-11-30T02:00:00.000Z', {
        requestedBy: 'admin',
        approvedBy: 'admin2',
        requestId: 'r1',
      });
      await h.store.write((tx) => tx.putRecord({ ...destroyed, no: 'BB-2026-000002' }));
      const result = await rekeyIfNeeded(h.store, keyring, { clock: CLOCK });
      expect(result).toMatchObject({ checked: 1, rekeyed: 0 });
      const after = await h.store.read((tx) => tx.getRecord('BB-2026-000002'));
      expect(after?.identity).toEqual(destroyed.identity);
      expect(await matchesOf(h.store, keyring, destroyed.registration.customerName)).toEqual({});
    } finally {
      await h.dispose();
    }
  });

  it('recordNumbers: every record once, in code-unit order, a write seeing its own', async () => {
    const keyring = keyringFromMasterKey(randomBytes(32));
    const h = await open(keyring);
    try {
      const reg = registration(PLAIN);
      const keys = hashIdentityKeys(identityKeys(reg), keyring.hash);
      await h.store.write(async (tx) => {
        for (const no of ['BB-2026-000010', 'BB-2025-000002', 'BB-2026-000002']) {
          await tx.putRecord(stored(no, reg, keys));
        }
      });
      const inWrite = await h.store.simulate(async (tx) => {
        await tx.putRecord(stored('BB-2024-000001', reg, keys));
        await tx.putRecord(stored('BB-2026-000002', reg, keys));
        return tx.recordNumbers();
      });
      expect(inWrite).toEqual(['BB-2024-000001', 'BB-2025-000002', 'BB-2026-000002', 'BB-2026-000010']);
      expect(await h.store.read((tx) => tx.recordNumbers())).toEqual([
        'BB-2025-000002',
        'BB-2026-000002',
        'BB-2026-000010',
      ]);
    } finally {
      await h.dispose();
    }
  });

  it('an interrupted pass records nothing, and the next one finishes it', async () => {
    const keyring = keyringFromMasterKey(randomBytes(32));
    const h = await open(keyring);
    try {
      await h.store.write(async (tx) => {
        for (let i = 1; i <= 5; i++) {
          const reg = registration(STARRED, { contactName: `联系人${i}` });
          const no = `BB-2026-00000${i}`;
          await tx.putRecord(stored(no, reg, hashIdentityKeys(starredKeysOfVersion1(reg), keyring.hash)));
        }
      });
      const stop = new Error('stopped midway');
      await expect(
        rekeyIfNeeded(h.store, keyring, {
          clock: CLOCK,
          batchSize: 2,
          onBatch: ({ checked }) => {
            if (checked >= 2) throw stop;
          },
        }),
      ).rejects.toBe(stop);
      expect(await storedIdentityRules(h.store)).toBeNull();
      expect(Object.keys(await matchesOf(h.store, keyring, PLAIN))).toHaveLength(2);

      const store = await h.reopen();
      const result = await rekeyIfNeeded(store, keyring, { clock: CLOCK, batchSize: 2 });
      expect(result).toMatchObject({ checked: 5, rekeyed: 3 });
      expect(Object.keys(await matchesOf(store, keyring, PLAIN))).toHaveLength(5);
    } finally {
      await h.dispose();
    }
  });

  it('a pass overtaken by another (a forced one, or another instance starting) leaves the latest to record the rules', async () => {
    const keyring = keyringFromMasterKey(randomBytes(32));
    const h = await open(keyring);
    try {
      const starred = registration(STARRED);
      await h.store.write(async (tx) => {
        for (const i of [1, 2, 3, 4]) {
          await tx.putRecord(
            stored(
              `BB-2026-00000${i}`,
              starred,
              hashIdentityKeys(starredKeysOfVersion1(starred), keyring.hash),
            ),
          );
        }
      });
      let overtaken = false;
      let recordedMidway: unknown = 'not read';
      await rekeyIfNeeded(h.store, keyring, {
        clock: CLOCK,
        batchSize: 2,
        onBatch: async () => {
          if (overtaken) return;
          overtaken = true;
          await rekeyIfNeeded(h.store, keyring, { clock: CLOCK, batchSize: 2, force: true });
          recordedMidway = await storedIdentityRules(h.store);
        },
      });
      // The second pass ran whole between two pages of the first and recorded the rules; the first,
      // ending after it, found another pass's mark and left the record as it was.
      expect(recordedMidway).toEqual({ version: IDENTITY_RULES_VERSION });
      expect(await storedIdentityRules(h.store)).toEqual({ version: IDENTITY_RULES_VERSION });
      expect(Object.keys(await matchesOf(h.store, keyring, PLAIN))).toHaveLength(4);
      expect(await rekeyIfNeeded(h.store, keyring, { clock: CLOCK })).toBeNull();
    } finally {
      await h.dispose();
    }
  });

  it('[R19] turning householdIsOneCustomer on or off needs no re-key: members stored while it was off are found at once', async () => {
    const keyring = keyringFromMasterKey(randomBytes(32));
    const h = await open(keyring);
    try {
      const member = registration('李秀英', { customerType: 'individual', householdOf: '王建国' });
      const identity = hashIdentityKeys(identityKeys(member), keyring.hash);
      await h.store.write(async (tx) => {
        await tx.putPolicy(DEFAULT_POLICY);
        await tx.putRecord(stored('BB-2026-000001', member, identity));
        // R27: 王磊 was barred from the member while households were not joined.
        await tx.addBan({
          registrant: '王磊',
          identity,
          until: '2027-06-01',
          recordNo: 'BB-2026-000001',
          at: '2026-11-01T00:00:00.000Z',
        });
      });
      expect(await rekeyIfNeeded(h.store, keyring, { clock: CLOCK })).toMatchObject({ rekeyed: 0 });
      const head = { customerType: 'individual' as const };
      // Households not joined: the head of the member's household is no match of it.
      expect(await matchesOf(h.store, keyring, '王建国', DEFAULT_POLICY, head)).toEqual({});

      const households: Policy = { ...DEFAULT_POLICY, householdIsOneCustomer: true };
      for (const policy of [households, DEFAULT_POLICY, households]) {
        await h.store.write((tx) => tx.putPolicy(policy));
        // Found the moment households are joined: no window in which a pass has not reached it yet.
        expect(await matchesOf(h.store, keyring, '王建国', policy, head)).toEqual(
          policy.householdIsOneCustomer ? { 'BB-2026-000001': 'exact' } : {},
        );
        expect(await rekeyIfNeeded(h.store, keyring, { clock: CLOCK })).toBeNull();
      }
      // Joined: the head conflicts with the member stored before, with no pass in between, and the
      // ban filed then bars 王磊 from the household as well.
      for (const opened of [h.store, undefined]) {
        const store = opened ?? (await h.reopen());
        expect(await matchesOf(store, keyring, '王建国', households, head)).toEqual({
          'BB-2026-000001': 'exact',
        });
        const headKeys = hashIdentityKeys(identityKeys(registration('王建国', head)), keyring.hash);
        const bans = await store.read((tx) => tx.findBans(lookupKeys(headKeys, households), '王磊', TODAY));
        expect(bans.map((ban) => ban.recordNo)).toEqual(['BB-2026-000001']);
        expect((await store.dump()).bans).toHaveLength(1);
      }
    } finally {
      await h.dispose();
    }
  });

  it('[R19] a store keyed by version 3 with households not joined is re-keyed once: its members gain their household key', async () => {
    const keyring = keyringFromMasterKey(randomBytes(32));
    const h = await open(keyring);
    try {
      const member = registration('李秀英', { customerType: 'individual', householdOf: '王建国' });
      // Version 3 kept the household key only while the policy joined households.
      const version3 = hashIdentityKeys({ ...identityKeys(member), household: null }, keyring.hash);
      await h.store.write(async (tx) => {
        await tx.putPolicy(DEFAULT_POLICY);
        await tx.putRecord(stored('BB-2026-000001', member, version3));
        await tx.putDoc('store-meta', 'identity-rules', { version: 3, householdIsOneCustomer: false });
      });
      expect(await storedIdentityRules(h.store)).toEqual({ version: 3 });
      const result = await rekeyIfNeeded(h.store, keyring, { clock: CLOCK });
      expect(result).toMatchObject({
        rekeyed: 1,
        from: { version: 3 },
        to: { version: IDENTITY_RULES_VERSION },
      });

      const households: Policy = { ...DEFAULT_POLICY, householdIsOneCustomer: true };
      await h.store.write((tx) => tx.putPolicy(households));
      expect(await matchesOf(h.store, keyring, '王建国', households, { customerType: 'individual' })).toEqual(
        { 'BB-2026-000001': 'exact' },
      );
    } finally {
      await h.dispose();
    }
  });
});
