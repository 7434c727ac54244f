/**
 * The legacy import: one library behind `POST /api/imports` and `baobei import FILE`. Finds the
 * header and maps the columns (core), turns rows into submissions, runs exactly the checks a
 * single registration gets (rowEvaluation) against the store and against the rest of the file in
 * one transaction, and returns the JSON report and the annotated workbook.
 *
 * Over 600 lines as one file: the import's one pass (rows → evaluation → report → annotation inputs)
 * shares its per-row state; the file formats, limits and the copy are modules of their own.
 */
import type { AnnotatedConflict } from '../../core/annotation.js';
import { dayOf } from '../../core/day.js';
import { parseInstant } from '../../core/dateValue.js';
import { classifyRow, exampleEvidenceOf } from '../../core/headers.js';
import { isPlaceholder } from '../../core/cellText.js';
import { phoneCellOf, phoneFallbackColumn, phoneReadFromFallback } from '../../core/phoneColumns.js';
import { inHeaderUnit, moneyUnitsOfColumns } from '../../core/money.js';
import { DATE_1904_OFFSET_DAYS } from '../../core/sheetRows.js';
import { DEFAULT_POLICY } from '../../core/policy.js';
import { problem, type Problem } from '../../core/problem.js';
import { skippedRowReason, type SkippedKind } from '../../core/skippedRow.js';
import { FIXED_FIELDS, type ChangeRequest } from '../../core/registrationChange.js';
import { effectiveStatus } from '../../core/lifecycle.js';
import {
  FIELD_SPECS,
  type CellValue,
  type Field,
  type MatchedOn,
  type RowResult,
  type RowStatus,
  type SubmissionRow,
} from '../../core/schema.js';
import type { WorkCalendar } from '../../core/calendar.js';
import type { Keyring } from '../security/keyring.js';
import type { Store, WriteTx } from '../store/store.js';
import type { Actor } from '../services/actor.js';
import { evaluateChange } from '../services/changeEvaluation.js';
import { cooperativeLoop } from '../services/cooperativeLoop.js';
import {
  admitAhead,
  datesOf,
  evaluateRow,
  prefetchLookups,
  type EvaluationContext,
} from '../services/rowEvaluation.js';
import { annotationSource, writeAnnotatedWorkbook, type AnnotatedRow } from './annotatedWorkbook.js';
import { columnLetter } from './cellReference.js';
import { ImportError } from './importError.js';
import type { ImportLimits } from './importLimits.js';
import { HISTORY_STATUS, historyColumns } from './historyColumns.js';
import { readWorkbook, withReadableErrors } from './readWorkbook.js';
import { pickSheet } from './registerSheet.js';

export type ImportMode = 'submit' | 'history';

export interface ImportOptions {
  fileName: string;
  mode: ImportMode;
  dryRun: boolean;
  /** Sheet name or 1-based position; default the first sheet holding data. */
  sheet?: string | undefined;
  onProgress?: (done: number, total: number) => void;
  /** Limits on what the file may make the import allocate; the process's (environment) when absent. */
  limits?: ImportLimits;
}

export interface ImportDeps {
  store: Store;
  keyring: Keyring;
  clock: () => Date;
  actor: Actor;
  /** Working days in force (entered schedules over the package's); the package's when absent. */
  calendar?: WorkCalendar;
}

export interface ReportConflict {
  row?: number;
  registrationNo?: string;
  matchedOn: MatchedOn;
  strength: 'exact' | 'possible';
}

export interface ReportRow {
  row: number;
  status: RowStatus | 'skipped';
  registrationNo?: string;
  errors: RowResult['errors'];
  warnings: RowResult['warnings'];
  conflicts: ReportConflict[];
  /** Why a row was skipped: total (合计), note (注…), header-repeat, example (a template's 填写示例 row). */
  skipped?: string;
  /** The skip in words (zh-CN and English), naming the row, and for an example the column that shows it. */
  reason?: Problem;
}

export interface ImportReport {
  file: string;
  sheet: string;
  mode: ImportMode;
  dryRun: boolean;
  headerRow: number;
  /**
   * Each header column and its field; `fallbackFor: 'contactPhone'` marks a second phone column (电话
   * beside 手机), read when the phone cell is empty (core/phoneColumns.ts).
   */
  mapping: {
    column: string;
    header: string;
    field: Field | null;
    confidence: number;
    fallbackFor?: 'contactPhone';
  }[];
  rows: ReportRow[];
  summary: { rows: number; byStatus: Partial<Record<RowStatus | 'skipped', number>> };
  /** What reading the file changed (bytes not in its encoding replaced…); absent when nothing. */
  warnings?: Problem[];
}

export interface ImportResult {
  report: ImportReport;
  annotated: Buffer;
}

const NO_CONFLICTS: readonly AnnotatedConflict[] = [];

/**
 * Rows whose look-ups a store with a round trip per look-up (PostgreSQL) fetches at once: two
 * queries per chunk instead of two per row, while what a chunk fetches stays small beside the
 * transaction's records (a registration batch's size).
 */
export const PREFETCH_ROWS = 1_000;

/** Field kinds whose number cells are Excel serials. */
const SERIAL_KINDS: ReadonlySet<string> = new Set(['day', 'instant']);
/** From here on a whole number in a date cell is a date typed as digits (20261120), as core/dateValue.ts reads it. */
const COMPACT_DATE_MIN = 19_000_101;
/** One data row of the sheet, as the checks take it. */
export interface ParsedSubmission {
  row: number;
  submission: SubmissionRow;
  /** R17 claim order: the registration time written in the sheet. */
  order: number;
  /** History mode: the row's 报备编号. */
  legacyNo?: string;
}

/**
 * What reading the file yields, as plain data (it crosses to the service from the worker that
 * parsed it): the header found, the rows skipped, and every data row as a submission.
 */
export interface ParsedImport {
  sheetName: string;
  headerRow: number;
  mapping: ImportReport['mapping'];
  fieldColumns: [Field, number][];
  skipped: ReportRow[];
  submissions: ParsedSubmission[];
  /** What the reader changed or dropped on the way in (bad bytes replaced, cells past XFD…). */
  warnings: Problem[];
}

/** What annotating the copy needs from the checks. */
export interface AnnotationRequest {
  rows: AnnotatedRow[];
  summary: ImportReport['summary'];
  meta: { file: string; mode: ImportMode; dryRun: boolean; at: string };
}

/** A file read: its plain data, and the workbook kept to write the annotated copy from. */
export interface ReadImport {
  parsed: ParsedImport;
  annotate(request: AnnotationRequest): Buffer;
}

/** Refuses what the caller may not import before a byte of the file is read. */
export function checkImportAllowed(options: Pick<ImportOptions, 'mode'>, actor: Actor): void {
  if (options.mode === 'history' && actor.role !== 'admin') {
    throw new ImportError(
      'import.history_forbidden',
      '只有管理员可以导入历史台账（history 模式）',
      'Only administrators import the historical register (history mode)',
      'mode',
    );
  }
}

export async function importSheet(
  bytes: Uint8Array,
  options: ImportOptions,
  deps: ImportDeps,
): Promise<ImportResult> {
  checkImportAllowed(options, deps.actor);
  const read = parseImport(bytes, options, deps.clock());
  const evaluation = await evaluateImport(read.parsed, options, deps);
  // The annotated copy is built while the store makes the rows durable (its file write).
  const annotated = read.annotate(evaluation.annotation);
  await evaluation.committed;
  return { report: evaluation.report, annotated };
}

/** Reads the file: the sheet, its header and its rows (no store, no clock but the reference year). */
export function parseImport(
  bytes: Uint8Array,
  options: Pick<ImportOptions, 'fileName' | 'mode' | 'sheet' | 'limits'>,
  now: Date,
): ReadImport {
  const read = readWorkbook(bytes, options.fileName, options.limits);
  const { sheet, detection } = pickSheet(read, options.sheet, options.fileName);
  const fieldColumns = new Map<Field, number>();
  for (const c of detection.columns) if (c.field) fieldColumns.set(c.field, c.column);
  const extras = historyColumns(detection, options.mode);
  const phoneFallback = phoneFallbackColumn(detection.columns);
  // 预计金额（万元）: the amounts below are in 万 (or the unit of the group header above the column).
  const moneyUnits = moneyUnitsOfColumns(detection.columns);

  // A date column formatted General holds bare serials; a 1904 workbook (old Mac Excel) counts them
  // from 1904-01-01, which the cell parsers (1900 system) cannot know. 20261120 typed as a number is
  // a date as written, not a serial.
  const serialFields = new Set(
    read.workbook.date1904
      ? [...fieldColumns.keys()].filter((f) => SERIAL_KINDS.has(FIELD_SPECS[f].kind))
      : [],
  );
  const serialIn1900 = (value: CellValue): CellValue =>
    typeof value === 'number' && !(Number.isInteger(value) && value >= COMPACT_DATE_MIN)
      ? value + DATE_1904_OFFSET_DAYS
      : value;

  const skipped: ReportRow[] = [];
  const skippedKinds = new Map<number, SkippedKind>();
  const submissions: ParsedSubmission[] = [];
  /** Rows whose phone came from the fallback column: a note on the phone goes there. */
  const phoneFromFallback = new Set<number>();
  const referenceYear = Number(dayOf(now).slice(0, 4));
  const claimOrder = claimOrderOf(referenceYear);
  for (const [n, cells] of [...sheet.rows].sort((a, b) => a[0] - b[0])) {
    if (n <= detection.headerRow) continue;
    const kind = classifyRow(cells, detection);
    if (kind === 'blank') continue;
    if (kind !== 'data') {
      const evidence = kind === 'example' ? exampleEvidenceOf(cells, detection) : null;
      const reason = skippedRowReason(kind, n, evidence);
      skippedKinds.set(n, kind);
      skipped.push({
        row: n,
        status: 'skipped',
        skipped: kind,
        reason,
        errors: [],
        warnings: [],
        conflicts: [],
      });
      continue;
    }
    const submission: SubmissionRow = { clientRowId: n };
    for (const [field, col] of fieldColumns) {
      const cell = cells[col - 1] ?? null;
      const fallback =
        field === 'contactPhone' && phoneFallback !== null ? (cells[phoneFallback - 1] ?? null) : undefined;
      if (fallback !== undefined && phoneReadFromFallback(cell, fallback)) phoneFromFallback.add(n);
      const value = detached(fallback === undefined ? cell : phoneCellOf(cell, fallback));
      const unit = moneyUnits[field];
      if (unit !== undefined) submission[field] = inHeaderUnit(value, unit);
      else if (serialFields.has(field)) submission[field] = serialIn1900(value);
      else submission[field] = value;
    }
    if (extras.status !== undefined) {
      const text = String(cells[extras.status - 1] ?? '').trim();
      const status = HISTORY_STATUS[text];
      if (status) submission.status = status;
    }
    if (extras.approvedAt !== undefined) {
      const v = cells[extras.approvedAt - 1];
      if (v !== undefined && v !== null && v !== '') submission.approvedAt = detached(v);
    }
    const numberText =
      extras.registrationNo !== undefined ? String(cells[extras.registrationNo - 1] ?? '').trim() : '';
    // — or 无 marks a row never numbered: as a number, every such row would be taken for a later
    // correction of the first one, and overwrite that customer's registration with another's.
    const legacyNo = isPlaceholder(numberText) ? '' : numberText;
    submissions.push({
      row: n,
      submission,
      order: claimOrder(submission.registeredAt),
      ...(legacyNo !== '' ? { legacyNo } : {}),
    });
  }

  // Every value the checks need is in the submissions now: the store's write, the longest phase,
  // runs without the sheet's row map or its shared strings in the heap (only `source` is kept).
  sheet.rows.clear();
  const source = annotationSource(read);
  return {
    parsed: {
      sheetName: sheet.name,
      headerRow: detection.headerRow,
      mapping: detection.columns.map((c) => ({
        column: columnLetter(c.column),
        header: c.header,
        field: c.field,
        confidence: Math.round(c.confidence * 100) / 100,
        ...(c.column === phoneFallback ? { fallbackFor: 'contactPhone' as const } : {}),
      })),
      fieldColumns: [...fieldColumns],
      skipped,
      submissions,
      warnings: read.warnings,
    },
    // `read` itself is not captured here: its sheet reader holds every shared string.
    // A file that passed the reader but trips the writer is still the file's fault: import.unreadable.
    annotate: (request) =>
      withReadableErrors(options.fileName, () =>
        writeAnnotatedWorkbook({
          read: source,
          sheet,
          headerRow: detection.headerRow,
          fieldColumns,
          ...(phoneFallback !== null
            ? { phoneFallback: { column: phoneFallback, rows: phoneFromFallback } }
            : {}),
          rows: request.rows,
          skipped: skippedKinds,
          summary: request.summary,
          meta: request.meta,
        }),
      ),
  };
}

/**
 * Runs the rows through the checks against the store in one transaction (a simulation for a dry
 * run). Resolves once every row is evaluated — with the report and what the annotated copy needs —
 * while `committed` resolves when the store has made the rows durable.
 */
export async function evaluateImport(
  parsed: ParsedImport,
  options: ImportOptions,
  deps: ImportDeps,
): Promise<{ report: ImportReport; annotation: AnnotationRequest; committed: Promise<void> }> {
  // The rows are taken out of `parsed`: each is dropped once evaluated, and only its compact
  // outcome (report row, annotation) is kept, so a large sheet's submissions and full row results
  // are not all in the heap while the store holds the transaction's records.
  const submissions: (ParsedSubmission | undefined)[] = parsed.submissions;
  parsed.submissions = [];
  const count = submissions.length;
  const fieldColumns = new Map(parsed.fieldColumns);
  const now = deps.clock();
  // R17 within the file: the earliest registration is evaluated first and holds the customer.
  // Positions into `submissions` (sheet order), sorted by claim.
  const byClaim = Uint32Array.from(submissions.keys()).sort((a, b) => {
    const x = submissions[a]!;
    const y = submissions[b]!;
    return x.order - y.order || x.row - y.row;
  });
  const rowsOut: ReportRow[] = new Array<ReportRow>(count);
  const annotated: AnnotatedRow[] = new Array<AnnotatedRow>(count);
  const createdBy = new Map<string, number>();
  // A sheet's rows share a few hundred days: one string each, not one per row.
  const days = new Map<string, string>();
  const sameDay = (day: string | undefined): string | undefined => {
    if (day === undefined) return undefined;
    const known = days.get(day);
    if (known !== undefined) return known;
    days.set(day, day);
    return day;
  };
  /** A row's result as the report and the annotated copy show it; the result itself is not kept. */
  const finish = (index: number, row: number, result: RowResult): void => {
    const conflicts = result.conflicts.map((c): ReportConflict & AnnotatedConflict => {
      const fromRow = c.registrationNo !== undefined ? createdBy.get(c.registrationNo) : undefined;
      return {
        ...(fromRow !== undefined ? { row: fromRow } : {}),
        ...(fromRow === undefined || !options.dryRun ? { registrationNo: c.registrationNo } : {}),
        matchedOn: c.matchedOn,
        strength: c.strength,
        ...(fromRow === undefined
          ? { status: c.status, holder: c.holder, protectedUntil: c.protectedUntil }
          : {}),
      };
    });
    const registrationNo =
      result.registrationNo !== undefined && !(options.dryRun && createdBy.has(result.registrationNo))
        ? result.registrationNo
        : undefined;
    rowsOut[index] = {
      row,
      status: result.status,
      ...(registrationNo !== undefined ? { registrationNo } : {}),
      errors: result.errors,
      warnings: result.warnings,
      conflicts: conflicts.map(({ row: r, registrationNo: no, matchedOn, strength }) => ({
        ...(r !== undefined ? { row: r } : {}),
        ...(no !== undefined ? { registrationNo: no } : {}),
        matchedOn,
        strength,
      })),
    };
    annotated[index] = {
      row,
      status: result.status,
      registrationNo,
      protectedUntil: sameDay(result.protectedUntil),
      reviewDueBy: sameDay(result.reviewDueBy),
      errors: result.errors,
      warnings: result.warnings,
      conflicts: conflicts.length > 0 ? conflicts : NO_CONFLICTS,
    };
  };
  let allEvaluated!: () => void;
  const evaluated = new Promise<void>((resolve) => (allEvaluated = resolve));
  const evaluate = async (tx: WriteTx) => {
    const policy = (await tx.getPolicy()) ?? DEFAULT_POLICY;
    let done = 0;
    // History mode: a row whose 报备编号 is a registration in the store, or repeats the number of a
    // row registered before it (by claim), is a later correction of that registration — applied as a
    // change with history after every row is registered, in sheet order, never registered anew.
    const registeredAs = new Map<string, string | undefined>();
    const corrections: {
      index: number;
      row: number;
      submission: SubmissionRow;
      target: string | undefined;
    }[] = [];
    // R45: each registrant's active registrations, counted once for the whole sheet.
    const activeCounts = new Map<string, number>();
    // Registrants' teams, looked up once for the sheet (a look-up walks every user; rows change none).
    const teams = new Map<string, string | undefined>();
    const context: EvaluationContext = {
      tx,
      actor: deps.actor,
      policy,
      now,
      keyring: deps.keyring,
      activeCounts,
      teams,
      ...(deps.calendar ? { calendar: deps.calendar } : {}),
      ...(options.mode === 'history' ? { history: true } : {}),
    };
    // On the embedded store every await above resolves at once: without a pause the whole sheet
    // would run as one turn of the event loop (2.4 s at 20,000 rows), and no other request, not
    // even /api/health, would be answered until the last row.
    const pause = cooperativeLoop();
    for (let at = 0; at < byClaim.length; at++) {
      await pause();
      const index = byClaim[at]!;
      // A store that pays a round trip per look-up (PostgreSQL) fetches a chunk of rows' look-ups at
      // once: the rows are admitted and hashed ahead (evaluateRow takes that) to know their keys.
      if (at % PREFETCH_ROWS === 0) {
        const chunk = byClaim.subarray(at, at + PREFETCH_ROWS);
        if (tx.prefetchKeys !== undefined) {
          context.ahead = admitAhead(
            Array.from(chunk, (i) => submissions[i]!.submission),
            context,
          );
          await prefetchLookups(context);
        }
        // History mode: whether each 报备编号 of the chunk is a registration in the store, at once too.
        if (tx.prefetchRecordsByNo !== undefined) {
          const nos = Array.from(chunk, (i) => submissions[i]!.legacyNo).filter((no) => no !== undefined);
          if (nos.length > 0) await tx.prefetchRecordsByNo(nos);
        }
      }
      const { row, submission, legacyNo } = submissions[index]!;
      submissions[index] = undefined;
      if (legacyNo !== undefined) {
        const target = registeredAs.has(legacyNo)
          ? registeredAs.get(legacyNo)
          : // A number this import just allocated is not one the sheet could have held.
            !createdBy.has(legacyNo) && (await tx.getRecord(legacyNo))
            ? legacyNo
            : null;
        if (target !== null) {
          corrections.push({ index, row, submission, target });
          continue;
        }
      }
      const evaluation = await evaluateRow(submission, context);
      if (evaluation.record) {
        await tx.putRecord(evaluation.record);
        createdBy.set(evaluation.record.no, row);
      }
      // A number whose first row was invalid has nothing to correct (undefined): its corrections say so.
      if (legacyNo !== undefined) registeredAs.set(legacyNo, evaluation.result.registrationNo);
      finish(index, row, evaluation.result);
      if (++done % 500 === 0) options.onProgress?.(done, byClaim.length);
    }
    corrections.sort((a, b) => a.row - b.row);
    for (const [at, { index, row, submission, target }] of corrections.entries()) {
      await pause();
      if (tx.prefetchRecordsByNo !== undefined && at % PREFETCH_ROWS === 0) {
        const chunk = corrections.slice(at, at + PREFETCH_ROWS);
        await tx.prefetchRecordsByNo(chunk.flatMap((c) => (c.target !== undefined ? [c.target] : [])));
      }
      finish(index, row, await correct(tx, row, submission, target, policy));
      if (++done % 500 === 0) options.onProgress?.(done, byClaim.length);
    }
    // Only `finish` needed it; the transaction's closure lives until the store has committed.
    createdBy.clear();
    options.onProgress?.(byClaim.length, byClaim.length);
    allEvaluated();
  };
  /** One correction row: its non-blank cells as a change of the registration (R37), as PATCH decides. */
  const correct = async (
    tx: WriteTx,
    row: number,
    submission: SubmissionRow,
    target: string | undefined,
    policy: typeof DEFAULT_POLICY,
  ): Promise<RowResult> => {
    const record = target ? await tx.getRecord(target) : undefined;
    if (!record) {
      const error = problem(
        'import.correction_target',
        '本行是对同一报备编号的更正，但该编号的首行未能登记，无可更正',
        'This row corrects a registration number whose first row was not registered; there is nothing to correct',
      );
      return { clientRowId: row, status: 'invalid', errors: [error], warnings: [], conflicts: [] };
    }
    const changes: ChangeRequest['changes'] = {};
    for (const field of fieldColumns.keys()) {
      const value = submission[field];
      // A correction row names what changed; blank cells and what a change never sets are left alone.
      if (value === undefined || value === null || value === '' || FIXED_FIELDS[field] !== undefined)
        continue;
      changes[field] = value;
    }
    const evaluation = await evaluateChange(
      record,
      { changes, reason: `导入更正：${options.fileName} 第 ${row} 行` },
      {
        tx,
        actor: deps.actor,
        as: 'reviewer',
        policy,
        now,
        keyring: deps.keyring,
        calendar: deps.calendar,
      },
    );
    if (!evaluation.ok) {
      return {
        clientRowId: row,
        status: 'invalid',
        errors: evaluation.errors,
        warnings: [],
        conflicts: evaluation.conflicts,
      };
    }
    const fields = evaluation.changed.join('、');
    const note =
      evaluation.changed.length > 0
        ? problem(
            'import.correction',
            `本行是对 ${record.no} 的更正，已记入其变更历史（${fields}）`,
            `This row corrects ${record.no}; the change is in its history (${evaluation.changed.join(', ')})`,
          )
        : problem(
            'import.correction',
            `本行是对 ${record.no} 的更正，内容与其相同，无更改`,
            `This row corrects ${record.no} and holds nothing new`,
          );
    const saved = evaluation.record;
    return {
      clientRowId: row,
      status: effectiveStatus(saved, dayOf(now)),
      registrationNo: saved.no,
      errors: [],
      warnings: [note, ...evaluation.warnings],
      conflicts: evaluation.conflicts,
      ...datesOf(saved),
    };
  };
  const committed = (options.dryRun ? deps.store.simulate(evaluate) : deps.store.write(evaluate)).then(
    () => undefined,
  );
  // Once every row is evaluated the outcomes are final: the report is put together, and the caller
  // builds the annotated copy, while the store makes the rows durable (its file write).
  await Promise.race([evaluated, committed]);

  const reportRows: ReportRow[] = parsed.skipped.concat(rowsOut);
  reportRows.sort((a, b) => a.row - b.row);
  const byStatus: Partial<Record<RowStatus | 'skipped', number>> = {};
  for (const r of reportRows) byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
  const report: ImportReport = {
    file: options.fileName,
    sheet: parsed.sheetName,
    mode: options.mode,
    dryRun: options.dryRun,
    headerRow: parsed.headerRow,
    mapping: parsed.mapping,
    rows: reportRows,
    summary: { rows: count, byStatus },
    ...(parsed.warnings.length > 0 ? { warnings: parsed.warnings } : {}),
  };
  return {
    report,
    annotation: {
      rows: annotated,
      summary: report.summary,
      meta: { file: options.fileName, mode: options.mode, dryRun: options.dryRun, at: now.toISOString() },
    },
    committed,
  };
}

/**
 * A cell's text as a string of its own. The reader cuts cell texts out of the part's text, and V8
 * keeps such a cut (13 characters or more) as a slice that holds the whole part alive: one customer
 * name the store keeps in memory would keep the shared-string table (~15 MB at 100,000 rows, two
 * bytes a character) for the life of the process. Prefixing a character makes V8 copy the text;
 * the slice taken off that copy holds only the copy.
 */
function detached(value: CellValue): CellValue {
  return typeof value === 'string' && value.length >= 13 ? ` ${value}`.slice(1) : value;
}

/** Sort key for R17: the registration time written in the sheet, unparseable ones last. */
function claimOrderOf(referenceYear: number): (value: CellValue | undefined) => number {
  // A sheet repeats its dates (a few hundred days over thousands of rows): each is parsed once.
  const known = new Map<string | number | boolean, number>();
  const knownDates = new Map<number, number>();
  return (value) => {
    if (value === undefined || value === null || value === '') return Number.MAX_SAFE_INTEGER;
    const date = value instanceof Date ? value.getTime() : undefined;
    let order = date !== undefined ? knownDates.get(date) : known.get(value as string | number | boolean);
    if (order === undefined) {
      const parsed = parseInstant(value, { referenceYear });
      order = parsed.ok ? Date.parse(parsed.instant) : Number.MAX_SAFE_INTEGER;
      if (date !== undefined) knownDates.set(date, order);
      else known.set(value as string | number | boolean, order);
    }
    return order;
  };
}
