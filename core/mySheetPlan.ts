/**
 * The 我的报备 sheet (issue 9): every registration of the signed-in person with the dates that
 * matter to them — protection, days left, the last day to ask for an extension (R28), the
 * objection deadline of a lost decision (R12), the next follow-up due (R31) — sorted by what is
 * due first, and an 操作 column to act from the sheet (申请延期, 提出异议, 记录跟进, 已签约, 丢单,
 * 撤回). Plain data in, plain data out: the add-in's gateway writes the plan, the workflow posts
 * the actions. Rows are found by their 报备编号, never by position, so sorting or filtering the
 * sheet between building it and applying actions changes nothing.
 */
import { addDays, daysBetween } from './day.js';
import { FILLS } from './annotation.js';
import { DomainError, problem } from './problem.js';
import { canRequestExtension, extensionLastDay } from './protection.js';
import type { Policy } from './policy.js';
import type { RecordView } from './responses.js';
import {
  FOLLOW_UP_WAYS,
  followUpWayOf,
  followUpWayOfNote,
  REGISTRATION_NO,
  STATUS_LABELS,
  type Day,
} from './schema.js';
import { cellAddress, rangeAddress, type SheetCell, type SheetGrid } from './sheetGrid.js';
import { NOTE_MARKER } from './sheetNotes.js';
import { DATE_1904_OFFSET_DAYS } from './sheetRows.js';
import { columnSetupOps, chunkAddresses, type SheetOp, type SheetWrite } from './sheetWrite.js';

export const MY_SHEET_NAME = '我的报备';

export type MyAction = 'extension' | 'objection' | 'follow-up' | 'signed' | 'lost' | 'withdraw';

export const ACTION_LABELS: Record<MyAction, string> = {
  extension: '申请延期',
  objection: '提出异议',
  'follow-up': '记录跟进',
  signed: '已签约',
  lost: '丢单',
  withdraw: '撤回',
};

/** Words accepted in 操作 besides the labels of the drop-down (typed by hand, or English). */
const ACTION_WORDS: Record<string, MyAction> = {
  ...Object.fromEntries(Object.entries(ACTION_LABELS).map(([k, v]) => [v, k as MyAction])),
  延期: 'extension',
  extension: 'extension',
  异议: 'objection',
  objection: 'objection',
  跟进: 'follow-up',
  'follow-up': 'follow-up',
  签约: 'signed',
  signed: 'signed',
  lost: 'lost',
  withdraw: 'withdraw',
};

type MyColumn =
  | 'registrationNo'
  | 'customer'
  | 'status'
  | 'protectedFrom'
  | 'protectedUntil'
  | 'daysLeft'
  | 'extensionBy'
  | 'objectionBy'
  | 'followUpDue'
  | 'share'
  | 'reason'
  | 'action'
  | 'note'
  | 'date'
  | 'way'
  | 'feedback'
  | 'nextStep'
  | 'outcome'
  | 'version';

const TEXT = '@';
const COLUMNS: readonly { key: MyColumn; zh: string; width: number; format: string }[] = [
  { key: 'registrationNo', zh: '报备编号', width: 110, format: TEXT },
  { key: 'customer', zh: '客户名称', width: 180, format: TEXT },
  { key: 'status', zh: '状态', width: 70, format: TEXT },
  { key: 'protectedFrom', zh: '保护开始', width: 80, format: TEXT },
  { key: 'protectedUntil', zh: '保护截止', width: 80, format: TEXT },
  { key: 'daysLeft', zh: '剩余天数', width: 55, format: 'General' },
  { key: 'extensionBy', zh: '延期申请截止', width: 90, format: TEXT },
  { key: 'objectionBy', zh: '异议截止', width: 80, format: TEXT },
  { key: 'followUpDue', zh: '下次跟进', width: 80, format: TEXT },
  { key: 'share', zh: '共享份额(%)', width: 60, format: 'General' },
  { key: 'reason', zh: '最近审核意见', width: 200, format: TEXT },
  { key: 'action', zh: '操作', width: 70, format: TEXT },
  { key: 'note', zh: '说明', width: 200, format: TEXT },
  { key: 'date', zh: '跟进日期', width: 80, format: TEXT },
  // R43: how a visit or call was made, what the customer said, what comes next (follow-ups only).
  { key: 'way', zh: '跟进方式', width: 60, format: TEXT },
  { key: 'feedback', zh: '客户反馈', width: 150, format: TEXT },
  { key: 'nextStep', zh: '下一步', width: 150, format: TEXT },
  { key: 'outcome', zh: '处理结果', width: 220, format: TEXT },
  // The ETag the sheet last saw: an action is sent with it (If-Match), so a retry never files twice.
  { key: 'version', zh: '版本', width: 35, format: TEXT },
];

/** One row of the sheet, computed from a record; `dueDay` orders rows (earliest first). */
export interface MyRow {
  registrationNo: string;
  customer: string;
  status: string;
  protectedFrom: Day | '';
  protectedUntil: Day | '';
  daysLeft: number | '';
  extensionBy: Day | '';
  objectionBy: Day | '';
  followUpDue: Day | '';
  share: number | '';
  reason: string;
  etag: string;
  /** The earliest open deadline; '' when nothing is due. */
  dueDay: Day | '';
  /** A deadline of this row has passed while it still matters. */
  overdue: boolean;
  /** The objection deadline was counted over a year without an official schedule (issue 17). */
  objectionEstimated: boolean;
}

/** What was typed on a row before a rebuild (an action that failed keeps its words and the reason). */
export interface MyCarryOver {
  action: string;
  note: string;
  date: string;
  way?: string;
  feedback?: string;
  nextStep?: string;
  outcome: string;
}

/** The next follow-up due under the follow-up preset (R31): first within N days of approval, then every M. */
export function followUpDue(record: RecordView, policy: Policy): Day | '' {
  // The service's own answer (issue 13: grade cadences, working days, the calendar in force) wins;
  // the R31-only estimate below is for a service that does not send it.
  if (record.service?.nextDue !== undefined) return record.service.nextDue;
  const rule = policy.followUp;
  if (rule === undefined || rule === null || record.approvedAt === undefined) return '';
  if (record.status !== 'protected' && record.status !== 'extension-requested') return '';
  const last = record.followUps.reduce<string | undefined>(
    (max, f) => (max === undefined || f.at > max ? f.at : max),
    undefined,
  );
  return last === undefined
    ? addDays(shanghaiDay(record.approvedAt), rule.firstWithinDays)
    : addDays(shanghaiDay(last), rule.everyDays);
}

function shanghaiDay(instant: string): Day {
  return new Date(Date.parse(instant) + 8 * 3600_000).toISOString().slice(0, 10);
}

export function myRowOf(record: RecordView, policy: Policy, today: Day): MyRow {
  const protecting = record.status === 'protected' || record.status === 'extension-requested';
  const until = protecting ? (record.protectedUntil ?? '') : '';
  const extensionBy =
    record.status === 'protected' &&
    until !== '' &&
    canRequestExtension(until, today, policy.extensionLeadDays)
      ? extensionLastDay(until, policy.extensionLeadDays)
      : '';
  // A lost decision can be objected to until its deadline, once (R12).
  const objectionBy =
    record.objectionDeadline !== undefined &&
    record.objection === undefined &&
    record.status === 'rejected' &&
    record.reasonCode === 'conflict.lost'
      ? record.objectionDeadline
      : '';
  const followUp = followUpDue(record, policy);
  const deadlines = [extensionBy, objectionBy, followUp, until].filter((d): d is Day => d !== '');
  const dueDay = deadlines.length === 0 ? '' : deadlines.reduce((a, b) => (a < b ? a : b));
  return {
    registrationNo: record.no,
    customer: record.registration.customerName,
    status: STATUS_LABELS[record.status].zh,
    protectedFrom: record.protectedFrom ?? '',
    protectedUntil: record.protectedUntil ?? '',
    daysLeft: until === '' ? '' : daysBetween(today, until),
    extensionBy,
    objectionBy,
    followUpDue: followUp,
    share: record.share?.percent ?? '',
    reason: record.reason ?? '',
    etag: record.etag,
    dueDay,
    overdue: (followUp !== '' && followUp < today) || (objectionBy !== '' && objectionBy < today),
    objectionEstimated: objectionBy !== '' && (record.estimated ?? []).includes('objectionDeadline'),
  };
}

/** Rows in the order a person works them: what is due first, then the rest by number. */
export function sortByUrgency(rows: readonly MyRow[]): MyRow[] {
  return [...rows].sort((a, b) => {
    if (a.dueDay !== b.dueDay) {
      if (a.dueDay === '') return 1;
      if (b.dueDay === '') return -1;
      return a.dueDay < b.dueDay ? -1 : 1;
    }
    return a.registrationNo < b.registrationNo ? -1 : a.registrationNo > b.registrationNo ? 1 : 0;
  });
}

/** The marker on a deadline counted Monday–Friday because the year's official schedule is not entered yet. */
export const ESTIMATE_NOTE = `${NOTE_MARKER}\n按周一至周五估算：该年的法定节假日与调休尚未录入，此日期可能变动。/ Estimated Monday–Friday: the year's official holidays are not entered yet; this date may move.`;
const ESTIMATE_SUFFIX = '（估）';

/** Days within which a due day is shown amber: a week's warning. */
const SOON_DAYS = 7;

/**
 * The sheet, replaced whole: header, one row per registration by urgency, 操作 as a drop-down,
 * overdue rows red and rows due within a week amber, the header frozen and a table for filters.
 */
export function planMySheet(
  records: readonly RecordView[],
  policy: Policy,
  today: Day,
  carry: ReadonlyMap<string, MyCarryOver> = new Map(),
  options: { notes: boolean } = { notes: true },
): { write: SheetWrite; rows: number; overdue: number; dueSoon: number } {
  const rows = sortByUrgency(records.map((r) => myRowOf(r, policy, today)));
  const right = COLUMNS.length;
  const last = rows.length + 1;
  const body: SheetCell[][] = rows.map((row) => {
    const kept = carry.get(row.registrationNo);
    const cells: Record<MyColumn, SheetCell> = {
      registrationNo: row.registrationNo,
      customer: row.customer,
      status: row.status,
      protectedFrom: row.protectedFrom,
      protectedUntil: row.protectedUntil,
      daysLeft: row.daysLeft,
      extensionBy: row.extensionBy,
      // Without notes (older Excel) the estimate is marked in the cell itself.
      objectionBy:
        row.objectionEstimated && !options.notes ? `${row.objectionBy}${ESTIMATE_SUFFIX}` : row.objectionBy,
      followUpDue: row.followUpDue,
      share: row.share,
      reason: row.reason,
      action: kept?.action ?? '',
      note: kept?.note ?? '',
      date: kept?.date ?? '',
      way: kept?.way ?? '',
      feedback: kept?.feedback ?? '',
      nextStep: kept?.nextStep ?? '',
      outcome: kept?.outcome ?? '',
      version: row.etag,
    };
    return COLUMNS.map((c) => cells[c.key]);
  });
  const ops: SheetOp[] = columnSetupOps(COLUMNS, last);
  ops.push({
    kind: 'values',
    address: rangeAddress(1, 1, last, right),
    values: [COLUMNS.map((c) => c.zh), ...body],
  });
  ops.push({ kind: 'headerStyle', address: rangeAddress(1, 1, 1, right) });
  const overdueRows: number[] = [];
  const soonRows: number[] = [];
  rows.forEach((row, i) => {
    if (row.overdue) overdueRows.push(i + 2);
    else if (row.dueDay !== '' && daysBetween(today, row.dueDay) <= SOON_DAYS) soonRows.push(i + 2);
  });
  for (const [color, list] of [
    [FILLS.red.fill, overdueRows],
    [FILLS.amber.fill, soonRows],
  ] as const) {
    for (const addresses of chunkAddresses(list.map((r) => rangeAddress(r, 1, r, right)))) {
      ops.push({ kind: 'fill', color: `#${color}`, addresses });
    }
  }
  const actionColumn = COLUMNS.findIndex((c) => c.key === 'action') + 1;
  ops.push({
    kind: 'validation',
    address: rangeAddress(2, actionColumn, Math.max(last, 2), actionColumn),
    rule: { list: { inCellDropDown: true, source: Object.values(ACTION_LABELS).join(',') } },
    alert: {
      showAlert: true,
      style: 'Stop',
      title: '操作',
      message: `请选择：${Object.values(ACTION_LABELS).join('、')}`,
    },
  });
  const wayColumn = COLUMNS.findIndex((c) => c.key === 'way') + 1;
  ops.push({
    kind: 'validation',
    address: rangeAddress(2, wayColumn, Math.max(last, 2), wayColumn),
    rule: { list: { inCellDropDown: true, source: FOLLOW_UP_WAYS.join(',') } },
    alert: {
      showAlert: true,
      style: 'Stop',
      title: '跟进方式',
      message: `请选择：${FOLLOW_UP_WAYS.join('、')}`,
    },
  });
  ops.push({ kind: 'freezeRows', count: 1 });
  if (rows.length > 0) ops.push({ kind: 'table', address: rangeAddress(1, 1, last, right) });
  const write: SheetWrite = { sheetName: MY_SHEET_NAME, sheet: 'replace', ops, activate: true };
  const objectionColumn = COLUMNS.findIndex((c) => c.key === 'objectionBy') + 1;
  const estimated = rows.flatMap((row, i) => (row.objectionEstimated ? [i + 2] : []));
  if (options.notes && estimated.length > 0) {
    write.notes = {
      notes: Object.fromEntries(estimated.map((r) => [cellAddress(r, objectionColumn), ESTIMATE_NOTE])),
      scope: { rows: estimated, columns: [objectionColumn] },
    };
  }
  return {
    write,
    rows: rows.length,
    overdue: overdueRows.length,
    dueSoon: soonRows.length,
  };
}

/** An action typed on a row, ready to post. */
export interface MyActionRequest {
  row: number;
  registrationNo: string;
  /** The ETag the row was built with (If-Match). */
  etag: string;
  action: MyAction;
  /** The route under /api/registrations/:no and its body. */
  path: string;
  body: Record<string, string>;
  carry: MyCarryOver;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;

function text(cell: SheetCell | undefined): string {
  if (cell === null || cell === undefined) return '';
  return String(cell).trim();
}

/**
 * An Excel date serial or typed text as YYYY-MM-DD; null when it is neither. A 1904 workbook counts
 * its serials from 1904-01-01: read as 1900 serials they would be four years early.
 */
function dayOfCell(cell: SheetCell | undefined, date1904: boolean): Day | null {
  if (typeof cell === 'number' && Number.isFinite(cell) && cell > 0) {
    const serial = date1904 ? cell + DATE_1904_OFFSET_DAYS : cell;
    return new Date(Math.round((serial - 25569) * 86_400_000)).toISOString().slice(0, 10);
  }
  const t = text(cell).replace(/[/.]/g, '-');
  const m = /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(t);
  if (!m) return null;
  const day = `${m[1]}-${m[2]!.padStart(2, '0')}-${m[3]!.padStart(2, '0')}`;
  return DAY.test(day) ? day : null;
}

/** The actions typed into 我的报备 (columns found by header text), and what is wrong with the others. */
export function readMyActions(
  grid: SheetGrid,
  today: Day,
  /** The workbook counts date serials from 1904-01-01 (the sheet reader's `date1904`). */
  options: { date1904?: boolean } = {},
): {
  actions: MyActionRequest[];
  errors: { row: number; registrationNo: string; message: string; carry: MyCarryOver }[];
} {
  const header = (grid[0] ?? []).map((c) => text(c));
  const col = (key: MyColumn) => header.indexOf(COLUMNS.find((c) => c.key === key)!.zh);
  const noCol = col('registrationNo');
  const actionCol = col('action');
  const versionCol = col('version');
  if (noCol < 0 || actionCol < 0 || versionCol < 0) {
    throw new DomainError(
      problem(
        'mine.sheet_invalid',
        `「${MY_SHEET_NAME}」表缺少「报备编号」「操作」或「版本」列，请重新生成`,
        `The ${MY_SHEET_NAME} sheet lacks the number, action or version column; build it again`,
      ),
    );
  }
  const noteCol = col('note');
  const dateCol = col('date');
  const actions: MyActionRequest[] = [];
  const errors: { row: number; registrationNo: string; message: string; carry: MyCarryOver }[] = [];
  for (let i = 1; i < grid.length; i++) {
    const cells = grid[i]!;
    const word = text(cells[actionCol]);
    if (word === '') continue;
    const row = i + 1;
    const registrationNo = text(cells[noCol]);
    const note = noteCol >= 0 ? text(cells[noteCol]) : '';
    const dateCell = dateCol >= 0 ? cells[dateCol] : undefined;
    const extra = (key: 'way' | 'feedback' | 'nextStep') => (col(key) >= 0 ? text(cells[col(key)]) : '');
    const wayText = extra('way');
    const feedback = extra('feedback');
    const nextStep = extra('nextStep');
    const carry: MyCarryOver = {
      action: word,
      note,
      date: text(dateCell),
      ...(wayText !== '' ? { way: wayText } : {}),
      ...(feedback !== '' ? { feedback } : {}),
      ...(nextStep !== '' ? { nextStep } : {}),
      outcome: '',
    };
    const fail = (message: string) =>
      errors.push({ row, registrationNo, message, carry: { ...carry, outcome: message } });
    const action = ACTION_WORDS[word.toLowerCase()];
    if (!REGISTRATION_NO.test(registrationNo)) {
      fail(`第 ${row} 行没有有效的报备编号`);
      continue;
    }
    if (action === undefined) {
      fail(`第 ${row} 行的操作「${word}」无法识别：应为 ${Object.values(ACTION_LABELS).join('、')}`);
      continue;
    }
    if (note === '') {
      fail(`第 ${row} 行请在「说明」写明${action === 'follow-up' ? '跟进内容' : '理由'}`);
      continue;
    }
    const body: Record<string, string> = {};
    let path: string;
    switch (action) {
      case 'extension':
        path = 'extension';
        body['reason'] = note;
        break;
      case 'objection':
        path = 'objection';
        body['reason'] = note;
        break;
      case 'follow-up': {
        path = 'follow-ups';
        // R43: the way is required: 跟进方式 when filled, else what 说明 says (其他 when it says nothing).
        if (wayText !== '') {
          const way = followUpWayOf(wayText);
          if (way === undefined) {
            fail(`第 ${row} 行的跟进方式「${wayText}」无法识别：应为 ${FOLLOW_UP_WAYS.join('、')}`);
            continue;
          }
          body['way'] = way;
        } else {
          body['way'] = followUpWayOfNote(note);
        }
        if (feedback !== '') body['feedback'] = feedback;
        if (nextStep !== '') body['nextStep'] = nextStep;
        body['note'] = note;
        if (text(dateCell) !== '') {
          const day = dayOfCell(dateCell, options.date1904 === true);
          if (day === null) {
            fail(`第 ${row} 行的跟进日期「${text(dateCell)}」无法识别，请写成 2026-03-05`);
            continue;
          }
          if (day > today) {
            fail(`第 ${row} 行的跟进日期 ${day} 晚于今天`);
            continue;
          }
          // Midnight in Shanghai: a day typed for today is never "in the future".
          body['at'] = `${day}T00:00:00+08:00`;
        }
        break;
      }
      case 'signed':
        path = 'close';
        body['outcome'] = 'signed';
        body['note'] = note;
        break;
      case 'lost':
        path = 'close';
        body['outcome'] = 'lost_to_competitor';
        body['note'] = note;
        break;
      case 'withdraw':
        path = 'close';
        body['outcome'] = 'withdrawn';
        body['note'] = note;
        break;
    }
    actions.push({ row, registrationNo, etag: text(cells[versionCol]), action, path, body, carry });
  }
  return { actions, errors };
}
