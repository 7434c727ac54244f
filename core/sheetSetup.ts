/**
 * Prepare step 1: a sheet's header and its column mapping, with confidence and alternatives per
 * column, as the add-in shows it for the user to correct (and the Google Sheets sync stores with a
 * link). Result columns the product wrote earlier are recognised by their header and never mapped.
 */
import { RESULT_HEADERS } from './annotation.js';
import { classifyRow, detectHeader, type FieldCandidate, type HeaderDetection } from './headers.js';
import type { Field, ResultColumn } from './schema.js';
import type { SheetGrid } from './sheetGrid.js';
import { toSimplified } from './simplified.js';

export interface ColumnChoice {
  /** 1-based (A = 1). */
  column: number;
  header: string;
  /**
   * In a two-row header, the merged group cell above the column (金额（万元） over 预计金额): a money
   * column takes its unit from it when its own header names none (core/money.ts moneyUnitsOfColumns).
   */
  group?: string;
  field: Field | null;
  /** 0..1; 0 when unmapped. */
  confidence: number;
  alternatives: FieldCandidate[];
}

export interface SheetSetup {
  sheetName: string;
  /** 1-based row of the header line right above the data. */
  headerRow: number;
  columns: ColumnChoice[];
  /** Rows under the header that hold a registration (blank, total and note rows not counted). */
  dataRows: number;
}

/** Which result column a header cell is, by its text (报备编号, Registration no., 報備編號…). */
export function resultColumnOfHeader(text: string): ResultColumn | null {
  const key = headerKey(text);
  if (key === '') return null;
  for (const { key: column, zh, en } of RESULT_HEADERS) {
    if (key === headerKey(zh) || key === headerKey(en)) return column;
  }
  return null;
}

function headerKey(text: string): string {
  return toSimplified(text.normalize('NFKC'))
    .replace(/[\s*※:：]/g, '')
    .toLowerCase();
}

/**
 * The header and column mapping of a sheet, with confidence and alternatives per column, ready for
 * the user to correct. Result columns the product wrote earlier are recognised and never mapped to a
 * field. Null when no header can be found.
 */
export function describeSheet(sheetName: string, grid: SheetGrid): SheetSetup | null {
  const detection = detectHeader(grid);
  if (detection === null || detection.columns.every((c) => c.field === null)) return null;
  const columns = detection.columns.map((c): ColumnChoice => {
    if (resultColumnOfHeader(c.header) !== null) {
      return { column: c.column, header: c.header, field: null, confidence: 0, alternatives: [] };
    }
    return {
      column: c.column,
      header: c.header,
      ...(c.group !== undefined ? { group: c.group } : {}),
      field: c.field,
      confidence: c.confidence,
      alternatives: (c.alternatives ?? []).map((a) => ({ ...a })),
    };
  });
  const setup: SheetSetup = { sheetName, headerRow: detection.headerRow, columns, dataRows: 0 };
  const probe = detectionFor(setup);
  let dataRows = 0;
  for (let row = setup.headerRow + 1; row <= grid.length; row++) {
    if (classifyRow(grid[row - 1] ?? [], probe) === 'data') dataRows++;
  }
  return { ...setup, dataRows };
}

/** classifyRow reads only the header texts of a detection; the user's setup carries them. */
export function detectionFor(setup: SheetSetup): HeaderDetection {
  return {
    headerRow: setup.headerRow,
    headerRows: [setup.headerRow],
    dataStartRow: setup.headerRow + 1,
    columns: setup.columns.map((c) => ({
      column: c.column,
      header: c.header,
      field: c.field,
      confidence: c.confidence,
    })),
    unmapped: [],
    confidence: 1,
  };
}
