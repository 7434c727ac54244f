/**
 * The 报表 sheet from the task pane (issue 9, R41 with R12): one click fetches the figures for a
 * month range, writes the sheet (replaced whole) and replaces its chart. Reports change nothing
 * on the service, so there is nothing to apply back; a rebuild deletes the old chart by name
 * first, so pressing twice leaves one chart. Plans in core/reportSheetPlan.ts; Excel only
 * through the gateway.
 */
import { planReportSheet, REPORT_CHART_NAME, REPORT_SHEET_NAME } from '../core/reportSheetPlan.js';
import type { ApiClient } from './apiClient.js';
import type { ExcelGateway } from './excelGateway.js';

export interface ReportSheetDeps {
  excel: ExcelGateway;
  api: ApiClient;
}

export function createReportSheet(deps: ReportSheetDeps) {
  const { excel, api } = deps;
  return {
    async build(range: { from?: string; to?: string } = {}): Promise<{
      rows: number;
      chart: boolean;
      overdue: number;
      expiringSoon: number;
    }> {
      const report = await api.reviewReport(range);
      const plan = planReportSheet(report);
      await excel.writeSheet(plan.write);
      await excel.replaceChart(REPORT_SHEET_NAME, REPORT_CHART_NAME, plan.chart);
      return {
        rows: plan.rows,
        chart: plan.chart !== null,
        overdue: report.overdue.length,
        expiringSoon: report.expiringSoon.length,
      };
    },
  };
}

export type ReportSheet = ReturnType<typeof createReportSheet>;
