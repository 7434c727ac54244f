/**
 * What an administrator does to an existing user: disable and enable an account, rotate its token
 * (the new one is shown once), and hand a leaver's customers over (R38) — disable the leaver and
 * move every active registration to a named colleague in one transaction, both notified, audited.
 * A registration that has lapsed (R31, R32) but is not yet written `void` is not moved.
 */
import { dayOf } from '../../core/day.js';
import { effectiveStatus } from '../../core/lifecycle.js';
import { DomainError, problem } from '../../core/problem.js';
import { ACTIVE_STATUSES } from '../../core/schema.js';
import { lapseDecision } from '../../core/serviceCadence.js';
import type { Store, User, WriteTx } from '../store/store.js';
import { requireRole, type Actor } from './actor.js';
import { allRecords } from './recordPages.js';
import { storedCalendar } from './calendarService.js';
import { followShare } from './lifecycleService.js';
import { Notifier } from './notifier.js';
import type { RegistrationService } from './registrationService.js';
import { hashToken, newToken, userView, type UserView } from './userService.js';

export interface HandOverResult {
  user: UserView;
  to: UserView;
  /** Numbers of the registrations now held by `to`, in number order. */
  transferred: string[];
  /**
   * Numbers of the leaver's registrations that had lapsed (R31, R32) before the sweep wrote them
   * `void`, in number order: they stay with the leaver, and the sweep voids them in their name.
   */
  lapsed: string[];
}

export class UserAdministration {
  constructor(
    private readonly store: Store,
    private readonly registrations: RegistrationService,
    private readonly clock: () => Date,
  ) {}

  disable(actor: Actor, id: string): Promise<UserView> {
    return this.setDisabled(actor, id, true);
  }

  enable(actor: Actor, id: string): Promise<UserView> {
    return this.setDisabled(actor, id, false);
  }

  /** A new token for the user; the old one stops working with this commit. */
  async rotateToken(actor: Actor, id: string): Promise<{ user: UserView; token: string }> {
    requireRole(actor, ['admin'], '更换令牌', 'rotate tokens');
    const token = newToken();
    const user = await this.store.write(async (tx) => {
      const user = await userById(tx, id);
      const next: User = { ...user, tokenHash: hashToken(token) };
      await tx.putUser(next);
      return next;
    });
    await this.registrations.audit(actor, 'user.rotate_token', [], { user: user.name });
    return { user: userView(user), token };
  }

  /** R38: disables `id` and transfers its active registrations to the user named `to`. */
  async handOver(actor: Actor, id: string, to: string): Promise<HandOverResult> {
    requireRole(actor, ['admin'], '移交离职人员的客户', 'hand over a leaver’s customers');
    const now = this.clock();
    const today = dayOf(now);
    const result = await this.store.write(async (tx) => {
      const leaver = await userById(tx, id);
      const colleague = await tx.getUserByName(to);
      if (!colleague || colleague.disabled) {
        throw new DomainError(
          problem(
            'user.not_found',
            `用户“${to}”不存在或已停用`,
            `User "${to}" does not exist or is disabled`,
            'to',
          ),
        );
      }
      if (colleague.id === leaver.id) {
        throw new DomainError(
          problem('user.hand_over_self', '不能移交给本人', 'A user cannot hand over to themselves', 'to'),
        );
      }
      if (leaver.id === actor.id) {
        throw selfLockout();
      }
      const notify = new Notifier(now.toISOString());
      const transferred: string[] = [];
      const lapsed: string[] = [];
      const policy = await this.registrations.policy(tx);
      const calendar = await storedCalendar(tx);
      // Collect first, then change: paging over a set we are rewriting could skip records.
      const held = await allRecords(tx, { today, registrant: leaver.name, statuses: [...ACTIVE_STATUSES] });
      for (const record of held) {
        // Shared records list the partner too (R16): only the leaver's own registrations move.
        if (record.registration.registrant !== leaver.name) continue;
        if (!ACTIVE_STATUSES.includes(effectiveStatus(record, today))) continue;
        // As a single transfer refuses it (409 registration.lapsed): the record is void from its
        // lapse day, so the colleague would take a customer already back in the pool, and the
        // former holder's cooldown (R44) would fall on them instead of the leaver.
        if (lapseDecision(record, policy, calendar, today) !== null) {
          lapsed.push(record.no);
          continue;
        }
        notify.toRegistrant(record, 'transfer', { to: colleague.name });
        record.registration = { ...record.registration, registrant: colleague.name };
        if (colleague.team !== undefined) record.team = colleague.team;
        record.version++;
        record.history.push({
          at: now.toISOString(),
          by: actor.name,
          action: 'transfer',
          details: { from: leaver.name, to: colleague.name, reason: 'hand-over' },
        });
        notify.toRegistrant(record, 'transfer', { from: leaver.name });
        await followShare(tx, record, { at: now.toISOString(), by: actor.name }, notify);
        await tx.putRecord(record);
        transferred.push(record.no);
      }
      const disabled: User = { ...leaver, disabled: true };
      await tx.putUser(disabled);
      await notify.flush(tx);
      transferred.sort();
      lapsed.sort();
      return { user: userView(disabled), to: userView(colleague), transferred, lapsed };
    });
    await this.registrations.audit(actor, 'user.hand_over', result.transferred, {
      user: result.user.name,
      to: result.to.name,
      count: result.transferred.length,
      ...(result.lapsed.length > 0 ? { lapsed: result.lapsed.join(',') } : {}),
    });
    return result;
  }

  private async setDisabled(actor: Actor, id: string, disabled: boolean): Promise<UserView> {
    requireRole(
      actor,
      ['admin'],
      disabled ? '停用用户' : '启用用户',
      disabled ? 'disable users' : 'enable users',
    );
    const user = await this.store.write(async (tx) => {
      const user = await userById(tx, id);
      // The last way in must not be closed from inside: an administrator cannot disable themselves.
      if (disabled && user.id === actor.id) throw selfLockout();
      const next: User = { ...user };
      if (disabled) next.disabled = true;
      else delete next.disabled;
      await tx.putUser(next);
      return next;
    });
    await this.registrations.audit(actor, disabled ? 'user.disable' : 'user.enable', [], { user: user.name });
    return userView(user);
  }
}

async function userById(tx: WriteTx, id: string): Promise<User> {
  const user = (await tx.listUsers()).find((u) => u.id === id);
  if (!user) {
    throw new DomainError(problem('user.not_found', `用户 ${id} 不存在`, `User ${id} does not exist`, 'id'));
  }
  return user;
}

function selfLockout(): DomainError {
  return new DomainError(
    problem(
      'user.self',
      '不能停用自己的账号（请由另一位管理员操作）',
      'You cannot disable your own account (another administrator must do it)',
      'id',
    ),
  );
}
