/**
 * Who is calling and what they may see (R34): sales staff their own records (and customers
 * shared with them), reviewers their team's (a reviewer without a team reviews every team),
 * administrators everything.
 */
import { sharePartner, type ShareDay } from '../../core/lifecycle.js';
import type { StoredRecord } from '../../core/schema.js';
import { DomainError, problem } from '../../core/problem.js';
import type { Role, User } from '../store/store.js';

export interface Actor {
  id: string;
  name: string;
  role: Role;
  team?: string | undefined;
  requestId?: string | undefined;
  /**
   * The record version this request's If-Match names, for an action on one registration: the
   * action is refused (412) unless the record is still at that version. A sheet sends the version it
   * last saw, so a retried action whose first answer was lost is never filed twice.
   */
  expectedVersion?: number | undefined;
}

export function actorOf(user: User, requestId?: string): Actor {
  return { id: user.id, name: user.name, role: user.role, team: user.team, requestId };
}

/**
 * The registrant themself: what ends or prolongs a protection (close, extension) is theirs alone —
 * a share partner (R16) sees the record but holds only their own share.
 */
export function isHolder(actor: Actor, record: StoredRecord): boolean {
  return record.registration.registrant === actor.name;
}

/**
 * The registrant's record, or one shared with them while the share lasts (R16, core sharePartner):
 * `on` is the day and the record the share is split with (splitPartnerOf).
 */
export function isOwnRecord(actor: Actor, record: StoredRecord, on: ShareDay): boolean {
  return record.registration.registrant === actor.name || sharePartner(record, on) === actor.name;
}

/** Reviewers act on records of their team; admins on all. */
export function reviews(actor: Actor, record: StoredRecord): boolean {
  if (actor.role === 'admin') return true;
  if (actor.role !== 'reviewer') return false;
  return actor.team === undefined || record.team === actor.team;
}

export function canRead(actor: Actor, record: StoredRecord, on: ShareDay): boolean {
  return isOwnRecord(actor, record, on) || reviews(actor, record);
}

/** The filter a list query gets for this actor (undefined = no restriction). */
export function listScope(actor: Actor): { registrants?: string[]; teams?: string[] } | undefined {
  if (actor.role === 'admin' || (actor.role === 'reviewer' && actor.team === undefined)) return undefined;
  if (actor.role === 'reviewer' && actor.team !== undefined)
    return { registrants: [actor.name], teams: [actor.team] };
  return { registrants: [actor.name] };
}

export function forbidden(what: string, whatEn: string): DomainError {
  return new DomainError(problem('auth.forbidden', `无权${what}`, `Not allowed to ${whatEn}`));
}

export function requireRole(actor: Actor, roles: readonly Role[], what: string, whatEn: string): void {
  if (!roles.includes(actor.role)) throw forbidden(what, whatEn);
}
/** Who the service's own writes are done as: the sweep, a change of rules' lapse pass, expired files' removal. */
export const SYSTEM_ACTOR: Actor = { id: 'system', name: 'system', role: 'admin' };
