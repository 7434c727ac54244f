/**
 * The store contract: one suite, run against every adapter (lowdb, PostgreSQL). It pins down what
 * the services rely on — atomic, serialised transactions, durable commits, lookups by hashed key,
 * scoped listing, and that personal data is not stored in clear.
 */
import { describe, expect, it, beforeEach, afterEach } from 'vitest';
import { DEFAULT_POLICY, presetPolicy } from '../../core/policy.js';
import type { IdentityKeys, StoredRecord } from '../../core/schema.js';
import { indexKeys } from '../../core/matching.js';
import type { ReadTx, Store, StoreDump, WriteMark, WriteTx } from '../../server/store/store.js';
import { splitPartnerOf, splitPartnersOf } from '../../server/store/splitPartner.js';
import { identity, record } from '../support/storedRecords.js';

export interface StoreHarness {
  store: Store;
  /** Closes the store and opens it again on the same data (durability). */
  reopen(): Promise<Store>;
  /** Every byte the adapter keeps at rest, as text, for the personal-data check. */
  restText(): Promise<string>;
  /**
   * Closes the store, takes what it keeps back to how a release before the objection flag left it
   * (records sealed without it; on PostgreSQL the schema version before the column), and opens it.
   */
  reopenAsBeforeObjectionFlag(): Promise<Store>;
  /**
   * Closes the store, takes every record back to how a release before the share partner's number
   * left it (sealed without `sharedWithNo`; on PostgreSQL the column empty at schema version 4), and
   * opens it.
   */
  reopenAsBeforeSharePartnerNo(): Promise<Store>;
  dispose(): Promise<void>;
}

export function describeStoreContract(adapter: string, open: () => Promise<StoreHarness>): void {
  describe(`store contract: ${adapter}`, () => {
    let h: StoreHarness;
    let store: Store;
    beforeEach(async () => {
      h = await open();
      store = h.store;
    });
    afterEach(async () => {
      await h.dispose();
    });

    it('reports its kind', () => {
      expect(['lowdb', 'postgres']).toContain(store.kind);
    });

    it('commits a transaction durably: data survives a reopen', async () => {
      await store.write(async (tx) => {
        await tx.putRecord(record('BB-2026-000001'));
        await tx.putPolicy(presetPolicy('channel'));
        await tx.putUser({
          id: 'u1',
          name: '王磊',
          role: 'sales',
          team: '华东一部',
          tokenHash: 'th1',
          createdAt: 'x',
        });
      });
      store = await h.reopen();
      const got = await store.read((tx) => tx.getRecord('BB-2026-000001'));
      expect(got?.registration.contactPhone).toBe('13812345678');
      expect(got?.identity.name).toBe('h-name-BB-2026-000001');
      expect((await store.read((tx) => tx.getPolicy()))?.preset).toBe('channel');
      expect((await store.read((tx) => tx.getUserByTokenHash('th1')))?.name).toBe('王磊');
    });

    it('applies nothing of a transaction that throws', async () => {
      await expect(
        store.write(async (tx) => {
          await tx.putRecord(record('BB-2026-000001'));
          await tx.nextRegistrationNo(2026);
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      expect(await store.read((tx) => tx.getRecord('BB-2026-000001'))).toBeUndefined();
      // The number taken inside the failed transaction is not consumed either.
      expect(await store.write((tx) => tx.nextRegistrationNo(2026))).toBe('BB-2026-000001');
    });

    it('simulate sees its own changes and keeps none', async () => {
      const seen = await store.simulate(async (tx) => {
        await tx.putRecord(record('BB-2026-000009'));
        return (await tx.findRecordsByKeys(indexKeys(identity('BB-2026-000009')))).map((r) => r.no);
      });
      expect(seen).toEqual(['BB-2026-000009']);
      expect(await store.read((tx) => tx.getRecord('BB-2026-000009'))).toBeUndefined();
    });

    it('[R7] numbers registrations per year, without gaps or repeats under concurrency', async () => {
      const taken = await Promise.all(
        Array.from({ length: 25 }, () => store.write((tx) => tx.nextRegistrationNo(2026))),
      );
      expect(new Set(taken).size).toBe(25);
      expect([...taken].sort()).toEqual(
        Array.from({ length: 25 }, (_, i) => `BB-2026-${String(i + 1).padStart(6, '0')}`),
      );
      expect(await store.write((tx) => tx.nextRegistrationNo(2027))).toBe('BB-2027-000001');
    });

    it('serialises transactions: read-modify-write never loses an update', async () => {
      await store.write((tx) => tx.putRecord(record('BB-2026-000001')));
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          store.write(async (tx) => {
            const r = (await tx.getRecord('BB-2026-000001'))!;
            r.followUps.push({ at: '2026-11-21T00:00:00.000Z', by: 'x', note: `n${i}` });
            r.version++;
            await tx.putRecord(r);
          }),
        ),
      );
      const r = await store.read((tx) => tx.getRecord('BB-2026-000001'));
      expect(r?.followUps).toHaveLength(20);
      expect(r?.version).toBe(21);
    });

    it('finds records by any hashed index key, including ones staged in the same transaction', async () => {
      const shared = identity('a', { phone: 'h-phone-1' });
      await store.write(async (tx) => {
        await tx.putRecord(record('BB-2026-000001', { identity: shared }));
        await tx.putRecord(record('BB-2026-000002', { identity: identity('b') }));
      });
      const found = await store.write(async (tx) => {
        await tx.putRecord(record('BB-2026-000003', { identity: identity('c', { phone: 'h-phone-1' }) }));
        return (await tx.findRecordsByKeys(indexKeys(identity('z', { phone: 'h-phone-1' }))))
          .map((r) => r.no)
          .sort();
      });
      expect(found).toEqual(['BB-2026-000001', 'BB-2026-000003']);
      const none = await store.read((tx) => tx.findRecordsByKeys(indexKeys(identity('nobody'))));
      expect(none).toEqual([]);
    });

    it('gives the look-up filter only the record’s own clear fields, and returns only what it accepts', async () => {
      const phone = { phone: 'h-phone-clear' };
      await store.write(async (tx) => {
        await tx.putRecord(record('BB-2026-000001', { identity: identity('a', phone) }));
        await tx.putRecord(
          record('BB-2026-000002', {
            identity: identity('b', phone),
            status: 'protected',
            protectedUntil: '2026-12-31',
          }),
        );
      });
      const seen = await store.write(async (tx) => {
        await tx.putRecord(record('BB-2026-000003', { identity: identity('c', phone), status: 'expired' }));
        const clears: unknown[] = [];
        const found = await tx.findRecordsByKeys(indexKeys(identity('z', phone)), (_identity, clear) => {
          // An adapter may leave the clear fields out; when it gives them they must be right.
          if (clear !== undefined)
            clears.push({
              no: clear.no,
              status: clear.status,
              ...(clear.protectedUntil !== undefined ? { protectedUntil: clear.protectedUntil } : {}),
            });
          return clear === undefined || clear.status !== 'expired';
        });
        return { clears, found: found.map((r) => ({ no: r.no, status: r.status, until: r.protectedUntil })) };
      });
      for (const clear of seen.clears) {
        expect([
          { no: 'BB-2026-000001', status: 'pending' },
          { no: 'BB-2026-000002', status: 'protected', protectedUntil: '2026-12-31' },
          { no: 'BB-2026-000003', status: 'expired' },
        ]).toContainEqual(clear);
      }
      const expected = [
        { no: 'BB-2026-000001', status: 'pending', until: undefined },
        { no: 'BB-2026-000002', status: 'protected', until: '2026-12-31' },
      ];
      if (seen.clears.length === 0)
        expected.push({ no: 'BB-2026-000003', status: 'expired', until: undefined });
      else expect(seen.clears).toHaveLength(3);
      expect(seen.found.sort((a, b) => a.no.localeCompare(b.no))).toEqual(expected);
    });

    it('[R27] answers prefetched look-ups exactly as un-prefetched ones: committed, staged, re-indexed, flushed, bans', async () => {
      const phone = { phone: 'h-phone-pre' };
      const moved = { email: 'h-email-moved' };
      const ban = (no: string, id: IdentityKeys, registrant = '王磊', until = '2027-02-22') => ({
        registrant,
        identity: id,
        until,
        recordNo: no,
        at: 'x',
      });
      await store.write(async (tx) => {
        await tx.putRecord(record('BB-2026-000001', { identity: identity('a', phone) }));
        await tx.putRecord(record('BB-2026-000002', { identity: identity('b', phone) }));
        await tx.putRecord(record('BB-2026-000003', { identity: identity('c', phone), status: 'expired' }));
        await tx.putRecord(record('BB-2026-000004', { identity: identity('d') }));
        await tx.addBan(ban('BB-2026-000001', identity('a', phone)));
        await tx.addBan(ban('BB-2026-000002', identity('b', phone), '李娜'));
        await tx.addBan(ban('BB-2026-000003', identity('c', phone), '王磊', '2026-11-30'));
      });
      const byPhone = indexKeys(identity('z', phone));
      const byMoved = indexKeys(identity('y', moved));
      const byD = indexKeys(identity('d'));
      const covered = [...new Set([...byPhone, ...byMoved, ...byD])];
      const notExpired = (_identity: IdentityKeys, clear?: { status: string }) => clear?.status !== 'expired';
      const lookUps = async (tx: WriteTx) => ({
        phone: (await tx.findRecordsByKeys(byPhone)).map((r) => `${r.no}/${r.version}`),
        phoneActive: (await tx.findRecordsByKeys(byPhone, notExpired)).map((r) => r.no),
        moved: (await tx.findRecordsByKeys(byMoved)).map((r) => r.no),
        d: (await tx.findRecordsByKeys(byD)).map((r) => r.registration.customerName),
        bans: (await tx.findBans(byPhone, '王磊', '2026-12-01')).map((b) => b.recordNo),
        bansBefore: (await tx.findBans(byPhone, '王磊', '2026-11-01')).map((b) => b.recordNo),
        bansOther: (await tx.findBans([...byMoved, ...byPhone], '李娜', '2026-12-01')).map((b) => b.recordNo),
      });
      const script = (prefetch: boolean) =>
        store.simulate(async (tx) => {
          if (prefetch) await tx.prefetchKeys?.(covered);
          const steps = [await lookUps(tx)];
          // Staged: a new record on the phone, and a stored one moved off it.
          await tx.putRecord(record('BB-2026-000005', { identity: identity('e', phone) }));
          const b = (await tx.getRecord('BB-2026-000002'))!;
          await tx.putRecord({ ...b, identity: identity('b', moved), version: b.version + 1 });
          steps.push(await lookUps(tx));
          // Written out mid-transaction (PostgreSQL flushes staged records before counting), then changed again.
          await tx.countRecords({ today: '2026-12-01' });
          const e = (await tx.getRecord('BB-2026-000005'))!;
          await tx.putRecord({ ...e, identity: identity('e', moved), version: e.version + 1 });
          const d = (await tx.getRecord('BB-2026-000004'))!;
          await tx.putRecord({ ...d, registration: { ...d.registration, customerName: '改名' }, version: 2 });
          steps.push(await lookUps(tx));
          await tx.addBan(ban('BB-2026-000004', identity('q', phone)));
          steps.push(await lookUps(tx));
          // A later prefetch replaces the first (an import's next chunk): keys it no longer covers
          // are looked up in the database, which holds what this transaction wrote.
          if (prefetch) await tx.prefetchKeys?.(byMoved);
          steps.push(await lookUps(tx));
          return steps;
        });
      const plain = await script(false);
      expect(await script(true)).toEqual(plain);
      // The steps saw what they should, so the comparison above compares something.
      expect(plain.map((step) => step.phone)).toEqual([
        ['BB-2026-000001/1', 'BB-2026-000002/1', 'BB-2026-000003/1'],
        ['BB-2026-000001/1', 'BB-2026-000003/1', 'BB-2026-000005/1'],
        ['BB-2026-000001/1', 'BB-2026-000003/1'],
        ['BB-2026-000001/1', 'BB-2026-000003/1'],
        ['BB-2026-000001/1', 'BB-2026-000003/1'],
      ]);
      expect(plain.map((step) => step.moved)).toEqual([
        [],
        ['BB-2026-000002'],
        ['BB-2026-000002', 'BB-2026-000005'],
        ['BB-2026-000002', 'BB-2026-000005'],
        ['BB-2026-000002', 'BB-2026-000005'],
      ]);
      expect(plain[0]).toMatchObject({
        phoneActive: ['BB-2026-000001', 'BB-2026-000002'],
        bans: ['BB-2026-000001'],
        bansBefore: ['BB-2026-000001', 'BB-2026-000003'],
        bansOther: ['BB-2026-000002'],
      });
      expect(plain[2]?.d).toEqual(['改名']);
      expect(plain[3]?.bans).toEqual(['BB-2026-000001', 'BB-2026-000004']);
      expect(plain[4]?.bans).toEqual(['BB-2026-000001', 'BB-2026-000004']);
    });

    it('answers getRecord of prefetched numbers exactly as without: stored, absent, staged, flushed', async () => {
      await store.write(async (tx) => {
        await tx.putRecord(record('BB-2026-000001', { identity: identity('a') }));
        await tx.putRecord(record('BB-2026-000002', { identity: identity('b') }));
      });
      const numbers = ['BB-2026-000001', 'BB-2026-000002', 'BB-2026-000003', 'L-001'];
      const reads = async (tx: WriteTx) => {
        const seen: (string | null)[] = [];
        for (const no of numbers) {
          const found = await tx.getRecord(no);
          seen.push(found ? `${found.no}/${found.version}/${found.registration.customerName}` : null);
        }
        return seen;
      };
      const script = (prefetch: boolean) =>
        store.simulate(async (tx) => {
          if (prefetch) await tx.prefetchRecordsByNo?.(numbers.slice(0, 3));
          const steps = [await reads(tx)];
          // Staged: a change of a stored record, and a new one under a number prefetched as absent.
          const a = (await tx.getRecord('BB-2026-000001'))!;
          await tx.putRecord({ ...a, registration: { ...a.registration, customerName: '改名' }, version: 2 });
          await tx.putRecord(record('BB-2026-000003', { identity: identity('c') }));
          steps.push(await reads(tx));
          // Written out mid-transaction (PostgreSQL flushes staged records before counting), then changed again.
          await tx.countRecords({ today: '2026-12-01' });
          steps.push(await reads(tx));
          const c = (await tx.getRecord('BB-2026-000003'))!;
          await tx.putRecord({ ...c, version: 2 });
          await tx.countRecords({ today: '2026-12-01' });
          steps.push(await reads(tx));
          // A later prefetch replaces the first: numbers it no longer covers are read from the database.
          if (prefetch) await tx.prefetchRecordsByNo?.(['L-001']);
          steps.push(await reads(tx));
          return steps;
        });
      const plain = await script(false);
      expect(await script(true)).toEqual(plain);
      const named = (n: string) => `${n}/1/${record(n).registration.customerName}`;
      expect(plain[0]).toEqual([named('BB-2026-000001'), named('BB-2026-000002'), null, null]);
      expect(plain[2]).toEqual([
        'BB-2026-000001/2/改名',
        named('BB-2026-000002'),
        named('BB-2026-000003'),
        null,
      ]);
      expect(plain[4]?.[2]).toBe(`BB-2026-000003/2/${record('BB-2026-000003').registration.customerName}`);
    });

    it('[R16] reads the share partners of many records at once as getRecord would each: stored, absent, staged, flushed; in a keyed write too', async () => {
      const split = (no: string, withNo: string, percent = 50) =>
        record(no, { identity: identity(no), share: { withNo, withRegistrant: '李娜', percent } });
      await store.write(async (tx) => {
        await tx.putRecord(split('BB-2026-000001', 'BB-2026-000002'));
        await tx.putRecord(split('BB-2026-000002', 'BB-2026-000001'));
        await tx.putRecord(split('BB-2026-000003', 'BB-2026-000009'));
        await tx.putRecord(split('BB-2026-000004', 'BB-2026-000001', 100));
      });
      const shares = ['BB-2026-000001', 'BB-2026-000002', 'BB-2026-000003', 'BB-2026-000004'];
      const seen = async (tx: WriteTx, batched: boolean) => {
        const records = await Promise.all(shares.map(async (no) => (await tx.getRecord(no))!));
        const partners = batched
          ? await splitPartnersOf(tx, records)
          : new Map(
              await Promise.all(records.map(async (r) => [r.no, await splitPartnerOf(tx, r)] as const)),
            );
        return shares.map((no) => {
          const p = partners.get(no);
          return p ? `${p.no}/${p.version}/${p.registration.customerName}` : null;
        });
      };
      const script = (batched: boolean) =>
        store.simulate(
          async (tx) => {
            const steps = [await seen(tx, batched)];
            const b = (await tx.getRecord('BB-2026-000002'))!;
            await tx.putRecord({
              ...b,
              registration: { ...b.registration, customerName: '改名' },
              version: 2,
            });
            steps.push(await seen(tx, batched));
            await tx.countRecords({ today: '2026-12-01' });
            steps.push(await seen(tx, batched));
            return steps;
          },
          { keys: ['nm:contract'] },
        );
      const plain = await script(false);
      expect(await script(true)).toEqual(plain);
      expect(plain[0]).toEqual([
        `BB-2026-000002/1/${record('BB-2026-000002').registration.customerName}`,
        `BB-2026-000001/1/${record('BB-2026-000001').registration.customerName}`,
        null,
        null,
      ]);
      expect(plain[1]?.[0]).toBe('BB-2026-000002/2/改名');
      expect(plain[2]?.[0]).toBe('BB-2026-000002/2/改名');
    });

    it('prefetches as of the call: sees records other keyed writes committed before it, not after', async () => {
      // Only an adapter that runs keyed writes side by side has another transaction commit in between.
      if (store.keyedWrites !== true) return;
      const before = identity('before', { phone: 'h-phone-before' });
      const after = identity('after', { phone: 'h-phone-after' });
      const commitBeside = (no: string, id: IdentityKeys) =>
        store.write((tx) => tx.putRecord(record(no, { identity: id })), { keys: [`cc:${no}`] });
      const seen = await store.simulate(
        async (tx) => {
          await commitBeside('BB-2026-000001', before);
          await tx.prefetchKeys?.([...indexKeys(before), ...indexKeys(after)]);
          await commitBeside('BB-2026-000002', after);
          const nos = async (keys: string[]) => (await tx.findRecordsByKeys(keys)).map((r) => r.no);
          return {
            before: await nos(indexKeys(before)),
            after: await nos(indexKeys(after)),
            // A look-up beyond the prefetched keys asks the database, as of now.
            afterUncovered: await nos([...indexKeys(after), 'xx:not-prefetched']),
          };
        },
        { keys: ['cc:ours'] },
      );
      expect(seen).toEqual({
        before: ['BB-2026-000001'],
        after: [],
        afterUncovered: ['BB-2026-000002'],
      });
    });

    it('[R37] re-indexes a record whose identity changed: found by its new keys, never by its old', async () => {
      const before = identity('old', { phone: 'h-phone-old', creditCode: 'h-cc-old' });
      const after = identity('new', { phone: 'h-phone-new', creditCode: 'h-cc-new' });
      const nosBy = async (tx: ReadTx, keys: IdentityKeys) =>
        (await tx.findRecordsByKeys(indexKeys(keys))).map((r) => r.no);
      await store.write((tx) => tx.putRecord(record('BB-2026-000001', { identity: before })));
      // Changed and looked up in one transaction, then committed.
      const inside = await store.write(async (tx) => {
        const r = (await tx.getRecord('BB-2026-000001'))!;
        await tx.putRecord({ ...r, identity: after, version: r.version + 1 });
        return { old: await nosBy(tx, before), new: await nosBy(tx, after) };
      });
      expect(inside).toEqual({ old: [], new: ['BB-2026-000001'] });
      for (const reopen of [false, true]) {
        if (reopen) store = await h.reopen();
        const found = await store.read(async (tx) => ({
          old: await nosBy(tx, before),
          oldPhone: await nosBy(tx, identity('x', { phone: 'h-phone-old' })),
          new: await nosBy(tx, after),
          newPhone: await nosBy(tx, identity('y', { phone: 'h-phone-new' })),
          version: (await tx.getRecord('BB-2026-000001'))?.version,
        }));
        expect(found).toEqual({
          old: [],
          oldPhone: [],
          new: ['BB-2026-000001'],
          newPhone: ['BB-2026-000001'],
          version: 2,
        });
      }
      // A change that is thrown away leaves the old keys in force.
      await expect(
        store.write(async (tx) => {
          const r = (await tx.getRecord('BB-2026-000001'))!;
          await tx.putRecord({ ...r, identity: before, version: r.version + 1 });
          throw new Error('refused');
        }),
      ).rejects.toThrow('refused');
      expect(await store.read((tx) => nosBy(tx, after))).toEqual(['BB-2026-000001']);
      expect(await store.read((tx) => nosBy(tx, before))).toEqual([]);
      // Registered and corrected in one transaction (an import's later correction row).
      const fresh = await store.write(async (tx) => {
        await tx.putRecord(record('BB-2026-000002', { identity: identity('first') }));
        const r = (await tx.getRecord('BB-2026-000002'))!;
        await tx.putRecord({ ...r, identity: identity('second'), version: 2 });
        return { first: await nosBy(tx, identity('first')), second: await nosBy(tx, identity('second')) };
      });
      expect(fresh).toEqual({ first: [], second: ['BB-2026-000002'] });
      expect(await store.read((tx) => nosBy(tx, identity('first')))).toEqual([]);
    });

    it('[R37] a key several records share keeps finding the others when one of them moves away', async () => {
      const shared = { phone: 'h-phone-shared' };
      const byPhone = (tx: ReadTx, phone: string) =>
        tx
          .findRecordsByKeys(indexKeys(identity('probe', { phone })))
          .then((rs) => rs.map((r) => r.no).sort());
      await store.write(async (tx) => {
        for (const n of [1, 2, 3])
          await tx.putRecord(record(`BB-2026-00000${n}`, { identity: identity(`p${n}`, shared) }));
      });
      // Three share the phone, then two move to other numbers one commit at a time: the one left
      // is still found by it (reopened too: the index is rebuilt from the files).
      for (const [n, phone] of [
        [3, 'h-phone-3'],
        [1, 'h-phone-1'],
      ] as const) {
        await store.write(async (tx) => {
          const r = (await tx.getRecord(`BB-2026-00000${n}`))!;
          await tx.putRecord({ ...r, identity: identity(`p${n}`, { phone }), version: r.version + 1 });
        });
      }
      for (const reopen of [false, true]) {
        if (reopen) store = await h.reopen();
        const found = await store.read(async (tx) => ({
          shared: await byPhone(tx, 'h-phone-shared'),
          one: await byPhone(tx, 'h-phone-1'),
          three: await byPhone(tx, 'h-phone-3'),
        }));
        expect(found).toEqual({
          shared: ['BB-2026-000002'],
          one: ['BB-2026-000001'],
          three: ['BB-2026-000003'],
        });
      }
    });

    it('[R34] lists within a scope, filters by status, registrant, expiry and name, and pages', async () => {
      await store.write(async (tx) => {
        await tx.putRecord(
          record('BB-2026-000001', { receivedAt: '2026-11-01T01:00:00.000Z' }, '上海华信科技有限公司'),
        );
        await tx.putRecord(
          record(
            'BB-2026-000002',
            {
              status: 'protected',
              protectedFrom: '2026-11-01',
              protectedUntil: '2026-12-05',
              registration: { ...record('x').registration, registrant: '李娜' },
              team: '华南部',
              receivedAt: '2026-11-02T01:00:00.000Z',
            },
            '北京聚源贸易有限公司',
          ),
        );
        await tx.putRecord(
          record('BB-2026-000003', {
            status: 'protected',
            protectedUntil: '2026-11-10',
            receivedAt: '2026-11-03T01:00:00.000Z',
          }),
        );
      });
      const today = '2026-11-23';
      const all = await store.read((tx) => tx.listRecords({ today, limit: 10, offset: 0 }));
      expect(all.total).toBe(3);
      expect(all.items.map((r) => r.no)).toEqual(['BB-2026-000003', 'BB-2026-000002', 'BB-2026-000001']);
      const mine = await store.read((tx) =>
        tx.listRecords({ today, scope: { registrants: ['李娜'] }, limit: 10, offset: 0 }),
      );
      expect(mine.items.map((r) => r.no)).toEqual(['BB-2026-000002']);
      const team = await store.read((tx) =>
        tx.listRecords({ today, scope: { teams: ['华东一部'] }, limit: 10, offset: 0 }),
      );
      expect(team.total).toBe(2);
      // [R25] a protected record past its last day lists as expired.
      const expired = await store.read((tx) =>
        tx.listRecords({ today, statuses: ['expired'], limit: 10, offset: 0 }),
      );
      expect(expired.items.map((r) => r.no)).toEqual(['BB-2026-000003']);
      const expiring = await store.read((tx) =>
        tx.listRecords({ today, expiringWithinDays: 20, limit: 10, offset: 0 }),
      );
      expect(expiring.items.map((r) => r.no)).toEqual(['BB-2026-000002']);
      const byName = await store.read((tx) => tx.listRecords({ today, q: '聚源', limit: 10, offset: 0 }));
      expect(byName.items.map((r) => r.no)).toEqual(['BB-2026-000002']);
      const page = await store.read((tx) => tx.listRecords({ today, limit: 1, offset: 1 }));
      expect(page).toMatchObject({ total: 3, items: [{ no: 'BB-2026-000002' }] });
      const byRegistrant = await store.read((tx) =>
        tx.listRecords({ today, registrant: '王磊', limit: 10, offset: 0 }),
      );
      expect(byRegistrant.total).toBe(2);
      const counts = await store.read((tx) => tx.countRecords({ today }));
      expect(counts.find((c) => c.registrant === '王磊' && c.status === 'expired')?.count).toBe(1);
      expect(counts.find((c) => c.registrant === '王磊' && c.status === 'pending')?.count).toBe(1);
      const ending = await store.read((tx) => tx.recordsEndingBefore(today, ['protected']));
      expect(ending.map((r) => r.no)).toEqual(['BB-2026-000003']);
    });

    it('scans every match newest first, a page at a time, and keeps its place across commits', async () => {
      // Two share a receipt instant: the number breaks the tie, as in listRecords.
      const at = [
        '2026-11-01',
        '2026-11-03',
        '2026-11-03',
        '2026-11-02',
        '2026-11-05',
        '2026-11-04',
        '2026-11-06',
      ];
      await store.write(async (tx) => {
        for (const [i, day] of at.entries()) {
          await tx.putRecord(
            record(`BB-2026-00000${i + 1}`, {
              receivedAt: `${day}T01:00:00.000Z`,
              ...(i === 3 ? { status: 'rejected' as const } : {}),
            }),
          );
        }
      });
      const today = '2026-11-23';
      const query = { today, statuses: ['pending' as const] };
      const listed = await store.read((tx) => tx.listRecords({ ...query, limit: 100, offset: 0 }));
      expect(listed.items.map((r) => r.no)).toEqual([
        'BB-2026-000007',
        'BB-2026-000005',
        'BB-2026-000006',
        'BB-2026-000003',
        'BB-2026-000002',
        'BB-2026-000001',
      ]);
      const pages = await store.read(async (tx) => {
        const out: string[][] = [];
        for await (const page of tx.scanRecords(query, 4)) out.push(page.map((r) => r.no));
        return out;
      });
      expect(pages).toEqual([
        listed.items.slice(0, 4).map((r) => r.no),
        listed.items.slice(4).map((r) => r.no),
      ]);

      // A commit between two pages: a newer registration (which pushed an offset's window down by
      // one, so a record came twice) and one not yet read leaving the query.
      const seen = await store.read(async (tx) => {
        const out: string[] = [];
        let first = true;
        for await (const page of tx.scanRecords(query, 2)) {
          out.push(...page.map((r) => r.no));
          if (!first) continue;
          first = false;
          await store.write(async (w) => {
            await w.putRecord(record('BB-2026-000008', { receivedAt: '2026-11-22T01:00:00.000Z' }));
            await w.putRecord(
              record('BB-2026-000002', { receivedAt: '2026-11-03T01:00:00.000Z', status: 'void' }),
            );
          });
        }
        return out;
      });
      expect(seen).toEqual([
        'BB-2026-000007',
        'BB-2026-000005',
        'BB-2026-000006',
        'BB-2026-000003',
        'BB-2026-000001',
      ]);
      const none = await store.read(async (tx) => {
        const out: StoredRecord[][] = [];
        for await (const page of tx.scanRecords({ today, statuses: ['signed'] }, 2)) out.push(page);
        return out.flat();
      });
      expect(none).toEqual([]);
    });

    const writtenSince = async (s: Store, mark: WriteMark): Promise<string[] | undefined> => {
      const found = await s.read((tx) => tx.recordsWrittenSince(mark));
      return found?.map((r) => `${r.no}@${r.version}`).sort();
    };

    it('recordsWrittenSince: exactly the records put after the mark, as they stand now', async () => {
      await store.write(async (tx) => {
        await tx.putRecord(record('BB-2026-000001'));
        await tx.putRecord(record('BB-2026-000002'));
      });
      const mark = await store.read((tx) => tx.writeMark());
      expect(await writtenSince(store, mark)).toEqual([]);
      await store.write(async (tx) => {
        await tx.putRecord(record('BB-2026-000003'));
        await tx.putRecord(record('BB-2026-000001', { version: 2 }));
      });
      await store.write((tx) => tx.putRecord(record('BB-2026-000001', { version: 3 })));
      // A write that changes no record moves nothing.
      await store.write((tx) => tx.putDoc('things', 'k', { n: 1 }));
      expect(await writtenSince(store, mark)).toEqual(['BB-2026-000001@3', 'BB-2026-000003@1']);
      const later = await store.read((tx) => tx.writeMark());
      expect(await writtenSince(store, later)).toEqual([]);
      // After a reopen a store either still tells or says it cannot; never a partial answer.
      store = await h.reopen();
      const reopened = await writtenSince(store, mark);
      if (reopened !== undefined) expect(reopened).toEqual(['BB-2026-000001@3', 'BB-2026-000003@1']);
      expect(await store.read((tx) => tx.recordsWrittenSince('not-a-mark' as WriteMark))).toBeUndefined();
    });

    it('recordsWrittenSince: a write still running when the mark is taken counts as after it', async () => {
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      let putDone!: () => void;
      const put = new Promise<void>((resolve) => (putDone = resolve));
      const running = store.write(async (tx) => {
        await tx.putRecord(record('BB-2026-000001'));
        // Sent to the database (a query that scans records flushes what is staged), not committed.
        await tx.listRecords({ today: '2026-11-23', limit: 1, offset: 0 });
        putDone();
        await gate;
      });
      await put;
      let mark: WriteMark;
      try {
        mark = await store.read((tx) => tx.writeMark());
        const whileRunning = await store.read((tx) =>
          tx.listRecords({ today: '2026-11-23', limit: 10, offset: 0 }),
        );
        expect(whileRunning.items).toEqual([]);
      } finally {
        release();
        await running;
      }
      expect(await writtenSince(store, mark)).toEqual(['BB-2026-000001@1']);
    });

    /** Lost to BB-2026-000090 on 2026-11-20: rejected `conflict.lost`, with an objection window. */
    const lost = (no: string, overrides: Partial<StoredRecord> = {}): StoredRecord =>
      record(no, {
        status: 'rejected',
        reasonCode: 'conflict.lost',
        objectionDeadline: '2026-11-24',
        history: [
          {
            at: '2026-11-20T03:00:00.000Z',
            by: '张敏',
            action: 'conflict.lost',
            from: 'pending',
            to: 'rejected',
            reason: '同一客户已批准给 李娜',
            details: { winner: 'BB-2026-000090' },
          },
        ],
        ...overrides,
      });
    const filed = { at: '2026-11-21T02:00:00.000Z', reason: '已先拜访', against: 'BB-2026-000090' };
    const awaiting = async (s: Store, query: { scope?: { teams: string[] } } = {}): Promise<string[]> => {
      const listed = await s.read((tx) =>
        tx.listRecords({ today: '2026-11-23', objectionOpen: true, ...query, limit: 10, offset: 0 }),
      );
      expect(listed.total).toBe(listed.items.length);
      return listed.items.map((r) => r.no).sort();
    };
    const windowsOpen = async (s: Store, day: string): Promise<string[]> => {
      const listed = await s.read((tx) =>
        tx.listRecords({ today: '2026-11-23', objectionDeadlineFrom: day, limit: 10, offset: 0 }),
      );
      return listed.items.map((r) => r.no).sort();
    };

    it('[R12] lists exactly the records whose objection awaits a decision: filed, decided, superseded', async () => {
      await store.write(async (tx) => {
        await tx.putRecord(lost('BB-2026-000001'));
        await tx.putRecord(lost('BB-2026-000002', { objection: filed }));
        await tx.putRecord(lost('BB-2026-000003', { objection: filed, team: '华南部' }));
        await tx.putRecord(
          lost('BB-2026-000004', {
            objection: { ...filed, decision: 'dismissed', decidedAt: '2026-11-22T02:00:00.000Z' },
          }),
        );
        await tx.putRecord(record('BB-2026-000005'));
      });
      expect(await awaiting(store)).toEqual(['BB-2026-000002', 'BB-2026-000003']);
      expect(await awaiting(store, { scope: { teams: ['华南部'] } })).toEqual(['BB-2026-000003']);
      const notAwaiting = await store.read((tx) =>
        tx.listRecords({ today: '2026-11-23', objectionOpen: false, limit: 10, offset: 0 }),
      );
      expect(notAwaiting.items.map((r) => r.no).sort()).toEqual([
        'BB-2026-000001',
        'BB-2026-000004',
        'BB-2026-000005',
      ]);
      // Filed on 000001; 000002 upheld (protected again); 000003 closed as superseded by 000002's.
      await store.write(async (tx) => {
        await tx.putRecord(lost('BB-2026-000001', { objection: filed, version: 2 }));
        await tx.putRecord(
          lost('BB-2026-000002', {
            status: 'protected',
            protectedFrom: '2026-11-23',
            protectedUntil: '2027-02-22',
            objection: { ...filed, decision: 'upheld', decidedAt: '2026-11-23T02:00:00.000Z' },
            version: 2,
          }),
        );
        await tx.putRecord(
          lost('BB-2026-000003', {
            team: '华南部',
            objection: { ...filed, decision: 'dismissed', decidedAt: '2026-11-23T02:00:00.000Z' },
            version: 2,
          }),
        );
      });
      expect(await awaiting(store)).toEqual(['BB-2026-000001']);
      store = await h.reopen();
      expect(await awaiting(store)).toEqual(['BB-2026-000001']);
      const counted = await store.read((tx) => tx.countRecords({ today: '2026-11-23', objectionOpen: true }));
      expect(counted).toEqual([{ registrant: '王磊', team: '华东一部', status: 'rejected', count: 1 }]);
    });

    it('[R39] a record destroyed with its objection undecided awaits no decision', async () => {
      await store.write(async (tx) => {
        await tx.putRecord(lost('BB-2026-000001', { objection: filed }));
        await tx.putRecord(lost('BB-2026-000002', { objection: filed }));
      });
      expect(await awaiting(store)).toEqual(['BB-2026-000001', 'BB-2026-000002']);
      await store.write(async (tx) =>
        tx.putRecord(
          lost('BB-2026-000002', {
            objection: filed,
            destroyed: { at: '2037-01-05T02:00:00.000Z', requestId: 'd1' },
            version: 2,
          }),
        ),
      );
      expect(await awaiting(store)).toEqual(['BB-2026-000001']);
    });

    it('[R12] answers which objections await a decision right after opening a store kept before the flag', async () => {
      await store.write(async (tx) => {
        await tx.putRecord(lost('BB-2026-000001'));
        await tx.putRecord(lost('BB-2026-000002', { objection: filed }));
        await tx.putRecord(
          lost('BB-2026-000003', {
            objection: { ...filed, decision: 'dismissed', decidedAt: '2026-11-22T02:00:00.000Z' },
          }),
        );
        await tx.putRecord(record('BB-2026-000004'));
      });
      store = await h.reopenAsBeforeObjectionFlag();
      expect(await awaiting(store)).toEqual(['BB-2026-000002']);
      expect(await windowsOpen(store, '2026-11-24')).toEqual([
        'BB-2026-000001',
        'BB-2026-000002',
        'BB-2026-000003',
      ]);
      await store.write((tx) => tx.putRecord(lost('BB-2026-000001', { objection: filed, version: 2 })));
      expect(await awaiting(store)).toEqual(['BB-2026-000001', 'BB-2026-000002']);
      // Brought up to date once: what the first opening worked out is kept.
      store = await h.reopen();
      expect(await awaiting(store)).toEqual(['BB-2026-000001', 'BB-2026-000002']);
      expect(await windowsOpen(store, '2026-11-24')).toHaveLength(3);
      expect((await store.read((tx) => tx.getRecord('BB-2026-000002')))?.objection).toEqual(filed);
    });

    it('[R12][R39] reads the rejections whose objection window is open on a day, none opened to find them', async () => {
      await store.write(async (tx) => {
        await tx.putRecord(lost('BB-2026-000001'));
        await tx.putRecord(lost('BB-2026-000002', { objectionDeadline: '2026-11-30' }));
        await tx.putRecord(lost('BB-2026-000003', { objectionDeadline: '2026-11-20' }));
        // Won on its objection: protected now, its old deadline no longer a window.
        await tx.putRecord(
          lost('BB-2026-000004', {
            status: 'protected',
            protectedFrom: '2026-11-23',
            protectedUntil: '2027-02-22',
            objectionDeadline: '2026-11-30',
          }),
        );
        // Rejected by a reviewer, never had a window.
        await tx.putRecord(record('BB-2026-000005', { status: 'rejected' }));
      });
      expect(await windowsOpen(store, '2026-11-24')).toEqual(['BB-2026-000001', 'BB-2026-000002']);
      expect(await windowsOpen(store, '2026-11-25')).toEqual(['BB-2026-000002']);
      expect(await windowsOpen(store, '2026-12-01')).toEqual([]);
      store = await h.reopen();
      expect(await windowsOpen(store, '2026-11-20')).toEqual([
        'BB-2026-000001',
        'BB-2026-000002',
        'BB-2026-000003',
      ]);
    });

    it('[R12] a loaded dump (store copy, restore) answers which objections await a decision', async () => {
      await store.load({
        records: [lost('BB-2026-000001', { objection: filed }), lost('BB-2026-000002')],
        counters: {},
        users: [],
        policy: null,
        bans: [],
        notifications: [],
        idempotency: [],
        docs: [],
        audit: [],
      });
      expect(await awaiting(store)).toEqual(['BB-2026-000001']);
    });

    it('[R16][R34] lists a record to its share partner only while the share lasts', async () => {
      const shared = (no: string, overrides: Partial<StoredRecord>): StoredRecord =>
        record(no, {
          status: 'protected',
          protectedFrom: '2026-10-01',
          protectedUntil: '2026-12-31',
          share: { withNo: 'BB-2026-000099', withRegistrant: '李娜', percent: 60 },
          ...overrides,
        });
      await store.write(async (tx) => {
        await tx.putRecord(shared('BB-2026-000001', {}));
        // The partner left: this share holds the customer alone (share.partner_left).
        await tx.putRecord(
          shared('BB-2026-000002', {
            share: { withNo: 'BB-2026-000098', withRegistrant: '李娜', percent: 100 },
          }),
        );
        // Both shares ended by an upheld objection.
        await tx.putRecord(shared('BB-2026-000003', { status: 'terminated' }));
        // Ran out on 2026-11-10, not swept yet.
        await tx.putRecord(shared('BB-2026-000004', { protectedUntil: '2026-11-10' }));
      });
      const today = '2026-11-23';
      for (const query of [
        { scope: { registrants: ['李娜'] } },
        { scope: { registrants: ['李娜'], teams: ['华南部'] } },
        { registrant: '李娜' },
      ]) {
        const partner = await store.read((tx) => tx.listRecords({ today, ...query, limit: 10, offset: 0 }));
        expect(partner, JSON.stringify(query)).toMatchObject({ total: 1, items: [{ no: 'BB-2026-000001' }] });
      }
      const counted = await store.read((tx) => tx.countRecords({ today, scope: { registrants: ['李娜'] } }));
      expect(counted.reduce((sum, c) => sum + c.count, 0)).toBe(1);
      // The holder keeps all four.
      const holder = await store.read((tx) =>
        tx.listRecords({ today, scope: { registrants: ['王磊'] }, limit: 10, offset: 0 }),
      );
      expect(holder.total).toBe(4);
    });

    it('[R16][R25][R34] lists a share to its partner no more once the partner record ran out, before any sweep', async () => {
      // Li's share (BB-2026-000011, 40%) and Wang's share (…12, 60%) of one customer; Li was extended.
      const li = (no: string, withNo: string, overrides: Partial<StoredRecord> = {}): StoredRecord =>
        record(no, {
          status: 'protected',
          protectedFrom: '2026-10-01',
          protectedUntil: '2027-01-31',
          registration: { ...record(no).registration, registrant: '李娜' },
          share: { withNo, withRegistrant: '王磊', percent: 40 },
          ...overrides,
        });
      const wang = (no: string, withNo: string, overrides: Partial<StoredRecord> = {}): StoredRecord =>
        record(no, {
          status: 'protected',
          protectedFrom: '2026-10-01',
          protectedUntil: '2026-12-29',
          share: { withNo, withRegistrant: '李娜', percent: 60 },
          ...overrides,
        });
      await store.write(async (tx) => {
        await tx.putRecord(li('BB-2026-000011', 'BB-2026-000012'));
        await tx.putRecord(wang('BB-2026-000012', 'BB-2026-000011'));
        // Wang signed his share: the deal is theirs to split, whatever the day.
        await tx.putRecord(li('BB-2026-000013', 'BB-2026-000014'));
        await tx.putRecord(wang('BB-2026-000014', 'BB-2026-000013', { status: 'signed' }));
      });
      const listedFor = async (today: string): Promise<string[]> => {
        const lists = await store.read(async (tx) => [
          await tx.listRecords({ today, scope: { registrants: ['王磊'] }, limit: 10, offset: 0 }),
          await tx.listRecords({ today, registrant: '王磊', limit: 10, offset: 0 }),
        ]);
        const [byScope, byRegistrant] = lists.map((l) => l.items.map((r) => r.no).sort());
        expect(byRegistrant).toEqual(byScope);
        expect(lists.map((l) => l.total)).toEqual([byScope!.length, byScope!.length]);
        return byScope!;
      };
      // Wang's last day: he still lists Li's share.
      expect(await listedFor('2026-12-29')).toEqual([
        'BB-2026-000011',
        'BB-2026-000012',
        'BB-2026-000013',
        'BB-2026-000014',
      ]);
      // The day after, Wang's share has run out (not swept): Li holds hers alone.
      expect(await listedFor('2026-12-30')).toEqual(['BB-2026-000012', 'BB-2026-000013', 'BB-2026-000014']);
      const counted = await store.read((tx) =>
        tx.countRecords({ today: '2026-12-30', scope: { registrants: ['王磊'] } }),
      );
      expect(counted.reduce((sum, c) => sum + c.count, 0)).toBe(3);
    });

    it('[R16][R34] a store written before the partner number lists a survivor to its former partner no more, right after opening', async () => {
      // Li's share (…21, 40%, to 2027-01-31) and Wang's (…22, 60%, ran out on 2026-12-29, not swept).
      await store.write(async (tx) => {
        await tx.putRecord(
          record('BB-2026-000021', {
            status: 'protected',
            protectedFrom: '2026-10-01',
            protectedUntil: '2027-01-31',
            registration: { ...record('BB-2026-000021').registration, registrant: '李娜' },
            share: { withNo: 'BB-2026-000022', withRegistrant: '王磊', percent: 40 },
          }),
        );
        await tx.putRecord(
          record('BB-2026-000022', {
            status: 'protected',
            protectedFrom: '2026-10-01',
            protectedUntil: '2026-12-29',
            share: { withNo: 'BB-2026-000021', withRegistrant: '李娜', percent: 60 },
          }),
        );
        // Not shared: nothing to fill.
        await tx.putRecord(record('BB-2026-000023', { status: 'protected', protectedUntil: '2027-01-31' }));
      });
      const listedToWang = async (s: Store): Promise<string[]> =>
        (
          await s.read((tx) =>
            tx.listRecords({ today: '2026-12-30', registrant: '王磊', limit: 10, offset: 0 }),
          )
        ).items
          .map((r) => r.no)
          .sort();
      store = await h.reopenAsBeforeSharePartnerNo();
      expect(await listedToWang(store)).toEqual(['BB-2026-000022', 'BB-2026-000023']);
      const counted = await store.read((tx) =>
        tx.countRecords({ today: '2026-12-30', scope: { registrants: ['王磊'] } }),
      );
      expect(counted.reduce((sum, c) => sum + c.count, 0)).toBe(2);
      // On Wang's last day Li's share still lists to him.
      const onLastDay = await store.read((tx) =>
        tx.listRecords({ today: '2026-12-29', registrant: '王磊', limit: 10, offset: 0 }),
      );
      expect(onLastDay.total).toBe(3);
      // Worked out once: what the first opening filled is kept, and the records read as written.
      store = await h.reopen();
      expect(await listedToWang(store)).toEqual(['BB-2026-000022', 'BB-2026-000023']);
      expect((await store.read((tx) => tx.getRecord('BB-2026-000021')))?.share).toEqual({
        withNo: 'BB-2026-000022',
        withRegistrant: '王磊',
        percent: 40,
      });
    });

    it('[R27] finds a ban only for its registrant, its customer and while it lasts', async () => {
      const id = identity('banned');
      await store.write((tx) =>
        tx.addBan({
          registrant: '王磊',
          identity: id,
          until: '2027-02-22',
          recordNo: 'BB-2026-000001',
          at: 'x',
        }),
      );
      const keys = indexKeys(id);
      expect(await store.read((tx) => tx.findBans(keys, '王磊', '2026-12-01'))).toHaveLength(1);
      expect(await store.read((tx) => tx.findBans(keys, '李娜', '2026-12-01'))).toHaveLength(0);
      expect(await store.read((tx) => tx.findBans(keys, '王磊', '2027-02-23'))).toHaveLength(0);
      expect(
        await store.read((tx) => tx.findBans(indexKeys(identity('other')), '王磊', '2026-12-01')),
      ).toHaveLength(0);
    });

    it('[R27] finds each ban once by any of its keys, committed ones before staged ones, and bans committed later too', async () => {
      const ban = (no: string, id: IdentityKeys) => ({
        registrant: '王磊',
        identity: id,
        until: '2027-02-22',
        recordNo: no,
        at: 'x',
      });
      const phone = { phone: 'h-phone-ban' };
      await store.write((tx) => tx.addBan(ban('BB-2026-000001', identity('a', phone))));
      const keysOf = (id: IdentityKeys) => indexKeys(id);
      // Both keys of the first ban, one of the second: each ban once.
      const query = [...keysOf(identity('a', phone)), ...keysOf(identity('zz', phone))];
      expect(
        (await store.read((tx) => tx.findBans(query, '王磊', '2026-12-01'))).map((b) => b.recordNo),
      ).toEqual(['BB-2026-000001']);
      await store.write((tx) => tx.addBan(ban('BB-2026-000002', identity('b', phone))));
      const inside = await store.write(async (tx) => {
        await tx.addBan(ban('BB-2026-000003', identity('c', phone)));
        return (await tx.findBans(query, '王磊', '2026-12-01')).map((b) => b.recordNo);
      });
      expect(inside).toEqual(['BB-2026-000001', 'BB-2026-000002', 'BB-2026-000003']);
      for (const reopen of [false, true]) {
        if (reopen) store = await h.reopen();
        const found = await store.read((tx) => tx.findBans(query, '王磊', '2026-12-01'));
        expect(found.map((b) => b.recordNo).sort()).toEqual([
          'BB-2026-000001',
          'BB-2026-000002',
          'BB-2026-000003',
        ]);
      }
    });

    it('delivers notifications to a registrant or to the reviewers of a team', async () => {
      await store.write((tx) =>
        tx.addNotifications([
          {
            id: '1',
            to: { name: '王磊' },
            type: 'decision',
            recordNo: 'BB-2026-000001',
            at: 'a',
            details: {},
          },
          {
            id: '2',
            to: { reviewersOf: '华东一部' },
            type: 'objection.filed',
            recordNo: 'BB-2026-000002',
            at: 'b',
            details: {},
          },
          {
            id: '3',
            to: { reviewersOf: null },
            type: 'objection.filed',
            recordNo: 'BB-2026-000003',
            at: 'c',
            details: {},
          },
        ]),
      );
      const sales = await store.read((tx) => tx.listNotifications({ name: '王磊', role: 'sales' }, 10));
      expect(sales.map((n) => n.id)).toEqual(['1']);
      const reviewer = await store.read((tx) =>
        tx.listNotifications({ name: '周主管', role: 'reviewer', team: '华东一部' }, 10),
      );
      expect(reviewer.map((n) => n.id).sort()).toEqual(['2', '3']);
      const otherTeam = await store.read((tx) =>
        tx.listNotifications({ name: '吴主管', role: 'reviewer', team: '华南部' }, 10),
      );
      expect(otherTeam.map((n) => n.id)).toEqual(['3']);
    });

    it('keeps idempotent responses until pruned', async () => {
      await store.write((tx) =>
        tx.putIdempotency({
          userId: 'u1',
          key: 'k1',
          bodyHash: 'h',
          at: '2026-11-20T00:00:00.000Z',
          response: { status: 200, body: { results: [{ status: 'pending' }] } },
        }),
      );
      store = await h.reopen();
      expect((await store.read((tx) => tx.getIdempotency('u1', 'k1')))?.response.body).toEqual({
        results: [{ status: 'pending' }],
      });
      expect(await store.read((tx) => tx.getIdempotency('u2', 'k1'))).toBeUndefined();
      await store.write((tx) => tx.pruneIdempotency('2026-11-21T00:00:00.000Z'));
      expect(await store.read((tx) => tx.getIdempotency('u1', 'k1'))).toBeUndefined();
    });

    it('[R36] appends audit entries and lists them newest first with filters', async () => {
      await store.appendAudit([
        {
          at: '2026-11-20T00:00:00.000Z',
          actor: '王磊',
          actorRole: 'sales',
          action: 'registration.read',
          records: ['BB-2026-000001'],
        },
        {
          at: '2026-11-21T00:00:00.000Z',
          actor: 'admin',
          actorRole: 'admin',
          action: 'registration.list',
          records: ['BB-2026-000001', 'BB-2026-000002'],
        },
      ]);
      const all = await store.listAudit({ limit: 10, offset: 0 });
      expect(all.total).toBe(2);
      expect(all.items[0]?.actor).toBe('admin');
      expect((await store.listAudit({ record: 'BB-2026-000002', limit: 10, offset: 0 })).total).toBe(1);
      expect((await store.listAudit({ actor: '王磊', limit: 10, offset: 0 })).total).toBe(1);
      expect((await store.listAudit({ since: '2026-11-20T12:00:00.000Z', limit: 10, offset: 0 })).total).toBe(
        1,
      );
    });

    it('keeps documents by collection and key, lists them in key order within a range', async () => {
      await store.write(async (tx) => {
        for (const year of ['2027', '2025', '2026'])
          await tx.putDoc('calendars', year, { year: Number(year) });
        await tx.putDoc('outbox', 'due|2026-12-01T01:00|a', { n: 1 });
        await tx.putDoc('outbox', 'due|2026-12-02T01:00|b', { n: 2 });
        await tx.putDoc('outbox', 'sent|2026-11-30T01:00|c', { n: 3 });
      });
      store = await h.reopen();
      expect(await store.read((tx) => tx.getDoc('calendars', '2026'))).toEqual({ year: 2026 });
      expect(await store.read((tx) => tx.getDoc('calendars', '2030'))).toBeUndefined();
      expect(await store.read((tx) => tx.getDoc('nothing-here', '2026'))).toBeUndefined();
      const years = await store.read((tx) => tx.listDocs('calendars'));
      expect(years.map((d) => d.key)).toEqual(['2025', '2026', '2027']);
      const due = await store.read((tx) => tx.listDocs('outbox', { prefix: 'due|' }));
      expect(due.map((d) => d.value)).toEqual([{ n: 1 }, { n: 2 }]);
      const window = await store.read((tx) =>
        tx.listDocs('outbox', { from: 'due|2026-12-02', to: 'sent|2026-11-30T01:00|c' }),
      );
      expect(window.map((d) => d.key)).toEqual(['due|2026-12-02T01:00|b']);
      expect((await store.read((tx) => tx.listDocs('outbox', { limit: 1 }))).map((d) => d.key)).toEqual([
        'due|2026-12-01T01:00|a',
      ]);
      // A prefix with LIKE's wildcards means itself.
      await store.write((tx) => tx.putDoc('outbox', 'x_%y', { n: 4 }));
      expect((await store.read((tx) => tx.listDocs('outbox', { prefix: 'x_%' }))).map((d) => d.key)).toEqual([
        'x_%y',
      ]);
      expect(await store.read((tx) => tx.listDocs('outbox', { prefix: 'x%' }))).toEqual([]);
    });

    it('replaces and deletes documents; a transaction sees its own document changes first', async () => {
      await store.write((tx) => tx.putDoc('read-state', 'u1', { upTo: 'a' }));
      const seen = await store.write(async (tx) => {
        await tx.putDoc('read-state', 'u1', { upTo: 'b' });
        await tx.putDoc('read-state', 'u2', { upTo: 'c' });
        await tx.deleteDoc('read-state', 'u2');
        return {
          u1: await tx.getDoc('read-state', 'u1'),
          u2: await tx.getDoc('read-state', 'u2'),
          keys: (await tx.listDocs('read-state')).map((d) => d.key),
        };
      });
      expect(seen).toEqual({ u1: { upTo: 'b' }, u2: undefined, keys: ['u1'] });
      await store.write((tx) => tx.deleteDoc('read-state', 'u1'));
      store = await h.reopen();
      expect(await store.read((tx) => tx.listDocs('read-state'))).toEqual([]);
      // What is read is a copy: changing it changes nothing stored.
      await store.write((tx) => tx.putDoc('read-state', 'u3', { ids: ['a'] }));
      const copy = (await store.read((tx) => tx.getDoc('read-state', 'u3'))) as { ids: string[] };
      copy.ids.push('b');
      expect(await store.read((tx) => tx.getDoc('read-state', 'u3'))).toEqual({ ids: ['a'] });
    });

    it('claims a document key once: insertDoc refuses a key that exists, in or before the transaction', async () => {
      const first = await store.write(async (tx) => [
        await tx.insertDoc('reminders', 'BB-2026-000001|T-20', { at: 'x' }),
        await tx.insertDoc('reminders', 'BB-2026-000001|T-20', { at: 'y' }),
      ]);
      expect(first).toEqual([true, false]);
      store = await h.reopen();
      expect(await store.write((tx) => tx.insertDoc('reminders', 'BB-2026-000001|T-20', { at: 'z' }))).toBe(
        false,
      );
      expect(await store.read((tx) => tx.getDoc('reminders', 'BB-2026-000001|T-20'))).toEqual({ at: 'x' });
      // Concurrent claims of one key: exactly one wins.
      const claims = await Promise.all(
        Array.from({ length: 10 }, (_, i) => store.write((tx) => tx.insertDoc('reminders', 'k', { i }))),
      );
      expect(claims.filter(Boolean)).toHaveLength(1);
      // A deleted key can be claimed again.
      await store.write((tx) => tx.deleteDoc('reminders', 'k'));
      expect(await store.write((tx) => tx.insertDoc('reminders', 'k', { i: 99 }))).toBe(true);
    });

    it('keeps no document change of a transaction that throws, nor of a simulation', async () => {
      await expect(
        store.write(async (tx) => {
          await tx.putDoc('calendars', '2027', { year: 2027 });
          await tx.insertDoc('reminders', 'once', {});
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      const simulated = await store.simulate(async (tx) => {
        await tx.putDoc('calendars', '2028', { year: 2028 });
        return tx.getDoc('calendars', '2028');
      });
      expect(simulated).toEqual({ year: 2028 });
      expect(await store.read((tx) => tx.listDocs('calendars'))).toEqual([]);
      expect(await store.write((tx) => tx.insertDoc('reminders', 'once', {}))).toBe(true);
    });

    it('claims documents in a write transaction and refuses bad collection names and keys', async () => {
      await store.write(async (tx) => {
        for (const k of ['a', 'b', 'c']) await tx.putDoc('outbox', k, { k });
      });
      const claimed = await store.write((tx) => tx.claimDocs('outbox', { limit: 2 }));
      expect(claimed.map((d) => d.key)).toEqual(['a', 'b']);
      await expect(store.write((tx) => tx.putDoc('Bad Name', 'k', 1))).rejects.toThrow(/collection/);
      await expect(store.write((tx) => tx.putDoc('outbox', '', 1))).rejects.toThrow(/key/);
      await expect(store.write((tx) => tx.putDoc('outbox', 'x'.repeat(201), 1))).rejects.toThrow(/key/);
      await expect(store.write((tx) => tx.putDoc('outbox', 'k', undefined))).rejects.toThrow(/JSON/);
    });

    it('holds documents in a write transaction: those that exist, by key, with its own changes', async () => {
      await store.write(async (tx) => {
        for (const k of ['p2', 'p1']) await tx.putDoc('pool', k, { k });
      });
      const held = await store.write(async (tx) => {
        await tx.putDoc('pool', 'p2', { k: 'p2', claimed: true });
        return await tx.holdDocs('pool', ['p2', 'missing', 'p1', 'p2']);
      });
      expect([...held.entries()].sort()).toEqual([
        ['p1', { k: 'p1' }],
        ['p2', { k: 'p2', claimed: true }],
      ]);
      expect((await store.write((tx) => tx.holdDocs('pool', []))).size).toBe(0);
      await expect(store.read((tx) => (tx as WriteTx).holdDocs('pool', ['p1']))).rejects.toThrow(
        /write transaction/,
      );
      await expect(store.write((tx) => tx.holdDocs('pool', ['']))).rejects.toThrow(/key/);
    });

    it('[R35] keeps no personal data in clear at rest', async () => {
      await store.write(async (tx) => {
        const changed = record('BB-2026-000001');
        // A change's history holds the values it replaced (R37): sealed like the record.
        changed.history.push({
          at: '2026-11-21T02:00:00.000Z',
          by: '王磊',
          action: 'change',
          reason: '更正',
          details: { field: 'contactPhone', from: '13900001111', to: '13812345678' },
        });
        await tx.putRecord(changed);
        await tx.putPolicy(DEFAULT_POLICY);
      });
      await store.write((tx) =>
        tx.putIdempotency({
          userId: 'u1',
          key: 'k',
          bodyHash: 'h',
          at: '2026-11-20T00:00:00.000Z',
          response: { status: 200, body: { echo: '13812345678 李秀英' } },
        }),
      );
      await store.write((tx) => tx.putDoc('outbox', 'e1', { text: '李秀英 13812345678' }));
      const rest = await h.restText();
      for (const secret of [
        '13812345678',
        '李秀英',
        'li@example.com',
        '91310000MA1FL8L972',
        '世纪大道',
        '华信',
        '13900001111',
      ]) {
        expect(rest).not.toContain(secret);
      }
      expect(rest).toContain('BB-2026-000001');
    });

    it('loads a dump into an empty store in one piece, dumps it back equal, and refuses a second load', async () => {
      const dump: StoreDump = {
        records: [
          record('BB-2026-000001'),
          record(
            'BB-2026-000002',
            { status: 'protected', protectedUntil: '2027-02-20' },
            '北京远景贸易有限公司',
          ),
        ],
        counters: { '2026': 2 },
        users: [
          {
            id: 'u1',
            name: '王磊',
            role: 'sales',
            team: '华东一部',
            tokenHash: 'th1',
            createdAt: '2026-11-01T00:00:00.000Z',
          },
        ],
        policy: presetPolicy('channel'),
        bans: [
          {
            registrant: '王磊',
            identity: identity('x'),
            until: '2027-01-01',
            recordNo: 'BB-2026-000001',
            at: '2026-10-01T00:00:00.000Z',
          },
        ],
        notifications: [
          {
            id: 'n1',
            to: { name: '王磊' },
            type: 'decision',
            recordNo: 'BB-2026-000001',
            at: '2026-11-01T00:00:00.000Z',
            details: { status: 'protected' },
          },
          {
            id: 'n2',
            to: { reviewersOf: null },
            type: 'objection.filed',
            recordNo: 'BB-2026-000002',
            at: '2026-11-02T00:00:00.000Z',
            details: {},
          },
        ],
        idempotency: [
          {
            userId: 'u1',
            key: 'k',
            bodyHash: 'h',
            at: '2026-11-20T00:00:00.000Z',
            response: { status: 200, body: { ok: true } },
          },
        ],
        docs: [
          {
            collection: 'calendars',
            key: '2027',
            value: {
              holidays: [{ from: '2027-02-08', to: '2027-02-14', name: '春节' }],
              workdays: ['2027-02-06'],
            },
          },
          { collection: 'read-state', key: 'u1', value: { upTo: 'n1' } },
        ],
        audit: [
          {
            at: '2026-11-01T00:00:00.000Z',
            actor: 'admin',
            actorRole: 'admin',
            action: 'calendar.update',
            records: [],
          },
          {
            at: '2026-11-02T00:00:00.000Z',
            actor: '王磊',
            actorRole: 'sales',
            action: 'read',
            records: ['BB-2026-000001'],
            details: { n: 1 },
          },
        ],
      };
      await store.load(structuredClone(dump));
      expect(await store.dump()).toEqual(dump);
      // The counter continues where the dump left it.
      expect(await store.simulate((tx) => tx.nextRegistrationNo(2026))).toBe('BB-2026-000003');
      store = await h.reopen();
      expect(await store.dump()).toEqual(dump);
      await expect(store.load(dump)).rejects.toMatchObject({ code: 'store.not_empty' });
      expect((await store.dump()).records).toHaveLength(2);
    });
  });
}
