/**
 * `baobei import FILE`: checks a legacy sheet and writes the annotated workbook (and the JSON
 * report with --json) — with --dry-run too: only the store is left untouched. The data dir has one
 * writer: when a service holds it (or one is named with --url), the file is sent to the service;
 * otherwise the store is opened here. A progress bar on a terminal, quiet otherwise, and one
 * bilingual summary line at the end.
 */
import { constants } from 'node:fs';
import { access, readFile, writeFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { SingleBar, Presets } from 'cli-progress';
import { STATUS_LABELS, type RowStatus } from '../../core/schema.js';
import type { Config } from '../config.js';
import { FIRST_ADMIN_NAME, configuredStoreExists, ensureAdmin, openStore } from '../service.js';
import type { Store, User } from '../store/store.js';
import { CalendarService } from '../services/calendarService.js';
import {
  callService,
  findService,
  serviceError,
  serviceJson,
  serviceToken,
  type ServiceTarget,
} from '../serviceClient.js';
import { actorOf } from '../services/actor.js';
import { importSheet, parseImport, type ImportMode, type ImportReport } from './importSheet.js';
import { ImportError } from './importError.js';
import { isLegacyWorkbook, isZip, legacyWorkbook } from './readWorkbook.js';

export interface ImportCommandOptions {
  sheet?: string;
  mode: ImportMode;
  dryRun: boolean;
  out?: string;
  json?: string;
  /** Register as this user when the store is opened here (default: the first administrator). */
  as?: string;
  /** The format of a file whose name does not say it (`.txt`, no extension). */
  format?: 'xlsx' | 'csv';
  /** Token and URL of a running service (default: BAOBEI_TOKEN / admin.token, and BAOBEI_URL / the lock's URL). */
  token?: string;
  url?: string;
}

/**
 * Extensions whose files are read as they are; any other name needs --format. The content decides
 * (readWorkbook). .xls and WPS's .et are here because renaming such a file, what the unknown-name
 * message advises, would not help: a real Excel 97–2003 workbook is told to be saved as .xlsx, a
 * web page or XML table under that name likewise, an .xlsx or a text export under it is read.
 */
const KNOWN_EXTENSIONS = new Set(['.xlsx', '.xlsm', '.csv', '.xls', '.et']);

export async function runImportCommand(
  file: string,
  options: ImportCommandOptions,
  config: Config,
): Promise<string> {
  // Decided from the name, before the file is read: a .txt export or a stray file is not guessed at.
  const extension = path.extname(file).toLowerCase();
  if (!KNOWN_EXTENSIONS.has(extension) && options.format === undefined) {
    const shown =
      extension === '' ? { zh: '无扩展名', en: 'no extension' } : { zh: extension, en: extension };
    throw new ImportError(
      'import.extension_unknown',
      `无法从文件名判断 ${path.basename(file)} 的格式（${shown.zh}）：请改名为 .xlsx/.csv，或用 --format csv（或 xlsx）说明`,
      `Cannot tell the format of ${path.basename(file)} from its name (${shown.en}): rename it to .xlsx/.csv, or say --format csv (or xlsx)`,
      'format',
    );
  }
  const bytes = await readFile(file).catch((err: NodeJS.ErrnoException) => {
    throw new ImportError(
      'import.file_missing',
      `无法打开 ${file}：${err.code === 'ENOENT' ? '文件不存在' : err.message}`,
      `Cannot open ${file}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`,
    );
  });
  if ((await stat(file)).isDirectory())
    throw new ImportError('import.file_missing', `${file} 是目录`, `${file} is a directory`);
  // Before --format is checked: "save it as .xlsx" helps more than "not an .xlsx workbook".
  if (isLegacyWorkbook(bytes)) throw legacyWorkbook(path.basename(file));
  if (options.format !== undefined && (options.format === 'xlsx') !== isZip(bytes)) {
    const [zh, en] =
      options.format === 'xlsx'
        ? ['不是 .xlsx 工作簿', 'is not an .xlsx workbook']
        : ['是 .xlsx 工作簿而不是 CSV', 'is an .xlsx workbook, not CSV'];
    throw new ImportError(
      'import.format_mismatch',
      `${file} ${zh}（--format ${options.format}）`,
      `${file} ${en} (--format ${options.format})`,
      'format',
    );
  }
  const fileName = path.basename(file);
  const out =
    options.out ??
    path.join(path.dirname(file), `${fileName.replace(/\.(xlsx|xlsm|xls|et|csv|txt)$/i, '')}.checked.xlsx`);
  // Before anything is registered: a copy that cannot be written after the commit would leave rows
  // saved with no annotated workbook to show their numbers, and a rerun only finds them as duplicates.
  await checkWritable(out, 'out');
  if (options.json !== undefined) await checkWritable(options.json, 'json');
  const target = findService(config, options.url);
  const { report, annotated } = target
    ? await viaService(target, bytes, fileName, options, config)
    : await locally(bytes, fileName, options, config);
  await writeFile(out, annotated);
  if (options.json !== undefined) await writeFile(options.json, JSON.stringify(report, null, 2) + '\n');
  return summaryLine(report, out);
}

async function checkWritable(file: string, field: 'out' | 'json'): Promise<void> {
  const reason = await whyUnwritable(file);
  if (reason === undefined) return;
  throw new ImportError(
    'import.output_unwritable',
    `无法写入 ${file}：${reason[0]}；未导入任何行`,
    `Cannot write ${file}: ${reason[1]}; no row was imported`,
    field,
  );
}

async function whyUnwritable(file: string): Promise<[string, string] | undefined> {
  const existing = await stat(file).catch(() => undefined);
  if (existing?.isDirectory()) return ['这是一个目录', 'it is a directory'];
  const dir = path.dirname(path.resolve(file));
  if (existing === undefined) {
    const parent = await stat(dir).catch((err: NodeJS.ErrnoException) => err.code);
    if (parent === 'ENOENT') return ['所在目录不存在', 'its directory does not exist'];
    if (parent === 'ENOTDIR' || (typeof parent === 'object' && !parent.isDirectory()))
      return ['路径中有一个文件而不是目录', 'its path has a file where a directory should be'];
  }
  // An existing file is replaced, so it must be writable itself; a new one needs its directory.
  return access(existing ? file : dir, constants.W_OK).then(
    () => undefined,
    (err: NodeJS.ErrnoException): [string, string] =>
      err.code === 'EACCES' || err.code === 'EPERM' || err.code === 'EROFS'
        ? ['没有写入权限', 'permission denied']
        : [err.code ?? err.message, err.code ?? err.message],
  );
}

async function locally(
  bytes: Buffer,
  fileName: string,
  options: ImportCommandOptions,
  config: Config,
): Promise<{ report: ImportReport; annotated: Buffer }> {
  // A store not there yet is made on opening, with its first administrator and admin.token. What
  // would be refused is refused first, so the refusal leaves no data dir, key or schema behind: a
  // --as naming anyone else (no one else is there), and a file that cannot be read (no header, no
  // such sheet). The file is read again by importSheet: twice only on the first import of a store.
  if (!(await configuredStoreExists(config))) {
    if (options.as !== undefined && options.as !== FIRST_ADMIN_NAME) throw userUnknown(options.as);
    parseImport(bytes, { fileName, mode: options.mode, sheet: options.sheet }, new Date());
  }
  const { store, keyring } = await openStore(config, 'import');
  const bar = process.stderr.isTTY
    ? new SingleBar({ clearOnComplete: true, hideCursor: true }, Presets.shades_classic)
    : undefined;
  try {
    // Refused before ensureAdmin, which writes an administrator and admin.token into a store that
    // has none (one made by `store copy` or `restore` from a store whose administrators left).
    if (options.as !== undefined && options.as !== FIRST_ADMIN_NAME) {
      const as = options.as;
      if (!(await listUsers(store)).some((u) => u.name === as)) throw userUnknown(as);
    }
    // A fresh data dir gets its administrator here as on the service's first start.
    await ensureAdmin(store, config.dataDir, new Date());
    const users = await listUsers(store);
    const user =
      options.as !== undefined
        ? users.find((u) => u.name === options.as)
        : users.find((u) => u.role === 'admin' && !u.disabled);
    if (!user) {
      if (options.as !== undefined) throw userUnknown(options.as);
      throw new ImportError(
        'import.user_unknown',
        '数据目录中还没有管理员；先运行一次 baobei serve',
        'The data dir has no administrator yet; run baobei serve once',
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

async function listUsers(store: Store): Promise<User[]> {
  return await store.read((tx) => tx.listUsers());
}

function userUnknown(name: string): ImportError {
  return new ImportError('import.user_unknown', `没有名为“${name}”的用户`, `No user named "${name}"`, 'as');
}

async function viaService(
  target: ServiceTarget,
  bytes: Buffer,
  fileName: string,
  options: ImportCommandOptions,
  config: Config,
): Promise<{ report: ImportReport; annotated: Buffer }> {
  const token = await serviceToken(config, options.token);
  const form = new FormData();
  form.set('file', new Blob([new Uint8Array(bytes)]), fileName);
  form.set('mode', options.mode);
  form.set('dryRun', String(options.dryRun));
  if (options.sheet !== undefined) form.set('sheet', options.sheet);
  const auth = { authorization: `Bearer ${token}` };
  const res = await callService(target, '/api/imports', { method: 'POST', headers: auth, body: form });
  const body = await serviceJson<
    ImportReport & { annotatedUrl?: string; error?: { code: string; message: string; messageEn: string } }
  >(target, res);
  if (!res.ok || body.annotatedUrl === undefined) throw serviceError(res, body);
  const file = await callService(target, body.annotatedUrl, { headers: auth });
  if (!file.ok) throw new Error(`download of the annotated workbook failed: HTTP ${file.status}`);
  const { annotatedUrl: _url, ...report } = body;
  return { report, annotated: Buffer.from(await file.arrayBuffer()) };
}

/** One line, zh-CN then English: `a.xlsx：50 行 — 待审核 46，信息有误 4 → out / 50 rows — pending review 46, invalid 4`. */
export function summaryLine(report: ImportReport, out: string): string {
  const counts = Object.entries(report.summary.byStatus).filter(([status]) => status !== 'skipped') as [
    RowStatus,
    number,
  ][];
  const zh = counts.map(([status, n]) => `${STATUS_LABELS[status].zh} ${n}`).join('，');
  const en = counts.map(([status, n]) => `${STATUS_LABELS[status].en.toLowerCase()} ${n}`).join(', ');
  const rows = report.summary.rows;
  return (
    `${report.file}：${rows} 行${report.dryRun ? '（试运行，未保存）' : ''} — ${zh} → ${out}` +
    ` / ${rows} ${rows === 1 ? 'row' : 'rows'}${report.dryRun ? ' (dry run, nothing saved)' : ''} — ${en}`
  );
}
