/// <reference types="office-js" />
/**
 * The one module that calls Excel (office-js). It reads a sheet's values and executes the write
 * plans core/sheetPlan.ts decides, in a constant number of `context.sync()` round trips whatever
 * the row count: a read is one sync; a write is a preflight sync (sheet, guard, notes), one more when
 * notes have to be located, then one sync per 4 MB batch — one batch for ordinary sheets.
 */
import {
  batchOps,
  planNoteChanges,
  type NoteChange,
  type SheetCell,
  type SheetGrid,
  type SheetOp,
  type SheetWrite,
} from '../core/sheetPlan.js';

/** What the gateway needs of office-js: `Excel.run` and the requirement-set check. */
export interface ExcelHost {
  Excel: { run<T>(batch: (context: Excel.RequestContext) => Promise<T>): Promise<T> };
  Office: { context: { requirements: { isSetSupported(name: string, minVersion?: string): boolean } } };
}

export interface ExcelCapabilities {
  /** ExcelApi 1.18: cell notes (批注/备注) on invalid cells; without them, explanations go to 冲突说明 only. */
  notes: boolean;
}

export interface SheetSnapshot {
  sheetName: string;
  /** Values from A1 (`grid[0]` is row 1); `''` for empty cells. */
  grid: SheetGrid;
  /** The header row asked about already belongs to an Excel table. */
  headerInTable: boolean;
}

export interface WriteReport {
  syncs: number;
  /** Null when the write asked for no table. */
  tableCreated: boolean | null;
  /** Why Excel refused the table (merged cells, another table…); everything else was written. */
  tableError?: string;
}

export interface ExcelGateway {
  capabilities(): ExcelCapabilities;
  /** The active sheet, or the named one; `headerRow` also tells whether that row is in a table. */
  readSheet(options?: { sheetName?: string; headerRow?: number }): Promise<SheetSnapshot>;
  /** Null when the workbook has no sheet of that name. */
  readSheetIfExists(sheetName: string): Promise<SheetSnapshot | null>;
  writeSheet(write: SheetWrite): Promise<WriteReport>;
}

/** An Excel failure the user can act on; `message` is zh-CN and says what to do. */
export class SheetError extends Error {
  readonly code: string;
  readonly messageEn: string;

  constructor(code: string, message: string, messageEn: string) {
    super(message);
    this.name = 'SheetError';
    this.code = code;
    this.messageEn = messageEn;
  }
}

/** Excel on the web refuses responses over 5 MB; a fallback read aims under this per sync. */
const READ_BUDGET_BYTES = 3 * 1024 * 1024;
const SAMPLE_ROWS = 200;
const HEADER_FILL = '#DDEBF7';

/** office-js applies a single (non-array) value to every cell of a range; its typings only know the 2-D form. */
function everyCell(format: string): string[][] {
  return format as unknown as string[][];
}

function errorCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string') {
    return error.code;
  }
  return undefined;
}

function errorLocation(error: unknown): string {
  if (typeof error !== 'object' || error === null || !('debugInfo' in error)) return '';
  const info = error.debugInfo;
  if (typeof info === 'object' && info !== null && 'errorLocation' in info) return String(info.errorLocation);
  return '';
}

function utf8Bytes(value: unknown): number {
  return new TextEncoder().encode(JSON.stringify(value)).length;
}

function defaultHost(): ExcelHost {
  return { Excel, Office };
}

export function createExcelGateway(host?: ExcelHost): ExcelGateway {
  const office = () => host ?? defaultHost();

  function supports(version: string): boolean {
    return office().Office.context.requirements.isSetSupported('ExcelApi', version);
  }

  function requireBaseline(): void {
    if (!supports('1.9')) {
      throw new SheetError(
        'excel.unsupported',
        '此版本的 Excel 不支持本加载项（需要 ExcelApi 1.9：Microsoft 365、Excel 2021 或 Excel 网页版）',
        'This Excel is too old for the add-in (ExcelApi 1.9 needed: Microsoft 365, Excel 2021 or Excel on the web)',
      );
    }
  }

  function translate(error: unknown, sheetName: string | undefined): unknown {
    const code = errorCode(error);
    if (code === 'ItemNotFound' && sheetName !== undefined) {
      return new SheetError(
        'sheet.not_found',
        `找不到工作表「${sheetName}」（可能已改名或删除），请重新识别表头`,
        `No sheet named "${sheetName}" (renamed or deleted?); detect the header again`,
      );
    }
    if (code === 'RequestPayloadSizeLimitExceeded' || code === 'ResponsePayloadSizeLimitExceeded') {
      return new SheetError(
        'excel.payload',
        '一次写入的数据超过了 Excel 的上限，请把表格拆成几张较小的表后重试',
        'Excel refused the amount of data in one request; split the sheet into smaller ones and retry',
      );
    }
    return error;
  }

  function sheetOf(context: Excel.RequestContext, sheetName: string | undefined): Excel.Worksheet {
    const sheets = context.workbook.worksheets;
    return sheetName === undefined ? sheets.getActiveWorksheet() : sheets.getItem(sheetName);
  }

  async function read(sheetName: string | undefined, headerRow: number | undefined): Promise<SheetSnapshot> {
    requireBaseline();
    try {
      return await office().Excel.run(async (context) => {
        const sheet = sheetOf(context, sheetName);
        sheet.load('name');
        const headerTables =
          headerRow === undefined
            ? null
            : sheet.getRange(`${headerRow}:${headerRow}`).getTables(false).getCount();
        const used = sheet.getUsedRangeOrNullObject(true);
        used.load('rowIndex,columnIndex,rowCount,columnCount,values');
        try {
          await context.sync();
          const grid = used.isNullObject
            ? []
            : placeAt(used.rowIndex, used.columnIndex, used.values as SheetCell[][]);
          return { sheetName: sheet.name, grid, headerInTable: (headerTables?.value ?? 0) > 0 };
        } catch (error) {
          if (errorCode(error) !== 'ResponsePayloadSizeLimitExceeded') throw error;
        }
        return await readInPieces(context, sheet, headerRow);
      });
    } catch (error) {
      throw translate(error, sheetName);
    }
  }

  /**
   * The whole sheet did not fit in one response: learn its size, measure a sample of rows, then read
   * pieces sized to the measured bytes per row, halving any piece Excel still refuses.
   */
  async function readInPieces(
    context: Excel.RequestContext,
    sheet: Excel.Worksheet,
    headerRow: number | undefined,
  ): Promise<SheetSnapshot> {
    sheet.load('name');
    const headerTables =
      headerRow === undefined
        ? null
        : sheet.getRange(`${headerRow}:${headerRow}`).getTables(false).getCount();
    const used = sheet.getUsedRangeOrNullObject(true);
    used.load('rowIndex,columnIndex,rowCount,columnCount');
    await context.sync();
    const { rowIndex, columnIndex, rowCount, columnCount } = used;
    const rows: SheetCell[][] = [];
    const readPiece = async (first: number, count: number): Promise<SheetCell[][]> => {
      const piece = sheet.getRangeByIndexes(rowIndex + first, columnIndex, count, columnCount);
      piece.load('values');
      try {
        await context.sync();
        return piece.values as SheetCell[][];
      } catch (error) {
        if (errorCode(error) !== 'ResponsePayloadSizeLimitExceeded' || count < 2) throw error;
        const half = Math.ceil(count / 2);
        return [...(await readPiece(first, half)), ...(await readPiece(first + half, count - half))];
      }
    };
    const sample = await readPiece(0, Math.min(SAMPLE_ROWS, rowCount));
    rows.push(...sample);
    const perRow = Math.max(1, utf8Bytes(sample) / Math.max(1, sample.length));
    const step = Math.max(1, Math.floor(READ_BUDGET_BYTES / perRow));
    for (let first = sample.length; first < rowCount; first += step) {
      rows.push(...(await readPiece(first, Math.min(step, rowCount - first))));
    }
    return {
      sheetName: sheet.name,
      grid: placeAt(rowIndex, columnIndex, rows),
      headerInTable: (headerTables?.value ?? 0) > 0,
    };
  }

  async function write(plan: SheetWrite): Promise<WriteReport> {
    requireBaseline();
    const withNotes = plan.notes !== undefined && supports('1.18');
    try {
      return await office().Excel.run(async (context) => {
        let syncs = 0;
        const sync = async () => {
          syncs++;
          await context.sync();
        };
        const sheets = context.workbook.worksheets;

        // Preflight: the sheet, the guarded cells and the notes already there, in one round trip.
        let sheet: Excel.Worksheet;
        const existing = plan.sheet === 'replace' ? sheets.getItemOrNullObject(plan.sheetName) : null;
        sheet = existing ?? sheets.getItem(plan.sheetName);
        const guard = plan.guard === undefined ? null : sheet.getRange(plan.guard.address);
        guard?.load('values');
        const notes = withNotes ? sheet.notes : null;
        notes?.load('items/content');
        if (existing !== null || guard !== null || notes !== null) await sync();

        if (existing !== null) {
          if (existing.isNullObject) sheet = sheets.add(plan.sheetName);
          else {
            const whole = existing.getRange();
            whole.clear();
            whole.dataValidation.clear();
          }
        }
        if (
          guard !== null &&
          plan.guard !== undefined &&
          !sameValues(guard.values as SheetCell[][], plan.guard.values)
        ) {
          throw new SheetError(
            'sheet.changed',
            '读取之后表格被改动过（插入、删除或排序了行），结果没有写回。请不要在处理期间改动表格，然后重试',
            'The sheet changed after it was read (rows inserted, deleted or sorted); nothing was written back. Leave it alone while the add-in works, then retry',
          );
        }

        const noteItems = new Map<string, Excel.Note>();
        const noteOps: SheetOp[] = [];
        if (notes !== null && plan.notes !== undefined) {
          const located = notes.items.map((note) => ({ note, location: note.getLocation().load('address') }));
          if (located.length > 0) await sync();
          const inventory = located.map(({ note, location }) => {
            const cell = location.address.slice(location.address.lastIndexOf('!') + 1).replace(/\$/g, '');
            noteItems.set(cell, note);
            return { address: cell, content: note.content };
          });
          noteOps.push(
            ...planNoteChanges(inventory, plan.notes).map((change): SheetOp => ({ kind: 'note', change })),
          );
        }

        // Notes go before the table, which stays last: if Excel refuses it, the rest is in place.
        const tableAt = plan.ops.findIndex((op) => op.kind === 'table');
        const ops =
          tableAt < 0
            ? [...plan.ops, ...noteOps]
            : [...plan.ops.slice(0, tableAt), ...noteOps, ...plan.ops.slice(tableAt)];
        const report: WriteReport = { syncs: 0, tableCreated: tableAt < 0 ? null : false };
        const batches = batchOps(ops);
        for (const [i, batch] of batches.entries()) {
          context.application.suspendApiCalculationUntilNextSync();
          if (plan.activate === true && i === batches.length - 1) sheet.activate();
          for (const op of batch) queue(sheet, op, noteItems);
          try {
            await sync();
          } catch (error) {
            if (
              !batch.some((op) => op.kind === 'table') ||
              !errorLocation(error).includes('TableCollection.add')
            ) {
              throw error;
            }
            report.tableError = error instanceof Error ? error.message : String(error);
            continue;
          }
          if (batch.some((op) => op.kind === 'table')) report.tableCreated = true;
        }
        if (plan.activate === true && batches.length === 0) {
          sheet.activate();
          await sync();
        }
        report.syncs = syncs;
        return report;
      });
    } catch (error) {
      throw translate(error, plan.sheetName);
    }
  }

  return {
    capabilities: () => ({ notes: supports('1.18') }),
    readSheet: (options = {}) => read(options.sheetName, options.headerRow),
    async readSheetIfExists(sheetName) {
      try {
        return await read(sheetName, undefined);
      } catch (error) {
        if (error instanceof SheetError && error.code === 'sheet.not_found') return null;
        throw error;
      }
    },
    writeSheet: write,
  };
}

/** Values of a range that starts at (rowIndex, columnIndex), as a grid from A1. */
function placeAt(rowIndex: number, columnIndex: number, values: readonly SheetCell[][]): SheetCell[][] {
  const padding: SheetCell[] = Array.from({ length: columnIndex }, () => '');
  const grid: SheetCell[][] = Array.from({ length: rowIndex }, () => []);
  for (const row of values) grid.push(columnIndex === 0 ? row : [...padding, ...row]);
  return grid;
}

function sameValues(
  actual: readonly (readonly SheetCell[])[],
  expected: readonly (readonly SheetCell[])[],
): boolean {
  if (actual.length !== expected.length) return false;
  return actual.every((row, r) => row.every((cell, c) => (cell ?? '') === (expected[r]?.[c] ?? '')));
}

function queue(sheet: Excel.Worksheet, op: SheetOp, notes: ReadonlyMap<string, Excel.Note>): void {
  switch (op.kind) {
    case 'values':
      sheet.getRange(op.address).values = op.values;
      return;
    case 'numberFormat':
      sheet.getRange(op.address).numberFormat = everyCell(op.format);
      return;
    case 'validation': {
      const validation = sheet.getRange(op.address).dataValidation;
      validation.clear();
      validation.rule = op.rule;
      validation.errorAlert = op.alert;
      return;
    }
    case 'fill':
      sheet.getRanges(op.addresses).format.fill.color = op.color;
      return;
    case 'headerStyle': {
      const format = sheet.getRange(op.address).format;
      format.font.bold = true;
      format.fill.color = HEADER_FILL;
      return;
    }
    case 'columnWidth':
      sheet.getRange(op.address).format.columnWidth = op.width;
      return;
    case 'freezeRows':
      sheet.freezePanes.freezeRows(op.count);
      return;
    case 'table':
      sheet.tables.add(sheet.getRange(op.address), true);
      return;
    case 'note':
      queueNote(sheet, op.change, notes);
      return;
  }
}

function queueNote(sheet: Excel.Worksheet, change: NoteChange, notes: ReadonlyMap<string, Excel.Note>): void {
  if (change.action === 'add') {
    sheet.notes.add(sheet.getRange(change.cell), change.content);
    return;
  }
  const note = notes.get(change.cell);
  if (note === undefined) return;
  if (change.action === 'update') note.content = change.content;
  else note.delete();
}
