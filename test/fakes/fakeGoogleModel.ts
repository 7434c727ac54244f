/**
 * The fake Google server's spreadsheets in memory: sheets of rows of CellData, row and column
 * developer metadata held BY the row or column object (so it follows the row when rows are
 * inserted, deleted or sorted, and disappears with a deleted row, as Google documents), protected
 * ranges, permissions, and Drive's version counter.
 *
 * Every change runs on a copy-on-write draft that is committed only when the whole request
 * succeeded: that is how spreadsheets.batchUpdate and values.batchUpdate stay atomic (one bad
 * request, nothing applied) without deep-copying a 10,000-row sheet per call.
 */
import { FakeGoogleError, sheetsError } from './fakeGoogleErrors.js';
import { formatA1 } from './fakeGoogleA1.js';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** Sheets' ExtendedValue: exactly one of these keys. */
export type ExtendedValue =
  | { numberValue: number }
  | { stringValue: string }
  | { boolValue: boolean }
  | { formulaValue: string }
  | { errorValue: { type: string; message: string } };

export interface CellData {
  userEnteredValue?: ExtendedValue;
  userEnteredFormat?: JsonObject;
  note?: string;
  dataValidation?: JsonObject;
}

export type Visibility = 'DOCUMENT' | 'PROJECT';

export interface StoredMetadata {
  metadataId: number;
  metadataKey: string;
  metadataValue?: string;
  visibility: Visibility;
  /** The Cloud project that created it: PROJECT metadata is visible to that project only. */
  project: string;
}

export interface Row {
  cells: (CellData | undefined)[];
  metadata: StoredMetadata[];
}

export interface ColumnInfo {
  metadata: StoredMetadata[];
}

export interface GridRange {
  sheetId: number;
  startRowIndex?: number;
  endRowIndex?: number;
  startColumnIndex?: number;
  endColumnIndex?: number;
}

export interface ProtectedRange {
  protectedRangeId: number;
  range: GridRange;
  description?: string;
  warningOnly: boolean;
  /** Who may edit a non-warning-only range (the owner always may). */
  editors: string[];
}

export interface SheetModel {
  sheetId: number;
  title: string;
  rowCount: number;
  columnCount: number;
  frozenRowCount: number;
  rows: (Row | undefined)[];
  columns: (ColumnInfo | undefined)[];
  protectedRanges: ProtectedRange[];
  /** Metadata on the sheet itself. */
  metadata: StoredMetadata[];
}

export type Role = 'owner' | 'writer' | 'reader';

/** Google's cap on cells in one spreadsheet (all sheets together). */
export const MAX_CELLS = 10_000_000;
/** Google's cap on characters in one cell. */
export const MAX_CELL_CHARS = 50_000;

export type Dimension = 'ROWS' | 'COLUMNS';

export type MetadataHolder =
  | { type: 'SPREADSHEET' }
  | { type: 'SHEET'; sheet: SheetModel }
  | { type: 'ROW'; sheet: SheetModel; index: number }
  | { type: 'COLUMN'; sheet: SheetModel; index: number };

export interface LocatedMetadata {
  meta: StoredMetadata;
  holder: MetadataHolder;
}

export class FakeSpreadsheet {
  spreadsheetId: string;
  title: string;
  locale = 'zh_CN';
  timeZone = 'Asia/Shanghai';
  sheets: SheetModel[];
  metadata: StoredMetadata[];
  permissions: Map<string, Role>;
  /** Drive's `version`: bumped on every committed change. */
  version: number;
  modifiedTime: number;
  nextMetadataSeed: number;
  nextProtectedRangeId: number;
  nextSheetId: number;
  /** Rows and columns this draft copied and may therefore change in place. */
  private owned = new WeakSet<object>();
  /** Metadata IDs in use, built on first need: a 10,000-row batch must not rescan per request. */
  private ids: Set<number> | undefined;

  constructor(init: {
    spreadsheetId: string;
    title: string;
    sheets: SheetModel[];
    owner: string;
    now: number;
  }) {
    this.spreadsheetId = init.spreadsheetId;
    this.title = init.title;
    this.sheets = init.sheets;
    this.metadata = [];
    this.permissions = new Map([[init.owner, 'owner']]);
    this.version = 1;
    this.modifiedTime = init.now;
    this.nextMetadataSeed = hashSeed(init.spreadsheetId);
    this.nextProtectedRangeId = 1_000_001;
    this.nextSheetId = 1;
    for (const sheet of init.sheets) this.nextSheetId = Math.max(this.nextSheetId, sheet.sheetId + 1);
    // A newly built spreadsheet owns all its rows.
    for (const sheet of init.sheets) {
      for (const row of sheet.rows) if (row !== undefined) this.owned.add(row);
      for (const col of sheet.columns) if (col !== undefined) this.owned.add(col);
    }
  }

  /** A draft sharing every row with this spreadsheet until it writes one. */
  draft(): FakeSpreadsheet {
    const d = Object.create(FakeSpreadsheet.prototype) as FakeSpreadsheet;
    Object.assign(d, this);
    d.sheets = this.sheets.map((s) => ({
      ...s,
      rows: s.rows.slice(),
      columns: s.columns.slice(),
      protectedRanges: s.protectedRanges.slice(),
      metadata: s.metadata.slice(),
    }));
    d.metadata = this.metadata.slice();
    d.permissions = new Map(this.permissions);
    d.owned = new WeakSet();
    d.ids = this.ids === undefined ? undefined : new Set(this.ids);
    return d;
  }

  sheetById(sheetId: number): SheetModel | undefined {
    return this.sheets.find((s) => s.sheetId === sheetId);
  }

  /** Sheet names are unique and matched regardless of case, as in Google Sheets. */
  sheetByTitle(title: string): SheetModel | undefined {
    const t = title.toLowerCase();
    return this.sheets.find((s) => s.title.toLowerCase() === t);
  }

  totalCells(): number {
    return this.sheets.reduce((n, s) => n + s.rowCount * s.columnCount, 0);
  }

  cell(sheet: SheetModel, row: number, column: number): CellData | undefined {
    return sheet.rows[row]?.cells[column];
  }

  private writableRow(sheet: SheetModel, index: number): Row {
    const existing = sheet.rows[index];
    if (existing !== undefined && this.owned.has(existing)) return existing;
    const row: Row =
      existing === undefined
        ? { cells: [], metadata: [] }
        : { cells: existing.cells.slice(), metadata: existing.metadata.slice() };
    this.owned.add(row);
    sheet.rows[index] = row;
    return row;
  }

  private writableColumn(sheet: SheetModel, index: number): ColumnInfo {
    const existing = sheet.columns[index];
    if (existing !== undefined && this.owned.has(existing)) return existing;
    const col: ColumnInfo = { metadata: existing === undefined ? [] : existing.metadata.slice() };
    this.owned.add(col);
    sheet.columns[index] = col;
    return col;
  }

  /** Replaces a cell; `undefined` or an empty CellData removes it. */
  setCell(sheet: SheetModel, row: number, column: number, given: CellData | undefined): void {
    // An empty note is no note: Sheets shows none and returns none.
    let cell = given;
    if (cell?.note === '') {
      cell = { ...cell };
      delete cell.note;
    }
    const empty = cell === undefined || Object.keys(cell).length === 0;
    if (empty && sheet.rows[row]?.cells[column] === undefined) return;
    const r = this.writableRow(sheet, row);
    if (empty) {
      r.cells[column] = undefined;
      while (r.cells.length > 0 && r.cells[r.cells.length - 1] === undefined) r.cells.pop();
    } else {
      r.cells[column] = cell;
    }
  }

  // ----- developer metadata -----------------------------------------------------------------------

  /** Every metadata item with where it sits now. */
  allMetadata(): LocatedMetadata[] {
    const out: LocatedMetadata[] = this.metadata.map((meta) => ({ meta, holder: { type: 'SPREADSHEET' } }));
    for (const sheet of this.sheets) {
      for (const meta of sheet.metadata) out.push({ meta, holder: { type: 'SHEET', sheet } });
      sheet.rows.forEach((row, index) => {
        for (const meta of row?.metadata ?? []) out.push({ meta, holder: { type: 'ROW', sheet, index } });
      });
      sheet.columns.forEach((col, index) => {
        for (const meta of col?.metadata ?? []) out.push({ meta, holder: { type: 'COLUMN', sheet, index } });
      });
    }
    return out;
  }

  metadataAt(holder: MetadataHolder): readonly StoredMetadata[] {
    switch (holder.type) {
      case 'SPREADSHEET':
        return this.metadata;
      case 'SHEET':
        return holder.sheet.metadata;
      case 'ROW':
        return holder.sheet.rows[holder.index]?.metadata ?? [];
      case 'COLUMN':
        return holder.sheet.columns[holder.index]?.metadata ?? [];
    }
  }

  private mutableMetadataList(holder: MetadataHolder): StoredMetadata[] {
    switch (holder.type) {
      case 'SPREADSHEET':
        return this.metadata;
      case 'SHEET':
        return holder.sheet.metadata;
      case 'ROW':
        return this.writableRow(holder.sheet, holder.index).metadata;
      case 'COLUMN':
        return this.writableColumn(holder.sheet, holder.index).metadata;
    }
  }

  removeSheet(sheet: SheetModel): void {
    this.sheets = this.sheets.filter((s) => s !== sheet);
    this.ids = undefined;
  }

  hasMetadataId(id: number): boolean {
    this.ids ??= new Set(this.allMetadata().map((m) => m.meta.metadataId));
    return this.ids.has(id);
  }

  addMetadata(holder: MetadataHolder, meta: StoredMetadata): void {
    this.mutableMetadataList(holder).push(meta);
    this.ids?.add(meta.metadataId);
  }

  replaceMetadata(holder: MetadataHolder, metadataId: number, next: StoredMetadata | undefined): void {
    const list = this.mutableMetadataList(holder);
    const i = list.findIndex((m) => m.metadataId === metadataId);
    if (i < 0) return;
    if (next === undefined) {
      list.splice(i, 1);
      this.ids?.delete(metadataId);
    } else list[i] = next;
  }

  /** Google assigns IDs "randomly"; the fake draws them from a seeded sequence so runs repeat. */
  newMetadataId(): number {
    let id: number;
    do {
      this.nextMetadataSeed = (Math.imul(this.nextMetadataSeed, 1_103_515_245) + 12_345) >>> 0;
      id = (this.nextMetadataSeed % 2_000_000_000) + 1;
    } while (this.hasMetadataId(id));
    return id;
  }

  // ----- dimensions ------------------------------------------------------------------------------

  checkCellLimit(extraCells: number): void {
    if (this.totalCells() + extraCells > MAX_CELLS) {
      throw sheetsError(
        400,
        `This action would increase the number of cells in the workbook above the limit of ${MAX_CELLS} cells.`,
      );
    }
  }

  /**
   * Inserts empty rows or columns before `start`. Rows keep their metadata, so metadata on rows
   * below moves down with them. `inheritFrom` copies the formats of the neighbouring row/column
   * (Sheets' `inheritFromBefore`).
   */
  insertDimension(
    sheet: SheetModel,
    dimension: Dimension,
    start: number,
    count: number,
    inheritFrom?: 'before' | 'after',
  ): void {
    if (dimension === 'ROWS') {
      this.checkCellLimit(count * sheet.columnCount);
      sheet.rows.splice(start, 0, ...new Array<Row | undefined>(count).fill(undefined));
      sheet.rowCount += count;
      if (inheritFrom !== undefined) {
        const source = sheet.rows[inheritFrom === 'before' ? start - 1 : start + count];
        source?.cells.forEach((cell, c) => {
          if (cell?.userEnteredFormat === undefined) return;
          for (let r = start; r < start + count; r++)
            this.setCell(sheet, r, c, { userEnteredFormat: cell.userEnteredFormat });
        });
      }
    } else {
      this.checkCellLimit(count * sheet.rowCount);
      sheet.columns.splice(start, 0, ...new Array<ColumnInfo | undefined>(count).fill(undefined));
      sheet.columnCount += count;
      sheet.rows.forEach((row, r) => {
        if (row === undefined || row.cells.length <= start) return;
        const w = this.writableRow(sheet, r);
        const inherited =
          inheritFrom === undefined
            ? undefined
            : w.cells[inheritFrom === 'before' ? start - 1 : start]?.userEnteredFormat;
        w.cells.splice(
          start,
          0,
          ...new Array<CellData | undefined>(count).fill(
            inherited === undefined ? undefined : { userEnteredFormat: inherited },
          ),
        );
      });
    }
    sheet.protectedRanges = sheet.protectedRanges.map((p) => ({
      ...p,
      range: shiftedRange(p.range, dimension, start, count),
    }));
  }

  /** Deletes rows or columns; their cells and their developer metadata go with them. */
  deleteDimension(sheet: SheetModel, dimension: Dimension, start: number, end: number): void {
    const count = end - start;
    this.ids = undefined; // deleted rows and columns take their metadata with them
    if (dimension === 'ROWS') {
      sheet.rows.splice(start, count);
      sheet.rowCount -= count;
    } else {
      sheet.columns.splice(start, count);
      sheet.columnCount -= count;
      sheet.rows.forEach((row, r) => {
        if (row === undefined || row.cells.length <= start) return;
        this.writableRow(sheet, r).cells.splice(start, count);
      });
    }
    sheet.protectedRanges = sheet.protectedRanges.flatMap((p) => {
      const range = shrunkRange(p.range, dimension, start, count);
      return range === undefined ? [] : [{ ...p, range }];
    });
  }

  /**
   * Sorts rows [startRow, endRow) by columns inside [startColumn, endColumn). The cells of the range
   * move; when `metadataFollows`, each row's developer metadata moves with its cells.
   */
  sortRows(
    sheet: SheetModel,
    box: { startRow: number; endRow: number; startColumn: number; endColumn: number },
    specs: { column: number; ascending: boolean }[],
    metadataFollows: boolean,
  ): void {
    const indexes: number[] = [];
    for (let r = box.startRow; r < box.endRow; r++) indexes.push(r);
    const sorted = indexes.slice().sort((a, b) => {
      for (const spec of specs) {
        const c = compareForSort(
          this.cell(sheet, a, spec.column),
          this.cell(sheet, b, spec.column),
          spec.ascending,
        );
        if (c !== 0) return c;
      }
      return a - b;
    });
    const cellsBefore = indexes.map((r) => {
      const out: (CellData | undefined)[] = [];
      for (let c = box.startColumn; c < box.endColumn; c++) out.push(this.cell(sheet, r, c));
      return out;
    });
    const metaBefore = indexes.map((r) => sheet.rows[r]?.metadata ?? []);
    sorted.forEach((fromRow, i) => {
      const to = box.startRow + i;
      const from = fromRow - box.startRow;
      const cells = cellsBefore[from] ?? [];
      for (let c = box.startColumn; c < box.endColumn; c++)
        this.setCell(sheet, to, c, cells[c - box.startColumn]);
      if (metadataFollows) {
        const meta = metaBefore[from] ?? [];
        if (meta.length > 0 || (sheet.rows[to]?.metadata.length ?? 0) > 0)
          this.writableRow(sheet, to).metadata = meta.slice();
      }
    });
  }

  // ----- protected ranges ------------------------------------------------------------------------

  /** The first non-warning-only protected range covering any of the cells that `who` may not edit. */
  blockingProtection(
    sheet: SheetModel,
    box: { startRow: number; endRow: number; startColumn: number; endColumn: number },
    who: string,
  ): ProtectedRange | undefined {
    if (this.permissions.get(who) === 'owner') return undefined;
    return sheet.protectedRanges.find((p) => {
      if (p.warningOnly || p.editors.includes(who)) return false;
      const r = resolveGridRange(sheet, p.range);
      return (
        r.startRow < box.endRow &&
        box.startRow < r.endRow &&
        r.startColumn < box.endColumn &&
        box.startColumn < r.endColumn
      );
    });
  }
}

export function resolveGridRange(
  sheet: SheetModel,
  range: GridRange,
): { startRow: number; endRow: number; startColumn: number; endColumn: number } {
  return {
    startRow: range.startRowIndex ?? 0,
    endRow: range.endRowIndex ?? sheet.rowCount,
    startColumn: range.startColumnIndex ?? 0,
    endColumn: range.endColumnIndex ?? sheet.columnCount,
  };
}

function shiftedRange(range: GridRange, dimension: Dimension, start: number, count: number): GridRange {
  const [s, e] =
    dimension === 'ROWS'
      ? (['startRowIndex', 'endRowIndex'] as const)
      : (['startColumnIndex', 'endColumnIndex'] as const);
  const out = { ...range };
  const from = out[s];
  const to = out[e];
  if (from !== undefined && from >= start) out[s] = from + count;
  if (to !== undefined && to > start) out[e] = to + count;
  return out;
}

/** A protected range after rows/columns were deleted; undefined when nothing of it is left. */
function shrunkRange(
  range: GridRange,
  dimension: Dimension,
  start: number,
  count: number,
): GridRange | undefined {
  const [s, e] =
    dimension === 'ROWS'
      ? (['startRowIndex', 'endRowIndex'] as const)
      : (['startColumnIndex', 'endColumnIndex'] as const);
  const out = { ...range };
  const adjust = (i: number): number => (i <= start ? i : Math.max(start, i - count));
  const from = out[s];
  const to = out[e];
  if (from !== undefined) out[s] = adjust(from);
  if (to !== undefined) out[e] = adjust(to);
  return out[s] !== undefined && out[e] !== undefined && out[s] === out[e] ? undefined : out;
}

/** The value a cell shows (formulas are not evaluated by the fake). */
export function effectiveValue(
  cell: CellData | undefined,
): number | string | boolean | { error: string } | undefined {
  const v = cell?.userEnteredValue;
  if (v === undefined) return undefined;
  if ('numberValue' in v) return v.numberValue;
  if ('stringValue' in v) return v.stringValue;
  if ('boolValue' in v) return v.boolValue;
  if ('errorValue' in v) return { error: v.errorValue.type === 'N_A' ? '#N/A' : '#ERROR!' };
  return { error: '#ERROR!' };
}

/**
 * Sheets' sort order: numbers (and dates), then text (case-insensitive), then booleans, then
 * errors; empty cells always last, whichever the direction.
 */
function compareForSort(a: CellData | undefined, b: CellData | undefined, ascending: boolean): number {
  const va = effectiveValue(a);
  const vb = effectiveValue(b);
  if (va === undefined || vb === undefined) return va === vb ? 0 : va === undefined ? 1 : -1;
  const rank = (v: number | string | boolean | { error: string }): number =>
    typeof v === 'number' ? 0 : typeof v === 'string' ? 1 : typeof v === 'boolean' ? 2 : 3;
  let c = rank(va) - rank(vb);
  if (c === 0) {
    if (typeof va === 'number' && typeof vb === 'number') c = va - vb;
    else if (typeof va === 'string' && typeof vb === 'string')
      c = va.localeCompare(vb, 'zh-CN', { sensitivity: 'base' });
    else if (typeof va === 'boolean' && typeof vb === 'boolean') c = Number(va) - Number(vb);
  }
  return ascending ? c : -c;
}

function hashSeed(s: string): number {
  let h = 2_166_136_261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16_777_619) >>> 0;
  return h;
}

/** Google's "exceeds grid limits" answer for a box outside the sheet. */
export function checkInGrid(
  sheet: SheetModel,
  box: { startRow: number; endRow: number; startColumn: number; endColumn: number },
  prefix = '',
): void {
  if (
    box.startRow < 0 ||
    box.startColumn < 0 ||
    box.endRow > sheet.rowCount ||
    box.endColumn > sheet.columnCount
  ) {
    throw sheetsError(
      400,
      `${prefix}Range (${formatA1(sheet.title, box)}) exceeds grid limits. Max rows: ${sheet.rowCount}, max columns: ${sheet.columnCount}`,
    );
  }
}

export function isFakeGoogleError(e: unknown): e is FakeGoogleError {
  return e instanceof FakeGoogleError;
}
