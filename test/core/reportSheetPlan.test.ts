/** The 报表 and 延期与异议 plans as plain data (issue 9): layout, formats, chart source, reading decisions back. */
import { describe, expect, it } from 'vitest';
import {
  KIND_EXTENSION,
  KIND_OBJECTION,
  planLifecycleSheet,
  readLifecycleDecisions,
} from '../../core/lifecycleReviewPlan.js';
import { planReportSheet, REPORT_CHART_NAME, type ReportData } from '../../core/reportSheetPlan.js';

const report: ReportData = {
  from: '2026-09',
  to: '2026-10',
  months: ['2026-09', '2026-10'],
  byRegistrantMonth: [
    {
      registrant: '王磊',
      team: '华东一部',
      month: '2026-09',
      total: 2,
      byStatus: { protected: 1, rejected: 1 },
    },
    { registrant: '李娜', month: '2026-10', total: 1, byStatus: { pending: 1 } },
  ],
  expiringSoon: [{ registrationNo: 'BB-2026-000001', registrant: '王磊', protectedUntil: '2026-10-30' }],
  sla: [
    { month: '2026-09', received: 2, decidedInTime: 1, decidedLate: 1, undecided: 0, overdue: 0 },
    { month: '2026-10', received: 1, decidedInTime: 0, decidedLate: 0, undecided: 1, overdue: 1 },
  ],
  overdue: [
    { registrationNo: 'BB-2026-000003', registrant: '李娜', receivedOn: '2026-10-08', dueBy: '2026-10-19' },
  ],
};

function valuesOf(plan: ReturnType<typeof planReportSheet>) {
  const op = plan.write.ops.find((o) => o.kind === 'values');
  if (op?.kind !== 'values') throw new Error('no values op');
  return op.values;
}

describe('planReportSheet', () => {
  it('lays out SLA, per person (statuses that occur, rulebook order), expiring and overdue blocks', () => {
    const plan = planReportSheet(report);
    const v = valuesOf(plan);
    expect(v[1]!.slice(0, 6)).toEqual([
      '月份',
      '收到',
      '7个工作日内审结',
      '超期审结',
      '待审（未超期）',
      '超期未审',
    ]);
    expect(v[3]!.slice(0, 6)).toEqual(['2026-10', 1, 0, 0, 0, 1]);
    expect(v[6]!.slice(0, 7)).toEqual(['报备人', '团队', '月份', '合计', '待审核', '保护中', '驳回']);
    // Sorted by registrant (zh-CN collation: 李 before 王), then month.
    expect(v[7]!.slice(0, 7)).toEqual(['李娜', '', '2026-10', 1, 1, 0, 0]);
    expect(v[8]!.slice(0, 7)).toEqual(['王磊', '华东一部', '2026-09', 2, 0, 1, 1]);
    expect(v.some((r) => r[0] === 'BB-2026-000003' && r[4] === '未审结')).toBe(true);
    expect(plan.rows).toBe(2);
  });

  it('text format goes on before the values (months and days stay text); the chart covers the SLA block', () => {
    const plan = planReportSheet(report);
    const kinds = plan.write.ops.map((o) => o.kind);
    expect(kinds.indexOf('numberFormat')).toBeLessThan(kinds.indexOf('values'));
    expect(plan.chart).toEqual({
      sheetName: '报表',
      name: REPORT_CHART_NAME,
      type: 'ColumnClustered',
      source: 'A2:F4',
      seriesBy: 'Columns',
      title: '审核时效 2026-09 至 2026-10',
      position: expect.objectContaining({ start: expect.any(String), end: expect.any(String) }),
    });
  });

  it('no chart when nothing was received in the range', () => {
    const empty = { ...report, byRegistrantMonth: [], sla: report.sla.map((s) => ({ ...s, received: 0 })) };
    expect(planReportSheet(empty).chart).toBeNull();
  });
});

describe('延期与异议 plan', () => {
  const actions = {
    extensions: [
      {
        registrationNo: 'BB-2026-000010',
        customer: '甲公司',
        registrant: '王磊',
        protectedFrom: '2026-09-30',
        protectedUntil: '2026-12-29',
        requestedAt: '2026-10-08T02:00:00.000Z',
        reason: '预算推迟',
      },
    ],
    objections: [
      {
        registrationNo: 'BB-2026-000011',
        customer: '乙公司',
        registrant: '李娜',
        claimedAt: '2026-09-28T02:00:00.000Z',
        objectedAt: '2026-10-08T02:00:00.000Z',
        reason: '先拜访',
        against: {
          registrationNo: 'BB-2026-000009',
          registrant: '王磊',
          claimedAt: '2026-09-28T01:00:00.000Z',
          percent: 60,
          sharedWith: { registrationNo: 'BB-2026-000012', registrant: '陈晨', percent: 40 },
        },
      },
    ],
  };

  it('one row per item, Shanghai times, a drop-down per kind', () => {
    const plan = planLifecycleSheet(actions);
    const values = plan.write.ops.find((o) => o.kind === 'values');
    if (values?.kind !== 'values') throw new Error('no values');
    expect(values.values[1]!.slice(0, 9)).toEqual([
      'BB-2026-000010',
      KIND_EXTENSION,
      '甲公司',
      '王磊',
      '2026-09-30',
      '2026-12-29',
      '',
      '2026-10-08 10:00',
      '预算推迟',
    ]);
    // R16: an objection to a shared decision names the partner the same uphold ends.
    expect(values.values[0]!.slice(9, 13)).toEqual([
      '对方报备编号',
      '对方报备人',
      '对方报备时间',
      '对方共享',
    ]);
    expect(values.values[2]!.slice(9, 13)).toEqual([
      'BB-2026-000009',
      '王磊',
      '2026-09-28 09:00',
      '60%，与 BB-2026-000012 陈晨（40%）共享',
    ]);
    expect(values.values[1]![12]).toBe('');
    const lists = plan.write.ops.flatMap((o) => (o.kind === 'validation' ? [[o.address, o.rule]] : []));
    expect(lists).toEqual([
      ['N2', { list: { inCellDropDown: true, source: '批准,驳回' } }],
      ['N3', { list: { inCellDropDown: true, source: '支持,驳回' } }],
    ]);
  });

  it('reads decisions by header and number, whatever the row order; refuses unknown words and missing reasons', () => {
    const header = ['处理结果', '决定', '审核意见', '类型', '报备编号'];
    const { decisions, errors } = readLifecycleDecisions([
      header,
      ['', '驳回', '无证据', KIND_OBJECTION, 'BB-2026-000011'],
      ['', '批准', '', KIND_EXTENSION, 'BB-2026-000010'],
      ['', '支持', '好', KIND_EXTENSION, 'BB-2026-000012'],
      ['', '', '', KIND_EXTENSION, 'BB-2026-000013'],
    ]);
    expect(decisions.map((d) => [d.row, d.registrationNo, d.decision])).toEqual([
      [2, 'BB-2026-000011', 'dismiss'],
    ]);
    expect(errors.map((e) => [e.row, e.message])).toEqual([
      [3, '第 3 行请填写审核意见'],
      [4, '第 4 行的决定「支持」无法识别：应为 批准 或 驳回'],
    ]);
    expect(() => readLifecycleDecisions([['报备编号']])).toThrow(/延期与异议/);
  });
});
