/**
 * A registration's keys are worked out from the policy read before its write; when the policy
 * changes in between so that a row needs a key not taken, the write is run again holding the whole
 * store (issue 12). Real PostgreSQL store, real service; the store is wrapped only to change the
 * policy at that moment and to see which writes ran keyed.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, expect, it } from 'vitest';
import { DEFAULT_POLICY } from '../../core/policy.js';
import { keyringFromMasterKey } from '../../server/security/keyring.js';
import { RegistrationService } from '../../server/services/registrationService.js';
import { PostgresStore } from '../../server/store/postgresStore.js';
import type { Store, WriteOptions, WriteTx } from '../../server/store/store.js';
import { enterpriseRow } from '../support/customers.js';

const DATABASE_URL = process.env.BAOBEI_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const schema = `reglocks_${process.pid}_${randomBytes(4).toString('hex')}`;
const admin = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
let store: PostgresStore | undefined;

afterAll(async () => {
  await store?.close();
  await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await admin.end();
});

it('[R45] runs a registration again, exclusive, when the policy changed its lock keys after they were taken', async () => {
  const keyring = keyringFromMasterKey(randomBytes(32));
  const real = await PostgresStore.open({ connectionString: DATABASE_URL, keyring, schema });
  store = real;
  const writes: (readonly string[] | 'exclusive')[] = [];
  let changed = false;
  const wrapped: Store = Object.create(real) as Store;
  wrapped.write = async <T>(fn: (tx: WriteTx) => Promise<T>, options?: WriteOptions): Promise<T> => {
    writes.push(options?.keys ?? 'exclusive');
    if (options?.keys !== undefined && !changed) {
      // Another administrator caps active registrations (R45) just now: every row then also needs
      // its registrant's key, which the keys worked out a moment ago do not hold.
      changed = true;
      await real.write((tx) => tx.putPolicy({ ...DEFAULT_POLICY, maxActivePerRegistrant: 1 }));
    }
    return real.write(fn, options);
  };
  const service = new RegistrationService({
    store: wrapped,
    keyring,
    clock: () => new Date('2026-11-23T02:00:00.000Z'),
  });
  const outcome = await service.submit({ id: 'u1', name: '王磊', role: 'sales', team: '华东一部' }, [
    { ...enterpriseRow(1), clientRowId: 1 },
    { ...enterpriseRow(2), clientRowId: 2 },
  ]);
  // The first write ran keyed and was abandoned; the second held the whole store and decided under
  // the new policy: one active registration per registrant, so the second row is refused.
  expect(writes).toHaveLength(2);
  expect(writes[0]).not.toBe('exclusive');
  expect(writes[0]).not.toContain('rg:王磊');
  expect(writes[1]).toBe('exclusive');
  expect(outcome.results[0]?.status).toBe('pending');
  expect(outcome.results[1]?.status).not.toBe('pending');
  const saved = await admin.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${schema}".records`);
  expect(saved.rows[0]?.n).toBe(1);
});
