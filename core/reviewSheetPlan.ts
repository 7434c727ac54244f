/**
 * The 待审核 review sheet the add-in builds from GET /api/review-queue: one row per competing
 * registration, grouped by customer and ranked (R15/R17), with 决定 / 处理意见 / 共享对象 for the
 * reviewer to fill in; and the decisions read back from it, each checked before it is sent.
 */
import { FILLS } from './annotation.js';
import { dayOf } from './day.js';
import { DomainError, problem } from './problem.js';
import { FIELD_SPECS, REGISTRATION_NO, RESULT_COLUMNS, STATUS_LABELS, type RecordStatus } from './schema.js';
import { cellAt, range1, rangeAddress, textOf, type SheetCell, type SheetGrid } from './sheetGrid.js';
import {
  columnSetupOps,
  fillOps,
  MONEY_FORMAT,
  rowValueOps,
  runsOf,
  TEXT_FORMAT,
  type SheetOp,
  type SheetWrite,
} from './sheetWrite.js';

export const REVIEW_SHEET_NAME = '待审核';

/** A competing registration as GET /api/review-queue lists it. */
export interface ReviewCompetitor {
  registrationNo: string;
  registrant: string;
  team?: string | undefined;
  status: RecordStatus;
  claimedAt: string;
  rank: number;
  share?: number | undefined;
  needsReview: boolean;
  reasons: { message: string }[];
  expectedAmount?: number | undefined;
  expectedUnitPrice?: number | undefined;
  expectedSignDate?: string | undefined;
  followUps: number;
}

export interface ReviewGroup {
  customer: string;
  competitors: ReviewCompetitor[];
}

export type ReviewDecisionKind = 'approve' | 'reject' | 'share';

/** What a reviewer typed on a row, kept when a rebuild follows a failed decision. */
export interface ReviewCarryOver {
  decision: string;
  reason: string;
  shareWith: string;
  /** Why the decision was not taken. */
  outcome: string;
}

type ReviewColumn =
  | 'group'
  | 'customer'
  | 'rank'
  | 'registrationNo'
  | 'registrant'
  | 'team'
  | 'status'
  | 'claimedAt'
  | 'expectedAmount'
  | 'expectedUnitPrice'
  | 'expectedSignDate'
  | 'followUps'
  | 'share'
  | 'reasons'
  | 'decision'
  | 'reason'
  | 'shareWith'
  | 'outcome';

const REVIEW_COLUMNS: readonly { key: ReviewColumn; zh: string; width: number; format: string }[] = [
  { key: 'group', zh: '组', width: 30, format: 'General' },
  { key: 'customer', zh: '客户名称', width: 180, format: TEXT_FORMAT },
  { key: 'rank', zh: '排名', width: 35, format: 'General' },
  { key: 'registrationNo', zh: RESULT_COLUMNS.registrationNo.zh, width: 110, format: TEXT_FORMAT },
  { key: 'registrant', zh: FIELD_SPECS.registrant.zh, width: 60, format: TEXT_FORMAT },
  { key: 'team', zh: FIELD_SPECS.team.zh, width: 70, format: TEXT_FORMAT },
  { key: 'status', zh: RESULT_COLUMNS.status.zh, width: 60, format: TEXT_FORMAT },
  { key: 'claimedAt', zh: FIELD_SPECS.registeredAt.zh, width: 110, format: TEXT_FORMAT },
  { key: 'expectedAmount', zh: FIELD_SPECS.expectedAmount.zh, width: 90, format: MONEY_FORMAT },
  { key: 'expectedUnitPrice', zh: FIELD_SPECS.expectedUnitPrice.zh, width: 90, format: MONEY_FORMAT },
  { key: 'expectedSignDate', zh: FIELD_SPECS.expectedSignDate.zh, width: 85, format: TEXT_FORMAT },
  { key: 'followUps', zh: '跟进次数', width: 50, format: 'General' },
  { key: 'share', zh: '份额(%)', width: 50, format: 'General' },
  { key: 'reasons', zh: '排序依据', width: 300, format: TEXT_FORMAT },
  { key: 'decision', zh: '决定', width: 50, format: TEXT_FORMAT },
  { key: 'reason', zh: '处理意见', width: 200, format: TEXT_FORMAT },
  { key: 'shareWith', zh: '共享对象', width: 110, format: TEXT_FORMAT },
  { key: 'outcome', zh: '处理结果', width: 200, format: TEXT_FORMAT },
];

const DECISION_WORDS: Record<string, ReviewDecisionKind> = {
  通过: 'approve',
  同意: 'approve',
  批准: 'approve',
  approve: 'approve',
  驳回: 'reject',
  拒绝: 'reject',
  reject: 'reject',
  共享: 'share',
  share: 'share',
};
const DECISION_LABELS: Record<ReviewDecisionKind, string> = {
  approve: '通过',
  reject: '驳回',
  share: '共享',
};

/** An instant as Shanghai wall-clock `YYYY-MM-DD HH:mm`. */
function shanghaiMinute(instant: string): string {
  const ms = Date.parse(instant);
  if (Number.isNaN(ms)) return instant;
  return `${dayOf(instant)} ${new Date(ms + 8 * 3600_000).toISOString().slice(11, 16)}`;
}

/**
 * The 待审核 sheet: one row per competing registration, grouped by customer and ranked (R15/R17),
 * with a 决定 column (通过 / 驳回 / 共享, a drop-down), 处理意见 and 共享对象 to fill in.
 */
export function planReviewSheet(
  groups: readonly ReviewGroup[],
  carry: ReadonlyMap<string, ReviewCarryOver> = new Map(),
): { write: SheetWrite; rows: number } {
  const header = REVIEW_COLUMNS.map((c) => c.zh);
  const body: SheetCell[][] = [];
  const groupRows: number[][] = [[], []];
  groups.forEach((group, g) => {
    for (const c of group.competitors) {
      const kept = carry.get(c.registrationNo);
      const cells: Record<ReviewColumn, SheetCell> = {
        group: g + 1,
        customer: group.customer,
        rank: c.rank,
        registrationNo: c.registrationNo,
        registrant: c.registrant,
        team: c.team ?? '',
        status: STATUS_LABELS[c.status].zh,
        claimedAt: shanghaiMinute(c.claimedAt),
        expectedAmount: c.expectedAmount ?? '',
        expectedUnitPrice: c.expectedUnitPrice ?? '',
        expectedSignDate: c.expectedSignDate ?? '',
        followUps: c.followUps,
        share: c.share ?? '',
        reasons: c.reasons.map((r) => r.message).join('；'),
        decision: kept?.decision ?? '',
        reason: kept?.reason ?? '',
        shareWith: kept?.shareWith ?? '',
        outcome: kept?.outcome ?? '',
      };
      body.push(REVIEW_COLUMNS.map((col) => cells[col.key]));
      groupRows[g % 2]!.push(body.length + 1);
    }
  });
  const last = body.length + 1;
  const right = REVIEW_COLUMNS.length;
  const ops: SheetOp[] = columnSetupOps(REVIEW_COLUMNS, last);
  ops.push(...rowValueOps(range1(1, last), 1, right, (row) => (row === 1 ? header : body[row - 2]!)));
  ops.push({ kind: 'headerStyle', address: rangeAddress(1, 1, 1, right) });
  // Every other customer shaded, so a group reads as one block.
  ops.push(
    ...fillOps(
      '#F2F2F2',
      runsOf(groupRows[1]!).map(([a, b]) => rangeAddress(a, 1, b, right)),
    ),
  );
  const failed = body.flatMap((cells, i) => (cells[right - 1] !== '' ? [i + 2] : []));
  ops.push(
    ...fillOps(
      `#${FILLS.red.fill}`,
      runsOf(failed).map(([a, b]) => rangeAddress(a, 1, b, right)),
    ),
  );
  const decisionColumn = REVIEW_COLUMNS.findIndex((c) => c.key === 'decision') + 1;
  ops.push({
    kind: 'validation',
    address: rangeAddress(2, decisionColumn, Math.max(last, 2), decisionColumn),
    rule: { list: { inCellDropDown: true, source: Object.values(DECISION_LABELS).join(',') } },
    alert: { showAlert: true, style: 'Stop', title: '决定', message: '请选择 通过、驳回 或 共享' },
  });
  ops.push({ kind: 'freezeRows', count: 1 });
  return {
    write: { sheetName: REVIEW_SHEET_NAME, sheet: 'replace', ops, activate: true },
    rows: body.length,
  };
}

export interface ReviewDecision {
  row: number;
  registrationNo: string;
  body: { decision: ReviewDecisionKind; reason: string; shareWith?: string };
  carry: ReviewCarryOver;
}

/** The decisions typed into a 待审核 sheet (columns found by their header text), and what is wrong with them. */
export function readReviewDecisions(grid: SheetGrid): {
  decisions: ReviewDecision[];
  errors: { row: number; registrationNo: string; message: string; carry: ReviewCarryOver }[];
} {
  const header = (grid[0] ?? []).map((cell) => textOf(cell));
  const columnOf = (key: ReviewColumn): number =>
    header.indexOf(REVIEW_COLUMNS.find((c) => c.key === key)!.zh) + 1;
  const noColumn = columnOf('registrationNo');
  const decisionColumn = columnOf('decision');
  if (noColumn === 0 || decisionColumn === 0) {
    throw new DomainError(
      problem(
        'review.sheet_invalid',
        `「${REVIEW_SHEET_NAME}」表缺少「报备编号」或「决定」列，请重新生成待审核表`,
        `The ${REVIEW_SHEET_NAME} sheet lacks the registration-number or decision column; build it again`,
      ),
    );
  }
  const reasonColumn = columnOf('reason');
  const shareColumn = columnOf('shareWith');
  const decisions: ReviewDecision[] = [];
  const errors: { row: number; registrationNo: string; message: string; carry: ReviewCarryOver }[] = [];
  for (let row = 2; row <= grid.length; row++) {
    const word = textOf(cellAt(grid, row, decisionColumn));
    if (word === '') continue;
    const registrationNo = textOf(cellAt(grid, row, noColumn));
    const reason = reasonColumn > 0 ? textOf(cellAt(grid, row, reasonColumn)) : '';
    const shareWith = shareColumn > 0 ? textOf(cellAt(grid, row, shareColumn)) : '';
    const carry = { decision: word, reason, shareWith, outcome: '' };
    const fail = (message: string) =>
      errors.push({ row, registrationNo, message, carry: { ...carry, outcome: message } });
    const decision = DECISION_WORDS[word.toLowerCase()];
    if (!REGISTRATION_NO.test(registrationNo)) fail(`第 ${row} 行没有有效的报备编号`);
    else if (decision === undefined) fail(`第 ${row} 行的决定「${word}」无法识别：应为 通过、驳回 或 共享`);
    else if (reason === '') fail(`第 ${row} 行请填写处理意见`);
    else if (decision === 'share' && !REGISTRATION_NO.test(shareWith)) {
      fail(`第 ${row} 行选择共享时，请在「共享对象」填写另一方的报备编号`);
    } else {
      decisions.push({
        row,
        registrationNo,
        body: { decision, reason, ...(decision === 'share' ? { shareWith } : {}) },
        carry,
      });
    }
  }
  return { decisions, errors };
}
