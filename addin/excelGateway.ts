/// <reference types="office-js" />
/**
 * The one module that calls Excel (office-js). It reads a sheet's values and executes the write
 * plans core decides (core/sheetWrite.ts `SheetWrite`), in a constant number of `context.sync()`
 * round trips whatever the row count: a read is one sync; a write is a preflight sync (sheet,
 * protection, the rows as they are now, notes and comments), one more when notes have to be located, one sync per 4 MB batch of
 * values and decoration — one batch for ordinary sheets — and the notes in a sync of their own.
 *
 * What real hosts do, and this module allows for (sources in docs/addin.md, "Real hosts"):
 * - A host may report ExcelApi 1.18 while the office.js it runs lacks `Worksheet.notes`: an API is
 *   used only when its requirement set is supported *and* the served script defines the object.
 * - Batches run with `delayForCellEdit` (Excel.RunOptions): without it a batch sent while the user
 *   types in a cell fails with InvalidOperationInCellEditMode.
 * - A batch is not atomic: Excel stops at the first failing command and keeps what ran before it. So
 *   values and statuses go first, decoration after, notes last in their own sync (their failure is a
 *   warning), and every write can be run again with the same result.
 * - suspendApiCalculationUntilNextSync is not used: once called, recalculating is the caller's job
 *   (Excel.Application reference), and the add-in writes no formulas worth the risk.
 *
 * Over 600 lines as one file: it is the one module allowed to call office-js (the brief's rule), so
 * every host workaround is in one place to check against Microsoft's documentation.
 */
import type { ChartPlan } from '../core/reportSheetPlan.js';
import { type SheetCell, type SheetGrid } from '../core/sheetGrid.js';
import { planNoteChanges, type NoteChange } from '../core/sheetNotes.js';
import { batchOps, type SheetOp, type SheetWrite } from '../core/sheetWrite.js';

/** What the gateway needs of office-js: `Excel.run` with run options, and the requirement-set check. */
export interface ExcelHost {
  Excel: {
    run<T>(
      options: { delayForCellEdit?: boolean },
      batch: (context: Excel.RequestContext) => Promise<T>,
    ): Promise<T>;
    /** Defined by office.js only when the served script knows notes. */
    NoteCollection?: unknown;
  };
  Office: { context: { requirements: { isSetSupported(name: string, minVersion?: string): boolean } } };
}

export interface ExcelCapabilities {
  /** ExcelApi 1.18 and Worksheet.notes present: notes on invalid cells; else explanations go to 冲突说明 only. */
  notes: boolean;
}

/** A cell holding an Excel error (#REF!, #N/A, #VALUE!…), 1-based. */
export interface ErrorCell {
  row: number;
  column: number;
  value: string;
}

export interface SheetSnapshot {
  sheetName: string;
  /** Values from A1 (`grid[0]` is row 1); `''` for empty cells. */
  grid: SheetGrid;
  /** The header row asked about already belongs to an Excel table. */
  headerInTable: boolean;
  /** Cells whose value is an Excel error: never customer data. */
  errorCells: ErrorCell[];
  /** The workbook counts date serials from 1904-01-01. */
  date1904: boolean;
  /** Sheet protection is on: nothing can be written, so nothing should be sent either. */
  protected: boolean;
}

/** Something written only in part; everything else is in place. */
export interface WriteWarning {
  code: string;
  message: string;
  messageEn: string;
}

export interface WriteReport {
  syncs: number;
  /** Null when the write asked for no table. */
  tableCreated: boolean | null;
  /** Why Excel refused the table (merged cells, another table…); everything else was written. */
  tableError?: string;
  warnings: WriteWarning[];
}

/**
 * Rows are identified again just before writing: the columns that identify them are read in the
 * preflight, and the write is built from them (results go to the row that holds them now).
 */
export interface RowProbe {
  /** 1-based columns to read. */
  columns: number[];
  /** Last row to read (rows may have been inserted since the sheet was read). */
  lastRow: number;
  /** The write, from the probed columns as they are now (a grid from A1; other columns empty). */
  build(current: SheetGrid): SheetWrite;
}

export interface ExcelGateway {
  capabilities(): ExcelCapabilities;
  /** The active sheet, or the named one; `headerRow` also tells whether that row is in a table. */
  readSheet(options?: { sheetName?: string; headerRow?: number }): Promise<SheetSnapshot>;
  /** Null when the workbook has no sheet of that name. */
  readSheetIfExists(sheetName: string): Promise<SheetSnapshot | null>;
  writeSheet(write: SheetWrite, probe?: RowProbe): Promise<WriteReport>;
  /** Shows the sheet and selects the range (a notification's registration row): one sync. */
  select(sheetName: string, address: string): Promise<void>;
  /** First and last column (1-based) of the table holding the header row; call only when there is one. */
  headerTable(sheetName: string, headerRow: number): Promise<{ left: number; right: number }>;
  /**
   * Replaces the chart of this name on the sheet (ExcelApi 1.1): deletes every chart of that name,
   * then adds `chart` when given. Two syncs whatever the sheet holds.
   */
  replaceChart(sheetName: string, name: string, chart: ChartPlan | null): Promise<{ syncs: number }>;
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
/** Codes Excel gives a request it finds too big or too complex (documented, and what some hosts say instead). */
const SPLITTABLE = new Set(['InvalidArgument', 'GeneralException', 'RequestPayloadSizeLimitExceeded']);

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
  return { Excel: Excel as unknown as ExcelHost['Excel'], Office };
}

/**
 * Excel's error codes (Excel.ErrorCodes) as messages that say what happened and what to do. The code
 * stays in the text for whoever helps the user; never the raw message alone.
 */
export function sheetErrorOf(error: unknown, sheetName?: string): SheetError | undefined {
  if (error instanceof SheetError) return error;
  const code = errorCode(error);
  const tag = (zh: string, en: string, own = `excel.${code ?? 'unknown'}`) =>
    new SheetError(own, `${zh}（Excel：${code}）`, `${en} (Excel: ${code})`);
  switch (code) {
    case 'InvalidOperationInCellEditMode':
      return tag(
        '您正在编辑单元格：请按 Enter 或 Esc 结束编辑，然后重试',
        'You are editing a cell: press Enter or Esc to finish, then retry',
        'excel.cell_edit',
      );
    case 'AccessDenied':
      return tag(
        '工作表受保护或工作簿只读，无法写入：请在「审阅 > 撤消工作表保护」中取消保护（或另存一份可编辑的副本），然后重试',
        'The sheet is protected or the workbook is read-only: unprotect it (Review > Unprotect Sheet) or save an editable copy, then retry',
        'sheet.protected',
      );
    case 'ItemNotFound':
      return sheetName === undefined
        ? tag(
            'Excel 找不到要操作的对象（工作表或表格可能已删除）：请重新识别表头后重试',
            'Excel could not find what it was asked to change (a sheet or table was deleted?); detect the header again and retry',
            'excel.not_found',
          )
        : tag(
            `找不到工作表「${sheetName}」（可能已改名或删除），请重新识别表头`,
            `No sheet named "${sheetName}" (renamed or deleted?); detect the header again`,
            'sheet.not_found',
          );
    case 'InvalidArgument':
      return tag(
        'Excel 拒绝了这次写入（区域无效或过大）：请重新识别表头后重试；仍失败时请把表格拆成几张较小的表',
        'Excel refused this write (a range it finds invalid or too large): detect the header again and retry; if it still fails, split the sheet into smaller ones',
        'excel.invalid_argument',
      );
    case 'GeneralException':
      return tag(
        'Excel 内部出错：请保存工作簿，关闭后重新打开，再重试；仍失败时请把表格拆成几张较小的表',
        'Excel failed internally: save the workbook, close and reopen it, then retry; if it still fails, split the sheet into smaller ones',
        'excel.general',
      );
    case 'RequestPayloadSizeLimitExceeded':
    case 'ResponsePayloadSizeLimitExceeded':
      return tag(
        '一次读写的数据超过了 Excel 的上限，请把表格拆成几张较小的表后重试',
        'Excel refused the amount of data in one request; split the sheet into smaller ones and retry',
        'excel.payload',
      );
    case 'ApiNotFound':
      return tag(
        '此 Excel 缺少本加载项需要的功能：请更新 Office，或改用 Excel 网页版',
        'This Excel lacks a feature the add-in needs: update Office or use Excel on the web',
        'excel.unsupported',
      );
    default:
      return undefined;
  }
}

export function createExcelGateway(host?: ExcelHost): ExcelGateway {
  const office = () => host ?? defaultHost();
  /** Every batch waits for the user to leave cell edit mode instead of failing. */
  const run = <T>(batch: (context: Excel.RequestContext) => Promise<T>): Promise<T> =>
    office().Excel.run({ delayForCellEdit: true }, batch);

  function supports(version: string): boolean {
    return office().Office.context.requirements.isSetSupported('ExcelApi', version);
  }

  /** Notes need the requirement set and the object: the stale npm office.js reports 1.18 without it. */
  function notesServed(): boolean {
    return supports('1.18') && typeof office().Excel.NoteCollection === 'function';
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
    return sheetErrorOf(error, sheetName) ?? error;
  }

  function sheetOf(context: Excel.RequestContext, sheetName: string | undefined): Excel.Worksheet {
    const sheets = context.workbook.worksheets;
    return sheetName === undefined ? sheets.getActiveWorksheet() : sheets.getItem(sheetName);
  }

  /** Workbook.use1904DateSystem where the served script has it; otherwise the usual 1900 system. */
  function dateSystem(context: Excel.RequestContext): () => boolean {
    const book = context.workbook as Excel.Workbook & { use1904DateSystem?: boolean };
    if (!('use1904DateSystem' in book)) return () => false;
    book.load('use1904DateSystem');
    return () => book.use1904DateSystem === true;
  }

  async function read(sheetName: string | undefined, headerRow: number | undefined): Promise<SheetSnapshot> {
    requireBaseline();
    try {
      return await run(async (context) => {
        const sheet = sheetOf(context, sheetName);
        sheet.load('name');
        const headerTables =
          headerRow === undefined
            ? null
            : sheet.getRange(`${headerRow}:${headerRow}`).getTables(false).getCount();
        const uses1904 = dateSystem(context);
        const protection = sheet.protection.load('protected');
        const used = sheet.getUsedRangeOrNullObject(true);
        // valueTypes tells an error cell (#REF!) from text that looks like one.
        used.load('rowIndex,columnIndex,rowCount,columnCount,values,valueTypes');
        try {
          await context.sync();
          const snapshot = used.isNullObject
            ? { grid: [], errorCells: [] }
            : placeAt(
                used.rowIndex,
                used.columnIndex,
                used.values as SheetCell[][],
                used.valueTypes as string[][],
              );
          return {
            sheetName: sheet.name,
            ...snapshot,
            headerInTable: (headerTables?.value ?? 0) > 0,
            date1904: uses1904(),
            protected: protection.protected,
          };
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
    const uses1904 = dateSystem(context);
    const protection = sheet.protection.load('protected');
    const used = sheet.getUsedRangeOrNullObject(true);
    used.load('rowIndex,columnIndex,rowCount,columnCount');
    await context.sync();
    const { rowIndex, columnIndex, rowCount, columnCount } = used;
    const rows: SheetCell[][] = [];
    const types: string[][] = [];
    const readPiece = async (first: number, count: number): Promise<[SheetCell[][], string[][]]> => {
      const piece = sheet.getRangeByIndexes(rowIndex + first, columnIndex, count, columnCount);
      piece.load('values,valueTypes');
      try {
        await context.sync();
        return [piece.values as SheetCell[][], piece.valueTypes as string[][]];
      } catch (error) {
        if (errorCode(error) !== 'ResponsePayloadSizeLimitExceeded' || count < 2) throw error;
        const half = Math.ceil(count / 2);
        const [a, at] = await readPiece(first, half);
        const [b, bt] = await readPiece(first + half, count - half);
        return [
          [...a, ...b],
          [...at, ...bt],
        ];
      }
    };
    const [sample, sampleTypes] = await readPiece(0, Math.min(SAMPLE_ROWS, rowCount));
    rows.push(...sample);
    types.push(...sampleTypes);
    const perRow = Math.max(1, utf8Bytes([sample, sampleTypes]) / Math.max(1, sample.length));
    const step = Math.max(1, Math.floor(READ_BUDGET_BYTES / perRow));
    for (let first = sample.length; first < rowCount; first += step) {
      const [piece, pieceTypes] = await readPiece(first, Math.min(step, rowCount - first));
      rows.push(...piece);
      types.push(...pieceTypes);
    }
    return {
      sheetName: sheet.name,
      ...placeAt(rowIndex, columnIndex, rows, types),
      headerInTable: (headerTables?.value ?? 0) > 0,
      date1904: uses1904(),
      protected: protection.protected,
    };
  }

  async function write(given: SheetWrite, probe?: RowProbe): Promise<WriteReport> {
    requireBaseline();
    try {
      return await run(async (context) => {
        let syncs = 0;
        const sync = async () => {
          syncs++;
          await context.sync();
        };
        const sheets = context.workbook.worksheets;
        const warnings: WriteWarning[] = [];

        // Preflight, one round trip: the sheet, its protection, the rows as they are now, the guarded
        // cells, the notes and threaded comments already there.
        let sheet: Excel.Worksheet;
        const existing = given.sheet === 'replace' ? sheets.getItemOrNullObject(given.sheetName) : null;
        sheet = existing ?? sheets.getItem(given.sheetName);
        // A sheet being replaced may not exist yet; clearing a protected one fails as AccessDenied.
        const protection = existing === null ? sheet.protection.load('protected') : null;
        const probed = probe?.columns.map((column) => {
          const range = sheet.getRangeByIndexes(0, column - 1, probe.lastRow, 1);
          range.load('values');
          return { column, range };
        });
        const guard = given.guard === undefined ? null : sheet.getRange(given.guard.address);
        guard?.load('values');
        const withNotes = given.notes !== undefined && notesServed();
        const notes = withNotes ? (sheet.notes as Excel.NoteCollection | undefined) : undefined;
        notes?.load('items/content');
        const comments = withNotes ? commentsOf(context) : undefined;
        comments?.load('items');
        await sync();

        const isNew = existing?.isNullObject === true;
        if (protection?.protected === true) throw protectedSheet(given.sheetName);
        let plan = given;
        if (probe !== undefined && probed !== undefined) {
          const grid: SheetCell[][] = Array.from({ length: probe.lastRow }, () => []);
          for (const { column, range } of probed) {
            (range.values as SheetCell[][]).forEach((row, r) => {
              (grid[r] as SheetCell[])[column - 1] = row[0] ?? '';
            });
          }
          plan = probe.build(grid);
        }

        if (existing !== null) {
          if (isNew) {
            sheet = sheets.add(plan.sheetName);
            if (plan.hidden === true) sheet.visibility = 'Hidden';
          } else {
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

        // Notes: where they are and where threaded comments are (a cell holds one or the other).
        const noteItems = new Map<string, Excel.Note>();
        const noteOps: SheetOp[] = [];
        if (notes !== undefined && plan.notes !== undefined) {
          const located = notes.items.map((note) => ({ note, location: note.getLocation().load('address') }));
          const commented = (comments?.items ?? []).map((c) => c.getLocation().load('address'));
          if (located.length > 0 || commented.length > 0) await sync();
          const inventory = located.map(({ note, location }) => {
            const cell = cellOf(location.address);
            noteItems.set(cell, note);
            return { address: cell, content: note.content };
          });
          const sheetPrefix = `${quoteSheet(plan.sheetName)}!`;
          const withComment = new Set(
            commented
              .filter((l) => l.address.startsWith(sheetPrefix) || l.address.startsWith(`${plan.sheetName}!`))
              .map((l) => cellOf(l.address)),
          );
          const changes = planNoteChanges(inventory, plan.notes);
          const skipped = changes.filter((c) => c.action === 'add' && withComment.has(c.cell));
          if (skipped.length > 0) {
            warnings.push({
              code: 'notes.comment_cells',
              message: `${skipped.length} 个单元格已有批注（讨论），没有再加说明；原因见「冲突说明」列`,
              messageEn: `${skipped.length} cells hold a threaded comment, so no note was added there; see 冲突说明 for the reason`,
            });
          }
          noteOps.push(
            ...changes
              .filter((c) => !skipped.includes(c))
              .map((change): SheetOp => ({ kind: 'note', change })),
          );
        }

        // Values and statuses first, decoration after: Excel stops at a failing command and keeps what
        // ran before it, so a failure leaves every written row with its result. The table is last.
        const tableAt = plan.ops.findIndex((op) => op.kind === 'table');
        const body = tableAt < 0 ? plan.ops : plan.ops.filter((op) => op.kind !== 'table');
        // New table columns come first: adding one shifts the cells right of the table.
        const isEssential = (op: SheetOp) => op.kind === 'values' || op.kind === 'numberFormat';
        const essential = [...body.filter((op) => op.kind === 'tableColumns'), ...body.filter(isEssential)];
        const decoration = body.filter((op) => !isEssential(op) && op.kind !== 'tableColumns');
        const report: WriteReport = { syncs: 0, tableCreated: tableAt < 0 ? null : false, warnings };
        const batches = batchOps([...essential, ...decoration]);
        for (const [i, batch] of batches.entries()) {
          if (plan.activate === true && i === batches.length - 1) sheet.activate();
          await runBatch(batch, sheet, noteItems, sync, true);
        }

        // Notes in their own sync: a note Excel refuses costs a warning, not the results.
        if (noteOps.length > 0) {
          try {
            for (const batch of batchOps(noteOps)) {
              for (const op of batch) queue(sheet, op, noteItems);
              await sync();
            }
          } catch (error) {
            warnings.push({
              code: 'notes.failed',
              message: `Excel 没有接受部分单元格说明（${errorCode(error) ?? 'error'}）；结果已写入，原因见「冲突说明」列`,
              messageEn: `Excel refused some cell notes (${errorCode(error) ?? 'error'}); the results are written, see 冲突说明 for the reasons`,
            });
          }
        }

        if (tableAt >= 0) {
          const table = plan.ops[tableAt] as SheetOp;
          queue(sheet, table, noteItems);
          try {
            await sync();
            report.tableCreated = true;
          } catch (error) {
            if (
              !errorLocation(error).includes('TableCollection.add') &&
              errorCode(error) !== 'InvalidArgument'
            ) {
              throw error;
            }
            report.tableError =
              sheetErrorOf(error)?.message ?? (error instanceof Error ? error.message : String(error));
          }
        }
        if (plan.activate === true && batches.length === 0) {
          sheet.activate();
          await sync();
        }
        report.syncs = syncs;
        return report;
      });
    } catch (error) {
      throw translate(error, given.sheetName);
    }
  }

  /**
   * One batch; when Excel refuses it as too big or too complex (InvalidArgument, GeneralException,
   * payload size), every address list in it is cut in two by areas and the batch is sent again once,
   * in two halves. What ran before the failure is written again, to the same effect.
   */
  async function runBatch(
    batch: readonly SheetOp[],
    sheet: Excel.Worksheet,
    noteItems: ReadonlyMap<string, Excel.Note>,
    sync: () => Promise<void>,
    mayRetry: boolean,
  ): Promise<void> {
    for (const op of batch) queue(sheet, op, noteItems);
    try {
      await sync();
    } catch (error) {
      if (!mayRetry || !SPLITTABLE.has(errorCode(error) ?? '')) throw error;
      const finer = batch.flatMap(splitFill);
      if (finer.length < 2) throw error;
      const half = Math.ceil(finer.length / 2);
      for (const part of [finer.slice(0, half), finer.slice(half)]) {
        await runBatch(part, sheet, noteItems, sync, false);
      }
    }
  }

  return {
    capabilities: () => ({ notes: notesServed() }),
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
    async select(sheetName, address) {
      try {
        await run(async (context) => {
          context.workbook.worksheets.getItem(sheetName).getRange(address).select();
          await context.sync();
        });
      } catch (error) {
        throw translate(error, sheetName);
      }
    },
    async replaceChart(sheetName, name, chart) {
      try {
        return await run(async (context) => {
          const sheet = context.workbook.worksheets.getItem(sheetName);
          // getItemOrNullObject is ExcelApi 1.4; loading the names is 1.1 and finds duplicates too.
          const charts = sheet.charts;
          charts.load('items/name');
          await context.sync();
          for (const old of charts.items) if (old.name === name) old.delete();
          if (chart !== null) {
            const added = sheet.charts.add(chart.type, sheet.getRange(chart.source), chart.seriesBy);
            added.name = chart.name;
            added.title.text = chart.title;
            added.setPosition(chart.position.start, chart.position.end);
          }
          await context.sync();
          return { syncs: 2 };
        });
      } catch (error) {
        throw translate(error, sheetName);
      }
    },
    async headerTable(sheetName, headerRow) {
      try {
        return await run(async (context) => {
          const sheet = context.workbook.worksheets.getItem(sheetName);
          const range = sheet.getRange(`${headerRow}:${headerRow}`).getTables(false).getFirst().getRange();
          range.load('columnIndex,columnCount');
          await context.sync();
          return { left: range.columnIndex + 1, right: range.columnIndex + range.columnCount };
        });
      } catch (error) {
        throw translate(error, sheetName);
      }
    },
  };
}

/** What to do about a protected sheet, in both languages. */
export function protectedSheet(sheetName: string): SheetError {
  return new SheetError(
    'sheet.protected',
    `工作表「${sheetName}」受保护，没有发送也没有写入任何内容：请在「审阅 > 撤消工作表保护」中取消保护后重试（完成后可再保护）`,
    `Sheet "${sheetName}" is protected, so nothing was sent or written: unprotect it (Review > Unprotect Sheet), retry, then protect it again`,
  );
}

/** Threaded comments (ExcelApi 1.10), when the host and the served script have them. */
function commentsOf(context: Excel.RequestContext): Excel.CommentCollection | undefined {
  const book = context.workbook as Excel.Workbook & { comments?: Excel.CommentCollection };
  return book.comments ?? undefined;
}

/** `Sheet!$A$1` → `A1`. */
function cellOf(address: string): string {
  return address.slice(address.lastIndexOf('!') + 1).replace(/\$/g, '');
}

/** A sheet name as Excel writes it in an address. */
function quoteSheet(name: string): string {
  return /^[\p{L}_][\p{L}\p{N}_.]*$/u.test(name) ? name : `'${name.replace(/'/g, "''")}'`;
}

/** A fill over many areas as two fills over half as many each; any other operation as it is. */
export function splitFill(op: SheetOp): SheetOp[] {
  if (op.kind !== 'fill') return [op];
  const areas = op.addresses.split(',');
  if (areas.length < 2) return [op];
  const half = Math.ceil(areas.length / 2);
  return [
    { ...op, addresses: areas.slice(0, half).join(',') },
    { ...op, addresses: areas.slice(half).join(',') },
  ];
}

/** Values of a range that starts at (rowIndex, columnIndex), as a grid from A1, and its error cells. */
function placeAt(
  rowIndex: number,
  columnIndex: number,
  values: readonly SheetCell[][],
  types: readonly (readonly string[])[],
): { grid: SheetCell[][]; errorCells: ErrorCell[] } {
  const padding: SheetCell[] = Array.from({ length: columnIndex }, () => '');
  const grid: SheetCell[][] = Array.from({ length: rowIndex }, () => []);
  const errorCells: ErrorCell[] = [];
  values.forEach((row, r) => {
    grid.push(columnIndex === 0 ? row : [...padding, ...row]);
    types[r]?.forEach((type, c) => {
      if (type === 'Error') {
        errorCells.push({ row: rowIndex + r + 1, column: columnIndex + c + 1, value: String(row[c] ?? '') });
      }
    });
  });
  return { grid, errorCells };
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
    case 'tableColumns': {
      const table = sheet.getRange(op.anchor).getTables(false).getFirst();
      for (const name of op.names) table.columns.add(undefined, undefined, name);
      return;
    }
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
