/**
 * `baobei import FILE` as a user runs it: a real child process on a real data dir. Exit 0 with one
 * summary line and FILE.checked.xlsx next to the input; --json and --dry-run; exit 2 with one line
 * and no stack trace for unusable input; and, with the service running on the same data dir, the
 * file goes to the service and the annotated workbook still lands next to the input.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImportReport } from '../../server/import/importSheet.js';
import { keyringFromMasterKey, parseMasterKey } from '../../server/security/keyring.js';
import { LowdbStore } from '../../server/store/lowdbStore.js';
import { truncated } from '../fixtures/hostileWorkbook.js';
import { SAMPLES_DIR } from '../fixtures/sampleRows.js';
import { TODAY, tempDir } from './importHarness.js';
import { CLI_TEST_TIMEOUT, cliEntry } from '../support/builtCli.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const KEY = '5a'.repeat(32);
const SAMPLE = 'v1-title-row.xlsx';
/** v1-title-row.xlsx: 50 data rows, 4 of them invalid (truth.json). */
const SAMPLE_ROWS = 50;
const SAMPLE_SAVED = 46;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function baseEnv(dataDir: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, BAOBEI_DATA_DIR: dataDir, BAOBEI_KEY: KEY, ...extra };
  for (const name of ['BAOBEI_TOKEN', 'BAOBEI_URL', 'BAOBEI_DEBUG', 'PORT'])
    if (!(name in extra)) delete env[name];
  return env;
}

function cli(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliEntry(), ...args], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`baobei ${args.join(' ')} did not finish in ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function lines(text: string): string[] {
  return text.split('\n').filter((l) => l.trim() !== '');
}

async function storedRecordCount(dataDir: string): Promise<number> {
  const store = await LowdbStore.open({ dataDir, keyring: keyringFromMasterKey(parseMasterKey(KEY)) });
  try {
    return (await store.read((tx) => tx.listRecords({ today: TODAY, limit: 1, offset: 0 }))).total;
  } finally {
    await store.close();
  }
}

async function sampleCopy(dir: string): Promise<string> {
  const file = path.join(dir, SAMPLE);
  await copyFile(SAMPLES_DIR + SAMPLE, file);
  return file;
}

describe('baobei import, opening the store itself', { timeout: CLI_TEST_TIMEOUT }, () => {
  let dir: string;
  beforeAll(async () => {
    dir = await tempDir('baobei-cli-');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('exits 0 with one summary line and writes FILE.checked.xlsx next to the input', async () => {
    const dataDir = path.join(dir, 'data-submit');
    const file = await sampleCopy(dir);
    const run = await cli(['import', file], baseEnv(dataDir));
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const out = lines(run.stdout);
    expect(out).toHaveLength(1);
    const checked = path.join(dir, 'v1-title-row.checked.xlsx');
    expect(out[0]).toContain(`${SAMPLE_ROWS} 行`);
    expect(out[0]).toContain(checked);
    expect(out[0]).not.toContain('试运行');
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.readFile(checked);
    expect(wb.getWorksheet('汇总')).toBeDefined();
    // Header on row 2 (truth.json), 14 columns: the results start at O.
    expect(wb.worksheets[0]!.getCell('O2').value).toBe('报备编号');
    expect(await storedRecordCount(dataDir)).toBe(SAMPLE_SAVED);
  });

  it('--json writes the report; --dry-run saves nothing', async () => {
    const dataDir = path.join(dir, 'data-dry');
    const file = await sampleCopy(dir);
    const json = path.join(dir, 'report.json');
    const out = path.join(dir, 'dry.checked.xlsx');
    const run = await cli(['import', file, '--dry-run', '--json', json, '--out', out], baseEnv(dataDir));
    expect(run.code).toBe(0);
    expect(lines(run.stdout)).toHaveLength(1);
    expect(run.stdout).toContain('试运行');
    const report = JSON.parse(await readFile(json, 'utf8')) as ImportReport;
    expect(report).toMatchObject({ file: SAMPLE, headerRow: 2, dryRun: true, mode: 'submit' });
    expect(report.summary.rows).toBe(SAMPLE_ROWS);
    expect(report.rows.filter((r) => r.status === 'invalid').map((r) => r.row)).toEqual([4, 18, 23, 39]);
    expect(existsSync(out)).toBe(true);
    expect(await storedRecordCount(dataDir)).toBe(0);
  });

  describe('unusable input: exit 2, one line on stderr, no stack trace', { concurrent: true }, () => {
    const expectOneLine = (run: Run) => {
      expect(run.code).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr.split('\n').filter((l) => l.startsWith('    at '))).toEqual([]);
      expect(lines(run.stderr)).toHaveLength(1);
    };

    it('a missing file', async () => {
      const run = await cli(['import', path.join(dir, 'no-such.xlsx')], baseEnv(path.join(dir, 'data-x')));
      expectOneLine(run);
      expect(run.stderr).toMatch(/文件不存在.*no such file/);
    });

    it('a truncated file', async () => {
      const file = path.join(dir, 'cut.xlsx');
      await writeFile(file, truncated(await readFile(SAMPLES_DIR + SAMPLE)));
      const run = await cli(['import', file], baseEnv(path.join(dir, 'data-x')));
      expectOneLine(run);
      expect(run.stderr).toMatch(/cut\.xlsx.*(损坏|不完整).*(damaged|truncated)/);
      expect(existsSync(path.join(dir, 'cut.checked.xlsx'))).toBe(false);
    });

    it('a bad --mode', async () => {
      const run = await cli(
        ['import', await sampleCopy(dir), '--mode', 'bogus'],
        baseEnv(path.join(dir, 'data-x')),
      );
      expect(run.code).toBe(2);
      expect(run.stderr.split('\n').filter((l) => l.startsWith('    at '))).toEqual([]);
      // The error names the option, the bad value and the choices.
      const [error, ...rest] = lines(run.stderr);
      expect(error).toMatch(/--mode.*bogus.*submit.*history/);
      // commander's usage hint follows (showHelpAfterError in server/cli.ts) — nothing else.
      expect(rest.filter((l) => !l.includes('--help'))).toEqual([]);
    });
  });
});

describe('baobei import while the service holds the data dir', { timeout: CLI_TEST_TIMEOUT }, () => {
  let dir: string;
  let dataDir: string;
  let server: ChildProcess;
  let url: string;

  beforeAll(async () => {
    dir = await tempDir('baobei-cli-serve-');
    dataDir = path.join(dir, 'data');
    server = spawn(process.execPath, [cliEntry(), 'serve'], {
      cwd: ROOT,
      env: baseEnv(dataDir, { PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    url = await new Promise<string>((resolve, reject) => {
      let seen = '';
      const timer = setTimeout(() => reject(new Error(`service did not start: ${seen}`)), 60_000);
      server.stdout!.on('data', (d: Buffer) => {
        seen += d.toString('utf8');
        const m = /listening: (http:\/\/\S+)/.exec(seen);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
      server.on('exit', (code) => reject(new Error(`service exited (${code}): ${seen}`)));
    });
  }, CLI_TEST_TIMEOUT);

  afterAll(async () => {
    if (server.exitCode === null) {
      const exited = new Promise((resolve) => server.once('exit', resolve));
      server.kill('SIGTERM');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  });

  it('sends the file to the service and still writes the annotated workbook', async () => {
    const file = await sampleCopy(dir);
    const run = await cli(['import', file, '--url', url], baseEnv(dataDir));
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(lines(run.stdout)).toHaveLength(1);
    const checked = path.join(dir, 'v1-title-row.checked.xlsx');
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.readFile(checked);
    expect(wb.worksheets[0]!.getCell('O2').value).toBe('报备编号');
    // The running service saved the rows: it sees them (the CLI could not have opened its store).
    const token = (await readFile(path.join(dataDir, 'admin.token'), 'utf8')).trim();
    const res = await fetch(`${url}/api/registrations?limit=1`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { total: number }).total).toBe(SAMPLE_SAVED);
    expect(server.exitCode).toBeNull();
  });
});
