/**
 * The caller's notifications: what was stored when something happened (decisions, lost
 * conflicts with their objection window, queue promotions…) plus protections of theirs that
 * expire within 20 days, computed on read. Messages are composed here, from numbers and dates.
 */
import { addDays, dayOf } from '../../core/day.js';
import { extensionLastDay } from '../../core/protection.js';
import type { Notification, Store } from '../store/store.js';
import type { Actor } from './actor.js';
import { allRecords } from './recordPages.js';
import type { RegistrationService } from './registrationService.js';
import { EXPIRING_SOON_DAYS } from './reportService.js';

export interface NotificationView extends Notification {
  message: string;
  messageEn: string;
}

export async function notificationsFor(
  store: Store,
  registrations: RegistrationService,
  actor: Actor,
  now: Date,
): Promise<NotificationView[]> {
  const today = dayOf(now);
  const policy = await registrations.policy();
  const { stored, expiring } = await store.read(async (tx) => ({
    stored: await tx.listNotifications(
      { name: actor.name, role: actor.role, ...(actor.team ? { team: actor.team } : {}) },
      200,
    ),
    // Every protection of theirs that ends soon: a reminder list cut at a fixed count would drop some.
    expiring: await allRecords(tx, {
      today,
      registrant: actor.name,
      expiringWithinDays: EXPIRING_SOON_DAYS,
    }),
  }));
  const computed: Notification[] = expiring
    .filter((r) => r.protectedUntil !== undefined && r.protectedUntil <= addDays(today, EXPIRING_SOON_DAYS))
    .map((r) => ({
      id: `expiring:${r.no}:${r.protectedUntil}`,
      to: { name: actor.name },
      type: 'protection.ended' as const,
      recordNo: r.no,
      at: now.toISOString(),
      details: {
        expiring: true,
        protectedUntil: r.protectedUntil ?? null,
        extensionLastDay: extensionLastDay(r.protectedUntil!, policy.extensionLeadDays),
      },
    }));
  await registrations.audit(actor, 'notification.list', [
    ...new Set([...computed, ...stored].map((n) => n.recordNo)),
  ]);
  return [...computed, ...stored].map((n) => ({ ...n, ...describe(n) }));
}

function describe(n: Notification): { message: string; messageEn: string } {
  const d = n.details;
  const no = n.recordNo;
  switch (n.type) {
    case 'decision':
      if (d['objection'] === 'upheld')
        return {
          message: `报备 ${no} 的异议成立，已获保护至 ${d['protectedUntil']}`,
          messageEn: `Objection upheld: ${no} is protected until ${d['protectedUntil']}`,
        };
      if (d['objection'] === 'dismissed')
        return { message: `报备 ${no} 的异议未被采纳`, messageEn: `Objection on ${no} dismissed` };
      if (d['decision'] === 'reject')
        return { message: `报备 ${no} 已被驳回`, messageEn: `Registration ${no} was rejected` };
      return {
        message: `报备 ${no} 已通过${d['decision'] === 'share' ? '（共享客户）' : ''}，保护至 ${d['protectedUntil']}`,
        messageEn: `Registration ${no} approved${d['decision'] === 'share' ? ' (shared customer)' : ''}, protected until ${d['protectedUntil']}`,
      };
    case 'competitor.decided':
      if (d['signed'] !== undefined)
        return {
          message: `客户已由他人签约（${d['signed']}），您的报备 ${no} 已驳回`,
          messageEn: `The customer was signed by someone else (${d['signed']}); your registration ${no} was rejected`,
        };
      if (d['queued'] === true)
        return {
          message: `异议成立，客户改由 ${d['winner']} 保护，您的报备 ${no} 转为排队，待其保护结束后依次递补`,
          messageEn: `An objection was upheld and the customer is now protected for ${d['winner']}; your registration ${no} waits behind it and moves up when it ends`,
        };
      return {
        message: `同一客户已批准给 ${d['winner']}，您的报备 ${no} 未获批准；如有异议请于 ${d['objectionDeadline']} 前提出`,
        messageEn: `The customer was granted to ${d['winner']}; your registration ${no} lost. Object by ${d['objectionDeadline']} if you disagree`,
      };
    case 'queue.promoted':
      return {
        message: `前一保护已结束，您的报备 ${no} 已转入审核，审核截止 ${d['reviewDueBy']}`,
        messageEn: `The earlier protection ended; your registration ${no} is now under review, due ${d['reviewDueBy']}`,
      };
    case 'protection.ended':
      if (d['expiring'] === true)
        return {
          message: `报备 ${no} 的保护期将于 ${d['protectedUntil']} 结束`,
          messageEn: `Protection of ${no} ends on ${d['protectedUntil']}`,
        };
      if (d['decidedBy'] !== undefined)
        return {
          message: `报备 ${no} 的保护已结束：${d['decidedByTeam'] ?? ''} 的 ${d['decidedBy']} 支持了报备 ${d['by']} 的异议`,
          messageEn: `Protection of ${no} ended: ${d['decidedBy']} (${d['decidedByTeam'] ?? ''}) upheld the objection of ${d['by']}`,
        };
      return {
        message: `报备 ${no} 的保护已结束（${String(d['outcome'])}）`,
        messageEn: `Protection of ${no} ended (${String(d['outcome'])})`,
      };
    case 'extension.requested':
      return { message: `报备 ${no} 申请延期，待审核`, messageEn: `Extension requested for ${no}` };
    case 'extension.decided':
      return d['decision'] === 'approve'
        ? {
            message: `报备 ${no} 延期已批准，保护至 ${d['protectedUntil']}`,
            messageEn: `Extension of ${no} approved, protected until ${d['protectedUntil']}`,
          }
        : { message: `报备 ${no} 延期未获批准`, messageEn: `Extension of ${no} refused` };
    case 'objection.filed':
      return { message: `报备 ${no} 对撞单裁定提出异议，待处理`, messageEn: `Objection filed on ${no}` };
    case 'changed':
      return {
        message: `报备 ${no} 已更改${d['by'] !== undefined ? `（${d['by']}）` : ''}，请查看变更记录`,
        messageEn: `Registration ${no} was changed${d['by'] !== undefined ? ` by ${d['by']}` : ''}; see its history`,
      };
    case 'resubmitted':
      return {
        message: `报备 ${no} 已更正并重新提交，审核截止 ${d['reviewDueBy']}`,
        messageEn: `Registration ${no} was corrected and resubmitted; review due ${d['reviewDueBy']}`,
      };
    case 'transfer':
      if (d['share'] !== undefined)
        return {
          message: `与您共享客户的报备 ${d['share']} 已由 ${d['from']} 移交给 ${d['to']}，您的报备 ${no} 现与 ${d['to']} 共享`,
          messageEn: `Registration ${d['share']}, which shares the customer with you, was handed over from ${d['from']} to ${d['to']}; your registration ${no} is now shared with ${d['to']}`,
        };
      return d['to'] !== undefined
        ? {
            message: `报备 ${no} 已移交给 ${d['to']}`,
            messageEn: `Registration ${no} was handed over to ${d['to']}`,
          }
        : {
            message: `报备 ${no} 已移交给您（原报备人 ${d['from']}）`,
            messageEn: `Registration ${no} was handed over to you (from ${d['from']})`,
          };
    case 'followUp.due':
      return {
        message: `报备 ${no} 需在 ${d['dueBy']} 前（含当日）记录一次跟进`,
        messageEn: `Registration ${no} needs a follow-up recorded by ${d['dueBy']}`,
      };
    case 'followUp.overdue':
      return {
        message: `报备 ${no} 的跟进已于 ${d['dueBy']} 逾期`,
        messageEn: `The follow-up of ${no} was due on ${d['dueBy']}`,
      };
    case 'pool.lapsing':
      return {
        message: `报备 ${no} 将于 ${d['lapsesOn']} 失效，客户将回到公海；请及时记录跟进`,
        messageEn: `Registration ${no} lapses on ${d['lapsesOn']} and its customer returns to the pool; record a follow-up`,
      };
    case 'pool.lapsed':
      return {
        message: `报备 ${no} 已失效（${d['rule']}），客户已回到公海；原报备人 ${d['reclaimAfter']} 起可重新认领`,
        messageEn: `Registration ${no} lapsed (${d['rule']}); its customer is in the pool. The former holder may claim it again from ${d['reclaimAfter']}`,
      };
    case 'pool.claimed':
      return {
        message: `报备 ${no} 的客户已从公海被认领（${d['claimedNo']}）`,
        messageEn: `The customer of ${no} was claimed from the pool (${d['claimedNo']})`,
      };
  }
}
