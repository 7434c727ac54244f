/**
 * What a run writes back on a sheet from its rows' results: the result cells per row (via
 * core/annotation, as text), the row fill by status, invalid cells filled a deeper violet with a
 * note, the result headers a sheet lacks, and a guard that the rows did not move meanwhile. The
 * outcomes come from the service's row results, from core's own checks, or from a registration's
 * state (Refresh).
 */
import {
  annotateRow,
  FILLS,
  INVALID_CELL_FILL,
  RESULT_HEADERS,
  type AnnotatedConflict,
  type AnnotationInput,
} from './annotation.js';
import { problem, type Problem } from './problem.js';
import type { Field, RecordStatus, ResultColumn, RowResult, RowStatus } from './schema.js';
import { cellAddress, cellAt, range1, rangeAddress, type SheetGrid } from './sheetGrid.js';
import type { HintWrite, SheetLayout } from './sheetLayout.js';
import type { LocalRow } from './sheetRows.js';
import { fillOps, rowValueOps, runsOf, TEXT_FORMAT, type SheetOp, type SheetWrite } from './sheetWrite.js';

/** One row's result as core/annotation takes it. */
export interface RowOutcome {
  row: number;
  annotation: AnnotationInput;
  /** Fields whose note goes on another column than their own (LocalRow.readFrom). */
  readFrom?: Partial<Record<Field, number>>;
}

/**
 * A service row result as the annotation shows it. A clash with another row of the same run points
 * at that row (as the import does): by the number that row got on submit, or by its clientRowId —
 * the sheet row — in a check, where nothing was saved.
 */
export function outcomeOfResult(
  row: number,
  result: RowResult,
  rowByNo: ReadonlyMap<string, number>,
): RowOutcome {
  const conflicts = result.conflicts.map((c): AnnotatedConflict => {
    const other =
      typeof c.clientRowId === 'number'
        ? c.clientRowId
        : c.registrationNo === undefined
          ? undefined
          : rowByNo.get(c.registrationNo);
    if (other !== undefined && other !== row) {
      return { row: other, registrationNo: c.registrationNo, matchedOn: c.matchedOn, strength: c.strength };
    }
    return {
      registrationNo: c.registrationNo,
      status: c.status,
      holder: c.holder,
      protectedUntil: c.protectedUntil,
      matchedOn: c.matchedOn,
      strength: c.strength,
    };
  });
  return {
    row,
    annotation: {
      status: result.status,
      registrationNo: result.registrationNo,
      protectedUntil: result.protectedUntil,
      reviewDueBy: result.reviewDueBy,
      errors: result.errors,
      warnings: result.warnings,
      conflicts,
    },
  };
}

/** A row core finds invalid before sending: nothing was sent, so nothing was saved. */
export function outcomeOfLocalErrors(row: LocalRow): RowOutcome {
  const annotation: AnnotationInput = { status: 'invalid', errors: row.errors, warnings: [], conflicts: [] };
  return row.readFrom === undefined
    ? { row: row.row, annotation }
    : { row: row.row, annotation, readFrom: row.readFrom };
}

/** A registration as the service lists it, as far as refreshing a row needs it. */
export interface RegistrationState {
  no: string;
  status: RecordStatus;
  protectedUntil?: string | undefined;
  reviewDueBy?: string | undefined;
  reason?: string | undefined;
  conflictKind?: 'competing' | 'queued' | undefined;
  blockedBy?: string[] | undefined;
  /** Under service cadences (R31, R32, R42): the next visit's due day and the lapse day. */
  service?: { nextDue?: string | undefined; lapsesOn?: string | undefined } | undefined;
}

/** A row's current state from the service (Refresh): the decision's reason, or what it waits for. */
export function outcomeOfState(row: number, state: RegistrationState): RowOutcome {
  const notes: Problem[] = [];
  const blockers = (state.blockedBy ?? []).join('、');
  if (state.status === 'conflict' && blockers !== '') {
    notes.push(
      state.conflictKind === 'queued'
        ? problem(
            'conflict.queued',
            `排在 ${blockers} 之后，其保护期结束后转为待审核`,
            `Queued behind ${blockers}`,
          )
        : problem(
            'conflict.competing',
            `与 ${blockers} 竞争同一客户，等待审核人裁定`,
            `Competing with ${blockers}`,
          ),
    );
  }
  if (state.reason !== undefined && state.reason !== '') {
    notes.push(problem('decision.reason', `处理意见：${state.reason}`, `Reason: ${state.reason}`));
  }
  // R31/R42: the next visit's due day goes to 提示 (a column the sheet has anyway), with the lapse day.
  const due = state.service?.nextDue;
  const lapses = state.service?.lapsesOn;
  if (due !== undefined || lapses !== undefined) {
    notes.push(
      problem(
        'service.due',
        [
          ...(due !== undefined ? [`下次跟进截止 ${due}`] : []),
          ...(lapses !== undefined ? [`未跟进将于 ${lapses} 失效回到公海`] : []),
        ].join('，'),
        [
          ...(due !== undefined ? [`next visit due by ${due}`] : []),
          ...(lapses !== undefined ? [`lapses into the pool on ${lapses} without one`] : []),
        ].join('; '),
      ),
    );
  }
  return {
    row,
    annotation: {
      status: state.status,
      registrationNo: state.no,
      protectedUntil: state.protectedUntil,
      reviewDueBy: state.reviewDueBy,
      errors: [],
      warnings: notes,
      conflicts: [],
    },
  };
}

export interface ResultOptions {
  /** Notes can be placed (ExcelApi 1.18); without them the explanation is only in 冲突说明. */
  notes: boolean;
  /** 提示 texts of rows that are no registration (planSkippedRowHints): 提示 only, no fill, no status. */
  hints?: readonly HintWrite[];
  /** The values read before the service was called, to make sure the rows did not move meanwhile. */
  guardGrid?: SheetGrid;
}

/** Column width (points) of each result column, like the import's. */
const RESULT_WIDTHS: Record<ResultColumn, number> = {
  registrationNo: 110,
  status: 75,
  protectedUntil: 85,
  conflict: 360,
  hint: 260,
};

/** Headers (and widths) of the result columns the sheet does not have yet. */
export function resultHeaderOps(layout: SheetLayout): SheetOp[] {
  const ops: SheetOp[] = [];
  const { headerRow } = layout;
  if (layout.appendToTable === true && layout.missingResultColumns.length > 0) {
    // Written beside a table they would be outside it (or swallowed by AutoExpand, depending on the
    // user's AutoCorrect options); added as table columns they move with the rows when it is sorted.
    const missing = [...layout.missingResultColumns].sort(
      (a, b) => layout.resultColumns[a] - layout.resultColumns[b],
    );
    ops.push({
      kind: 'tableColumns',
      anchor: cellAddress(headerRow, layout.firstColumn),
      names: missing.map((k) => RESULT_HEADERS.find((h) => h.key === k)!.zh),
    });
    for (const key of missing) {
      ops.push({
        kind: 'columnWidth',
        address: cellAddress(headerRow, layout.resultColumns[key]),
        width: RESULT_WIDTHS[key],
      });
    }
    return ops;
  }
  for (const [left, right] of runsOf(layout.missingResultColumns.map((k) => layout.resultColumns[k]))) {
    const address = rangeAddress(headerRow, left, headerRow, right);
    const labels = range1(left, right).map(
      (col) => RESULT_HEADERS.find((h) => layout.resultColumns[h.key] === col)!.zh,
    );
    ops.push({ kind: 'numberFormat', address, format: TEXT_FORMAT });
    ops.push({ kind: 'values', address, values: [labels] });
    ops.push({ kind: 'headerStyle', address });
  }
  for (const key of layout.missingResultColumns) {
    const column = layout.resultColumns[key];
    ops.push({ kind: 'columnWidth', address: cellAddress(headerRow, column), width: RESULT_WIDTHS[key] });
  }
  return ops;
}

/**
 * What a run writes back: the result cells per row (via core/annotation, as text), the row fill by
 * status, invalid cells filled a deeper violet on top, and notes on invalid cells.
 */
export function planResults(
  layout: SheetLayout,
  outcomes: readonly RowOutcome[],
  options: ResultOptions,
): SheetWrite {
  const byRow = new Map(outcomes.map((o) => [o.row, annotateRow(o.annotation)]));
  const readFrom = new Map(outcomes.flatMap((o) => (o.readFrom === undefined ? [] : [[o.row, o.readFrom]])));
  const rows = [...byRow.keys()].sort((a, b) => a - b);
  const hints = (options.hints ?? []).filter((h) => !byRow.has(h.row));
  // A sheet that was never prepared gets its result headers now, so the next run finds the columns.
  const ops: SheetOp[] = rows.length > 0 || hints.length > 0 ? resultHeaderOps(layout) : [];
  const hintText = new Map(hints.map((h) => [h.row, h.text]));
  const hintColumn = layout.resultColumns.hint;
  ops.push(
    ...rowValueOps(
      [...hintText.keys()].sort((a, b) => a - b),
      hintColumn,
      hintColumn,
      (row) => [hintText.get(row) ?? ''],
      '@',
    ),
  );

  // Result columns are usually side by side; when a sheet has them apart, each group is written alone.
  const resultKeys = RESULT_HEADERS.map((h) => h.key);
  for (const [left, right] of runsOf(resultKeys.map((k) => layout.resultColumns[k]))) {
    const keys = range1(left, right).map((col) => resultKeys.find((k) => layout.resultColumns[k] === col)!);
    ops.push(...rowValueOps(rows, left, right, (row) => keys.map((k) => byRow.get(row)!.cells[k]), '@'));
  }

  const fillRight = Math.max(...Object.values(layout.resultColumns));
  for (const name of Object.keys(FILLS) as (keyof typeof FILLS)[]) {
    const fillRows = rows.filter((row) => byRow.get(row)!.fill === name);
    const addresses = runsOf(fillRows).map(([top, bottom]) =>
      rangeAddress(top, layout.firstColumn, bottom, fillRight),
    );
    ops.push(...fillOps(`#${FILLS[name].fill}`, addresses));
  }

  const invalidCells: string[] = [];
  const notes: Record<string, string> = {};
  for (const row of rows) {
    for (const [field, text] of Object.entries(byRow.get(row)!.notes) as [Field, string][]) {
      const column = readFrom.get(row)?.[field] ?? layout.fieldColumns[field];
      if (column === undefined) continue;
      const cell = cellAddress(row, column);
      invalidCells.push(cell);
      notes[cell] = text;
    }
  }
  ops.push(...fillOps(`#${FILLS[INVALID_CELL_FILL].fill}`, invalidCells));

  const write: SheetWrite = { sheetName: layout.sheetName, sheet: 'existing', ops };
  if (options.notes) {
    // The second phone column holds notes too (readFrom): an earlier run's there is ours to replace.
    const columns = Object.values(layout.fieldColumns);
    if (layout.phoneFallbackColumn !== undefined) columns.push(layout.phoneFallbackColumn);
    write.notes = { notes, scope: { rows, columns } };
  }
  const hintRows = [...hintText.keys()].sort((a, b) => a - b);
  if (options.guardGrid !== undefined && (rows.length > 0 || hintRows.length > 0)) {
    const top = Math.min(rows[0] ?? Infinity, hintRows[0] ?? Infinity);
    const bottom = Math.max(rows[rows.length - 1] ?? 0, hintRows[hintRows.length - 1] ?? 0);
    write.guard = guardOf(layout, options.guardGrid, top, bottom);
  }
  return write;
}

/** The customer-name column (or the first mapped one) over the rows written: what identifies them. */
function guardOf(layout: SheetLayout, grid: SheetGrid, top: number, bottom: number): SheetWrite['guard'] {
  const column =
    layout.fieldColumns.customerName ?? Math.min(...Object.values(layout.fieldColumns), layout.firstColumn);
  return {
    address: rangeAddress(top, column, bottom, column),
    values: range1(top, bottom).map((row) => [cellAt(grid, row, column) ?? '']),
  };
}

/** Rows per status, for a run's summary. */
export function countByStatus(outcomes: readonly RowOutcome[]): Partial<Record<RowStatus, number>> {
  const counts: Partial<Record<RowStatus, number>> = {};
  for (const o of outcomes) counts[o.annotation.status] = (counts[o.annotation.status] ?? 0) + 1;
  return counts;
}
