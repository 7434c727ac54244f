/**
 * Cell notes the product writes (why a row was refused, which registration it clashes with) beside
 * the notes people wrote: the product's part sits under NOTE_MARKER and is replaced on every run,
 * people's text before it is kept. The Excel add-in and the Google Sheets sync both write so.
 */
import { cellAddress, parseCellAddress } from './sheetGrid.js';

export type NoteChange =
  | { action: 'add'; cell: string; content: string }
  | { action: 'update'; cell: string; content: string }
  | { action: 'delete'; cell: string };

/** Notes the product owns start with this line, so a run can replace them and leave people's notes alone. */
export const NOTE_MARKER = '【报备检查】';

/** Notes to place on the sheet, and where stale ones of the product may be removed. */
export interface NotePlan {
  /** Cell (A1, no sheet) → the product's text for it. */
  notes: Record<string, string>;
  /** Rows and columns whose product notes this write owns: stale ones there are removed. */
  scope: { rows: number[]; columns: number[] };
}

/** Existing notes merged with the product's: people's text is kept, the product's part replaced. */
export function planNoteChanges(
  existing: readonly { address: string; content: string }[],
  plan: NotePlan,
): NoteChange[] {
  const changes: NoteChange[] = [];
  const rows = new Set(plan.scope.rows);
  const columns = new Set(plan.scope.columns);
  const seen = new Set<string>();
  for (const note of existing) {
    const at = parseCellAddress(note.address);
    if (at === null) continue;
    const cell = cellAddress(at.row, at.column);
    seen.add(cell);
    const ours = plan.notes[cell];
    const inScope = rows.has(at.row) && columns.has(at.column);
    if (ours === undefined && !inScope) continue;
    const content = noteWithOurs(note.content, ours);
    if (content === note.content) continue;
    changes.push(content === '' ? { action: 'delete', cell } : { action: 'update', cell, content });
  }
  for (const [cell, text] of Object.entries(plan.notes)) {
    if (!seen.has(cell)) changes.push({ action: 'add', cell, content: noteWithOurs('', text) });
  }
  return changes;
}

/**
 * A cell's note with the product's part set to `ours` (undefined: taken out). What people wrote
 * before the marker is kept as it is; the Excel add-in and the Google Sheets sync both write so.
 */
export function noteWithOurs(existing: string, ours: string | undefined): string {
  const markerAt = existing.indexOf(NOTE_MARKER);
  // Nothing of ours in it and nothing to add: a person's note is not rewritten, not even trimmed.
  if (markerAt < 0 && (ours === undefined || ours === '')) return existing;
  const people = (markerAt >= 0 ? existing.slice(0, markerAt) : existing).trimEnd();
  return [people, ours === undefined || ours === '' ? '' : `${NOTE_MARKER}\n${ours}`]
    .filter((part) => part !== '')
    .join('\n\n');
}
