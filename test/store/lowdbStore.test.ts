/**
 * The lowdb adapter: the store contract on a real file in a temp dir, plus what only a file
 * store has — the lock, a corrupt file refused and left untouched, a failed write that keeps the
 * old data, and a wrong key refused.
 */
import { mkdtemp, readFile, readdir, rename, rm, writeFile, mkdir, rmdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { appendFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { indexKeys } from '../../core/matching.js';
import { keyringFromMasterKey } from '../../server/security/keyring.js';
import { DRY_RUN_CLEAR_RECORDS, LowdbStore } from '../../server/store/lowdbStore.js';
import { sealRecord } from '../../server/store/recordCodec.js';
import type { WriteMark } from '../../server/store/store.js';
import type { StoredRecord } from '../../core/schema.js';
import { describeStoreContract } from './storeContract.js';
import { record } from '../support/storedRecords.js';

async function tempDir(): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), 'baobei-lowdb-'));
}

async function allText(dir: string): Promise<string> {
  let text = '';
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) text += await readFile(path.join(entry.parentPath, entry.name), 'utf8');
  }
  return text;
}

describeStoreContract('lowdb', async () => {
  const dataDir = await tempDir();
  const keyring = keyringFromMasterKey(randomBytes(32));
  let store = await LowdbStore.open({ dataDir, keyring });
  return {
    store,
    async reopen() {
      await store.close();
      store = await LowdbStore.open({ dataDir, keyring });
      return store;
    },
    restText: () => allText(dataDir),
    async reopenAsBeforeObjectionFlag() {
      // Closing folds the journal into the snapshot: the records are all in baobei.json.
      await store.close();
      const file = path.join(dataDir, 'baobei.json');
      const data = JSON.parse(await readFile(file, 'utf8')) as { records: Record<string, object> };
      for (const sealed of Object.values(data.records)) {
        delete (sealed as { objectionOpen?: unknown }).objectionOpen;
        delete (sealed as { objectionDeadline?: unknown }).objectionDeadline;
      }
      await writeFile(file, JSON.stringify(data));
      store = await LowdbStore.open({ dataDir, keyring });
      return store;
    },
    async reopenAsBeforeSharePartnerNo() {
      await store.close();
      const file = path.join(dataDir, 'baobei.json');
      const data = JSON.parse(await readFile(file, 'utf8')) as { records: Record<string, object> };
      for (const sealed of Object.values(data.records))
        delete (sealed as { sharedWithNo?: unknown }).sharedWithNo;
      await writeFile(file, JSON.stringify(data));
      store = await LowdbStore.open({ dataDir, keyring });
      return store;
    },
    async dispose() {
      await store.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
});

describe('lowdb store on disk', () => {
  const keyring = keyringFromMasterKey(randomBytes(32));

  it('recordsWrittenSince: past the write log it keeps, an older mark is answered "cannot tell", a newer one exactly', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'baobei-lowdb-'));
    const store = await LowdbStore.open({ dataDir, keyring, writeLogEntries: 4 });
    const no = (n: number): string => `BB-2026-${String(n).padStart(6, '0')}`;
    const put = (...ns: number[]) =>
      store.write(async (tx) => {
        for (const n of ns) await tx.putRecord(record(no(n)));
      });
    const since = async (mark: WriteMark) =>
      (await store.read((tx) => tx.recordsWrittenSince(mark)))?.map((r) => r.no).sort();
    try {
      const atOpen = await store.read((tx) => tx.writeMark());
      await put(1, 2);
      const afterFirst = await store.read((tx) => tx.writeMark());
      await put(3, 4);
      expect(await since(atOpen)).toEqual([no(1), no(2), no(3), no(4)]);
      // A fifth entry: the older half goes, at a change's boundary (the first change, whole).
      await put(5, 6);
      expect(await since(atOpen)).toBeUndefined();
      expect(await since(afterFirst)).toEqual([no(3), no(4), no(5), no(6)]);
      // One change bigger than the log: only marks from after it can be answered.
      const beforeBig = await store.read((tx) => tx.writeMark());
      await put(7, 8, 9, 10, 11);
      expect(await since(beforeBig)).toBeUndefined();
      const afterBig = await store.read((tx) => tx.writeMark());
      await put(1);
      expect(await since(afterBig)).toEqual([no(1)]);
    } finally {
      await store.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('[R12] after a rollback, journal lines an older release appended without the objection flag and deadline get them at the next open', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'baobei-lowdb-'));
    const no = (n: number): string => `BB-2026-${String(n).padStart(6, '0')}`;
    const lost = (n: number, overrides: Partial<StoredRecord> = {}): StoredRecord =>
      record(no(n), {
        status: 'rejected',
        reasonCode: 'conflict.lost',
        objectionDeadline: '2026-11-24',
        ...overrides,
      });
    const filed = { at: '2026-11-21T02:00:00.000Z', reason: '已先拜访', against: 'BB-2026-000090' };
    const first = await LowdbStore.open({ dataDir, keyring });
    await first.write(async (tx) => {
      await tx.putRecord(lost(1, { objection: filed }));
      await tx.putRecord(lost(2, { objectionDeadline: '2026-11-20' }));
    });
    // Closing folds the journal into the snapshot: the flags of this release are in baobei.json.
    await first.close();
    const { journalSeq } = JSON.parse(await readFile(path.join(dataDir, 'baobei.json'), 'utf8')) as {
      journalSeq: number;
    };
    // The older release, started on that data dir: its commits append lines whose records carry
    // neither field — 000001's objection now decided, 000003 lost with an objection filed, 000004 lost
    // with its window open, 000005 pending.
    const older = (r: StoredRecord) => {
      const { objectionOpen: _open, objectionDeadline: _deadline, ...sealed } = sealRecord(r, keyring);
      return sealed;
    };
    const decided = { ...filed, decision: 'dismissed' as const, decidedAt: '2026-11-22T02:00:00.000Z' };
    const change = {
      seq: journalSeq + 1,
      records: [
        older(lost(1, { objection: decided, version: 2 })),
        older(lost(3, { objection: filed })),
        older(lost(4, { objectionDeadline: '2026-11-25' })),
        older(record(no(5))),
      ],
      users: [],
      bans: [],
      notifications: [],
      idempotency: [],
      counters: {},
      docs: [],
    };
    const json = JSON.stringify({ changes: [change] });
    const sum = createHash('sha256').update(json).digest('hex').slice(0, 16);
    await appendFile(path.join(dataDir, 'baobei.journal'), `${sum} ${json}\n`);

    const read = async (s: LowdbStore) => {
      const list = async (q: { objectionOpen?: boolean; objectionDeadlineFrom?: string }) =>
        (await s.read((tx) => tx.listRecords({ today: '2026-11-23', ...q, limit: 10, offset: 0 }))).items
          .map((r) => r.no)
          .sort();
      return {
        awaiting: await list({ objectionOpen: true }),
        windows: await list({ objectionDeadlineFrom: '2026-11-23' }),
      };
    };
    const expected = { awaiting: [no(3)], windows: [no(1), no(3), no(4)] };
    let store = await LowdbStore.open({ dataDir, keyring });
    try {
      expect(await read(store)).toEqual(expected);
      await store.close();
      // Worked out once and written: the next open reads them from the snapshot.
      store = await LowdbStore.open({ dataDir, keyring });
      expect(await read(store)).toEqual(expected);
    } finally {
      await store.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('lets one process own a data dir; a second open refuses and names the owner', async () => {
    const dataDir = await tempDir();
    const first = await LowdbStore.open({ dataDir, keyring, purpose: 'serve' });
    await expect(LowdbStore.open({ dataDir, keyring })).rejects.toMatchObject({ code: 'store.locked' });
    await expect(LowdbStore.open({ dataDir, keyring })).rejects.toThrow(/serve/);
    await first.close();
    const second = await LowdbStore.open({ dataDir, keyring });
    await second.close();
  });

  it('takes over a lock left by a process that no longer exists', async () => {
    const dataDir = await tempDir();
    await writeFile(
      path.join(dataDir, 'baobei.lock'),
      JSON.stringify({ pid: 2 ** 22 + 12345, host: os.hostname(), since: 'x', purpose: 'serve' }),
    );
    const store = await LowdbStore.open({ dataDir, keyring });
    await store.close();
  });

  it('refuses a corrupt data file, names it, and leaves it as it was', async () => {
    const dataDir = await tempDir();
    const file = path.join(dataDir, 'baobei.json');
    await writeFile(file, '{"format":"baobei-lowdb","version":1,"records":{');
    const before = await readFile(file, 'utf8');
    await expect(LowdbStore.open({ dataDir, keyring })).rejects.toMatchObject({ code: 'store.corrupt' });
    await expect(LowdbStore.open({ dataDir, keyring })).rejects.toThrow(file);
    expect(await readFile(file, 'utf8')).toBe(before);
    // The failed start released the lock: fixing the file is enough to start again.
    await rm(file);
    await (await LowdbStore.open({ dataDir, keyring })).close();
  });

  it('refuses a file of the wrong shape (valid JSON, not a Baobei store)', async () => {
    const dataDir = await tempDir();
    await writeFile(path.join(dataDir, 'baobei.json'), JSON.stringify({ hello: 'world' }));
    await expect(LowdbStore.open({ dataDir, keyring })).rejects.toMatchObject({ code: 'store.corrupt' });
  });

  it('refuses to open data written with another key', async () => {
    const dataDir = await tempDir();
    await (await LowdbStore.open({ dataDir, keyring })).close();
    const other = keyringFromMasterKey(randomBytes(32));
    await expect(LowdbStore.open({ dataDir, keyring: other })).rejects.toMatchObject({
      code: 'store.key_mismatch',
    });
  });

  it('opens a file of an earlier version that kept import reports inside it, and drops them at the next write', async () => {
    const dataDir = await tempDir();
    const store = await LowdbStore.open({ dataDir, keyring });
    await store.close();
    const file = path.join(dataDir, 'baobei.json');
    const data = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    data['imports'] = {
      'imp-1': {
        id: 'imp-1',
        owner: 'u1',
        createdAt: 'x',
        mode: 'submit',
        dryRun: false,
        sealed: keyring.seal('{}'),
      },
    };
    await writeFile(file, JSON.stringify(data));
    const reopened = await LowdbStore.open({ dataDir, keyring });
    await reopened.write((tx) => tx.putRecord(record('BB-2026-000001')));
    await reopened.close();
    const after = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    expect(after['imports']).toBeUndefined();
    expect(Object.keys(after['records'] as object)).toHaveLength(1);
    await rm(dataDir, { recursive: true, force: true });
  });

  it('stages a dry run’s records unsealed: read back exactly, unchanged by the caller, and never on disk', async () => {
    const dataDir = await tempDir();
    const store = await LowdbStore.open({ dataDir, keyring });
    await store.write((tx) => tx.putRecord(record('BB-2026-000001')));
    const dry = record('BB-2026-000002');
    dry.registration = { ...dry.registration, contactPhone: '13955556666', contactName: '赵文静' };
    const expected = structuredClone(dry);
    const seen = await store.simulate(async (tx) => {
      await tx.putRecord(dry);
      // The staged copy is the record as it was put, not the caller's object.
      dry.registration.contactName = '改了';
      return {
        got: await tx.getRecord('BB-2026-000002'),
        found: await tx.findRecordsByKeys(indexKeys(expected.identity)),
      };
    });
    expect(seen.got).toEqual(expected);
    expect(seen.found).toEqual([expected]);
    await store.close();
    const rest = await allText(dataDir);
    expect(rest).toContain('BB-2026-000001');
    for (const text of ['BB-2026-000002', '13955556666', '赵文静']) expect(rest).not.toContain(text);
  });

  it('a dry run past the records it stages in clear seals the rest, and reads both kinds back', async () => {
    const dataDir = await tempDir();
    const store = await LowdbStore.open({ dataDir, keyring });
    const nos = Array.from(
      { length: DRY_RUN_CLEAR_RECORDS + 2 },
      (_, i) => `BB-2026-${String(i + 1).padStart(6, '0')}`,
    );
    const read = await store.simulate(async (tx) => {
      for (const no of nos) await tx.putRecord(record(no));
      const out: { no: string; got: unknown; found: unknown }[] = [];
      for (const no of [nos[0]!, nos[DRY_RUN_CLEAR_RECORDS - 1]!, nos[DRY_RUN_CLEAR_RECORDS]!, nos.at(-1)!]) {
        out.push({
          no,
          got: await tx.getRecord(no),
          found: await tx.findRecordsByKeys(indexKeys(record(no).identity)),
        });
      }
      return out;
    });
    for (const { no, got, found } of read) {
      expect(got).toEqual(record(no));
      expect(found).toEqual([record(no)]);
    }
    await store.close();
    expect(await allText(dataDir)).not.toContain(nos[0]);
  });

  it('keeps the old data when a journal write fails, and refuses further writes until restarted', async () => {
    const dataDir = await tempDir();
    const store = await LowdbStore.open({ dataDir, keyring });
    await store.write((tx) => tx.putRecord(record('BB-2026-000001')));
    const journal = path.join(dataDir, 'baobei.journal');
    const before = await readFile(journal);
    // A directory where the journal must be makes the append fail after the transaction was applied.
    await rename(journal, `${journal}.aside`);
    await mkdir(journal);
    await expect(store.write((tx) => tx.putRecord(record('BB-2026-000002')))).rejects.toMatchObject({
      code: 'store.unavailable',
    });
    await expect(store.write((tx) => tx.putRecord(record('BB-2026-000003')))).rejects.toMatchObject({
      code: 'store.unavailable',
    });
    await rmdir(journal);
    await rename(`${journal}.aside`, journal);
    expect(await readFile(journal)).toEqual(before);
    await store.close();
    const reopened = await LowdbStore.open({ dataDir, keyring });
    expect(await reopened.read((tx) => tx.getRecord('BB-2026-000001'))).toBeDefined();
    expect(await reopened.read((tx) => tx.getRecord('BB-2026-000002'))).toBeUndefined();
    await reopened.close();
  });

  it('groups concurrent transactions into fewer journal writes than transactions', async () => {
    const dataDir = await tempDir();
    const store = await LowdbStore.open({ dataDir, keyring });
    await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        store.write((tx) => tx.putRecord(record(`BB-2026-${String(i + 1).padStart(6, '0')}`))),
      ),
    );
    const lines = (await readFile(path.join(dataDir, 'baobei.journal'), 'utf8')).split('\n').filter(Boolean);
    const changes = lines.map(
      (l) => (JSON.parse(l.slice(l.indexOf(' ') + 1)) as { changes: unknown[] }).changes,
    );
    expect(changes.flat()).toHaveLength(50);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.length).toBeLessThan(50);
    await store.close();
    // Closing folds the journal into the snapshot.
    const data = JSON.parse(await readFile(path.join(dataDir, 'baobei.json'), 'utf8')) as {
      records: Record<string, unknown>;
    };
    expect(Object.keys(data.records)).toHaveLength(50);
  });
});
