/**
 * A linked tab read as core reads sheets: the grid from row 1, the link's headers checked, the
 * layout from the link's mapping, each data row parsed (core/sheetRows readRows, as the add-in does),
 * hashed and given the facts that identify it (number, row key).
 */
import { createHash } from 'node:crypto';
import { DomainError, problem } from '../../core/problem.js';
import { type SheetGrid } from '../../core/sheetGrid.js';
import { planLayout, planSkippedRowHints, type HintWrite } from '../../core/sheetLayout.js';
import { readRows } from '../../core/sheetRows.js';
import { resultColumnOfHeader, type SheetSetup } from '../../core/sheetSetup.js';
import { readsAsBlank } from '../../core/row.js';
import { REGISTRATION_NO, type Field } from '../../core/schema.js';
import { notRegisteredRows, type NotRegisteredRow } from '../../core/skippedRow.js';
import { columnLetter, quoteSheetTitle } from './a1Range.js';
import type { CellValue, GridRead, GridRow } from './googleClient.js';
import type { SheetLink } from './sheetLinks.js';
import { ROW_KEY_METADATA, type RowFacts } from './sheetRowIdentity.js';

/** The tab's title alone is a range of all its cells: no column bound to outgrow the grid (Google refuses those). */
export function wholeTab(sheet: string): string {
  return quoteSheetTitle(sheet);
}

export function tabMissing(link: SheetLink): DomainError {
  return new DomainError(
    problem(
      'sheets.tab_missing',
      `工作表「${link.sheet}」已不存在（被删除或改名）`,
      `Tab "${link.sheet}" no longer exists (deleted or renamed)`,
      'sheet',
    ),
  );
}

export type SheetRowRead = ReturnType<typeof readRows>[number];
export type ParsedSheet = ReturnType<typeof parseSheet>;

/** A renamed or moved header stops the sync by name: results would otherwise land in wrong columns. */
function checkHeaders(link: SheetLink, grid: SheetGrid): void {
  const header = grid[link.headerRow - 1] ?? [];
  // In a two-row header a column merged down over both rows (客户名称 beside a 金额（万元） group, or
  // a CSV's header written in its upper row) has its text in the row above: the link took it from
  // there (core/headers.ts), as the add-in and the import read it.
  const above = link.headerRow > 1 ? (grid[link.headerRow - 2] ?? []) : [];
  for (const [column, text] of Object.entries(link.headers)) {
    const lower = header[Number(column) - 1];
    const now = String(lower ?? '').trim() === '' ? above[Number(column) - 1] : lower;
    if (String(now ?? '').trim() !== text.trim()) {
      const at = `${columnLetter(Number(column) - 1)}${link.headerRow}`;
      throw new DomainError(
        problem(
          'sheets.header_changed',
          `表头 ${at} 原为「${text}」，现为「${String(now ?? '')}」：请改回，或取消链接后重新链接`,
          `Header ${at} was "${text}" and is now "${String(now ?? '')}": restore it, or unlink and link again`,
          at,
        ),
      );
    }
  }
}

function setupOf(link: SheetLink, grid: SheetGrid): SheetSetup {
  const byColumn = new Map<number, Field>();
  for (const [f, c] of Object.entries(link.fieldColumns) as [Field, number][]) byColumn.set(c, f);
  const columns: SheetSetup['columns'] = Object.entries(link.headers).map(([c, header]) => ({
    column: Number(c),
    header,
    ...(link.groups?.[c] !== undefined ? { group: link.groups[c] } : {}),
    field: byColumn.get(Number(c)) ?? null,
    confidence: 1,
    alternatives: [],
  }));
  // The link keeps only the columns it maps; the header's other columns (序号, where a template
  // marks its 示例 row) are read as they stand, so rows are classified as the add-in and import do.
  (grid[link.headerRow - 1] ?? []).forEach((cell, i) => {
    const header = typeof cell === 'string' ? cell.trim() : '';
    if (header === '' || link.headers[String(i + 1)] !== undefined || resultColumnOfHeader(header) !== null)
      return;
    columns.push({ column: i + 1, header, field: null, confidence: 1, alternatives: [] });
  });
  columns.sort((x, y) => x.column - y.column);
  return {
    sheetName: link.sheet,
    headerRow: link.headerRow,
    columns,
    dataRows: Math.max(0, grid.length - link.headerRow),
  };
}

/**
 * A row's input cells as the row parser reads them: a placeholder where it stands for a blank (无 in
 * 联系人, core/row.ts readsAsBlank) is left out as a blank cell is, so that the row's hash, the cells
 * kept for it and the changes sent from it do not tell 无 from an empty cell.
 */
export function inputCells(
  submission: Record<string, unknown>,
): Partial<Record<Field, string | number | boolean>> {
  const out: Partial<Record<Field, string | number | boolean>> = {};
  for (const [k, v] of Object.entries(rawInputCells(submission)) as [Field, string | number | boolean][])
    if (!readsAsBlank(k, v)) out[k] = v;
  return out;
}

/** The input cells as typed, placeholders kept: what builds before 2026-12-08 hashed (legacyHashes). */
function rawInputCells(
  submission: Record<string, unknown>,
): Partial<Record<Field, string | number | boolean>> {
  const out: Partial<Record<Field, string | number | boolean>> = {};
  for (const [k, v] of Object.entries(submission)) {
    if (k === 'clientRowId') continue;
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[k as Field] = v;
  }
  return out;
}

export function hashOf(value: unknown): string {
  const canonical = JSON.stringify(value, (_k, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)),
        )
      : v,
  );
  return createHash('sha256').update(canonical).digest('hex').slice(0, 32);
}

export function gridRowAt(read: GridRead, row: number): GridRow | undefined {
  return read.rows[row - 1 - read.startRow];
}

export function rowKeyAt(read: GridRead, row: number): string | undefined {
  return gridRowAt(read, row)?.metadata.find((m) => m.key === ROW_KEY_METADATA)?.value;
}

/**
 * A grid read as core reads sheets: rows from row 1, trailing empty rows left out (as values.batchGet
 * leaves them out); the link's headers checked; each data row parsed, hashed and given its facts.
 */
export function parseSheet(
  link: SheetLink,
  read: GridRead,
  context: Parameters<typeof readRows>[2],
): {
  rows: SheetRowRead[];
  hashes: Map<number, string>;
  /**
   * By row, the hash an older build took over the cells as typed, for the rows holding a placeholder
   * (their hash differs): a row state or claim stored before the upgrade is still found by it.
   */
  legacyHashes: Map<number, string>;
  facts: RowFacts[];
  /** The second phone column (电话 beside a mapped 手机), found in the header at each read. */
  phoneFallbackColumn: number | undefined;
  /** By row, the fields read from another column than their own (the phone from 电话). */
  readFrom: Map<number, Partial<Record<Field, number>>>;
  /** 提示 texts to change on rows that are no registration (example, total…; core planSkippedRowHints). */
  hints: HintWrite[];
  /** The rows that are no registration, with the import report's reasons (core/skippedRow.ts). */
  notRegistered: NotRegisteredRow[];
} {
  const grid: CellValue[][] = [];
  const errorCells: { row: number; column: number; value: string }[] = [];
  for (let i = 0; i < read.startRow; i++) grid.push([]);
  read.rows.forEach((r, i) => {
    grid.push(r.values);
    for (const [column, value] of r.errors) errorCells.push({ row: read.startRow + i + 1, column, value });
  });
  while (grid.length > 0 && grid[grid.length - 1]!.every((c) => c === '')) grid.pop();
  checkHeaders(link, grid);
  const layout = planLayout(grid, setupOf(link, grid));
  const rows = readRows(layout, grid, context, { errorCells });
  const hashes = new Map(rows.map((r) => [r.row, hashOf(inputCells(r.submission))]));
  const legacyHashes = new Map<number, string>();
  for (const r of rows) {
    const raw = rawInputCells(r.submission);
    if (Object.keys(raw).length !== Object.keys(inputCells(r.submission)).length)
      legacyHashes.set(r.row, hashOf(raw));
  }
  const facts: RowFacts[] = rows.map((r) => ({
    row: r.row,
    no: r.registrationNo,
    metadataKey: rowKeyAt(read, r.row),
    hash: hashes.get(r.row),
  }));
  // Rows that are not data (inputs cleared, results left) but hold a number or a key count as the
  // number column's re-read counts them, so both passes pick the same owner for a number.
  const data = new Set(rows.map((r) => r.row));
  for (const f of numberColumnFacts(link, read)) if (!data.has(f.row)) facts.push(f);
  facts.sort((a, b) => a.row - b.row);
  const readFrom = new Map(
    rows.flatMap((r) => (r.readFrom === undefined ? [] : [[r.row, r.readFrom] as const])),
  );
  return {
    rows,
    hashes,
    legacyHashes,
    facts,
    phoneFallbackColumn: layout.phoneFallbackColumn,
    readFrom,
    hints: planSkippedRowHints(layout),
    notRegistered: notRegisteredRows(layout.rows),
  };
}

/** Facts from a re-read of the registration number column alone: numbers and row keys, no cells. */
export function numberColumnFacts(link: SheetLink, read: GridRead): RowFacts[] {
  const out: RowFacts[] = [];
  read.rows.forEach((r, i) => {
    const row = read.startRow + i + 1;
    if (row <= link.headerRow) return;
    const text = String(r.values[link.resultColumns.registrationNo - 1] ?? '').trim();
    const no = REGISTRATION_NO.test(text) ? text : null;
    const metadataKey = rowKeyAt(read, row);
    if (no !== null || metadataKey !== undefined) out.push({ row, no, metadataKey, hash: undefined });
  });
  return out;
}
