/**
 * What linking prepares in the Google sheet (issue 11), as the requests of ONE
 * spreadsheets.batchUpdate: a warning-only protected range over the result columns (the sync writes
 * them; a person typing there is warned, not stopped — the next sync rewrites them anyway), and data
 * validation on 客户类型 (the words core accepts) and on the date columns. Pure: the tab as Google
 * describes it and the link's layout go in; the requests and a report of what they set come out.
 * A protected range of ours already on the tab (an earlier link of it, a retried link) is found by
 * its description and kept, or replaced when the result columns moved — never added twice.
 */
import { z } from 'zod';
import { NOTE_MARKER } from '../../core/sheetNotes.js';
import { validationFor } from '../../core/sheetPrepare.js';
import { FIELD_SPECS, RESULT_COLUMNS, type Field, type ResultColumn } from '../../core/schema.js';
import { a1Range, columnLetter } from './a1Range.js';
import type { sheets_v4 } from './googleClient.js';

/**
 * Marks the protected ranges this product owns, as it marks its notes (core's NOTE_MARKER): a
 * person's own protections on the tab are never touched.
 */
export const PROTECTION_MARKER = NOTE_MARKER;

export const PROTECTION_DESCRIPTION =
  `${PROTECTION_MARKER}报备编号、状态、保护截止、冲突说明、提示由报备服务在每次同步时写回：` +
  '请勿手工修改（改动会被下次同步覆盖）；取消链接后可删除此保护。' +
  ' / Written back by the Baobei sync on every run: edits here are overwritten.';

export interface LinkSetupInput {
  /** The tab's title (for A1 ranges in the report) and numeric id (for the requests). */
  sheet: string;
  sheetId: number;
  /** The tab's protected ranges as spreadsheets.get returns them. */
  protectedRanges: readonly sheets_v4.Schema$ProtectedRange[];
  /** 1-based header row, and 1-based columns (A = 1) of the mapped fields and the result columns. */
  headerRow: number;
  fieldColumns: Partial<Record<Field, number>>;
  resultColumns: Record<ResultColumn, number>;
}

export const linkSetupReportSchema = z.object({
  protection: z.object({
    /** `added` now, `kept` (ours was already there, same columns), `replaced` (ours covered other columns). */
    action: z.enum(['added', 'kept', 'replaced']),
    warningOnly: z.literal(true),
    /** A1 ranges, open-ended downwards so rows typed later are covered: `'报备'!G1:K`. */
    ranges: z.array(z.string()),
    headers: z.array(z.string()),
    description: z.string(),
  }),
  validations: z.array(
    z.object({
      field: z.string(),
      header: z.string(),
      range: z.string(),
      condition: z.enum(['ONE_OF_LIST', 'DATE_IS_VALID']),
      values: z.array(z.string()).optional(),
      /** Always false: core reads more spellings (公司, 2026年3月5日) than a rule can list; it warns. */
      strict: z.literal(false),
      inputMessage: z.string(),
    }),
  ),
});
export type LinkSetupReport = z.infer<typeof linkSetupReportSchema>;

export interface LinkSetupPlan {
  /** For one spreadsheets.batchUpdate (validation is set again each time: setting it is idempotent). */
  requests: sheets_v4.Schema$Request[];
  report: LinkSetupReport;
}

interface ColumnRun {
  /** 0-based, end exclusive. */
  start: number;
  end: number;
}

/** Result columns as runs of adjacent columns: one protected range each (one in the usual layout). */
function runsOf(columns: readonly number[]): ColumnRun[] {
  const sorted = [...new Set(columns)].sort((a, b) => a - b);
  const runs: ColumnRun[] = [];
  for (const c of sorted) {
    const last = runs[runs.length - 1];
    if (last !== undefined && last.end === c - 1) last.end = c;
    else runs.push({ start: c - 1, end: c });
  }
  return runs;
}

export function isOurProtection(p: sheets_v4.Schema$ProtectedRange): boolean {
  return typeof p.description === 'string' && p.description.startsWith(PROTECTION_MARKER);
}

/** Same cells, read as Google answers them (a 0 sheetId and open ends are left out of its JSON). */
function sameRange(a: sheets_v4.Schema$GridRange | undefined, b: sheets_v4.Schema$GridRange): boolean {
  if (a === undefined) return false;
  return (
    (a.sheetId ?? 0) === (b.sheetId ?? 0) &&
    (a.startRowIndex ?? 0) === (b.startRowIndex ?? 0) &&
    (a.endRowIndex ?? undefined) === (b.endRowIndex ?? undefined) &&
    (a.startColumnIndex ?? 0) === (b.startColumnIndex ?? 0) &&
    (a.endColumnIndex ?? undefined) === (b.endColumnIndex ?? undefined)
  );
}

export function planLinkSetup(input: LinkSetupInput): LinkSetupPlan {
  const requests: sheets_v4.Schema$Request[] = [];

  // Protection: from the header row down (a renamed result header stops the sync), no end row.
  const runs = runsOf(Object.values(input.resultColumns));
  const wanted: sheets_v4.Schema$GridRange[] = runs.map((r) => ({
    sheetId: input.sheetId,
    startRowIndex: input.headerRow - 1,
    startColumnIndex: r.start,
    endColumnIndex: r.end,
  }));
  const ours = input.protectedRanges.filter(isOurProtection);
  const kept =
    ours.length === wanted.length &&
    ours.every((p) => p.warningOnly === true) &&
    wanted.every((w) => ours.some((p) => sameRange(p.range, w)));
  if (!kept) {
    for (const p of ours) {
      if (typeof p.protectedRangeId === 'number')
        requests.push({ deleteProtectedRange: { protectedRangeId: p.protectedRangeId } });
    }
    for (const range of wanted) {
      requests.push({
        addProtectedRange: {
          // warningOnly: everyone may still edit (no editors list: Sheets refuses one with it).
          protectedRange: { range, warningOnly: true, description: PROTECTION_DESCRIPTION },
        },
      });
    }
  }
  const resultHeaders = (Object.entries(input.resultColumns) as [ResultColumn, number][])
    .sort(([, a], [, b]) => a - b)
    .map(([col]) => RESULT_COLUMNS[col].zh);

  // Validation below the header, open-ended: rows typed later get it too.
  const validations: LinkSetupReport['validations'] = [];
  const fields = (Object.entries(input.fieldColumns) as [Field, number][]).sort(([, a], [, b]) => a - b);
  for (const [field, column] of fields) {
    const spec = FIELD_SPECS[field];
    const top = `${columnLetter(column - 1)}${input.headerRow + 1}`;
    const core = validationFor(field, top);
    if (core === null) continue;
    let condition: sheets_v4.Schema$BooleanCondition;
    let values: string[] | undefined;
    if (spec.kind === 'customerType' && core.rule.list !== undefined) {
      values = core.rule.list.source.split(',');
      condition = { type: 'ONE_OF_LIST', values: values.map((v) => ({ userEnteredValue: v })) };
    } else if ((spec.kind === 'day' || spec.kind === 'instant') && core.rule.date !== undefined) {
      condition = { type: 'DATE_IS_VALID' };
    } else {
      continue; // grade, phone, credit code: core checks them on sync; the issue asks for these two only
    }
    const range: sheets_v4.Schema$GridRange = {
      sheetId: input.sheetId,
      startRowIndex: input.headerRow,
      startColumnIndex: column - 1,
      endColumnIndex: column,
    };
    requests.push({
      setDataValidation: {
        range,
        rule: {
          condition,
          inputMessage: core.alert.message,
          // Not strict: core accepts more spellings than the rule names; Sheets shows a warning mark.
          strict: false,
          // The drop-down for the list; for dates Sheets' date picker needs no custom UI.
          showCustomUi: condition.type === 'ONE_OF_LIST',
        },
      },
    });
    validations.push({
      field,
      header: spec.zh,
      range: a1Range(input.sheet, { startRow: input.headerRow, startColumn: column - 1, endColumn: column }),
      condition: condition.type as 'ONE_OF_LIST' | 'DATE_IS_VALID',
      ...(values === undefined ? {} : { values }),
      strict: false,
      inputMessage: core.alert.message,
    });
  }

  return {
    requests,
    report: {
      protection: {
        action: kept ? 'kept' : ours.length > 0 ? 'replaced' : 'added',
        warningOnly: true,
        ranges: runs.map((r) =>
          a1Range(input.sheet, { startRow: input.headerRow - 1, startColumn: r.start, endColumn: r.end }),
        ),
        headers: resultHeaders,
        description: PROTECTION_DESCRIPTION,
      },
      validations,
    },
  };
}
