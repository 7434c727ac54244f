/**
 * Locking on PostgreSQL (issue 12): keyed writes of other customers commit beside each other on
 * several instances while one customer's key is held; a write of that customer, and every exclusive
 * write, waits for it; a claim is refused at once while held; numbers stay unique. Waiting is seen
 * in pg_stat_activity (a backend waiting on a lock), never inferred from timing.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { keyringFromMasterKey } from '../../server/security/keyring.js';
import { PostgresStore } from '../../server/store/postgresStore.js';
import { ClaimHeldError, MAX_NOTIFICATIONS, type Notification } from '../../server/store/store.js';
import { record } from '../support/storedRecords.js';
import { dropSchema, TEST_DATABASE_URL as DATABASE_URL, uniqueSchema } from '../support/postgresSchema.js';

const admin = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
const keyring = keyringFromMasterKey(randomBytes(32));
const schemas: string[] = [];
const stores: PostgresStore[] = [];

afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
  for (const schema of schemas.splice(0)) await dropSchema(DATABASE_URL, schema);
});
afterAll(async () => {
  await admin.end();
});

/** Three instances (pools) on one fresh schema. */
async function instances(): Promise<[PostgresStore, PostgresStore, PostgresStore, string]> {
  const schema = uniqueSchema('baobei_locks');
  schemas.push(schema);
  const open = async () => {
    const store = await PostgresStore.open({ connectionString: DATABASE_URL, keyring, schema });
    stores.push(store);
    return store;
  };
  const a = await open();
  return [a, await open(), await open(), schema];
}

function gate(): { opened: Promise<void>; open: () => void } {
  let open = () => undefined as void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

function no(n: number): string {
  return `BB-2026-${String(n).padStart(6, '0')}`;
}

/** Resolves once `backends` backends wait on a lock with a query containing `text`; fails after 10 s. */
async function waitingOn(text: string, backends = 1): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const found = await admin.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND strpos(query, $1) > 0`,
      [text],
    );
    if ((found.rows[0]?.n ?? 0) >= backends) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`no backend waits on a lock for "${text}"`);
}

/** The query text of an exclusive write's wait: the schema's advisory lock (same formula as the store). */
function exclusiveLockText(schema: string): string {
  const id = createHash('sha256').update(`baobei/write-lock/${schema}`).digest().readBigInt64BE(0);
  return `pg_advisory_xact_lock(${id})`;
}

describe('keyed writes on PostgreSQL', () => {
  it('commits writes of other customers on two instances while a third holds one customer; that customer waits', async () => {
    const [a, b, c, schema] = await instances();
    const held = gate();
    const holding = gate();
    const holder = c.write(
      async (tx) => {
        await tx.putRecord(record(no(1)));
        holding.open();
        await held.opened;
      },
      { keys: ['cc:A'] },
    );
    await holding.opened;
    // Not serialised behind the holder: both commit while it still holds its key.
    await Promise.all([
      a.write((tx) => tx.putRecord(record(no(2))), { keys: ['cc:B'] }),
      b.write((tx) => tx.putRecord(record(no(3))), { keys: ['cc:C', 'nm:C'] }),
    ]);
    expect((await admin.query(`SELECT no FROM "${schema}".records ORDER BY no`)).rows).toEqual([
      { no: no(2) },
      { no: no(3) },
    ]);
    // A write sharing one key waits for the holder, then reads what it committed.
    let ran = false;
    const same = a.write(
      async (tx) => {
        ran = true;
        return (await tx.getRecord(no(1)))?.no;
      },
      { keys: ['cc:A', 'ph:Z'] },
    );
    await waitingOn(`"${schema}".lock_keys`);
    expect(ran).toBe(false);
    held.open();
    await holder;
    expect(await same).toBe(no(1));
  });

  it('an exclusive write waits for keyed writers; keyed writers that come after it wait for it', async () => {
    const [a, b, c, schema] = await instances();
    const held = gate();
    const holding = gate();
    const order: string[] = [];
    const holder = c.write(
      async () => {
        holding.open();
        await held.opened;
        order.push('keyed holder');
      },
      { keys: ['cc:A'] },
    );
    await holding.opened;
    const exclusive = b.write(async (tx) => {
      order.push('exclusive');
      return (await tx.listRecords({ today: '2026-11-23', limit: 10, offset: 0 })).total;
    });
    await waitingOn(exclusiveLockText(schema));
    const later = a.write(
      async (tx) => {
        order.push('keyed after');
        await tx.putRecord(record(no(9)));
      },
      { keys: ['cc:Q'] },
    );
    await waitingOn(`pg_advisory_xact_lock_shared(`);
    expect(order).toEqual([]);
    held.open();
    await Promise.all([holder, exclusive, later]);
    expect(order).toEqual(['keyed holder', 'exclusive', 'keyed after']);
    expect(await exclusive).toBe(0);
  });

  it('runs two writes holding a key shared together; one holding it exclusive waits for both', async () => {
    const [a, b, c, schema] = await instances();
    const held = gate();
    const holding = gate();
    const holder = c.write(
      async () => {
        holding.open();
        await held.opened;
      },
      { keys: ['nm:|王伟', 'ph:1'], sharedKeys: ['nm:|王伟'] },
    );
    await holding.opened;
    // Another individual called 王伟 (another number): commits while the first still holds the name.
    await a.write((tx) => tx.putRecord(record(no(1))), {
      keys: ['nm:|王伟', 'ph:2'],
      sharedKeys: ['nm:|王伟'],
    });
    // A household naming 王伟 holds the name exclusive: it waits.
    let ran = false;
    const household = b.write(
      async () => {
        ran = true;
      },
      { keys: ['nm:|王伟'] },
    );
    await waitingOn(`"${schema}".lock_keys`);
    expect(ran).toBe(false);
    held.open();
    await Promise.all([holder, household]);
    expect(ran).toBe(true);
  });

  it('takes a write’s shared and exclusive keys in one pass in key order, whatever their modes', async () => {
    // Two keys in lock order (the store locks by the first 8 bytes of each key's SHA-256).
    const id = (key: string) => createHash('sha256').update(key).digest().readBigInt64BE(0);
    const [low, high] = ['nm:|甲', 'nm:|乙'].sort((x, y) => (id(x) < id(y) ? -1 : 1)) as [string, string];
    const hold = async (store: PostgresStore, key: string) => {
      const held = gate();
      const holding = gate();
      const done = store.write(
        async () => {
          holding.open();
          await held.opened;
        },
        { keys: [key] },
      );
      await holding.opened;
      return { release: held.open, done };
    };
    {
      // The higher key held: a write holding the lower exclusive and the higher shared has the lower
      // by the time it waits for the higher, so a third write sharing the lower waits too.
      const [a, b, c, schema] = await instances();
      const holder = await hold(a, high);
      const mixed = b.write(async () => undefined, { keys: [low, high], sharedKeys: [high] });
      await waitingOn(`"${schema}".lock_keys`);
      let ran = false;
      const third = c.write(
        async () => {
          ran = true;
        },
        { keys: [low], sharedKeys: [low] },
      );
      await waitingOn(`"${schema}".lock_keys`, 2);
      expect(ran).toBe(false);
      holder.release();
      await Promise.all([holder.done, mixed, third]);
      expect(ran).toBe(true);
      // The lock rows are those numbers: every build on this schema version must lock the same rows.
      const rows = await admin.query<{ key: string }>(`SELECT key FROM "${schema}".lock_keys ORDER BY key`);
      expect(rows.rows.map((r) => r.key)).toEqual([String(id(low)), String(id(high))]);
    }
    {
      // The lower key held: a write holding the lower shared and the higher exclusive waits for the
      // lower before it takes the higher, so a third write sharing the higher runs meanwhile.
      const [a, b, c, schema] = await instances();
      const holder = await hold(a, low);
      const mixed = b.write(async () => undefined, { keys: [low, high], sharedKeys: [low] });
      await waitingOn(`"${schema}".lock_keys`);
      await c.write(async () => undefined, { keys: [high], sharedKeys: [high] });
      holder.release();
      await Promise.all([holder.done, mixed]);
    }
  });

  it('refuses a claim another instance holds at once, and grants it once released', async () => {
    const [a, , c] = await instances();
    const held = gate();
    const holding = gate();
    const holder = c.write(
      async () => {
        holding.open();
        await held.opened;
      },
      { keys: [], claim: 'idempotency:user\u0000key-1' },
    );
    await holding.opened;
    await expect(
      a.write(async () => 'ran', { keys: ['cc:other'], claim: 'idempotency:user\u0000key-1' }),
    ).rejects.toBeInstanceOf(ClaimHeldError);
    // An exclusive write with the claim is refused the same way.
    await expect(a.write(async () => 'ran', { claim: 'idempotency:user\u0000key-1' })).rejects.toBeInstanceOf(
      ClaimHeldError,
    );
    held.open();
    await holder;
    expect(await a.write(async () => 'ran', { keys: [], claim: 'idempotency:user\u0000key-1' })).toBe('ran');
  });

  it('[R7] numbers keyed writes on two instances uniquely; a dry run takes no number', async () => {
    const [a, b] = await instances();
    const dry = await a.simulate((tx) => tx.nextRegistrationNo(2026), { keys: ['cc:X'] });
    expect(dry).toBe(no(1));
    const taken = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        (i % 2 === 0 ? a : b).write((tx) => tx.nextRegistrationNo(2026), { keys: [`cc:${i}`] }),
      ),
    );
    expect(new Set(taken).size).toBe(40);
    expect([...taken].sort()).toEqual(Array.from({ length: 40 }, (_, i) => no(i + 1)));
    // The dry run after them counts on from the last number given out, and gives none out itself.
    expect(await b.simulate((tx) => tx.nextRegistrationNo(2026), { keys: [] })).toBe(no(41));
    expect(await a.write((tx) => tx.nextRegistrationNo(2026))).toBe(no(41));
    expect((await a.dump()).counters).toEqual({ '2026': 41 });
  });

  it('a keyed write trimming old notifications never waits for another writer trimming them', async () => {
    const [a, b, c, schema] = await instances();
    const notification = (id: number): Notification => ({
      id: `n${id}`,
      to: { name: '王磊' },
      type: 'decision',
      recordNo: no(id),
      at: '2026-11-23T01:00:00.000Z',
      details: {},
    });
    // Exactly the cap: the next notification added trims the oldest.
    await a.write(async (tx) => {
      for (let from = 1; from <= MAX_NOTIFICATIONS; from += 5_000) {
        await tx.addNotifications(Array.from({ length: 5_000 }, (_, i) => notification(from + i)));
      }
    });
    const held = gate();
    const holding = gate();
    // One writer has trimmed the oldest notification and not committed yet.
    const holder = c.write(
      async (tx) => {
        await tx.addNotifications([notification(MAX_NOTIFICATIONS + 1)]);
        holding.open();
        await held.opened;
      },
      { keys: ['cc:A'] },
    );
    await holding.opened;
    // Another trims too: it leaves the row the holder is deleting to it, and commits at once. A trim
    // that waited on it could close a deadlock cycle with whatever the holder waits on next.
    const other = b.write((tx) => tx.addNotifications([notification(MAX_NOTIFICATIONS + 2)]), {
      keys: ['cc:B'],
    });
    const first = await Promise.race([
      other.then(() => 'committed'),
      waitingOn(`INSERT INTO "${schema}".notifications`).then(() => 'waiting'),
    ]);
    held.open();
    await Promise.all([holder, other]);
    expect(first).toBe('committed');
    const kept = await admin.query<{ n: number; oldest: string }>(
      `SELECT count(*)::int AS n, min(seq)::text AS oldest FROM "${schema}".notifications`,
    );
    expect(kept.rows[0]).toEqual({ n: MAX_NOTIFICATIONS, oldest: '3' });
  });

  it('runs at most two keyed writes of one instance at once; the next starts when one ends', async () => {
    const [a] = await instances();
    const gates = [gate(), gate(), gate()];
    const entered: number[] = [];
    const writes = gates.map((g, i) =>
      a.write(
        async () => {
          entered.push(i);
          await g.opened;
        },
        { keys: [`cc:${i}`] },
      ),
    );
    const enteredAtLeast = async (n: number, tries: number) => {
      for (let t = 0; t < tries && entered.length < n; t++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      return entered.length;
    };
    try {
      expect(await enteredAtLeast(2, 200)).toBe(2);
      // Disjoint customers, so nothing in the database holds the third back: only the instance's
      // limit does. Given a second to start (it needs a few milliseconds), it has not.
      expect(await enteredAtLeast(3, 20)).toBe(2);
      const [first] = entered as [number];
      gates[first]!.open();
      await writes[first];
      expect(await enteredAtLeast(3, 200)).toBe(3);
    } finally {
      for (const g of gates) g.open();
      await Promise.all(writes);
    }
  });
  it('BAOBEI_PG_KEYED_WRITES sets how many keyed writes an instance runs at once (1–8, the variable named when refused)', async () => {
    const { loadConfig } = await import('../../server/config.js');
    const { openStore } = await import('../../server/service.js');
    const schema = uniqueSchema('baobei_locks');
    schemas.push(schema);
    const env = {
      BAOBEI_KEY: randomBytes(32).toString('hex'),
      BAOBEI_STORE: 'postgres',
      DATABASE_URL,
      BAOBEI_PG_SCHEMA: schema,
      BAOBEI_DATA_DIR: await mkdtemp(path.join(os.tmpdir(), 'baobei-keyed-')),
    };
    for (const [setting, atOnce] of [
      [undefined, 2],
      ['5', 5],
    ] as const) {
      const config = loadConfig(setting === undefined ? env : { ...env, BAOBEI_PG_KEYED_WRITES: setting });
      const { store } = await openStore(config, 'test');
      try {
        expect((store as PostgresStore).keyedWritesAtOnce).toBe(atOnce);
      } finally {
        await store.close();
      }
    }
    for (const bad of ['0', '9', 'two']) {
      expect(() => loadConfig({ ...env, BAOBEI_PG_KEYED_WRITES: bad })).toThrow(/BAOBEI_PG_KEYED_WRITES/);
    }
  });
});
