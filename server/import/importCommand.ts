/**
 * `baobei import FILE`: checks a legacy sheet and writes the annotated workbook (and the JSON
 * report with --json). The data dir has one writer: when the service holds it, the file is sent
 * to the service; otherwise the store is opened here. A progress bar on a terminal, quiet
 * otherwise, and one summary line at the end.
 */
import { readFile, writeFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { SingleBar, Presets } from 'cli-progress';
import { STATUS_LABELS, type RowStatus } from '../../core/schema.js';
import type { Config } from '../config.js';
import { ensureAdmin, openStore } from '../service.js';
import { CalendarService } from '../services/calendarService.js';
import { actorOf } from '../services/actor.js';
import { lockOwner } from '../store/dataDirLock.js';
import { importSheet, type ImportMode, type ImportReport } from './importSheet.js';
import { ImportError } from './importError.js';

export interface ImportCommandOptions {
  sheet?: string;
  mode: ImportMode;
  dryRun: boolean;
  out?: string;
  json?: string;
  /** Register as this user when the store is opened here (default: the first administrator). */
  as?: string;
  /** Token and URL of a running service (default: BAOBEI_TOKEN / admin.token, and BAOBEI_URL / localhost:PORT). */
  token?: string;
  url?: string;
}

export async function runImportCommand(
  file: string,
  options: ImportCommandOptions,
  config: Config,
): Promise<string> {
  const bytes = await readFile(file).catch((err: NodeJS.ErrnoException) => {
    throw new ImportError(
      'import.file_missing',
      `无法打开 ${file}：${err.code === 'ENOENT' ? '文件不存在' : err.message}`,
      `Cannot open ${file}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`,
    );
  });
  if ((await stat(file)).isDirectory())
    throw new ImportError('import.file_missing', `${file} 是目录`, `${file} is a directory`);
  const fileName = path.basename(file);
  const out =
    options.out ??
    path.join(path.dirname(file), `${fileName.replace(/\.(xlsx|xlsm|csv|txt)$/i, '')}.checked.xlsx`);
  const owner = lockOwner(config.dataDir);
  const { report, annotated } = owner
    ? await viaService(bytes, fileName, options, config)
    : await locally(bytes, fileName, options, config);
  await writeFile(out, annotated);
  if (options.json !== undefined) await writeFile(options.json, JSON.stringify(report, null, 2) + '\n');
  return summaryLine(report, out);
}

async function locally(
  bytes: Buffer,
  fileName: string,
  options: ImportCommandOptions,
  config: Config,
): Promise<{ report: ImportReport; annotated: Buffer }> {
  const { store, keyring } = await openStore(config, 'import');
  const bar = process.stderr.isTTY
    ? new SingleBar({ clearOnComplete: true, hideCursor: true }, Presets.shades_classic)
    : undefined;
  try {
    // A fresh data dir gets its administrator here as on the service's first start.
    await ensureAdmin(store, config.dataDir, new Date());
    const users = await store.read((tx) => tx.listUsers());
    const user =
      options.as !== undefined
        ? users.find((u) => u.name === options.as)
        : users.find((u) => u.role === 'admin' && !u.disabled);
    if (!user) {
      throw new ImportError(
        'import.user_unknown',
        options.as !== undefined
          ? `没有名为“${options.as}”的用户`
          : '数据目录中还没有管理员；先运行一次 baobei serve',
        options.as !== undefined
          ? `No user named "${options.as}"`
          : 'The data dir has no administrator yet; run baobei serve once',
        'as',
      );
    }
    let started = false;
    return await importSheet(
      bytes,
      {
        fileName,
        mode: options.mode,
        dryRun: options.dryRun,
        sheet: options.sheet,
        onProgress: (done, total) => {
          if (!bar) return;
          if (!started) {
            bar.start(total, 0);
            started = true;
          }
          bar.update(done);
        },
      },
      {
        store,
        keyring,
        clock: () => new Date(),
        actor: actorOf(user),
        // Deadlines count by the schedules administrators entered, as the service would.
        calendar: (await CalendarService.open(store, () => new Date())).calendar(),
      },
    );
  } finally {
    bar?.stop();
    await store.close();
  }
}

async function viaService(
  bytes: Buffer,
  fileName: string,
  options: ImportCommandOptions,
  config: Config,
): Promise<{ report: ImportReport; annotated: Buffer }> {
  const token =
    options.token ??
    process.env['BAOBEI_TOKEN'] ??
    (await readFile(path.join(config.dataDir, 'admin.token'), 'utf8').catch(() => '')).trim();
  if (token === '') {
    throw new ImportError(
      'import.token_missing',
      '服务正在运行：请用 --token 或 BAOBEI_TOKEN 提供令牌',
      'The service is running: give a token with --token or BAOBEI_TOKEN',
    );
  }
  const base =
    options.url ?? process.env['BAOBEI_URL'] ?? config.publicUrl ?? `http://localhost:${config.port}`;
  const form = new FormData();
  form.set('file', new Blob([new Uint8Array(bytes)]), fileName);
  form.set('mode', options.mode);
  form.set('dryRun', String(options.dryRun));
  if (options.sheet !== undefined) form.set('sheet', options.sheet);
  const auth = { authorization: `Bearer ${token}` };
  const res = await fetch(new URL('/api/imports', base), { method: 'POST', headers: auth, body: form });
  const body = (await res.json()) as ImportReport & {
    annotatedUrl?: string;
    error?: { code: string; message: string; messageEn: string };
  };
  if (!res.ok || body.annotatedUrl === undefined) {
    throw new ImportError(
      body.error?.code ?? 'import.failed',
      body.error?.message ?? `HTTP ${res.status}`,
      body.error?.messageEn ?? `HTTP ${res.status}`,
    );
  }
  const file = await fetch(new URL(body.annotatedUrl, base), { headers: auth });
  if (!file.ok) throw new Error(`download of the annotated workbook failed: HTTP ${file.status}`);
  const { annotatedUrl: _url, ...report } = body;
  return { report, annotated: Buffer.from(await file.arrayBuffer()) };
}

export function summaryLine(report: ImportReport, out: string): string {
  const parts = Object.entries(report.summary.byStatus)
    .filter(([status]) => status !== 'skipped')
    .map(([status, n]) => `${STATUS_LABELS[status as RowStatus].zh} ${n}`);
  return `${report.file}：${report.summary.rows} 行${report.dryRun ? '（试运行，未保存）' : ''} — ${parts.join('，')} → ${out}`;
}
