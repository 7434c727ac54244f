/**
 * The colour key of the task pane: what each row fill the add-in writes means, drawn from
 * core/annotation's LEGEND, so the pane, the sheet and the import's 汇总 sheet say the same.
 */
import { FILLS, INVALID_CELL_LEGEND, LEGEND, LEGEND_TITLE } from '../core/annotation.js';
import type { Language } from './i18n.js';

export function renderLegend(container: HTMLElement, language: Language): void {
  const details = document.createElement('details');
  details.className = 'legend';
  // Kept open or closed across a language switch.
  details.open = container.querySelector('details')?.open ?? false;
  const summary = document.createElement('summary');
  summary.textContent = LEGEND_TITLE[language];
  const list = document.createElement('ul');
  for (const entry of [...LEGEND, INVALID_CELL_LEGEND]) {
    const item = document.createElement('li');
    item.dataset['fill'] = entry.fill;
    const swatch = document.createElement('span');
    swatch.className = 'legend-swatch';
    swatch.style.background = `#${FILLS[entry.fill].fill}`;
    const name = document.createElement('span');
    name.className = 'legend-name';
    name.textContent = language === 'zh' ? entry.zh : entry.en;
    name.style.color = `#${FILLS[entry.fill].font}`;
    const meaning = document.createElement('span');
    meaning.className = 'legend-meaning';
    meaning.textContent = language === 'zh' ? entry.meaningZh : entry.meaningEn;
    item.append(swatch, name, meaning);
    list.append(item);
  }
  details.append(summary, list);
  container.replaceChildren(details);
}
