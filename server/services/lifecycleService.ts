/**
 * What happens to a registration after it is saved: review and arbitration (R11, R12, R15–R17),
 * extensions (R28), objections (R12), closing (R26, R27), follow-ups (R31), hand-over (R38). When
 * a record ends, the consequences in server/services/recordEnding.ts follow (the next queued
 * registration moves up, R21; shares, R16; the pool, R44). What time decides (the sweep, R25, R31,
 * R32) is server/services/lifecycleSweep.ts, reached through this service's sweep().
 *
 * Over 600 lines as one file: every action after filing goes through one `act` (the write, the
 * history, the notices), and the review, objection and close paths share the competitor and
 * objection look-ups below. The objections (decideObjection, loseAgainTo, requeueBehind) are the
 * next piece that could stand alone.
 */
import { dayOf } from '../../core/day.js';
import { effectiveStatus } from '../../core/lifecycle.js';
import {
  banUntil,
  canRequestExtension,
  extendedUntil,
  extensionLastDay,
  grantedWindow,
  objectionDeadline,
  setDeadline,
} from '../../core/protection.js';
import { PACKAGE_CALENDAR, type WorkCalendar } from '../../core/calendar.js';
import { assertNotDestroyed } from '../../core/retention.js';
import { DomainError, problem } from '../../core/problem.js';
import { compareIdentities, lookupKeys } from '../../core/matching.js';
import {
  awaitsObjectionDecision,
  hasObjected,
  lastDecisionAgainst,
  supersededBy,
} from '../../core/objection.js';
import {
  ACTIVE_STATUSES,
  PROTECTING_STATUSES,
  type FollowUp,
  type FollowUpWay,
  type Grade,
  type StoredRecord,
} from '../../core/schema.js';
import { cadencesOn, lapseDecision, lapsedProblem } from '../../core/serviceCadence.js';
import type { WriteTx } from '../store/store.js';
import { SYSTEM_ACTOR, forbidden, isHolder, isOwnRecord, reviews, type Actor } from './actor.js';
import { Notifier } from './notifier.js';
import { splitPartnerOf } from '../store/splitPartner.js';
import { recordView, type RecordView } from './recordView.js';
import { notFound, type RegistrationService, type ServiceDeps } from './registrationService.js';
import { findRecord } from './recordPages.js';
import { approve, findCandidates } from './rowEvaluation.js';
import { assertVersion } from './changeService.js';
import {
  enteredCalendar,
  type EnteredCalendar,
  type RulesChangeCause,
  type RulesChangeLapses,
} from './calendarService.js';
import { LifecycleSweep, writeLapse, type SweepRun } from './lifecycleSweep.js';
import {
  invalidState,
  logHistory,
  partnerLeft,
  promoteNext,
  releasePoolClaim,
  transition,
  type ActionContext,
} from './recordEnding.js';

/**
 * R16 with R38: a shared registration changed hands, so its partner record now shares the customer
 * with the new holder — named there, it is whom the partner record is shared with (R34: the new
 * holder sees it as the old one did). The partner's history keeps the change (R37).
 */
export async function followShare(
  tx: WriteTx,
  record: StoredRecord,
  by: { at: string; by: string },
  notify: Pick<Notifier, 'toRegistrant'>,
): Promise<void> {
  if (!record.share) return;
  const partner = await tx.getRecord(record.share.withNo);
  if (!partner?.share || partner.share.withNo !== record.no) return;
  const from = partner.share.withRegistrant;
  const to = record.registration.registrant;
  if (from === to) return;
  partner.share = { ...partner.share, withRegistrant: to };
  partner.version++;
  partner.history.push({
    at: by.at,
    by: by.by,
    action: 'share.partner_transfer',
    details: { withNo: record.no, from, to },
  });
  // The partner's record changed under them (its version too: their next action with the old one
  // is refused 412), and whom they share the customer with is news they act on.
  notify.toRegistrant(partner, 'transfer', { share: record.no, from, to });
  await tx.putRecord(partner);
}

/** A visit or call as the route hands it over (R43). */
export interface FollowUpInput {
  at?: string | undefined;
  way?: FollowUpWay | undefined;
  note: string;
  feedback?: string | undefined;
  nextStep?: string | undefined;
}

export type ReviewDecision = 'approve' | 'reject' | 'share';
export type CloseOutcome = 'signed' | 'lost_to_competitor' | 'false_info' | 'withdrawn';

export class LifecycleService {
  /** What time decides, and the share catch-up at start (server/services/lifecycleSweep.ts). */
  private readonly timeSweep: LifecycleSweep;

  constructor(
    private readonly deps: ServiceDeps,
    private readonly registrations: RegistrationService,
  ) {
    this.timeSweep = new LifecycleSweep(deps, registrations);
  }

  /** R25, R31, R32, R21: see LifecycleSweep.sweep. */
  sweep(): Promise<SweepRun> {
    return this.timeSweep.sweep();
  }

  /** R16, once per store at start: see LifecycleSweep.catchUpShares. */
  catchUpShares(): Promise<number> {
    return this.timeSweep.catchUpShares();
  }

  /** R11/R12/R16: approve, reject or share; approving one competitor decides the others. */
  review(
    actor: Actor,
    no: string,
    input: {
      decision: ReviewDecision;
      reason: string;
      shareWith?: string | undefined;
      split?: number | undefined;
    },
  ): Promise<RecordView> {
    return this.act(actor, no, 'registration.review', async (ctx, record) => {
      if (!reviews(actor, record)) throw forbidden('审核该报备', 'review this registration');
      // Before the state's own refusals: a destroyed record's undecided objection no longer awaits
      // a decision, and "destroyed" says why better than "not in a state to review".
      assertNotDestroyed(record);
      const status = effectiveStatus(record, ctx.today);
      if (awaitsObjectionDecision(record)) {
        if (input.decision === 'share') {
          // Upholding ends the decision objected to and protects the objector alone: a share here
          // would be taken as a plain uphold, its partner and split dropped without a word.
          throw new DomainError(
            problem(
              'objection.share_not_allowed',
              '异议只能支持（approve）或驳回（reject），不能裁定为共享（R12）',
              'An objection is upheld (approve) or dismissed (reject); it cannot be decided as a share (R12)',
              'decision',
            ),
          );
        }
        if (input.decision !== 'reject') {
          // Upholding terminates the winner: not for a protection that would already be over, and
          // not while someone else (another objector upheld first, a later registrant) holds the
          // customer — only the winner objected to gives way (R12).
          this.assertProtectionAhead(ctx, record);
          await this.assertNotSigned(ctx, record.objection.against);
        }
        const objected = await this.objectedDecision(ctx, record.objection.against);
        if (input.decision !== 'reject') {
          await this.assertNotHeld(
            ctx,
            record,
            objected.map((r) => r.no),
          );
        }
        await this.decideObjection(
          ctx,
          record,
          input.decision === 'reject' ? 'dismissed' : 'upheld',
          input.reason,
          objected,
        );
        return record;
      }
      const superseded = supersededBy(record);
      if (superseded !== undefined && status === 'rejected') {
        // Closed when another objection to the same grant was upheld (loseAgainTo): a reviewer
        // deciding both in one go (the 延期与异议 sheet) learns why there is nothing left to decide.
        throw new DomainError(
          problem(
            'objection.superseded',
            `报备 ${record.no} 的异议已关闭：所异议的批准已因 ${superseded} 的异议成立而撤销；报备人可针对新的批准另提异议（R12）`,
            `The objection of ${record.no} is closed: the grant it objected to was reversed when the objection of ${superseded} was upheld; the registrant may object to the new grant (R12)`,
            'decision',
          ),
          { supersededBy: superseded },
        );
      }
      if (status !== 'pending' && status !== 'conflict') {
        throw invalidState(record, status, '审核', 'review');
      }
      if (input.decision === 'reject') {
        transition(ctx, record, 'rejected', 'review.reject', input.reason, 'review.rejected');
        ctx.notify.toRegistrant(record, 'decision', { decision: 'reject' });
        await ctx.tx.putRecord(record);
        await promoteNext(ctx, record, this.calendar());
        await releasePoolClaim(ctx, record);
        return record;
      }
      this.assertProtectionAhead(ctx, record);
      await this.assertNotHeld(ctx, record);
      let partner: StoredRecord | undefined;
      if (input.decision === 'share') {
        partner = await this.sharePartner(ctx, record, input.shareWith);
        const split = input.split ?? 50;
        record.share = {
          withNo: partner.no,
          withRegistrant: partner.registration.registrant,
          percent: split,
        };
        partner.share = {
          withNo: record.no,
          withRegistrant: record.registration.registrant,
          percent: 100 - split,
        };
      }
      const from = status;
      approve(record, ctx.now, ctx.policy);
      logHistory(
        ctx,
        record,
        input.decision === 'share' ? 'review.share' : 'review.approve',
        from,
        input.reason,
      );
      ctx.notify.toRegistrant(record, 'decision', {
        decision: input.decision,
        protectedUntil: record.protectedUntil ?? null,
      });
      if (partner) {
        const partnerFrom = effectiveStatus(partner, ctx.today);
        approve(partner, ctx.now, ctx.policy);
        partner.protectedFrom = record.protectedFrom;
        partner.protectedUntil = record.protectedUntil;
        logHistory(ctx, partner, 'review.share', partnerFrom, input.reason);
        ctx.notify.toRegistrant(partner, 'decision', {
          decision: 'share',
          protectedUntil: partner.protectedUntil ?? null,
        });
        await ctx.tx.putRecord(partner);
      }
      await ctx.tx.putRecord(record);
      await this.decideCompetitors(ctx, record, partner?.no);
      return record;
    });
  }

  /** R28: the holder asks for more time, at least `extensionLeadDays` before the last day. */
  requestExtension(actor: Actor, no: string, reason: string): Promise<RecordView> {
    return this.act(actor, no, 'registration.extension', async (ctx, record) => {
      if (!isHolder(actor, record))
        throw forbidden('为他人的报备申请延期', "ask for an extension of someone else's registration");
      const status = effectiveStatus(record, ctx.today);
      if (status !== 'protected' || record.protectedUntil === undefined)
        throw invalidState(record, status, '申请延期', 'extend');
      this.refuseIfLapsed(ctx, record);
      if (!canRequestExtension(record.protectedUntil, ctx.today, ctx.policy.extensionLeadDays)) {
        const lastDay = extensionLastDay(record.protectedUntil, ctx.policy.extensionLeadDays);
        throw new DomainError(
          problem(
            'extension.too_late',
            `延期须在保护期届满前 ${ctx.policy.extensionLeadDays} 天提出（最迟 ${lastDay}），现已超过期限（R28）`,
            `An extension must be asked at least ${ctx.policy.extensionLeadDays} days before expiry (by ${lastDay}); that day has passed (R28)`,
          ),
          { lastDay, protectedUntil: record.protectedUntil },
        );
      }
      record.extension = { requestedAt: ctx.now, reason };
      transition(ctx, record, 'extension-requested', 'extension.request', reason);
      ctx.notify.toReviewers(record, 'extension.requested');
      await ctx.tx.putRecord(record);
      return record;
    });
  }

  reviewExtension(
    actor: Actor,
    no: string,
    decision: 'approve' | 'reject',
    reason: string,
  ): Promise<RecordView> {
    return this.act(actor, no, 'registration.extension_review', async (ctx, record) => {
      if (!reviews(actor, record)) throw forbidden('审核延期申请', 'review this extension');
      const status = effectiveStatus(record, ctx.today);
      if (status !== 'extension-requested' || !record.extension || record.protectedUntil === undefined) {
        throw invalidState(record, status, '审核延期', 'review an extension of');
      }
      this.refuseIfLapsed(ctx, record);
      record.extension = { ...record.extension, decision, decidedAt: ctx.now };
      if (decision === 'approve') {
        record.protectedUntil = extendedUntil(record.protectedUntil, ctx.policy.extensionMonths);
      }
      transition(ctx, record, 'protected', `extension.${decision}`, reason);
      ctx.notify.toRegistrant(record, 'extension.decided', {
        decision,
        protectedUntil: record.protectedUntil,
      });
      await ctx.tx.putRecord(record);
      return record;
    });
  }

  /**
   * R12: a competitor who lost may object within the objection window. `no` is either the
   * caller's own lost registration or the registration that won.
   */
  object(actor: Actor, no: string, reason: string): Promise<RecordView> {
    return this.act(actor, no, 'registration.objection', async (ctx, target) => {
      const on = { today: ctx.today, partner: await splitPartnerOf(ctx.tx, target) };
      const lost = isOwnRecord(actor, target, on) ? target : await this.lostRecordOf(ctx, actor, target);
      if (lost.reasonCode !== 'conflict.lost' || effectiveStatus(lost, ctx.today) !== 'rejected') {
        throw new DomainError(
          problem(
            'objection.not_allowed',
            '只有在撞单裁定中落选的报备人可以提出异议',
            'Only a registrant who lost a conflict decision may object',
          ),
        );
      }
      // One objection per decision: a decided one does not bar objecting to a later grant of the
      // customer (an upheld objection of someone else, loseAgainTo).
      if (hasObjected(lost)) {
        throw new DomainError(
          problem(
            'objection.exists',
            '已对该裁定提出过异议',
            'An objection to this decision was already made',
          ),
        );
      }
      if (lost.objectionDeadline === undefined || ctx.today > lost.objectionDeadline) {
        throw new DomainError(
          problem(
            'objection.too_late',
            `异议期已于 ${lost.objectionDeadline ?? ''} 结束（R12）`,
            `The objection window ended on ${lost.objectionDeadline ?? ''} (R12)`,
          ),
          { objectionDeadline: lost.objectionDeadline ?? null },
        );
      }
      const against = lastDecisionAgainst(lost) ?? '';
      lost.objection = { at: ctx.now, reason, against };
      logHistory(ctx, lost, 'objection.file', 'rejected', reason);
      ctx.notify.toReviewers(lost, 'objection.filed', { against: lost.objection.against });
      await ctx.tx.putRecord(lost);
      return lost;
    });
  }

  /** R26 (lost to a competitor), R27 (false information → ban), signing, withdrawal. */
  close(actor: Actor, no: string, outcome: CloseOutcome, note: string): Promise<RecordView> {
    return this.act(actor, no, 'registration.close', async (ctx, record) => {
      const reviewer = reviews(actor, record);
      if (outcome === 'false_info' ? !reviewer : !reviewer && !isHolder(actor, record)) {
        throw forbidden('关闭该报备', 'close this registration');
      }
      const status = effectiveStatus(record, ctx.today);
      const protecting = PROTECTING_STATUSES.includes(status);
      const active = protecting || status === 'pending' || status === 'conflict';
      if ((outcome === 'signed' || outcome === 'lost_to_competitor') && !protecting) {
        throw invalidState(record, status, '关闭', 'close');
      }
      if (!active) throw invalidState(record, status, '关闭', 'close');
      // A lapsed record is void from its lapse day (R31, R32): not signed, not ended otherwise.
      this.refuseIfLapsed(ctx, record);
      if (outcome === 'signed') {
        transition(ctx, record, 'signed', 'close.signed', note);
        ctx.notify.toRegistrant(record, 'protection.ended', { outcome });
        await ctx.tx.putRecord(record);
        await this.rejectQueued(ctx, record, 'customer.signed');
        return record;
      }
      transition(ctx, record, 'terminated', `close.${outcome}`, note, outcome);
      if (outcome === 'false_info') {
        const until = banUntil(ctx.today, ctx.policy.falseInfoBan.months);
        await ctx.tx.addBan({
          registrant: record.registration.registrant,
          identity: record.identity,
          until,
          recordNo: record.no,
          at: ctx.now,
        });
        ctx.notify.toRegistrant(record, 'protection.ended', { outcome, bannedUntil: until });
      } else {
        ctx.notify.toRegistrant(record, 'protection.ended', { outcome });
      }
      await ctx.tx.putRecord(record);
      await partnerLeft(ctx, record);
      await promoteNext(ctx, record, this.calendar());
      await releasePoolClaim(ctx, record);
      return record;
    });
  }

  /**
   * R31, R43: a visit or call — when (never in the future), how, what was said, the customer's
   * feedback and the next step. Kept in the record (sealed at rest with it); resets the service
   * clock of R31, R32 and R42.
   */
  addFollowUp(actor: Actor, no: string, input: FollowUpInput): Promise<RecordView> {
    return this.act(actor, no, 'registration.follow_up', async (ctx, record) => {
      // The holder's own visits keep the record alive (R31, R32): a share partner logs theirs on
      // their own share.
      if (!isHolder(actor, record) && !reviews(actor, record))
        throw forbidden('记录跟进', 'add a follow-up to this registration');
      const status = effectiveStatus(record, ctx.today);
      if (!['pending', 'conflict', 'protected', 'extension-requested'].includes(status)) {
        throw invalidState(record, status, '记录跟进', 'add a follow-up to');
      }
      this.refuseIfLapsed(ctx, record);
      const when = input.at ?? ctx.now;
      if (when > ctx.now) {
        throw new DomainError(
          problem('followUp.future', '跟进时间不能晚于现在', 'A follow-up cannot be in the future', 'at'),
        );
      }
      // Nor before the customer was registered: the earliest of receipt, the claim time (a
      // migrated row's 报备时间) and approval (a migrated row may carry only its approval date),
      // by Shanghai day — a visit earlier that day may precede the upload.
      const filedOn = dayOf(
        [record.receivedAt, record.claimedAt, record.approvedAt]
          .filter((t): t is string => t !== undefined)
          .reduce((a, b) => (new Date(a) <= new Date(b) ? a : b)),
      );
      if (dayOf(when) < filedOn) {
        throw new DomainError(
          problem(
            'followUp.before_registration',
            `跟进时间不能早于报备日期 ${filedOn}`,
            `A follow-up cannot be before the registration was filed on ${filedOn}`,
            'at',
          ),
        );
      }
      const followUp: FollowUp = { at: when, by: actor.name, note: input.note };
      if (input.way !== undefined) followUp.way = input.way;
      if (input.feedback !== undefined) followUp.feedback = input.feedback;
      if (input.nextStep !== undefined) followUp.nextStep = input.nextStep;
      record.followUps.push(followUp);
      logHistory(ctx, record, 'follow_up', undefined, undefined, input.way ? { way: input.way } : undefined);
      await ctx.tx.putRecord(record);
      return record;
    });
  }

  /**
   * R42: a reviewer changes a registration's grade, with a reason; the change is in the record's
   * history (R37) and the audit trail (R36). The next service due day follows the new grade.
   */
  changeGrade(actor: Actor, no: string, grade: Grade, reason: string): Promise<RecordView> {
    return this.act(actor, no, 'registration.grade', async (ctx, record) => {
      if (!reviews(actor, record)) throw forbidden('调整客户等级', 'change the grade of this registration');
      // The grade sets the cadence (R42): regrading a lapsed record would move its passed deadline.
      this.refuseIfLapsed(ctx, record);
      const from = record.registration.grade;
      if (from === grade) return record;
      record.registration = { ...record.registration, grade };
      logHistory(ctx, record, 'grade.change', undefined, reason, { from: from ?? '', to: grade });
      ctx.notify.toRegistrant(record, 'changed', { field: 'grade', grade, by: actor.name });
      await ctx.tx.putRecord(record);
      return record;
    });
  }

  /** R38: hand a registration over to another member of staff. */
  transfer(actor: Actor, no: string, to: string): Promise<RecordView> {
    return this.act(actor, no, 'registration.transfer', async (ctx, record) => {
      if (!reviews(actor, record)) throw forbidden('移交该报备', 'transfer this registration');
      // Only what is still held moves, as in the leaver's hand-over: a closed record's history keeps
      // who held it (R41 counts it for them), and a lapsed one is void from its lapse day (R31, R32).
      // A destroyed one (R39) says so first: "destroyed" says why better than its closed status.
      assertNotDestroyed(record);
      const status = effectiveStatus(record, ctx.today);
      if (!ACTIVE_STATUSES.includes(status)) throw invalidState(record, status, '移交', 'transfer');
      this.refuseIfLapsed(ctx, record);
      const user = await ctx.tx.getUserByName(to);
      if (!user || user.disabled) {
        throw new DomainError(
          problem(
            'user.not_found',
            `用户“${to}”不存在或已停用`,
            `User "${to}" does not exist or is disabled`,
            'to',
          ),
        );
      }
      const fromName = record.registration.registrant;
      if (fromName === to) return record;
      ctx.notify.toRegistrant(record, 'transfer', { to });
      record.registration = { ...record.registration, registrant: to };
      if (user.team !== undefined) record.team = user.team;
      record.version++;
      record.history.push({
        at: ctx.now,
        by: actor.name,
        action: 'transfer',
        details: { from: fromName, to },
      });
      ctx.notify.toRegistrant(record, 'transfer', { from: fromName });
      await followShare(ctx.tx, record, { at: ctx.now, by: actor.name }, ctx.notify);
      await ctx.tx.putRecord(record);
      return record;
    });
  }

  /**
   * R31, R32 across a change of the rules (PUT /api/policy, an entered calendar): a lapse is decided
   * under the policy and calendar in force on its deadline day. Deadlines are computed from the
   * rules each time they are read, so a change would move a deadline already passed — of a record
   * lapsed that the sweep has not written `void` yet — and a late follow-up would keep it. The
   * change therefore runs in one write after a lapse pass under the rules in force until now (the
   * stored policy and calendar, not this instance's copy): what lapsed by today is voided as the
   * sweep would, with its notices and the pool (R44), and the new rules apply only to deadlines not
   * yet passed. A change that throws writes nothing, the lapses included. Reads every protecting
   * record: a change of rules is rare, and a written pass cannot tell what the old rules decided.
   * The change gets the entered schedules the pass read (a calendar entry builds on them). Answers
   * the change's result and what the pass voided, for the caller's answer.
   */
  async changeRules<T>(
    cause: RulesChangeCause,
    change: (tx: WriteTx, before: EnteredCalendar) => Promise<T>,
  ): Promise<{ result: T; lapsed: RulesChangeLapses }> {
    const now = this.deps.clock();
    const today = dayOf(now);
    const { result, voided, touched } = await this.deps.store.write(async (tx) => {
      const policy = await this.registrations.policy(tx);
      const before = await enteredCalendar(tx);
      const calendar = before.calendar;
      const ctx: ActionContext = {
        tx,
        actor: SYSTEM_ACTOR,
        policy,
        now: now.toISOString(),
        today,
        notify: new Notifier(now.toISOString()),
        touched: new Set(),
      };
      const ended: StoredRecord[] = [];
      if (cadencesOn(policy)) {
        for (const record of await tx.recordsWithStatus(PROTECTING_STATUSES)) {
          const lapse = lapseDecision(record, policy, calendar, today);
          if (lapse === null) continue;
          await writeLapse(ctx, record, lapse, calendar);
          ended.push(record);
        }
      }
      // As in the sweep: shares are told their partner left once every lapse is written.
      for (const record of ended) await partnerLeft(ctx, record);
      await ctx.notify.flush(tx);
      const result = await change(tx, before);
      return { result, voided: ended.map((r) => r.no), touched: [...ctx.touched] };
    });
    if (voided.length > 0) {
      await this.registrations.audit(SYSTEM_ACTOR, 'registration.lapse', touched, {
        voided: voided.length,
        before: cause,
      });
    }
    return { result, lapsed: { voided: voided.length, numbers: voided } };
  }

  // ---- internals ----

  private calendar(): WorkCalendar {
    return this.deps.calendar?.() ?? PACKAGE_CALENDAR;
  }

  private async act(
    actor: Actor,
    no: string,
    action: string,
    fn: (ctx: ActionContext, record: StoredRecord) => Promise<StoredRecord>,
  ): Promise<RecordView> {
    const now = this.deps.clock();
    const today = dayOf(now);
    const { record, partner, touched, policy } = await this.deps.store.write(async (tx) => {
      const record = await tx.getRecord(no);
      if (!record) throw notFound(no);
      if (actor.expectedVersion !== undefined) await assertVersion(tx, record, actor.expectedVersion, today);
      const ctx: ActionContext = {
        tx,
        actor,
        policy: await this.registrations.policy(tx),
        now: now.toISOString(),
        today,
        notify: new Notifier(now.toISOString(), actor.name),
        touched: new Set([no]),
      };
      const result = await fn(ctx, record);
      // After the action's own refusals (who may act, in what state), so a caller who may not act
      // learns nothing new; throwing here discards whatever the action wrote.
      assertNotDestroyed(record);
      await ctx.notify.flush(tx);
      const partner = await splitPartnerOf(tx, result);
      return { record: result, partner, touched: [...ctx.touched], policy: ctx.policy };
    });
    await this.registrations.audit(actor, action, touched);
    return recordView(record, today, partner, this.registrations.serviceContext(policy));
  }

  /**
   * R31, R32: a record whose deadline day has ended without the service it needed has lapsed, on
   * the day, before the sweep writes `void`: what would change its deadline is refused (409
   * `registration.lapsed`), so the sweep — whenever it runs — voids what the day decided.
   */
  private refuseIfLapsed(ctx: ActionContext, record: StoredRecord): void {
    const calendar = this.calendar();
    const lapse = lapseDecision(record, ctx.policy, calendar, ctx.today);
    if (lapse === null) return;
    const { problem: p, details } = lapsedProblem(lapse);
    throw new DomainError(p, details);
  }

  /**
   * R21: a window counted from the first visit (R29) or the registration (R30) may be over before
   * the review. Approving it would protect nobody yet decide every competitor as lost to it (and
   * upholding an objection would end the winner's protection for it), so the reviewer is told the
   * window instead (and may reject, letting the competitors move up).
   */
  private assertProtectionAhead(ctx: ActionContext, record: StoredRecord): void {
    const window = grantedWindow(
      {
        claimedAt: record.claimedAt,
        approvedAt: ctx.now,
        firstVisitAt: record.registration.firstVisitAt,
      },
      ctx.policy,
    );
    if (window.until >= ctx.today) return;
    throw new DomainError(
      problem(
        'review.protection_over',
        `保护期自 ${window.from} 起算，已于 ${window.until} 结束，批准也不再保护该客户；请驳回，让其他报备人依次递补（R21）`,
        `Protection counts from ${window.from} and ended on ${window.until}; approving would protect nobody. Reject it so the other registrants move up (R21)`,
      ),
      { protectedFrom: window.from, protectedUntil: window.until },
    );
  }

  /**
   * One customer is never granted twice: another registrant's protection blocks approval.
   * `givingWay` are the protections the approval itself ends (the decision an upheld objection
   * reverses).
   */
  private async assertNotHeld(
    ctx: ActionContext,
    record: StoredRecord,
    givingWay: readonly string[] = [],
  ): Promise<void> {
    const holders = (
      await findCandidates(ctx.tx, record.identity, ctx.policy, ctx.today, { exclude: record.no })
    ).filter(
      (c) =>
        c.match.strength === 'exact' &&
        !givingWay.includes(c.record.no) &&
        PROTECTING_STATUSES.includes(c.status) &&
        c.record.registration.registrant !== record.registration.registrant &&
        c.record.share?.withNo !== record.no,
    );
    const holder = holders[0];
    if (holder) {
      throw new DomainError(
        problem(
          'registration.blocked',
          `该客户在 ${holder.record.protectedUntil ?? ''} 前由 ${holder.record.registration.registrant} 保护（${holder.record.no}），不能再次批准`,
          `This customer is protected for ${holder.record.registration.registrant} until ${holder.record.protectedUntil ?? ''} (${holder.record.no}); it cannot be granted twice`,
        ),
        { holder: holder.record.no },
      );
    }
  }

  private async sharePartner(
    ctx: ActionContext,
    record: StoredRecord,
    shareWith: string | undefined,
  ): Promise<StoredRecord> {
    const partner = shareWith !== undefined ? await ctx.tx.getRecord(shareWith) : undefined;
    const competitors = await this.competitorsOf(ctx, record);
    if (!partner || !competitors.some((c) => c.no === partner.no)) {
      throw new DomainError(
        problem(
          'share.partner_invalid',
          'shareWith 必须是同一客户的另一份待裁定报备编号（R16）',
          'shareWith must be the number of another undecided registration of the same customer (R16)',
          'shareWith',
        ),
      );
    }
    return partner;
  }

  /** Undecided registrations of the same customer by others (pending, or competing). */
  private async competitorsOf(ctx: ActionContext, record: StoredRecord): Promise<StoredRecord[]> {
    return (await findCandidates(ctx.tx, record.identity, ctx.policy, ctx.today, { exclude: record.no }))
      .filter(
        (c) =>
          c.match.strength === 'exact' &&
          c.record.registration.registrant !== record.registration.registrant &&
          (c.status === 'pending' || c.status === 'conflict'),
      )
      .map((c) => c.record);
  }

  /** R12: the other registrants of the customer lose, are told, and may object within the window. */
  private async decideCompetitors(
    ctx: ActionContext,
    winner: StoredRecord,
    partnerNo: string | undefined,
  ): Promise<void> {
    const calendar = this.calendar();
    const deadline = objectionDeadline(ctx.today, ctx.policy, calendar);
    for (const other of await this.competitorsOf(ctx, winner)) {
      if (other.no === partnerNo) continue;
      if (other.conflictKind === 'queued' && !(other.blockedBy ?? []).includes(winner.no)) {
        // Waiting behind someone else's protection: it keeps waiting, now behind the winner too.
        other.blockedBy = [...new Set([...(other.blockedBy ?? []), winner.no])];
        other.version++; // every change bumps the version: clients' ETags must go stale
        await ctx.tx.putRecord(other);
        continue;
      }
      const from = effectiveStatus(other, ctx.today);
      other.status = 'rejected';
      other.reasonCode = 'conflict.lost';
      other.reason = `同一客户已批准给 ${winner.registration.registrant}（${winner.no}）`;
      setDeadline(other, 'objectionDeadline', deadline, ctx.today);
      delete other.reviewDueBy;
      delete other.blockedBy;
      delete other.conflictKind;
      logHistory(ctx, other, 'conflict.lost', from, other.reason, { winner: winner.no });
      ctx.notify.toRegistrant(other, 'competitor.decided', {
        winner: winner.no,
        objectionDeadline: deadline.day,
      });
      await ctx.tx.putRecord(other);
    }
  }

  /** A signed customer is no longer available: registrations waiting for it are rejected. */
  private async rejectQueued(ctx: ActionContext, signed: StoredRecord, code: string): Promise<void> {
    for (const c of await findCandidates(ctx.tx, signed.identity, ctx.policy, ctx.today, {
      exclude: signed.no,
    })) {
      if (c.status !== 'conflict' || !(c.record.blockedBy ?? []).includes(signed.no)) continue;
      const other = c.record;
      other.status = 'rejected';
      other.reasonCode = code;
      other.reason = `客户已由 ${signed.registration.registrant} 签约（${signed.no}）`;
      delete other.blockedBy;
      delete other.conflictKind;
      delete other.reviewDueBy;
      logHistory(ctx, other, 'customer.signed', 'conflict', other.reason, { signed: signed.no });
      ctx.notify.toRegistrant(other, 'competitor.decided', { signed: signed.no });
      await ctx.tx.putRecord(other);
    }
  }

  private async lostRecordOf(ctx: ActionContext, actor: Actor, winner: StoredRecord): Promise<StoredRecord> {
    // A shared decision (R16) names the reviewed share as the winner; the loser may name either.
    const decidedBy = new Set([winner.no, ...(winner.share !== undefined ? [winner.share.withNo] : [])]);
    const lostTo = (r: StoredRecord): boolean =>
      r.reasonCode === 'conflict.lost' &&
      r.history.some((h) => {
        const named = h.details?.['winner'];
        return typeof named === 'string' && decidedBy.has(named);
      });
    // Newest first, a page at a time: the lost record is usually recent, and a registrant with a long
    // history of rejections is read in pages, not all at once — nor cut off after the first.
    const lost = await findRecord(
      ctx.tx,
      { today: ctx.today, registrant: actor.name, statuses: ['rejected'] },
      lostTo,
    );
    if (!lost) {
      throw new DomainError(
        problem(
          'objection.not_allowed',
          '只有在撞单裁定中落选的报备人可以提出异议',
          'Only a registrant who lost a conflict decision may object',
        ),
      );
    }
    ctx.touched.add(lost.no);
    return lost;
  }

  /**
   * A customer the winner has signed is no longer anyone's to protect (the queue behind it is
   * rejected `customer.signed`): upholding the objection would protect the objector for a deal
   * already closed, so the reviewer dismisses it instead. A shared decision (R16) was granted to
   * both shares, and either partner's signature closes the deal.
   */
  private async assertNotSigned(ctx: ActionContext, winnerNo: string): Promise<void> {
    const named = winnerNo !== '' ? await ctx.tx.getRecord(winnerNo) : undefined;
    const partner = named?.share !== undefined ? await ctx.tx.getRecord(named.share.withNo) : undefined;
    const winner = [named, partner?.share?.withNo === named?.no ? partner : undefined].find(
      (r) => r?.status === 'signed',
    );
    if (winner === undefined) return;
    throw new DomainError(
      problem(
        'objection.customer_signed',
        `获批的报备 ${winner.no} 已签约，异议不能再支持；请驳回异议（R12）`,
        `The winning registration ${winner.no} has signed the customer; the objection can no longer be upheld — dismiss it (R12)`,
      ),
      { winner: winner.no },
    );
  }

  /**
   * The records an objection is against: the winner and, when the decision was a share (R16), its
   * partner — both were granted by the one decision, so upholding the objection reverses both. Those
   * still protecting are ended; the queue behind any of them — one whose window ran out but is not
   * swept yet too — moves behind the objector.
   */
  private async objectedDecision(ctx: ActionContext, winnerNo: string): Promise<StoredRecord[]> {
    const winner = winnerNo !== '' ? await ctx.tx.getRecord(winnerNo) : undefined;
    if (!winner) return [];
    const partnerNo = winner.share?.withNo;
    const partner = partnerNo !== undefined ? await ctx.tx.getRecord(partnerNo) : undefined;
    return [winner, ...(partner?.share?.withNo === winner.no ? [partner] : [])];
  }

  private async decideObjection(
    ctx: ActionContext,
    record: StoredRecord,
    decision: 'upheld' | 'dismissed',
    reason: string,
    objected: readonly StoredRecord[],
  ): Promise<void> {
    const objection = record.objection!;
    record.objection = { ...objection, decision, decidedAt: ctx.now };
    if (decision === 'dismissed') {
      logHistory(ctx, record, 'objection.dismiss', 'rejected', reason);
      ctx.notify.toRegistrant(record, 'decision', { objection: 'dismissed' });
      await ctx.tx.putRecord(record);
      return;
    }
    const ending = objected.filter((r) => PROTECTING_STATUSES.includes(effectiveStatus(r, ctx.today)));
    for (const winner of ending) {
      transition(ctx, winner, 'terminated', 'objection.upheld', reason, 'objection.upheld');
      ctx.notify.toRegistrant(winner, 'protection.ended', { outcome: 'objection.upheld', by: record.no });
      if (!reviews(ctx.actor, winner)) {
        // R12/R34 leave an objection to the objector's team, which may reverse another team's grant:
        // that team's reviewers (who made it) learn who reversed it and for whom, as a demanding
        // team would expect (docs/notifications.md).
        ctx.notify.toReviewers(winner, 'protection.ended', {
          outcome: 'objection.upheld',
          by: record.no,
          decidedBy: ctx.actor.name,
          decidedByTeam: ctx.actor.team ?? null,
        });
      }
      await ctx.tx.putRecord(winner);
    }
    delete record.reasonCode;
    delete record.objectionDeadline;
    // The lost decision's reason ("granted to …") would stay in 处理意见 beside 保护中.
    record.reason = reason;
    approve(record, ctx.now, ctx.policy);
    logHistory(ctx, record, 'objection.uphold', 'rejected', reason);
    ctx.notify.toRegistrant(record, 'decision', {
      objection: 'upheld',
      protectedUntil: record.protectedUntil ?? null,
    });
    await ctx.tx.putRecord(record);
    await this.requeueBehind(ctx, record, objected);
    await this.loseAgainTo(ctx, record, objected);
  }

  /**
   * R12: upholding an objection grants the customer anew, so the others who lost the decision it
   * reverses are told, as the losers of any approval are (decideCompetitors), and may object to the
   * new grant within a fresh window. An objection of theirs still undecided was to the reversed
   * grant: it is closed as superseded, so its author may object to this grant at once (object: one
   * objection per decision).
   */
  private async loseAgainTo(
    ctx: ActionContext,
    holder: StoredRecord,
    reversed: readonly StoredRecord[],
  ): Promise<void> {
    const reversedNos = new Set(reversed.map((r) => r.no));
    const deadline = objectionDeadline(ctx.today, ctx.policy, this.calendar());
    const losers = await ctx.tx.findRecordsByKeys(
      lookupKeys(holder.identity),
      (identity, clear) =>
        (clear === undefined || (clear.no !== holder.no && clear.status === 'rejected')) &&
        compareIdentities(holder.identity, identity, ctx.policy)?.strength === 'exact',
    );
    for (const loser of losers) {
      if (
        loser.no === holder.no ||
        loser.status !== 'rejected' ||
        loser.reasonCode !== 'conflict.lost' ||
        loser.registration.registrant === holder.registration.registrant
      ) {
        continue;
      }
      const lostTo = lastDecisionAgainst(loser);
      if (lostTo === undefined || !reversedNos.has(lostTo)) continue;
      if (
        loser.objection &&
        loser.objection.decision === undefined &&
        reversedNos.has(loser.objection.against)
      ) {
        // Its own objection is to the grant just reversed: moot, and it could only be dismissed, so
        // it is closed here and its author objects to the new grant instead, in the fresh window
        // below, rather than waiting on a reviewer while that window runs.
        loser.objection = { ...loser.objection, decision: 'dismissed', decidedAt: ctx.now };
        logHistory(
          ctx,
          loser,
          'objection.dismiss',
          'rejected',
          `所异议的批准 ${loser.objection.against} 已因 ${holder.no} 的异议成立而撤销；如有异议，请针对新的批准提出`,
          { superseded: holder.no },
        );
      }
      loser.reason = `同一客户已批准给 ${holder.registration.registrant}（${holder.no}）`;
      setDeadline(loser, 'objectionDeadline', deadline, ctx.today);
      logHistory(ctx, loser, 'conflict.lost', 'rejected', loser.reason, { winner: holder.no });
      ctx.notify.toRegistrant(loser, 'competitor.decided', {
        winner: holder.no,
        objectionDeadline: deadline.day,
      });
      await ctx.tx.putRecord(loser);
    }
  }

  /**
   * Registrations queued behind the decision an upheld objection reversed now wait behind the
   * objector (R21): otherwise they would wait for a record that is already over, and be moved up
   * beside the objector when it ends or is swept (a window that ran out before the objection was
   * decided), or not at all when the objector's protection ends.
   */
  private async requeueBehind(
    ctx: ActionContext,
    holder: StoredRecord,
    ended: readonly StoredRecord[],
  ): Promise<void> {
    const endedNos = new Set(ended.map((r) => r.no));
    for (const c of await findCandidates(ctx.tx, holder.identity, ctx.policy, ctx.today, {
      exclude: holder.no,
    })) {
      const other = c.record;
      let changed = false;
      let told = false;
      const waiting = other.blockedBy ?? [];
      if (c.status === 'conflict' && waiting.some((no) => endedNos.has(no))) {
        other.blockedBy = [...new Set([...waiting.filter((no) => !endedNos.has(no)), holder.no])];
        other.version++; // every change bumps the version: clients' ETags must go stale
        ctx.touched.add(other.no);
        changed = true;
      }
      // The objected decision may have ended before the objection was decided (the winner withdrew)
      // and moved the queue up: what was promoted, and what competes with it, can no longer be
      // approved beside the objector (registration.blocked), so it waits behind them again as it
      // would had the objection been upheld first — not left pending, to be rejected and lose its place.
      if (
        c.match.strength === 'exact' &&
        other.registration.registrant !== holder.registration.registrant &&
        (c.status === 'pending' || (c.status === 'conflict' && other.conflictKind !== 'queued'))
      ) {
        const from = c.status;
        other.status = 'conflict';
        other.conflictKind = 'queued';
        other.blockedBy = [holder.no];
        logHistory(ctx, other, 'queue.requeue', from, undefined, { behind: holder.no });
        ctx.notify.toRegistrant(other, 'competitor.decided', { winner: holder.no, queued: true });
        changed = told = true;
      }
      if (!changed) continue;
      // R12: whom the customer is granted to changed for those waiting too; told once, with no
      // objection window (they did not lose).
      if (!told) ctx.notify.toRegistrant(other, 'competitor.decided', { winner: holder.no, queued: true });
      await ctx.tx.putRecord(other);
    }
  }
}
