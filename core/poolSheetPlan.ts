/**
 * The 公海 sheet (issue 13, R44): the customers in the public pool, with only what R3 lets anyone
 * see (name, type, region, grade, last service day, since when), and a 认领 column to claim one.
 * Claiming is registering (the normal pipeline, first come first served), so a claim row carries
 * what the claimant knows of the customer — contact, phone, credit code, need — typed beside it.
 * Rows are found by their 公海编号, never by position.
 */
import { CUSTOMER_TYPE_LABELS, type SubmissionRow } from './schema.js';
import { DomainError, problem } from './problem.js';
import { rangeAddress, type SheetCell, type SheetGrid } from './sheetGrid.js';
import { columnSetupOps, type SheetOp, type SheetWrite } from './sheetWrite.js';

export const POOL_SHEET_NAME = '公海';
export const CLAIM_WORD = '认领';

/** A pooled customer as GET /api/pool lists it. */
export interface PoolItem {
  poolNo: string;
  customerName: string;
  customerType: keyof typeof CUSTOMER_TYPE_LABELS;
  region?: string | undefined;
  grade?: string | undefined;
  lastServiceDay: string;
  pooledSince: string;
}

type PoolColumn =
  | 'poolNo'
  | 'customer'
  | 'type'
  | 'region'
  | 'grade'
  | 'lastService'
  | 'pooledSince'
  | 'claim'
  | 'contactName'
  | 'contactPhone'
  | 'creditCode'
  | 'need'
  | 'outcome';

const COLUMNS: readonly { key: PoolColumn; zh: string; width: number }[] = [
  { key: 'poolNo', zh: '公海编号', width: 110 },
  { key: 'customer', zh: '客户名称', width: 180 },
  { key: 'type', zh: '客户类型', width: 60 },
  { key: 'region', zh: '所在地区', width: 70 },
  { key: 'grade', zh: '客户等级', width: 55 },
  { key: 'lastService', zh: '最后服务日', width: 80 },
  { key: 'pooledSince', zh: '进入公海日', width: 80 },
  { key: 'claim', zh: CLAIM_WORD, width: 50 },
  { key: 'contactName', zh: '联系人', width: 70 },
  { key: 'contactPhone', zh: '联系电话', width: 100 },
  { key: 'creditCode', zh: '统一社会信用代码', width: 150 },
  { key: 'need', zh: '需求说明', width: 180 },
  { key: 'outcome', zh: '处理结果', width: 240 },
];

/** What was typed on a row before a rebuild, and why a claim did not go through. */
export interface PoolCarryOver {
  claim: string;
  contactName: string;
  contactPhone: string;
  creditCode: string;
  need: string;
  outcome: string;
}

/** The sheet, replaced whole: pooled customers, longest in the pool first; 认领 a drop-down. */
export function planPoolSheet(
  items: readonly PoolItem[],
  carry: ReadonlyMap<string, PoolCarryOver> = new Map(),
  /** Claims that went through (pool number → outcome), shown above the pool as done. */
  claimed: readonly { poolNo: string; customerName: string; outcome: string }[] = [],
): { write: SheetWrite; rows: number } {
  const sorted = [...items].sort((a, b) =>
    a.pooledSince !== b.pooledSince ? (a.pooledSince < b.pooledSince ? -1 : 1) : a.poolNo < b.poolNo ? -1 : 1,
  );
  const right = COLUMNS.length;
  const body: SheetCell[][] = [
    ...claimed.map((c) => {
      const cells: Partial<Record<PoolColumn, SheetCell>> = {
        poolNo: c.poolNo,
        customer: c.customerName,
        outcome: c.outcome,
      };
      return COLUMNS.map((col) => cells[col.key] ?? '');
    }),
    ...sorted.map((item) => {
      const kept = carry.get(item.poolNo);
      const cells: Record<PoolColumn, SheetCell> = {
        poolNo: item.poolNo,
        customer: item.customerName,
        type: CUSTOMER_TYPE_LABELS[item.customerType].zh,
        region: item.region ?? '',
        grade: item.grade ?? '',
        lastService: item.lastServiceDay,
        pooledSince: item.pooledSince,
        claim: kept?.claim ?? '',
        contactName: kept?.contactName ?? '',
        contactPhone: kept?.contactPhone ?? '',
        creditCode: kept?.creditCode ?? '',
        need: kept?.need ?? '',
        outcome: kept?.outcome ?? '',
      };
      return COLUMNS.map((col) => cells[col.key]);
    }),
  ];
  const last = body.length + 1;
  const ops: SheetOp[] = columnSetupOps(COLUMNS, last);
  ops.push({
    kind: 'values',
    address: rangeAddress(1, 1, last, right),
    values: [COLUMNS.map((c) => c.zh), ...body],
  });
  ops.push({ kind: 'headerStyle', address: rangeAddress(1, 1, 1, right) });
  if (claimed.length > 0) {
    ops.push({ kind: 'fill', color: '#C6EFCE', addresses: rangeAddress(2, 1, claimed.length + 1, right) });
  }
  const claimColumn = COLUMNS.findIndex((c) => c.key === 'claim') + 1;
  if (sorted.length > 0) {
    ops.push({
      kind: 'validation',
      address: rangeAddress(claimed.length + 2, claimColumn, last, claimColumn),
      rule: { list: { inCellDropDown: true, source: CLAIM_WORD } },
      alert: { showAlert: true, style: 'Stop', title: CLAIM_WORD, message: `要认领请选择「${CLAIM_WORD}」` },
    });
  }
  ops.push({ kind: 'freezeRows', count: 1 });
  return {
    write: { sheetName: POOL_SHEET_NAME, sheet: 'replace', ops, activate: true },
    rows: sorted.length,
  };
}

export interface PoolClaim {
  row: number;
  poolNo: string;
  /** The registration the claim files: the pooled customer plus what the claimant typed. */
  submission: SubmissionRow;
  carry: PoolCarryOver;
  /** 处理结果 as the sheet shows it: the last answer written to the row ('' when none). */
  shown: string;
}

function text(cell: SheetCell | undefined): string {
  return cell === null || cell === undefined ? '' : String(cell).trim();
}

/** The rows marked 认领, as registrations to file; the pool's own columns come from the listing, not the sheet. */
export function readPoolClaims(
  grid: SheetGrid,
  pool: ReadonlyMap<string, PoolItem>,
): { claims: PoolClaim[]; errors: { row: number; poolNo: string; message: string; carry: PoolCarryOver }[] } {
  const header = (grid[0] ?? []).map((c) => text(c));
  const col = (key: PoolColumn) => header.indexOf(COLUMNS.find((c) => c.key === key)!.zh);
  if (col('poolNo') < 0 || col('claim') < 0) {
    throw new DomainError(
      problem(
        'pool.sheet_invalid',
        `「${POOL_SHEET_NAME}」表缺少「公海编号」或「认领」列，请重新生成`,
        `The ${POOL_SHEET_NAME} sheet lacks the pool-number or claim column; build it again`,
      ),
    );
  }
  const claims: PoolClaim[] = [];
  const errors: { row: number; poolNo: string; message: string; carry: PoolCarryOver }[] = [];
  for (let i = 1; i < grid.length; i++) {
    const cells = grid[i]!;
    const claim = text(cells[col('claim')]);
    if (claim === '') continue;
    const row = i + 1;
    const poolNo = text(cells[col('poolNo')]);
    const carry: PoolCarryOver = {
      claim,
      contactName: text(cells[col('contactName')]),
      contactPhone: text(cells[col('contactPhone')]),
      creditCode: text(cells[col('creditCode')]),
      need: text(cells[col('need')]),
      outcome: '',
    };
    const item = pool.get(poolNo);
    if (claim !== CLAIM_WORD) {
      errors.push({ row, poolNo, message: `第 ${row} 行：认领列请选择「${CLAIM_WORD}」`, carry });
      continue;
    }
    if (item === undefined) {
      errors.push({
        row,
        poolNo,
        message: `第 ${row} 行：${poolNo} 已不在公海中（可能已被认领），请重新生成公海表`,
        carry: { ...carry, claim: '' },
      });
      continue;
    }
    const submission: SubmissionRow = {
      customerName: item.customerName,
      customerType: CUSTOMER_TYPE_LABELS[item.customerType].zh,
      ...(item.region !== undefined ? { region: item.region } : {}),
      ...(item.grade !== undefined ? { grade: item.grade } : {}),
      ...(carry.contactName !== '' ? { contactName: carry.contactName } : {}),
      ...(carry.contactPhone !== '' ? { contactPhone: carry.contactPhone } : {}),
      ...(carry.creditCode !== '' ? { creditCode: carry.creditCode } : {}),
      ...(carry.need !== '' ? { need: carry.need } : {}),
      source: '公海认领',
      clientRowId: poolNo,
    };
    claims.push({ row, poolNo, submission, carry, shown: text(cells[col('outcome')]) });
  }
  return { claims, errors };
}
