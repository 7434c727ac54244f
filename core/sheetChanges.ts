/**
 * Changes of registered rows made in the sheet (issue 15, R4, R13, R37): what the sheet last saw of
 * each registration — its version and the row's mapped cells as they were when it was registered or
 * refreshed — and which fields a row's cells now differ in. Kept on the 报备快照 sheet keyed by sheet
 * and 报备编号, so sorting or filtering the registration sheet changes nothing, and a copy of a row on
 * another sheet is compared with what that sheet saw, never with the cells of the first (its older
 * cells would undo a change sent from there). Pure: plans and diffs as data.
 */
import { z } from 'zod';
import { MAX_CELL_CHARS } from './cellText.js';
import { FIELD_SPECS, STATUS_LABELS, type Field } from './schema.js';
import { rangeAddress, type SheetCell, type SheetGrid } from './sheetGrid.js';
import { type SheetLayout } from './sheetLayout.js';
import { fieldCell } from './sheetRows.js';
import { type SheetWrite } from './sheetWrite.js';

/** 报备快照: the sheet the add-in keeps what it last saw in; people should not edit it. */
export const SNAPSHOT_SHEET_NAME = '报备快照';
const SNAPSHOT_HEADER = ['报备编号', '版本', '状态', '表格值（勿改）', '工作表'];
// A row's mapped cells as JSON stay far below a cell's limit, but a pasted essay in 备注 could not:
// such an entry keeps no values, and its row is not diffed.
export { MAX_CELL_CHARS };

/** Fields a change can never touch (R17, R38): the claim time and the registrant. */
const FIXED_FIELDS: ReadonlySet<Field> = new Set<Field>(['registrant', 'registeredAt']);

export type RowValues = Partial<Record<Field, SheetCell>>;

/** What the sheet last saw of one registration. */
export interface SeenEntry {
  no: string;
  /** The registration sheet whose row was seen; '' for entries kept before sheets were recorded. */
  sheet: string;
  /** The record's version (its ETag without quotes): sent as If-Match. */
  version: number;
  status: string;
  /** The row's mapped cells when the version was seen; null when they were too long to keep. */
  values: RowValues | null;
}

const valuesSchema = z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()]));

function normalised(value: SheetCell | undefined): SheetCell {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string') {
    const trimmed = value.trim();
    return trimmed === '' ? null : trimmed;
  }
  return value;
}

/** The mapped cells of a row that a change may touch, trimmed, blanks as null. */
export function rowValues(layout: SheetLayout, grid: SheetGrid, row: number): RowValues {
  const out: RowValues = {};
  for (const [field, column] of Object.entries(layout.fieldColumns) as [Field, number][]) {
    if (FIXED_FIELDS.has(field)) continue;
    // As readRows reads it: a blank phone cell is the second phone column's.
    out[field] = normalised(fieldCell(layout, grid, row, field, column));
  }
  return out;
}

/**
 * The data rows standing for each registration number, as a change reads them. A 重复报备 row shows
 * the number of the registration it repeats (that is how the result is written), but its cells are
 * that other row's customer as typed again, not the registration's: it is left out. A number still
 * on several rows (a copied row, or after Refresh rewrote a duplicate's status) cannot say which
 * row's cells are the registration's.
 */
export function registeredRows(layout: SheetLayout, grid: SheetGrid): Map<string, number[]> {
  const out = new Map<string, number[]>();
  const statusColumn = layout.resultColumns.status;
  for (const r of layout.rows) {
    if (r.kind !== 'data' || r.registrationNo === null) continue;
    const status = grid[r.row - 1]?.[statusColumn - 1];
    if (typeof status === 'string' && status.trim() === STATUS_LABELS.duplicate.zh) continue;
    const rows = out.get(r.registrationNo);
    if (rows === undefined) out.set(r.registrationNo, [r.row]);
    else rows.push(r.row);
  }
  return out;
}

/** Fields whose cell differs from what was seen; a column mapped since then counts only when filled. */
export function changedFields(seen: RowValues, now: RowValues): Field[] {
  return (Object.keys(now) as Field[]).filter((field) => {
    const before = Object.hasOwn(seen, field) ? normalised(seen[field]) : null;
    return before !== normalised(now[field]);
  });
}

/** The key of what `sheet` saw of registration `no` in the map readSeen returns. */
function seenKey(sheet: string, no: string): string {
  return JSON.stringify([sheet, no]);
}

/** Keeps what a sheet saw, under the key seenBy finds it by. */
export function keepSeen(seen: Map<string, SeenEntry>, entry: SeenEntry): void {
  seen.set(seenKey(entry.sheet, entry.no), entry);
}

/**
 * What `sheet` last saw of registration `no`; an entry kept before sheets were recorded stands for
 * every sheet until that sheet's own replaces it.
 */
export function seenBy(
  seen: ReadonlyMap<string, SeenEntry>,
  sheet: string,
  no: string,
): SeenEntry | undefined {
  return seen.get(seenKey(sheet, no)) ?? seen.get(seenKey('', no));
}

/** The entries of the 报备快照 sheet by seenKey; rows that do not parse are skipped (they are rewritten next time). */
export function readSeen(grid: SheetGrid | null): Map<string, SeenEntry> {
  const out = new Map<string, SeenEntry>();
  if (grid === null) return out;
  for (const cells of grid.slice(1)) {
    const no = typeof cells[0] === 'string' ? cells[0].trim() : '';
    const version = Number(cells[1]);
    if (no === '' || !Number.isInteger(version)) continue;
    let values: RowValues | null = null;
    if (typeof cells[3] === 'string' && cells[3] !== '') {
      try {
        const parsed = valuesSchema.safeParse(JSON.parse(cells[3]));
        if (parsed.success) values = parsed.data as RowValues;
      } catch {
        values = null;
      }
    }
    keepSeen(out, {
      no,
      sheet: typeof cells[4] === 'string' ? cells[4] : '',
      version,
      status: typeof cells[2] === 'string' ? cells[2] : '',
      values,
    });
  }
  return out;
}

/** The whole 报备快照 sheet, rewritten in one write (one or a few syncs whatever the row count). */
export function planSeen(entries: ReadonlyMap<string, SeenEntry>): SheetWrite {
  const order = (e: SeenEntry) => `${e.no}\u0000${e.sheet}`;
  const rows = [...entries.values()].sort((a, b) => (order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0));
  const values: SheetCell[][] = [
    SNAPSHOT_HEADER,
    ...rows.map((e) => {
      const json = e.values === null ? '' : JSON.stringify(e.values);
      return [e.no, e.version, e.status, json.length <= MAX_CELL_CHARS ? json : '', e.sheet];
    }),
  ];
  return {
    sheetName: SNAPSHOT_SHEET_NAME,
    sheet: 'replace',
    // Hidden, not very hidden: whoever supports the workbook can still unhide it from the sheet tabs.
    hidden: true,
    ops: [
      // Text format first: a JSON cell or a number like 0012 must stay exactly as written.
      {
        kind: 'numberFormat',
        address: rangeAddress(1, 1, values.length, SNAPSHOT_HEADER.length),
        format: '@',
      },
      ...blocks(values),
    ],
  };
}

/** Values in blocks of 500 rows: a write can be cut between blocks to stay under the payload limit. */
function blocks(values: SheetCell[][]): SheetWrite['ops'] {
  const ops: SheetWrite['ops'] = [];
  for (let top = 0; top < values.length; top += 500) {
    const part = values.slice(top, top + 500);
    ops.push({
      kind: 'values',
      address: rangeAddress(top + 1, 1, top + part.length, SNAPSHOT_HEADER.length),
      values: part,
    });
  }
  return ops;
}

/** Human names of changed fields, for the row's 提示. */
export function fieldNames(fields: readonly Field[]): { zh: string; en: string } {
  return {
    zh: fields.map((f) => FIELD_SPECS[f].zh).join('、'),
    en: fields.map((f) => FIELD_SPECS[f].en).join(', '),
  };
}
