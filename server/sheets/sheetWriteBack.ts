/**
 * The write-back of a sync as Google requests: which notes of a row change, whether a row already
 * shows its result, and the writes themselves — fills, notes and row keys in spreadsheets.batchUpdate,
 * result cells in values.batchUpdate, runs of rows merged, cut under Google's request size.
 */
import { FILLS, type FillName } from '../../core/annotation.js';
import { type HintWrite } from '../../core/sheetLayout.js';
import { NOTE_MARKER, noteWithOurs } from '../../core/sheetNotes.js';
import type { Field, ResultColumn } from '../../core/schema.js';
import { a1Range } from './a1Range.js';
import {
  GOOGLE_MAX_REQUEST_BYTES,
  type GoogleSheetsClient,
  type GridRead,
  type sheets_v4,
  type ValuesWrite,
} from './googleClient.js';
import type { SheetLink } from './sheetLinks.js';
import { ROW_KEY_METADATA } from './sheetRowIdentity.js';
import { gridRowAt, type ParsedSheet } from './sheetTabRead.js';

/** What a row is to show: its result cells, fill and notes (core/annotation's RowAnnotation). */
export type Annotation = {
  cells: Record<ResultColumn, string>;
  fill: string;
  notes: Partial<Record<Field, string>>;
};
export interface PlacedWrite {
  row: number;
  write: Annotation;
  /** The row key to store on the row with this write (rows written for the first time). */
  createKey: string | undefined;
  notes: NoteWrite[];
}
/** A cell's whole note as it is to read: a person's text, then ours after NOTE_MARKER ('' clears it). */
export interface NoteWrite {
  column: number;
  content: string;
}

/**
 * One spreadsheets.batchUpdate for fills, the notes that change and the row keys of rows written
 * for the first time, then one values.batchUpdate for the result cells (each more only past
 * Google's ~2 MB request size). The key goes in with the row's fill and notes: no call of its own. Runs of
 * adjacent rows share one range of values and, with the same fill, one repeatCell. `hints`: 提示
 * texts of rows that are no registration (example, total…), written with the result cells, 提示 alone
 * (no fill, no status). Returns the calls made.
 */
export async function writeResults(
  client: GoogleSheetsClient,
  link: SheetLink,
  tabId: number,
  width: number,
  writes: readonly PlacedWrite[],
  hints: readonly HintWrite[] = [],
): Promise<number> {
  if (writes.length === 0 && hints.length === 0) return 0;
  const cols = Object.entries(link.resultColumns) as [ResultColumn, number][];
  const first = Math.min(...cols.map(([, c]) => c));
  const last = Math.max(...cols.map(([, c]) => c));
  const sorted = [...writes].sort((a, b) => a.row - b.row);
  const resultCells = (w: Annotation): (string | null)[] => {
    const values: (string | null)[] = [];
    for (let c = first; c <= last; c++) {
      const col = cols.find(([, n]) => n === c)?.[0];
      values.push(col === undefined ? null : w.cells[col]);
    }
    return values;
  };
  const data: ValuesWrite[] = [];
  /** One range of values per run of adjacent rows, over columns `from`..`to` (1-based). */
  const pushRuns = <W extends { row: number }>(
    rows: readonly W[],
    from: number,
    to: number,
    cells: (w: W) => (string | null)[],
  ): void => {
    for (const run of runs(rows, () => true)) {
      data.push({
        range: a1Range(link.sheet, {
          startRow: run[0]!.row - 1,
          endRow: run[run.length - 1]!.row,
          startColumn: from - 1,
          endColumn: to,
        }),
        values: run.map(cells),
      });
    }
  };
  pushRuns(sorted, first, last, (w) => resultCells(w.write));
  const written = new Set(sorted.map((w) => w.row));
  const hintColumn = link.resultColumns.hint;
  pushRuns(
    hints.filter((h) => !written.has(h.row)).sort((a, b) => a.row - b.row),
    hintColumn,
    hintColumn,
    (h) => [h.text],
  );
  const requests: sheets_v4.Schema$Request[] = [];
  for (const run of runs(sorted, (a, b) => a.write.fill === b.write.fill)) {
    requests.push({
      repeatCell: {
        range: {
          sheetId: tabId,
          startRowIndex: run[0]!.row - 1,
          endRowIndex: run[run.length - 1]!.row,
          startColumnIndex: 0,
          endColumnIndex: width,
        },
        cell: { userEnteredFormat: { backgroundColor: colorOf(run[0]!.write.fill) } },
        fields: 'userEnteredFormat.backgroundColor',
      },
    });
  }
  for (const { row, createKey, notes } of sorted) {
    if (createKey !== undefined) {
      // No metadataId: Google picks a free one. A retried request may leave a second copy of the
      // same key on the row, which reads the same.
      requests.push({
        createDeveloperMetadata: {
          developerMetadata: {
            metadataKey: ROW_KEY_METADATA,
            metadataValue: createKey,
            visibility: 'PROJECT',
            location: {
              dimensionRange: { sheetId: tabId, dimension: 'ROWS', startIndex: row - 1, endIndex: row },
            },
          },
        },
      });
    }
    for (const { column, content } of notes) {
      requests.push({
        updateCells: {
          range: {
            sheetId: tabId,
            startRowIndex: row - 1,
            endRowIndex: row,
            startColumnIndex: column - 1,
            endColumnIndex: column,
          },
          rows: [{ values: [{ note: content }] }],
          fields: 'note',
        },
      });
    }
  }
  // Keys, fills and notes first, numbers last: if the second call fails, the rows carry their keys
  // and the next sync finds their claims by key and writes the numbers; the other way round, rows
  // would hold numbers without keys or fills, and nothing would tell the next sync to finish them.
  // Only 提示 texts to write: no fills, no notes, no keys, so no spreadsheets.batchUpdate.
  const formatParts = requests.length > 0 ? chunks(requests) : [];
  for (const part of formatParts) await client.batchUpdate(link.spreadsheetId, part);
  const valueParts = chunks(data);
  for (const part of valueParts) await client.batchUpdateValues(link.spreadsheetId, part);
  return valueParts.length + formatParts.length;
}

/** Whether the row already shows `write`'s result cells (the fill follows the status they show). */
export function showsCells(link: SheetLink, read: GridRead, row: number, write: Annotation): boolean {
  const r = gridRowAt(read, row);
  if (r === undefined) return false;
  for (const [col, column] of Object.entries(link.resultColumns) as [ResultColumn, number][])
    if (String(r.values[column - 1] ?? '') !== write.cells[col]) return false;
  return true;
}

/** Whether the row shows `write`'s status and protection end. */
export function showsStatusOf(link: SheetLink, read: GridRead, row: number, write: Annotation): boolean {
  const r = gridRowAt(read, row);
  const cell = (col: ResultColumn): string => String(r?.values[link.resultColumns[col] - 1] ?? '');
  return cell('status') === write.cells.status && cell('protectedUntil') === write.cells.protectedUntil;
}

/**
 * The notes of a row that are to change for it to show `write`'s: on each mapped cell and on the
 * second phone column, whose cell holds the phone's note when the number was read from it (as the
 * import and the add-in place it). Only our part, after NOTE_MARKER, is set or taken out; a
 * person's text before it stays. A link whose notes were not marked yet owned every note on a
 * mapped cell it wrote: an unmarked one there is ours (sheetLinks' notesMarked).
 */
export function changedNotes(
  link: SheetLink,
  sheet: ParsedSheet,
  read: GridRead,
  row: number,
  write: Annotation,
): NoteWrite[] {
  const existing = gridRowAt(read, row)?.notes;
  const readFrom = sheet.readFrom.get(row) ?? {};
  const ours = new Map<number, string>();
  for (const [field, text] of Object.entries(write.notes) as [Field, string][]) {
    const column = readFrom[field] ?? link.fieldColumns[field];
    if (column !== undefined) ours.set(column, text);
  }
  const mapped = new Set(Object.values(link.fieldColumns));
  const scope = new Set(mapped);
  if (sheet.phoneFallbackColumn !== undefined) scope.add(sheet.phoneFallbackColumn);
  const out: NoteWrite[] = [];
  for (const column of [...scope].sort((a, b) => a - b)) {
    const now = existing?.get(column) ?? '';
    const olderBuilds = link.notesMarked !== true && mapped.has(column) && !now.includes(NOTE_MARKER);
    const content = noteWithOurs(olderBuilds ? '' : now, ours.get(column));
    if (content !== now) out.push({ column, content });
  }
  return out;
}

/** Runs of adjacent rows (sorted) in which each neighbour pair also passes `same`. */
function runs<W extends { row: number }>(sorted: readonly W[], same: (a: W, b: W) => boolean): W[][] {
  const out: W[][] = [];
  for (const w of sorted) {
    const run = out[out.length - 1];
    const prev = run?.[run.length - 1];
    if (run !== undefined && prev !== undefined && prev.row + 1 === w.row && same(prev, w)) run.push(w);
    else out.push([w]);
  }
  return out;
}

function colorOf(fill: string): sheets_v4.Schema$Color {
  const hex = (FILLS[fill as FillName] ?? FILLS.paleBlue).fill;
  const n = Number.parseInt(hex, 16);
  return { red: ((n >> 16) & 255) / 255, green: ((n >> 8) & 255) / 255, blue: (n & 255) / 255 };
}

/**
 * Splits a write into requests under Google's ~2 MB recommendation (the client refuses more), so a
 * big first sync (10,000 rows: ~16 MB of fills and notes) is a few calls instead of a failure. Each
 * part is idempotent (cells, fills, notes set to their values), so a failure between parts is
 * repaired by the next sync's write-back.
 */
function chunks<T>(items: readonly T[]): T[][] {
  // Margin for the envelope around the items (the body's other fields, JSON brackets).
  const budget = GOOGLE_MAX_REQUEST_BYTES - 64 * 1024;
  const out: T[][] = [];
  let part: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = Buffer.byteLength(JSON.stringify(item)) + 1;
    if (part.length > 0 && bytes + size > budget) {
      out.push(part);
      part = [];
      bytes = 0;
    }
    part.push(item);
    bytes += size;
  }
  if (part.length > 0 || out.length === 0) out.push(part);
  return out;
}
