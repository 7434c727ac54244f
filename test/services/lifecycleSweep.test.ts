/**
 * Issue 12, "cost follows the work", for the lifecycle sweep's lapse pass (R31/R32/R44): it reads
 * every protecting record once per Shanghai day (its first sweep, the first after start, after a
 * policy or calendar change or a failed sweep) and in between only the records written since —
 * without voiding a lapsed record or warning of a lapse (T−3) any later than a full read would.
 * On both stores, each real: a lowdb data dir and a PostgreSQL schema.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PACKAGE_CALENDAR, type WorkCalendar } from '../../core/calendar.js';
import { DEFAULT_POLICY, presetPolicy, type Policy } from '../../core/policy.js';
import type { StoredRecord } from '../../core/schema.js';
import { keyringFromMasterKey } from '../../server/security/keyring.js';
import { LifecycleService } from '../../server/services/lifecycleService.js';
import { RegistrationService } from '../../server/services/registrationService.js';
import { record } from '../support/storedRecords.js';
import {
  restartableLowdb,
  restartablePostgres,
  shanghaiAt,
  type RestartableStore,
} from '../support/restartableStore.js';

const keyring = keyringFromMasterKey(randomBytes(32));

/**
 * Protected, approved on `approved` (10:00 Shanghai) and never visited: under the follow-up preset
 * its first visit is due within 3 days (approved Mon 11-23: due Thu 11-26, warned of the lapse
 * from Tue 11-24, void from Fri 11-27).
 */
function approvedOn(no: string, approved: string): StoredRecord {
  return record(no, {
    status: 'protected',
    receivedAt: `${approved}T01:00:00.000Z`,
    claimedAt: `${approved}T01:00:00.000Z`,
    approvedAt: `${approved}T02:00:00.000Z`,
    protectedFrom: approved,
    protectedUntil: '2027-05-20',
  });
}

const followUp = presetPolicy('follow-up');

for (const [adapter, open] of [
  ['lowdb', restartableLowdb],
  ['postgres', restartablePostgres],
] as const) {
  describe(`lifecycle sweep (${adapter}): the lapse pass reads in full once a day, the records written since in between`, () => {
    let h: RestartableStore;
    let now: Date;
    let calendar: WorkCalendar;
    beforeEach(async () => {
      h = await open(keyring);
      now = shanghaiAt('2026-11-23', '08:00');
      calendar = PACKAGE_CALENDAR;
      await h.store.write((tx) => tx.putPolicy(followUp));
    });
    afterEach(async () => {
      await h.dispose();
    });

    /** The service's lifecycle as the app builds it, on the harness's store as it is now. */
    function lifecycle(): LifecycleService {
      const deps = { store: h.store, keyring, clock: () => now, calendar: () => calendar };
      return new LifecycleService(deps, new RegistrationService(deps));
    }

    async function statusOf(no: string): Promise<string | undefined> {
      return (await h.store.read((tx) => tx.getRecord(no)))?.status;
    }

    it('a mid-day sweep reads only the records written since the last, and warns of a lapse on one of them', async () => {
      await h.store.write(async (tx) => {
        for (let n = 1; n <= 5; n++) await tx.putRecord(approvedOn(`BB-2026-00000${n}`, '2026-11-23'));
      });
      const service = lifecycle();
      now = shanghaiAt('2026-11-24', '08:00');
      // Tuesday's first sweep: every protecting record read, each warned of Friday's lapse (T−3).
      expect(await service.sweep()).toMatchObject({ pass: 'full', read: 5, reminded: 5, voided: 0 });
      now = shanghaiAt('2026-11-24', '08:01');
      expect(await service.sweep()).toMatchObject({ pass: 'written', read: 0, reminded: 0 });
      // 10:00: one record approved the day before is written (an import), one that protects nothing.
      await h.store.write(async (tx) => {
        await tx.putRecord(approvedOn('BB-2026-000006', '2026-11-23'));
        await tx.putRecord(record('BB-2026-000007', { status: 'void' }));
      });
      now = shanghaiAt('2026-11-24', '10:01');
      expect(await service.sweep()).toMatchObject({ pass: 'written', read: 1, reminded: 1 });
      now = shanghaiAt('2026-11-24', '10:02');
      expect(await service.sweep()).toMatchObject({ pass: 'written', read: 0, reminded: 0 });
    });

    it('a follow-up deadline passing overnight voids the record at the first sweep of the next day', async () => {
      await h.store.write((tx) => tx.putRecord(approvedOn('BB-2026-000001', '2026-11-23')));
      const service = lifecycle();
      now = shanghaiAt('2026-11-26', '23:59');
      expect(await service.sweep()).toMatchObject({ pass: 'full', voided: 0 });
      now = shanghaiAt('2026-11-27', '00:00');
      expect(await service.sweep()).toMatchObject({ pass: 'full', read: 1, voided: 1 });
      expect(await statusOf('BB-2026-000001')).toBe('void');
    });

    it('a record written mid-day that has already lapsed is voided at the next sweep, not tomorrow', async () => {
      await h.store.write((tx) => tx.putRecord(approvedOn('BB-2026-000001', '2026-11-23')));
      const service = lifecycle();
      now = shanghaiAt('2026-11-25', '08:00');
      expect(await service.sweep()).toMatchObject({ pass: 'full', voided: 0 });
      // A record approved weeks ago and never visited, written now (restored, its dates corrected).
      await h.store.write((tx) => tx.putRecord(approvedOn('BB-2026-000002', '2026-11-02')));
      now = shanghaiAt('2026-11-25', '10:00');
      expect(await service.sweep()).toMatchObject({ pass: 'written', read: 1, voided: 1 });
      expect(await statusOf('BB-2026-000002')).toBe('void');
      expect(await statusOf('BB-2026-000001')).toBe('protected');
    });

    it('protections past their last day are ended by the day’s first sweep, and mid-day among the records written since', async () => {
      // Visited on the day they were approved, so only the end of protection is in question.
      const endingOn = (no: string, until: string) =>
        record(no, { status: 'protected', protectedFrom: '2026-09-01', protectedUntil: until });
      await h.store.write(async (tx) => {
        await tx.putRecord(endingOn('BB-2026-000001', '2026-11-24'));
        await tx.putRecord(endingOn('BB-2026-000002', '2027-02-20'));
      });
      await h.store.write((tx) => tx.putPolicy(DEFAULT_POLICY));
      const service = lifecycle();
      now = shanghaiAt('2026-11-24', '08:00');
      expect(await service.sweep()).toMatchObject({ expiryPass: 'full', expired: 0 });
      now = shanghaiAt('2026-11-24', '08:01');
      expect(await service.sweep()).toMatchObject({ expiryPass: 'written', expired: 0 });
      // 10:00: a record restored with a last day already past; ended by the next sweep, not tomorrow.
      await h.store.write((tx) => tx.putRecord(endingOn('BB-2026-000003', '2026-11-20')));
      now = shanghaiAt('2026-11-24', '10:01');
      expect(await service.sweep()).toMatchObject({ expiryPass: 'written', expired: 1 });
      expect(await statusOf('BB-2026-000003')).toBe('expired');
      expect(await statusOf('BB-2026-000001')).toBe('protected');
      // Wednesday: 000001's last day (Tuesday) is past; nothing was written for it.
      now = shanghaiAt('2026-11-25', '00:00');
      expect(await service.sweep()).toMatchObject({ expiryPass: 'full', expired: 1 });
      expect(await statusOf('BB-2026-000001')).toBe('expired');
      expect(await statusOf('BB-2026-000002')).toBe('protected');
    });

    // One process owns an embedded store's data dir: a second instance is PostgreSQL's case.
    // Registered for PostgreSQL only (not skipped on lowdb: CI runs every test it lists).
    if (adapter === 'postgres') {
      it('a lapsed record another instance writes mid-day is voided at this instance’s next sweep', async () => {
        const other = await h.another!();
        const service = lifecycle();
        now = shanghaiAt('2026-11-25', '08:00');
        expect(await service.sweep()).toMatchObject({ pass: 'full', read: 0 });
        await other.write((tx) => tx.putRecord(approvedOn('BB-2026-000001', '2026-11-02')));
        now = shanghaiAt('2026-11-25', '08:01');
        expect(await service.sweep()).toMatchObject({ pass: 'written', read: 1, voided: 1 });
        expect(await statusOf('BB-2026-000001')).toBe('void');
      });
    }

    it('a policy changed mid-day runs the full pass: what it voids is voided that day', async () => {
      await h.store.write((tx) => tx.putRecord(approvedOn('BB-2026-000001', '2026-11-23')));
      const service = lifecycle();
      now = shanghaiAt('2026-11-25', '08:00');
      expect(await service.sweep()).toMatchObject({ pass: 'full', voided: 0 });
      // The first visit is now due within 1 day of approval (Tue 11-24): Wednesday is past it.
      const sooner: Policy = { ...followUp, followUp: { firstWithinDays: 1, everyDays: 7 } };
      await h.store.write((tx) => tx.putPolicy(sooner));
      now = shanghaiAt('2026-11-25', '11:00');
      expect(await service.sweep()).toMatchObject({ pass: 'full', read: 1, voided: 1 });
      expect(await statusOf('BB-2026-000001')).toBe('void');
    });

    it('a calendar entered mid-day runs the full pass', async () => {
      await h.store.write((tx) => tx.putRecord(approvedOn('BB-2026-000001', '2026-11-23')));
      const service = lifecycle();
      now = shanghaiAt('2026-11-25', '08:00');
      await service.sweep();
      now = shanghaiAt('2026-11-25', '08:01');
      expect(await service.sweep()).toMatchObject({ pass: 'written' });
      calendar = { ...PACKAGE_CALENDAR };
      now = shanghaiAt('2026-11-25', '08:02');
      expect(await service.sweep()).toMatchObject({ pass: 'full', read: 1 });
    });

    it('a restart mid-day runs the full pass', async () => {
      await h.store.write((tx) => tx.putRecord(approvedOn('BB-2026-000001', '2026-11-23')));
      now = shanghaiAt('2026-11-24', '08:00');
      expect(await lifecycle().sweep()).toMatchObject({ pass: 'full', read: 1, reminded: 1 });
      await h.reopen();
      now = shanghaiAt('2026-11-24', '11:00');
      // Read again in full; the lapse warning it already gave is not given twice.
      expect(await lifecycle().sweep()).toMatchObject({ pass: 'full', read: 1, reminded: 0 });
    });

    it('a sweep that fails is not counted: the next sweep reads in full', async () => {
      await h.store.write((tx) => tx.putRecord(approvedOn('BB-2026-000001', '2026-11-23')));
      const service = lifecycle();
      now = shanghaiAt('2026-11-24', '08:00');
      await service.sweep();
      const working = calendar;
      calendar = {
        isWorkday: () => {
          throw new Error('calendar broken');
        },
        coverage: (year) => working.coverage(year),
        addWorkdays: (day, n) => working.addWorkdays(day, n),
      };
      now = shanghaiAt('2026-11-24', '08:01');
      await expect(service.sweep()).rejects.toThrow('calendar broken');
      calendar = working;
      now = shanghaiAt('2026-11-24', '08:02');
      expect(await service.sweep()).toMatchObject({ pass: 'full', read: 1 });
    });

    it('with the cadences off there is no lapse pass to read for', async () => {
      await h.store.write(async (tx) => {
        await tx.putRecord(approvedOn('BB-2026-000001', '2026-11-23'));
        await tx.putPolicy(presetPolicy('standard'));
      });
      now = shanghaiAt('2026-11-27', '08:00');
      expect(await lifecycle().sweep()).toMatchObject({ pass: 'off', read: 0, voided: 0 });
    });
  });
}
