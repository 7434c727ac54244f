/**
 * `baobei calendar set YEAR FILE` and `baobei calendar show YEAR`: an administrator enters a year's
 * official holiday schedule from a small JSON file (the body of PUT /api/calendar/:year) or CSV
 * (one line per day: date, 休/班, name). Through the running service when one holds the data dir,
 * else on the store directly — the same validation either way.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { parseDay } from '../core/dateValue.js';
import {
  dayKindOf,
  scheduleBodySchema,
  scheduleFromDays,
  type ScheduleBody,
} from '../core/officialSchedule.js';
import { DomainError, problem } from '../core/problem.js';
import type { Config } from './config.js';
import { decodeText, isLegacyWorkbook, isZip } from './import/readWorkbook.js';
import { ensureAdmin, openStore } from './service.js';
import { CalendarService, type CalendarView, type MovedDeadline } from './services/calendarService.js';
import { LifecycleService } from './services/lifecycleService.js';
import { RegistrationService } from './services/registrationService.js';
import { callService, findService, serviceError, serviceJson, serviceToken } from './serviceClient.js';

/** A schedule file bigger than this is not a holiday list. */
const MAX_FILE_BYTES = 256 * 1024;

export interface CalendarSetResult {
  calendar: CalendarView;
  moved: MovedDeadline[];
  confirmed: number;
}

/** Reads a schedule file: `.json` as the PUT body, anything else as CSV lines `date, 休|班, name`. */
export async function readScheduleFile(file: string, year: number): Promise<ScheduleBody> {
  const bytes = await readFile(file).catch((err: NodeJS.ErrnoException) => {
    throw usage(
      `读不到文件 ${file}（${err.code ?? 'error'}）`,
      `Cannot read ${file} (${err.code ?? 'error'})`,
    );
  });
  if (bytes.length > MAX_FILE_BYTES) {
    throw usage(`文件 ${file} 过大（上限 256 KB）`, `${file} is too large (256 KB at most)`);
  }
  // The schedule typed into Excel and saved as it was: say how to save it, not "invalid quote" and
  // the zip's bytes.
  if (isZip(bytes) || isLegacyWorkbook(bytes)) {
    throw usage(
      `${file} 是 Excel 工作簿：请在 Excel 中另存为 CSV（逗号分隔），每天一行：日期,休|班,名称`,
      `${file} is an Excel workbook: save it as CSV (comma-separated) in Excel, one line per day: date,休|班,name`,
    );
  }
  // A CSV saved by Excel on a Chinese Windows is GBK: decoded as the import decodes sheets (which
  // drops a byte-order mark too).
  const text = decodeText(bytes).text;
  if (path.extname(file).toLowerCase() === '.json') {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw usage(
        `${file} 不是有效的 JSON：${(err as Error).message}`,
        `${file} is not valid JSON: ${(err as Error).message}`,
      );
    }
    const parsed = scheduleBodySchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = issue?.path.join('.') ?? '';
      throw usage(
        `${file}：字段 ${field} ${issue?.message ?? ''}`,
        `${file}: field ${field}: ${issue?.message ?? ''}`,
      );
    }
    return parsed.data;
  }
  let lines: string[][];
  try {
    lines = parse(text, { relaxColumnCount: true, skipEmptyLines: true, trim: true }) as string[][];
  } catch (err) {
    // csv-parse's message quotes the offending field: only its line and reason are shown.
    const line = (err as { lines?: number }).lines;
    const where = line !== undefined ? `${file}:${line}` : file;
    throw usage(
      `${where} 不是有效的 CSV（引号不成对或多余）`,
      `${where} is not valid CSV (unbalanced or stray quotes)`,
    );
  }
  const days: { date: string; kind: 'holiday' | 'workday'; name: string }[] = [];
  lines.forEach((cells, i) => {
    const [dateCell = '', kindCell = '', name = ''] = cells;
    const date = parseDay(dateCell, { referenceYear: year });
    // A header line (日期, 类型, 名称) is allowed first.
    if (i === 0 && !date.ok && dayKindOf(kindCell) === null) return;
    const where = `${file}:${i + 1}`;
    if (!date.ok) throw usage(`${where} 日期“${dateCell}”无法识别`, `${where}: "${dateCell}" is not a date`);
    const kind = dayKindOf(kindCell);
    if (kind === null) {
      throw usage(
        `${where} 第二列须为 休 或 班（${date.day}）`,
        `${where}: the second column must be 休 (holiday) or 班 (make-up workday) (${date.day})`,
      );
    }
    days.push({ date: date.day, kind, name: name === '' ? (kind === 'holiday' ? '假期' : '调休') : name });
  });
  const parsed = scheduleBodySchema.safeParse(scheduleFromDays(days));
  if (!parsed.success) {
    throw usage(`${file} 中没有假期`, `${file} lists no holidays`);
  }
  return parsed.data;
}

/** Enters the schedule through the running service, or on the store when no service holds the data dir. */
export async function setCalendar(
  config: Config,
  year: number,
  body: ScheduleBody,
  options: { url?: string | undefined; token?: string | undefined } = {},
): Promise<CalendarSetResult> {
  if (findService(config, options.url) !== undefined) {
    return (await viaService(config, `/api/calendar/${year}`, 'PUT', body, options)) as CalendarSetResult;
  }
  const { store, keyring } = await openStore(config, 'calendar set');
  try {
    await ensureAdmin(store, config.dataDir, new Date());
    const admin = (await store.read((tx) => tx.listUsers())).find((u) => u.role === 'admin' && !u.disabled)!;
    // As the service does: the lapses the calendar in force decided are written before the entry.
    const deps = { store, keyring, clock: () => new Date(), calendar: () => calendars.calendar() };
    const registrations = new RegistrationService(deps);
    const lifecycle = new LifecycleService(deps, registrations);
    const calendars = await CalendarService.open(store, deps.clock, lifecycle);
    return await calendars.put({ id: admin.id, name: admin.name, role: 'admin' }, year, body);
  } finally {
    await store.close();
  }
}

export async function showCalendar(
  config: Config,
  year: number,
  options: { url?: string | undefined; token?: string | undefined } = {},
): Promise<CalendarView> {
  if (findService(config, options.url) !== undefined) {
    return (await viaService(config, `/api/calendar/${year}`, 'GET', undefined, options)) as CalendarView;
  }
  const { store } = await openStore(config, 'calendar show');
  try {
    return (await CalendarService.open(store, () => new Date())).view(year);
  } finally {
    await store.close();
  }
}

/** One line per fact, zh-CN then English, for the terminal. */
export function describeCalendar(view: CalendarView): string[] {
  const source = {
    administrator: `管理员录入（${view.enteredBy ?? ''}，${view.enteredAt ?? ''}）/ entered by an administrator`,
    package: '日历数据包 / the calendar package',
    'weekends-only': '无官方数据，按周一至周五估算 / no official data: Monday–Friday estimate',
  }[view.source];
  return [
    `${view.year} 年工作日安排来源 / source: ${source}`,
    ...view.holidays.map((h) => `  休 ${h.from}${h.to !== h.from ? ` – ${h.to}` : ''} ${h.name}`),
    ...view.workdays.map((d) => `  班 ${d}`),
  ];
}

async function viaService(
  config: Config,
  route: string,
  method: 'GET' | 'PUT',
  body: unknown,
  options: { url?: string | undefined; token?: string | undefined },
): Promise<unknown> {
  // Callers come here only when findService found one (a lock, --url or BAOBEI_URL).
  const target = findService(config, options.url)!;
  const token = await serviceToken(config, options.token);
  const res = await callService(target, route, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const json = await serviceJson<{ error?: { code?: string; message?: string; messageEn?: string } }>(
    target,
    res,
  );
  if (!res.ok) throw serviceError(res, json);
  return json;
}

function usage(message: string, messageEn: string): DomainError {
  return new DomainError(problem('calendar.input', message, messageEn));
}
