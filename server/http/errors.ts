/**
 * Errors on the wire: `{"error": {code, message, messageEn, field?, requestId?}}`. Expected
 * failures (DomainError, bad input) map their stable code to a status; anything else is a
 * generic 500 that names only the request id, with the details in the log.
 */
import type { ErrorRequestHandler } from 'express';
import { z } from 'zod';
import { DomainError, problem, type Problem } from '../../core/problem.js';

const STATUS_BY_CODE: Record<string, number> = {
  'request.invalid': 400,
  'request.body_too_large': 413,
  'upload.too_large': 413,
  'auth.missing': 401,
  'auth.invalid': 401,
  'auth.forbidden': 403,
  'import.history_forbidden': 403,
  'idempotency.in_flight': 409,
  'idempotency.mismatch': 422,
  'registration.blocked': 409,
  // Changing a filed registration (issue 15): a stale ETag, a missing If-Match, and the refusals.
  'registration.version_mismatch': 412,
  'registration.version_required': 428,
  'change.closed': 409,
  'change.conflict': 409,
  'change.duplicate': 409,
  'change.in_conflict': 409,
  'change.ranking_locked': 409,
  'change.protection_granted': 409,
  'resubmit.not_rejected': 409,
  'resubmit.conflict': 409,
  'resubmit.duplicate': 409,
  'resubmit.conflict_lost': 409,
  'resubmit.customer_signed': 409,
  'status.transition': 409,
  'registration.lapsed': 409,
  'objection.exists': 409,
  'objection.customer_signed': 409,
  'objection.superseded': 409,
  'user.exists': 409,
  'user.self': 409,
  'retention.decided': 409,
  'retention.destroyed': 409,
  'sheets.already_linked': 409,
  'sheets.sync_running': 409,
  'sheets.link_not_found': 404,
  'sheets.not_configured': 503,
  'sheets.owner_unknown': 422,
  'sheets.no_header': 422,
  'sheets.header_changed': 422,
  'sheets.tab_missing': 422,
  // Google failed for good after the client's retries (googleApiError): not the caller's fault, so
  // not 4xx. A spent quota is 503 with Retry-After; Google's own faults and an unreachable Google
  // are a bad gateway; a service-account key or scope Google refuses is our configuration (503).
  'google.rate_limited': 503,
  'google.unavailable': 502,
  'google.unreachable': 502,
  'google.unauthenticated': 503,
  'google.forbidden': 503,
  'retention.same_admin': 409,
  'retention.nothing': 409,
  'rate.limited': 429,
  'auth.rate_limited': 429,
  'store.unavailable': 503,
  // PostgreSQL lost while running (postgresReach): the request may succeed once it is back.
  'store.unreachable': 503,
  // A write that PostgreSQL kept ending to break deadlocks, past its retries: nothing saved; retry.
  'store.busy': 503,
  // A working-day schedule that contradicts itself or its year: the body is wrong (400), by date.
  'calendar.year_invalid': 400,
  'calendar.date_invalid': 400,
  'calendar.date_outside_year': 400,
  'calendar.range_reversed': 400,
  'calendar.range_overlap': 400,
  'calendar.duplicate': 400,
  'calendar.both': 400,
  'calendar.workday_not_weekend': 400,
  'service.busy': 503,
  // HTTP imports (issue 14): one user's imports at once, their kept files' quota, the worker's limits.
  'import.user_busy': 429,
  'import.quota_exceeded': 409,
  'import.out_of_memory': 422,
  'import.timeout': 422,
  'import.worker_failed': 503,
  'service.starting': 503,
  'backup.not_configured': 503,
  // Its code does not end in .not_found (the notify.* codes name the module first).
  'notify.robot_not_found': 404,
  // A test message that would pass the robot provider's rate limit (issue 10).
  'notify.robot_busy': 429,
};

export function statusFor(code: string): number {
  const exact = STATUS_BY_CODE[code];
  if (exact !== undefined) return exact;
  if (code.endsWith('.not_found')) return 404;
  return 422;
}

/** A zod failure as one Problem naming the first bad field (path joined with dots), zh-CN and en. */
export function zodProblem(error: z.ZodError, prefix?: string): Problem {
  const issue = error.issues[0];
  // An unknown key is reported at the object holding it; the field to point at is the key itself.
  const unknownKey = issue?.code === 'unrecognized_keys' ? issue.keys[0] : undefined;
  const field = [prefix, ...(issue?.path ?? []).map(String), unknownKey]
    .filter((p) => p !== undefined && p !== '')
    .join('.');
  // Messages written for our schemas are bilingual, "zh / en"; zod's own come from its locales.
  const own = issue !== undefined ? ownMessage(issue.message) : undefined;
  const zh = own?.zh ?? (issue ? (zhLocaleMessage(issue) ?? issue.message) : '格式不正确');
  const zhText = typeof zh === 'string' ? zh : (zh?.message ?? '格式不正确');
  const en = own?.en ?? issue?.message ?? 'invalid';
  return problem(
    'request.invalid',
    field ? `字段 ${field}：${zhText}` : `请求格式不正确：${zhText}`,
    field ? `Field ${field}: ${en}` : `Invalid request: ${en}`,
    field || undefined,
  );
}

/** A message our schemas give, "中文 / English"; undefined for zod's own (no Chinese in it). */
function ownMessage(message: string): { zh: string; en: string } | undefined {
  const at = message.indexOf(' / ');
  if (at < 0 || !/[\u4e00-\u9fff]/.test(message.slice(0, at))) return undefined;
  return { zh: message.slice(0, at), en: message.slice(at + 3) };
}

/**
 * The zh-CN locale's text for an issue. It names the type received from the issue's `input`, which
 * zod keeps only when parsing with `reportInput` (parseOrThrow does): without it every wrong type
 * read "实际接收 undefined" while the English said "received number". An issue parsed elsewhere
 * without it gets the expectation alone.
 */
function zhLocaleMessage(
  issue: z.core.$ZodIssue,
): ReturnType<ReturnType<typeof z.locales.zhCN>['localeError']> {
  const localeError = z.locales.zhCN().localeError;
  // A discriminated union's unknown tag: the locale says only "无效输入" where the English lists
  // the tags it takes.
  if (issue.code === 'invalid_union' && 'options' in issue && Array.isArray(issue.options)) {
    return `无效选项：期望以下之一 ${issue.options.map((o) => JSON.stringify(o)).join('|')}`;
  }
  if (issue.code === 'invalid_type' && !('input' in issue)) {
    const expected = localeError({ ...issue, input: undefined } as never);
    const text = typeof expected === 'string' ? expected : expected?.message;
    return text?.replace(/，实际接收 .*$/, '');
  }
  return localeError(issue as never);
}

export function parseOrThrow<T extends z.ZodType>(schema: T, value: unknown, prefix?: string): z.infer<T> {
  // reportInput: the zh-CN text names the type received (no message repeats the value itself).
  const parsed = schema.safeParse(value, { reportInput: true });
  if (!parsed.success) throw new DomainError(zodProblem(parsed.error, prefix));
  return parsed.data;
}

export function errorBody(p: Problem, requestId?: string, details?: Record<string, unknown>): unknown {
  return {
    error: {
      code: p.code,
      message: p.message,
      messageEn: p.messageEn,
      ...(p.field !== undefined ? { field: p.field } : {}),
      ...(details ? { details } : {}),
      ...(requestId !== undefined ? { requestId } : {}),
    },
  };
}

interface HttpishError {
  status?: number;
  type?: string;
  code?: string;
  expose?: boolean;
  /** body-parser's: the charset or content encoding it does not read. */
  charset?: string;
  encoding?: string;
}

/** A charset or encoding named back to the caller: only the characters such a name has, and short. */
function safeName(value: string | undefined): string {
  return (value ?? '').replace(/[^A-Za-z0-9._-]/g, '').slice(0, 40) || '?';
}

/** 415 for a body in a charset the JSON parser does not read (anything but UTF-8/16/32). */
export function charsetUnsupported(charset: string | undefined): Problem {
  const name = safeName(charset);
  return problem(
    'request.charset_unsupported',
    `不支持的字符集 ${name}：请求体请用 UTF-8`,
    `Unsupported charset ${name}: send the body in UTF-8`,
  );
}

/** 415 for a body in a content encoding the service does not decode. */
export function encodingUnsupported(encoding: string | undefined): Problem {
  const name = safeName(encoding);
  return problem(
    'request.encoding_unsupported',
    `不支持的内容编码 ${name}：请求体请不压缩发送（JSON 也可用 gzip、deflate 或 br）`,
    `Unsupported content encoding ${name}: send the body uncompressed (JSON may also use gzip, deflate or br)`,
  );
}

/**
 * The client went away before its request was read (closed the tab, lost the network, timed
 * out): body-parser reports `request.aborted`, multer's parser an unexpected end of the form, and
 * the socket is gone either way. Nobody is left to answer, and it is not the service's failure.
 */
export function isClientAbort(
  err: unknown,
  req: { readableAborted?: boolean; socket?: { destroyed?: boolean } },
): boolean {
  const e = err as HttpishError | undefined;
  if (e?.type === 'request.aborted' || e?.code === 'ECONNABORTED' || e?.code === 'ECONNRESET') return true;
  return req.readableAborted === true || req.socket?.destroyed === true;
}

export const errorHandler: ErrorRequestHandler = (err: unknown, req, res, _next) => {
  const requestId = typeof req.id === 'string' ? req.id : String(req.id ?? '');
  if (err instanceof DomainError) {
    // A stale change answers with the record as it is now, and its entity tag.
    const etag = err.details?.['etag'];
    if (typeof etag === 'string') res.set('ETag', etag);
    // When waiting helps (a spent Google quota), say how long, as HTTP says it.
    const retryAfter = err.details?.['retryAfterSeconds'];
    if (typeof retryAfter === 'number' && Number.isInteger(retryAfter) && retryAfter > 0)
      res.set('Retry-After', String(retryAfter));
    res.status(statusFor(err.code)).json(errorBody(err.toProblem(), requestId, err.details));
    return;
  }
  const httpish = err as HttpishError;
  if (isClientAbort(err, req)) {
    req.log?.info({ code: httpish?.code ?? httpish?.type }, 'client aborted the request');
    if (!res.headersSent && !res.destroyed)
      res
        .status(400)
        .json(errorBody(problem('request.aborted', '请求被中断', 'The request was aborted'), requestId));
    return;
  }
  // body-parser's own errors: malformed JSON and oversized bodies are the caller's fault.
  if (httpish?.type === 'entity.too.large') {
    res
      .status(413)
      .json(errorBody(problem('request.body_too_large', '请求体过大', 'Request body too large'), requestId));
    return;
  }
  if (httpish?.type === 'charset.unsupported') {
    res.status(415).json(errorBody(charsetUnsupported(httpish.charset), requestId));
    return;
  }
  if (httpish?.type === 'encoding.unsupported') {
    res.status(415).json(errorBody(encodingUnsupported(httpish.encoding), requestId));
    return;
  }
  if (httpish?.type === 'entity.parse.failed') {
    res
      .status(400)
      .json(
        errorBody(
          problem('request.invalid', '请求体不是有效的 JSON', 'Request body is not valid JSON'),
          requestId,
        ),
      );
    return;
  }
  req.log?.error({ err }, 'unexpected error');
  res
    .status(500)
    .json(
      errorBody(
        problem(
          'internal',
          `服务内部错误，请联系管理员并提供请求编号 ${requestId}`,
          `Internal error; give the administrator request id ${requestId}`,
        ),
        requestId,
      ),
    );
};
