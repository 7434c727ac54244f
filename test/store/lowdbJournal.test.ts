/**
 * The embedded store's journal (journal.ts): what a crash leaves behind is read back — every
 * acknowledged commit, a torn last entry dropped — and damage anywhere else is refused, not skipped.
 */
import { spawn } from 'node:child_process';
import { appendFile, cp, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { copyFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { keyringFromMasterKey } from '../../server/security/keyring.js';
import { LowdbStore, writeChanges } from '../../server/store/lowdbStore.js';
import { EntryBuilder, JournalWriter, readJournal } from '../../server/store/journal.js';
import { record } from '../support/storedRecords.js';
import { indexKeys } from '../../core/matching.js';
import { RECORD_STATUSES } from '../../core/schema.js';

const master = randomBytes(32);
const keyring = keyringFromMasterKey(master);
const dirs: string[] = [];

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'baobei-journal-'));
  dirs.push(dir);
  return dir;
}

afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

const no = (n: number): string => `BB-2026-${String(n).padStart(6, '0')}`;

const STORE_FILES = ['baobei.json', 'baobei.journal', 'baobei.journal.compacting'];

/** Each store file's identity (inode, size, mtime), or absent: what a compaction or a commit changes. */
async function fileStates(dataDir: string): Promise<string> {
  const states = await Promise.all(
    STORE_FILES.map(async (name) => {
      const s = await stat(path.join(dataDir, name)).catch(() => undefined);
      return s ? `${s.ino}:${s.size}:${s.mtimeMs}` : 'absent';
    }),
  );
  return states.join('|');
}

/**
 * The data dir as a crash would leave it: the files copied while the store is still open. A crash
 * is one instant, so a copy during which a background compaction renamed, wrote or removed a file
 * (files copied from different moments: ENOENT, or an older snapshot beside a newer journal) is
 * taken again.
 */
async function crashCopy(dataDir: string): Promise<string> {
  for (;;) {
    const before = await fileStates(dataDir);
    const copy = await tempDir();
    try {
      for (const name of STORE_FILES) {
        if (existsSync(path.join(dataDir, name))) await cp(path.join(dataDir, name), path.join(copy, name));
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      continue;
    }
    if ((await fileStates(dataDir)) === before) return copy;
  }
}

/** A journal line of many pieces with 2-, 3- and 4-byte UTF-8, so bytes differ from lengths. */
function bigLine(n: number, pieces: number): (entry: EntryBuilder) => void {
  return (entry) => {
    entry.text(`{"n":${n},"pieces":[`);
    for (let i = 0; i < pieces; i++)
      entry.text(`${i > 0 ? ',' : ''}"${n}-${i} 华东 ü 🚀 ${'x'.repeat(100)}"`);
    entry.text(']}');
  };
}

const piecesOf = (n: number, pieces: number): string[] =>
  Array.from({ length: pieces }, (_, i) => `${n}-${i} 华东 ü 🚀 ${'x'.repeat(100)}`);

async function countRecords(store: LowdbStore): Promise<number> {
  return store.read(async (tx) => (await tx.recordsWithStatus(RECORD_STATUSES)).length);
}

describe('lowdb journal', () => {
  it('a commit appends to the journal and leaves the snapshot alone; a restart replays it', async () => {
    const dataDir = await tempDir();
    const store = await LowdbStore.open({ dataDir, keyring });
    const snapshot = await readFile(path.join(dataDir, 'baobei.json'));
    for (let i = 1; i <= 3; i++) await store.write((tx) => tx.putRecord(record(no(i))));
    await store.write((tx) => tx.putRecord(record(no(2), { version: 2, status: 'terminated' })));
    expect(await readFile(path.join(dataDir, 'baobei.json'))).toEqual(snapshot);
    const journal = await readFile(path.join(dataDir, 'baobei.journal'), 'utf8');
    expect(journal.split('\n').filter(Boolean)).toHaveLength(4);
    // Sealed at rest (R35): the customer's name is not in the journal.
    expect(journal).not.toContain('上海华信科技有限公司');

    const reopened = await LowdbStore.open({ dataDir: await crashCopy(dataDir), keyring });
    expect(await reopened.read((tx) => tx.getRecord(no(2)))).toMatchObject({
      status: 'terminated',
      version: 2,
    });
    // The key index is rebuilt from the replayed changes: conflicts find the records.
    const found = await reopened.read((tx) => tx.findRecordsByKeys(indexKeys(record(no(1)).identity)));
    expect(found.map((r) => r.no)).toEqual([no(1)]);
    expect(await reopened.read((tx) => tx.getRecord(no(3)))).toBeDefined();
    await reopened.close();
    await store.close();
  });

  it('a commit bigger than the line buffer, with multi-byte text, and a small one after it read back exactly', async () => {
    const dataDir = await tempDir();
    const store = await LowdbStore.open({ dataDir, keyring });
    // ~300 records: several times the writer's first line buffer, so it grows mid-line; the clear
    // fields hold 2-, 3- and 4-byte UTF-8 (the team) so a piece's bytes differ from its length.
    const big = Array.from({ length: 300 }, (_, i) => record(no(i + 1), { team: `华东${i}部 ü 🚀` }));
    await store.write(async (tx) => {
      for (const r of big) await tx.putRecord(r);
    });
    // The next line reuses the (now larger) buffer: nothing of the first may leak into it.
    await store.write((tx) => tx.putRecord(record(no(1), { version: 2, status: 'terminated' })));
    const lines = (await readFile(path.join(dataDir, 'baobei.journal'), 'utf8')).split('\n');
    expect(lines.filter(Boolean)).toHaveLength(2);
    expect(lines[1]!.length).toBeLessThan(lines[0]!.length / 100);

    const reopened = await LowdbStore.open({ dataDir: await crashCopy(dataDir), keyring });
    for (const r of big.slice(1)) expect(await reopened.read((tx) => tx.getRecord(r.no))).toEqual(r);
    expect(await reopened.read((tx) => tx.getRecord(no(1)))).toMatchObject({
      status: 'terminated',
      version: 2,
    });
    await reopened.close();
    await store.close();
  });

  it('drops a torn last entry (a commit cut short by a crash) and cuts it off the file', async () => {
    const dataDir = await tempDir();
    const store = await LowdbStore.open({ dataDir, keyring });
    await store.write((tx) => tx.putRecord(record(no(1))));
    const copy = await crashCopy(dataDir);
    await store.close();
    const journal = path.join(copy, 'baobei.journal');
    const whole = (await stat(journal)).size;
    await appendFile(journal, '0123456789abcdef {"changes":[{"seq":2,"rec');
    const reopened = await LowdbStore.open({ dataDir: copy, keyring });
    expect(await reopened.read((tx) => tx.getRecord(no(1)))).toBeDefined();
    expect((await stat(journal)).size).toBe(whole);
    await reopened.write((tx) => tx.putRecord(record(no(2))));
    await reopened.close();
    const again = await LowdbStore.open({ dataDir: copy, keyring });
    expect(await countRecords(again)).toBe(2);
    await again.close();
  });

  it('refuses a damaged entry that is not the last one, names the file, and leaves it untouched', async () => {
    const dataDir = await tempDir();
    const store = await LowdbStore.open({ dataDir, keyring });
    await store.write((tx) => tx.putRecord(record(no(1))));
    await store.write((tx) => tx.putRecord(record(no(2))));
    const copy = await crashCopy(dataDir);
    await store.close();
    const journal = path.join(copy, 'baobei.journal');
    const text = await readFile(journal, 'utf8');
    // One changed character inside the first entry's sealed record.
    const at = text.indexOf('"sealed":"') + 12;
    const damaged = text.slice(0, at) + (text[at] === 'A' ? 'B' : 'A') + text.slice(at + 1);
    await writeFile(journal, damaged);
    await expect(LowdbStore.open({ dataDir: copy, keyring })).rejects.toMatchObject({
      code: 'store.corrupt',
    });
    await expect(LowdbStore.open({ dataDir: copy, keyring })).rejects.toThrow(journal);
    expect(await readFile(journal, 'utf8')).toBe(damaged);
  });

  it('refuses a journal whose changes skip a number (an entry lost from the middle)', async () => {
    const dataDir = await tempDir();
    const store = await LowdbStore.open({ dataDir, keyring });
    for (let i = 1; i <= 3; i++) await store.write((tx) => tx.putRecord(record(no(i))));
    const copy = await crashCopy(dataDir);
    await store.close();
    const journal = path.join(copy, 'baobei.journal');
    const lines = (await readFile(journal, 'utf8')).split('\n').filter(Boolean);
    await writeFile(journal, `${lines[0]}\n${lines[2]}\n`);
    await expect(LowdbStore.open({ dataDir: copy, keyring })).rejects.toMatchObject({
      code: 'store.corrupt',
    });
  });

  it('compacts into the snapshot while commits go on, and loses none of them', async () => {
    const dataDir = await tempDir();
    const store = await LowdbStore.open({ dataDir, keyring, compactBytes: 1 });
    await Promise.all(
      Array.from({ length: 60 }, (_, i) => store.write((tx) => tx.putRecord(record(no(i + 1))))),
    );
    await store.write((tx) => tx.putRecord(record(no(61))));
    const copy = await crashCopy(dataDir);
    const snapshot = JSON.parse(await readFile(path.join(dataDir, 'baobei.json'), 'utf8')) as {
      journalSeq: number;
      records: object;
    };
    // Compactions happened: the snapshot holds committed records, not just the empty start.
    expect(snapshot.journalSeq).toBeGreaterThan(0);
    expect(Object.keys(snapshot.records).length).toBeGreaterThan(0);
    await store.close();
    const reopened = await LowdbStore.open({ dataDir: copy, keyring });
    expect(await countRecords(reopened)).toBe(61);
    await reopened.close();
  });

  it('finishes a compaction that a crash cut short (the previous journal still beside the new one)', async () => {
    const dataDir = await tempDir();
    const store = await LowdbStore.open({ dataDir, keyring });
    await store.write((tx) => tx.putRecord(record(no(1))));
    const copy = await crashCopy(dataDir);
    await store.close();
    await rename(path.join(copy, 'baobei.journal'), path.join(copy, 'baobei.journal.compacting'));
    const reopened = await LowdbStore.open({ dataDir: copy, keyring });
    expect(await reopened.read((tx) => tx.getRecord(no(1)))).toBeDefined();
    expect(existsSync(path.join(copy, 'baobei.journal.compacting'))).toBe(false);
    await reopened.close();
  });

  it('reads the snapshot a record per line (files past the V8 string limit), and refuses a damaged line', async () => {
    const dataDir = await tempDir();
    const store = await LowdbStore.open({ dataDir, keyring });
    for (let i = 1; i <= 3; i++) await store.write((tx) => tx.putRecord(record(no(i))));
    await store.close();
    const file = path.join(dataDir, 'baobei.json');
    const text = await readFile(file, 'utf8');
    expect(text.split('\n').filter((l) => l.startsWith('"BB-2026-'))).toHaveLength(3);
    const reopened = await LowdbStore.open({ dataDir, keyring });
    expect(await countRecords(reopened)).toBe(3);
    await reopened.close();
    const damaged = text.replace(`"${no(2)}":{`, `"${no(2)}":{{`);
    await writeFile(file, damaged);
    await expect(LowdbStore.open({ dataDir, keyring })).rejects.toMatchObject({ code: 'store.corrupt' });
    expect(await readFile(file, 'utf8')).toBe(damaged);
  });

  it('a commit past 16 MiB (an import, the spilled-line path) replays exactly', async () => {
    const dataDir = await tempDir();
    // No compaction: the journal's line itself is what is read back.
    const store = await LowdbStore.open({ dataDir, keyring, compactBytes: 2 ** 40 });
    const count = 20_000;
    const nos = Array.from({ length: count }, (_, i) => no(i + 1));
    await store.write(async (tx) => {
      for (const n of nos) await tx.putRecord(record(n, { team: `华东 ü 🚀` }));
    });
    await store.write((tx) => tx.putRecord(record(no(1), { version: 2, status: 'terminated' })));
    const journal = path.join(dataDir, 'baobei.journal');
    const line = (await readFile(journal, 'utf8')).split('\n')[0]!;
    expect(Buffer.byteLength(line)).toBeGreaterThan(16 * 1024 * 1024);

    const reopened = await LowdbStore.open({ dataDir: await crashCopy(dataDir), keyring });
    expect(await countRecords(reopened)).toBe(count);
    expect(await reopened.read((tx) => tx.getRecord(no(count)))).toEqual(
      record(no(count), { team: `华东 ü 🚀` }),
    );
    expect(await reopened.read((tx) => tx.getRecord(no(1)))).toMatchObject({
      status: 'terminated',
      version: 2,
    });
    await reopened.close();
    await store.close();
  }, 60_000);

  it('a line past the spill size is written while it is built, reads back exactly, and a small one follows', async () => {
    const file = path.join(await tempDir(), 'baobei.journal');
    const writer = await JournalWriter.create(file, 4096);
    await writer.append(bigLine(0, 3));
    // ~130 KB: the writer's 64 KiB first buffer is past the 4 KiB spill size, so it is written out
    // mid-line instead of growing (the next test sees it on disk before the line is done).
    await writer.append(bigLine(1, 1000));
    await writer.append(bigLine(2, 2));
    const read = await readJournal(file, false);
    expect(read?.entries).toEqual(
      [0, 1, 2].map((n) => ({ n, pieces: piecesOf(n, n === 1 ? 1000 : n === 0 ? 3 : 2) })),
    );
    expect(writer.bytes).toBe((await stat(file)).size);
    expect(read?.tornBytes).toBe(0);
  });

  it('a spilled line fails its checksum on disk until it is complete; one whose building throws is cut off', async () => {
    const file = path.join(await tempDir(), 'baobei.journal');
    const writer = await JournalWriter.create(file, 4096);
    await writer.append(bigLine(0, 3));
    const before = (await stat(file)).size;
    const crash = `${file}.crash`;
    await writer.append((entry) => {
      bigLine(1, 1000)(entry);
      // Built and mostly written out, not yet acknowledged: the file as a crash now would leave it.
      copyFileSync(file, crash);
    });
    const midwaySize = (await stat(crash)).size;
    expect(midwaySize).toBeGreaterThan(before + 32 * 1024);
    // The line on disk fails its checksum: a torn tail, dropped, never a commit.
    expect(await readJournal(crash, true)).toMatchObject({
      entries: [{ n: 0 }],
      validBytes: before,
      tornBytes: midwaySize - before,
    });
    await expect(readJournal(crash, false)).rejects.toMatchObject({ code: 'store.corrupt' });
    expect((await readJournal(file, false))?.entries).toHaveLength(2);

    const complete = (await stat(file)).size;
    await expect(
      writer.append((entry) => {
        bigLine(2, 1000)(entry);
        throw new Error('building failed');
      }),
    ).rejects.toThrow('building failed');
    expect((await stat(file)).size).toBe(complete);
    await writer.append(bigLine(3, 2));
    expect((await readJournal(file, false))?.entries.map((e) => (e as { n: number }).n)).toEqual([0, 1, 3]);
  });

  it('after SIGKILL while spilled lines are written, every acknowledged line is there and nothing torn is read', async () => {
    const file = path.join(await tempDir(), 'baobei.journal');
    const lines = await killChildAfter('./journalSpillCrashChild.ts', [file, '4096'], 101);
    const acked = Number(lines[lines.length - 1]);
    const read = await readJournal(file, true);
    const ns = read!.entries.map((e) => (e as { n: number }).n);
    expect(ns.length).toBeGreaterThan(acked);
    expect(ns).toEqual(ns.map((_, i) => i));
    for (const e of read!.entries) expect((e as { pieces: string[] }).pieces).toHaveLength(1000);
  }, 60_000);

  it('after SIGKILL mid-commit, every acknowledged commit is there and the store opens', async () => {
    const dataDir = await tempDir();
    // Enough commits that several compactions ran; then kill without warning.
    const acked = await killChildAfter('./lowdbCrashChild.ts', [dataDir, master.toString('hex')], 150);
    const store = await LowdbStore.open({ dataDir, keyring });
    for (const first of acked) {
      const n = Number(first.slice(-6));
      for (let i = n; i < n + 20; i++) expect(await store.read((tx) => tx.getRecord(no(i)))).toBeDefined();
    }
    // All-or-nothing per transaction: a multiple of 20 records, never a part of one.
    expect((await countRecords(store)) % 20).toBe(0);
    expect(await countRecords(store)).toBeGreaterThanOrEqual(acked.length * 20);
    await store.close();
  }, 60_000);
});

describe('journal entry writer', () => {
  /** The line's JSON bytes (between the checksum and the newline) for one value. */
  function entryJson(value: unknown): Buffer {
    // A small first buffer, so values grow it mid-string too.
    const entry = new EntryBuilder(Buffer.alloc(24));
    entry.json(value);
    const { line } = entry.finish();
    return line.subarray(17, line.length - 1);
  }

  it('writes the very bytes of JSON.stringify for any JSON value (property)', () => {
    const text = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 40 }),
      // Any UTF-16 units, lone surrogates and control characters included.
      fc.string({
        unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
        maxLength: 40,
      }),
      // Long ones take the one-native-copy path when plain ASCII, and must fall back when not.
      fc.string({ unit: 'grapheme-ascii', minLength: 120, maxLength: 400 }),
      fc.string({ unit: 'grapheme-ascii', minLength: 120, maxLength: 400 }).map((s) => `${s}"\\张${s}`),
    );
    const value = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: 'small' },
        text,
        fc.double(),
        fc.integer(),
        fc.boolean(),
        fc.constant(null),
        fc.array(tie('node'), { maxLength: 5 }),
        fc.dictionary(text, fc.oneof(tie('node'), fc.constant(undefined)), { maxKeys: 5 }),
      ),
    })).node;
    fc.assert(
      fc.property(value, (v) => {
        expect(entryJson(v).equals(Buffer.from(JSON.stringify(v), 'utf8'))).toBe(true);
      }),
      { seed: 20261206, numRuns: 2000 },
    );
  });

  it("encodes a commit's line with a pause between records, writing nothing while paused, and the bytes are JSON.stringify's", async () => {
    const changes = [1, 2].map((seq) => ({
      seq,
      records: Array.from({ length: 5 }, (_, i) => ({ no: no(seq * 10 + i), team: `华东 ü 🚀 ${i}` })),
      users: [{ id: `u${seq}`, name: '王磊' }],
      counters: { '2026': seq * 10 + 4 },
    }));
    // The records first: a change's other fields follow them in the line.
    const expected = JSON.stringify({
      changes: changes.map(({ records, ...rest }) => ({ records, ...rest })),
    });
    const entry = new EntryBuilder(Buffer.alloc(24));
    // A pause that holds the encoding on every third record until the test lets it go on.
    let calls = 0;
    let release: (() => void) | undefined;
    const pause = (): Promise<void> | undefined => {
      calls++;
      return calls % 3 === 0 ? new Promise<void>((resolve) => (release = resolve)) : undefined;
    };
    let finished = false;
    const writing = writeChanges(entry, changes, pause).then(() => (finished = true));
    const heldAt: number[] = [];
    for (;;) {
      const wait = release;
      if (wait === undefined) break;
      release = undefined;
      // While held, no further record is encoded (the encoding really waits for the event loop).
      const before = calls;
      await new Promise((resolve) => setImmediate(resolve));
      expect(calls).toBe(before);
      expect(finished).toBe(false);
      heldAt.push(before);
      // A later commit replaces users, never edits them; were one edited meanwhile, the line still
      // holds what was applied (a change's fields other than its records are encoded before any pause).
      changes[1]!.users[0]!.name = '李娜';
      wait();
      await new Promise((resolve) => setImmediate(resolve));
    }
    await writing;
    // One pause per record (10), held after records 3, 6 and 9.
    expect(calls).toBe(10);
    expect(heldAt).toEqual([3, 6, 9]);
    const { line } = entry.finish();
    expect(line.subarray(17, line.length - 1).toString('utf8')).toBe(expected);
  });

  it('writes what JSON.stringify writes for values that are not plain JSON', () => {
    const odd = {
      at: new Date('2026-12-06T06:00:00.000Z'),
      list: [undefined, () => 1, Symbol('s'), NaN, -0, Infinity],
      skipped: undefined,
      fn: () => 1,
      nested: Object.assign(Object.create(null) as object, { a: '\u2028\ud800' }),
      sealed: `v1.${'A'.repeat(800)}`,
    };
    expect(entryJson(odd).toString('utf8')).toBe(JSON.stringify(odd));
  });
});

/**
 * Runs a crash child (a script beside this file printing one line per acknowledged commit) and
 * SIGKILLs it once it has printed `lines` lines; the lines it printed, checked to have been killed.
 */
async function killChildAfter(script: string, args: string[], lines: number): Promise<string[]> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(new URL(script, import.meta.url)), ...args],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const printed: string[] = [];
  let buffered = '';
  await new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const complete = buffered.split('\n');
      buffered = complete.pop() ?? '';
      printed.push(...complete);
      if (printed.length >= lines && child.exitCode === null) {
        child.kill('SIGKILL');
        resolve();
      }
    });
    child.on('exit', () => resolve());
  });
  await new Promise((resolve) =>
    child.exitCode !== null || child.signalCode !== null ? resolve(null) : child.on('exit', resolve),
  );
  expect(child.signalCode).toBe('SIGKILL');
  return printed;
}
