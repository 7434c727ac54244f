/**
 * A registration's keys are worked out from the policy read before its write; when the policy
 * changes in between so that a row needs a key not taken, the write is run again holding the whole
 * store (issue 12). Real PostgreSQL store, real service; the store is wrapped only to change the
 * policy at that moment and to see which writes ran keyed.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, expect, it } from 'vitest';
import { DEFAULT_POLICY, type Policy } from '../../core/policy.js';
import { keyringFromMasterKey, type Keyring } from '../../server/security/keyring.js';
import { RegistrationService } from '../../server/services/registrationService.js';
import { PostgresStore } from '../../server/store/postgresStore.js';
import type { Store, WriteOptions, WriteTx } from '../../server/store/store.js';
import { enterpriseRow } from '../support/customers.js';
import { dropSchema, TEST_DATABASE_URL as DATABASE_URL, uniqueSchema } from '../support/postgresSchema.js';

const schema = uniqueSchema('reglocks');
const admin = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
let store: PostgresStore | undefined;

afterAll(async () => {
  await store?.close();
  await dropSchema(DATABASE_URL, schema);
  await admin.end();
});

it('[R45] runs a registration again, exclusive, when the policy changed its lock keys after they were taken', async () => {
  const keyring = keyringFromMasterKey(randomBytes(32));
  const real = await PostgresStore.open({ connectionString: DATABASE_URL, keyring, schema });
  store = real;
  // Another administrator caps active registrations (R45) just now: every row then also needs its
  // registrant's key, which the keys worked out a moment ago do not hold.
  const { service, writes } = serviceWithPolicyChangedBeforeKeyedWrite(real, keyring, {
    ...DEFAULT_POLICY,
    maxActivePerRegistrant: 1,
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

it('[R3] looks a batch’s candidates and bans up from one prefetch per write, deciding every row as without it', async () => {
  const keyring = keyringFromMasterKey(randomBytes(32));
  const real = await PostgresStore.open({
    connectionString: DATABASE_URL,
    keyring,
    schema: `${schema}_pre`,
  });
  try {
    const clock = () => new Date('2026-11-23T02:00:00.000Z');
    const actor = { id: 'u1', name: '王磊', role: 'sales' as const, team: '华东一部' };
    // Stored before: a customer the batch registers again, and one whose registration was voided
    // for false information, which bans its registrant from it (R27).
    await new RegistrationService({ store: real, keyring, clock }).submit(actor, [
      { ...enterpriseRow(1), clientRowId: 1 },
      { ...enterpriseRow(2), clientRowId: 2 },
    ]);
    await real.write(async (tx) => {
      const voided = (await tx.getRecord('BB-2026-000002'))!;
      await tx.putRecord({ ...voided, status: 'void', version: voided.version + 1 });
      await tx.addBan({
        registrant: '王磊',
        identity: voided.identity,
        until: '2027-02-22',
        recordNo: voided.no,
        at: '2026-11-20T00:00:00.000Z',
      });
    });
    const rows = [
      { ...enterpriseRow(1), clientRowId: 1 },
      { ...enterpriseRow(2), clientRowId: 2 },
      { ...enterpriseRow(3), clientRowId: 3 },
      // The customer of the row before, and that customer by name only: later rows see earlier ones.
      { ...enterpriseRow(3), clientRowId: 4 },
      { ...enterpriseRow(3, { creditCode: undefined, contactPhone: undefined }), clientRowId: 5 },
      {
        customerName: '王伟',
        customerType: '个人',
        contactPhone: '13912345678',
        source: '展会',
        clientRowId: 6,
      },
    ];
    /** The store as the service sees it, each write's look-ups recorded, with prefetching left out or not. */
    const watched = (prefetch: boolean) => {
      const uncovered: string[][] = [];
      let prefetches = 0;
      const watch = (tx: WriteTx): WriteTx => {
        let covered: Set<string> | undefined;
        const seen = (keys: readonly string[]) => {
          if (!covered || keys.some((key) => !covered!.has(key))) uncovered.push([...keys]);
        };
        return Object.assign(Object.create(tx) as WriteTx, {
          prefetchKeys: prefetch
            ? async (keys: readonly string[]) => {
                prefetches++;
                covered = new Set(keys);
                await tx.prefetchKeys!(keys);
              }
            : undefined,
          findRecordsByKeys: (
            keys: readonly string[],
            accept?: Parameters<WriteTx['findRecordsByKeys']>[1],
          ) => {
            seen(keys);
            return tx.findRecordsByKeys(keys, accept);
          },
          findBans: (keys: readonly string[], registrant: string, today: string) => {
            seen(keys);
            return tx.findBans(keys, registrant, today);
          },
        });
      };
      const store: Store = Object.assign(Object.create(real) as Store, {
        write: <T>(fn: (tx: WriteTx) => Promise<T>, options?: WriteOptions) =>
          real.write((tx) => fn(watch(tx)), options),
        simulate: <T>(fn: (tx: WriteTx) => Promise<T>, options?: WriteOptions) =>
          real.simulate((tx) => fn(watch(tx)), options),
      });
      return {
        service: new RegistrationService({ store, keyring, clock }),
        uncovered,
        prefetches: () => prefetches,
      };
    };
    const without = watched(false);
    const withPrefetch = watched(true);
    const checked = await without.service.check(actor, rows);
    expect(await withPrefetch.service.check(actor, rows)).toEqual(checked);
    expect(withPrefetch.prefetches()).toBe(1);
    expect(withPrefetch.uncovered).toEqual([]);
    // The check above decided something worth comparing: a stored repeat, a ban, repeats within the batch.
    expect(checked.map((r) => r.status)).toEqual([
      'duplicate',
      'rejected',
      'pending',
      'duplicate',
      'duplicate',
      'pending',
    ]);
    const submitted = await withPrefetch.service.submit(actor, rows);
    expect(submitted.results.map((r) => r.status)).toEqual(checked.map((r) => r.status));
    expect(withPrefetch.prefetches()).toBe(2);
    expect(withPrefetch.uncovered).toEqual([]);
  } finally {
    await real.close();
    await dropSchema(DATABASE_URL, `${schema}_pre`);
  }
});

it('[R6] admits a row again inside the write when the policy changed after its lock keys were worked out', async () => {
  const keyring = keyringFromMasterKey(randomBytes(32));
  const real = await PostgresStore.open({ connectionString: DATABASE_URL, keyring, schema: `${schema}_adm` });
  try {
    await real.write((tx) => tx.putPolicy({ ...DEFAULT_POLICY, sourceRequired: false }));
    // The source becomes required between admitting the rows for their keys and the write: the
    // lock keys stay the same, so only admitting the row again finds it invalid now.
    const { service, writes } = serviceWithPolicyChangedBeforeKeyedWrite(real, keyring, {
      ...DEFAULT_POLICY,
      sourceRequired: true,
    });
    const outcome = await service.submit({ id: 'u1', name: '王磊', role: 'sales', team: '华东一部' }, [
      { ...enterpriseRow(1), clientRowId: 1 },
      { ...enterpriseRow(2, { source: undefined }), clientRowId: 2 },
    ]);
    expect(writes[0]).not.toBe('exclusive');
    expect(outcome.results.map((r) => r.status)).toEqual(['pending', 'invalid']);
  } finally {
    await real.close();
    await dropSchema(DATABASE_URL, `${schema}_adm`);
  }
});

/**
 * A service whose store has `policy` put by "another administrator" just before the first keyed
 * write runs — after the service worked its lock keys and admissions out under the old policy.
 * `writes` records each write's keys, or 'exclusive'.
 */
function serviceWithPolicyChangedBeforeKeyedWrite(
  real: Store,
  keyring: Keyring,
  policy: Policy,
): { service: RegistrationService; writes: (readonly string[] | 'exclusive')[] } {
  const writes: (readonly string[] | 'exclusive')[] = [];
  const wrapped: Store = Object.create(real) as Store;
  wrapped.write = async <T>(fn: (tx: WriteTx) => Promise<T>, options?: WriteOptions): Promise<T> => {
    writes.push(options?.keys ?? 'exclusive');
    if (options?.keys !== undefined && writes.length === 1) await real.write((tx) => tx.putPolicy(policy));
    return real.write(fn, options);
  };
  const service = new RegistrationService({
    store: wrapped,
    keyring,
    clock: () => new Date('2026-11-23T02:00:00.000Z'),
  });
  return { service, writes };
}
