/**
 * Header detection against every legacy sample sheet in shared/samples: the header row and the column
 * → field mapping must reproduce truth.json.
 */
import { readFileSync } from 'node:fs';
import iconv from 'iconv-lite';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { classifyRow, detectHeader } from '../../core/headers.js';
import type { Field } from '../../core/schema.js';
import { decodeCsvBytes, parseCsv, readSampleGrid } from '../fixtures/sampleGrid.js';

const samplesDir = fileURLToPath(new URL('../../../shared/samples/', import.meta.url));

interface SampleTruth {
  file: string;
  headerRow: number;
  mapping: Record<string, Field>;
  rows: { row: number }[];
}

const truths = JSON.parse(readFileSync(`${samplesDir}truth.json`, 'utf8')) as SampleTruth[];

describe('detectHeader on the legacy samples', () => {
  it('has samples to check', () => {
    expect(truths.length).toBeGreaterThan(0);
  });

  describe.each(truths)('$file', (truth) => {
    it('finds the header row and maps every column as truth.json says', async () => {
      const grid = await readSampleGrid(samplesDir + truth.file);
      const detection = detectHeader(grid);
      expect(detection).not.toBeNull();
      if (detection === null) return;
      expect(detection.headerRow).toBe(truth.headerRow);

      const actual = Object.fromEntries(
        detection.columns.filter((c) => c.field !== null).map((c) => [c.header, c.field]),
      );
      // Equality covers both directions: every truth column maps to its field, and no other column maps.
      expect(actual).toEqual(truth.mapping);
      expect(detection.unmapped.map((u) => u.header).filter((h) => h in truth.mapping)).toEqual([]);
    });

    it('classifies every truth row as data and starts the data right after the header', async () => {
      const grid = await readSampleGrid(samplesDir + truth.file);
      const detection = detectHeader(grid);
      if (detection === null) throw new Error('no header');
      const firstTruthRow = Math.min(...truth.rows.map((r) => r.row));
      expect(detection.dataStartRow).toBe(firstTruthRow);
      for (const { row } of truth.rows) {
        expect([row, classifyRow(grid[row - 1] ?? [], detection)]).toEqual([row, 'data']);
      }
    });
  });
});

describe('the sample reader', () => {
  it('parses RFC 4180 quoting: commas, doubled quotes and newlines inside quotes, CRLF', () => {
    expect(parseCsv('a,"b,c","d""e"\r\n"x\ny",,z\n')).toEqual([
      ['a', 'b,c', 'd"e'],
      ['x\ny', '', 'z'],
    ]);
  });

  it('decodes UTF-8 with a BOM, and GBK when the bytes are not UTF-8', () => {
    expect(decodeCsvBytes(new Uint8Array([0xef, 0xbb, 0xbf, ...Buffer.from('客户名称')]))).toBe('客户名称');
    expect(decodeCsvBytes(iconv.encode('客户名称,联系电话', 'gbk'))).toBe('客户名称,联系电话');
  });

  it('detects the same header in the CSV sample saved as GBK', () => {
    const csv = truths.find((t) => t.file.endsWith('.csv'));
    if (csv === undefined) throw new Error('no CSV sample');
    const utf8 = decodeCsvBytes(readFileSync(samplesDir + csv.file));
    const grid = parseCsv(decodeCsvBytes(iconv.encode(utf8, 'gbk'))).map((r) =>
      r.map((f) => (f === '' ? null : f)),
    );
    const detection = detectHeader(grid);
    expect(detection?.headerRow).toBe(csv.headerRow);
    expect(Object.fromEntries(detection?.columns.map((c) => [c.header, c.field]) ?? [])).toEqual(csv.mapping);
  });
});
