/**
 * Issue 12, "cost follows the work": the service's sweep reads every remindable record once per
 * Shanghai day (its first sweep, and at start) and in between only the records written since its
 * last read — without losing or delaying a reminder that is due. On both stores, each real: a
 * lowdb data dir and a PostgreSQL schema.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PACKAGE_CALENDAR, workCalendar, type WorkCalendar } from '../../core/calendar.js';
import { DEFAULT_POLICY, type Policy } from '../../core/policy.js';
import type { StoredRecord } from '../../core/schema.js';
import { REMINDERS_COLLECTION, ReminderSweep } from '../../server/notify/reminderScheduler.js';
import { keyringFromMasterKey } from '../../server/security/keyring.js';
import { record } from '../support/storedRecords.js';
import {
  restartableLowdb,
  restartablePostgres,
  shanghaiAt,
  type RestartableStore,
} from '../support/restartableStore.js';

const keyring = keyringFromMasterKey(randomBytes(32));

/** Protected until `until` (approved 90 days before), held by 王磊. */
function protectedUntil(no: string, until: string): StoredRecord {
  return record(no, { status: 'protected', protectedFrom: '2026-09-01', protectedUntil: until });
}

for (const [adapter, open] of [
  ['lowdb', restartableLowdb],
  ['postgres', restartablePostgres],
] as const) {
  describe(`reminder sweep (${adapter}): a full pass once a day, the records written since in between`, () => {
    let h: RestartableStore;
    beforeEach(async () => {
      h = await open(keyring);
    });
    afterEach(async () => {
      await h.dispose();
    });

    /** The protection.ending thresholds claimed, `no until:T-n`, sorted. */
    async function claimed(): Promise<string[]> {
      const docs = await h.store.read((tx) =>
        tx.listDocs(REMINDERS_COLLECTION, { prefix: 'protection.ending:' }),
      );
      return docs.map((d) => d.key.slice('protection.ending:'.length)).sort();
    }

    const policy = DEFAULT_POLICY;
    const calendar = PACKAGE_CALENDAR;

    it('a record written mid-day whose reminder is due that day is reminded at the next sweep, reading only it', async () => {
      // Mon 2026-11-23: T−7 of 11-30 is today.
      await h.store.write(async (tx) => {
        await tx.putRecord(protectedUntil('BB-2026-000001', '2026-11-30'));
        for (let n = 2; n <= 6; n++) await tx.putRecord(protectedUntil(`BB-2026-00000${n}`, '2027-02-20'));
      });
      const sweep = new ReminderSweep(h.store);
      const first = await sweep.run({ now: shanghaiAt('2026-11-23', '08:00'), calendar, policy });
      expect(first).toMatchObject({ pass: 'full', read: 6 });
      expect(await claimed()).toEqual(['BB-2026-000001:2026-11-30:T-7']);
      const idle = await sweep.run({ now: shanghaiAt('2026-11-23', '08:01'), calendar, policy });
      expect(idle).toMatchObject({ pass: 'written', read: 0, due: 0 });
      // 10:00: a history import writes a record whose T−7 is today, and one that cannot be reminded.
      await h.store.write(async (tx) => {
        await tx.putRecord(protectedUntil('BB-2026-000007', '2026-11-30'));
        await tx.putRecord(record('BB-2026-000008', { status: 'void' }));
      });
      const next = await sweep.run({ now: shanghaiAt('2026-11-23', '10:01'), calendar, policy });
      expect(next).toMatchObject({ pass: 'written', read: 1, claimed: 1 });
      expect(await claimed()).toEqual(['BB-2026-000001:2026-11-30:T-7', 'BB-2026-000007:2026-11-30:T-7']);
      expect(await sweep.run({ now: shanghaiAt('2026-11-23', '10:02'), calendar, policy })).toMatchObject({
        pass: 'written',
        read: 0,
      });
    });

    // One process owns an embedded store's data dir: a second instance is PostgreSQL's case.
    // Registered for PostgreSQL only (not skipped on lowdb: CI runs every test it lists).
    if (adapter === 'postgres') {
      it('a record another instance writes mid-day is reminded at this instance’s next sweep', async () => {
        const other = await h.another!();
        const sweep = new ReminderSweep(h.store);
        await sweep.run({ now: shanghaiAt('2026-11-23', '08:00'), calendar, policy });
        await other.write((tx) => tx.putRecord(protectedUntil('BB-2026-000001', '2026-11-30')));
        const next = await sweep.run({ now: shanghaiAt('2026-11-23', '08:01'), calendar, policy });
        expect(next).toMatchObject({ pass: 'written', read: 1, claimed: 1 });
        expect(await claimed()).toEqual(['BB-2026-000001:2026-11-30:T-7']);
      });
    }

    it('the day turning over during the service’s life runs the full pass', async () => {
      await h.store.write(async (tx) => {
        await tx.putRecord(protectedUntil('BB-2026-000001', '2026-11-30')); // T−7 Mon 11-23
        await tx.putRecord(protectedUntil('BB-2026-000002', '2026-12-01')); // T−7 Tue 11-24
      });
      const sweep = new ReminderSweep(h.store);
      await sweep.run({ now: shanghaiAt('2026-11-23', '23:59'), calendar, policy });
      expect(await claimed()).toEqual(['BB-2026-000001:2026-11-30:T-7', 'BB-2026-000002:2026-12-01:T-20']);
      // Nothing was written overnight; the new day alone makes 000002's T−7 due.
      const tuesday = await sweep.run({ now: shanghaiAt('2026-11-24', '00:00'), calendar, policy });
      expect(tuesday).toMatchObject({ pass: 'full', read: 2, claimed: 1 });
      expect(await claimed()).toContain('BB-2026-000002:2026-12-01:T-7');
      expect(await sweep.run({ now: shanghaiAt('2026-11-24', '00:01'), calendar, policy })).toMatchObject({
        pass: 'written',
      });
    });

    it('a restart mid-day runs the full pass again and sends nothing twice', async () => {
      await h.store.write((tx) => tx.putRecord(protectedUntil('BB-2026-000001', '2026-11-30')));
      await new ReminderSweep(h.store).run({ now: shanghaiAt('2026-11-23', '09:00'), calendar, policy });
      expect(await claimed()).toEqual(['BB-2026-000001:2026-11-30:T-7']);
      const store = await h.reopen();
      const after = await new ReminderSweep(store).run({
        now: shanghaiAt('2026-11-23', '11:00'),
        calendar,
        policy,
      });
      expect(after).toMatchObject({ pass: 'full', read: 1, claimed: 0, entries: 0 });
      expect(await claimed()).toEqual(['BB-2026-000001:2026-11-30:T-7']);
    });

    it('a policy or calendar changed mid-day runs the full pass: a threshold it adds goes out that day', async () => {
      await h.store.write((tx) => tx.putRecord(protectedUntil('BB-2026-000001', '2026-12-03')));
      const sweep = new ReminderSweep(h.store);
      await sweep.run({ now: shanghaiAt('2026-11-23', '09:00'), calendar, policy });
      expect(await claimed()).toEqual(['BB-2026-000001:2026-12-03:T-20']);
      // T−10 of 12-03 is today: added at 14:00, nothing else written.
      const added: Policy = {
        ...policy,
        reminders: { ...policy.reminders, protectionEndingDays: [30, 20, 10, 7, 1] },
      };
      const run = await sweep.run({ now: shanghaiAt('2026-11-23', '14:00'), calendar, policy: added });
      expect(run).toMatchObject({ pass: 'full', claimed: 1 });
      expect(await claimed()).toEqual(['BB-2026-000001:2026-12-03:T-10', 'BB-2026-000001:2026-12-03:T-20']);
      expect(
        await sweep.run({ now: shanghaiAt('2026-11-23', '14:01'), calendar, policy: added }),
      ).toMatchObject({
        pass: 'written',
      });
      // A schedule entered (a new calendar object) is a new input too.
      const entered = workCalendar([]);
      expect(
        await sweep.run({ now: shanghaiAt('2026-11-23', '14:02'), calendar: entered, policy: added }),
      ).toMatchObject({
        pass: 'full',
      });
    });

    it('a pass that fails is not counted: the next sweep runs it again', async () => {
      await h.store.write((tx) => tx.putRecord(protectedUntil('BB-2026-000001', '2026-11-30')));
      const sweep = new ReminderSweep(h.store);
      const broken: WorkCalendar = {
        isWorkday: () => {
          throw new Error('calendar broken');
        },
        coverage: (year) => calendar.coverage(year),
        addWorkdays: (day, n) => calendar.addWorkdays(day, n),
      };
      await expect(
        sweep.run({ now: shanghaiAt('2026-11-23', '09:00'), calendar: broken, policy }),
      ).rejects.toThrow('calendar broken');
      const again = await sweep.run({ now: shanghaiAt('2026-11-23', '09:01'), calendar, policy });
      expect(again).toMatchObject({ pass: 'full', claimed: 1 });
    });
  });
}
