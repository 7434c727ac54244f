/**
 * The 延期与异议 sheet (issue 9, for reviewers): extension requests (R28) and objections (R12)
 * waiting for a decision, with what the decision needs — the protection's dates and the reason;
 * the objection's reason, the objector's and the winner's claim times (the ranking, R17) and the
 * winner by number and registrant only (R3) — and a 决定 drop-down with a 审核意见 column.
 *
 * Rows are identified by 报备编号 and 类型 when read back, never by position, so sorting or
 * filtering the sheet between build and apply changes nothing. Plain data; no Excel here.
 */
import { z } from 'zod';
import { DomainError, problem } from './problem.js';
import { cellAddress, rangeAddress, type SheetCell, type SheetGrid } from './sheetGrid.js';
import { type SheetOp, type SheetWrite } from './sheetWrite.js';

export const LIFECYCLE_SHEET_NAME = '延期与异议';

export const reviewActionsSchema = z.object({
  extensions: z.array(
    z.object({
      registrationNo: z.string(),
      customer: z.string(),
      registrant: z.string(),
      team: z.string().optional(),
      protectedFrom: z.string().optional(),
      protectedUntil: z.string().optional(),
      requestedAt: z.string(),
      reason: z.string(),
    }),
  ),
  objections: z.array(
    z.object({
      registrationNo: z.string(),
      customer: z.string(),
      registrant: z.string(),
      team: z.string().optional(),
      claimedAt: z.string(),
      objectedAt: z.string(),
      reason: z.string(),
      objectionDeadline: z.string().optional(),
      against: z
        .object({
          registrationNo: z.string(),
          registrant: z.string().optional(),
          claimedAt: z.string().optional(),
          percent: z.number().optional(),
          sharedWith: z
            .object({ registrationNo: z.string(), registrant: z.string(), percent: z.number() })
            .optional(),
        })
        .nullable(),
    }),
  ),
});
export type ReviewActionsData = z.infer<typeof reviewActionsSchema>;

export const KIND_EXTENSION = '延期申请';
export const KIND_OBJECTION = '异议';
/** Decision words per kind: an extension is approved or rejected, an objection upheld or dismissed. */
const WORDS = {
  [KIND_EXTENSION]: { 批准: 'approve', 驳回: 'reject' },
  [KIND_OBJECTION]: { 支持: 'uphold', 驳回: 'dismiss' },
} as const;

const HEADER = [
  '报备编号',
  '类型',
  '客户名称',
  '报备人',
  '保护起',
  '保护止',
  '本方报备时间',
  '申请/异议时间',
  '理由',
  '对方报备编号',
  '对方报备人',
  '对方报备时间',
  /** R16: the partner of a shared decision, which upholding the objection ends too. */
  '对方共享',
  '决定',
  '审核意见',
  '处理结果',
] as const;
const COL = (name: (typeof HEADER)[number]) => HEADER.indexOf(name) + 1;

export interface LifecycleCarry {
  decision: string;
  reason: string;
  outcome: string;
}

/** Shanghai wall-clock minute of an instant, as the other sheets show times. */
function minute(instant: string | undefined): string {
  if (instant === undefined) return '';
  const d = new Date(new Date(instant).getTime() + 8 * 3600_000);
  return d.toISOString().slice(0, 16).replace('T', ' ');
}

/** The winner's share and its partner's (R16), as the 对方共享 cell reads them; empty when not shared. */
function sharedText(against: ReviewActionsData['objections'][number]['against']): string {
  const partner = against?.sharedWith;
  if (partner === undefined) return '';
  const own = against?.percent !== undefined ? `${against.percent}%，` : '';
  return `${own}与 ${partner.registrationNo} ${partner.registrant}（${partner.percent}%）共享`;
}

export function planLifecycleSheet(
  actions: ReviewActionsData,
  carry: ReadonlyMap<string, LifecycleCarry> = new Map(),
  done: readonly { registrationNo: string; kind: string; outcome: string }[] = [],
): { write: SheetWrite; rows: number } {
  const key = (kind: string, no: string) => `${kind}:${no}`;
  const body: SheetCell[][] = [];
  for (const d of done) {
    const row: SheetCell[] = HEADER.map(() => '');
    row[COL('报备编号') - 1] = d.registrationNo;
    row[COL('类型') - 1] = d.kind;
    row[COL('处理结果') - 1] = d.outcome;
    body.push(row);
  }
  for (const e of actions.extensions) {
    const kept = carry.get(key(KIND_EXTENSION, e.registrationNo));
    body.push([
      e.registrationNo,
      KIND_EXTENSION,
      e.customer,
      e.registrant,
      e.protectedFrom ?? '',
      e.protectedUntil ?? '',
      '',
      minute(e.requestedAt),
      e.reason,
      '',
      '',
      '',
      '',
      kept?.decision ?? '',
      kept?.reason ?? '',
      kept?.outcome ?? '',
    ]);
  }
  for (const o of actions.objections) {
    const kept = carry.get(key(KIND_OBJECTION, o.registrationNo));
    body.push([
      o.registrationNo,
      KIND_OBJECTION,
      o.customer,
      o.registrant,
      '',
      '',
      minute(o.claimedAt),
      minute(o.objectedAt),
      o.reason,
      o.against?.registrationNo ?? '',
      o.against?.registrant ?? '',
      minute(o.against?.claimedAt),
      sharedText(o.against),
      kept?.decision ?? '',
      kept?.reason ?? '',
      kept?.outcome ?? '',
    ]);
  }
  const last = body.length + 1;
  const right = HEADER.length;
  const ops: SheetOp[] = [
    // Everything is text: numbers, days and times must read back as typed.
    { kind: 'numberFormat', address: rangeAddress(1, 1, Math.max(last, 2), right), format: '@' },
    { kind: 'values', address: rangeAddress(1, 1, last, right), values: [[...HEADER], ...body] },
    { kind: 'headerStyle', address: rangeAddress(1, 1, 1, right) },
    { kind: 'columnWidth', address: cellAddress(1, COL('理由')), width: 220 },
    { kind: 'columnWidth', address: cellAddress(1, COL('处理结果')), width: 240 },
    { kind: 'freezeRows', count: 1 },
  ];
  if (done.length > 0) {
    ops.push({ kind: 'fill', color: '#C6EFCE', addresses: rangeAddress(2, 1, done.length + 1, right) });
  }
  const firstExt = done.length + 2;
  const firstObj = firstExt + actions.extensions.length;
  const decision = COL('决定');
  if (actions.extensions.length > 0) {
    ops.push({
      kind: 'validation',
      address: rangeAddress(firstExt, decision, firstObj - 1, decision),
      rule: { list: { inCellDropDown: true, source: Object.keys(WORDS[KIND_EXTENSION]).join(',') } },
      alert: { showAlert: true, style: 'Stop', title: '决定', message: '延期申请请选择 批准 或 驳回' },
    });
  }
  if (actions.objections.length > 0) {
    ops.push({
      kind: 'validation',
      address: rangeAddress(firstObj, decision, last, decision),
      rule: { list: { inCellDropDown: true, source: Object.keys(WORDS[KIND_OBJECTION]).join(',') } },
      alert: { showAlert: true, style: 'Stop', title: '决定', message: '异议请选择 支持 或 驳回' },
    });
  }
  return {
    write: { sheetName: LIFECYCLE_SHEET_NAME, sheet: 'replace', ops, activate: true },
    rows: actions.extensions.length + actions.objections.length,
  };
}

export interface LifecycleDecision {
  row: number;
  registrationNo: string;
  kind: typeof KIND_EXTENSION | typeof KIND_OBJECTION;
  decision: 'approve' | 'reject' | 'uphold' | 'dismiss';
  reason: string;
  carry: LifecycleCarry;
}

function text(cell: SheetCell | undefined): string {
  return cell === null || cell === undefined ? '' : String(cell).trim();
}

/** The decisions typed into the sheet, found by header text and identified by 报备编号 + 类型. */
export function readLifecycleDecisions(grid: SheetGrid): {
  decisions: LifecycleDecision[];
  errors: { row: number; registrationNo: string; kind: string; message: string; carry: LifecycleCarry }[];
} {
  const header = (grid[0] ?? []).map((c) => text(c));
  const at = (name: (typeof HEADER)[number]) => header.indexOf(name);
  if (at('报备编号') < 0 || at('类型') < 0 || at('决定') < 0) {
    throw new DomainError(
      problem(
        'review.sheet_invalid',
        `「${LIFECYCLE_SHEET_NAME}」表缺少「报备编号」「类型」或「决定」列，请重新生成`,
        `The ${LIFECYCLE_SHEET_NAME} sheet lacks the number, kind or decision column; build it again`,
      ),
    );
  }
  const decisions: LifecycleDecision[] = [];
  const errors: {
    row: number;
    registrationNo: string;
    kind: string;
    message: string;
    carry: LifecycleCarry;
  }[] = [];
  for (let i = 1; i < grid.length; i++) {
    const cells = grid[i]!;
    const word = text(cells[at('决定')]);
    if (word === '') continue;
    const row = i + 1;
    const registrationNo = text(cells[at('报备编号')]);
    const kind = text(cells[at('类型')]);
    const reason = at('审核意见') >= 0 ? text(cells[at('审核意见')]) : '';
    const carry = { decision: word, reason, outcome: '' };
    const fail = (message: string) =>
      errors.push({ row, registrationNo, kind, message, carry: { ...carry, outcome: message } });
    if (kind !== KIND_EXTENSION && kind !== KIND_OBJECTION) {
      fail(`第 ${row} 行的类型「${kind}」无法识别，请重新生成`);
      continue;
    }
    const words: Record<string, LifecycleDecision['decision']> = WORDS[kind];
    const decision = words[word];
    if (decision === undefined)
      fail(`第 ${row} 行的决定「${word}」无法识别：应为 ${Object.keys(words).join(' 或 ')}`);
    else if (reason === '') fail(`第 ${row} 行请填写审核意见`);
    else decisions.push({ row, registrationNo, kind, decision, reason, carry });
  }
  return { decisions, errors };
}
