/**
 * Every shared sample (and one sheet long enough for several pages), imported (dry run) and
 * printed the way a person would: the annotated copy through LibreOffice to PDF and to PNG pictures
 * kept in test-output/annotated/ for a human to look at. What the pictures should show is asserted on the structure: the fill of every row, 冲突说明
 * holding only clashes and errors (advice in 提示), the legend, landscape pages one page wide with
 * the header row on every page.
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FILLS, rowFill } from '../../core/annotation.js';
import type { RowStatus } from '../../core/schema.js';
import type { ImportReport } from '../../server/import/importSheet.js';
import { SAMPLES_DIR } from '../fixtures/sampleRows.js';
import { convertToPdf, openTempStore, runImport, type TempStore } from './importHarness.js';

const run = promisify(execFile);
const OUT = path.resolve(import.meta.dirname, '..', '..', 'test-output', 'annotated');
/** Warnings that describe a clash (core/annotation puts them in 冲突说明 when no clash is listed). */
const CLASH_WARNINGS = new Set([
  'registration.conflict',
  'match.possible',
  'conflict.queued',
  'conflict.competing',
]);

interface Rendered {
  file: string;
  report: ImportReport;
  workbook: ExcelJS.Workbook;
  /** Text of each PDF page, and each page's size in points. */
  pages: { text: string; width: number; height: number }[];
  pictures: string[];
}

let temp: TempStore;
const rendered: Rendered[] = [];
let long: Rendered;

async function render(file: string, given?: Buffer): Promise<Rendered> {
  const stem = file.replace(/\.[^.]+$/, '');
  const bytes = given ?? (await readFile(path.join(SAMPLES_DIR, file)));
  const { report, annotated } = await runImport(bytes, temp, { fileName: file, dryRun: true });
  const xlsx = path.join(OUT, `${stem}.checked.xlsx`);
  await writeFile(xlsx, annotated);
  const pdf = await convertToPdf(xlsx);
  const keptPdf = path.join(OUT, `${stem}.checked.pdf`);
  await copyFile(pdf.pdf, keptPdf);
  await run('pdftoppm', ['-png', '-r', '100', keptPdf, path.join(OUT, stem)]);
  const info = (await run('pdfinfo', ['-f', '1', '-l', '1000', keptPdf])).stdout;
  const sizes = [...info.matchAll(/^Page\s+\d+ size:\s+([\d.]+) x ([\d.]+)/gm)].map((m) => ({
    width: Number(m[1]),
    height: Number(m[2]),
  }));
  const pages = await Promise.all(
    sizes.map(async (size, i) => {
      const page = String(i + 1);
      const text = (await run('pdftotext', ['-layout', '-f', page, '-l', page, keptPdf, '-'])).stdout;
      return { ...size, text };
    }),
  );
  const pictures = (await readdir(OUT)).filter((f) => f.startsWith(`${stem}-`) && f.endsWith('.png'));
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.load(annotated as unknown as ArrayBuffer);
  return { file, report, workbook, pages, pictures };
}

beforeAll(async () => {
  await rm(OUT, { recursive: true, force: true });
  await mkdir(OUT, { recursive: true });
  temp = await openTempStore();
  const files = (await readdir(SAMPLES_DIR)).filter((f) => /\.(xlsx|csv)$/.test(f)).sort();
  // One at a time: LibreOffice is heavy and the machine is shared.
  for (const file of files) rendered.push(await render(file));
  // No sample runs over one page: the CSV sample's rows five times over does, for the header check.
  const [header, ...lines] = (await readFile(path.join(SAMPLES_DIR, 'v3-utf8-bom.csv'), 'utf8')).split(
    /\r?\n/,
  );
  const body = lines.filter((l) => l.trim() !== '');
  long = await render('v3-five-times.csv', Buffer.from([header, ...Array(5).fill(body).flat()].join('\n')));
}, 600_000);

afterAll(async () => {
  await temp.dispose();
});

function fillOf(cell: ExcelJS.Cell): string | undefined {
  return (cell.fill as { fgColor?: { argb?: string } } | undefined)?.fgColor?.argb;
}

/** The annotated data sheet and the 1-based column of each result header. */
function resultColumns(r: Rendered): { ws: ExcelJS.Worksheet; col: Record<string, number> } {
  const ws = r.workbook.getWorksheet(r.report.sheet)!;
  const col: Record<string, number> = {};
  ws.getRow(r.report.headerRow).eachCell((cell, c) => {
    if (typeof cell.value === 'string') col[cell.value] = c;
  });
  return { ws, col };
}

describe('the samples, annotated and printed', () => {
  it('renders every sample to PDF and PNG pictures in test-output/annotated', () => {
    expect(rendered.map((r) => r.file)).toEqual([
      'v1-title-row.xlsx',
      'v2-bilingual.xlsx',
      'v3-utf8-bom.csv',
      'v4-channel-masked.xlsx',
    ]);
    for (const r of rendered) {
      expect(r.pages.length, r.file).toBeGreaterThanOrEqual(2);
      expect(r.pictures, r.file).toHaveLength(r.pages.length);
    }
  });

  it('colours each row by what it needs: most rows of a first import just wait, barely tinted', () => {
    for (const r of rendered) {
      const { ws, col } = resultColumns(r);
      const counts: Record<string, number> = {};
      for (const row of r.report.rows) {
        if (row.status === 'skipped') continue;
        const look = row.conflicts.length > 0 || row.warnings.some((w) => w.code === 'registration.late');
        const fill = rowFill(row.status as RowStatus, look);
        counts[fill] = (counts[fill] ?? 0) + 1;
        expect(fillOf(ws.getRow(row.row).getCell(col['状态']!)), `${r.file} row ${row.row}`).toBe(
          `FF${FILLS[fill].fill}`,
        );
      }
      // The rows that only wait outnumber everything else, and none of them is amber.
      expect(counts['paleBlue'] ?? 0, r.file).toBeGreaterThan(r.report.summary.rows / 2);
      expect(counts['amber'] ?? 0, r.file).toBeLessThan(r.report.summary.rows / 4);
      // Invalid rows are violet, never the grey of closed rows nor the red of conflicts.
      expect(counts['violet'] ?? 0, r.file).toBe(r.report.summary.byStatus.invalid ?? 0);
    }
  });

  it('keeps 冲突说明 to clashes and errors; advice goes to 提示', () => {
    let adviceOnly = 0;
    let clashes = 0;
    for (const r of rendered) {
      const { ws, col } = resultColumns(r);
      for (const row of r.report.rows) {
        if (row.status === 'skipped') continue;
        const conflictText = String(ws.getRow(row.row).getCell(col['冲突说明']!).value ?? '');
        const hintText = String(ws.getRow(row.row).getCell(col['提示']!).value ?? '');
        const clashWarnings = row.warnings.filter((w) => CLASH_WARNINGS.has(w.code));
        const advice = row.warnings.filter((w) => !CLASH_WARNINGS.has(w.code));
        const ownMatch = row.status === 'duplicate';
        const hasClash =
          row.errors.length > 0 || (!ownMatch && (row.conflicts.length > 0 || clashWarnings.length > 0));
        if (hasClash) {
          clashes++;
          expect(conflictText, `${r.file} row ${row.row}`).not.toBe('');
        } else {
          expect(conflictText, `${r.file} row ${row.row}`).toBe('');
        }
        if (row.errors.length === 0 && row.conflicts.length === 0 && advice.length > 0) adviceOnly++;
        for (const w of advice) {
          expect(hintText, `${r.file} row ${row.row}`).toContain(w.message);
          expect(conflictText, `${r.file} row ${row.row}`).not.toContain(w.message);
        }
      }
    }
    // Both kinds are there to check (the issue found advice burying the clashes on most rows).
    expect(adviceOnly).toBeGreaterThan(10);
    expect(clashes).toBeGreaterThan(10);
  });

  it('prints landscape, one page wide, with the header row on every page of the sheet', () => {
    let repeated = 0;
    for (const r of [...rendered, long]) {
      const { ws } = resultColumns(r);
      expect(ws.pageSetup, r.file).toMatchObject({
        orientation: 'landscape',
        fitToPage: true,
        fitToWidth: 1,
        fitToHeight: 0,
        printTitlesRow: `${r.report.headerRow}:${r.report.headerRow}`,
      });
      for (const page of r.pages) expect(page.width, r.file).toBeGreaterThan(page.height);
      const sheetPages = r.pages.filter((p) => !p.text.includes('数据行 Rows'));
      // One page wide: every page of the sheet carries the result columns, header included.
      for (const page of sheetPages) {
        expect(page.text, r.file).toContain('报备编号');
        expect(page.text, r.file).toContain('提示');
      }
      if (sheetPages.length > 1) repeated++;
    }
    // The long sheet runs over pages, so the repeated header was really seen.
    expect(repeated).toBeGreaterThan(0);
    expect(long.pages.length).toBeGreaterThanOrEqual(3);
  });

  it('ends with a 汇总 page: local time, the mode in words, and the legend', () => {
    for (const r of rendered) {
      const summary = r.pages.filter((p) => p.text.includes('数据行 Rows'));
      expect(summary, r.file).toHaveLength(1);
      const text = summary[0]!.text;
      expect(text).toContain('2026-11-23 10:00 北京时间 (UTC+8)');
      expect(text).toMatch(/提交 Submit（试运行，未保存 Dry run, nothing saved）/);
      for (const word of [
        '图例 Legend',
        '冲突 Conflict',
        '信息有误 Invalid',
        '待审核 Waiting',
        '已结束 Closed',
      ])
        expect(text).toContain(word);
    }
    // A CSV's sheet is named after its file.
    expect(rendered.find((r) => r.file.endsWith('.csv'))!.report.sheet).toBe('v3-utf8-bom');
  });
});
