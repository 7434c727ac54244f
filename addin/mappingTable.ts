/**
 * The Prepare step's table: each column of the sheet with its header, the field it maps to (a
 * Fluent dropdown holding every field and 不导入/ignore) and how confident the detection was.
 */
import { phoneFallbackColumn } from '../core/phoneColumns.js';
import { FIELDS, type Field } from '../core/schema.js';
import { fieldLabel, translate, type Language } from './i18n.js';
import { columnLetters } from '../core/sheetGrid.js';
import { type ColumnChoice, type SheetSetup } from '../core/sheetSetup.js';

/** The dropdown value for "do not import"; fields are identifiers, so it cannot collide. */
export const IGNORE_VALUE = '-';
/** Below this the confidence is highlighted: the person should look at the column. */
const LOW_CONFIDENCE = 0.7;

function percent(confidence: number): string {
  return `${Math.round(Math.max(0, Math.min(1, confidence)) * 100)}%`;
}

function option(value: string, text: string, selected: boolean): HTMLElement {
  const element = document.createElement('fluent-option');
  element.setAttribute('value', value);
  element.textContent = text;
  if (selected) element.setAttribute('selected', '');
  return element;
}

/**
 * The column's detected field first, then the other candidates with their confidence (the detected
 * one's is in the table's own column), then every other field.
 */
function fieldOptions(column: ColumnChoice, chosen: Field | null, language: Language): HTMLElement[] {
  const alternatives = column.alternatives.filter((a) => a.field !== column.field);
  const listed = new Set<Field>([
    ...(column.field === null ? [] : [column.field]),
    ...alternatives.map((a) => a.field),
  ]);
  return [
    option(IGNORE_VALUE, translate(language, 'prepare.ignore'), chosen === null),
    ...(column.field === null
      ? []
      : [option(column.field, fieldLabel(language, column.field), chosen === column.field)]),
    ...alternatives.map((a) =>
      option(a.field, `${fieldLabel(language, a.field)} · ${percent(a.confidence)}`, chosen === a.field),
    ),
    ...FIELDS.filter((f) => !listed.has(f)).map((f) => option(f, fieldLabel(language, f), chosen === f)),
  ];
}

/** The detection's confidence, or what the person did instead; a second phone column says it is the fallback. */
function confidenceText(
  column: ColumnChoice,
  choice: Field | null,
  language: Language,
  phoneFallback: number | null,
): string {
  if (column.column === phoneFallback) {
    return translate(language, 'prepare.phoneFallback', { field: fieldLabel(language, 'contactPhone') });
  }
  if (choice === column.field) return column.field === null ? '—' : percent(column.confidence);
  return translate(language, 'prepare.manual');
}

/**
 * The confidence column's text for every column under the person's choices; the second phone
 * column (core/phoneColumns.ts) is found under those choices, as 应用 will read the sheet.
 */
export function confidenceTexts(
  columns: readonly ColumnChoice[],
  chosen: readonly (Field | null)[],
  language: Language,
): string[] {
  const fallback = phoneFallbackColumn(columns.map((c, i) => ({ ...c, field: chosen[i] ?? null })));
  return columns.map((c, i) => confidenceText(c, chosen[i] ?? null, language, fallback));
}

export function renderMappingTable(
  body: HTMLTableSectionElement,
  columns: readonly ColumnChoice[],
  chosen: readonly (Field | null)[],
  language: Language,
  onChoose: (index: number, field: Field | null) => void,
): void {
  const choices = [...chosen];
  const initial = confidenceTexts(columns, choices, language);
  const confidenceCells: HTMLElement[] = [];
  const rows = columns.map((column, index) => {
    const choice = chosen[index] ?? null;
    const row = document.createElement('tr');
    row.dataset['column'] = columnLetters(column.column);
    row.classList.toggle('low-confidence', column.field !== null && column.confidence < LOW_CONFIDENCE);
    row.classList.toggle('ignored', choice === null);

    const letter = document.createElement('td');
    letter.textContent = columnLetters(column.column);
    const header = document.createElement('td');
    header.className = 'header-text';
    header.textContent = column.header;
    header.title = column.header;

    const confidence = document.createElement('td');
    confidence.className = 'num confidence';
    confidence.textContent = initial[index] ?? '';
    confidenceCells.push(confidence);

    const fieldCell = document.createElement('td');
    const select = document.createElement('fluent-select') as HTMLElement & { value: string };
    select.className = 'field-select';
    select.setAttribute(
      'aria-label',
      `${translate(language, 'prepare.field')} ${columnLetters(column.column)}`,
    );
    select.append(...fieldOptions(column, choice, language));
    select.addEventListener('change', () => {
      const value = select.value;
      const field = value === IGNORE_VALUE ? null : (FIELDS.find((f) => f === value) ?? null);
      row.classList.toggle('ignored', field === null);
      choices[index] = field;
      // Another column may become or stop being the phone's fallback: every row is told again.
      confidenceTexts(columns, choices, language).forEach((text, i) => {
        const cell = confidenceCells[i];
        if (cell !== undefined) cell.textContent = text;
      });
      onChoose(index, field);
    });
    fieldCell.append(select);

    row.append(letter, header, fieldCell, confidence);
    return row;
  });
  body.replaceChildren(...rows);
}

/** Why the chosen mapping cannot be applied (a required field missing, a field chosen twice), or null. */
export function mappingProblem(chosen: readonly (Field | null)[], language: Language): string | null {
  if (!chosen.includes('customerName')) {
    return translate(language, 'prepare.missingRequired', { field: fieldLabel(language, 'customerName') });
  }
  const seen = new Set<Field>();
  for (const field of chosen) {
    if (field === null) continue;
    if (seen.has(field)) {
      return translate(language, 'prepare.duplicateField', { field: fieldLabel(language, field) });
    }
    seen.add(field);
  }
  return null;
}

/** The detected setup with the person's choices in place of the detected fields. */
export function setupWithChoices(setup: SheetSetup, chosen: readonly (Field | null)[]): SheetSetup {
  return {
    ...setup,
    columns: setup.columns.map((column, index) => {
      const field = chosen[index] ?? null;
      return field === column.field ? column : { ...column, field, confidence: field === null ? 0 : 1 };
    }),
  };
}
