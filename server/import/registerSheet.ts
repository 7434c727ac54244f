/**
 * Which sheet of a workbook is the register: the one named, else the first visible sheet whose header
 * has 客户名称 and is not a 说明 / 示例 / 封面 sheet, past text, 填写示例 tables, drop-down lists and
 * hidden copies; the refusals name the sheets looked at.
 */
import { detectHeader, type HeaderDetection } from '../../core/headers.js';
import type { CellValue } from '../../core/schema.js';
import { ImportError } from './importError.js';
import type { ReadWorkbook, SheetData } from './readWorkbook.js';

/** How many rows from the top the header detection sees (titles, notes, 渠道 sampling under the header). */
const DETECTION_ROWS = 300;
/** How many rows from the top may hold the header (core's default, named here so the error can say it). */
const HEADER_SCAN_ROWS = 30;
/** Names of a workbook's instructions or example sheet, not its register: 填表说明, 填写示例, 封面, README. */
const INSTRUCTION_SHEET_NAME = /说明|示例|样例|范例|封面|readme|instruction|example|sample/i;
/**
 * How surely a sheet named like instructions must map 客户名称 and one more field to be read as the
 * register when it is the only sheet the user sees. A 填表说明's field table (字段 | 说明, a field a
 * row) can read as a header: 客户类型 over 企业/个人/其他 maps 客户名称 at 0.8, and its rows are fields.
 */
const SURE_REGISTER_CONFIDENCE = 0.9;
/** Longer than this, a cell is a record's text (an address, a note), not a drop-down option. */
const MAX_OPTION_TEXT = 30;

export function pickSheet(
  read: ReadWorkbook,
  wanted: string | undefined,
  fileName: string,
): { sheet: SheetData; detection: HeaderDetection } {
  const names = read.sheetNames;
  if (wanted !== undefined) {
    const byName = names.indexOf(wanted);
    const index = byName >= 0 ? byName : /^\d+$/.test(wanted) ? Number(wanted) - 1 : -1;
    if (index < 0 || index >= names.length) {
      throw new ImportError(
        'import.sheet_not_found',
        `${fileName} 中没有工作表“${wanted}”（有：${names.join('、')}）`,
        `${fileName} has no sheet "${wanted}" (it has: ${names.join(', ')})`,
        'sheet',
      );
    }
    const sheet = read.readSheet(index);
    const detection = headerOf(sheet);
    if (!detection) throw noHeader([sheet.name]);
    return { sheet, detection };
  }
  // Sheets are read one by one until one is the register: the ones after it are never unzipped. A
  // workbook often opens on a 说明 or 封面 sheet — text, or a 填写示例 table whose example row is no
  // customer — or on a dropdown-list sheet (客户类型 | 客户来源) whose header has no 客户名称, so no row
  // of it can be registered (R2); the register comes after. A hidden sheet (an old copy, the lists
  // behind drop-downs) is not the one the user sees and means. Without one, the first visible sheet
  // with a header is read, and its rows say what is missing — but never a 说明 sheet (its header is an
  // example's, and its example row would be registered as a customer) nor a hidden one (an old copy
  // kept out of sight: its customers are not the ones the user meant to file). Unless the 说明 sheet
  // is the only one the user sees and surely holds a register's header: someone who called their one
  // sheet 示例客户表 or Sample means it (empty sheets, hidden ones and drop-down list sheets are not
  // where the user fills in customers, so do not count: a list sheet beside it is not read either).
  const withoutHeader: string[] = [];
  let shown = 0;
  let namedLikeInstructions: { sheet: SheetData; detection: HeaderDetection } | undefined;
  const lookedAt: string[] = [];
  const passedOver: { instructions: string[]; hidden: string[] } = { instructions: [], hidden: [] };
  let firstWithHeader: { sheet: SheetData; detection: HeaderDetection } | undefined;
  for (let i = 0; i < names.length; i++) {
    const sheet = read.readSheet(i);
    if (sheet.rows.size === 0) continue;
    lookedAt.push(sheet.name);
    const hidden = read.workbook.sheets[i]?.hidden === true;
    const detection = headerOf(sheet);
    const register = detection?.columns.some((c) => c.field === 'customerName') === true;
    if (!hidden && (register || !isOptionList(sheet))) shown++;
    if (!detection) {
      withoutHeader.push(sheet.name);
      continue;
    }
    // A CSV's one sheet is named after its file (sample.csv): the name says nothing of what it holds.
    const instruction = read.kind === 'xlsx' && INSTRUCTION_SHEET_NAME.test(sheet.name);
    if (!hidden && !instruction && detection.columns.some((c) => c.field === 'customerName')) {
      return { sheet, detection };
    }
    if (instruction) passedOver.instructions.push(sheet.name);
    else if (hidden) passedOver.hidden.push(sheet.name);
    else firstWithHeader ??= { sheet, detection };
    if (instruction && !hidden && surelyRegister(detection)) namedLikeInstructions ??= { sheet, detection };
  }
  // Only a list sheet can be firstWithHeader when the 示例 register is the one sheet shown.
  if (shown === 1 && namedLikeInstructions !== undefined) return namedLikeInstructions;
  if (firstWithHeader !== undefined) return firstWithHeader;
  if (passedOver.instructions.length + passedOver.hidden.length > 0) {
    throw noRegister(fileName, passedOver, lookedAt);
  }
  if (withoutHeader.length > 0) throw noHeader(withoutHeader);
  throw new ImportError('import.empty', `${fileName} 中没有数据`, `${fileName} holds no data`);
}

/**
 * A drop-down list sheet (行业 | 客户来源, one list a column): short texts only, none holding a phone,
 * a code or a date (a run of digits), and some column holding a header and two options or more. A
 * sheet with one line to fill in (请在此填写), or rows of contacts without 客户名称, is not one.
 */
function isOptionList(sheet: SheetData): boolean {
  const perColumn = new Map<number, number>();
  for (const cells of sheet.rows.values()) {
    for (const [c, value] of cells.entries()) {
      if (value === null || value === undefined || value === '') continue;
      if (typeof value !== 'string' || value.length > MAX_OPTION_TEXT || /[。；;]|\d{5}/.test(value)) {
        return false;
      }
      perColumn.set(c, (perColumn.get(c) ?? 0) + 1);
    }
  }
  return [...perColumn.values()].some((n) => n >= 3);
}

/** The header maps 客户名称 and another field, each at SURE_REGISTER_CONFIDENCE or more. */
function surelyRegister(detection: HeaderDetection): boolean {
  const sure = detection.columns.filter((c) => c.field !== null && c.confidence >= SURE_REGISTER_CONFIDENCE);
  return sure.length >= 2 && sure.some((c) => c.field === 'customerName');
}

function headerOf(sheet: SheetData): HeaderDetection | null {
  const detection = detectHeader(denseTop(sheet, DETECTION_ROWS), { maxScanRows: HEADER_SCAN_ROWS });
  return detection && detection.columns.some((c) => c.field !== null) ? detection : null;
}

/**
 * Only 说明 / 示例 sheets and hidden ones have a header: the sheets passed over and those looked at
 * are named, and how to import one anyway.
 */
function noRegister(
  fileName: string,
  passedOver: { instructions: readonly string[]; hidden: readonly string[] },
  lookedAt: readonly string[],
): ImportError {
  const quotedZh = (names: readonly string[]) => names.map((n) => `“${n}”`).join('、');
  const quotedEn = (names: readonly string[]) => names.map((n) => `"${n}"`).join(', ');
  const { instructions, hidden } = passedOver;
  const zh = [
    instructions.length > 0 ? `说明或示例工作表${quotedZh(instructions)}` : '',
    hidden.length > 0 ? `隐藏的工作表${quotedZh(hidden)}` : '',
  ].filter((t) => t !== '');
  const en = [
    instructions.length > 0 ? `instructions or example sheets (${quotedEn(instructions)})` : '',
    hidden.length > 0 ? `hidden sheets (${quotedEn(hidden)})` : '',
  ].filter((t) => t !== '');
  return new ImportError(
    'import.no_register',
    `${fileName} 中找不到报备表：有表头的只有${zh.join('和')}，不作为报备导入（查看了工作表${quotedZh(lookedAt)}）。请在报备表中填写，或取消隐藏、指定要导入的工作表`,
    `${fileName} holds no register: only ${en.join(' and ')} have a header, and they are not imported (sheets looked at: ${quotedEn(lookedAt)}). Fill in the register, or unhide or name the sheet to import`,
    'sheet',
  );
}

/** The sheets looked at, named, so the user knows which to fix or to pick with `sheet`. */
function noHeader(sheetNames: readonly string[]): ImportError {
  const plural = sheetNames.length > 1 ? 's' : '';
  return new ImportError(
    'import.no_header',
    `在工作表${sheetNames.map((n) => `“${n}”`).join('、')}的前 ${HEADER_SCAN_ROWS} 行找不到表头（如 客户名称、联系电话、报备人）`,
    `No header row (such as 客户名称, 联系电话, 报备人) in the first ${HEADER_SCAN_ROWS} rows of sheet${plural} ${sheetNames.map((n) => `"${n}"`).join(', ')}`,
  );
}

/** The first rows as a dense grid (header detection looks only at the top of the sheet). */
function denseTop(sheet: SheetData, count: number): CellValue[][] {
  const grid: CellValue[][] = [];
  const last = Math.min(sheet.lastRow, count);
  for (let n = 1; n <= last; n++) grid.push(sheet.rows.get(n) ?? []);
  return grid;
}
