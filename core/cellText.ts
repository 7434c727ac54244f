/**
 * A cell's value as text, the way a person reads it in the sheet: what the import checks lengths
 * on and what the add-in shows. Blank cells are null.
 */
import { toHalfWidth } from './halfWidth.js';
import { problem, type Problem } from './problem.js';
import { FIELD_SPECS, type CellValue, type Field } from './schema.js';
import { toSimplified } from './simplified.js';

/**
 * The most characters a cell holds in every sheet the product writes to: Excel's 32,767 (Google
 * Sheets takes 50,000, so a text within Excel's limit fits both).
 */
export const MAX_CELL_CHARS = 32_767;

/**
 * Characters that take no room in a cell: zero-width space, non-joiner and joiner, word joiner and
 * the byte-order mark (zero-width no-break space). Text pasted from web pages and chat apps carries
 * them, and they hide what the cell says: 无 + U+200B was registered as a customer called 无, and
 * 张伟 + U+200B was not the user 张伟. Every cell is read without them.
 */
const INVISIBLE = /[\u200B-\u200D\u2060\uFEFF]/;
const INVISIBLES = /[\u200B-\u200D\u2060\uFEFF]/g;

/** The text without its invisible characters (see INVISIBLE). */
export function withoutInvisibles(text: string): string {
  // Almost no cell holds one: testing first spares the rest a copy.
  return INVISIBLE.test(text) ? text.replace(INVISIBLES, '') : text;
}

/**
 * Text of a cell: strings trimmed and without invisible characters (blank → null); numbers in full, never in exponent form, so a
 * phone or credit code typed into a number cell (13812345678) comes back as its digits; date cells
 * as their wall-clock `YYYY-MM-DD` or `YYYY-MM-DD HH:mm[:ss]` (exceljs puts the sheet's wall-clock
 * time in the Date's UTC fields).
 */
export function cellText(value: CellValue | undefined): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') {
    const text = withoutInvisibles(value).trim();
    return text === '' ? null : text;
  }
  if (typeof value === 'number') return Number.isFinite(value) ? numberText(value) : null;
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  return Number.isNaN(value.getTime()) ? null : dateText(value);
}

function numberText(n: number): string {
  // toString switches to exponent form from 1e21; toLocaleString would add grouping commas.
  return Math.abs(n) >= 1e21 && Number.isInteger(n) ? BigInt(n).toString() : String(n);
}

function dateText(date: Date): string {
  const iso = date.toISOString();
  const day = iso.slice(0, 10);
  const seconds = date.getUTCSeconds();
  if (date.getUTCHours() === 0 && date.getUTCMinutes() === 0 && seconds === 0) return day;
  return `${day} ${iso.slice(11, seconds === 0 ? 16 : 19)}`;
}

/**
 * What legacy sheets type into a cell that has nothing to say, compared after full→half width,
 * traditional→simplified and lower case (無 and 暫無 are 无 and 暂无). Only words that cannot be a
 * value of any field: 无/暂无/没有/空/空白/暂缺 (nothing), 不详/未知/不清楚 (not known), 待定/未定/待确认
 * (not decided yet, the usual fillers of 预计签约时间), 未填/未填写/暂未填写/未提供/暂未提供 (not given),
 * 不适用/N/A/NA/N.A., none, nil, null. This is the one list: the import, the add-in and the Google
 * Sheets sync read every cell through core/row.ts, and core/rowIdentity.ts keys rows by it, so a
 * placeholder is never a value there nor an identity key (two rows of 客户名称 N.A. are no one
 * customer). × is left out: it marks "no" in yes/no columns, which no field is, and is not what people
 * type for a blank.
 */
export const PLACEHOLDER_WORDS: ReadonlySet<string> = new Set([
  '无',
  '暂无',
  '没有',
  '空',
  '不详',
  '未知',
  '待定',
  '未定',
  '待确认',
  '不清楚',
  '暂缺',
  '未填',
  '未填写',
  '暂未填写',
  '未提供',
  '暂未提供',
  '空白',
  '不适用',
  'n/a',
  'na',
  // N.A. and N.A (the full stop of N.A. is taken off as a sentence's, PLACEHOLDER_WRAPPING).
  'n.a',
  'none',
  'nil',
  'null',
]);
const PLACEHOLDER_MAX_LENGTH = 8;
/** No placeholder has a digit; phones, dates and amounts all do. */
const HAS_DIGIT = /[0-9０-９]/;
/** A cell of dashes or slashes alone: -, --, —, ——, －, /, //, ／, \, and mixed: -/-, —/—. */
const PLACEHOLDER_MARKS = /^[-‐‑‒–—―─/\\]+$/;
/**
 * A placeholder is also typed as a sentence or put in brackets: 无。, 暂无., （无）, 【空】. Both are
 * taken off (after folding, so （ is already ( ) before the word is looked up.
 */
const PLACEHOLDER_WRAPPING = /^[([【]\s*(.*?)\s*[)\]】]$|^(.*?)\s*[。.!！]$/;
/**
 * The characters a placeholder can start with before folding: each word's first character in
 * simplified, traditional and full-width form (无無 暂暫 没沒 空 不 未 待 nNｎＮ, and U+F967, a
 * compatibility form of 不 that opencc folds) and the marks with their full-width forms. A test
 * folds every BMP character to keep this list complete. Opening brackets start a bracketed one.
 */
const PLACEHOLDER_START = /^\s*[\uF967无無暂暫没沒空不未待nNｎＮ\-‐‑‒–—―─－/\\／＼(（[［【]/;

/**
 * Whether a cell's text is a placeholder for "nothing here" (see PLACEHOLDER_WORDS); spaces and
 * invisible characters inside do not count (`暂 无`, `N / A`, 无 + U+200B).
 */
export function isPlaceholder(given: string): boolean {
  const text = withoutInvisibles(given);
  // Every cell of every row comes through here: the longest placeholder typed with spaces (`N / A`,
  // `——  ——`) is well under this length, and short names, regions and sources start with none of
  // a placeholder's first characters, so the folding below (opencc's dictionary) runs on few cells.
  if (text.length > PLACEHOLDER_MAX_LENGTH || HAS_DIGIT.test(text)) return false;
  if (!PLACEHOLDER_START.test(text)) return false;
  const folded = toSimplified(toHalfWidth(text)).trim();
  const wrapped = PLACEHOLDER_WRAPPING.exec(folded);
  const key = (wrapped === null ? folded : (wrapped[1] ?? wrapped[2] ?? ''))
    .replace(/\s+/g, '')
    .toLowerCase();
  return PLACEHOLDER_WORDS.has(key) || PLACEHOLDER_MARKS.test(key);
}

/**
 * Excel's error values (#N/A, #REF!…) as text: what an .xlsx error cell holds and what a CSV export
 * writes for one. A failed look-up or a broken formula, not a customer called #N/A: the add-in and the
 * Google Sheets sync find such cells by their type, the row parser by this text, so the import agrees.
 */
const EXCEL_ERROR =
  /^#(?:N\/A|REF!|VALUE!|DIV\/0!|NAME\?|NULL!|NUM!|SPILL!|CALC!|GETTING_DATA|FIELD!|BLOCKED!|CONNECT!|BUSY!|UNKNOWN!)$/i;

/** Whether a cell's text is an Excel error value (see EXCEL_ERROR). */
export function isExcelErrorText(text: string): boolean {
  return text.length <= 14 && text.startsWith('#') && EXCEL_ERROR.test(text.trim());
}

/**
 * cell.error_value: the field holds an Excel error value (`text`), so it is invalid and never read as
 * data. Named by the cell's address when the reader has one (the add-in and the sync: `单元格 E5`),
 * else by the field (a CSV or an import row, where the error was typed out). One sentence for both.
 */
export function excelErrorProblem(field: Field, text: string, cellAddress?: string): Problem {
  const [zh, en] =
    cellAddress === undefined
      ? [FIELD_SPECS[field].zh, FIELD_SPECS[field].en]
      : [`单元格 ${cellAddress} `, `Cell ${cellAddress}`];
  return problem(
    'cell.error_value',
    `${zh}是 Excel 错误值 ${text}（公式出错）：请改正公式或填入内容`,
    `${en} holds the Excel error ${text} (a broken formula): fix the formula or type the value`,
    field,
  );
}
