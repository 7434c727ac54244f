/**
 * Records full of personal data and one event (or several variants) of every notification type,
 * so tests can prove what never leaves the server in a message.
 */
import type { StoredRecord } from '../../core/schema.js';
import type { NotifyEvent, NotifyEventType } from '../../server/notify/notifyEvent.js';

/** Everything here that is personal data, and must never appear in any message. */
export const PERSONAL = {
  contactName: '赵敏',
  contactTitle: '采购总监',
  contactPhone: '13912345678',
  email: 'zhao.min@huaxin-example.cn',
  creditCode: '91310115MA1K4LXX4Q',
  address: '上海市浦东新区张江路88号',
  householdOf: '赵大海',
  notes: '客户私下透露预算',
  need: '需要三百台服务器',
  expectedAmount: 1_234_567,
  expectedUnitPrice: 98_765,
};

/** Ways an amount could be written. */
export const AMOUNT_FORMS = ['1234567', '1,234,567', '123.4567万', '98765', '98,765'];

export function storedRecord(
  overrides: Partial<StoredRecord> = {},
  registration: Partial<StoredRecord['registration']> = {},
): StoredRecord {
  return {
    no: 'BB-2026-000123',
    status: 'protected',
    registration: {
      customerName: '上海华信科技有限公司',
      customerType: 'enterprise',
      creditCode: PERSONAL.creditCode,
      contactName: PERSONAL.contactName,
      contactTitle: PERSONAL.contactTitle,
      contactPhone: PERSONAL.contactPhone,
      email: PERSONAL.email,
      region: '上海',
      address: PERSONAL.address,
      industry: '软件',
      source: '展会',
      need: PERSONAL.need,
      expectedAmount: PERSONAL.expectedAmount,
      expectedUnitPrice: PERSONAL.expectedUnitPrice,
      expectedSignDate: '2026-09-30',
      registrant: '王磊',
      team: '华东一部',
      householdOf: PERSONAL.householdOf,
      notes: PERSONAL.notes,
      ...registration,
    },
    identity: {
      customerType: 'enterprise',
      creditCode: PERSONAL.creditCode,
      name: '上海|华信',
      nameBlocks: ['华信'],
      nameGrams: ['华信'],
      phone: PERSONAL.contactPhone,
      phoneIsMobile: true,
      maskedPhone: '1395678',
      phoneMasked: false,
      email: PERSONAL.email,
      household: null,
      person: PERSONAL.contactName,
      surname: '赵',
    },
    team: '华东一部',
    submittedBy: '王磊',
    receivedAt: '2026-03-02T02:00:00.000Z',
    claimedAt: '2026-03-02T02:00:00.000Z',
    claimHasTime: true,
    approvedAt: '2026-03-03T02:00:00.000Z',
    protectedFrom: '2026-03-03',
    protectedUntil: '2026-06-02',
    followUps: [{ at: '2026-03-04T02:00:00.000Z', by: '王磊', note: `拜访${PERSONAL.contactName}` }],
    history: [],
    version: 3,
    ...overrides,
  };
}

const at = '2026-05-11T01:00:00.000Z';
const ev = (type: NotifyEventType, details: NotifyEvent['details'], actor?: string): NotifyEvent => ({
  type,
  recordNo: 'BB-2026-000123',
  at,
  details,
  ...(actor !== undefined ? { actor } : {}),
});

/** Every event type, in every variant its details select. */
export const EVENTS: NotifyEvent[] = [
  ev('decision', { status: 'protected', decision: 'approve', protectedUntil: '2026-06-02' }, '李审核'),
  ev('decision', { status: 'protected', decision: 'share', protectedUntil: '2026-06-02' }, '李审核'),
  ev('decision', { status: 'rejected', decision: 'reject' }, '李审核'),
  ev('decision', { status: 'protected', objection: 'upheld', protectedUntil: '2026-06-02' }, '李审核'),
  ev('decision', { status: 'rejected', objection: 'dismissed' }, '李审核'),
  ev(
    'competitor.decided',
    { status: 'rejected', winner: 'BB-2026-000077', objectionDeadline: '2026-05-13' },
    '李审核',
  ),
  ev('competitor.decided', { status: 'rejected', signed: 'BB-2026-000078' }, '张三'),
  // An upheld objection (R12) sent a promoted registration back to the queue behind the objector.
  ev('competitor.decided', { status: 'conflict', winner: 'BB-2026-000077', queued: true }, '李审核'),
  ev('queue.promoted', { status: 'pending', after: 'BB-2026-000079', reviewDueBy: '2026-05-20' }),
  ev('protection.ended', { status: 'signed', outcome: 'signed' }, '王磊'),
  ev(
    'protection.ended',
    { status: 'terminated', outcome: 'false_info', bannedUntil: '2026-08-11' },
    '李审核',
  ),
  ev('protection.ended', { status: 'expired', outcome: 'expired' }),
  ev(
    'protection.ended',
    { status: 'terminated', outcome: 'objection.upheld', by: 'BB-2026-000080' },
    '李审核',
  ),
  // A reviewer of another team reversed this team's grant (R12): told to the reviewers of the record's team.
  ev(
    'protection.ended',
    {
      status: 'terminated',
      outcome: 'objection.upheld',
      by: 'BB-2026-000080',
      decidedBy: '孙丽',
      decidedByTeam: '华东二部',
    },
    '孙丽',
  ),
  ev('extension.requested', { status: 'extension-requested' }, '王磊'),
  ev(
    'extension.decided',
    { status: 'protected', decision: 'approve', protectedUntil: '2026-07-02' },
    '李审核',
  ),
  ev(
    'extension.decided',
    { status: 'protected', decision: 'reject', protectedUntil: '2026-06-02' },
    '李审核',
  ),
  ev('objection.filed', { status: 'rejected', against: 'BB-2026-000081' }, '王磊'),
  ev('transfer', { status: 'protected', to: '陈晨' }, '李审核'),
  ev('transfer', { status: 'protected', from: '刘洋' }, '李审核'),
  ev('transfer', { status: 'protected', share: 'BB-2026-000081', from: '刘洋', to: '陈晨' }, '李审核'),
  ev('changed', { status: 'protected', fields: 'contactPhone,notes', by: '刘洋' }, '刘洋'),
  ev('changed', { status: 'pending', fields: 'customerName', by: '王磊', identity: true }, '王磊'),
  ev('resubmitted', { status: 'pending', reviewDueBy: '2026-05-20' }, '王磊'),
  ev('protection.ending', { daysLeft: 30, protectedUntil: '2026-06-02', extensionLastDay: '2026-05-13' }),
  ev('protection.ending', { daysLeft: 20, protectedUntil: '2026-06-02', extensionLastDay: '2026-05-13' }),
  ev('protection.ending', { daysLeft: 7, protectedUntil: '2026-06-02', extensionLastDay: '2026-05-13' }),
  ev('protection.ending', { daysLeft: 1, protectedUntil: '2026-06-02', extensionLastDay: '2026-05-13' }),
  ev('extension.undecided', {
    protectedUntil: '2026-06-02',
    daysLeft: 7,
    requestedOn: '2026-05-06',
    threshold: 7,
  }),
  ev('objection.closing', { objectionDeadline: '2026-05-13' }),
  ev('review.due', { reviewDueBy: '2026-05-20' }),
  ev('review.overdue', { reviewDueBy: '2026-05-08' }),
  ev('followUp.due', { dueBy: '2026-05-14' }),
  ev('followUp.overdue', { dueBy: '2026-05-10', lapsesOn: '2026-05-17' }),
  ev('pool.lapsing', { lapsesOn: '2026-05-17' }),
  ev('pool.lapsed', { reclaimAfter: '2026-06-10' }),
  ev('pool.claimed', {}),
];

/** Other records' numbers the events above name. */
export const OTHER_NOS = [
  'BB-2026-000077',
  'BB-2026-000078',
  'BB-2026-000079',
  'BB-2026-000080',
  'BB-2026-000081',
];
