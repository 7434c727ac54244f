/**
 * Which sheet row a result belongs to, found again just before it is written. Between reading a sheet
 * and writing its results (a check or submit on the wire, a refresh fetching states) people sort,
 * filter, hide and insert rows; writing by the row number read earlier would put results on the
 * wrong customers. A row is known by its 报备编号 when it has one, and otherwise by its identifying
 * cells (customer, contact, phone, credit code, registrant): the same row keeps them when it moves.
 * Pure: the Excel module reads the identifying columns, this module decides where each row went.
 */
import { isPlaceholder } from './cellText.js';
import { REGISTRATION_NO, type Field } from './schema.js';
import type { SheetCell, SheetGrid } from './sheetGrid.js';
import type { HintWrite, SheetLayout } from './sheetLayout.js';
import type { RowOutcome } from './sheetResults.js';

/** Fields whose cells, together, identify a row that has no registration number yet. */
export const IDENTIFYING_FIELDS: readonly Field[] = [
  'customerName',
  'contactName',
  'contactPhone',
  'creditCode',
  'registrant',
];

/** A cell as a key part: a placeholder (无, N/A, —…) is the blank it stands for, as the row parser reads it. */
function text(value: SheetCell | undefined): string {
  if (value === null || value === undefined) return '';
  const t = String(value).trim();
  return isPlaceholder(t) ? '' : t;
}

/** The 1-based columns that identify rows: the registration number column and the identifying fields'. */
export function identityColumns(layout: SheetLayout): number[] {
  const columns = IDENTIFYING_FIELDS.flatMap((f) => {
    const column = layout.fieldColumns[f];
    return column === undefined ? [] : [column];
  });
  return [...new Set([layout.resultColumns.registrationNo, ...columns])].sort((a, b) => a - b);
}

/**
 * A row's key: `no:` and its registration number, else `row:` and its identifying cells; null for a
 * row with none of them (nothing to recognise it by).
 */
export function rowKey(grid: SheetGrid, row: number, layout: SheetLayout): string | null {
  const cells = grid[row - 1] ?? [];
  const no = text(cells[layout.resultColumns.registrationNo - 1]);
  if (REGISTRATION_NO.test(no)) return `no:${no}`;
  const parts = IDENTIFYING_FIELDS.map((f) => {
    const column = layout.fieldColumns[f];
    return column === undefined ? '' : text(cells[column - 1]);
  });
  return parts.every((p) => p === '') ? null : `row:${JSON.stringify(parts)}`;
}

export interface Relocation {
  /** Row read earlier → the row holding it now. */
  moved: Map<number, number>;
  /** Rows read earlier that are nowhere now (deleted, or their identifying cells edited). */
  lost: number[];
}

/**
 * Where each of `rows` (as read in `before`) is in `now`. A row that is still in place stays; rows
 * with the same key (identical rows) are paired in their order, so none is used twice.
 */
export function locateRows(
  layout: SheetLayout,
  before: SheetGrid,
  now: SheetGrid,
  rows: readonly number[],
): Relocation {
  const byKey = new Map<string, number[]>();
  for (let row = layout.headerRow + 1; row <= now.length; row++) {
    const key = rowKey(now, row, layout);
    if (key === null) continue;
    byKey.set(key, [...(byKey.get(key) ?? []), row]);
  }
  const keys = new Map(rows.map((row) => [row, rowKey(before, row, layout)]));
  const taken = new Set<number>();
  const moved = new Map<number, number>();
  const sorted = [...new Set(rows)].sort((a, b) => a - b);
  // Rows still in place first, so a moved identical twin cannot take their place.
  for (const row of sorted) {
    const key = keys.get(row);
    if (key !== null && key !== undefined && (byKey.get(key) ?? []).includes(row)) {
      moved.set(row, row);
      taken.add(row);
    }
  }
  const lost: number[] = [];
  for (const row of sorted) {
    if (moved.has(row)) continue;
    const key = keys.get(row);
    const target = key === null || key === undefined ? undefined : byKey.get(key)?.find((r) => !taken.has(r));
    if (target === undefined) lost.push(row);
    else {
      moved.set(row, target);
      taken.add(target);
    }
  }
  return { moved, lost };
}

/**
 * The header's row now: where it was read when its identifying cells are still there, else the first
 * row from the top whose identifying cells are the header's (rows inserted or deleted above it moved
 * it; a repeated header further down comes after the header itself); null when no row is. The result
 * headers a run makes go on this row, not on the row the header was read from.
 */
export function locateHeader(layout: SheetLayout, before: SheetGrid, now: SheetGrid): number | null {
  const columns = identityColumns(layout);
  const cellsOf = (grid: SheetGrid, row: number) => columns.map((c) => text(grid[row - 1]?.[c - 1]));
  const header = cellsOf(before, layout.headerRow);
  if (header.every((t) => t === '')) return null;
  const same = (row: number) => cellsOf(now, row).every((t, i) => t === header[i]);
  if (same(layout.headerRow)) return layout.headerRow;
  for (let row = 1; row <= now.length; row++) if (same(row)) return row;
  return null;
}

/**
 * Whether every identifying cell under the header is as it was read: nothing sorted, inserted or
 * deleted meanwhile. Rows with nothing to recognise them by (a note, a total) are written only then.
 */
export function rowsInPlace(layout: SheetLayout, before: SheetGrid, now: SheetGrid): boolean {
  const columns = identityColumns(layout);
  const last = Math.max(before.length, now.length);
  for (let row = layout.headerRow + 1; row <= last; row++) {
    for (const column of columns) {
      if (text(before[row - 1]?.[column - 1]) !== text(now[row - 1]?.[column - 1])) return false;
    }
  }
  return true;
}

/** Outcomes on the rows that hold them now; a clash pointing at another row follows that row too. */
export function relocateOutcomes(outcomes: readonly RowOutcome[], relocation: Relocation): RowOutcome[] {
  return outcomes.flatMap((o) => {
    const row = relocation.moved.get(o.row);
    if (row === undefined) return [];
    const conflicts = o.annotation.conflicts.map((c) => {
      if (c.row === undefined) return c;
      const other = relocation.moved.get(c.row);
      return other === undefined ? c : { ...c, row: other };
    });
    return [{ ...o, row, annotation: { ...o.annotation, conflicts } }];
  });
}

/**
 * The 提示 texts of rows that are no registration (example, total, note, header repeated), put on the
 * rows that hold them now. When no identifying cell moved they stand as planned. Otherwise a row
 * with identifying cells (an example row, the header repeated, a total with a name cell) follows
 * them, as results do (locateRows). A row with none (a note, a bare 合计, a blank row whose stale
 * text is taken out) keeps its place among the rows with none between the two rows around it that
 * were found again (the header counts as the first): the k-th such row there before is the k-th now,
 * provided both hold as many (rows inserted or deleted elsewhere). Under the last row found again it
 * keeps its distance to it. A text whose row cannot be told this way (a blank row inserted beside it,
 * a sort) is not written: the next run writes it. None is written when the header itself moved
 * (rows inserted or deleted above it): its repeats would be taken for it.
 */
export function relocateHints(
  layout: SheetLayout,
  before: SheetGrid,
  now: SheetGrid,
  hints: readonly HintWrite[],
): HintWrite[] {
  if (hints.length === 0 || rowsInPlace(layout, before, now)) return [...hints];
  const headerRow = layout.headerRow;
  for (const column of identityColumns(layout)) {
    if (text(before[headerRow - 1]?.[column - 1]) !== text(now[headerRow - 1]?.[column - 1])) return [];
  }
  const keyed: number[] = [];
  for (let row = headerRow + 1; row <= before.length; row++)
    if (rowKey(before, row, layout) !== null) keyed.push(row);
  const { moved } = locateRows(layout, before, now, keyed);
  /** Rows found again, [before, now], in the order of `before`: the header first. */
  const anchors: [number, number][] = [[headerRow, headerRow]];
  for (const row of keyed) {
    const to = moved.get(row);
    if (to !== undefined) anchors.push([row, to]);
  }
  const keyless = (grid: SheetGrid, from: number, to: number) => {
    const rows: number[] = [];
    for (let row = from + 1; row < to; row++) if (rowKey(grid, row, layout) === null) rows.push(row);
    return rows;
  };
  // Per gap between two anchors (by the lower one's index): many texts in one gap read it once.
  const gaps = new Map<number, { was: number[]; is: number[] }>();
  const taken = new Set<number>();
  const out: HintWrite[] = [];
  const place = (row: number | undefined, hint: HintWrite) => {
    if (row === undefined || row <= headerRow || taken.has(row)) return;
    taken.add(row);
    out.push({ row, text: hint.text });
  };
  for (const hint of hints) {
    if (rowKey(before, hint.row, layout) !== null) {
      place(moved.get(hint.row), hint);
      continue;
    }
    const at = firstAfter(anchors, hint.row);
    const [aboveBefore, aboveNow] = anchors[at - 1] as [number, number];
    const below = anchors[at];
    if (below === undefined) {
      const row = aboveNow + (hint.row - aboveBefore);
      if (rowKey(now, row, layout) === null) place(row, hint);
      continue;
    }
    const [belowBefore, belowNow] = below;
    // A sort puts the rows around it out of order: nothing to tell its place by.
    if (belowNow <= aboveNow) continue;
    let gap = gaps.get(at);
    if (gap === undefined) {
      gap = { was: keyless(before, aboveBefore, belowBefore), is: keyless(now, aboveNow, belowNow) };
      gaps.set(at, gap);
    }
    if (gap.was.length === gap.is.length) place(gap.is[gap.was.indexOf(hint.row)], hint);
  }
  return out.sort((a, b) => a.row - b.row);
}

/** The index of the first anchor read after `row` (anchors sorted by their row before; the header's is first). */
function firstAfter(anchors: readonly [number, number][], row: number): number {
  let lo = 1;
  let hi = anchors.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((anchors[mid] as [number, number])[0] < row) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
