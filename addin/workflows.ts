/**
 * What the task pane's buttons do, without any UI: prepare a sheet, check, submit, refresh, and the
 * reviewers' 待审核 sheet. Decisions come from core's sheet plans (core/sheet*.ts), Excel is
 * reached only through the gateway and the service only through the API client; progress is reported through a callback.
 * Every error thrown carries `code`, `message` (zh-CN, says what to do) and `messageEn`.
 *
 * Over 600 lines as one file: each button's workflow is a short sequence of gateway, client and core
 * calls sharing the same progress and error conventions; the decisions are in core.
 */
import { dayOf } from '../core/day.js';
import type { Policy } from '../core/policy.js';
import { DomainError, problem, type Problem } from '../core/problem.js';
import type { RowContext } from '../core/row.js';
import type { RowStatus } from '../core/schema.js';
import {
  planReviewSheet,
  readReviewDecisions,
  REVIEW_SHEET_NAME,
  type ReviewCarryOver,
  type ReviewDecision,
} from '../core/reviewSheetPlan.js';
import { columnLetters, type SheetCell } from '../core/sheetGrid.js';
import {
  countSkippedRows,
  planLayout,
  planSkippedRowHints,
  type HintWrite,
  type SheetLayout,
} from '../core/sheetLayout.js';
import { planPrepare, tableHeaderProblem } from '../core/sheetPrepare.js';
import {
  countByStatus,
  outcomeOfLocalErrors,
  outcomeOfResult,
  outcomeOfState,
  planResults,
  type RowOutcome,
} from '../core/sheetResults.js';
import { readRows, type LocalRow } from '../core/sheetRows.js';
import { describeSheet, type SheetSetup } from '../core/sheetSetup.js';
import {
  identityColumns,
  locateHeader,
  locateRows,
  relocateHints,
  relocateOutcomes,
} from '../core/rowIdentity.js';
import {
  changedFields,
  fieldNames,
  planSeen,
  readSeen,
  registeredRows,
  rowValues,
  keepSeen,
  seenBy,
  SNAPSHOT_SHEET_NAME,
  type SeenEntry,
} from '../core/sheetChanges.js';
import { conflictSchema, rowStatusSchema, type Field } from '../core/schema.js';
import { recordViewSchema } from '../core/responses.js';
import type { AnnotatedConflict } from '../core/annotation.js';
import { z } from 'zod';
import { ApiError, type ApiClient, type RegistrationView } from './apiClient.js';
import { protectedSheet, type ExcelGateway, type SheetSnapshot, type WriteWarning } from './excelGateway.js';

export type { ColumnChoice, SheetSetup } from '../core/sheetSetup.js';

/** Stages reported through `progress`, in the order a run goes through them. */
export type WorkflowStage = 'reading' | 'sending' | 'fetching' | 'deciding' | 'writing';

export interface WorkflowProgress {
  stage: WorkflowStage;
  done: number;
  total: number;
}

export interface WorkflowDeps {
  excel: ExcelGateway;
  api: ApiClient;
  progress?: (p: WorkflowProgress) => void;
  /** One key per submission; a retry of the same unfinished submission reuses it. */
  newIdempotencyKey?: () => string;
  now?: () => Date;
}

export interface RunSummary {
  /** Rows whose results were written back. */
  rows: number;
  byStatus: Partial<Record<RowStatus, number>>;
  /** Rows core found invalid, marked and not sent. */
  invalidBeforeSend: number;
  /** Rows left alone: already registered (check, submit) or not found on the service (refresh). */
  skipped: number;
  /**
   * Check, submit: rows under the header that are no registration — the template's example row, a
   * total, a note, the header repeated — not sent; each says so in its 提示.
   */
  notRegistered?: number;
  /**
   * Check, submit: 提示 texts of those rows not written this run, because their row could not be told
   * once rows had moved while the service worked (core relocateHints); the next run writes them.
   */
  hintsLeft?: number;
  /**
   * Rows whose results found no row to go to: deleted, or their customer/contact cells edited while
   * the service worked. Their registrations are kept; Refresh shows them once the number is back.
   */
  lostRows: number[];
  /** What was written only in part (notes Excel refused…); the results are in place. */
  warnings: WriteWarning[];
  /** Submit: the edited registered rows it sent as changes too. */
  changes?: ChangeSummary;
}

export interface ChangeSummary {
  /** Rows whose changes were applied (resubmitted ones included). */
  changed: number;
  /** Rejected rows sent back to review after their correction (R13). */
  resubmitted: number;
  /** Rows refused: stale version (refresh first), a conflict, an invalid value. */
  refused: number;
  /** Registered rows the sheet has not seen yet (registered elsewhere): Refresh first. */
  unseen: number;
  lostRows: number[];
  warnings: WriteWarning[];
}

export interface PrepareResult {
  invalidCells: number;
  invalidRows: number;
  /** Null when the header row was already in an Excel table. */
  tableCreated: boolean | null;
  /** Why no table was made (zh-CN), and in English. */
  tableError?: string;
  tableErrorEn?: string;
  warnings: WriteWarning[];
}

export interface Workflows {
  /** Prepare step 1: header row and column mapping, with confidence and alternatives. */
  detect(): Promise<SheetSetup>;
  /** Prepare step 2: table, validation, formats, result columns; invalid cells marked, nothing sent. */
  apply(setup: SheetSetup): Promise<PrepareResult>;
  /** POST /api/check for rows not yet registered; results written back, nothing saved. */
  check(setup?: SheetSetup): Promise<RunSummary>;
  /** Registers rows not yet registered (one Idempotency-Key per submission) and writes the results back. */
  submit(setup?: SheetSetup): Promise<RunSummary>;
  /**
   * 提交更改: the edited fields of registered rows, each row one PATCH with the version the sheet last
   * saw (If-Match); a corrected rejected row is resubmitted (R13). Refusals go onto the row.
   */
  submitChanges(setup?: SheetSetup): Promise<ChangeSummary>;
  /** Current status and protection dates for rows holding a 报备编号. */
  refresh(setup?: SheetSetup): Promise<RunSummary>;
  /** The 待审核 sheet: pending and competing registrations, ranked, with a decision column. */
  buildReviewSheet(): Promise<{ groups: number; rows: number }>;
  /** Posts the decisions typed into 待审核, then builds it again (failed decisions kept, in red). */
  applyReviewDecisions(): Promise<{ decided: number; errors: { row: number; message: string }[] }>;
}

/** Numbers per lookup: the list travels in the URL, which Node caps with the headers at 16 KB. */
const LOOKUP_BATCH = 300;
/** Decisions that free a place go first: a rejection before the approval of the next in line. */
const DECISION_ORDER: Record<ReviewDecision['body']['decision'], number> = {
  reject: 0,
  share: 1,
  approve: 2,
};

const nothingWritten = { lostRows: [] as number[], warnings: [] as WriteWarning[], hintsLeft: 0 };

/** Error cells and the date system, as the sheet's reader found them. */
function readOptions(snapshot: SheetSnapshot): {
  errorCells: SheetSnapshot['errorCells'];
  date1904: boolean;
} {
  return { errorCells: snapshot.errorCells, date1904: snapshot.date1904 };
}

function randomKey(): string {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  return `addin-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/** The reason a change from the sheet carries into the record's history (R37). */
const SHEET_CHANGE_REASON = '在 Excel 报备表中更改';
/**
 * Refusals no correction of the cells can answer: the registration is closed, the field is fixed,
 * a reviewer decides, or it is no longer the caller's. "Correct it and submit again" would have
 * the user retry a change refused the same way on every press.
 */
const UNCORRECTABLE = new Set([
  'change.closed',
  'change.field_fixed',
  'change.ranking_locked',
  'change.protection_granted',
  'auth.forbidden',
  'registration.not_found',
]);

/** A 412 or a refusal's extras, checked with core's schemas (never trusted as they come). */
const conflictsSchema = z.array(conflictSchema);

/** The R3 view of a refusal's conflicts as the row's 冲突说明 shows them: holder, team, dates. */
function annotatedConflicts(details: Record<string, unknown> | undefined): AnnotatedConflict[] {
  const parsed = conflictsSchema.safeParse(details?.['conflicts']);
  if (!parsed.success) return [];
  return parsed.data.map((c) => ({
    registrationNo: c.registrationNo,
    status: c.status,
    holder: c.holder,
    protectedUntil: c.protectedUntil,
    matchedOn: c.matchedOn,
    strength: c.strength,
  }));
}

/**
 * The header's table does not hold the result columns, so sorting it would leave them behind; the
 * table has to reach `reach` (the last column before the results to be made, or the last result column).
 */
function resultsOutsideTable(table: { left: number; right: number }, reach: number): DomainError {
  const span = `${columnLetters(table.left)}–${columnLetters(table.right)}`;
  const to = columnLetters(reach);
  return new DomainError(
    problem(
      'sheet.results_outside_table',
      `表头所在的表格只到 ${span} 列，报备编号等结果列在表格外：对表格排序时结果不会随行移动，会落到别的客户行上。请在「表设计 > 调整表格大小」中把表格扩展到 ${to} 列，然后重试（这次没有发送任何内容）`,
      `The table the header is in spans columns ${span} only, and the result columns (报备编号…) are outside it: sorting the table would leave the results on other customers' rows. Extend the table to column ${to} (Table Design > Resize Table), then retry (nothing was sent)`,
    ),
  );
}

export function createWorkflows(deps: WorkflowDeps): Workflows {
  const { excel, api } = deps;
  const now = deps.now ?? (() => new Date());
  const newKey = deps.newIdempotencyKey ?? randomKey;
  const report = (stage: WorkflowStage, done: number, total: number) =>
    deps.progress?.({ stage, done, total });
  /** The submission that has not been written back yet: retrying it must replay, not register again. */
  let unfinished: { key: string; fingerprint: string } | undefined;

  function rowContext(policy: Policy): RowContext {
    return { referenceDate: dayOf(now()), policy };
  }

  function noHeader(sheetName: string): DomainError {
    return new DomainError(
      problem(
        'sheet.no_header',
        `在工作表「${sheetName}」的前 30 行找不到表头（如 客户名称、联系电话、报备人），请打开报备表后重试`,
        `No header row (such as 客户名称, 联系电话, 报备人) in the first 30 rows of sheet "${sheetName}"; open the registration sheet and retry`,
      ),
    );
  }

  async function detect(): Promise<SheetSetup> {
    return (await openSheet(undefined, { readOnly: true })).setup;
  }

  /** The sheet and its layout; without a setup, the active sheet is detected from the same read. */
  async function openSheet(
    given: SheetSetup | undefined,
    options: { readOnly?: boolean } = {},
  ): Promise<{ setup: SheetSetup; snapshot: SheetSnapshot; layout: SheetLayout }> {
    report('reading', 0, 1);
    let setup = given;
    let snapshot: SheetSnapshot;
    if (setup === undefined) {
      snapshot = await excel.readSheet();
      setup = describeSheet(snapshot.sheetName, snapshot.grid) ?? undefined;
      if (setup === undefined) throw noHeader(snapshot.sheetName);
    } else {
      snapshot = await excel.readSheet({ sheetName: setup.sheetName, headerRow: setup.headerRow });
    }
    report('reading', 1, 1);
    // Checked before anything is sent: a submission whose results cannot be written would be lost.
    if (snapshot.protected && options.readOnly !== true) throw protectedSheet(snapshot.sheetName);
    if (snapshot.sheetName === REVIEW_SHEET_NAME) {
      throw new DomainError(
        problem(
          'sheet.is_review',
          `「${REVIEW_SHEET_NAME}」是审核用的表，请切换到报备登记表后再操作`,
          `"${REVIEW_SHEET_NAME}" is the reviewers' sheet; switch to the registration sheet first`,
        ),
      );
    }
    const layout = planLayout(snapshot.grid, setup);
    if (snapshot.headerInTable && options.readOnly !== true) {
      const table = await excel.headerTable(snapshot.sheetName, layout.headerRow);
      // A table beside the data that merely shares the header row (a legend) holds none of it: the
      // result columns neither join it nor need to be in it.
      const holdsData = table.left <= layout.firstColumn && layout.firstColumn <= table.right;
      const missing = layout.missingResultColumns;
      const first = Math.min(...missing.map((k) => layout.resultColumns[k]));
      // Result columns still to be made go into the header's table when it ends right before them.
      if (holdsData && missing.length > 0 && table.right === first - 1) layout.appendToTable = true;
      // Excel sorts a table's own columns only: a 报备编号 outside it stays on the row it was written
      // to and names another customer once the table is sorted (and 提交更改 would then send that
      // customer's cells as a change of the registration). Refused before anything is sent.
      const outside = (Object.keys(layout.resultColumns) as (keyof SheetLayout['resultColumns'])[])
        .filter((k) => !missing.includes(k))
        .map((k) => layout.resultColumns[k])
        .filter((column) => column < table.left || column > table.right);
      if (holdsData && (outside.length > 0 || (missing.length > 0 && layout.appendToTable !== true))) {
        throw resultsOutsideTable(table, missing.length > 0 ? first - 1 : Math.max(...outside));
      }
    }
    return { setup, snapshot, layout };
  }

  /** The layout with its header on `row` now; with no header row found, no result header is written. */
  function headedAt(layout: SheetLayout, row: number | null): SheetLayout {
    return row === null ? { ...layout, missingResultColumns: [] } : { ...layout, headerRow: row };
  }

  /**
   * Results onto the rows that hold them now: the identifying columns are read again just before the
   * write (in the same round trip) and each outcome follows its row (core/rowIdentity.ts).
   */
  async function writeBack(
    layout: SheetLayout,
    snapshot: SheetSnapshot,
    outcomes: readonly RowOutcome[],
    hints: readonly HintWrite[] = [],
  ): Promise<{ lostRows: number[]; warnings: WriteWarning[]; hintsLeft: number }> {
    report('writing', 0, outcomes.length);
    const options = { notes: excel.capabilities().notes };
    let lostRows: number[] = [];
    let hintsLeft = 0;
    const rows = outcomes.map((o) => o.row);
    const written = await excel.writeSheet(planResults(layout, outcomes, { ...options, hints }), {
      columns: identityColumns(layout),
      // Rows inserted meanwhile push the data down; read well past the last row read.
      lastRow: Math.max(snapshot.grid.length * 2, snapshot.grid.length + 1000),
      build: (now) => {
        const relocation = locateRows(layout, snapshot.grid, now, rows);
        lostRows = relocation.lost;
        // The skipped rows' 提示 texts follow their rows too (core relocateHints says how); one
        // whose row cannot be told is left for the next run, and the pane says how many.
        const placed = relocateHints(layout, snapshot.grid, now, hints);
        hintsLeft = hints.length - placed.length;
        // Result columns made by this run are headed on the header's row as it is now: rows inserted
        // above it meanwhile moved it, and headers left on the old row (a title, by then) would not be
        // found by the next run, which would make a second set. Not found at all, none are written.
        const headerRow = locateHeader(layout, snapshot.grid, now);
        const current = headerRow === layout.headerRow ? layout : headedAt(layout, headerRow);
        return planResults(current, relocateOutcomes(outcomes, relocation), { ...options, hints: placed });
      },
    });
    report('writing', outcomes.length, outcomes.length);
    return { lostRows, warnings: written.warnings, hintsLeft };
  }

  /** Rows to send, rows core already finds invalid, and rows already registered. */
  function sortRows(rows: readonly LocalRow[]): { send: LocalRow[]; invalid: LocalRow[]; skipped: number } {
    const open = rows.filter((r) => r.registrationNo === null);
    return {
      send: open.filter((r) => r.errors.length === 0),
      invalid: open.filter((r) => r.errors.length > 0),
      skipped: rows.length - open.length,
    };
  }

  async function run(mode: 'check' | 'submit', given: SheetSetup | undefined): Promise<RunSummary> {
    const policy = await api.policy();
    const { snapshot, layout } = await openSheet(given);
    const all = readRows(layout, snapshot.grid, rowContext(policy), readOptions(snapshot));
    const { send, invalid, skipped } = sortRows(all);
    const submissions = send.map((r) => r.submission);
    const onProgress = (done: number, total: number) => report('sending', done, total);
    report('sending', 0, submissions.length);

    let results = [] as Awaited<ReturnType<ApiClient['check']>>;
    if (submissions.length > 0) {
      if (mode === 'check') results = await api.check(submissions, { onProgress });
      else {
        const fingerprint = JSON.stringify(submissions);
        const key = unfinished?.fingerprint === fingerprint ? unfinished.key : newKey();
        unfinished = { key, fingerprint };
        results = await api.submit(submissions, key, { onProgress });
      }
    }

    const rowOf = (i: number): number => {
      const id = results[i]?.clientRowId;
      return typeof id === 'number' ? id : (send[i]?.row ?? 0);
    };
    const rowByNo = new Map<string, number>();
    results.forEach((r, i) => {
      if (r.registrationNo !== undefined && r.status !== 'duplicate') rowByNo.set(r.registrationNo, rowOf(i));
    });
    const outcomes: RowOutcome[] = [
      ...invalid.map(outcomeOfLocalErrors),
      ...results.map((r, i) => outcomeOfResult(rowOf(i), r, rowByNo)),
    ];
    const hints = planSkippedRowHints(layout);
    const written =
      outcomes.length > 0 || hints.length > 0
        ? await writeBack(layout, snapshot, outcomes, hints)
        : nothingWritten;
    const summary: RunSummary = {
      rows: outcomes.length - written.lostRows.length,
      byStatus: countByStatus(outcomes.filter((o) => !written.lostRows.includes(o.row))),
      invalidBeforeSend: invalid.length,
      skipped,
      notRegistered: countSkippedRows(layout),
      ...written,
    };
    if (mode === 'check') return summary;
    unfinished = undefined;
    // Submit also sends what was edited in rows registered earlier (issue 15), from the same read.
    const seen = await readSeenEntries();
    const { summary: changes, stopped, seenChanged } = await changeRows(layout, snapshot, all, seen);
    // What the sheet saw of each new registration: its cells as sent, at the version it was created
    // with (1). Were it already changed elsewhere, the first change from the sheet meets 412: safe.
    for (const [no, row] of rowByNo) {
      const status = results.find((r) => r.registrationNo === no)?.status ?? 'pending';
      const values = rowValues(layout, snapshot.grid, row);
      keepSeen(seen, { no, sheet: layout.sheetName, version: 1, status, values });
    }
    if (rowByNo.size > 0 || seenChanged) await excel.writeSheet(planSeen(seen));
    if (stopped !== undefined) throw stopped;
    return { ...summary, changes };
  }

  /** What the sheet last saw of each registration (报备快照), empty when it has none yet. */
  async function readSeenEntries(): Promise<Map<string, SeenEntry>> {
    const sheet = await excel.readSheetIfExists(SNAPSHOT_SHEET_NAME);
    return readSeen(sheet?.grid ?? null);
  }

  /**
   * 提交更改: one PATCH per edited registered row, with only the fields that differ from what the
   * sheet last saw and that version as If-Match (a retry after an applied change meets 412, never a
   * second change). Results go onto the rows (found again by 报备编号), then 报备快照 is rewritten.
   */
  async function sendChanges(given: SheetSetup | undefined): Promise<ChangeSummary> {
    const policy = await api.policy();
    const { snapshot, layout } = await openSheet(given);
    const seen = await readSeenEntries();
    const rows = readRows(layout, snapshot.grid, rowContext(policy), readOptions(snapshot));
    const { summary, stopped, seenChanged } = await changeRows(layout, snapshot, rows, seen);
    if (seenChanged) await excel.writeSheet(planSeen(seen));
    if (stopped !== undefined) throw stopped;
    return summary;
  }

  /**
   * The PATCHes of the edited rows and their results written back; `seen` is updated in place for
   * the caller to write. A failure that stops everything (no service, signed out) is returned after
   * what was done is written.
   */
  async function changeRows(
    layout: SheetLayout,
    snapshot: SheetSnapshot,
    rows: readonly LocalRow[],
    seen: Map<string, SeenEntry>,
  ): Promise<{ summary: ChangeSummary; stopped: unknown; seenChanged: boolean }> {
    let seenChanged = false;
    const local = new Map(rows.map((r) => [r.row, r]));
    const edits: { row: number; no: string; entry: SeenEntry; fields: Field[]; others: number[] }[] = [];
    let unseen = 0;
    for (const [no, numbered] of registeredRows(layout, snapshot.grid)) {
      const entry = seenBy(seen, layout.sheetName, no);
      for (const row of numbered) {
        if (entry === undefined || entry.values === null) {
          unseen++;
          continue;
        }
        const fields = changedFields(entry.values, rowValues(layout, snapshot.grid, row));
        const others = numbered.filter((r) => r !== row);
        if (fields.length > 0) edits.push({ row, no, entry, fields, others });
      }
    }
    edits.sort((a, b) => a.row - b.row);
    const summary: ChangeSummary = {
      changed: 0,
      resubmitted: 0,
      refused: 0,
      unseen,
      lostRows: [],
      warnings: [],
    };
    const outcomes: RowOutcome[] = [];
    /** A change not applied: the row keeps its number and the status it had (or the record has now). */
    const refusedRow = (
      edit: (typeof edits)[number],
      status: unknown,
      errors: Problem[],
      conflicts: ReturnType<typeof annotatedConflicts> = [],
    ): RowOutcome => {
      summary.refused++;
      const parsed = rowStatusSchema.safeParse(status);
      return {
        row: edit.row,
        annotation: {
          status: parsed.success ? parsed.data : 'pending',
          registrationNo: edit.no,
          errors,
          warnings: [],
          conflicts,
        },
      };
    };
    let stopped: unknown;
    report('sending', 0, edits.length);
    for (const [i, edit] of edits.entries()) {
      // A broken formula (#REF!) is left out of the row's submission: sent, its field would go as
      // null and empty the value on the record. The row is not sent until the cell is mended.
      const broken = (local.get(edit.row)?.errors ?? []).filter(
        (e) => e.code === 'cell.error_value' && edit.fields.includes(e.field as Field),
      );
      // The same number on several rows: which row's cells are the registration's is not known, and
      // sending each would change the record back and forth with every press.
      const shared =
        edit.others.length === 0
          ? []
          : [
              problem(
                'change.number_on_rows',
                `更改未生效：报备编号 ${edit.no} 也在第 ${edit.others.join('、')} 行，无法确定哪一行是该报备。请只在一行保留该编号（复制或重复的行请清空报备编号），再点「提交更改」`,
                `Change not applied: registration number ${edit.no} is also on row ${edit.others.join(', ')}, so which row is the registration is unknown. Keep the number on one row only (clear it on copied or repeated rows), then submit the changes again`,
              ),
            ];
      if (broken.length > 0 || shared.length > 0) {
        outcomes.push(
          refusedRow(edit, edit.entry.status, [
            ...shared,
            ...broken.map((e) =>
              problem(e.code, `更改未生效：${e.message}`, `Change not applied: ${e.messageEn}`, e.field),
            ),
          ]),
        );
        report('sending', i + 1, edits.length);
        continue;
      }
      const submission = local.get(edit.row)?.submission ?? { clientRowId: edit.row };
      const changes = Object.fromEntries(edit.fields.map((f) => [f, (submission[f] ?? null) as SheetCell]));
      try {
        let result = await api.change(
          edit.no,
          { changes, reason: SHEET_CHANGE_REASON },
          `"${edit.entry.version}"`,
        );
        // Seen at once: were the resubmission below refused, the change itself is not sent again.
        const values = rowValues(layout, snapshot.grid, edit.row);
        const saw = (r: typeof result) => {
          const { version, status } = r.record;
          keepSeen(seen, { no: edit.no, sheet: layout.sheetName, version, status, values });
          seenChanged = true;
        };
        saw(result);
        // R13: a rejected registration corrected in the sheet goes back to review with its number.
        if (result.record.status === 'rejected') {
          result = await api.resubmit(edit.no, result.record.etag);
          saw(result);
          summary.resubmitted++;
        }
        summary.changed++;
        const names = fieldNames(edit.fields);
        const state = outcomeOfState(edit.row, result.record);
        state.annotation = {
          ...state.annotation,
          warnings: [
            problem(
              'change.applied',
              `已更改：${names.zh}（第 ${result.record.version} 版）`,
              `Changed: ${names.en} (version ${result.record.version})`,
            ),
            ...result.warnings,
            ...state.annotation.warnings,
          ],
        };
        outcomes.push(state);
      } catch (error) {
        // Without the service (or the right to use it) nothing else goes through: write what was done.
        if (!(error instanceof ApiError) || error.status === 0 || error.status === 401) {
          stopped = error;
          break;
        }
        const current = recordViewSchema.safeParse(error.details?.['record']);
        const next =
          error.status === 412
            ? {
                zh: '请点「刷新」取得最新版本后，再点「提交更改」',
                en: 'Refresh, then submit the changes again',
              }
            : annotatedConflicts(error.details).length > 0
              ? {
                  zh: '见冲突说明；如需保留原客户，请把单元格改回原值',
                  en: 'See the conflict; to keep the customer, put the cells back',
                }
              : UNCORRECTABLE.has(error.code)
                ? {
                    zh: '改动不会生效；请把单元格改回原值，这一行就不再提交',
                    en: 'The change cannot take effect; put the cells back and the row is no longer sent',
                  }
                : { zh: '请改正后再点「提交更改」', en: 'Correct it and submit the changes again' };
        outcomes.push(
          refusedRow(
            edit,
            current.success ? current.data.status : edit.entry.status,
            [
              problem(
                error.code,
                `更改未生效：${error.message} ${next.zh}`,
                `Change not applied: ${error.messageEn} ${next.en}`,
                error.field !== undefined && edit.fields.includes(error.field as Field)
                  ? (error.field as Field)
                  : undefined,
              ),
            ],
            annotatedConflicts(error.details),
          ),
        );
      }
      report('sending', i + 1, edits.length);
    }
    if (outcomes.length > 0) {
      const written = await writeBack(layout, snapshot, outcomes);
      summary.lostRows = written.lostRows;
      summary.warnings = written.warnings;
    }
    return { summary, stopped, seenChanged };
  }

  /** Registrations by number, in batches of LOOKUP_BATCH; numbers the caller may not see are left out. */
  async function lookUp(numbers: ReadonlySet<string>): Promise<Map<string, RegistrationView>> {
    const found = new Map<string, RegistrationView>();
    const all = [...numbers];
    for (let i = 0; i < all.length; i += LOOKUP_BATCH) {
      const batch = all.slice(i, i + LOOKUP_BATCH);
      const page = await api.listRegistrations({ no: batch, limit: LOOKUP_BATCH });
      for (const item of page.items) found.set(item.no, item);
      report('fetching', Math.min(i + LOOKUP_BATCH, all.length), all.length);
    }
    return found;
  }

  async function buildReviewSheet(
    carry?: ReadonlyMap<string, ReviewCarryOver>,
  ): Promise<{ groups: number; rows: number }> {
    report('fetching', 0, 1);
    const queue = await api.reviewQueue();
    report('fetching', 1, 1);
    const plan = planReviewSheet(queue.groups, carry);
    report('writing', 0, plan.rows);
    await excel.writeSheet(plan.write);
    report('writing', plan.rows, plan.rows);
    return { groups: queue.groups.length, rows: plan.rows };
  }

  return {
    detect,

    async apply(setup) {
      const policy = await api.policy();
      const { snapshot, layout } = await openSheet(setup);
      const rows = readRows(layout, snapshot.grid, rowContext(policy), readOptions(snapshot));
      const headerProblem = snapshot.headerInTable ? null : tableHeaderProblem(layout, snapshot.grid);
      const plan = planPrepare(layout, rows, {
        createTable: !snapshot.headerInTable && headerProblem === null,
        notes: excel.capabilities().notes,
      });
      report('writing', 0, 1);
      const written = await excel.writeSheet(plan.write);
      report('writing', 1, 1);
      const tableError =
        headerProblem !== null
          ? { tableError: headerProblem.message, tableErrorEn: headerProblem.messageEn }
          : written.tableError !== undefined
            ? { tableError: written.tableError, tableErrorEn: written.tableError }
            : {};
      return {
        invalidCells: plan.invalidCells,
        invalidRows: plan.invalidRows,
        tableCreated: headerProblem !== null ? false : written.tableCreated,
        warnings: written.warnings,
        ...tableError,
      };
    },

    check: (setup) => run('check', setup),
    submit: (setup) => run('submit', setup),
    submitChanges: (setup) => sendChanges(setup),

    async refresh(given) {
      const { snapshot, layout } = await openSheet(given);
      const numbered = layout.rows.filter((r) => r.kind === 'data' && r.registrationNo !== null);
      const numbers = new Set(numbered.map((r) => r.registrationNo as string));
      report('fetching', 0, numbers.size);
      const found = numbers.size === 0 ? new Map<string, RegistrationView>() : await lookUp(numbers);
      const outcomes = numbered.flatMap((r) => {
        const state = found.get(r.registrationNo as string);
        return state === undefined ? [] : [outcomeOfState(r.row, state)];
      });
      const written = outcomes.length > 0 ? await writeBack(layout, snapshot, outcomes) : nothingWritten;
      if (found.size > 0) {
        // The versions seen now. A row edited but not yet sent keeps the values it was edited from,
        // so 提交更改 still sends the edit (now at the current version, after a 412 was shown).
        const seen = await readSeenEntries();
        let dirty = false;
        for (const r of numbered) {
          const state = found.get(r.registrationNo as string);
          if (state === undefined) continue;
          const before = seenBy(seen, layout.sheetName, state.no);
          const values = rowValues(layout, snapshot.grid, r.row);
          const edited = before?.values != null && changedFields(before.values, values).length > 0;
          const entry: SeenEntry = {
            no: state.no,
            sheet: layout.sheetName,
            version: state.version,
            status: state.status,
            values: edited ? (before?.values ?? values) : values,
          };
          if (JSON.stringify(entry) !== JSON.stringify(before)) dirty = true;
          keepSeen(seen, entry);
        }
        // Nothing new since the last refresh: the snapshot is not written again.
        if (dirty) await excel.writeSheet(planSeen(seen));
      }
      return {
        rows: outcomes.length - written.lostRows.length,
        byStatus: countByStatus(outcomes.filter((o) => !written.lostRows.includes(o.row))),
        invalidBeforeSend: 0,
        skipped: numbered.length - outcomes.length,
        ...written,
      };
    },

    buildReviewSheet: () => buildReviewSheet(),

    async applyReviewDecisions() {
      report('reading', 0, 1);
      const snapshot = await excel.readSheetIfExists(REVIEW_SHEET_NAME);
      if (snapshot === null) {
        throw new DomainError(
          problem(
            'review.sheet_missing',
            `还没有「${REVIEW_SHEET_NAME}」表，请先生成待审核表`,
            `There is no ${REVIEW_SHEET_NAME} sheet yet; build it first`,
          ),
        );
      }
      report('reading', 1, 1);
      const { decisions, errors } = readReviewDecisions(snapshot.grid);
      const carry = new Map(errors.map((e) => [e.registrationNo, e.carry]));
      const failures = errors.map(({ row, message }) => ({ row, message }));
      const ordered = [...decisions].sort(
        (a, b) => DECISION_ORDER[a.body.decision] - DECISION_ORDER[b.body.decision] || a.row - b.row,
      );
      let decided = 0;
      for (const [i, d] of ordered.entries()) {
        report('deciding', i, ordered.length);
        try {
          await api.review(d.registrationNo, d.body);
          decided++;
        } catch (error) {
          // Without the service (or the right to use it) nothing else will go through either.
          if (!(error instanceof ApiError) || error.status === 0 || error.status === 401) throw error;
          failures.push({ row: d.row, message: `第 ${d.row} 行（${d.registrationNo}）：${error.message}` });
          carry.set(d.registrationNo, { ...d.carry, outcome: error.message });
        }
      }
      report('deciding', ordered.length, ordered.length);
      await buildReviewSheet(carry);
      return { decided, errors: failures.sort((a, b) => a.row - b.row) };
    },
  };
}
