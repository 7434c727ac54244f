/**
 * The 报表 sheet (issue 9, R41 with R12) end to end: a reviewer builds it from the real service
 * into the fake Excel — SLA per month by the Chinese working-day calendar, per person per month
 * by status, overdue reviews — with one chart over the SLA block; a rebuild replaces the chart
 * (never two); a range with nothing received removes it; sales are refused. Then the same
 * number of syncs at 100 and 10,000 per-person rows, payloads under the limit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiClient, ApiError, type ApiClient } from '../../addin/apiClient.js';
import { createExcelGateway, type ExcelHost } from '../../addin/excelGateway.js';
import { createReportSheet } from '../../addin/reportSheet.js';
import { REPORT_CHART_NAME, REPORT_SHEET_NAME, type ReportData } from '../../core/reportSheetPlan.js';
import { createFakeOffice, PAYLOAD_LIMIT_BYTES, type FakeOffice } from '../fakes/fakeExcel.js';
import { enterpriseRow } from '../support/customers.js';
import { startTestService, type TestService } from '../support/testService.js';
import { at } from '../support/shanghaiTime.js';

function gatewayFor(fake: FakeOffice) {
  return createExcelGateway({ Excel: fake.Excel, Office: fake.Office } as unknown as ExcelHost);
}

function freshExcel(): FakeOffice {
  return createFakeOffice({ apiVersion: '1.18', sheets: [{ name: 'Sheet1', values: [['']] }] });
}

let svc: TestService;
let wang: ApiClient;
let reviewer: ApiClient;
let nos: string[];

beforeAll(async () => {
  svc = await startTestService({ now: at('2026-09-28', '09:00') });
  const client = (token: string) => createApiClient({ baseUrl: svc.url, token });
  wang = client(await svc.user('王磊', 'sales', '华东一部'));
  const li = client(await svc.user('李娜', 'sales', '华东一部'));
  reviewer = client(await svc.user('张敏', 'reviewer', '华东一部'));
  // Received Mon 2026-09-28: due by 2026-10-13 (National Day 1–7 Oct off, Sat 10 Oct a 调休 workday).
  const results = [
    ...(await wang.submit([enterpriseRow(1), enterpriseRow(2)], 'wang-sept')),
    ...(await li.submit([enterpriseRow(3)], 'li-sept')),
  ];
  nos = results.map((r) => r.registrationNo!);
  svc.setNow(at('2026-10-13', '17:00'));
  await reviewer.review(nos[0]!, { decision: 'approve', reason: '资料齐全' });
  svc.setNow(at('2026-10-14'));
  await reviewer.review(nos[1]!, { decision: 'reject', reason: '资料不全' });
  svc.setNow(at('2026-10-20'));
});

afterAll(async () => {
  await svc.close();
});

describe('报表', () => {
  it('writes the SLA, per-person and overdue blocks and one chart over the SLA block', async () => {
    const fake = freshExcel();
    const report = createReportSheet({ excel: gatewayFor(fake), api: reviewer });
    expect(await report.build({ from: '2026-09', to: '2026-10' })).toEqual({
      rows: 2,
      chart: true,
      overdue: 2,
      expiringSoon: 0,
    });
    expect(fake.workbook.values(REPORT_SHEET_NAME, 'A2:F4')).toEqual([
      ['月份', '收到', '7个工作日内审结', '超期审结', '待审（未超期）', '超期未审'],
      ['2026-09', 3, 1, 1, 0, 1],
      ['2026-10', 0, 0, 0, 0, 0],
    ]);
    // Only the statuses that occur get a column, in the rulebook's order.
    expect(fake.workbook.values(REPORT_SHEET_NAME, 'A7:G9')).toEqual([
      ['报备人', '团队', '月份', '合计', '待审核', '保护中', '驳回'],
      ['李娜', '华东一部', '2026-09', 1, 1, 0, 0],
      ['王磊', '华东一部', '2026-09', 2, 0, 1, 1],
    ]);
    const grid = fake.workbook.values(REPORT_SHEET_NAME, 'A1:E20');
    const overdueRows = grid.filter((r) => r[0] === nos[1] || r[0] === nos[2]);
    expect(overdueRows).toEqual(
      expect.arrayContaining([
        [nos[1], '王磊', '2026-09-28', '2026-10-13', '2026-10-14'],
        [nos[2], '李娜', '2026-09-28', '2026-10-13', '未审结'],
      ]),
    );
    // Months stay text, not dates.
    expect(fake.workbook.numberFormats(REPORT_SHEET_NAME, 'A3:A3')).toEqual([['@']]);
    expect(fake.workbook.charts(REPORT_SHEET_NAME)).toEqual([
      expect.objectContaining({
        name: REPORT_CHART_NAME,
        type: 'ColumnClustered',
        source: `${REPORT_SHEET_NAME}!A2:F4`,
        seriesBy: 'Columns',
        title: '审核时效 2026-09 至 2026-10',
      }),
    ]);
  });

  it('a rebuild replaces the chart (never two); a range that received nothing removes it', async () => {
    const fake = freshExcel();
    const report = createReportSheet({ excel: gatewayFor(fake), api: reviewer });
    await report.build({ from: '2026-09', to: '2026-10' });
    await report.build({ from: '2026-09', to: '2026-09' });
    expect(fake.workbook.charts(REPORT_SHEET_NAME).map((c) => [c.name, c.source])).toEqual([
      [REPORT_CHART_NAME, `${REPORT_SHEET_NAME}!A2:F3`],
    ]);
    expect((await report.build({ from: '2026-11', to: '2026-11' })).chart).toBe(false);
    expect(fake.workbook.charts(REPORT_SHEET_NAME)).toEqual([]);
  });

  it('sales are refused (403) and nothing is written', async () => {
    const fake = freshExcel();
    const report = createReportSheet({ excel: gatewayFor(fake), api: wang });
    const error = await report.build().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(403);
    expect(fake.workbook.sheetNames()).toEqual(['Sheet1']);
  });
});

function synthetic(rows: number): ReportData {
  const months = ['2026-07', '2026-08', '2026-09', '2026-10'];
  return {
    from: '2026-07',
    to: '2026-10',
    months,
    byRegistrantMonth: Array.from({ length: rows }, (_, i) => ({
      registrant: `销售${String(Math.floor(i / 4)).padStart(5, '0')}`,
      team: '华东一部',
      month: months[i % 4]!,
      total: 5,
      byStatus: { pending: 1, protected: 2, rejected: 1, signed: 1 },
    })),
    expiringSoon: Array.from({ length: Math.min(rows, 2000) }, (_, i) => ({
      registrationNo: `BB-2026-${String(i).padStart(6, '0')}`,
      registrant: '王磊',
      protectedUntil: '2026-10-30',
    })),
    sla: months.map((month) => ({
      month,
      received: rows,
      decidedInTime: rows - 3,
      decidedLate: 2,
      undecided: 1,
      overdue: 1,
    })),
    overdue: Array.from({ length: Math.min(rows, 2000) }, (_, i) => ({
      registrationNo: `BB-2026-${String(50_000 + i).padStart(6, '0')}`,
      registrant: '李娜',
      receivedOn: '2026-09-28',
      dueBy: '2026-10-13',
    })),
  };
}

describe('报表 at scale (fake Excel; the figures are synthetic, the gateway and plan are real)', () => {
  async function measure(rows: number) {
    const fake = freshExcel();
    const api = { reviewReport: () => Promise.resolve(synthetic(rows)) } as unknown as ApiClient;
    const report = createReportSheet({ excel: gatewayFor(fake), api });
    expect((await report.build()).rows).toBe(rows);
    // A rebuild on the filled sheet: same count again, one chart.
    const first = fake.syncCount();
    await report.build();
    expect(fake.workbook.charts(REPORT_SHEET_NAME)).toHaveLength(1);
    const log = fake.payloads();
    return {
      syncs: first,
      rebuildSyncs: fake.syncCount() - first,
      maxRequestBytes: Math.max(...log.map((p) => p.requestBytes)),
      maxResponseBytes: Math.max(...log.map((p) => p.responseBytes)),
    };
  }

  it('the same number of syncs at 100 and 10,000 rows, payloads under 5 MB', async () => {
    const small = await measure(100);
    const large = await measure(10_000);
    expect(large.syncs).toBe(small.syncs);
    expect(large.rebuildSyncs).toBe(small.rebuildSyncs);
    expect(large.maxRequestBytes).toBeLessThan(PAYLOAD_LIMIT_BYTES);
    expect(large.maxResponseBytes).toBeLessThan(PAYLOAD_LIMIT_BYTES);
    console.log(
      '报表 syncs (100 / 10,000 rows):',
      `${small.syncs} / ${large.syncs}`,
      'rebuild:',
      `${small.rebuildSyncs} / ${large.rebuildSyncs}`,
      'max request bytes at 10,000:',
      large.maxRequestBytes,
    );
  });
});
