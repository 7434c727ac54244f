/**
 * What time decides, written by the sweep (every minute): protections past their last day end (R25),
 * records whose follow-up or service lapsed become void and their customers enter the pool (R31,
 * R32, R44), the next queued registration moves up (R21), lapse warnings go out once (T−3); and the
 * one-off catch-up at start that writes down shares whose partner has left (R16). Both write through
 * the consequences in server/services/recordEnding.ts, as the lifecycle actions do.
 */
import { PACKAGE_CALENDAR, type WorkCalendar } from '../../core/calendar.js';
import { addDays, dayOf } from '../../core/day.js';
import { protectionRanOut } from '../../core/lifecycle.js';
import { LAPSE_REASON_CODES } from '../../core/pool.js';
import { PROTECTING_STATUSES, type StoredRecord } from '../../core/schema.js';
import {
  cadencesOn,
  lapseDecision,
  serviceReminders,
  type LapseDeadline,
} from '../../core/serviceCadence.js';
import type { ReadTx } from '../store/store.js';
import { splitPartnerOf } from '../store/splitPartner.js';
import { SYSTEM_ACTOR } from './actor.js';
import { STORE_META_COLLECTION } from './identityRekey.js';
import { Notifier } from './notifier.js';
import { PassCoverage } from './passCoverage.js';
import { enterPool } from './poolService.js';
import { forEachRecord } from './recordPages.js';
import {
  holdAlone,
  partnerLeft,
  passLapsedClaim,
  promoteNext,
  transition,
  type ActionContext,
} from './recordEnding.js';
import type { RegistrationService, ServiceDeps } from './registrationService.js';

/**
 * Lapse warnings already issued: one document per lapse day, record and kind, keyed day first (no
 * personal data in keys) so the ones whose day is long past are dropped by a key range.
 */
const REMINDER_COLLECTION = 'service-reminders';
/** In STORE_META_COLLECTION once catchUpShares has run on the store (when, and how many it wrote). */
const SHARE_CATCH_UP_KEY = 'share-catch-up';
/** Reminder keys are kept this long after their day (a sweep never reminds of a day that old). */
const REMINDER_KEEP_DAYS = 30;

export interface SweepRun {
  expired: number;
  voided: number;
  /** Lapse warnings (T−3, pool.lapsing) issued. */
  reminded: number;
  /** How the lapse pass read: every protecting record, those written since the last, or none (cadences off). */
  pass: 'full' | 'written' | 'off';
  /** Protecting records the lapse pass read. */
  read: number;
  /** How the ends of protection were found: every record past its last day, or among those written since. */
  expiryPass: 'full' | 'written';
}

/** Who the sweep and the catch-up act as, in history entries and the audit trail. */

/** The sweep and the share catch-up; the lifecycle service hands its sweep() and catchUpShares() here. */
export class LifecycleSweep {
  /**
   * What the last sweep covered (issue 12): whether a protection ends, a record lapses or is warned
   * of it depends only on the record, the Shanghai day, the policy and the calendar, so the day's
   * first sweep (and the first after start) reads every record it may act on and the others of the
   * day only those written since.
   */
  private readonly sweepCoverage = new PassCoverage();

  constructor(
    private readonly deps: ServiceDeps,
    private readonly registrations: RegistrationService,
  ) {}

  /**
   * Writes what time has decided: protections past their last day become expired (R25); records
   * whose follow-up lapsed (R31) or that had no service for months (R32) become void and their
   * customers enter the pool (R44); the next queued registration moves up; service reminders
   * (due, overdue, about to lapse) are issued once each.
   */
  async sweep(): Promise<SweepRun> {
    const now = this.deps.clock();
    const today = dayOf(now);
    const calendar = this.calendar();
    const counts = await this.deps.store.write(async (tx) => {
      const policy = await this.registrations.policy(tx);
      // Before any record is read or written: the sweep's own writes come after the mark, so the
      // next written pass reads them (a queued record promoted here is one to watch).
      const sweepPass = await this.sweepCoverage.begin(tx, { day: today, policy, calendar });
      const ctx: ActionContext = {
        tx,
        actor: SYSTEM_ACTOR,
        policy,
        now: now.toISOString(),
        today,
        notify: new Notifier(now.toISOString()),
        touched: new Set(),
      };
      let expired = 0;
      // Shares are told their partner left once every end is written: both shares of one customer
      // may end in one sweep, and a partner read and written mid-loop would be overwritten by the
      // loop's own (older) copy of it.
      const ended: StoredRecord[] = [];
      // Whether a protection has run out depends on the record and the day alone: the day's full
      // pass ends every one past its last day, and what else can have run out since is among the
      // records written since (a record restored or migrated with an old last day).
      const writtenBefore = await this.sweepCoverage.written(tx, sweepPass);
      const ending =
        writtenBefore?.filter((r) => protectionRanOut(r, today)) ??
        (await tx.recordsEndingBefore(today, PROTECTING_STATUSES));
      for (const record of ending) {
        transition(ctx, record, 'expired', 'expire', undefined);
        ctx.notify.toRegistrant(record, 'protection.ended', { outcome: 'expired' });
        await tx.putRecord(record);
        await promoteNext(ctx, record, this.calendar());
        ended.push(record);
        expired++;
      }
      let voided = 0;
      let reminded = 0;
      let read = 0;
      let pass: SweepRun['pass'] = 'off';
      if (cadencesOn(policy)) {
        // Read after the ends above, so a record this sweep expired is seen as it is now.
        const written = await this.sweepCoverage.written(tx, sweepPass);
        const protecting =
          written?.filter((r) => PROTECTING_STATUSES.includes(r.status)) ??
          (await tx.recordsWithStatus(PROTECTING_STATUSES));
        pass = written !== undefined ? 'written' : 'full';
        read = protecting.length;
        for (const record of protecting) {
          const lapse = lapseDecision(record, policy, calendar, today);
          if (lapse) {
            await writeLapse(ctx, record, lapse, this.calendar());
            ended.push(record);
            voided++;
            continue;
          }
          for (const reminder of serviceReminders(record, policy, calendar, today)) {
            // Due and overdue visits are scheduled reminders of the notification outbox
            // (server/notify/reminderScheduler, fed the same due day); the sweep, which decides
            // lapses, warns of the lapse itself (T−3), once per record and lapse day.
            if (reminder.type !== 'pool.lapsing') continue;
            const key = `${reminder.lapsesOn}|${record.no}|${reminder.type}`;
            if (!(await tx.insertDoc(REMINDER_COLLECTION, key, { at: ctx.now }))) continue;
            ctx.notify.toRegistrant(record, reminder.type, {
              rule: reminder.rule,
              lapsesOn: reminder.lapsesOn,
            });
            reminded++;
          }
        }
      }
      for (const record of ended) await partnerLeft(ctx, record);
      for (const old of await tx.listDocs(REMINDER_COLLECTION, { to: addDays(today, -REMINDER_KEEP_DAYS) })) {
        await tx.deleteDoc(REMINDER_COLLECTION, old.key);
      }
      await tx.pruneIdempotency(new Date(now.getTime() - 24 * 3600 * 1000).toISOString());
      await ctx.notify.flush(tx);
      const expiryPass: SweepRun['expiryPass'] = writtenBefore !== undefined ? 'written' : 'full';
      return { expired, voided, reminded, pass, read, expiryPass, sweepPass, touched: [...ctx.touched] };
    });
    // Only once the write committed: a sweep that failed leaves the next to read in full.
    this.sweepCoverage.covers(counts.sweepPass);
    if (counts.touched.length > 0) {
      await this.registrations.audit(SYSTEM_ACTOR, 'registration.sweep', counts.touched, {
        expired: counts.expired,
        voided: counts.voided,
      });
    }
    return {
      expired: counts.expired,
      voided: counts.voided,
      reminded: counts.reminded,
      pass: counts.pass,
      read: counts.read,
      expiryPass: counts.expiryPass,
    };
  }

  /**
   * R16, once per store: every survivor whose partner has already left but whose stored share is
   * still a split gets the `share.partner_left` the sweep writes when it sees an end happen. Stores
   * written by versions before partner_left existed kept the old split, and the clear partner name
   * both stores list by, until something rewrote them; reads already follow the day (core
   * effectiveShare), this writes it down. Run at start, not in the sweep (it reads every protecting
   * record, and the sweep runs every minute), and only until it has run once on the store: a version
   * that writes partner_left leaves nothing behind for it, so a marker in the store's own documents
   * (SHARE_CATCH_UP_KEY) ends it. Returns how many it wrote.
   */
  async catchUpShares(): Promise<number> {
    const done = async (tx: ReadTx): Promise<boolean> =>
      (await tx.getDoc(STORE_META_COLLECTION, SHARE_CATCH_UP_KEY)) !== undefined;
    if (await this.deps.store.read(done)) return 0;
    const now = this.deps.clock();
    const touched = await this.deps.store.write(async (tx) => {
      // Another instance starting at the same time may have run it meanwhile.
      if (await done(tx)) return [];
      const ctx: ActionContext = {
        tx,
        actor: SYSTEM_ACTOR,
        policy: await this.registrations.policy(tx),
        now: now.toISOString(),
        today: dayOf(now),
        notify: new Notifier(now.toISOString()),
        touched: new Set(),
      };
      // Only the split shares are kept while the protecting records are read, a page at a time.
      const splits: StoredRecord[] = [];
      await forEachRecord(tx, { today: ctx.today, statuses: [...PROTECTING_STATUSES] }, (record) => {
        if (record.share !== undefined && record.share.percent < 100) splits.push(record);
      });
      for (const survivor of splits) {
        const partner = await splitPartnerOf(tx, survivor);
        if (partner?.share?.withNo !== survivor.no) continue;
        await holdAlone(ctx, survivor, partner);
      }
      await ctx.notify.flush(tx);
      await tx.putDoc(STORE_META_COLLECTION, SHARE_CATCH_UP_KEY, { at: ctx.now, written: ctx.touched.size });
      return [...ctx.touched];
    });
    if (touched.length > 0)
      await this.registrations.audit(SYSTEM_ACTOR, 'registration.share_catch_up', touched);
    return touched.length;
  }

  private calendar(): WorkCalendar {
    return this.deps.calendar?.() ?? PACKAGE_CALENDAR;
  }
}

/**
 * R31 / R32: the record is void from its lapse day and its customer returns to the pool (R44). The
 * sweep writes it, and so does a change of the rules for what lapsed under the old ones
 * (LifecycleService.changeRules). The holder and the team's reviewers hear it once, as pool.lapsed
 * (enterPool).
 */
export async function writeLapse(
  ctx: ActionContext,
  record: StoredRecord,
  lapse: LapseDeadline,
  calendar: WorkCalendar,
): Promise<void> {
  transition(
    ctx,
    record,
    'void',
    lapse.rule === 'R31' ? 'follow_up.lapsed' : 'service.lapsed',
    undefined,
    LAPSE_REASON_CODES[lapse.rule],
  );
  record.history[record.history.length - 1]!.details = { rule: lapse.rule, deadline: lapse.deadline };
  await enterPool(ctx.tx, record, lapse, ctx.now, ctx.policy, ctx.notify);
  await ctx.tx.putRecord(record);
  await promoteNext(ctx, record, calendar);
  await passLapsedClaim(ctx, record);
}
