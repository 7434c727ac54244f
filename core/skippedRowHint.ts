/**
 * The short text a skipped row (a total, a note, the header repeated, the template's example row)
 * gets in its 提示 (hint) result column, so the reader sees on the row itself that it was not
 * registered. One text per kind, both languages in one cell, in core/skippedRow.ts's words: the
 * import's annotated copy, the add-in and the Google Sheets sync all write it, and the add-in and
 * the sync recognise it on a later run (to leave it, or to clear it once the row holds a customer).
 */
import type { SkippedKind } from './skippedRow.js';

export const SKIPPED_ROW_HINTS: Readonly<Record<SkippedKind, string>> = {
  example: '填写示例，未登记 / Example row, not registered',
  total: '合计行，未登记 / Total row, not registered',
  'header-repeat': '重复的表头，未登记 / Repeated header, not registered',
  note: '说明文字，未登记 / Note, not registered',
};

const HINT_TEXTS: ReadonlySet<string> = new Set(Object.values(SKIPPED_ROW_HINTS));
/** Shorter text is no hint, even trimmed: every cell of every classified row is asked. */
const SHORTEST_HINT = Math.min(...[...HINT_TEXTS].map((t) => t.length));

export function skippedRowHint(kind: SkippedKind): string {
  return SKIPPED_ROW_HINTS[kind];
}

/** Whether a 提示 cell holds one of the texts above (written by the product, not by a user). */
export function isSkippedRowHint(text: unknown): boolean {
  return typeof text === 'string' && text.length >= SHORTEST_HINT && HINT_TEXTS.has(text.trim());
}
