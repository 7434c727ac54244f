/**
 * Why a row under the header is not registered, in words the report and the sheet show: a total, a
 * note, the header repeated, or the template's example row (naming the column that shows it).
 */
import type { ExampleEvidence } from './exampleRow.js';
import type { RowKind } from './headers.js';
import { problem, type Problem } from './problem.js';
import { columnLetters } from './sheetGrid.js';

/** The kinds of row that are reported as skipped (blank rows are passed over in silence). */
export type SkippedKind = Exclude<RowKind, 'data' | 'blank'>;

export function skippedRowReason(kind: SkippedKind, row: number, evidence?: ExampleEvidence | null): Problem {
  switch (kind) {
    case 'total':
      return problem(
        'row.total',
        `第 ${row} 行是合计行，未登记`,
        `Row ${row} is a total row; not registered`,
      );
    case 'note':
      return problem('row.note', `第 ${row} 行是说明文字，未登记`, `Row ${row} is a note; not registered`);
    case 'header-repeat':
      return problem(
        'row.header_repeat',
        `第 ${row} 行重复了表头，未登记`,
        `Row ${row} repeats the header; not registered`,
      );
    case 'example': {
      const where =
        evidence === undefined || evidence === null
          ? { zh: '', en: '' }
          : {
              zh: `（见 ${columnLetters(evidence.column)} 列“${evidence.header}”）`,
              en: ` (see column ${columnLetters(evidence.column)} "${evidence.header}")`,
            };
      return problem(
        'row.example',
        `第 ${row} 行是填写示例${where.zh}：标有示例/例/样例，或客户名称是“某某”“某公司”“XX”之类的占位名称，未登记。如是真实客户，请改正后重新导入`,
        `Row ${row} is the template's example${where.en}: marked 示例/例/样例, or a placeholder customer name such as 某某, 某公司 or XX; not registered. If it is a real customer, correct it and import again`,
      );
    }
  }
}

/** A row under the header that is no registration, as reports list it: the import's `skipped` and `reason`. */
export interface NotRegisteredRow {
  row: number;
  skipped: SkippedKind;
  reason: Problem;
}

/**
 * The rows of a sheet that are no registration, each with its reason (blank rows are left out): what
 * the Google Sheets sync reports, in the import report's codes and words.
 */
export function notRegisteredRows(
  rows: readonly { row: number; kind: RowKind; evidence?: ExampleEvidence | undefined }[],
): NotRegisteredRow[] {
  return rows.flatMap((r) =>
    r.kind === 'data' || r.kind === 'blank'
      ? []
      : [{ row: r.row, skipped: r.kind, reason: skippedRowReason(r.kind, r.row, r.evidence) }],
  );
}
