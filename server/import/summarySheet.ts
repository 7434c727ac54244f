/**
 * The 汇总 (summary) sheet of the annotated copy: what was checked (file, sheet, header row, mode,
 * time) and how many rows ended in each status, as a small two-column worksheet part.
 */
import { STATUS_LABELS, type RowStatus } from '../../core/schema.js';
import { cellAddress } from './cellReference.js';
import type { SharedStringsAppender } from './sharedStringsPart.js';
import type { StylesPatch } from './stylesPatch.js';
import { XML_DECLARATION } from './xlsxPackage.js';

export interface SummaryInput {
  file: string;
  sheetName: string;
  headerRow: number;
  mode: string;
  dryRun: boolean;
  at: string;
  rows: number;
  byStatus: Partial<Record<RowStatus | 'skipped', number>>;
}

type Line = readonly [string, string | number] | null;

export function summarySheetXml(
  input: SummaryInput,
  strings: SharedStringsAppender,
  styles: StylesPatch,
): string {
  const lines: Line[] = [
    ['文件 File', input.file],
    ['工作表 Sheet', input.sheetName],
    ['表头行 Header row', input.headerRow],
    ['模式 Mode', `${input.mode}${input.dryRun ? '（试运行，未保存 dry run）' : ''}`],
    ['检查时间 Checked at', input.at],
    ['数据行 Rows', input.rows],
    null,
    ['状态 Status', '行数 Rows'],
    ...Object.entries(input.byStatus).map(([status, count]): Line => {
      const label = status === 'skipped' ? undefined : STATUS_LABELS[status as RowStatus];
      return [label ? `${label.zh} ${label.en}` : '跳过 Skipped', count];
    }),
  ];
  const headLine = 8;
  const rows = lines.map((line, i) => {
    if (line === null) return '';
    const n = i + 1;
    const style = n === headLine ? ` s="${styles.bold()}"` : '';
    const cells = line.map((value, c) => {
      const address = cellAddress(n, c + 1);
      return typeof value === 'number'
        ? `<c r="${address}"${style}><v>${value}</v></c>`
        : `<c r="${address}"${style} t="s"><v>${strings.add(value)}</v></c>`;
    });
    return `<row r="${n}">${cells.join('')}</row>`;
  });
  return (
    `${XML_DECLARATION}<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" ` +
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">' +
    `<dimension ref="A1:B${lines.length}"/><sheetViews><sheetView workbookViewId="0"/></sheetViews>` +
    '<sheetFormatPr defaultRowHeight="15"/>' +
    '<cols><col min="1" max="1" width="18" customWidth="1"/><col min="2" max="2" width="40" customWidth="1"/></cols>' +
    `<sheetData>${rows.join('')}</sheetData>` +
    '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/></worksheet>'
  );
}
