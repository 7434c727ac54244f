/**
 * A seeded, bounded fuzzer over the import library: the sample .xlsx and .csv files mutated — bytes
 * flipped, ZIP header fields set to extremes, XML parts cut, spliced, nested and inflated, CSV lines
 * stretched and mis-encoded — for a fixed number of cases. Every outcome must be a report or an
 * ImportError with an input code (never another exception: that would be an exit 1 / HTTP 500), and
 * the worker's memory must stay bounded. Seeds that once failed are pinned below as regression cases.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImportError } from '../../server/import/importError.js';
import { inflateEntry, readZip } from '../../server/import/zipArchive.js';
import { deflated, zipOf, type RawEntry } from '../fixtures/hostileZip.js';
import { openTempStore, runImport, type TempStore } from './importHarness.js';

const SAMPLES = path.resolve(import.meta.dirname, '../../../shared/samples');
const XLSX_SAMPLES = ['v1-title-row.xlsx', 'v2-bilingual.xlsx', 'v4-channel-masked.xlsx'];
const CSV_SAMPLES = ['v3-utf8-bom.csv'];
/** Cases per run: ~25 s on a loaded two-core machine. */
const CASES = 200;
const BASE_SEED = 0x14_16;
/** What a mutated file may end in besides a report: its own fault, coded. */
const INPUT_CODES = new Set([
  'import.too_large',
  'import.unreadable',
  'import.no_header',
  'import.no_register',
  'import.empty',
]);
const MB = 1024 * 1024;
const MEMORY_BOUND = 512 * MB;
const GROWTH = 256 * 1024;

/** mulberry32: a small, seedable PRNG (the same seed gives the same file on every machine). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Random = () => number;
const int = (r: Random, n: number): number => Math.floor(r() * n);
const pick = <T>(r: Random, items: readonly T[]): T => items[int(r, items.length)]!;

/** Snippets an attacker (or a broken generator) puts into XML. */
const XML_SNIPPETS = [
  '<!DOCTYPE x [<!ENTITY a "b">]>',
  '<row r="1e15"><c r="A1"><v>1</v></c></row>',
  '<c r="ZZZZZ1"><v>1</v></c>',
  '<c r="XFD1048576"><v>1</v></c>',
  '<row r="1048576"/>',
  '<row r="0"/>',
  '<c r="A1" t="s"><v>99999999</v></c>',
  '<c r="A1" t="s"><v>-1</v></c>',
  '<c r="A1" t="d"><v>not a date</v></c>',
  '<c t="inlineStr"><is><t>&#xFFFFFFF;&#0;&amp</t></is></c>',
  '<![CDATA[',
  ']]>',
  '<!--',
  '<?pi',
  '<',
  '>',
  '"',
  "'",
  '</sheetData>',
  '<sheetData>',
  '</worksheet>',
  '<sheet name="报备" sheetId="1" r:id="rId1"/>',
  '<numFmt numFmtId="164" formatCode="[[[[yyyy"/>',
  '<dimension ref="A1:ZZZZZZZ99999999999"/>',
  '<x>'.repeat(400),
  '_x0000__xD800_',
];
const CSV_SNIPPETS = ['"', '""', ',', '\t', ';', '\r', '\n', '\r\n', '\u0000', '＝1+1', '\t=1'];

/** One mutation of an .xlsx: its bytes, its ZIP headers, or an XML part's text or size. */
function mutateXlsx(r: Random, bytes: Buffer): Buffer {
  const kind = int(r, 5);
  if (kind === 0) return flipBytes(r, bytes);
  if (kind === 1) return mutateZipHeader(r, bytes);
  const entries = readZip(bytes);
  const markup = entries.filter((e) => /\.(xml|rels)$/.test(e.name));
  const target = pick(r, markup);
  let text = Buffer.from(inflateEntry(target)).toString('utf8');
  const rounds = 1 + int(r, 3);
  for (let i = 0; i < rounds; i++) text = mutateText(r, text, XML_SNIPPETS, kind === 4);
  const rebuilt: RawEntry[] = entries.map((e) =>
    e === target
      ? deflated(e.name, text)
      : { name: e.name, data: e.data, method: e.method as 0 | 8, crc: e.crc, size: e.size },
  );
  if (r() < 0.1)
    rebuilt.push(deflated(pick(r, ['../evil.xml', '/abs.xml', 'xl/worksheets/sheet1.xml']), text));
  return zipOf(rebuilt);
}

function mutateCsv(r: Random, bytes: Buffer): Buffer {
  if (r() < 0.3) return flipBytes(r, bytes);
  if (r() < 0.2) {
    // Mixed encodings: a run of bytes that are GBK, or nothing valid at all.
    const at = int(r, bytes.length);
    const junk = Buffer.from(Array.from({ length: 1 + int(r, 40) }, () => 0x80 + int(r, 0x80)));
    return Buffer.concat([bytes.subarray(0, at), junk, bytes.subarray(at)]);
  }
  let text = bytes.toString('utf8');
  const rounds = 1 + int(r, 3);
  for (let i = 0; i < rounds; i++) text = mutateText(r, text, CSV_SNIPPETS, r() < 0.3);
  return Buffer.from(text, 'utf8');
}

/**
 * Cut, duplicate, insert a snippet, truncate — or, when `grow`, repeat a piece up to 256 KB (sizes
 * beyond the limits are the hostile suite's; here growth is about the structure it builds).
 */
function mutateText(r: Random, text: string, snippets: readonly string[], grow: boolean): string {
  const at = int(r, text.length + 1);
  const to = Math.min(text.length, at + int(r, 200));
  if (grow) {
    const piece = text.slice(at, to) || pick(r, snippets);
    const times = 1 + int(r, Math.max(1, Math.floor(GROWTH / Math.max(piece.length, 1))));
    return text.slice(0, at) + piece.repeat(times) + text.slice(at);
  }
  switch (int(r, 4)) {
    case 0:
      return text.slice(0, at) + text.slice(to);
    case 1:
      return text.slice(0, to) + text.slice(at, to) + text.slice(to);
    case 2:
      return text.slice(0, at) + pick(r, snippets) + text.slice(at);
    default:
      return text.slice(0, at);
  }
}

function flipBytes(r: Random, bytes: Buffer): Buffer {
  const out = Buffer.from(bytes);
  const n = 1 + int(r, 8);
  for (let i = 0; i < n; i++) out[int(r, out.length)] = int(r, 256);
  return out;
}

/** A field of a local or central header, or of the end record, set to an extreme. */
function mutateZipHeader(r: Random, bytes: Buffer): Buffer {
  const out = Buffer.from(bytes);
  const signatures = [0x04034b50, 0x02014b50, 0x06054b50];
  const spots: number[] = [];
  for (let p = 0; p + 4 <= out.length; p++) if (signatures.includes(out.readUInt32LE(p))) spots.push(p);
  const at = pick(r, spots);
  const offset = at + 4 + 2 * int(r, 20);
  if (offset + 4 > out.length) return out;
  const value = pick(r, [0, 1, 0xffff, 0xffffffff, 0x7fffffff, int(r, 0x100000000)]);
  if (r() < 0.5) out.writeUInt16LE(value & 0xffff, offset);
  else out.writeUInt32LE(value >>> 0, offset);
  return out;
}

let temp: TempStore;
const samples = new Map<string, Buffer>();
beforeAll(async () => {
  temp = await openTempStore();
  for (const name of [...XLSX_SAMPLES, ...CSV_SAMPLES])
    samples.set(name, await readFile(path.join(SAMPLES, name)));
});
afterAll(async () => {
  await temp.dispose();
});

/** The file of a seed: a sample and one to three mutations of it. */
function caseOf(seed: number): { bytes: Buffer; fileName: string } {
  const r = prng(seed);
  const name = r() < 0.75 ? pick(r, XLSX_SAMPLES) : pick(r, CSV_SAMPLES);
  let bytes = samples.get(name)!;
  const mutations = 1 + int(r, 3);
  for (let i = 0; i < mutations; i++) {
    try {
      bytes = name.endsWith('.csv') ? mutateCsv(r, bytes) : mutateXlsx(r, bytes);
    } catch {
      // A mutation cannot unzip a file an earlier one broke: its bytes are flipped instead.
      bytes = flipBytes(r, bytes);
    }
  }
  return { bytes, fileName: name };
}

/** '' when the outcome is acceptable, else what went wrong. */
async function verdict(seed: number): Promise<string> {
  const { bytes, fileName } = caseOf(seed);
  try {
    await runImport(bytes, temp, { fileName, dryRun: true });
    return '';
  } catch (err) {
    if (err instanceof ImportError && INPUT_CODES.has(err.code)) return '';
    const e = err as Error;
    return `seed ${seed} (${fileName}): ${e.name} ${(e as ImportError).code ?? ''} ${e.message}\n${e.stack?.split('\n').slice(1, 4).join('\n')}`;
  }
}

/**
 * Seeds that failed on the library before its limits (issue 14), kept as regression cases: 5167
 * never finished (the old library stalled on it for minutes); 5179, 5185 and 5239 ended in a bare
 * XmlFormatError (exit 1 / HTTP 500) from a cut [Content_Types].xml.
 */
const PINNED: number[] = [5167, 5179, 5185, 5239];

describe('fuzzing the import with mutated samples', () => {
  it.each(PINNED)('pinned seed %i ends in a report or a coded refusal', async (seed) => {
    expect(await verdict(seed)).toBe('');
  });

  it(`${CASES} seeded cases end in a report or a coded refusal, in bounded memory`, async () => {
    const baseRss = process.memoryUsage().rss;
    const failures: string[] = [];
    for (let i = 0; i < CASES; i++) {
      const failure = await verdict(BASE_SEED + i);
      if (failure !== '') failures.push(failure);
    }
    const peakGrowth = process.resourceUsage().maxRSS * 1024 - baseRss;
    console.log(
      `fuzz: ${CASES} cases, ${failures.length} failures, peak RSS growth ${(peakGrowth / MB).toFixed(0)} MB`,
    );
    expect(failures).toEqual([]);
    expect(peakGrowth).toBeLessThan(MEMORY_BOUND);
  }, 120_000);
});
