/**
 * Registration numbers (R7) on PostgreSQL as a registration batch takes them: all of a batch's
 * numbers in one round trip (the rows the batch admitted are how many it may need), unique across
 * instances writing at once. Real PostgreSQL store, real service; the pg client is only counted.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, afterEach, expect, it } from 'vitest';
import { keyringFromMasterKey } from '../../server/security/keyring.js';
import { RegistrationService } from '../../server/services/registrationService.js';
import { PostgresStore } from '../../server/store/postgresStore.js';
import { counted } from '../support/countedStatements.js';
import { enterpriseRow } from '../support/customers.js';
import { dropSchema, TEST_DATABASE_URL as DATABASE_URL, uniqueSchema } from '../support/postgresSchema.js';

const admin = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
const keyring = keyringFromMasterKey(randomBytes(32));
const clock = () => new Date('2026-11-23T02:00:00.000Z');
const actor = { id: 'u1', name: '王磊', role: 'sales' as const, team: '华东一部' };
const schemas: string[] = [];
const stores: PostgresStore[] = [];

async function open(schema: string): Promise<PostgresStore> {
  const store = await PostgresStore.open({ connectionString: DATABASE_URL, keyring, schema });
  stores.push(store);
  return store;
}

function freshSchema(): string {
  const schema = uniqueSchema('regnos');
  schemas.push(schema);
  return schema;
}

afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
  await dropSchema(DATABASE_URL, ...schemas.splice(0));
});
afterAll(async () => {
  await admin.end();
});

const rows = (from: number, count: number) =>
  Array.from({ length: count }, (_, i) => ({ ...enterpriseRow(from + i), clientRowId: i + 1 }));

it('[R7] a 200-row submit takes its numbers in four round trips (32, 32, 64, 72), and the next batch goes on after them', async () => {
  const store = await open(freshSchema());
  const service = new RegistrationService({ store, keyring, clock });
  const { result, statements } = await counted(() => service.submit(actor, rows(1, 200)));
  const numbers = result.results.map((r) => r.registrationNo);
  expect(numbers).toEqual(Array.from({ length: 200 }, (_, i) => `BB-2026-${String(i + 1).padStart(6, '0')}`));
  // Was 11 blocks (1, 2, 4 … 32 numbers) of a PL/pgSQL call per number, in a batch of 21 statements.
  // Now a block is as large as the rows still admitted, bounded by the numbers already used (so that
  // rows that end up saving nothing leave a small gap); the old keys are deleted inside the upsert
  // (schema 6), not by a statement of their own.
  expect(statements.filter((s) => s.endsWith('.nextNumbers'))).toHaveLength(4);
  expect(statements.filter((s) => s.endsWith('.deleteRecordKeys'))).toHaveLength(0);
  expect(statements.length).toBeLessThanOrEqual(13);
  // Every admitted row was saved: the batch took exactly its numbers, and the next goes on from them.
  const next = await service.submit(actor, rows(201, 3));
  expect(next.results.map((r) => r.registrationNo)).toEqual([
    'BB-2026-000201',
    'BB-2026-000202',
    'BB-2026-000203',
  ]);
});

it('[R7] a batch whose rows are all stored already takes no number', async () => {
  const store = await open(freshSchema());
  const service = new RegistrationService({ store, keyring, clock });
  await service.submit(actor, rows(1, 5));
  const { result, statements } = await counted(() => service.submit(actor, rows(1, 5)));
  // Duplicates: each row answers with the number it was saved under before.
  expect(result.results.map((r) => [r.status, r.registrationNo])).toEqual(
    Array.from({ length: 5 }, (_, i) => ['duplicate', `BB-2026-00000${i + 1}`]),
  );
  expect(statements.filter((s) => s.endsWith('.nextNumbers'))).toHaveLength(0);
  expect((await service.submit(actor, rows(6, 1))).results[0]?.registrationNo).toBe('BB-2026-000006');
});

it('[R7] one new customer ahead of many duplicates leaves a gap of at most 31 numbers, not one per duplicate', async () => {
  const store = await open(freshSchema());
  const service = new RegistrationService({ store, keyring, clock });
  await service.submit(actor, rows(2, 300));
  // Row 1 is new and decided first, with 300 admitted rows still ahead that all turn out duplicates.
  const { result } = await counted(() => service.submit(actor, rows(1, 301)));
  expect(result.results[0]?.registrationNo).toBe('BB-2026-000301');
  expect(result.results.slice(1).every((r) => r.status === 'duplicate')).toBe(true);
  const next = Number((await service.submit(actor, rows(400, 1))).results[0]?.registrationNo?.slice(-6));
  expect(next).toBeGreaterThan(301);
  expect(next - 301 - 1).toBeLessThanOrEqual(31);
});

it('[R7] two instances submitting batches at once on one database never hand out a number twice', async () => {
  const schema = freshSchema();
  const [a, b] = [await open(schema), await open(schema)];
  const services = [a, b].map((store) => new RegistrationService({ store, keyring, clock }));
  // Eight batches of 40 new customers each, four per instance, all in flight together.
  const outcomes = await Promise.all(
    Array.from({ length: 8 }, (_, i) => services[i % 2]!.submit(actor, rows(1 + i * 40, 40))),
  );
  const numbers = outcomes.flatMap((o) => o.results.map((r) => r.registrationNo));
  expect(numbers.every((n) => n !== undefined && /^BB-2026-\d{6}$/.test(n))).toBe(true);
  expect(new Set(numbers).size).toBe(320);
  const stored = await admin.query<{ no: string }>(`SELECT no FROM "${schema}".records ORDER BY no`);
  expect(stored.rows.map((r) => r.no)).toEqual([...numbers].sort());
});
