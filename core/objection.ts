/**
 * 异议 (R12): which grant a losing registration may object to, and whether it has. A loser may
 * lose twice — to the first grant, then to an upheld objection's — and objects once per grant.
 */
import type { StoredRecord } from './schema.js';

/** The registration whose grant the loser lost to last: the one an objection of theirs is against. */
export function lastDecisionAgainst(lost: Pick<StoredRecord, 'history'>): string | undefined {
  const winner = lost.history.findLast((h) => h.reason !== undefined && h.details?.['winner'] !== undefined)
    ?.details?.['winner'];
  return typeof winner === 'string' ? winner : undefined;
}

/**
 * Whether the loser's objection bars another one now: it awaits its decision, or it was made
 * against the grant the loser lost to last.
 */
export function hasObjected(lost: Pick<StoredRecord, 'history' | 'objection'>): boolean {
  if (lost.objection === undefined) return false;
  return lost.objection.decision === undefined || lost.objection.against === lastDecisionAgainst(lost);
}

/**
 * The objector whose upheld objection closed this loser's own objection (it was to the grant that
 * objection reversed), while that closed objection is still the loser's latest: one filed since is
 * decided as any other.
 */
export function supersededBy(lost: Pick<StoredRecord, 'history' | 'objection'>): string | undefined {
  if (lost.objection?.decision !== 'dismissed') return undefined;
  const closed = lost.history.findLast((h) => h.action === 'objection.dismiss');
  const by = closed?.details?.['superseded'];
  return typeof by === 'string' && closed?.at === lost.objection.decidedAt ? by : undefined;
}

/**
 * Whether the record waits for a reviewer to decide its objection (R12): rejected, its objection
 * filed and undecided — what review() decides as an objection, and what the reviewer's desk lists.
 * The stores keep it in clear beside the status (recordCodec.ts), so the desk finds the handful
 * waiting without opening years of rejections (R39). A record destroyed after its retention (R39)
 * waits for nothing: what the objection was about is erased, and nothing acts on it again.
 */
export function awaitsObjectionDecision<
  R extends Pick<StoredRecord, 'status' | 'objection'> & { destroyed?: unknown },
>(record: R): record is R & { objection: NonNullable<R['objection']> } {
  return (
    record.status === 'rejected' &&
    record.objection !== undefined &&
    record.objection.decision === undefined &&
    record.destroyed === undefined
  );
}
