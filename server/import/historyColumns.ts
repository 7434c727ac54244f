/**
 * The columns a history migration (`--mode history`) reads besides the canonical fields: 状态, 审批日期
 * and 报备编号, found by their header among the columns no field took, and the status words it knows.
 */
import type { HeaderDetection } from '../../core/headers.js';
import type { SubmissionRow } from '../../core/schema.js';

/** Headers of the columns a history migration may carry besides the canonical fields. */
const STATUS_HEADERS = /^(状态|狀態|审核状态|審核狀態|报备状态|報備狀態|status)$/i;
const APPROVED_HEADERS =
  /^(审批日期|審批日期|审核日期|審核日期|通过日期|通過日期|批准日期|审批时间|審批時間|approved( on| at)?|approval date)$/i;
/** A history migration's 报备编号 column: rows repeating a number are later corrections of it (issue 15). */
const NUMBER_HEADERS =
  /^(报备编号|報備編號|报备号|報備號|登记编号|登記編號|编号|編號|registration ?no\.?|registration number)$/i;
export const HISTORY_STATUS: Record<string, SubmissionRow['status']> = {
  保护中: 'protected',
  保護中: 'protected',
  有效: 'protected',
  已通过: 'protected',
  已通過: 'protected',
  通过: 'protected',
  已签约: 'signed',
  已簽約: 'signed',
  签约: 'signed',
  已过期: 'expired',
  已過期: 'expired',
  过期: 'expired',
  失效: 'expired',
  驳回: 'rejected',
  駁回: 'rejected',
  已驳回: 'rejected',
  未通过: 'rejected',
  已终止: 'terminated',
  已終止: 'terminated',
  终止: 'terminated',
  待审核: 'pending',
  待審核: 'pending',
  审核中: 'pending',
};

export interface HistoryColumns {
  status?: number;
  approvedAt?: number;
  registrationNo?: number;
}

/** 1-based columns of 状态, 审批日期 and 报备编号; none outside history mode. */
export function historyColumns(detection: HeaderDetection, mode: 'submit' | 'history'): HistoryColumns {
  if (mode !== 'history') return {};
  const out: HistoryColumns = {};
  for (const c of detection.columns) {
    if (c.field !== null) continue;
    const text = c.header.replace(/\s+/g, '');
    if (STATUS_HEADERS.test(text)) out.status ??= c.column;
    else if (APPROVED_HEADERS.test(text)) out.approvedAt ??= c.column;
    else if (NUMBER_HEADERS.test(text)) out.registrationNo ??= c.column;
  }
  return out;
}
