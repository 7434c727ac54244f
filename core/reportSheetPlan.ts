/**
 * The 报表 sheet (issue 9, R41 with R12): what `GET /api/reports/review` answers, laid out as
 * plain data — four blocks one under the other (review SLA per month, registrations per person
 * per month by status, protections expiring soon, overdue reviews) and one chart over the SLA
 * block. The gateway writes it; nothing here talks to Excel.
 *
 * The chart's source is the SLA block (one row per month, at most 24), so the chart stays small
 * and readable whatever the number of people; the per-person table below holds the detail.
 */
import { z } from 'zod';
import { STATUS_LABELS, type RowStatus } from './schema.js';
import { cellAddress, rangeAddress, type SheetCell } from './sheetGrid.js';
import { type SheetOp, type SheetWrite } from './sheetWrite.js';

export const REPORT_SHEET_NAME = '报表';
/** The chart's name: a rebuild deletes the chart of this name before adding the new one. */
export const REPORT_CHART_NAME = '报表_审核时效';

/** The report as the service sends it (server/services/reviewerDesk.ts ReviewReport); the client parses with it. */
export const reportDataSchema = z.object({
  from: z.string(),
  to: z.string(),
  months: z.array(z.string()),
  byRegistrantMonth: z.array(
    z.object({
      registrant: z.string(),
      team: z.string().optional(),
      month: z.string(),
      total: z.number().int(),
      byStatus: z.record(z.string(), z.number().int()),
    }),
  ),
  expiringSoon: z.array(
    z.object({ registrationNo: z.string(), registrant: z.string(), protectedUntil: z.string() }),
  ),
  sla: z.array(
    z.object({
      month: z.string(),
      received: z.number().int(),
      decidedInTime: z.number().int(),
      decidedLate: z.number().int(),
      undecided: z.number().int(),
      overdue: z.number().int(),
    }),
  ),
  overdue: z.array(
    z.object({
      registrationNo: z.string(),
      registrant: z.string(),
      receivedOn: z.string(),
      dueBy: z.string(),
      decidedOn: z.string().optional(),
    }),
  ),
});
export type ReportData = z.infer<typeof reportDataSchema>;

/** Excel.ChartType and Excel.ChartSeriesBy values the plan uses (ExcelApi 1.1). */
export interface ChartPlan {
  sheetName: string;
  name: string;
  type: 'ColumnClustered';
  /** The source block, header row and category column included (A1, no sheet). */
  source: string;
  seriesBy: 'Columns';
  title: string;
  /** Top-left and bottom-right cells the chart covers. */
  position: { start: string; end: string };
}

export interface ReportSheetPlan {
  write: SheetWrite;
  /** Null when the range received nothing: a chart over zeros tells nothing. */
  chart: ChartPlan | null;
  /** Rows of the per-person table. */
  rows: number;
}

const TEXT = '@';
const SLA_HEADER = ['月份', '收到', '7个工作日内审结', '超期审结', '待审（未超期）', '超期未审'];

function isStatus(key: string): key is RowStatus {
  return Object.prototype.hasOwnProperty.call(STATUS_LABELS, key);
}

/** The sheet, replaced whole on every build. */
export function planReportSheet(report: ReportData): ReportSheetPlan {
  const statuses = (Object.keys(STATUS_LABELS) as RowStatus[]).filter((s) =>
    report.byRegistrantMonth.some((c) => (c.byStatus[s] ?? 0) > 0),
  );
  const unknown = [
    ...new Set(report.byRegistrantMonth.flatMap((c) => Object.keys(c.byStatus).filter((k) => !isStatus(k)))),
  ].sort();
  const personHeader = [
    '报备人',
    '团队',
    '月份',
    '合计',
    ...statuses.map((s) => STATUS_LABELS[s].zh),
    ...unknown,
  ];
  const width = Math.max(personHeader.length, SLA_HEADER.length, 5);
  const pad = (cells: SheetCell[]): SheetCell[] => [
    ...cells,
    ...Array<SheetCell>(width - cells.length).fill(''),
  ];

  const grid: SheetCell[][] = [];
  const titles: number[] = [];
  const headers: number[] = [];
  const title = (text: string) => {
    grid.push(pad([text]));
    titles.push(grid.length);
  };
  const header = (cells: string[]) => {
    grid.push(pad(cells));
    headers.push(grid.length);
  };

  title(`审核时效（R12，${report.from} 至 ${report.to}，按收到月份）`);
  header(SLA_HEADER);
  const slaTop = grid.length;
  for (const s of report.sla) {
    grid.push(pad([s.month, s.received, s.decidedInTime, s.decidedLate, s.undecided - s.overdue, s.overdue]));
  }
  const slaBottom = grid.length;
  grid.push(pad([]));

  title('每人每月报备（R41，按当前状态）');
  header(personHeader);
  const people = [...report.byRegistrantMonth].sort(
    (a, b) => a.registrant.localeCompare(b.registrant, 'zh-CN') || a.month.localeCompare(b.month),
  );
  for (const c of people) {
    grid.push(
      pad([
        c.registrant,
        c.team ?? '',
        c.month,
        c.total,
        ...statuses.map((s) => c.byStatus[s] ?? 0),
        ...unknown.map((k) => c.byStatus[k] ?? 0),
      ]),
    );
  }
  grid.push(pad([]));

  title('即将到期的保护（20 天内）');
  header(['报备编号', '报备人', '保护截止日']);
  for (const e of report.expiringSoon) grid.push(pad([e.registrationNo, e.registrant, e.protectedUntil]));
  grid.push(pad([]));

  title('超期审核（超过 7 个工作日）');
  header(['报备编号', '报备人', '收到日', '应审结日', '审结日']);
  const overdueTop = grid.length + 1;
  for (const o of report.overdue) {
    grid.push(pad([o.registrationNo, o.registrant, o.receivedOn, o.dueBy, o.decidedOn ?? '未审结']));
  }
  const overdueBottom = grid.length;

  // Registration numbers, months and days stay text (Excel would turn 2026-09 into a date); the
  // format goes on before the values so they are taken as typed. Counts stay numbers for the chart.
  const ops: SheetOp[] = [
    { kind: 'numberFormat', address: rangeAddress(1, 1, grid.length, 3), format: TEXT },
    {
      kind: 'numberFormat',
      address: rangeAddress(overdueTop - 1, 4, Math.max(overdueBottom, overdueTop), 5),
      format: TEXT,
    },
    { kind: 'values', address: rangeAddress(1, 1, grid.length, width), values: grid },
  ];
  for (const row of [...titles, ...headers]) {
    ops.push({ kind: 'headerStyle', address: rangeAddress(row, 1, row, width) });
  }
  if (overdueBottom >= overdueTop) {
    ops.push({ kind: 'fill', color: '#FFC7CE', addresses: rangeAddress(overdueTop, 1, overdueBottom, 5) });
  }
  ops.push({ kind: 'columnWidth', address: cellAddress(1, 1), width: 120 });
  ops.push({ kind: 'columnWidth', address: cellAddress(1, 2), width: 80 });
  ops.push({ kind: 'columnWidth', address: cellAddress(1, 3), width: 80 });

  const received = report.sla.reduce((n, s) => n + s.received, 0);
  const chart: ChartPlan | null =
    received === 0
      ? null
      : {
          sheetName: REPORT_SHEET_NAME,
          name: REPORT_CHART_NAME,
          type: 'ColumnClustered',
          source: rangeAddress(slaTop, 1, slaBottom, SLA_HEADER.length),
          seriesBy: 'Columns',
          title: `审核时效 ${report.from} 至 ${report.to}`,
          position: { start: cellAddress(2, width + 2), end: cellAddress(20, width + 10) },
        };
  return {
    write: { sheetName: REPORT_SHEET_NAME, sheet: 'replace', ops, activate: true },
    chart,
    rows: people.length,
  };
}
