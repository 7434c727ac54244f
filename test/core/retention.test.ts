import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY } from '../../core/policy.js';
import {
  closedOn,
  destructible,
  eraseRecord,
  keptUntil,
  withRetentionFloor,
  DESTROYED_TEXT,
} from '../../core/retention.js';
import type { StoredRecord } from '../../core/schema.js';

function record(overrides: Partial<StoredRecord> = {}): StoredRecord {
  return {
    no: 'BB-2016-000001',
    status: 'terminated',
    registration: {
      customerName: '上海华腾科技有限公司',
      customerType: 'enterprise',
      creditCode: '91310000MA1FL4XQ3K',
      contactName: '陈伟',
      contactPhone: '13812345678',
      email: 'chen@example.com',
      address: '上海市浦东新区世纪大道100号',
      need: '采购 200 台',
      notes: '老板是陈伟的表哥',
      expectedAmount: 1_200_000,
      region: '上海',
      registrant: '王磊',
      team: '华东一部',
      source: '展会',
    },
    identity: {
      customerType: 'enterprise',
      creditCode: 'h-credit',
      name: 'h-name',
      nameBlocks: ['h-b1'],
      nameGrams: ['h-g1', 'h-g2'],
      phone: 'h-phone',
      phoneIsMobile: true,
      maskedPhone: 'h-masked',
      phoneMasked: false,
      email: 'h-email',
      household: null,
      person: 'h-person',
      surname: 'h-surname',
    },
    team: '华东一部',
    submittedBy: '王磊',
    receivedAt: '2016-03-01T02:00:00.000Z',
    claimedAt: '2016-03-01T02:00:00.000Z',
    claimHasTime: true,
    reason: '客户陈伟说不买了',
    followUps: [{ at: '2016-03-05T02:00:00.000Z', by: '王磊', note: '电话陈伟 13812345678' }],
    history: [
      { at: '2016-03-01T02:00:00.000Z', by: '王磊', action: 'create', to: 'pending' },
      {
        at: '2016-03-02T02:00:00.000Z',
        by: '王磊',
        action: 'change',
        details: { field: 'contactPhone', from: '13800000000', to: '13812345678' },
      },
      {
        at: '2016-04-10T02:00:00.000Z',
        by: '王磊',
        action: 'close.withdrawn',
        from: 'pending',
        to: 'terminated',
        reason: '陈伟不买了',
      },
    ],
    version: 3,
    ...overrides,
  };
}

describe('[R39] when a record may be destroyed', () => {
  it('closes on the day of the transition into its closed status', () => {
    expect(closedOn(record(), '2026-12-05')).toBe('2016-04-10');
  });

  it('an open record never closes, so it is never destructible however old', () => {
    const open = record({ status: 'pending', history: [] });
    expect(closedOn(open, '2040-01-01')).toBeUndefined();
    expect(destructible(open, '2040-01-01', 10)).toBe(false);
  });

  it('a protection that ran out by itself closed on its last day, before the sweep wrote it', () => {
    const ranOut = record({ status: 'protected', protectedUntil: '2016-06-30', history: [] });
    expect(closedOn(ranOut, '2026-12-05')).toBe('2016-06-30');
  });

  it('is kept the whole term: destructible only the day after the term ends', () => {
    expect(keptUntil('2016-04-10', 10)).toBe('2026-04-10');
    expect(destructible(record(), '2026-04-10', 10)).toBe(false);
    expect(destructible(record(), '2026-04-11', 10)).toBe(true);
    // A longer retention keeps it.
    expect(destructible(record(), '2026-04-11', 11)).toBe(false);
  });

  it('a retention below the 10 years of R39 (a policy stored before the floor) still keeps 10', () => {
    expect(destructible(record(), '2018-04-11', 1)).toBe(false);
    expect(destructible(record(), '2026-04-10', 1)).toBe(false);
    expect(destructible(record(), '2026-04-11', 1)).toBe(true);
  });

  it('29 February keeps until 28 February of the last year', () => {
    expect(keptUntil('2016-02-29', 10)).toBe('2026-02-28');
  });

  it('a policy read with fewer than 10 years keeps 10; more stays as set', () => {
    expect(withRetentionFloor({ ...DEFAULT_POLICY, retentionYears: 2 })).toEqual({
      ...DEFAULT_POLICY,
      retentionYears: 10,
    });
    const longer = { ...DEFAULT_POLICY, retentionYears: 15 };
    expect(withRetentionFloor(longer)).toBe(longer);
  });

  it('an already destroyed record is not listed again', () => {
    const gone = eraseRecord(record(), '2026-05-01T00:00:00.000Z', {
      requestedBy: 'a',
      approvedBy: 'b',
      requestId: 'r1',
    });
    expect(destructible(gone, '2030-01-01', 10)).toBe(false);
  });
});

describe('[R39] what destruction erases and what it leaves', () => {
  const gone = eraseRecord(record(), '2026-05-01T00:00:00.000Z', {
    requestedBy: '管理员甲',
    approvedBy: '管理员乙',
    requestId: 'req-1',
  });

  it('no customer, contact, phone, address, need, amount, note or reason survives anywhere', () => {
    const text = JSON.stringify(gone);
    for (const secret of [
      '华腾',
      '陈伟',
      '13812345678',
      '13800000000',
      '91310000MA1FL4XQ3K',
      'chen@',
      '世纪大道',
      '200 台',
      '表哥',
      '1200000',
      '不买了',
    ]) {
      expect(text, secret).not.toContain(secret);
    }
    expect(gone.registration.customerName).toBe(DESTROYED_TEXT);
    expect(gone.followUps).toEqual([{ at: '2016-03-05T02:00:00.000Z', by: '王磊', note: DESTROYED_TEXT }]);
  });

  it('the hashed keys are gone too: the record can never be found by its customer again', () => {
    expect(gone.identity.nameBlocks).toEqual([]);
    expect(gone.identity.nameGrams).toEqual([]);
    expect([
      gone.identity.creditCode,
      gone.identity.phone,
      gone.identity.maskedPhone,
      gone.identity.person,
    ]).toEqual([null, null, null, null]);
    expect(gone.identity.name).toBe('destroyed:BB-2016-000001');
  });

  it('keeps the number, type, registrant, team, region, dates, statuses and who did what, plus who destroyed it', () => {
    expect(gone).toMatchObject({
      no: 'BB-2016-000001',
      status: 'terminated',
      team: '华东一部',
      receivedAt: '2016-03-01T02:00:00.000Z',
      registration: { customerType: 'enterprise', registrant: '王磊', region: '上海', source: '展会' },
      destroyed: { at: '2026-05-01T00:00:00.000Z', requestId: 'req-1' },
      version: 4,
    });
    expect(gone.history.map((h) => h.action)).toEqual([
      'create',
      'change',
      'close.withdrawn',
      'retention.destroy',
    ]);
    expect(gone.history.at(-1)).toMatchObject({
      by: '管理员乙',
      details: { requestedBy: '管理员甲', approvedBy: '管理员乙', requestId: 'req-1' },
    });
  });
});
