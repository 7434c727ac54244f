/**
 * Counts by status after a check, a submission, a refresh or an upload: one chip per status, in
 * the lifecycle's order, with the colour the sheet's rows get.
 */
import { ROW_STATUSES, type RowStatus } from '../core/schema.js';
import { statusLabel, type Language } from './i18n.js';

export type StatusCounts = Partial<Record<RowStatus | 'skipped', number>>;

const ORDER: readonly (RowStatus | 'skipped')[] = [...ROW_STATUSES, 'skipped'];

export interface SummaryContent {
  /** The first line, e.g. "12 行：". */
  heading: string;
  byStatus: StatusCounts;
  /** Further lines under the chips (invalid before sending, skipped, dry run…). */
  notes: string[];
  /** The fill a status gets in the sheet, when the sheet plan gives one. */
  colourOf?: (status: RowStatus) => string | undefined;
}

export function renderSummary(container: HTMLElement, content: SummaryContent, language: Language): void {
  const heading = document.createElement('div');
  heading.className = 'summary-heading';
  heading.textContent = content.heading;

  const counts = document.createElement('div');
  counts.className = 'counts';
  for (const status of ORDER) {
    const n = content.byStatus[status];
    if (n === undefined || n === 0) continue;
    const chip = document.createElement('span');
    chip.className = 'status-count';
    chip.dataset['status'] = status;
    const colour = status === 'skipped' ? undefined : content.colourOf?.(status);
    if (colour !== undefined) {
      const swatch = document.createElement('span');
      swatch.className = 'status-swatch';
      swatch.style.background = colour;
      chip.append(swatch);
    }
    chip.append(`${statusLabel(language, status)} ${n}`);
    counts.append(chip);
  }

  const notes = content.notes.map((line) => {
    const p = document.createElement('div');
    p.className = 'summary-note';
    p.textContent = line;
    return p;
  });
  container.replaceChildren(heading, counts, ...notes);
  container.hidden = false;
}
