import { describe, expect, it } from 'vitest';
import {
  ESTIMATE_NOTE,
  followUpDue,
  myRowOf,
  planMySheet,
  readMyActions,
  sortByUrgency,
} from '../../core/mySheetPlan.js';
import { DEFAULT_POLICY, resolvePolicy } from '../../core/policy.js';
import type { RecordView } from '../../core/responses.js';

const HEADER = ['报备编号', '客户名称', '状态', '操作', '说明', '跟进日期', '处理结果', '版本'];

function view(overrides: Partial<RecordView>): RecordView {
  return {
    no: 'BB-2026-000001',
    status: 'protected',
    registration: { customerName: '上海华腾科技有限公司', customerType: 'enterprise', registrant: '王磊' },
    submittedBy: '王磊',
    receivedAt: '2026-03-01T02:00:00.000Z',
    claimedAt: '2026-03-01T02:00:00.000Z',
    claimHasTime: true,
    approvedAt: '2026-03-02T02:00:00.000Z',
    protectedFrom: '2026-03-02',
    protectedUntil: '2026-06-01',
    followUps: [],
    history: [],
    version: 2,
    etag: '"2"',
    ...overrides,
  };
}

describe('我的报备 rows', () => {
  it('[R28] the last day to ask for an extension is 20 days before the end, shown while it can still be asked', () => {
    expect(myRowOf(view({}), DEFAULT_POLICY, '2026-03-10').extensionBy).toBe('2026-05-12');
    expect(myRowOf(view({}), DEFAULT_POLICY, '2026-05-20').extensionBy).toBe('');
    expect(myRowOf(view({}), DEFAULT_POLICY, '2026-03-10').daysLeft).toBe(83);
  });

  it('[R31] the next follow-up under the follow-up preset: within 3 days of approval, then weekly', () => {
    const policy = resolvePolicy({ preset: 'follow-up' });
    expect(followUpDue(view({}), policy)).toBe('2026-03-05');
    expect(
      followUpDue(view({ followUps: [{ at: '2026-03-04T01:00:00.000Z', by: '王磊', note: 'x' }] }), policy),
    ).toBe('2026-03-11');
    expect(followUpDue(view({}), DEFAULT_POLICY)).toBe('');
    const overdue = myRowOf(view({}), policy, '2026-03-06');
    expect(overdue.overdue).toBe(true);
  });

  it('[R12] an objection deadline only on a lost decision not yet objected to', () => {
    const lost = view({ status: 'rejected', reasonCode: 'conflict.lost', objectionDeadline: '2026-03-04' });
    expect(myRowOf(lost, DEFAULT_POLICY, '2026-03-03').objectionBy).toBe('2026-03-04');
    expect(
      myRowOf(
        { ...lost, objection: { at: '2026-03-03T01:00:00.000Z', reason: 'x', against: 'y' } },
        DEFAULT_POLICY,
        '2026-03-03',
      ).objectionBy,
    ).toBe('');
    expect(
      myRowOf({ ...lost, reasonCode: 'review.rejected' }, DEFAULT_POLICY, '2026-03-03').objectionBy,
    ).toBe('');
  });

  it('sorts by the earliest open deadline, rows without one last by number', () => {
    const rows = [
      myRowOf(
        view({ no: 'BB-2026-000003', status: 'pending', protectedUntil: undefined }),
        DEFAULT_POLICY,
        '2026-03-10',
      ),
      myRowOf(view({ no: 'BB-2026-000002', protectedUntil: '2026-04-01' }), DEFAULT_POLICY, '2026-03-10'),
      myRowOf(view({ no: 'BB-2026-000001', protectedUntil: '2026-09-01' }), DEFAULT_POLICY, '2026-03-10'),
    ];
    expect(sortByUrgency(rows).map((r) => r.registrationNo)).toEqual([
      'BB-2026-000002',
      'BB-2026-000001',
      'BB-2026-000003',
    ]);
  });
});

describe('[R12] estimated deadlines in the sheet (issue 17)', () => {
  const lost = view({
    status: 'rejected',
    reasonCode: 'conflict.lost',
    objectionDeadline: '2027-01-05',
    estimated: ['objectionDeadline'],
  });

  it('a note on the 异议截止 cell says the date is a Monday–Friday estimate', () => {
    const plan = planMySheet([lost], DEFAULT_POLICY, '2026-12-31', new Map(), { notes: true });
    expect(plan.write.notes?.notes).toEqual({ H2: ESTIMATE_NOTE });
    const values = plan.write.ops.find((op) => op.kind === 'values');
    expect(values?.kind === 'values' && values.values[1]![7]).toBe('2027-01-05');
  });

  it('without notes (older Excel) the cell itself says （估）; a confirmed date carries nothing', () => {
    const plan = planMySheet([lost], DEFAULT_POLICY, '2026-12-31', new Map(), { notes: false });
    expect(plan.write.notes).toBeUndefined();
    const values = plan.write.ops.find((op) => op.kind === 'values');
    expect(values?.kind === 'values' && values.values[1]![7]).toBe('2027-01-05（估）');
    const confirmed = planMySheet([{ ...lost, estimated: undefined }], DEFAULT_POLICY, '2026-12-31');
    expect(confirmed.write.notes).toBeUndefined();
  });
});

describe('reading 操作', () => {
  it('maps each action to its route and body, with the row’s ETag; dates typed or as serials', () => {
    const { actions, errors } = readMyActions(
      [
        HEADER,
        ['BB-2026-000001', 'x', '保护中', '申请延期', '预算审批中', '', '', '"2"'],
        ['BB-2026-000002', 'x', '保护中', 'follow-up', '上门', 46084, '', '"5"'],
        ['BB-2026-000003', 'x', '保护中', '丢单', '客户选了别家', '', '', '"1"'],
        ['BB-2026-000004', 'x', '保护中', '', '', '', '', '"1"'],
      ],
      '2026-03-10',
    );
    expect(errors).toEqual([]);
    expect(actions.map((a) => [a.registrationNo, a.path, a.body, a.etag])).toEqual([
      ['BB-2026-000001', 'extension', { reason: '预算审批中' }, '"2"'],
      ['BB-2026-000002', 'follow-ups', { way: '上门', note: '上门', at: '2026-03-03T00:00:00+08:00' }, '"5"'],
      ['BB-2026-000003', 'close', { outcome: 'lost_to_competitor', note: '客户选了别家' }, '"1"'],
    ]);
  });

  it('names what is wrong on a row and posts nothing for it', () => {
    const { actions, errors } = readMyActions(
      [
        HEADER,
        ['BB-2026-000001', 'x', '', '延长', '理由', '', '', '"2"'],
        ['BB-2026-000002', 'x', '', '撤回', '', '', '', '"2"'],
        ['', 'x', '', '撤回', '理由', '', '', ''],
        ['BB-2026-000004', 'x', '', '记录跟进', '回访', '下周', '', '"2"'],
      ],
      '2026-03-10',
    );
    expect(actions).toEqual([]);
    expect(errors.map((e) => e.row)).toEqual([2, 3, 4, 5]);
    expect(errors[0]!.message).toContain('无法识别');
    expect(errors[1]!.message).toContain('说明');
    expect(errors[2]!.message).toContain('报备编号');
    expect(errors[3]!.message).toContain('2026-03-05');
    expect(errors[0]!.carry).toMatchObject({ action: '延长', note: '理由' });
  });

  it('refuses a sheet without its key columns', () => {
    expect(() => readMyActions([['客户名称', '操作']], '2026-03-10')).toThrow(/重新生成/);
  });
});
