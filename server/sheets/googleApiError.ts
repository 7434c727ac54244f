/**
 * What a failed Google call means for the sync, as one typed error: a stable code, a zh-CN and an
 * English message a reviewer can act on (which service account to share the spreadsheet with, as
 * Editor), and Google's own status and reason. Built from the response's status and body only —
 * never from the request, whose headers carry the bearer token.
 */
import { DomainError, problem } from '../../core/problem.js';

export type GoogleFailureKind =
  | 'not_shared'
  | 'not_found'
  | 'tab_missing'
  | 'bad_request'
  | 'forbidden'
  | 'unauthenticated'
  | 'rate_limited'
  | 'unavailable'
  | 'unreachable'
  | 'payload_too_large';

export interface GoogleCallContext {
  /** `drive.files.get`, `spreadsheets.values.batchGet`, … */
  operation: string;
  spreadsheetId: string;
  /** The service account (email) the calls are made as. */
  identity: string;
  /** Ranges the call named, to tell which tab is missing. */
  ranges?: readonly string[];
}

export interface GoogleErrorDetail {
  httpStatus: number | undefined;
  /** google.rpc status (`RESOURCE_EXHAUSTED`, `PERMISSION_DENIED`…) when Google sent one. */
  googleStatus: string | undefined;
  /** ErrorInfo reason (`RATE_LIMIT_EXCEEDED`) or Drive's `errors[0].reason` (`userRateLimitExceeded`). */
  reason: string | undefined;
  /** Google's message, shortened. */
  googleMessage: string | undefined;
}

const MAX_GOOGLE_MESSAGE = 300;

export class GoogleApiError extends DomainError {
  readonly kind: GoogleFailureKind;
  readonly httpStatus: number | undefined;
  readonly googleStatus: string | undefined;
  readonly reason: string | undefined;
  readonly googleMessage: string | undefined;
  /** How many times the call was tried before giving up. */
  readonly attempts: number;
  readonly operation: string;
  /** When trying again makes sense (our API's Retry-After); undefined when waiting will not help. */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    kind: GoogleFailureKind,
    zh: string,
    en: string,
    detail: GoogleErrorDetail,
    attempts: number,
    operation: string,
    retryAfterSeconds?: number,
  ) {
    super(problem(`google.${kind}`, zh, en), {
      httpStatus: detail.httpStatus,
      googleStatus: detail.googleStatus,
      reason: detail.reason,
      attempts,
      operation,
      ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
    });
    this.retryAfterSeconds = retryAfterSeconds;
    this.name = 'GoogleApiError';
    this.kind = kind;
    this.httpStatus = detail.httpStatus;
    this.googleStatus = detail.googleStatus;
    this.reason = detail.reason;
    this.googleMessage = detail.googleMessage;
    this.attempts = attempts;
    this.operation = operation;
  }
}

/** Reads status, google.rpc status, reason and message out of a Sheets or Drive error body. */
export function errorDetail(httpStatus: number | undefined, body: unknown): GoogleErrorDetail {
  const error = (body as { error?: unknown } | undefined)?.error;
  if (error === null || typeof error !== 'object') {
    return { httpStatus, googleStatus: undefined, reason: undefined, googleMessage: undefined };
  }
  const e = error as {
    message?: unknown;
    status?: unknown;
    details?: { '@type'?: unknown; reason?: unknown }[];
    errors?: { reason?: unknown }[];
  };
  const info = Array.isArray(e.details)
    ? e.details.find((d) => String(d['@type']).endsWith('google.rpc.ErrorInfo'))
    : undefined;
  const reason =
    typeof info?.reason === 'string'
      ? info.reason
      : Array.isArray(e.errors) && typeof e.errors[0]?.reason === 'string'
        ? e.errors[0].reason
        : undefined;
  const message = typeof e.message === 'string' ? e.message.slice(0, MAX_GOOGLE_MESSAGE) : undefined;
  return {
    httpStatus,
    googleStatus: typeof e.status === 'string' ? e.status : undefined,
    reason,
    googleMessage: message,
  };
}

const RATE_LIMIT_REASONS = new Set(['userRateLimitExceeded', 'rateLimitExceeded', 'RATE_LIMIT_EXCEEDED']);

/** Google refused for quota: 429, or Drive's 403 with a rate-limit reason. */
export function isRateLimited(detail: GoogleErrorDetail): boolean {
  const s = detail.httpStatus;
  return s === 429 || (s === 403 && detail.reason !== undefined && RATE_LIMIT_REASONS.has(detail.reason));
}

/** Worth another try: quota refusals, server faults, and no answer at all. */
export function isRetryable(detail: GoogleErrorDetail): boolean {
  const s = detail.httpStatus;
  if (s === undefined) return true;
  // Drive reports an exhausted quota as 403 with a rate-limit reason.
  return s === 408 || s >= 500 || isRateLimited(detail);
}

function shareHint(identity: string): { zh: string; en: string } {
  return {
    zh: `请在 Google 表格中点「共享」，把服务账号 ${identity} 添加为「编辑者」。`,
    en: `Share the spreadsheet with the service account ${identity} as Editor.`,
  };
}

/**
 * Sheets refills its per-minute quotas each minute and sends no Retry-After with its 429: a caller
 * told to come back after this long finds a fresh quota.
 */
export const RATE_LIMIT_RETRY_AFTER_SECONDS = 60;

/**
 * The typed error for a call that failed for good. `retryAfterMs` is the Retry-After of Google's
 * last answer, when it sent one.
 */
export function googleApiError(
  detail: GoogleErrorDetail,
  ctx: GoogleCallContext,
  attempts: number,
  retryAfterMs?: number,
): GoogleApiError {
  const s = detail.httpStatus;
  const id = ctx.spreadsheetId;
  const googleWait = retryAfterMs === undefined ? undefined : Math.max(1, Math.ceil(retryAfterMs / 1000));
  const make = (kind: GoogleFailureKind, zh: string, en: string, retryAfter?: number): GoogleApiError =>
    new GoogleApiError(kind, zh, en, detail, attempts, ctx.operation, retryAfter);
  const hint = shareHint(ctx.identity);
  const google = detail.googleMessage === undefined ? '' : `: ${detail.googleMessage}`;
  if (s === undefined) {
    return make(
      'unreachable',
      `无法连接 Google（尝试 ${attempts} 次）：检查网络；需经代理时设置 HTTPS_PROXY。`,
      `Cannot reach Google after ${attempts} attempts: check the network; set HTTPS_PROXY if a proxy is needed.`,
    );
  }
  if (isRateLimited(detail)) {
    const wait = googleWait ?? RATE_LIMIT_RETRY_AFTER_SECONDS;
    return make(
      'rate_limited',
      `Google 配额已用尽，重试 ${attempts} 次后仍被拒绝（${s} ${detail.reason ?? detail.googleStatus ?? ''}）：请 ${wait} 秒后再试。`,
      `Google quota exhausted; still refused after ${attempts} attempts (${s} ${detail.reason ?? detail.googleStatus ?? ''}): try again in ${wait} s.`,
      wait,
    );
  }
  if (s >= 500 || s === 408) {
    return make(
      'unavailable',
      `Google 服务暂时不可用（${s}），重试 ${attempts} 次后放弃：请稍后再试。`,
      `Google is unavailable (${s}); gave up after ${attempts} attempts: try again later.`,
      googleWait,
    );
  }
  if (s === 401) {
    return make(
      'unauthenticated',
      '服务账号凭据被 Google 拒绝（401）：检查密钥文件是否有效、是否已被删除或停用。',
      'Google refused the service account’s credentials (401): check that the key is valid and not deleted or disabled.',
    );
  }
  if (s === 404 && ctx.operation.startsWith('drive.')) {
    // Drive answers 404 both for a deleted file and for one not shared with the caller.
    return make(
      'not_shared',
      `找不到表格 ${id}：它已被删除，或未共享给服务账号。${hint.zh}`,
      `Spreadsheet ${id} not found: it was deleted or is not shared with the service account. ${hint.en}`,
    );
  }
  if (s === 404) {
    return make(
      'not_found',
      `找不到表格 ${id}（已删除或链接有误）。`,
      `Spreadsheet ${id} was not found (deleted, or a wrong link).`,
    );
  }
  if (s === 403 && detail.reason === 'ACCESS_TOKEN_SCOPE_INSUFFICIENT') {
    return make(
      'forbidden',
      `服务账号的授权范围不足（403）${google}`,
      `The service account's token lacks a scope (403)${google}`,
    );
  }
  if (s === 403) {
    return make(
      'not_shared',
      `表格 ${id} 未以「编辑者」身份共享给服务账号。${hint.zh}`,
      `Spreadsheet ${id} is not shared with the service account as Editor. ${hint.en}`,
    );
  }
  if (s === 400 && detail.googleMessage?.startsWith('Request payload size exceeds') === true) {
    return make(
      'payload_too_large',
      `请求过大，被 Google 拒绝${google}`,
      `Google refused a request as too large${google}`,
    );
  }
  const tab = missingTab(detail.googleMessage);
  if (s === 400 && tab !== undefined) {
    return make(
      'tab_missing',
      `表格 ${id} 中找不到工作表或区域 ${tab}（工作表可能已改名或删除）。`,
      `Sheet or range ${tab} not found in spreadsheet ${id} (the tab may have been renamed or deleted).`,
    );
  }
  return make(
    'bad_request',
    `Google 拒绝了请求（${s}）${google}`,
    `Google refused the request (${s})${google}`,
  );
}

/** The range or grid a 400 says it cannot find, when that is what it says. */
function missingTab(message: string | undefined): string | undefined {
  if (message === undefined) return undefined;
  const range = /Unable to parse range: (.+)$/.exec(message);
  if (range !== null) return range[1];
  const grid = /No grid with id: (\d+)/.exec(message);
  return grid === null ? undefined : `sheetId ${grid[1]}`;
}

/** Refused before sending: the body is over the size Google recommends. */
export function payloadTooLarge(bytes: number, limit: number, operation: string): GoogleApiError {
  return new GoogleApiError(
    'payload_too_large',
    `请求 ${bytes} 字节，超过 Google 建议的上限 ${limit} 字节：请分批发送。`,
    `The request is ${bytes} bytes, over Google's recommended maximum of ${limit}: send it in chunks.`,
    { httpStatus: undefined, googleStatus: undefined, reason: undefined, googleMessage: undefined },
    0,
    operation,
  );
}
