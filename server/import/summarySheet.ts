/**
 * The 汇总 (summary) sheet of the annotated copy: what was checked (file, sheet, header row, mode,
 * Beijing time), how many rows ended in each status, and the legend of the row fills (core's
 * LEGEND, each line in its own colour, with how many rows got it), as a small worksheet part.
 */
import { dayOf } from '../../core/day.js';
import { INVALID_CELL_LEGEND, LEGEND, LEGEND_TITLE, type FillName } from '../../core/annotation.js';
import { STATUS_LABELS, type RowStatus } from '../../core/schema.js';
import { cellAddress } from './cellReference.js';
import type { SharedStringsAppender } from './sharedStringsPart.js';
import type { StylesPatch } from './stylesPatch.js';
import { heightForLines, wrappedLineCount } from './wrappedLines.js';
import { XML_DECLARATION } from './xlsxPackage.js';

export interface SummaryInput {
  file: string;
  sheetName: string;
  headerRow: number;
  mode: 'submit' | 'history';
  dryRun: boolean;
  /** When the import ran (an instant). */
  at: string;
  rows: number;
  byStatus: Partial<Record<RowStatus | 'skipped', number>>;
  /** Rows per fill, and the invalid cells marked. */
  byFill: Partial<Record<FillName, number>>;
  invalidCells: number;
}

const MODE_LABELS: Record<SummaryInput['mode'], string> = {
  submit: '提交 Submit',
  history: '历史迁移 History migration',
};

type Value = string | number;
interface Line {
  cells: readonly Value[];
  style?: 'head' | FillName;
}

/** An instant as Beijing wall-clock time (UTC+8 all year): `2026-11-23 10:00 北京时间 (UTC+8)`. */
export function beijingTime(instant: string): string {
  const ms = Date.parse(instant);
  if (Number.isNaN(ms)) return instant;
  const clock = new Date(ms + 8 * 3600_000).toISOString().slice(11, 16);
  return `${dayOf(instant)} ${clock} 北京时间 (UTC+8)`;
}

export function modeLabel(mode: SummaryInput['mode'], dryRun: boolean): string {
  return `${MODE_LABELS[mode]}${dryRun ? '（试运行，未保存 Dry run, nothing saved）' : ''}`;
}

/** Column widths (characters): labels, counts, texts. Info values start in B and run into C. */
const WIDTHS = [26, 10, 80] as const;

export function summarySheetXml(
  input: SummaryInput,
  strings: SharedStringsAppender,
  styles: StylesPatch,
): string {
  const lines: (Line | null)[] = [
    { cells: ['文件 File', input.file] },
    { cells: ['工作表 Sheet', input.sheetName] },
    { cells: ['表头行 Header row', input.headerRow] },
    { cells: ['模式 Mode', modeLabel(input.mode, input.dryRun)] },
    { cells: ['检查时间 Checked at', beijingTime(input.at)] },
    { cells: ['数据行 Rows', input.rows] },
    null,
    { cells: ['状态 Status', '行数 Rows'], style: 'head' },
    ...Object.entries(input.byStatus).map(([status, count]): Line => {
      const label = status === 'skipped' ? undefined : STATUS_LABELS[status as RowStatus];
      return { cells: [label ? `${label.zh} ${label.en}` : '跳过 Skipped', count] };
    }),
    null,
    { cells: [`${LEGEND_TITLE.zh} ${LEGEND_TITLE.en}`, '行数 Rows', '说明 Meaning'], style: 'head' },
    ...LEGEND.map((entry): Line => ({
      cells: [
        `${entry.zh} ${entry.en}`,
        input.byFill[entry.fill] ?? 0,
        `${entry.meaningZh}\n${entry.meaningEn}`,
      ],
      style: entry.fill,
    })),
    {
      cells: [
        `${INVALID_CELL_LEGEND.zh} ${INVALID_CELL_LEGEND.en}`,
        input.invalidCells,
        `${INVALID_CELL_LEGEND.meaningZh}\n${INVALID_CELL_LEGEND.meaningEn}`,
      ],
      style: INVALID_CELL_LEGEND.fill,
    },
  ];
  const bold = styles.bold();
  const wrap = styles.derive(0, { wrap: true });
  const rows = lines.map((line, i) => {
    if (line === null) return '';
    const n = i + 1;
    const legend = line.style !== undefined && line.style !== 'head';
    const cells = line.cells.map((value, c) => {
      const address = cellAddress(n, c + 1);
      // A legend line shows its colour as a swatch on its label; its meaning wraps, all from the top.
      const style =
        line.style === 'head'
          ? bold
          : legend && c === 0
            ? styles.swatch(line.style as FillName)
            : legend
              ? c === 1
                ? styles.centredTop()
                : wrap
              : undefined;
      const s = style === undefined ? '' : ` s="${style}"`;
      return typeof value === 'number'
        ? `<c r="${address}"${s}><v>${value}</v></c>`
        : `<c r="${address}"${s} t="s"><v>${strings.add(value)}</v></c>`;
    });
    const text = legend ? String(line.cells[2]) : '';
    const height = heightForLines(wrappedLineCount(text, WIDTHS[2]));
    return `<row r="${n}"${legend ? ` ht="${height}" customHeight="1"` : ''}>${cells.join('')}</row>`;
  });
  const cols = WIDTHS.map((w, i) => `<col min="${i + 1}" max="${i + 1}" width="${w}" customWidth="1"/>`);
  return (
    `${XML_DECLARATION}<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" ` +
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">' +
    '<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>' +
    `<dimension ref="A1:C${lines.length}"/><sheetViews><sheetView workbookViewId="0"/></sheetViews>` +
    `<sheetFormatPr defaultRowHeight="15"/><cols>${cols.join('')}</cols>` +
    `<sheetData>${rows.join('')}</sheetData>` +
    '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>' +
    '<pageSetup paperSize="9" orientation="landscape" fitToWidth="1" fitToHeight="0"/></worksheet>'
  );
}
