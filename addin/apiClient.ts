/**
 * The service's HTTP API as the add-in calls it: rows go in requests of at most 1,000, a submission
 * carries one Idempotency-Key (one derived key per request, so retrying the whole submission
 * replays every request), responses are checked with core's zod schemas, and every failure becomes
 * an ApiError whose message says what to do next.
 */
import { z } from 'zod';
import { policySchema, type Policy, type PolicyInput } from '../core/policy.js';
import { reportDataSchema, type ReportData } from '../core/reportSheetPlan.js';
import { reviewActionsSchema, type ReviewActionsData } from '../core/lifecycleReviewPlan.js';
import {
  customerTypeSchema,
  roleSchema,
  type RecordStatus,
  type RowResult,
  type SubmissionRow,
} from '../core/schema.js';
import type { PoolItem } from '../core/poolSheetPlan.js';
import type { SheetCell as SheetCellValue } from '../core/sheetGrid.js';
import {
  changeResponseSchema,
  errorResponseSchema,
  healthResponseSchema,
  importResponseSchema,
  listResponseSchema,
  meResponseSchema,
  policyPutResponseSchema,
  recordViewSchema,
  resultsResponseSchema,
  reviewQueueResponseSchema,
  type ChangeResponse,
  type HealthResponse,
  type ImportResponse,
  type MeResponse,
  type PolicyPutResponse,
  type RecordView,
  type ReviewQueueResponse,
} from '../core/responses.js';

/** Rows per request: the service takes up to 5,000; 1,000 keeps each request short and its progress visible. */
export const ROWS_PER_REQUEST = 1_000;
/**
 * A dry run is one request as far as the service allows (5,000 rows): rows of one request see each
 * other, rows of different requests do not, since nothing was saved between them.
 */
export const CHECK_ROWS_PER_REQUEST = 5_000;
const DEFAULT_TIMEOUT_MS = 120_000;

export interface ApiClientOptions {
  /** The service, e.g. `https://baobei.example.com` (its `/api` is appended). */
  baseUrl: string;
  /** Bearer token; kept in memory only. */
  token: string;
  fetch?: (input: string, init?: RequestInit) => Promise<Response>;
  timeoutMs?: number;
}

/** Called after each request of a multi-request call: rows done so far, rows in all. */
export type RowProgress = (done: number, total: number) => void;

export type Health = HealthResponse;
export type RegistrationView = RecordView;
export type ReviewQueue = Pick<ReviewQueueResponse, 'groups'>;
export type Me = MeResponse;
export type { ChangeResponse };
export type ImportReport = ImportResponse;

/** GET /api/pool: what R3 lets anyone see of a pooled customer. */
const poolResponseSchema = z.object({
  items: z.array(
    z.object({
      poolNo: z.string(),
      customerName: z.string(),
      customerType: customerTypeSchema,
      region: z.string().optional(),
      grade: z.string().optional(),
      lastServiceDay: z.string(),
      pooledSince: z.string(),
    }),
  ),
  total: z.number().int(),
});
const POOL_PAGE = 500;

/** GET /api/notifications: the text is composed by the service in both languages. */
const notificationPageSchema = z.object({
  items: z.array(
    z.object({
      id: z.string(),
      type: z.string(),
      recordNo: z.string().optional(),
      at: z.string(),
      message: z.string(),
      messageEn: z.string(),
      read: z.boolean(),
    }),
  ),
  unread: z.number().int(),
  total: z.number().int(),
});
export type NotificationPage = z.infer<typeof notificationPageSchema>;
const unreadSchema = z.object({ unread: z.number().int() });

/** A user as GET /api/users shows it (never the token's hash). */
const adminUserSchema = z.object({
  id: z.string(),
  name: z.string(),
  role: roleSchema,
  team: z.string().optional(),
  createdAt: z.string(),
  disabled: z.boolean().optional(),
});
export type AdminUser = z.infer<typeof adminUserSchema>;
const userListSchema = z.object({ items: z.array(adminUserSchema) });
/** POST /api/users and rotate-token: the token is in this answer only (shown once). */
const userWithTokenSchema = z.object({ user: adminUserSchema, token: z.string().min(1) });
export type UserWithToken = z.infer<typeof userWithTokenSchema>;
const handOverSchema = z.object({
  user: adminUserSchema,
  to: adminUserSchema,
  transferred: z.array(z.string()),
  // A service before this field moved lapsed records too: none to report.
  lapsed: z.array(z.string()).default([]),
});
export type HandOver = z.infer<typeof handOverSchema>;
export interface NewUser {
  name: string;
  role: AdminUser['role'];
  team?: string;
}

/** Groups per review-queue request (the service allows up to 500). */
const REVIEW_PAGE = 200;

export interface ListQuery {
  status?: RecordStatus[];
  /** Up to 1,000 registration numbers (mind the URL length: 300 is a safe batch). */
  no?: readonly string[];
  registrant?: string;
  q?: string;
  expiringWithinDays?: number;
  /** 1–1,000; the service's default is 100. */
  limit?: number;
  offset?: number;
}

export interface ReviewBody {
  decision: 'approve' | 'reject' | 'share';
  reason: string;
  shareWith?: string;
  split?: number;
}

export type RegistrationAction = 'extension' | 'objection' | 'follow-ups' | 'close';

export interface ApiClient {
  readonly baseUrl: string;
  health(): Promise<Health>;
  /** POST /api/check in requests of ≤ 1,000 rows; nothing is saved. */
  check(rows: readonly SubmissionRow[], options?: { onProgress?: RowProgress }): Promise<RowResult[]>;
  /** POST /api/registrations in requests of ≤ 1,000 rows; request i carries `${idempotencyKey}:${i}`. */
  submit(
    rows: readonly SubmissionRow[],
    idempotencyKey: string,
    options?: { onProgress?: RowProgress },
  ): Promise<RowResult[]>;
  getRegistration(no: string): Promise<RegistrationView>;
  listRegistrations(query?: ListQuery): Promise<{ items: RegistrationView[]; total: number }>;
  /** Every group of the review queue (the service pages it; this follows the pages). */
  reviewQueue(): Promise<ReviewQueue>;
  /** Who the token belongs to (the review step is for reviewers and administrators). */
  me(): Promise<Me>;
  review(no: string, body: ReviewBody): Promise<RegistrationView>;
  /**
   * An action on a registration (`extension`, `objection`, `follow-ups`, `close`) sent with the ETag
   * the caller last saw (If-Match): refused with 412 if the record changed since, so a retry never
   * files the action twice.
   */
  act(
    no: string,
    action: RegistrationAction,
    body: Record<string, string>,
    etag: string,
  ): Promise<RegistrationView>;
  /**
   * PATCH a registration's fields with the ETag the caller last saw (If-Match): a stale one is
   * refused with 412 and the current record in `details.record`, so a retry never applies twice.
   */
  change(
    no: string,
    body: { changes: Record<string, SheetCellValue>; reason: string },
    etag: string,
  ): Promise<ChangeResponse>;
  /** R13: sends a corrected rejected registration back to review. */
  resubmit(no: string, etag: string): Promise<ChangeResponse>;
  uploadImport(
    file: Blob,
    fileName: string,
    options: { mode: 'submit' | 'history'; dryRun: boolean; sheet?: string },
  ): Promise<ImportReport>;
  /** The annotated workbook of an import (`annotatedUrl` of its report); only from the service itself. */
  downloadAnnotated(url: string): Promise<Blob>;
  policy(): Promise<Policy>;
  /** The caller's notifications, newest first, with read state and the unread count. */
  notifications(page?: { limit?: number; offset?: number }): Promise<NotificationPage>;
  /** Marks these notifications, or all of them, read for the caller; the unread count left. */
  markNotificationsRead(what: { ids: string[] } | { all: true }): Promise<{ unread: number }>;
  /** Every customer in the public pool (公海), following the service's pages. */
  pool(): Promise<PoolItem[]>;
  /** Administrators (issue 9): users, their tokens, a leaver's hand-over (R38), the policy. */
  users(): Promise<AdminUser[]>;
  /** The new user and their token; the token is in this answer only. */
  createUser(user: NewUser): Promise<UserWithToken>;
  disableUser(id: string): Promise<AdminUser>;
  enableUser(id: string): Promise<AdminUser>;
  /** A new token (shown once); the old one stops working. */
  rotateToken(id: string): Promise<UserWithToken>;
  /** R38: disables `id` and moves its active registrations to the user named `to`. */
  handOver(id: string, to: string): Promise<HandOver>;
  /** PUT /api/policy: a preset plus overrides; the policy now in force and what the change voided first. */
  putPolicy(input: PolicyInput): Promise<PolicyPutResponse>;
  /** The 报表 figures for a month range (YYYY-MM; the current month when absent). */
  reviewReport(range?: { from?: string; to?: string }): Promise<ReportData>;
  /** Extension requests and objections waiting for a decision (reviewers). */
  reviewActions(): Promise<ReviewActionsData>;
  /** Approves or rejects an extension request (R28). */
  reviewExtension(
    no: string,
    body: { decision: 'approve' | 'reject'; reason: string },
  ): Promise<RegistrationView>;
}

/** A failed call. `message` (zh-CN) and `messageEn` say what went wrong and what to do next. */
export class ApiError extends Error {
  /** HTTP status; 0 when the service was not reached. */
  readonly status: number;
  readonly code: string;
  readonly messageEn: string;
  readonly field: string | undefined;
  readonly requestId: string | undefined;
  /** What the service added (a stale change: the current record; a refused one: the R3 conflict view). */
  readonly details: Record<string, unknown> | undefined;

  constructor(init: {
    status: number;
    code: string;
    message: string;
    messageEn: string;
    field?: string | undefined;
    requestId?: string | undefined;
    details?: Record<string, unknown> | undefined;
  }) {
    super(init.message);
    this.name = 'ApiError';
    this.status = init.status;
    this.code = init.code;
    this.messageEn = init.messageEn;
    this.field = init.field;
    this.requestId = init.requestId;
    this.details = init.details;
  }
}

/** What the person can do about a failure, by status. */
function nextStep(status: number, code: string): { zh: string; en: string } | null {
  if (status === 401) {
    return {
      zh: '请在「连接」中重新输入服务地址和访问令牌',
      en: 'Reconnect: enter the service URL and your token again',
    };
  }
  if (status === 403)
    return { zh: '如需此权限，请联系管理员', en: 'Ask an administrator if you need this permission' };
  if (status === 413) {
    return {
      zh: '请换用较小的文件，或把表格拆成几份分别处理',
      en: 'Use a smaller file, or split the sheet and send the parts separately',
    };
  }
  if (status === 429) return { zh: '请稍等一分钟再试', en: 'Wait a minute and try again' };
  if (code === 'idempotency.in_flight') return null;
  if (status >= 500) {
    return {
      zh: '请稍后重试；如果一直失败，请把请求编号告诉管理员',
      en: 'Try again later; if it keeps failing, give the administrator the request id',
    };
  }
  return null;
}

function sentence(text: string, en: boolean): string {
  const trimmed = text.trim();
  if (trimmed === '') return trimmed;
  return /[。！？.!?]$/.test(trimmed) ? trimmed : `${trimmed}${en ? '.' : '。'}`;
}

function withStep(message: string, step: string | undefined, en: boolean): string {
  return step === undefined || step === ''
    ? message
    : `${sentence(message, en)}${en ? ' ' : ''}${sentence(step, en)}`;
}

function originOf(url: string): string | null {
  try {
    return new URL(url).origin;
  } catch {
    return null;
  }
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export function createApiClient(options: ApiClientOptions): ApiClient {
  const baseUrl = options.baseUrl.trim().replace(/\/+$/, '');
  let origin: string;
  try {
    const parsed = new URL(baseUrl);
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new Error('scheme');
    origin = parsed.origin;
  } catch {
    throw new ApiError({
      status: 0,
      code: 'config.invalid_url',
      message: `服务地址「${options.baseUrl}」无效，应为 https://… 这样的网址`,
      messageEn: `"${options.baseUrl}" is not a valid service URL; expected https://…`,
    });
  }
  const doFetch = options.fetch ?? ((input: string, init?: RequestInit) => globalThis.fetch(input, init));
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;

  async function send(url: string, init: RequestInit): Promise<Response> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    try {
      return await doFetch(url, {
        ...init,
        headers: { authorization: `Bearer ${options.token}`, ...(init.headers as Record<string, string>) },
        signal: controller.signal,
      });
    } catch (error) {
      if (controller.signal.aborted) {
        throw new ApiError({
          status: 0,
          code: 'network.timeout',
          message: `服务在 ${Math.round(timeoutMs / 1000)} 秒内没有响应，请稍后重试（重试不会重复报备）`,
          messageEn: `The service did not answer within ${Math.round(timeoutMs / 1000)} s; try again (a retry never registers twice)`,
        });
      }
      throw new ApiError({
        status: 0,
        code: 'network.unreachable',
        message: `无法连接服务 ${baseUrl}：请检查服务地址是否正确、服务是否在运行、网络是否通畅`,
        messageEn: `Cannot reach the service at ${baseUrl}: check the service URL, that the service is running, and the network (${error instanceof Error ? error.message : String(error)})`,
      });
    } finally {
      clearTimeout(timer);
    }
  }

  async function failure(res: Response): Promise<ApiError> {
    const text = await res.text().catch(() => '');
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    const parsed = errorResponseSchema.safeParse(body);
    const step = nextStep(res.status, parsed.success ? parsed.data.error.code : '');
    if (parsed.success) {
      const e = parsed.data.error;
      return new ApiError({
        status: res.status,
        code: e.code,
        message: withStep(e.message, step?.zh, false),
        messageEn: withStep(e.messageEn, step?.en, true),
        field: e.field,
        requestId: e.requestId,
        details: e.details,
      });
    }
    return new ApiError({
      status: res.status,
      code: `http.${res.status}`,
      message: withStep(
        `服务返回错误（HTTP ${res.status}）`,
        step?.zh ?? '请检查服务地址是否指向报备服务',
        false,
      ),
      messageEn: withStep(
        `The service answered HTTP ${res.status}`,
        step?.en ?? 'Check that the URL points at the registration service',
        true,
      ),
    });
  }

  async function call<S extends z.ZodType>(
    method: string,
    path: string,
    schema: S,
    init: { json?: unknown; form?: FormData; headers?: Record<string, string> } = {},
  ): Promise<z.infer<S>> {
    const headers: Record<string, string> = { accept: 'application/json', ...init.headers };
    let body: BodyInit | undefined;
    if (init.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(init.json);
    } else if (init.form !== undefined) body = init.form;
    const res = await send(`${baseUrl}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
    if (!res.ok) throw await failure(res);
    let json: unknown;
    try {
      json = await res.json();
    } catch {
      json = undefined;
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      throw new ApiError({
        status: res.status,
        code: 'response.invalid',
        message: '服务返回的数据格式不符，请确认服务地址正确、加载项与服务版本一致',
        messageEn:
          'The service answered in an unexpected format; check the URL and that add-in and service versions match',
      });
    }
    return parsed.data;
  }

  async function inChunks(
    rows: readonly SubmissionRow[],
    path: string,
    key: string | undefined,
    onProgress: RowProgress | undefined,
    size = ROWS_PER_REQUEST,
  ): Promise<RowResult[]> {
    const results: RowResult[] = [];
    let done = 0;
    // One request at a time: later rows must see earlier ones, as in a single submission (R17).
    for (const [i, chunk] of chunks(rows, size).entries()) {
      const headers: Record<string, string> = key === undefined ? {} : { 'idempotency-key': `${key}:${i}` };
      const body = await call('POST', path, resultsResponseSchema, { json: { rows: chunk }, headers });
      results.push(...body.results);
      done += chunk.length;
      onProgress?.(done, rows.length);
    }
    return results;
  }

  function userPath(id: string): string {
    return `/api/users/${encodeURIComponent(id)}`;
  }

  function registrationPath(no: string): string {
    return `/api/registrations/${encodeURIComponent(no)}`;
  }

  return {
    baseUrl,
    health: () => call('GET', '/api/health', healthResponseSchema),
    check: (rows, opts = {}) =>
      inChunks(rows, '/api/check', undefined, opts.onProgress, CHECK_ROWS_PER_REQUEST),
    submit: (rows, idempotencyKey, opts = {}) =>
      inChunks(rows, '/api/registrations', idempotencyKey, opts.onProgress),
    getRegistration: (no) => call('GET', registrationPath(no), recordViewSchema),
    listRegistrations(query = {}) {
      const params = new URLSearchParams();
      if (query.status !== undefined && query.status.length > 0) params.set('status', query.status.join(','));
      if (query.no !== undefined && query.no.length > 0) params.set('no', query.no.join(','));
      if (query.registrant !== undefined) params.set('registrant', query.registrant);
      if (query.q !== undefined) params.set('q', query.q);
      if (query.expiringWithinDays !== undefined)
        params.set('expiringWithinDays', String(query.expiringWithinDays));
      if (query.limit !== undefined) params.set('limit', String(query.limit));
      if (query.offset !== undefined) params.set('offset', String(query.offset));
      const search = params.toString();
      return call('GET', `/api/registrations${search === '' ? '' : `?${search}`}`, listResponseSchema);
    },
    async reviewQueue() {
      const groups: ReviewQueue['groups'] = [];
      for (let offset = 0; ; offset += REVIEW_PAGE) {
        const page = await call(
          'GET',
          `/api/review-queue?limit=${REVIEW_PAGE}&offset=${offset}`,
          reviewQueueResponseSchema,
        );
        groups.push(...page.groups);
        if (!page.hasMore) return { groups };
      }
    },
    me: () => call('GET', '/api/me', meResponseSchema),
    reviewActions: () => call('GET', '/api/review-queue/actions', reviewActionsSchema),
    reviewExtension: (no, body) =>
      call('POST', `${registrationPath(no)}/extension/review`, recordViewSchema, { json: body }),
    reviewReport(range = {}) {
      const params = new URLSearchParams();
      if (range.from !== undefined) params.set('from', range.from);
      if (range.to !== undefined) params.set('to', range.to);
      const search = params.toString();
      return call('GET', `/api/reports/review${search === '' ? '' : `?${search}`}`, reportDataSchema);
    },
    review: (no, body) => call('POST', `${registrationPath(no)}/review`, recordViewSchema, { json: body }),
    act: (no, action, body, etag) =>
      call('POST', `${registrationPath(no)}/${action}`, recordViewSchema, {
        json: body,
        headers: { 'if-match': etag },
      }),
    change: (no, body, etag) =>
      call('PATCH', registrationPath(no), changeResponseSchema, {
        json: body,
        headers: { 'if-match': etag },
      }),
    resubmit: (no, etag) =>
      call('POST', `${registrationPath(no)}/resubmit`, changeResponseSchema, {
        json: {},
        headers: { 'if-match': etag },
      }),
    uploadImport(file, fileName, opts) {
      const form = new FormData();
      form.append('mode', opts.mode);
      form.append('dryRun', String(opts.dryRun));
      if (opts.sheet !== undefined) form.append('sheet', opts.sheet);
      form.append('file', file, fileName);
      return call('POST', '/api/imports', importResponseSchema, { form });
    },
    async downloadAnnotated(url) {
      // The token goes to the service only: a root-relative /api path, or an absolute URL on its origin.
      let target: string;
      if (url.startsWith('/api/')) target = `${baseUrl}${url}`;
      else if (originOf(url) === origin) target = url;
      else {
        throw new ApiError({
          status: 0,
          code: 'request.invalid',
          message: '下载地址不在报备服务上，已拒绝',
          messageEn: 'The download link is not on the registration service; refused',
        });
      }
      const res = await send(target, { method: 'GET' });
      if (!res.ok) throw await failure(res);
      return await res.blob();
    },
    policy: () => call('GET', '/api/policy', policySchema),
    notifications: (page = {}) =>
      call(
        'GET',
        `/api/notifications?limit=${page.limit ?? 20}&offset=${page.offset ?? 0}`,
        notificationPageSchema,
      ),
    markNotificationsRead: (what) => call('POST', '/api/notifications/read', unreadSchema, { json: what }),
    async pool() {
      const items: PoolItem[] = [];
      for (let offset = 0; ; offset += POOL_PAGE) {
        const page = await call('GET', `/api/pool?limit=${POOL_PAGE}&offset=${offset}`, poolResponseSchema);
        items.push(...page.items);
        if (page.items.length < POOL_PAGE || items.length >= page.total) return items;
      }
    },
    users: async () => (await call('GET', '/api/users', userListSchema)).items,
    createUser: (user) => call('POST', '/api/users', userWithTokenSchema, { json: user }),
    disableUser: (id) => call('POST', `${userPath(id)}/disable`, adminUserSchema),
    enableUser: (id) => call('POST', `${userPath(id)}/enable`, adminUserSchema),
    rotateToken: (id) => call('POST', `${userPath(id)}/rotate-token`, userWithTokenSchema),
    handOver: (id, to) => call('POST', `${userPath(id)}/hand-over`, handOverSchema, { json: { to } }),
    putPolicy: (input) => call('PUT', '/api/policy', policyPutResponseSchema, { json: input }),
  };
}
