/**
 * Changing a filed registration (R4, R37) and resubmitting a corrected rejected one (R13), each in
 * one write transaction: who may (the holder, or a reviewer of the team), the version the caller
 * last saw (optimistic concurrency: a stale one is refused with the current record), the decision
 * in core, the saved record, notifications and the audit (field names only, never values, R36).
 */
import { PACKAGE_CALENDAR } from '../../core/calendar.js';
import { dayOf } from '../../core/day.js';
import { DomainError, problem, type Problem } from '../../core/problem.js';
import {
  decideResubmission,
  type ChangeRequest,
  type ChangeRole,
  type Refusal,
} from '../../core/registrationChange.js';
import { recordEtag } from '../../core/responses.js';
import type { Conflict, Field, StoredRecord } from '../../core/schema.js';
import type { ReadTx, WriteTx } from '../store/store.js';
import { forbidden, reviews, type Actor } from './actor.js';
import { evaluateChange } from './changeEvaluation.js';
import { Notifier } from './notifier.js';
import { splitPartnerOf } from '../store/splitPartner.js';
import { recordView, type RecordView } from './recordView.js';
import { notFound, type RegistrationService, type ServiceDeps } from './registrationService.js';
import { claimFacts, claimPooledOnReentry, countActive } from './rowEvaluation.js';

/** What a change or a resubmission answers: the record as it is now and what the caller should know. */
export interface ChangeResult {
  record: RecordView;
  /** Fields whose value changed (empty when nothing did: then nothing was saved). */
  changed: Field[];
  warnings: Problem[];
  /** Registrations of the same customer as the caller may see them (R3). */
  conflicts: Conflict[];
}

export class ChangeService {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly registrations: RegistrationService,
  ) {}

  /** PATCH: the holder or a reviewer of the team changes fields of a registration at `version`. */
  async change(actor: Actor, no: string, request: ChangeRequest, version: number): Promise<ChangeResult> {
    const now = this.deps.clock();
    const today = dayOf(now);
    try {
      const outcome = await this.deps.store.write(async (tx) => {
        const record = await this.load(tx, no);
        const as = changeRole(actor, record);
        await assertVersion(tx, record, version, today);
        const evaluation = await evaluateChange(record, request, {
          tx,
          actor,
          as,
          policy: await this.registrations.policy(tx),
          now,
          keyring: this.deps.keyring,
          calendar: this.deps.calendar?.(),
        });
        if (!evaluation.ok) throw refused(evaluation.errors, evaluation.conflicts, evaluation.details);
        if (evaluation.changed.length > 0) {
          const notify = new Notifier(now.toISOString(), actor.name);
          const fields = evaluation.changed.join(',');
          const saved = evaluation.record;
          if (as === 'reviewer' && actor.name !== saved.registration.registrant) {
            notify.toRegistrant(saved, 'changed', { fields, by: actor.name });
          } else if (evaluation.identityChanged && saved.status !== 'rejected') {
            // The customer a registration claims changed: its reviewers look again.
            notify.toReviewers(saved, 'changed', { fields, by: actor.name, identity: true });
          }
          await notify.flush(tx);
        }
        return { ...evaluation, partner: await splitPartnerOf(tx, evaluation.record) };
      });
      await this.registrations.audit(actor, 'registration.change', [no, ...numbersOf(outcome.conflicts)], {
        fields: outcome.changed.join(','),
        identity: outcome.identityChanged,
        late: outcome.late,
        ...(request.changedOn !== undefined ? { changedOn: request.changedOn } : {}),
      });
      return {
        record: recordView(outcome.record, today, outcome.partner),
        changed: outcome.changed,
        warnings: outcome.warnings,
        conflicts: outcome.conflicts,
      };
    } catch (error) {
      await this.auditRefusal(actor, 'registration.change', no, error, Object.keys(request.changes));
      throw error;
    }
  }

  /** R13: the holder sends a corrected rejected registration back to review. */
  async resubmit(
    actor: Actor,
    no: string,
    input: { reason?: string | undefined },
    version: number | undefined,
  ): Promise<ChangeResult> {
    const now = this.deps.clock();
    const today = dayOf(now);
    try {
      const outcome = await this.deps.store.write(async (tx) => {
        const record = await this.load(tx, no);
        if (record.registration.registrant !== actor.name) {
          throw forbidden('重新提交他人的报备', "resubmit someone else's registration");
        }
        if (version !== undefined) await assertVersion(tx, record, version, today);
        const policy = await this.registrations.policy(tx);
        // With per-customer locks (PostgreSQL), the record's lookup keys are locked before these look-ups.
        const { candidates, bans, lapsed } = await claimFacts(
          tx,
          record.identity,
          record.registration.registrant,
          policy,
          today,
          { exclude: record.no },
        );
        const winnerNo = record.history.findLast((h) => typeof h.details?.['winner'] === 'string')?.details?.[
          'winner'
        ];
        const winner =
          record.reasonCode === 'conflict.lost' && typeof winnerNo === 'string'
            ? await tx.getRecord(winnerNo)
            : undefined;
        const partner = winner?.share ? await tx.getRecord(winner.share.withNo) : undefined;
        const winnerPartner = partner?.share?.withNo === winner?.no ? partner : undefined;
        // R45: back in review the record is active again, so the cap applies as to a new registration.
        const activeCount =
          policy.maxActivePerRegistrant === null
            ? undefined
            : await countActive(tx, record.registration.registrant, today);
        const decision = decideResubmission({
          record,
          actor,
          policy,
          now: now.toISOString(),
          reason: input.reason,
          candidates,
          bans,
          winner,
          winnerPartner,
          calendar: this.deps.calendar?.() ?? PACKAGE_CALENDAR,
          activeCount,
        });
        if (!decision.ok) throw refused([decision.error], decision.conflicts, decision.details);
        // R44: back in review, it claims its customer if that customer is in the pool.
        await claimPooledOnReentry(tx, decision.record, policy, lapsed, now.toISOString());
        await tx.putRecord(decision.record);
        const notify = new Notifier(now.toISOString(), actor.name);
        notify.toReviewers(decision.record, 'resubmitted', {
          reviewDueBy: decision.record.reviewDueBy ?? null,
        });
        await notify.flush(tx);
        return { ...decision, partner: await splitPartnerOf(tx, decision.record) };
      });
      await this.registrations.audit(actor, 'registration.resubmit', [no, ...numbersOf(outcome.conflicts)]);
      return {
        record: recordView(outcome.record, today, outcome.partner),
        changed: [],
        warnings: outcome.warnings,
        conflicts: outcome.conflicts,
      };
    } catch (error) {
      await this.auditRefusal(actor, 'registration.resubmit', no, error, []);
      throw error;
    }
  }

  private async load(tx: WriteTx, no: string): Promise<StoredRecord> {
    const record = await tx.getRecord(no);
    if (!record) throw notFound(no);
    return record;
  }

  /** A refusal that showed the caller anything (a conflict view, the current record) is a read (R36). */
  private async auditRefusal(
    actor: Actor,
    action: string,
    no: string,
    error: unknown,
    fields: string[],
  ): Promise<void> {
    if (!(error instanceof DomainError)) return;
    if (error.code === 'auth.forbidden' || error.code === 'registration.not_found') return;
    const conflicts = error.details?.['conflicts'];
    await this.registrations.audit(
      actor,
      action,
      [no, ...(Array.isArray(conflicts) ? numbersOf(conflicts as Conflict[]) : [])],
      { refused: error.code, ...(fields.length > 0 ? { fields: fields.join(',') } : {}) },
    );
  }
}

/** The holder changes their own registration; reviewers of its team and administrators anyone's. */
function changeRole(actor: Actor, record: StoredRecord): ChangeRole {
  if (record.registration.registrant === actor.name) return 'holder';
  if (reviews(actor, record)) return 'reviewer';
  throw forbidden('更改该报备', 'change this registration');
}

/** Optimistic concurrency: the caller must have seen the record as it is now. */
export async function assertVersion(
  tx: ReadTx,
  record: StoredRecord,
  version: number,
  today: string,
): Promise<void> {
  if (record.version === version) return;
  const partner = await splitPartnerOf(tx, record);
  throw new DomainError(
    problem(
      'registration.version_mismatch',
      `报备 ${record.no} 已被他人更改（您看到的是第 ${version} 版，现为第 ${record.version} 版）：请刷新后再改`,
      `Registration ${record.no} was changed meanwhile (you saw version ${version}, it is now ${record.version}): refresh and try again`,
    ),
    {
      version: record.version,
      etag: recordEtag(record.version),
      record: recordView(record, today, partner),
    },
  );
}

function refused(errors: Problem[], conflicts: Conflict[], details?: Refusal['details']): DomainError {
  const first = errors[0]!;
  return new DomainError(first, {
    ...details,
    ...(errors.length > 1 ? { errors } : {}),
    ...(conflicts.length > 0 ? { conflicts } : {}),
  });
}

function numbersOf(conflicts: readonly Conflict[]): string[] {
  return conflicts.flatMap((c) => (c.registrationNo !== undefined ? [c.registrationNo] : []));
}
