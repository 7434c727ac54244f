/**
 * The PostgreSQL adapter: the store contract on a real server (one fresh schema per test), plus
 * what only a shared database has — two instances serialised by the advisory lock, a wrong key
 * refused, a failed transaction that leaves no row behind, index keys kept current, big batches.
 * No skip when PostgreSQL is missing: these tests fail (CI runs PostgreSQL).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_POLICY } from '../../core/policy.js';
import { indexKeys } from '../../core/matching.js';
import { keyringFromMasterKey, type Keyring } from '../../server/security/keyring.js';
import { PostgresStore } from '../../server/store/postgresStore.js';
import { LifecycleService } from '../../server/services/lifecycleService.js';
import { openObjectionWindows } from '../../server/services/recordPages.js';
import { RegistrationService } from '../../server/services/registrationService.js';
import { describeStoreContract } from './storeContract.js';
import { identity, record } from '../support/storedRecords.js';
import { dropSchema, TEST_DATABASE_URL as DATABASE_URL, uniqueSchema } from '../support/postgresSchema.js';

/** The test's own connection, to look at and drop schemas behind the store's back. */
const admin = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
afterAll(async () => {
  await admin.end();
});

async function tablesOf(schema: string): Promise<string[]> {
  const result = await admin.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name`,
    [schema],
  );
  return result.rows.map((row) => row.table_name);
}

/** Every row of every table of the schema, as PostgreSQL prints it. */
async function schemaText(schema: string): Promise<string> {
  let text = '';
  for (const table of await tablesOf(schema)) {
    const result = await admin.query<{ row: string }>(`SELECT t::text AS row FROM "${schema}"."${table}" t`);
    text += `${table}\n${result.rows.map((row) => row.row).join('\n')}\n`;
  }
  return text;
}

async function rowCounts(schema: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of await tablesOf(schema)) {
    const result = await admin.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${schema}"."${table}"`);
    counts[table] = result.rows[0]?.n ?? -1;
  }
  return counts;
}

function openStore(schema: string, keyring: Keyring): Promise<PostgresStore> {
  return PostgresStore.open({ connectionString: DATABASE_URL, keyring, schema });
}

function no(n: number): string {
  return `BB-2026-${String(n).padStart(6, '0')}`;
}

/**
 * Takes a schema back to version 5: registration numbers taken one PL/pgSQL call per number, a
 * record's index keys only in record_keys, found by number through the record_keys_no index.
 */
async function dropVersion6(schema: string): Promise<void> {
  await admin.query(`DROP FUNCTION "${schema}".take_registration_nos`);
  await admin.query(`ALTER TABLE "${schema}".records DROP COLUMN keys`);
  await admin.query(`CREATE INDEX record_keys_no ON "${schema}".record_keys (no)`);
}

/**
 * Takes a schema's records back to before version 4: no objection flag or deadline, no share partner's
 * number in clear, no writer's transaction id (version 5) (the meta version is set by the caller).
 */
async function dropVersion4(schema: string): Promise<void> {
  await dropVersion6(schema);
  await admin.query(
    `ALTER TABLE "${schema}".records DROP COLUMN objection_open, DROP COLUMN objection_deadline,
       DROP COLUMN shared_with_no, DROP COLUMN written_xid`,
  );
}

describeStoreContract('postgres', async () => {
  const schema = uniqueSchema('baobei_test');
  const keyring = keyringFromMasterKey(randomBytes(32));
  let store = await openStore(schema, keyring);
  return {
    store,
    async reopen() {
      await store.close();
      store = await openStore(schema, keyring);
      return store;
    },
    restText: () => schemaText(schema),
    async reopenAsBeforeObjectionFlag() {
      await store.close();
      await dropVersion4(schema);
      await admin.query(`UPDATE "${schema}".meta SET value = '3' WHERE name = 'version'`);
      store = await openStore(schema, keyring);
      return store;
    },
    async reopenAsBeforeSharePartnerNo() {
      await store.close();
      // A version-4 schema whose shares were written by version 3: the column is there, empty (and
      // version 5's written_xid not yet).
      await admin.query(`UPDATE "${schema}".records SET shared_with_no = NULL`);
      await dropVersion6(schema);
      await admin.query(`ALTER TABLE "${schema}".records DROP COLUMN written_xid`);
      await admin.query(`UPDATE "${schema}".meta SET value = '4' WHERE name = 'version'`);
      store = await openStore(schema, keyring);
      return store;
    },
    async dispose() {
      await store.close();
      await dropSchema(DATABASE_URL, schema);
    },
  };
});

describe('postgres store on a shared database', () => {
  const keyring = keyringFromMasterKey(randomBytes(32));
  const schemas: string[] = [];
  const stores: PostgresStore[] = [];

  async function fresh(): Promise<string> {
    const schema = uniqueSchema('baobei_test');
    schemas.push(schema);
    return schema;
  }

  /** Takes a schema back to before version 3 (lock rows, numbers from sequences) and 4. */
  async function dropVersion3(schema: string): Promise<void> {
    await dropVersion4(schema);
    await admin.query(`DROP TABLE "${schema}".lock_keys`);
    await admin.query(
      `DROP FUNCTION "${schema}".next_registration_no, "${schema}".last_registration_no, "${schema}".lock_rows`,
    );
  }

  async function open(schema: string, key: Keyring = keyring): Promise<PostgresStore> {
    const store = await openStore(schema, key);
    stores.push(store);
    return store;
  }

  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
    for (const schema of schemas.splice(0)) await dropSchema(DATABASE_URL, schema);
  });

  it('serialises transactions across two instances: read-modify-write never loses an update', async () => {
    const schema = await fresh();
    // Both start together on a new schema: creating the tables must not race either.
    const [a, b] = await Promise.all([open(schema), open(schema)]);
    await a.write((tx) => tx.putRecord(record(no(1))));
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        (i % 2 === 0 ? a : b).write(async (tx) => {
          const r = (await tx.getRecord(no(1)))!;
          // Without the lock, the other instance would read the same version meanwhile.
          await new Promise((resolve) => setTimeout(resolve, 5));
          r.followUps.push({ at: '2026-11-21T00:00:00.000Z', by: 'x', note: `n${i}` });
          r.version++;
          await tx.putRecord(r);
        }),
      ),
    );
    const fromB = await b.read((tx) => tx.getRecord(no(1)));
    expect(fromB?.followUps).toHaveLength(20);
    expect(fromB?.version).toBe(21);
    expect((await a.read((tx) => tx.getRecord(no(1))))?.version).toBe(21);
  });

  it('claimDocs skips documents another connection holds, and hands them out once released', async () => {
    const schema = await fresh();
    const store = await open(schema);
    await store.write(async (tx) => {
      for (const k of ['a', 'b', 'c']) await tx.putDoc('outbox', k, { k });
    });
    // Another instance's worker holds 'a' in its transaction (a row lock, as its claim would take).
    const other = await admin.connect();
    try {
      await other.query('BEGIN');
      await other.query(
        `SELECT key FROM "${schema}".docs WHERE collection = 'outbox' AND key = 'a' FOR UPDATE`,
      );
      const claimed = await store.write((tx) => tx.claimDocs('outbox', { limit: 2 }));
      expect(claimed.map((d) => d.key)).toEqual(['b', 'c']);
      await other.query('ROLLBACK');
    } finally {
      other.release();
    }
    expect((await store.write((tx) => tx.claimDocs('outbox', { limit: 1 }))).map((d) => d.key)).toEqual([
      'a',
    ]);
  });

  it('migrates a version-1 schema (before documents) on open, keeping its records', async () => {
    const schema = await fresh();
    const first = await open(schema);
    await first.write((tx) => tx.putRecord(record(no(1))));
    await first.close();
    stores.splice(stores.indexOf(first), 1);
    await admin.query(`DROP TABLE "${schema}".docs`);
    await dropVersion3(schema);
    await admin.query(`UPDATE "${schema}".meta SET value = '1' WHERE name = 'version'`);
    const migrated = await open(schema);
    expect((await migrated.read((tx) => tx.getRecord(no(1))))?.no).toBe(no(1));
    await migrated.write((tx) => tx.putDoc('calendars', '2027', { ok: true }));
    expect(await migrated.read((tx) => tx.getDoc('calendars', '2027'))).toEqual({ ok: true });
    const version = await admin.query<{ value: string }>(
      `SELECT value FROM "${schema}".meta WHERE name = 'version'`,
    );
    expect(version.rows[0]?.value).toBe('6');
  });

  it('[R16] migrates a version-3 schema: shares written before get their partner number, and list as the day says', async () => {
    const schema = await fresh();
    const first = await open(schema);
    const share = (n: number, partner: number, overrides: Parameters<typeof record>[1] = {}) =>
      record(no(n), {
        status: 'protected',
        protectedFrom: '2026-10-01',
        protectedUntil: '2026-12-29',
        share: { withNo: no(partner), withRegistrant: '李娜', percent: 60 },
        ...overrides,
      });
    await first.write(async (tx) => {
      await tx.putRecord(share(1, 2));
      // Li's own share ran out on 2026-11-30 (not swept).
      await tx.putRecord(
        share(2, 1, {
          registration: { ...record(no(2)).registration, registrant: '李娜' },
          protectedUntil: '2026-11-30',
        }),
      );
    });
    await first.close();
    stores.splice(stores.indexOf(first), 1);
    await dropVersion4(schema);
    await admin.query(`UPDATE "${schema}".meta SET value = '3' WHERE name = 'version'`);
    const migrated = await open(schema);
    const listedToLi = async (today: string): Promise<string[]> =>
      (
        await migrated.read((tx) => tx.listRecords({ today, registrant: '李娜', limit: 10, offset: 0 }))
      ).items.map((r) => r.no);
    // Nothing rewritten: the migration filled the partner number, so Li lists Wang's share no more.
    expect(await listedToLi('2026-12-15')).toEqual([no(2)]);
    expect(await listedToLi('2026-11-30')).toEqual([no(2), no(1)]);
    const filled = await admin.query<{ no: string; shared_with_no: string | null }>(
      `SELECT no, shared_with_no FROM "${schema}".records ORDER BY no`,
    );
    expect(filled.rows).toEqual([
      { no: no(1), shared_with_no: no(2) },
      { no: no(2), shared_with_no: no(1) },
    ]);
    const version = await admin.query<{ value: string }>(
      `SELECT value FROM "${schema}".meta WHERE name = 'version'`,
    );
    expect(version.rows[0]?.value).toBe('6');
  });

  it('[issue 12] migrates a populated version-5 schema: each record keeps its keys with it, and updates and the sweep replace them without record_keys_no', async () => {
    const schema = await fresh();
    const first = await open(schema);
    // More records than a flush writes at once; pairs share a phone (a key filed under two records).
    const identityOf = (i: number) => identity(no(i), { phone: `h-phone-${Math.ceil(i / 2)}` });
    const count = 1_203;
    await first.write(async (tx) => {
      for (let i = 1; i <= count; i++) {
        // The first ten protect until a day now past: the sweep ends them (and so rewrites them).
        const ended = i <= 10 ? { status: 'protected' as const, protectedUntil: '2026-11-01' } : {};
        await tx.putRecord(record(no(i), { identity: identityOf(i), ...ended }));
      }
    });
    await first.close();
    stores.splice(stores.indexOf(first), 1);
    await dropVersion6(schema);
    await admin.query(`UPDATE "${schema}".meta SET value = '5' WHERE name = 'version'`);

    const migrated = await open(schema);
    const version = await admin.query<{ value: string }>(
      `SELECT value FROM "${schema}".meta WHERE name = 'version'`,
    );
    expect(version.rows[0]?.value).toBe('6');
    const indexes = await admin.query<{ indexname: string }>(
      `SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND tablename = 'record_keys'`,
      [schema],
    );
    expect(indexes.rows.map((row) => row.indexname)).toEqual(['record_keys_pkey']);
    /** Each record's keys as the record lists them, and as record_keys files them, by number. */
    const keysOf = async () => {
      const listed = await admin.query<{ no: string; keys: string[] }>(
        `SELECT no, keys FROM "${schema}".records ORDER BY no`,
      );
      const filed = await admin.query<{ no: string; keys: string[] }>(
        `SELECT no, array_agg(key ORDER BY key) AS keys FROM "${schema}".record_keys GROUP BY no ORDER BY no`,
      );
      return {
        listed: new Map(listed.rows.map((row) => [row.no, [...row.keys].sort()])),
        filed: new Map(filed.rows.map((row) => [row.no, row.keys])),
      };
    };
    const expected = (id: ReturnType<typeof identity>) => [...new Set(indexKeys(id))].sort();
    const after = await keysOf();
    expect(after.listed.size).toBe(count);
    for (let i = 1; i <= count; i++) {
      expect(after.listed.get(no(i))).toEqual(expected(identityOf(i)));
      expect(after.filed.get(no(i))).toEqual(expected(identityOf(i)));
    }

    // An update with another identity: the old keys go, its partner's shared phone key stays.
    const moved = identity('moved', { phone: 'h-phone-moved' });
    await migrated.write(async (tx) => {
      const r = (await tx.getRecord(no(11)))!;
      await tx.putRecord({ ...r, identity: moved, version: r.version + 1 });
    });
    const oldKeys = indexKeys(identityOf(11));
    expect((await migrated.read((tx) => tx.findRecordsByKeys(oldKeys))).map((r) => r.no)).toEqual([no(12)]);
    expect((await migrated.read((tx) => tx.findRecordsByKeys(indexKeys(moved)))).map((r) => r.no)).toEqual([
      no(11),
    ]);
    // The sweep ends the first ten protections: rewritten, filed under their keys exactly once.
    const clock = () => new Date('2026-11-23T02:00:00.000Z');
    const deps = { store: migrated, keyring, clock };
    const sweep = await new LifecycleService(deps, new RegistrationService(deps)).sweep();
    expect(sweep.expired).toBe(10);
    const swept = await keysOf();
    for (let i = 1; i <= 10; i++) expect(swept.filed.get(no(i))).toEqual(expected(identityOf(i)));
    expect(swept.filed.get(no(11))).toEqual(expected(moved));
    expect(swept.listed.get(no(11))).toEqual(expected(moved));
    const total = await admin.query<{ filed: number; listed: number }>(
      `SELECT (SELECT count(*) FROM "${schema}".record_keys)::int AS filed,
              (SELECT sum(cardinality(keys)) FROM "${schema}".records)::int AS listed`,
    );
    expect(total.rows[0]?.filed).toBe(total.rows[0]?.listed);
  });

  it('migrates a version-4 schema: records written before are not "written since" any later mark', async () => {
    const schema = await fresh();
    const first = await open(schema);
    await first.write(async (tx) => {
      await tx.putRecord(record(no(1)));
      await tx.putRecord(record(no(2)));
    });
    await first.close();
    stores.splice(stores.indexOf(first), 1);
    await dropVersion6(schema);
    await admin.query(`ALTER TABLE "${schema}".records DROP COLUMN written_xid`);
    await admin.query(`UPDATE "${schema}".meta SET value = '4' WHERE name = 'version'`);
    const migrated = await open(schema);
    const mark = await migrated.read((tx) => tx.writeMark());
    expect(await migrated.read((tx) => tx.recordsWrittenSince(mark))).toEqual([]);
    await migrated.write((tx) => tx.putRecord(record(no(2), { version: 2 })));
    const since = await migrated.read((tx) => tx.recordsWrittenSince(mark));
    expect(since?.map((r) => `${r.no}@${r.version}`)).toEqual([`${no(2)}@2`]);
    const version = await admin.query<{ value: string }>(
      `SELECT value FROM "${schema}".meta WHERE name = 'version'`,
    );
    expect(version.rows[0]?.value).toBe('6');
  });

  it('[R7] migrates a version-2 schema (numbers from a counter row): numbering goes on past the counter', async () => {
    const schema = await fresh();
    const first = await open(schema);
    await first.close();
    stores.splice(stores.indexOf(first), 1);
    await dropVersion3(schema);
    await admin.query(`INSERT INTO "${schema}".counters (year, n) VALUES (2026, 41)`);
    await admin.query(`UPDATE "${schema}".meta SET value = '2' WHERE name = 'version'`);
    const migrated = await open(schema);
    expect(await migrated.write((tx) => tx.nextRegistrationNo(2026))).toBe(no(42));
    expect((await migrated.dump()).counters).toEqual({ '2026': 42 });
  });

  it('[R12] migrates a version-3 schema: every page of rejected records is opened once for the objection flag', async () => {
    const schema = await fresh();
    const first = await open(schema);
    const filed = { at: '2026-11-21T02:00:00.000Z', reason: '已先拜访', against: no(9999) };
    // More rejected records than the migration opens per query, waiting ones on the first and last page.
    const count = 1_203;
    await first.write(async (tx) => {
      for (let n = 1; n <= count; n++) {
        const waits = n === 2 || n === count;
        await tx.putRecord(record(no(n), { status: 'rejected', ...(waits ? { objection: filed } : {}) }));
      }
    });
    await first.close();
    stores.splice(stores.indexOf(first), 1);
    await dropVersion4(schema);
    await admin.query(`UPDATE "${schema}".meta SET value = '3' WHERE name = 'version'`);
    const migrated = await open(schema);
    const waiting = await migrated.read((tx) =>
      tx.listRecords({ today: '2026-11-23', objectionOpen: true, limit: 10, offset: 0 }),
    );
    expect(waiting.items.map((r) => r.no).sort()).toEqual([no(2), no(count)]);
    const indexes = await admin.query<{ indexdef: string }>(
      `SELECT indexdef FROM pg_indexes WHERE schemaname = $1 AND indexname = 'records_objection_open'`,
      [schema],
    );
    expect(indexes.rows[0]?.indexdef).toMatch(/WHERE objection_open/);
  });

  it('[R12] the desk, the open objection windows and the records written since are read through their indexes at 20,000 records', async () => {
    const schema = await fresh();
    const store = await open(schema);
    await store.write((tx) => tx.putRecord(record(no(1))));
    // 20,000 rows in one statement, the seal of the record above copied (the plans are read, no row
    // is opened): 18,000 rejections with windows long closed, 20 of them with an objection waiting,
    // 30 with a window open; the rest pending or protected.
    await admin.query(
      `INSERT INTO "${schema}".records (no, status, registrant, team, received_at, received_day, claimed_at,
         protected_until, identity, version, sealed, objection_open, objection_deadline)
       SELECT format('BB-2025-%s', lpad(i::text, 6, '0')),
         CASE WHEN i <= 18000 THEN 'rejected' WHEN i % 2 = 0 THEN 'pending' ELSE 'protected' END,
         '销售' || (i % 50), '团队' || (i % 10), r.received_at, r.received_day, r.claimed_at,
         CASE WHEN i > 18000 AND i % 2 = 1 THEN '2026-12-30' END, r.identity, 1, r.sealed,
         i <= 20,
         CASE WHEN i <= 18000 THEN CASE WHEN i BETWEEN 100 AND 129 THEN '2026-11-25' ELSE '2026-01-10' END END
       FROM generate_series(1, 20000) AS i, "${schema}".records r WHERE r.no = $1`,
      [no(1)],
    );
    await admin.query(`ANALYZE "${schema}".records`);
    // The statements as the store sends them, text and values, taken off the connection.
    const sent: { text: string; values: unknown[] }[] = [];
    const query = pg.Client.prototype.query;
    const spy = function (this: pg.Client, ...args: unknown[]): unknown {
      const config = args[0] as { text?: unknown; values?: unknown[] } | undefined;
      if (typeof config?.text === 'string' && /objection_(open|deadline)|written_xid >=/.test(config.text))
        sent.push({ text: config.text, values: config.values ?? [] });
      return (query as (...a: unknown[]) => unknown).apply(this, args);
    };
    pg.Client.prototype.query = spy as typeof query;
    try {
      await store.read(async (tx) => {
        for await (const _ of tx.scanRecords({ today: '2026-11-23', objectionOpen: true }, 1000));
        const scope = { registrants: ['张敏'], teams: ['团队3'] };
        for await (const _ of tx.scanRecords({ today: '2026-11-23', scope, objectionOpen: true }, 1000));
        expect(await openObjectionWindows(tx, '2026-11-23')).toHaveLength(30);
        // And the reminder sweep's records written since its last pass (none here).
        expect(await tx.recordsWrittenSince(await tx.writeMark())).toEqual([]);
      });
    } finally {
      pg.Client.prototype.query = query;
    }
    expect(sent).toHaveLength(4);
    const indexesOf = async (statement: { text: string; values: unknown[] }): Promise<string[]> => {
      const plan = await admin.query<{ 'QUERY PLAN': unknown }>(
        `EXPLAIN (FORMAT JSON) ${statement.text}`,
        statement.values,
      );
      const names: string[] = [];
      const walk = (node: unknown): void => {
        if (Array.isArray(node)) node.forEach(walk);
        else if (node !== null && typeof node === 'object')
          for (const [k, v] of Object.entries(node)) {
            if (k === 'Index Name' && typeof v === 'string') names.push(v);
            else walk(v);
          }
      };
      walk(plan.rows[0]?.['QUERY PLAN']);
      return names;
    };
    expect(await indexesOf(sent[0]!)).toContain('records_objection_open');
    expect(await indexesOf(sent[1]!)).toContain('records_objection_open');
    expect(await indexesOf(sent[2]!)).toContain('records_objection_deadline');
    expect(await indexesOf(sent[3]!)).toContain('records_written_xid');
  });

  it('[R7] numbers registrations without gaps or repeats across two instances', async () => {
    const schema = await fresh();
    const a = await open(schema);
    const b = await open(schema);
    const taken = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).write((tx) => tx.nextRegistrationNo(2026))),
    );
    expect([...taken].sort()).toEqual(Array.from({ length: 20 }, (_, i) => no(i + 1)));
    // Several numbers asked for at once inside one transaction are distinct too, and saved at commit.
    const together = await a.write((tx) => Promise.all([1, 2, 3].map(() => tx.nextRegistrationNo(2026))));
    expect([...together].sort()).toEqual([no(21), no(22), no(23)]);
    expect(await b.write((tx) => tx.nextRegistrationNo(2026))).toBe(no(24));
  });

  it('refuses to open data written with another key', async () => {
    const schema = await fresh();
    await (await open(schema)).close();
    const other = keyringFromMasterKey(randomBytes(32));
    await expect(openStore(schema, other)).rejects.toMatchObject({ code: 'store.key_mismatch' });
    // The right key still opens it: the refusal changed nothing.
    await open(schema);
  });

  it('refuses a schema holding something other than a Baobei store', async () => {
    const schema = await fresh();
    await admin.query(`CREATE SCHEMA "${schema}"; CREATE TABLE "${schema}".meta (name text, value text)`);
    await expect(openStore(schema, keyring)).rejects.toMatchObject({ code: 'store.corrupt' });
    await expect(openStore(schema, keyring)).rejects.toThrow(schema);
  });

  it('refuses a schema name that is not a plain identifier', async () => {
    await expect(openStore('baobei; DROP TABLE x', keyring)).rejects.toThrow(/schema name/);
  });

  it("refuses PostgreSQL's own schemas (information_schema, pg_*) and creates nothing in them", async () => {
    // information_schema is a plain identifier, and PostgreSQL lets a superuser create tables in it:
    // the store's tables would sit among the catalog views, and dropping the schema is impossible.
    await expect(openStore('information_schema', keyring)).rejects.toThrow(/schema name/);
    expect(await tablesOf('information_schema')).not.toContain('records');
    await expect(openStore('pg_baobei', keyring)).rejects.toThrow(/schema name/);
  });

  it('leaves no row behind when a transaction throws, even rows already sent to the server', async () => {
    const schema = await fresh();
    const store = await open(schema);
    const before = await rowCounts(schema);
    await expect(
      store.write(async (tx) => {
        // More records than fit one statement, so some reach the server before the throw.
        for (let i = 1; i <= 700; i++) await tx.putRecord(record(no(i), { identity: identity(`r${i}`) }));
        await tx.nextRegistrationNo(2026);
        await tx.putUser({ id: 'u1', name: '王磊', role: 'sales', tokenHash: 'th', createdAt: 'x' });
        await tx.putPolicy(DEFAULT_POLICY);
        await tx.addBan({
          registrant: '王磊',
          identity: identity('b'),
          until: '2027-01-01',
          recordNo: no(1),
          at: 'x',
        });
        await tx.addNotifications([
          { id: 'n1', to: { name: '王磊' }, type: 'decision', recordNo: no(1), at: 'x', details: {} },
        ]);
        await tx.putIdempotency({
          userId: 'u1',
          key: 'k',
          bodyHash: 'h',
          at: 'x',
          response: { status: 200, body: {} },
        });
        expect((await tx.listRecords({ today: '2026-11-23', limit: 1, offset: 0 })).total).toBe(700);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await rowCounts(schema)).toEqual(before);
    expect(before).toMatchObject({
      records: 0,
      record_keys: 0,
      counters: 0,
      users: 0,
      bans: 0,
      notifications: 0,
    });
    expect(await store.write((tx) => tx.nextRegistrationNo(2026))).toBe(no(1));
  });

  it('fails a write whose statement failed even when fn caught the error (PostgreSQL rolled it back)', async () => {
    const schema = await fresh();
    const store = await open(schema);
    await expect(
      store.write(async (tx) => {
        await tx.putRecord(record(no(1)));
        // Sends the staged record, so that no statement runs between the failure and COMMIT.
        await tx.listRecords({ today: '2026-11-23', limit: 1, offset: 0 });
        // A year beyond the integer column: the statement fails and aborts the transaction.
        await tx.nextRegistrationNo(2 ** 40).catch(() => undefined);
      }),
    ).rejects.toThrow(/rolled back/);
    expect(await store.read((tx) => tx.getRecord(no(1)))).toBeUndefined();
    // The connection went back to the pool clean: the next write works.
    await store.write((tx) => tx.putRecord(record(no(2))));
    expect(await store.read((tx) => tx.getRecord(no(2)))).toBeDefined();
  });

  it('keeps index keys current: a rewritten record is found by its new keys only', async () => {
    const schema = await fresh();
    const store = await open(schema);
    const before = identity('a', { phone: 'h-phone-old' });
    const after = identity('a', { phone: 'h-phone-new' });
    await store.write((tx) => tx.putRecord(record(no(1), { identity: before })));
    await store.write((tx) => tx.putRecord(record(no(1), { identity: after, version: 2 })));
    const byOld = await store.read((tx) => tx.findRecordsByKeys(['ph:h-phone-old']));
    const byNew = await store.read((tx) => tx.findRecordsByKeys(['ph:h-phone-new']));
    expect(byOld).toEqual([]);
    expect(byNew.map((r) => [r.no, r.version])).toEqual([[no(1), 2]]);
    // Within one transaction too, before anything is sent to the server.
    const staged = await store.simulate(async (tx) => {
      await tx.putRecord(record(no(1), { identity: before, version: 3 }));
      return {
        old: (await tx.findRecordsByKeys(['ph:h-phone-old'])).map((r) => r.version),
        new: (await tx.findRecordsByKeys(['ph:h-phone-new'])).map((r) => r.version),
      };
    });
    expect(staged).toEqual({ old: [3], new: [] });
  });

  it('saves a 1,000-row batch in one transaction; each row sees the rows before it', async () => {
    const schema = await fresh();
    const store = await open(schema);
    const seen = await store.write(async (tx) => {
      let found = 0;
      for (let i = 1; i <= 1000; i++) {
        // Pairs of records share a phone: the second of each pair must find the first.
        const id = identity(`r${i}`, { phone: `h-phone-${Math.ceil(i / 2)}` });
        found += (await tx.findRecordsByKeys(indexKeys(id))).length;
        const registrationNo = await tx.nextRegistrationNo(2026);
        await tx.putRecord(record(registrationNo, { identity: id }));
      }
      return found;
    });
    expect(seen).toBe(500);
    const counts = await rowCounts(schema);
    expect(counts.records).toBe(1000);
    const pair = await store.read((tx) => tx.findRecordsByKeys(['ph:h-phone-250']));
    expect(pair.map((r) => r.no).sort()).toEqual([no(499), no(500)]);
    expect(await store.read((tx) => tx.getRecord(no(1000)))).toMatchObject({
      no: no(1000),
      status: 'pending',
    });
  });

  it('[issue 12] analyses a young store as it grows, so its batch look-ups are planned on its size, not an empty table', async () => {
    const schema = await fresh();
    const store = await open(schema);
    const statistics = async () =>
      (
        await admin.query<{ relname: string; reltuples: number }>(
          `SELECT relname, reltuples FROM pg_class WHERE relnamespace = $1::regnamespace
           AND relname IN ('records', 'record_keys') ORDER BY relname`,
          [schema],
        )
      ).rows.map((row) => `${row.relname} ${row.reltuples}`);
    // Never analysed: PostgreSQL estimates from the pages alone (reltuples -1).
    expect(await statistics()).toEqual(['record_keys -1', 'records -1']);
    await store.write(async (tx) => {
      for (let i = 1; i <= 1200; i++) {
        const id = identity(`r${i}`, { phone: `a-phone-${i}` });
        await tx.putRecord(record(await tx.nextRegistrationNo(2026), { identity: id }));
      }
    });
    // The ANALYZE runs after the commit, beside the writes; close waits for it.
    await store.close();
    const [keys, records] = await statistics();
    expect(records).toBe('records 1200');
    expect(Number(keys!.split(' ')[1])).toBeGreaterThanOrEqual(1200);
  });

  it('searches sealed names with correct totals and pages, and sees names another instance changed', async () => {
    const schema = await fresh();
    const a = await open(schema);
    const b = await open(schema);
    await a.write(async (tx) => {
      for (let i = 1; i <= 10; i++) {
        const customer = i % 2 === 0 ? `上海华信科技有限公司${i}` : `北京聚源贸易有限公司${i}`;
        const receivedAt = `2026-11-${String(i).padStart(2, '0')}T01:00:00.000Z`;
        await tx.putRecord(record(no(i), { identity: identity(`r${i}`), receivedAt }, customer));
      }
    });
    const today = '2026-11-23';
    const page = await a.read((tx) => tx.listRecords({ today, q: '华信', limit: 2, offset: 1 }));
    expect(page.total).toBe(5);
    expect(page.items.map((r) => r.no)).toEqual([no(8), no(6)]);
    const scoped = await a.read((tx) =>
      tx.listRecords({ today, q: '华信', statuses: ['pending'], limit: 10, offset: 0 }),
    );
    expect(scoped.total).toBe(5);
    await b.write(async (tx) => {
      const r = (await tx.getRecord(no(10)))!;
      r.registration.customerName = '深圳新名字有限公司';
      await tx.putRecord(r);
    });
    expect((await a.read((tx) => tx.listRecords({ today, q: '华信', limit: 10, offset: 0 }))).total).toBe(4);
    const renamed = await a.read((tx) => tx.listRecords({ today, q: '新名字', limit: 10, offset: 0 }));
    expect(renamed.items.map((r) => r.no)).toEqual([no(10)]);
  });

  it('[R36] keeps the audit trail append-only in the database', async () => {
    const schema = await fresh();
    const store = await open(schema);
    await store.appendAudit([
      {
        at: '2026-11-20T00:00:00.000Z',
        actor: '王磊',
        actorRole: 'sales',
        action: 'registration.read',
        records: [no(1)],
      },
    ]);
    await expect(admin.query(`UPDATE "${schema}".audit SET actor = 'x'`)).rejects.toThrow(/append-only/);
    await expect(admin.query(`DELETE FROM "${schema}".audit`)).rejects.toThrow(/append-only/);
    expect((await store.listAudit({ limit: 10, offset: 0 })).items).toMatchObject([
      { actor: '王磊', records: [no(1)] },
    ]);
  });
});
