/**
 * What the product writes back next to a row, as plain data: the result cells (报备编号, 状态,
 * 保护截止, 冲突说明, 提示), the row's fill by status, a note per invalid cell, and the legend that
 * explains the fills. The legacy import and the Excel add-in both draw from here, so a sheet looks
 * the same whichever path produced it.
 */
import { MAX_CELL_CHARS } from './cellText.js';
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

/**
 * Fill colours (RGB hex, no '#') and the text colour that reads on each. Red, amber and green are
 * Excel's own "Bad / Neutral / Good" cell styles, so they mean what Excel users already expect;
 * the waiting fill is barely tinted (a row waiting for review asks nothing of the reader); violet
 * keeps invalid rows apart from red conflicts and from grey closed rows, also in a grey print.
 */
export const FILLS = {
  paleBlue: { fill: 'F2F6FC', font: '1F3864' },
  amber: { fill: 'FFEB9C', font: '9C5700' },
  red: { fill: 'FFC7CE', font: '9C0006' },
  green: { fill: 'C6EFCE', font: '006100' },
  violet: { fill: 'E4DCF2', font: '4B2C7F' },
  /** An invalid cell inside a violet row: the one to correct (it also carries a note). */
  violetDeep: { fill: 'C3AEE6', font: '3A1F66' },
  grey: { fill: 'E7E6E6', font: '595959' },
} as const;
export type FillName = keyof typeof FILLS;

/** What an invalid cell is filled with, on top of its row's fill. */
export const INVALID_CELL_FILL: FillName = 'violetDeep';

/** Warnings that flag a row for a look (amber) although nothing blocks it: late registration (R4), a possible match, an ended window (R29). */
const LOOK_WARNINGS: ReadonlySet<string> = new Set([
  'registration.late',
  'match.possible',
  // Awaiting review only because its window is over, or starts far ahead (R29): likely a mistyped first visit.
  'registration.protection_over',
  'registration.visit_far_ahead',
]);
/**
 * Warnings that describe a clash (冲突说明); every other warning is advice (提示). The clash
 * warnings are left out when the clashing registrations are listed, which say more.
 */
const CLASH_WARNINGS: ReadonlySet<string> = new Set([
  'registration.conflict',
  'match.possible',
  'conflict.queued',
  'conflict.competing',
]);

/**
 * The fill of a row. Groups, from what needs the reader most to what needs nothing:
 * - red: 冲突 (someone else registered or protects the customer; a reviewer decides);
 * - violet: 信息有误 (nothing saved; the darker cells are to be corrected);
 * - amber: a row that needs a look although it went through — a possible match with another
 *   registration, or a late registration (R4) — on a pending or protected row;
 * - green: 保护中, 延期申请中 (still protected), 已签约;
 * - pale blue: 待审核 with nothing to look at;
 * - grey: closed or not taken — 已过期, 已终止, 驳回, 作废, 重复报备 (the earlier registration counts).
 */
export function rowFill(status: RowStatus, needsLook = false): FillName {
  switch (status) {
    case 'conflict':
      return 'red';
    case 'invalid':
      return 'violet';
    case 'pending':
      return needsLook ? 'amber' : 'paleBlue';
    case 'protected':
    case 'extension-requested':
    case 'signed':
      return needsLook ? 'amber' : 'green';
    case 'expired':
    case 'terminated':
    case 'rejected':
    case 'void':
    case 'duplicate':
      return 'grey';
  }
}

/** One line of the legend: a fill, its name, what it means and which statuses it covers. */
export interface LegendEntry {
  fill: FillName;
  zh: string;
  en: string;
  meaningZh: string;
  meaningEn: string;
  statuses: readonly RowStatus[];
}

export const LEGEND_TITLE = { zh: '图例', en: 'Legend' } as const;

/** The legend of the row fills, in the order a reader should look (the 汇总 sheet and the task pane). */
export const LEGEND: readonly LegendEntry[] = [
  {
    fill: 'red',
    zh: '冲突',
    en: 'Conflict',
    meaningZh: '他人已报备或正在保护该客户，由审核人裁定；见冲突说明',
    meaningEn: 'Someone else registered or protects this customer; a reviewer decides (see 冲突说明)',
    statuses: ['conflict'],
  },
  {
    fill: 'violet',
    zh: '信息有误',
    en: 'Invalid',
    meaningZh: '未保存：改正深色单元格（见批注和冲突说明）后重新提交',
    meaningEn: 'Not saved: correct the darker cells (see their notes and 冲突说明), then submit again',
    statuses: ['invalid'],
  },
  {
    fill: 'amber',
    zh: '需留意',
    en: 'Look',
    meaningZh: '已受理，但可能与他人报备为同一客户，或逾期报备（R4）：见冲突说明和提示',
    meaningEn: 'Accepted, but maybe the same customer as another registration, or late (R4)',
    statuses: ['pending', 'protected', 'extension-requested', 'signed'],
  },
  {
    fill: 'green',
    zh: '受保护',
    en: 'Protected',
    meaningZh: '保护中、延期申请中或已签约',
    meaningEn: 'Protected, extension requested, or signed',
    statuses: ['protected', 'extension-requested', 'signed'],
  },
  {
    fill: 'paleBlue',
    zh: '待审核',
    en: 'Waiting',
    meaningZh: '未发现冲突，等待审核，无需处理',
    meaningEn: 'No clash found; waiting for review, nothing to do',
    statuses: ['pending'],
  },
  {
    fill: 'grey',
    zh: '已结束',
    en: 'Closed',
    meaningZh: '已过期、已终止、驳回、作废或重复报备：本行不受保护，无需处理',
    meaningEn: 'Expired, terminated, rejected, void or a duplicate: holds nothing, nothing to do',
    statuses: ['expired', 'terminated', 'rejected', 'void', 'duplicate'],
  },
];

/** The cell mark under the row fills: an invalid cell. */
export const INVALID_CELL_LEGEND = {
  fill: INVALID_CELL_FILL,
  zh: '有误的单元格',
  en: 'Invalid cell',
  meaningZh: '批注说明错误',
  meaningEn: 'Its note says what is wrong',
} as const;

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

/** Separates the items of one result cell; a cell stays one line where the sheet does not wrap. */
const ITEM_SEPARATOR = '；';

/**
 * The result cells of a row. 冲突说明 holds what blocks or clashes — errors and the registrations
 * this row may be the same customer as — so a reader scanning it sees only what matters; every
 * advisory warning (a missing credit code, a 报备时间 not used, a late registration, a reviewer's
 * reason) goes to 提示. On a 重复报备 row the match is the registrant's own earlier registration,
 * not a clash: it goes to 提示 with the duplicate notice.
 */
export function annotateRow(input: AnnotationInput): RowAnnotation {
  const notes: Partial<Record<Field, string>> = {};
  const clashes: string[] = [];
  const hints: string[] = [];
  for (const e of input.errors) {
    const label =
      e.field !== undefined && e.field in FIELD_SPECS ? FIELD_SPECS[e.field as Field].zh : undefined;
    clashes.push(label && !e.message.startsWith(label) ? `${label}：${e.message}` : e.message);
    if (e.field !== undefined && e.field in FIELD_SPECS) {
      const field = e.field as Field;
      notes[field] = notes[field] ? `${notes[field]}\n${e.message}` : e.message;
    }
  }
  const matches = input.conflicts.map(describeConflict);
  let needsLook = input.conflicts.length > 0;
  for (const w of input.warnings) {
    if (CLASH_WARNINGS.has(w.code)) {
      if (input.conflicts.length === 0) clashes.push(w.message);
    } else {
      hints.push(w.message);
    }
    if (LOOK_WARNINGS.has(w.code)) needsLook = true;
  }
  if (input.status === 'duplicate') hints.push(...matches);
  else clashes.push(...matches);
  return {
    cells: {
      // A duplicate shows the registration the registrant already holds (状态 says it was not saved again).
      registrationNo: input.registrationNo ?? '',
      status: STATUS_LABELS[input.status].zh,
      protectedUntil: input.protectedUntil ?? '',
      conflict: joinWithinCell(clashes),
      hint: joinWithinCell(hints),
    },
    fill: rowFill(input.status, needsLook),
    notes,
  };
}

/**
 * The items of one result cell joined, cut to fit a cell wherever it is written (the annotated
 * workbook, the add-in, Google Sheets; MAX_CELL_CHARS): ~1,600 registrations sharing one phone
 * would fill 88,000 characters, which Excel and Google refuse. The cut drops whole items from the
 * end and says how many: `…另有 N 条未列出（共 M 条）`; the JSON report still lists every one.
 */
function joinWithinCell(items: readonly string[]): string {
  const whole = items.join(ITEM_SEPARATOR);
  if (whole.length <= MAX_CELL_CHARS) return whole;
  let kept = 0;
  let length = 0;
  for (const item of items) {
    const next = length + (kept > 0 ? ITEM_SEPARATOR.length : 0) + item.length;
    if (next + leftOutNote(items.length - kept - 1, items.length).length > MAX_CELL_CHARS) break;
    length = next;
    kept++;
  }
  const note = leftOutNote(items.length - kept, items.length);
  // A first item too long to fit on its own is cut itself (no message is, but the cell must fit).
  const shown =
    kept > 0
      ? items.slice(0, kept).join(ITEM_SEPARATOR)
      : cutAt(items[0] ?? '', MAX_CELL_CHARS - note.length);
  return `${shown}${note}`;
}

/**
 * The first `length` UTF-16 units of a text, one fewer when that would split a surrogate pair: a
 * name character beyond the BMP (𠀀) cut in half is a lone surrogate, which XML cannot hold.
 */
function cutAt(text: string, length: number): string {
  const last = text.charCodeAt(length - 1);
  return text.slice(0, last >= 0xd800 && last <= 0xdbff ? length - 1 : length);
}

function leftOutNote(leftOut: number, total: number): string {
  return `…另有 ${leftOut} 条未列出（共 ${total} 条）`;
}

/**
 * `与第 3 行（BB-2026-000001）为同一客户：信用代码相同`, `可能与 BB-2026-000004（王磊，华东一部，
 * 保护中，保护至 2027-01-05）为同一客户：电话相同`: Latin text and numbers set off by spaces
 * from the Chinese around them.
 */
export function describeConflict(c: AnnotatedConflict): string {
  const details: string[] = [];
  if (c.row !== undefined && c.registrationNo !== undefined) details.push(c.registrationNo);
  if (c.holder) details.push(c.holder.name, ...(c.holder.team ? [c.holder.team] : []));
  if (c.status) details.push(STATUS_LABELS[c.status].zh);
  if (c.protectedUntil) details.push(`保护至 ${c.protectedUntil}`);
  const byRow = c.row !== undefined;
  // A registration number is Latin text: spaces set it off from the Chinese on both sides.
  const latin = !byRow && c.registrationNo !== undefined;
  const reference = byRow ? `第 ${c.row} 行` : latin ? ` ${c.registrationNo}` : '另一报备';
  const whom =
    details.length > 0 ? `${reference}（${details.join('，')}）` : latin ? `${reference} ` : reference;
  const prefix = c.strength === 'possible' ? '可能' : '';
  return `${prefix}与${whom}为同一客户：${MATCHED_ON_LABELS[c.matchedOn].zh}`;
}

export const RESULT_HEADERS: readonly { key: ResultColumn; zh: string; en: string }[] = (
  Object.keys(RESULT_COLUMNS) as ResultColumn[]
).map((key) => ({ key, ...RESULT_COLUMNS[key] }));
