/**
 * The 延期与异议 sheet from the task pane (issue 9, reviewers): build it from
 * `GET /api/review-queue/actions`, then file the decisions typed into 决定 / 审核意见 — an extension
 * through `/extension/review`, an objection through `/review` on the objector's number (支持 =
 * approve = uphold, 驳回 = reject = dismiss).
 *
 * Idempotent by state: just before filing, the list is fetched again and only items still waiting
 * are decided, so pressing again after a lost answer (or after a colleague decided) files nothing
 * twice; such rows say so. Rows are found by 报备编号 + 类型, never by position. Plans in
 * core/lifecycleReviewPlan.ts; Excel only through the gateway.
 */
import {
  KIND_EXTENSION,
  LIFECYCLE_SHEET_NAME,
  planLifecycleSheet,
  readLifecycleDecisions,
  type LifecycleCarry,
} from '../core/lifecycleReviewPlan.js';
import { DomainError, problem } from '../core/problem.js';
import { STATUS_LABELS } from '../core/schema.js';
import { ApiError, type ApiClient } from './apiClient.js';
import type { ExcelGateway } from './excelGateway.js';

export interface LifecycleReviewDeps {
  excel: ExcelGateway;
  api: ApiClient;
}

const DONE_WORDS = {
  approve: '已批准延期',
  reject: '已驳回延期',
  uphold: '已支持异议',
  dismiss: '已驳回异议',
};

export function createLifecycleReview(deps: LifecycleReviewDeps) {
  const { excel, api } = deps;
  return {
    async build(): Promise<{ extensions: number; objections: number }> {
      const actions = await api.reviewActions();
      await excel.writeSheet(planLifecycleSheet(actions).write);
      return { extensions: actions.extensions.length, objections: actions.objections.length };
    },

    async apply(): Promise<{
      decided: number;
      errors: { row: number; registrationNo: string; message: string }[];
    }> {
      const snapshot = await excel.readSheetIfExists(LIFECYCLE_SHEET_NAME);
      if (snapshot === null) {
        throw new DomainError(
          problem(
            'review.sheet_missing',
            `还没有「${LIFECYCLE_SHEET_NAME}」表，请先生成`,
            `There is no ${LIFECYCLE_SHEET_NAME} sheet yet; build it first`,
          ),
        );
      }
      const { decisions, errors } = readLifecycleDecisions(snapshot.grid);
      const key = (kind: string, no: string) => `${kind}:${no}`;
      const carry = new Map<string, LifecycleCarry>(
        errors.map((e) => [key(e.kind, e.registrationNo), e.carry]),
      );
      const failures = errors.map(({ row, registrationNo, message }) => ({ row, registrationNo, message }));
      const waiting = await api.reviewActions();
      const open = new Set([
        ...waiting.extensions.map((e) => key(KIND_EXTENSION, e.registrationNo)),
        ...waiting.objections.map((o) => key('异议', o.registrationNo)),
      ]);
      const done: { registrationNo: string; kind: string; outcome: string }[] = [];
      for (const d of decisions) {
        if (!open.has(key(d.kind, d.registrationNo))) {
          const message = `第 ${d.row} 行（${d.registrationNo}）已不在等待决定（已由他人或上次操作决定），未重复提交`;
          failures.push({ row: d.row, registrationNo: d.registrationNo, message });
          continue;
        }
        try {
          const record =
            d.kind === KIND_EXTENSION
              ? await api.reviewExtension(d.registrationNo, {
                  decision: d.decision === 'approve' ? 'approve' : 'reject',
                  reason: d.reason,
                })
              : await api.review(d.registrationNo, {
                  decision: d.decision === 'uphold' ? 'approve' : 'reject',
                  reason: d.reason,
                });
          const until = record.protectedUntil !== undefined ? `，保护至 ${record.protectedUntil}` : '';
          done.push({
            registrationNo: d.registrationNo,
            kind: d.kind,
            outcome: `${DONE_WORDS[d.decision]}（${STATUS_LABELS[record.status].zh}${until}）`,
          });
        } catch (error) {
          if (!(error instanceof ApiError) || error.status === 0 || error.status === 401) throw error;
          const message = `${error.code}：${error.message}`;
          failures.push({ row: d.row, registrationNo: d.registrationNo, message });
          carry.set(key(d.kind, d.registrationNo), { ...d.carry, outcome: message });
        }
      }
      await excel.writeSheet(planLifecycleSheet(await api.reviewActions(), carry, done).write);
      return { decided: done.length, errors: failures.sort((a, b) => a.row - b.row) };
    },
  };
}

export type LifecycleReview = ReturnType<typeof createLifecycleReview>;
