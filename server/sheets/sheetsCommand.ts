/**
 * `baobei sheets link|list|pause|resume|unlink|sync`: the Google Sheets links of issue 11, always
 * through the running service (it alone holds the Google client, the scheduler and the store), found
 * and authenticated as calendarCommand.ts does (serviceClient.ts). A link is named by its id
 * (sheet-xxxxxxxx) or by its tab name when only one link has that tab; the service's refusal is
 * returned as its bilingual DomainError (exit code 2 in cli.ts).
 */
import { DomainError, problem } from '../../core/problem.js';
import type { Config } from '../config.js';
import type { LinkSetupReport } from './sheetLinkSetup.js';
import { callService, findService, serviceError, serviceJson, serviceToken } from '../serviceClient.js';

export interface ServiceOptions {
  url?: string | undefined;
  token?: string | undefined;
}

/** The parts of a link (GET /api/sheets item) the terminal shows. */
export interface LinkView {
  id: string;
  spreadsheetId: string;
  sheet: string;
  team: string;
  owner: string;
  paused: boolean;
  lastSyncAt?: string;
  lastCalls?: number;
  error?: { code: string; message: string; messageEn: string; at: string };
}

export interface LinkedView extends LinkView {
  shareWith: string;
  mapping: { column: number; header: string; field: string | null; confidence: number }[];
  /** What the link set in the sheet (sheetLinkSetup); absent from a service that predates it. */
  setup?: LinkSetupReport;
}

export interface SyncView {
  link: string;
  skipped: boolean;
  registered: number;
  changed: number;
  refused: number;
  invalid: number;
  /** Absent from a service that predates them (then nothing is said of such rows). */
  notRegistered?: number;
  notRegisteredRows?: {
    row: number;
    skipped: string;
    reason: { code: string; message: string; messageEn: string };
  }[];
  /** The service listed only the first 200 of the `notRegistered` rows. */
  notRegisteredTruncated?: boolean;
  hints?: { row: number; text: string }[];
  /** A skipped sync: when the tab was last read, the read the not-registered rows are from. */
  notRegisteredAsOf?: string;
  calls: number;
  dryRun: boolean;
}

/** Rows listed one per line in the terminal; the rest are counted (the sheet's 提示 shows each). */
const LISTED_ROWS = 20;

type ErrorBody = { error?: { code?: string; message?: string; messageEn?: string } };

async function call(
  config: Config,
  route: string,
  method: 'GET' | 'POST' | 'DELETE',
  body: unknown,
  options: ServiceOptions,
): Promise<unknown> {
  const target = findService(config, options.url);
  if (target === undefined) {
    // No store fallback: syncing needs the service's Google client and must not race its scheduler.
    throw new DomainError(
      problem(
        'sheets.service_needed',
        `表格链接须通过运行中的服务管理：未找到服务（数据目录 ${config.dataDir} 没有服务在运行）。请先运行 baobei serve，或用 --url / BAOBEI_URL 指定地址`,
        `Sheet links are managed through the running service and none was found (no service holds ${config.dataDir}). Start baobei serve, or give its address with --url / BAOBEI_URL`,
        'url',
      ),
    );
  }
  const token = await serviceToken(config, options.token);
  const res = await callService(target, route, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  if (res.status === 204) return undefined;
  const json = await serviceJson<ErrorBody>(target, res);
  if (!res.ok) throw serviceError(res, json);
  return json;
}

export async function listLinks(config: Config, options: ServiceOptions): Promise<LinkView[]> {
  const body = (await call(config, '/api/sheets', 'GET', undefined, options)) as { items: LinkView[] };
  return body.items;
}

export async function linkSheet(
  config: Config,
  request: { spreadsheet: string; sheet: string; team: string; owner?: string | undefined },
  options: ServiceOptions,
): Promise<LinkedView> {
  const body = {
    spreadsheet: request.spreadsheet,
    sheet: request.sheet,
    team: request.team,
    ...(request.owner !== undefined ? { owner: request.owner } : {}),
  };
  return (await call(config, '/api/sheets', 'POST', body, options)) as LinkedView;
}

/** The link an argument names: its id, else the only link of that tab name. */
export async function resolveLink(
  config: Config,
  nameOrId: string,
  options: ServiceOptions,
): Promise<LinkView> {
  const links = await listLinks(config, options);
  const byId = links.find((l) => l.id === nameOrId);
  if (byId) return byId;
  const byTab = links.filter((l) => l.sheet === nameOrId);
  if (byTab.length === 1) return byTab[0]!;
  if (byTab.length > 1) {
    throw new DomainError(
      problem(
        'sheets.link_ambiguous',
        `有 ${byTab.length} 个链接的工作表名为「${nameOrId}」，请用编号指定：${byTab.map((l) => l.id).join('、')}`,
        `${byTab.length} links have a tab named "${nameOrId}"; name one by id: ${byTab.map((l) => l.id).join(', ')}`,
        'id',
      ),
    );
  }
  throw new DomainError(
    problem(
      'sheets.link_not_found',
      `没有编号或工作表名为「${nameOrId}」的表格链接（baobei sheets list 列出全部）`,
      `No sheet link with id or tab name "${nameOrId}" (baobei sheets list shows them all)`,
      'id',
    ),
  );
}

export async function setPaused(
  config: Config,
  nameOrId: string,
  paused: boolean,
  options: ServiceOptions,
): Promise<LinkView> {
  const link = await resolveLink(config, nameOrId, options);
  const route = `/api/sheets/${encodeURIComponent(link.id)}/${paused ? 'pause' : 'resume'}`;
  return (await call(config, route, 'POST', {}, options)) as LinkView;
}

export async function unlinkSheet(
  config: Config,
  nameOrId: string,
  options: ServiceOptions,
): Promise<LinkView> {
  const link = await resolveLink(config, nameOrId, options);
  await call(config, `/api/sheets/${encodeURIComponent(link.id)}`, 'DELETE', undefined, options);
  return link;
}

export async function syncSheet(
  config: Config,
  nameOrId: string,
  dryRun: boolean,
  options: ServiceOptions,
): Promise<SyncView> {
  const link = await resolveLink(config, nameOrId, options);
  const route = `/api/sheets/${encodeURIComponent(link.id)}/sync${dryRun ? '?dryRun=true' : ''}`;
  return (await call(config, route, 'POST', {}, options)) as SyncView;
}

/** A text table; widths by terminal cells so Chinese text lines up. */
export function formatTable(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(stringWidth(h), ...rows.map((r) => stringWidth(r[i] ?? ''))));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c + ' '.repeat(widths[i]! - stringWidth(c))))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}

export function describeLinks(links: LinkView[]): string[] {
  if (links.length === 0) return ['没有表格链接 / no sheet links'];
  return formatTable(
    [
      '编号 id',
      '表格 spreadsheet',
      '工作表 tab',
      '团队 team',
      '负责人 owner',
      '暂停 paused',
      '上次同步 last sync',
      '上次错误 last error',
    ],
    links.map((l) => [
      l.id,
      l.spreadsheetId,
      l.sheet,
      l.team,
      l.owner,
      l.paused ? '是 yes' : '否 no',
      l.lastSyncAt ?? '—',
      l.error ? `${l.error.code}: ${l.error.message} / ${l.error.messageEn}` : '—',
    ]),
  );
}

export function describeLinked(link: LinkedView): string[] {
  return [
    `已链接 / linked: ${link.id}（${link.spreadsheetId} › ${link.sheet}，团队 team ${link.team}，负责人 owner ${link.owner}）`,
    `请确认已将表格共享给（编辑者）/ make sure the spreadsheet is shared (Editor) with: ${link.shareWith}`,
    '列映射 / column mapping:',
    ...formatTable(
      ['列 col', '表头 header', '字段 field', '把握 confidence'],
      link.mapping.map((c) => [
        columnLetter(c.column),
        c.header,
        c.field ?? '—',
        c.field === null ? '—' : `${Math.round(c.confidence * 100)}%`,
      ]),
    ).map((l) => `  ${l}`),
    ...describeSetup(link.setup),
  ];
}

const PROTECTION_ACTION = {
  added: '已添加 added',
  kept: '已存在，保留 already there, kept',
  replaced: '已按新列位置替换 replaced for the columns as they are now',
} as const;

/** What the link set in the sheet: the protected result columns and the validated columns. */
function describeSetup(setup: LinkSetupReport | undefined): string[] {
  if (setup === undefined) return [];
  const p = setup.protection;
  return [
    `结果列保护（仅警告）/ result columns protected (warning only): ${p.ranges.join(', ')}（${p.headers.join('、')}）— ${PROTECTION_ACTION[p.action]}`,
    setup.validations.length === 0
      ? '数据验证 / data validation: 无（未映射客户类型或日期列）/ none (no 客户类型 or date column mapped)'
      : '数据验证（不拒绝，仅标记）/ data validation (marks, does not reject):',
    ...setup.validations.map(
      (v) =>
        `  ${v.range}  ${v.header}  ${v.condition === 'ONE_OF_LIST' ? `下拉 list: ${(v.values ?? []).join('、')}` : '日期 date'}`,
    ),
  ];
}

export function describeSync(report: SyncView): string {
  const notRegistered = report.notRegistered ?? 0;
  const lines = report.skipped
    ? [
        `${report.link}: 表格未变，未读取 / unchanged since the last sync, nothing read (${report.calls} 次 API 调用 / API calls)`,
      ]
    : [
        `${report.link}${report.dryRun ? '（试运行，未保存 / dry run, nothing saved）' : ''}: ` +
          `新登记 registered ${report.registered}，变更 changed ${report.changed}，` +
          `被拒 refused ${report.refused}，无效 invalid ${report.invalid}` +
          (report.notRegistered === undefined ? '' : `，未登记 not registered ${notRegistered}`) +
          `；${report.calls} 次 API 调用 / API calls`,
      ];
  if (report.skipped && report.notRegisteredAsOf !== undefined && notRegistered > 0) {
    // The tab is unchanged: the rows the last read found are still there.
    lines.push(
      `  上次读取（${report.notRegisteredAsOf}）时的结果，表格此后未变 / as the last read (${report.notRegisteredAsOf}) found them; the file is unchanged since`,
    );
  }
  if (notRegistered > 0) {
    // The add-in's words (addin/i18n.ts run.notRegistered), then each row's reason as the import reports it.
    lines.push(
      `  ${notRegistered} 行是填写示例、合计、说明或重复的表头，未登记（见该行“提示”）/ ` +
        `${notRegistered} ${notRegistered === 1 ? 'row is' : 'rows are'} an example, a total, a note or the header repeated: not registered (see their 提示)`,
    );
    const listed = (report.notRegisteredRows ?? []).slice(0, LISTED_ROWS);
    for (const r of listed)
      lines.push(
        `    第 ${r.row} 行 / row ${r.row}  ${r.reason.code}: ${r.reason.message} / ${r.reason.messageEn}`,
      );
    // Counted from notRegistered: the report lists at most 200 of them (notRegisteredTruncated).
    const more = notRegistered - listed.length;
    if (more > 0) lines.push(`    …另 ${more} 行 / ${more} more`);
  }
  const hints = report.hints ?? [];
  if (hints.length > 0) {
    lines.push(
      `  提示${report.dryRun ? '（试运行，将写入 / dry run, would write）' : '（已写入 / written）'}:`,
    );
    for (const h of hints.slice(0, LISTED_ROWS))
      lines.push(`    第 ${h.row} 行 / row ${h.row}: ${h.text === '' ? '（清空 / emptied）' : h.text}`);
    if (hints.length > LISTED_ROWS)
      lines.push(`    …另 ${hints.length - LISTED_ROWS} 行 / ${hints.length - LISTED_ROWS} more`);
  }
  return lines.join('\n');
}

/**
 * Terminal cells a string takes: CJK ideographs, kana, Hangul and fullwidth forms take two. Not
 * string-width: it is only a transitive dependency here, and the table needs no more than this.
 */
function stringWidth(text: string): number {
  let width = 0;
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    const wide =
      (cp >= 0x1100 && cp <= 0x115f) ||
      (cp >= 0x2e80 && cp <= 0xa4cf) ||
      (cp >= 0xac00 && cp <= 0xd7a3) ||
      (cp >= 0xf900 && cp <= 0xfaff) ||
      (cp >= 0xfe30 && cp <= 0xfe4f) ||
      (cp >= 0xff00 && cp <= 0xff60) ||
      (cp >= 0xffe0 && cp <= 0xffe6) ||
      (cp >= 0x20000 && cp <= 0x3fffd);
    width += wide ? 2 : 1;
  }
  return width;
}

function columnLetter(column: number): string {
  let n = column;
  let s = '';
  while (n > 0) {
    const r = (n - 1) % 26;
    s = String.fromCharCode(65 + r) + s;
    n = Math.floor((n - 1) / 26);
  }
  return s;
}
