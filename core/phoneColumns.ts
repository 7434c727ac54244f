/**
 * Two phone columns on one sheet (电话 and 手机, 联系电话 and 手机号码) while the record holds one
 * contactPhone. Header detection gives it to the mobile column (R8's masked matching works on
 * mobiles, core/headers.ts); the other phone column is its fallback, read when the mobile cell is
 * empty, so a row with only a landline keeps its number. When both cells are filled, the fallback's
 * number is not stored, and the mapping says what the column is for.
 */
import { cellText, isPlaceholder } from './cellText.js';
import { isOtherPartyPhoneHeader, matchHeaderText, MIN_MAPPING_CONFIDENCE } from './headers.js';
import type { CellValue, Field } from './schema.js';

export interface HeaderColumn {
  /** 1-based. */
  column: number;
  header: string;
  field: Field | null;
}

/**
 * The column read when the contactPhone cell is empty: the leftmost unmapped column whose header
 * reads as the customer's phone (not 报备人手机 or 渠道电话: someone else's number), while another
 * column holds contactPhone; null when there is none.
 */
export function phoneFallbackColumn(columns: readonly HeaderColumn[]): number | null {
  if (!columns.some((c) => c.field === 'contactPhone')) return null;
  for (const c of columns) {
    if (c.field !== null || isOtherPartyPhoneHeader(c.header)) continue;
    const best = matchHeaderText(c.header)[0];
    if (best?.field === 'contactPhone' && best.confidence >= MIN_MAPPING_CONFIDENCE) return c.column;
  }
  return null;
}

/** The phone cell of a row: the mapped cell, or the fallback's when it is blank or a placeholder (无, /). */
export function phoneCellOf<T extends CellValue>(main: T, fallback: T): T {
  return isEmptyCell(main) ? fallback : main;
}

/**
 * Whether a row's phone was read from the fallback cell: the mapped cell is empty and the fallback's
 * holds a value. A note on the phone goes on that cell, the number the registrant is to correct;
 * when neither holds one, it goes on the mapped cell, the one to fill in.
 */
export function phoneReadFromFallback(main: CellValue, fallback: CellValue): boolean {
  return isEmptyCell(main) && !isEmptyCell(fallback);
}

function isEmptyCell(value: CellValue): boolean {
  const text = cellText(value);
  return text === null || isPlaceholder(text);
}
