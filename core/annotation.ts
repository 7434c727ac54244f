/**
 * What the product writes back next to a row, as plain data: the result cells (报备编号, 状态,
 * 保护截止, 冲突说明), the row's fill by status, and a note per invalid cell. The legacy import and
 * the Excel add-in both draw from here, so a sheet looks the same whichever path produced it.
 */
import {
  FIELD_SPECS,
  RESULT_COLUMNS,
  STATUS_LABELS,
  type Field,
  type MatchedOn,
  type ResultColumn,
  type RowResult,
  type RowStatus,
} from './schema.js';

/** Fill colours (RGB hex, no '#'): Excel's own "Bad / Neutral / Good" palette, readable in print. */
export const FILLS = {
  red: { fill: 'FFC7CE', font: '9C0006' },
  amber: { fill: 'FFEB9C', font: '9C5700' },
  green: { fill: 'C6EFCE', font: '006100' },
  grey: { fill: 'D9D9D9', font: '3F3F3F' },
} as const;
export type FillName = keyof typeof FILLS;

/**
 * conflict red; pending or a possible match amber; protected (and signed) green; invalid,
 * rejected, duplicate and ended records grey.
 */
export function rowFill(status: RowStatus, hasPossibleMatch = false): FillName {
  switch (status) {
    case 'conflict':
      return 'red';
    case 'pending':
    case 'extension-requested':
      return 'amber';
    case 'protected':
    case 'signed':
      return hasPossibleMatch ? 'amber' : 'green';
    default:
      return 'grey';
  }
}

export const MATCHED_ON_LABELS: Record<MatchedOn, { zh: string; en: string }> = {
  creditCode: { zh: '信用代码相同', en: 'same credit code' },
  name: { zh: '客户名称相同', en: 'same customer name' },
  phone: { zh: '电话相同', en: 'same phone' },
  maskedPhone: { zh: '电话前三后四及姓名相符', en: 'same masked phone and name' },
  email: { zh: '邮箱相同', en: 'same email' },
  household: { zh: '同一家庭', en: 'same household' },
};

/** A conflict as the annotation shows it: a stored registration, another row of the same sheet, or both. */
export interface AnnotatedConflict {
  registrationNo?: string | undefined;
  row?: number | undefined;
  status?: RowStatus | undefined;
  holder?: { name: string; team?: string | undefined } | undefined;
  protectedUntil?: string | undefined;
  matchedOn: MatchedOn;
  strength: 'exact' | 'possible';
  similarity?: number | undefined;
}

export interface RowAnnotation {
  cells: Record<ResultColumn, string>;
  fill: FillName;
  /** Notes for invalid cells, by canonical field. */
  notes: Partial<Record<Field, string>>;
}

export interface AnnotationInput {
  status: RowStatus;
  registrationNo?: string | undefined;
  protectedUntil?: string | undefined;
  reviewDueBy?: string | undefined;
  errors: RowResult['errors'];
  warnings: RowResult['warnings'];
  conflicts: readonly AnnotatedConflict[];
}

export function annotateRow(input: AnnotationInput): RowAnnotation {
  const notes: Partial<Record<Field, string>> = {};
  const lines: string[] = [];
  for (const e of input.errors) {
    const label =
      e.field !== undefined && e.field in FIELD_SPECS ? FIELD_SPECS[e.field as Field].zh : undefined;
    lines.push(label ? `${label}：${e.message}` : e.message);
    if (e.field !== undefined && e.field in FIELD_SPECS) {
      const field = e.field as Field;
      notes[field] = notes[field] ? `${notes[field]}\n${e.message}` : e.message;
    }
  }
  for (const c of input.conflicts) lines.push(describeConflict(c));
  for (const w of input.warnings) {
    if (w.code === 'registration.conflict' && input.conflicts.length > 0) continue;
    lines.push(w.message);
  }
  const possible = input.conflicts.length > 0 && input.conflicts.every((c) => c.strength === 'possible');
  return {
    cells: {
      // A duplicate shows the registration the registrant already holds (状态 says it was not saved again).
      registrationNo: input.registrationNo ?? '',
      status: STATUS_LABELS[input.status].zh,
      protectedUntil: input.protectedUntil ?? '',
      conflict: lines.join('；'),
    },
    fill: rowFill(input.status, possible),
    notes,
  };
}

export function describeConflict(c: AnnotatedConflict): string {
  const why = MATCHED_ON_LABELS[c.matchedOn].zh + (c.strength === 'possible' ? '（疑似）' : '');
  const parts: string[] = [];
  if (c.row !== undefined) parts.push(`第 ${c.row} 行`);
  if (c.registrationNo !== undefined) {
    const holder = c.holder ? `${c.holder.name}${c.holder.team ? '，' + c.holder.team : ''}` : '';
    const state = c.status ? STATUS_LABELS[c.status].zh : '';
    const until = c.protectedUntil ? `，保护至 ${c.protectedUntil}` : '';
    parts.push(
      `${c.registrationNo}${holder || state ? `（${[holder, state].filter(Boolean).join('，')}${until}）` : ''}`,
    );
  }
  return `与${parts.join(' / ')}为同一客户：${why}`;
}

export const RESULT_HEADERS: readonly { key: ResultColumn; zh: string; en: string }[] = (
  Object.keys(RESULT_COLUMNS) as ResultColumn[]
).map((key) => ({ key, ...RESULT_COLUMNS[key] }));
