/**
 * The 公海 sheet from the task pane (issue 13): build the list of pooled customers and file the
 * claims marked 认领. A claim is a registration through the normal pipeline, sent with an
 * Idempotency-Key derived from the pooled entry, so pressing again after a lost answer replays the
 * first answer instead of registering twice. Plans in core/poolSheetPlan.ts; Excel only through
 * the gateway.
 */
import {
  POOL_SHEET_NAME,
  planPoolSheet,
  readPoolClaims,
  type PoolCarryOver,
  type PoolClaim,
} from '../core/poolSheetPlan.js';
import { DomainError, problem } from '../core/problem.js';
import { STATUS_LABELS } from '../core/schema.js';
import { ApiError, type ApiClient } from './apiClient.js';
import type { ExcelGateway } from './excelGateway.js';

export interface PoolSheetDeps {
  excel: ExcelGateway;
  api: ApiClient;
}

/**
 * The claim's Idempotency-Key: the pooled entry, what the row sends and the answer it shows. Pressed
 * again after a lost answer (the row as it was) the key is the same and the first answer is replayed,
 * so nothing registers twice. A row corrected after a refusal, or pressed again once the refusal is
 * written to it (its cause may be gone: a raised cap, a cooldown over), is a new request: under the
 * old key the service would refuse the new body (idempotency.mismatch) or replay the refusal.
 */
async function claimKey(claim: PoolClaim, pooledSince: string): Promise<string> {
  const content = new TextEncoder().encode(JSON.stringify([claim.submission, claim.shown]));
  const digest = new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', content));
  const hex = Array.from(digest.subarray(0, 16), (b) => b.toString(16).padStart(2, '0')).join('');
  return `pool-claim:${claim.poolNo}:${pooledSince}:${hex}`;
}

export function createPoolSheet(deps: PoolSheetDeps) {
  const { excel, api } = deps;

  return {
    async build(): Promise<{ rows: number }> {
      const plan = planPoolSheet(await api.pool());
      await excel.writeSheet(plan.write);
      return { rows: plan.rows };
    },

    /** Files every claim, then rebuilds the sheet: claims that went through on top, refused ones kept with why. */
    async applyClaims(): Promise<{
      claimed: number;
      errors: { row: number; poolNo: string; message: string }[];
    }> {
      const snapshot = await excel.readSheetIfExists(POOL_SHEET_NAME);
      if (snapshot === null) {
        throw new DomainError(
          problem(
            'pool.sheet_missing',
            `还没有「${POOL_SHEET_NAME}」表，请先生成`,
            `There is no ${POOL_SHEET_NAME} sheet yet; build it first`,
          ),
        );
      }
      const pool = new Map((await api.pool()).map((item) => [item.poolNo, item]));
      const { claims, errors } = readPoolClaims(snapshot.grid, pool);
      const carry = new Map<string, PoolCarryOver>(errors.map((e) => [e.poolNo, e.carry]));
      const failures = errors.map(({ row, poolNo, message }) => ({ row, poolNo, message }));
      const claimed: { poolNo: string; customerName: string; outcome: string }[] = [];
      for (const c of claims) {
        const item = pool.get(c.poolNo)!;
        try {
          const [result] = await api.submit([c.submission], await claimKey(c, item.pooledSince));
          const refusal = result?.errors[0];
          if (result === undefined || result.registrationNo === undefined || refusal !== undefined) {
            const message = refusal ? `${refusal.code}：${refusal.message}` : '未能认领';
            failures.push({ row: c.row, poolNo: c.poolNo, message });
            carry.set(c.poolNo, { ...c.carry, outcome: message });
            continue;
          }
          claimed.push({
            poolNo: c.poolNo,
            customerName: item.customerName,
            outcome: `已认领：${result.registrationNo}（${STATUS_LABELS[result.status].zh}）`,
          });
        } catch (error) {
          if (!(error instanceof ApiError) || error.status === 0 || error.status === 401) throw error;
          const message = `${error.code}：${error.message}`;
          failures.push({ row: c.row, poolNo: c.poolNo, message });
          carry.set(c.poolNo, { ...c.carry, outcome: message });
        }
      }
      const plan = planPoolSheet(await api.pool(), carry, claimed);
      await excel.writeSheet(plan.write);
      return { claimed: claimed.length, errors: failures.sort((a, b) => a.row - b.row) };
    },
  };
}

export type PoolSheet = ReturnType<typeof createPoolSheet>;
