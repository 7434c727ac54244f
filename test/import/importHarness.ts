/**
 * Shared by the import suites: a real lowdb store on a temp dir, the actors and clock the imports
 * run with, raw access to the parts of an .xlsx (sheet XML by sheet name, cell formats), and
 * LibreOffice turning a workbook into a PDF.
 */
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { strFromU8, unzipSync } from 'fflate';
import { importSheet, type ImportOptions, type ImportResult } from '../../server/import/importSheet.js';
import { keyringFromMasterKey, type Keyring } from '../../server/security/keyring.js';
import type { Actor } from '../../server/services/actor.js';
import { LowdbStore } from '../../server/store/lowdbStore.js';
import type { StoredRecord } from '../../core/schema.js';

const run = promisify(execFile);

/** The clock of every import here: Shanghai 2026-11-23 10:00. */
export const NOW = new Date('2026-11-23T02:00:00.000Z');
export const TODAY = '2026-11-23';

export const ADMIN: Actor = { id: 'u-admin', name: '管理员', role: 'admin' };
export const SALES: Actor = { id: 'u-wang', name: '王磊', role: 'sales', team: '华东一部' };
export const REVIEWER: Actor = { id: 'u-zhao', name: '赵敏', role: 'reviewer' };

export async function tempDir(prefix = 'baobei-import-'): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), prefix));
}

export interface TempStore {
  store: LowdbStore;
  keyring: Keyring;
  dataDir: string;
  /** Closes the store and opens it again from the file on disk. */
  reopen(): Promise<LowdbStore>;
  /** Every record in the store (as the store decrypts them). */
  records(): Promise<StoredRecord[]>;
  dispose(): Promise<void>;
}

/** A real LowdbStore on a fresh temp dir, opened directly as lowdbStore.test.ts does. */
export async function openTempStore(): Promise<TempStore> {
  const dataDir = await tempDir('baobei-import-store-');
  const keyring = keyringFromMasterKey(randomBytes(32));
  let store = await LowdbStore.open({ dataDir, keyring });
  const handle: TempStore = {
    get store() {
      return store;
    },
    keyring,
    dataDir,
    async reopen() {
      await store.close();
      store = await LowdbStore.open({ dataDir, keyring });
      return store;
    },
    async records() {
      const { items } = await store.read((tx) =>
        tx.listRecords({ today: TODAY, limit: 1_000_000, offset: 0 }),
      );
      return items;
    },
    async dispose() {
      await store.close().catch(() => undefined);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  return handle;
}

export interface RunOptions extends Partial<ImportOptions> {
  actor?: Actor;
  now?: Date;
}

/** `importSheet` against a temp store, submit mode and no dry run unless told otherwise. */
export function runImport(
  bytes: Uint8Array,
  temp: TempStore,
  options: RunOptions = {},
): Promise<ImportResult> {
  const { actor = ADMIN, now = NOW, ...rest } = options;
  const isZip = bytes[0] === 0x50 && bytes[1] === 0x4b;
  return importSheet(
    bytes,
    { fileName: isZip ? 'sheet.xlsx' : 'sheet.csv', mode: 'submit', dryRun: false, ...rest },
    { store: temp.store, keyring: temp.keyring, clock: () => now, actor },
  );
}

/** The unzipped parts of an .xlsx. */
export function xlsxParts(bytes: Uint8Array): Record<string, Uint8Array> {
  return unzipSync(bytes);
}

/** The XML of a sheet, found by its name through workbook.xml and its relationships. */
export function sheetXmlByName(parts: Record<string, Uint8Array>, name: string): string {
  const workbook = strFromU8(parts['xl/workbook.xml']!);
  const rels = strFromU8(parts['xl/_rels/workbook.xml.rels']!);
  const sheet = [...workbook.matchAll(/<sheet\b[^>]*>/g)]
    .map((m) => m[0])
    .find((tag) => tag.includes(`name="${name}"`));
  const rid = sheet ? /\br:id="([^"]+)"/.exec(sheet)?.[1] : undefined;
  const rel = rid
    ? [...rels.matchAll(/<Relationship\b[^>]*>/g)].map((m) => m[0]).find((tag) => tag.includes(`Id="${rid}"`))
    : undefined;
  const target = rel ? /\bTarget="([^"]+)"/.exec(rel)?.[1] : undefined;
  if (target === undefined) throw new Error(`no sheet named ${name}`);
  const partName = target.startsWith('/') ? target.slice(1) : `xl/${target}`;
  const xml = parts[partName];
  if (!xml) throw new Error(`sheet part ${partName} missing`);
  return strFromU8(xml);
}

/** The `<xf>` elements of `<cellXfs>`, by index (what a cell's `s` attribute points at). */
export function cellXfs(parts: Record<string, Uint8Array>): string[] {
  const styles = strFromU8(parts['xl/styles.xml']!);
  const block = /<cellXfs\b[\s\S]*?<\/cellXfs>/.exec(styles)?.[0] ?? '';
  return [...block.matchAll(/<xf\b[^>]*?(?:\/>|>[\s\S]*?<\/xf>)/g)].map((m) => m[0]);
}

/** The `<c>` element of one cell (e.g. `H3`) in a sheet's XML. */
export function cellElement(sheetXml: string, address: string): string | undefined {
  return new RegExp(`<c r="${address}"(?:\\s[^>]*)?(?:/>|>[\\s\\S]*?</c>)`).exec(sheetXml)?.[0];
}

export interface PdfResult {
  pdf: string;
  bytes: Buffer;
  /** The PDF's text (pdftotext), or undefined where pdftotext is not installed. */
  text: string | undefined;
}

/**
 * LibreOffice converts the workbook to PDF, with a profile of its own so parallel runs do not
 * collide. LibreOffice exits 0 even when it cannot load the file; then no PDF appears.
 */
export async function convertToPdf(file: string): Promise<PdfResult> {
  const outDir = await tempDir('baobei-pdf-');
  const profile = path.join(os.tmpdir(), `lo-${randomUUID()}`);
  const convert = () =>
    run(
      'soffice',
      [
        `-env:UserInstallation=file://${profile}`,
        '--headless',
        '--convert-to',
        'pdf',
        '--outdir',
        outDir,
        file,
      ],
      { timeout: 90_000 },
    );
  try {
    try {
      await convert();
    } catch (err) {
      // Under a loaded machine soffice sometimes aborts while setting up a fresh profile
      // ("terminate called … WrappedTargetRuntimeException", a non-zero exit) before it reads the
      // file at all. That is LibreOffice's start-up, not our workbook: try once more. A workbook it
      // cannot load still fails below (exit 0, no PDF).
      if (!/terminate called|Unspecified Application Error/.test(String(err))) throw err;
      await rm(profile, { recursive: true, force: true });
      await convert();
    }
    const pdf = path.join(outDir, `${path.basename(file).replace(/\.[^.]+$/, '')}.pdf`);
    if (!existsSync(pdf)) throw new Error(`LibreOffice could not convert ${file}`);
    const bytes = await readFile(pdf);
    let text: string | undefined;
    try {
      text = (await run('pdftotext', ['-layout', pdf, '-'], { maxBuffer: 64 * 1024 * 1024 })).stdout;
    } catch {
      text = undefined;
    }
    return { pdf, bytes, text };
  } finally {
    await rm(profile, { recursive: true, force: true });
  }
}

/** Runs `fn` while sampling heapUsed every 2 ms; returns its result and the largest growth seen. */
export async function withHeapPeak<T>(
  fn: () => Promise<T>,
): Promise<{ value: T; peakGrowth: number; ms: number }> {
  (globalThis as { gc?: () => void }).gc?.();
  const base = process.memoryUsage().heapUsed;
  let peak = base;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().heapUsed);
  }, 2);
  const start = performance.now();
  try {
    const value = await fn();
    peak = Math.max(peak, process.memoryUsage().heapUsed);
    return { value, peakGrowth: peak - base, ms: performance.now() - start };
  } finally {
    clearInterval(timer);
  }
}
