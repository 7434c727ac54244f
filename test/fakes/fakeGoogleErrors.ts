/**
 * The error bodies Google's front ends return, as the fake Sheets/Drive server sends them. Sheets v4
 * speaks the google.rpc.Status shape (`code`, `message`, `status`, `details`); Drive v3 still speaks
 * the older shape with an `errors[]` list carrying `domain` and `reason`. Clients key on both, so the
 * fake reproduces each exactly where it matters (codes, statuses, reasons, the start of messages).
 */

export type GoogleApi = 'sheets' | 'drive';

export interface GoogleErrorBody {
  error: {
    code: number;
    message: string;
    status?: string;
    details?: Record<string, unknown>[];
    errors?: { domain: string; reason: string; message: string; location?: string; locationType?: string }[];
  };
}

/** Thrown inside the fake; the server turns it into a response. */
export class FakeGoogleError extends Error {
  /** Sent as a Retry-After header when set (an injected fault may carry one). */
  retryAfterSeconds: number | undefined;

  constructor(
    readonly httpStatus: number,
    readonly body: GoogleErrorBody,
  ) {
    super(body.error.message);
    this.name = 'FakeGoogleError';
  }
}

const RPC_STATUS: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ABORTED',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  501: 'UNIMPLEMENTED',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

/** A Sheets-style (google.rpc.Status) error. */
export function sheetsError(
  code: number,
  message: string,
  details?: Record<string, unknown>[],
): FakeGoogleError {
  const error: GoogleErrorBody['error'] = { code, message, status: RPC_STATUS[code] ?? 'UNKNOWN' };
  if (details !== undefined) error.details = details;
  return new FakeGoogleError(code, { error });
}

/** A Drive v3-style error: `errors[]` with domain and reason. */
export function driveError(
  code: number,
  reason: string,
  message: string,
  extra: { domain?: string; location?: string; locationType?: string } = {},
): FakeGoogleError {
  const item = { domain: extra.domain ?? 'global', reason, message, ...pickLocation(extra) };
  return new FakeGoogleError(code, { error: { code, message, errors: [item] } });
}

function pickLocation(extra: { location?: string; locationType?: string }): {
  location?: string;
  locationType?: string;
} {
  return extra.location === undefined
    ? {}
    : { location: extra.location, locationType: extra.locationType ?? 'parameter' };
}

/** `Invalid requests[3].repeatCell: …` — how spreadsheets.batchUpdate names the failing request. */
export function invalidRequest(index: number, kind: string, message: string): FakeGoogleError {
  return sheetsError(400, `Invalid requests[${index}].${kind}: ${message}`);
}

export const MISSING_CREDENTIALS =
  'Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.';
export const INVALID_CREDENTIALS =
  'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.';

export function unauthenticated(api: GoogleApi, missing: boolean): FakeGoogleError {
  if (api === 'drive') {
    return driveError(401, 'authError', 'Invalid Credentials', {
      location: 'Authorization',
      locationType: 'header',
    });
  }
  return sheetsError(401, missing ? MISSING_CREDENTIALS : INVALID_CREDENTIALS, [
    {
      '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
      reason: missing ? 'CREDENTIALS_MISSING' : 'ACCESS_TOKEN_TYPE_UNSUPPORTED',
      domain: 'googleapis.com',
      metadata: { service: 'sheets.googleapis.com' },
    },
  ]);
}

export function insufficientScopes(api: GoogleApi, method: string): FakeGoogleError {
  if (api === 'drive') {
    return driveError(403, 'insufficientPermissions', 'Request had insufficient authentication scopes.');
  }
  return sheetsError(403, 'Request had insufficient authentication scopes.', [
    {
      '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
      reason: 'ACCESS_TOKEN_SCOPE_INSUFFICIENT',
      domain: 'googleapis.com',
      metadata: { service: 'sheets.googleapis.com', method },
    },
  ]);
}

export function notShared(): FakeGoogleError {
  return sheetsError(403, 'The caller does not have permission');
}

export function spreadsheetNotFound(): FakeGoogleError {
  return sheetsError(404, 'Requested entity was not found.');
}

/** Drive answers 404 both for a missing file and for one the caller may not see. */
export function fileNotFound(fileId: string): FakeGoogleError {
  return driveError(404, 'notFound', `File not found: ${fileId}.`, { location: 'fileId' });
}

/**
 * Sheets' per-minute quota: 429 RESOURCE_EXHAUSTED with an ErrorInfo naming the quota metric and
 * limit, as Google sends it ("Quota exceeded for quota metric 'Read requests' and limit 'Read
 * requests per minute per user' …").
 */
export function sheetsQuotaExceeded(
  kind: 'read' | 'write',
  scope: 'user' | 'project',
  limit: number,
  projectNumber: string,
): FakeGoogleError {
  const metric = kind === 'read' ? 'Read requests' : 'Write requests';
  const limitName = `${metric} per minute${scope === 'user' ? ' per user' : ''}`;
  const quotaLimit = `${kind === 'read' ? 'Read' : 'Write'}RequestsPerMinute${scope === 'user' ? 'PerUser' : ''}`;
  return sheetsError(
    429,
    `Quota exceeded for quota metric '${metric}' and limit '${limitName}' of service 'sheets.googleapis.com' for consumer 'project_number:${projectNumber}'.`,
    [
      {
        '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
        reason: 'RATE_LIMIT_EXCEEDED',
        domain: 'googleapis.com',
        metadata: {
          service: 'sheets.googleapis.com',
          consumer: `projects/${projectNumber}`,
          quota_metric: `sheets.googleapis.com/${kind}_requests`,
          quota_limit: quotaLimit,
          quota_limit_value: String(limit),
          quota_location: 'global',
        },
      },
      {
        '@type': 'type.googleapis.com/google.rpc.Help',
        links: [
          {
            description: 'Request a higher quota limit.',
            url: 'https://cloud.google.com/docs/quota#requesting_higher_quota',
          },
        ],
      },
    ],
  );
}

/** Drive's documented answer to an exhausted per-user quota: 403 userRateLimitExceeded. */
export function driveRateLimited(): FakeGoogleError {
  return driveError(403, 'userRateLimitExceeded', 'User Rate Limit Exceeded', { domain: 'usageLimits' });
}

/**
 * Google documents no hard request size for Sheets, only "a 2 MB maximum payload" as a
 * recommendation; its front end refuses bodies over its hard limit with this 400. The fake refuses
 * above its configured size with the same answer.
 */
export function payloadTooLarge(api: GoogleApi, limitBytes: number): FakeGoogleError {
  const message = `Request payload size exceeds the limit: ${limitBytes} bytes.`;
  return api === 'drive' ? driveError(400, 'badRequest', message) : sheetsError(400, message);
}

/** An injected server-side failure (500 INTERNAL, 503 UNAVAILABLE, …). */
export function serverFault(api: GoogleApi, code: number): FakeGoogleError {
  const message =
    code === 503
      ? 'The service is currently unavailable.'
      : code === 504
        ? 'Deadline exceeded.'
        : 'Internal error encountered.';
  return api === 'drive'
    ? driveError(code, code === 503 ? 'backendError' : 'internalError', message)
    : sheetsError(code, message);
}

/** Things the fake does not model: a loud 501, never a silent success. */
export function notImplementedByFake(what: string): FakeGoogleError {
  return sheetsError(501, `The fake Google server does not implement ${what}.`);
}
