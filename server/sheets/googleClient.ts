/**
 * The one module that talks to Google for the Sheets sync: a thin adapter over googleapis'
 * `sheets('v4')` and `drive('v3')` exposing exactly the calls the sync makes, with
 *  - auth as a service account (self-signed JWT with scopes: no token endpoint, no extra round
 *    trip) or, for tests, an OAuth2 client holding a fixed access token;
 *  - a token bucket per service account (googleRateLimiter) in front of every call;
 *  - 429, 5xx, Drive's rate-limit 403 and network failures retried with exponential backoff and
 *    jitter, giving up after `maxAttempts` with a typed GoogleApiError (googleApiError);
 *  - bodies over Google's 2 MB recommendation refused before sending, so the sync chunks them.
 * googleapis' own retry is turned off: it would retry behind the bucket's back.
 */
import { JWT, OAuth2Client } from 'google-auth-library';
import { sheets, type sheets_v4 } from 'googleapis/build/src/apis/sheets/index.js';
import { drive, type drive_v3 } from 'googleapis/build/src/apis/drive/index.js';
import {
  errorDetail,
  googleApiError,
  isRateLimited,
  isRetryable,
  payloadTooLarge,
  type GoogleCallContext,
} from './googleApiError.js';
import {
  realClock,
  sharedRateLimiter,
  type CallClass,
  type Clock,
  type GoogleRateLimiter,
} from './googleRateLimiter.js';
import type { ServiceAccountKey } from './googleCredentials.js';

export type { sheets_v4 } from 'googleapis/build/src/apis/sheets/index.js';

/** Least privilege: edit spreadsheets; read Drive metadata (for `version`) only. */
export const GOOGLE_SCOPES = [
  'https://www.googleapis.com/auth/spreadsheets',
  'https://www.googleapis.com/auth/drive.metadata.readonly',
] as const;

/** Google recommends a 2 MB maximum payload for Sheets requests. */
export const GOOGLE_MAX_REQUEST_BYTES = 2 * 1024 * 1024;

export type GoogleAuthConfig =
  | { serviceAccount: ServiceAccountKey }
  /** A fixed access token (tests), and the identity (email) it stands for. */
  | { accessToken: string; identity: string };

export interface RetryPolicy {
  /** Tries in all, the first included. */
  maxAttempts: number;
  /** First wait after a server fault or a network failure; doubled each retry. */
  baseDelayMs: number;
  /**
   * First wait after a quota refusal (429, Drive's rate-limit 403). Longer: Sheets refills its
   * quota each minute, so the waits together (8 + 16 + 32 + 32 s) must outlast one.
   */
  rateLimitBaseDelayMs: number;
  maxDelayMs: number;
  /** Up to this much random time is added to each wait. */
  jitterMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  maxAttempts: 5,
  baseDelayMs: 1_000,
  rateLimitBaseDelayMs: 8_000,
  maxDelayMs: 32_000,
  jitterMs: 1_000,
};

export interface GoogleClientOptions {
  auth: GoogleAuthConfig;
  /** Root URL for both APIs (tests point it at the fake); Google's own when absent. */
  rootUrl?: string;
  retry?: Partial<RetryPolicy>;
  /** Per-request timeout (Google stops processing a Sheets request after 180 s). */
  timeoutMs?: number;
  maxRequestBytes?: number;
  rateLimiter?: GoogleRateLimiter;
  clock?: Clock;
  random?: () => number;
}

/** A cell as UNFORMATTED_VALUE + SERIAL_NUMBER return it (dates are serial numbers). */
export type CellValue = string | number | boolean;

export interface SheetTab {
  sheetId: number;
  title: string;
  index: number;
  rowCount: number;
  columnCount: number;
  frozenRowCount: number;
  protectedRanges: sheets_v4.Schema$ProtectedRange[];
  /** Metadata on the tab itself (row metadata: searchDeveloperMetadata). */
  developerMetadata: sheets_v4.Schema$DeveloperMetadata[];
}

export interface SpreadsheetInfo {
  spreadsheetId: string;
  title: string;
  locale: string | undefined;
  timeZone: string | undefined;
  tabs: SheetTab[];
  /** Metadata on the spreadsheet itself. */
  developerMetadata: sheets_v4.Schema$DeveloperMetadata[];
}

export interface FileVersion {
  /** Drive's int64 version as a decimal string; compare with BigInt. */
  version: string;
  modifiedTime: string;
}

export interface ValuesRead {
  /** The range Google answered for (open ends filled in). */
  range: string;
  /** Rows from the range's first row; trailing empty cells and rows are left out by Google. */
  values: CellValue[][];
}

export interface ValuesWrite {
  range: string;
  /** `null` leaves a cell as it is; `''` clears it. */
  values: (CellValue | null)[][];
}

export interface MetadataMatch {
  metadata: sheets_v4.Schema$DeveloperMetadata;
  dataFilters: sheets_v4.Schema$DataFilter[];
}

/** One row of a grid read: cells (empty ones ''), notes and Excel-style error values by 1-based column. */
export interface GridRow {
  values: CellValue[];
  notes: Map<number, string>;
  errors: Map<number, string>;
  /** The row's developer metadata visible to this project. */
  metadata: { key: string; value: string }[];
}

export interface GridRead {
  sheetId: number;
  title: string;
  /** 0-based row of `rows[0]`. */
  startRow: number;
  rows: GridRow[];
}

/** Bytes of a JSON body as it will be sent. */
export function requestBytes(body: unknown): number {
  return Buffer.byteLength(JSON.stringify(body));
}

const SPREADSHEET_FIELDS =
  'spreadsheetId,properties(title,locale,timeZone),developerMetadata,' +
  'sheets(properties(sheetId,title,index,gridProperties(rowCount,columnCount,frozenRowCount)),protectedRanges,developerMetadata)';

export class GoogleSheetsClient {
  /** The service account's email: whom to share spreadsheets with. */
  readonly identity: string;
  private readonly sheetsApi: sheets_v4.Sheets;
  private readonly driveApi: drive_v3.Drive;
  private readonly retry: RetryPolicy;
  private readonly maxRequestBytes: number;
  private readonly limiter: GoogleRateLimiter;
  private readonly clock: Clock;
  private readonly random: () => number;

  constructor(options: GoogleClientOptions) {
    let auth: OAuth2Client;
    if ('serviceAccount' in options.auth) {
      const key = options.auth.serviceAccount;
      const jwt = new JWT({
        email: key.clientEmail,
        key: key.privateKey,
        keyId: key.privateKeyId,
        scopes: [...GOOGLE_SCOPES],
      });
      // A self-signed JWT carrying the scopes: Google accepts it directly, no token endpoint.
      jwt.useJWTAccessWithScope = true;
      auth = jwt;
      this.identity = key.clientEmail;
    } else {
      auth = new OAuth2Client();
      auth.setCredentials({ access_token: options.auth.accessToken });
      this.identity = options.auth.identity;
    }
    const common = {
      auth,
      retry: false,
      timeout: options.timeoutMs ?? 60_000,
      ...(options.rootUrl === undefined ? {} : { rootUrl: options.rootUrl }),
    };
    this.sheetsApi = sheets({ version: 'v4', ...common });
    this.driveApi = drive({ version: 'v3', ...common });
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.maxRequestBytes = options.maxRequestBytes ?? GOOGLE_MAX_REQUEST_BYTES;
    this.limiter = options.rateLimiter ?? sharedRateLimiter;
    this.clock = options.clock ?? realClock;
    this.random = options.random ?? Math.random;
  }

  /** Drive `files.get(fields: version, modifiedTime)`: has the spreadsheet changed since? */
  async getVersion(spreadsheetId: string): Promise<FileVersion> {
    const res = await this.call(
      'drive',
      { operation: 'drive.files.get', spreadsheetId, identity: this.identity },
      () =>
        this.driveApi.files.get({
          fileId: spreadsheetId,
          fields: 'version,modifiedTime',
          supportsAllDrives: true,
        }),
    );
    return { version: res.data.version ?? '0', modifiedTime: res.data.modifiedTime ?? '' };
  }

  /** Tabs (with size, protections and tab metadata) and spreadsheet metadata; no cell data. */
  async getSpreadsheet(spreadsheetId: string): Promise<SpreadsheetInfo> {
    const res = await this.call(
      'sheetsRead',
      { operation: 'spreadsheets.get', spreadsheetId, identity: this.identity },
      () =>
        this.sheetsApi.spreadsheets.get({
          spreadsheetId,
          includeGridData: false,
          fields: SPREADSHEET_FIELDS,
        }),
    );
    const d = res.data;
    return {
      spreadsheetId: d.spreadsheetId ?? spreadsheetId,
      title: d.properties?.title ?? '',
      locale: d.properties?.locale ?? undefined,
      timeZone: d.properties?.timeZone ?? undefined,
      developerMetadata: d.developerMetadata ?? [],
      tabs: (d.sheets ?? []).map((s, i) => ({
        sheetId: s.properties?.sheetId ?? 0,
        title: s.properties?.title ?? '',
        index: s.properties?.index ?? i,
        rowCount: s.properties?.gridProperties?.rowCount ?? 0,
        columnCount: s.properties?.gridProperties?.columnCount ?? 0,
        frozenRowCount: s.properties?.gridProperties?.frozenRowCount ?? 0,
        protectedRanges: s.protectedRanges ?? [],
        developerMetadata: s.developerMetadata ?? [],
      })),
    };
  }

  /**
   * One tab range read with spreadsheets.get and a field mask: each cell's effective value (what
   * values.batchGet's UNFORMATTED_VALUE + SERIAL_NUMBER returns), optionally its note, and each
   * row's developer metadata (GridData.rowMetadata[].developerMetadata) — values and row keys in one
   * call, with the tab's numeric id for the write-back's GridRanges.
   */
  async readGrid(spreadsheetId: string, range: string, options: { notes: boolean }): Promise<GridRead> {
    const cell = options.notes ? 'effectiveValue,note' : 'effectiveValue';
    const res = await this.call(
      'sheetsRead',
      { operation: 'spreadsheets.get', spreadsheetId, identity: this.identity, ranges: [range] },
      () =>
        this.sheetsApi.spreadsheets.get({
          spreadsheetId,
          ranges: [range],
          fields:
            'sheets(properties(sheetId,title),data(startRow,startColumn,' +
            `rowMetadata(developerMetadata(metadataKey,metadataValue)),rowData(values(${cell}))))`,
        }),
    );
    const sheet = res.data.sheets?.[0];
    const data = sheet?.data?.[0];
    const startColumn = data?.startColumn ?? 0;
    const rows: GridRow[] = [];
    const metadata = data?.rowMetadata ?? [];
    const rowData = data?.rowData ?? [];
    for (let r = 0; r < Math.max(rowData.length, metadata.length); r++) {
      const values: CellValue[] = [];
      const notes = new Map<number, string>();
      const errors = new Map<number, string>();
      (rowData[r]?.values ?? []).forEach((c, i) => {
        const column = startColumn + i + 1;
        const v = c.effectiveValue;
        values[startColumn + i] =
          v?.stringValue ??
          v?.numberValue ??
          v?.boolValue ??
          (v?.errorValue ? `#${v.errorValue.type ?? 'ERROR'}` : '');
        if (v?.errorValue) errors.set(column, `#${v.errorValue.type ?? 'ERROR'}`);
        if (typeof c.note === 'string' && c.note !== '') notes.set(column, c.note);
      });
      for (let i = 0; i < values.length; i++) values[i] ??= '';
      rows.push({
        values,
        notes,
        errors,
        metadata: (metadata[r]?.developerMetadata ?? []).map((m) => ({
          key: m.metadataKey ?? '',
          value: m.metadataValue ?? '',
        })),
      });
    }
    return {
      sheetId: sheet?.properties?.sheetId ?? 0,
      title: sheet?.properties?.title ?? '',
      startRow: data?.startRow ?? 0,
      rows,
    };
  }

  /** values.batchGet with UNFORMATTED_VALUE, SERIAL_NUMBER dates, by rows: one call for all ranges. */
  async batchGetValues(spreadsheetId: string, ranges: readonly string[]): Promise<ValuesRead[]> {
    const res = await this.call(
      'sheetsRead',
      { operation: 'spreadsheets.values.batchGet', spreadsheetId, identity: this.identity, ranges },
      () =>
        this.sheetsApi.spreadsheets.values.batchGet({
          spreadsheetId,
          ranges: [...ranges],
          valueRenderOption: 'UNFORMATTED_VALUE',
          dateTimeRenderOption: 'SERIAL_NUMBER',
          majorDimension: 'ROWS',
        }),
    );
    return (res.data.valueRanges ?? []).map((vr, i) => ({
      range: vr.range ?? ranges[i] ?? '',
      values: (vr.values ?? []) as CellValue[][],
    }));
  }

  /** values.batchUpdate: RAW by default, so `=…`, `0123` and `2026-03-05` stay text as written. */
  async batchUpdateValues(
    spreadsheetId: string,
    data: readonly ValuesWrite[],
    valueInputOption: 'RAW' | 'USER_ENTERED' = 'RAW',
  ): Promise<{ updatedCells: number }> {
    const requestBody: sheets_v4.Schema$BatchUpdateValuesRequest = {
      valueInputOption,
      data: data.map((d) => ({ range: d.range, majorDimension: 'ROWS', values: d.values as unknown[][] })),
    };
    const ctx = {
      operation: 'spreadsheets.values.batchUpdate',
      spreadsheetId,
      identity: this.identity,
      ranges: data.map((d) => d.range),
    };
    this.checkSize(requestBody, ctx.operation);
    const res = await this.call('sheetsWrite', ctx, () =>
      this.sheetsApi.spreadsheets.values.batchUpdate({ spreadsheetId, requestBody }),
    );
    return { updatedCells: res.data.totalUpdatedCells ?? 0 };
  }

  /**
   * spreadsheets.batchUpdate: all requests applied atomically, or none. Note that a retry after a
   * 5xx or a lost answer may repeat requests Google had applied; give createDeveloperMetadata an
   * explicit `metadataId` so a repeat fails ("already exists") instead of duplicating.
   */
  async batchUpdate(
    spreadsheetId: string,
    requests: readonly sheets_v4.Schema$Request[],
  ): Promise<sheets_v4.Schema$Response[]> {
    const requestBody: sheets_v4.Schema$BatchUpdateSpreadsheetRequest = { requests: [...requests] };
    const ctx = { operation: 'spreadsheets.batchUpdate', spreadsheetId, identity: this.identity };
    this.checkSize(requestBody, ctx.operation);
    const res = await this.call('sheetsWrite', ctx, () =>
      this.sheetsApi.spreadsheets.batchUpdate({ spreadsheetId, requestBody }),
    );
    return res.data.replies ?? [];
  }

  /** developerMetadata.search: metadata matching any of the filters, with where it sits now. */
  async searchDeveloperMetadata(
    spreadsheetId: string,
    dataFilters: readonly sheets_v4.Schema$DataFilter[],
  ): Promise<MetadataMatch[]> {
    const requestBody = { dataFilters: [...dataFilters] };
    const ctx = {
      operation: 'spreadsheets.developerMetadata.search',
      spreadsheetId,
      identity: this.identity,
    };
    this.checkSize(requestBody, ctx.operation);
    const res = await this.call('sheetsRead', ctx, () =>
      this.sheetsApi.spreadsheets.developerMetadata.search({ spreadsheetId, requestBody }),
    );
    return (res.data.matchedDeveloperMetadata ?? []).map((m) => ({
      metadata: m.developerMetadata ?? {},
      dataFilters: m.dataFilters ?? [],
    }));
  }

  private checkSize(body: unknown, operation: string): void {
    const bytes = requestBytes(body);
    if (bytes > this.maxRequestBytes) throw payloadTooLarge(bytes, this.maxRequestBytes, operation);
  }

  /** One logical call: wait for the bucket, try, and retry what is worth retrying. */
  private async call<T>(kind: CallClass, ctx: GoogleCallContext, send: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      await this.limiter.take(this.identity, kind);
      try {
        return await send();
      } catch (e) {
        const { detail, retryAfterMs } = failureOf(e);
        if (!isRetryable(detail) || attempt >= this.retry.maxAttempts)
          throw googleApiError(detail, ctx, attempt, retryAfterMs);
        const base = isRateLimited(detail) ? this.retry.rateLimitBaseDelayMs : this.retry.baseDelayMs;
        const backoff =
          Math.min(this.retry.maxDelayMs, base * 2 ** (attempt - 1)) + this.random() * this.retry.jitterMs;
        await this.clock.sleep(Math.max(backoff, retryAfterMs ?? 0));
      }
    }
  }
}

/** Status, body and Retry-After of a gaxios failure; no response means the network failed. */
function failureOf(e: unknown): { detail: ReturnType<typeof errorDetail>; retryAfterMs: number | undefined } {
  const response = (e as { response?: { status?: unknown; data?: unknown; headers?: unknown } } | null)
    ?.response;
  if (response === undefined || typeof response.status !== 'number') {
    if (!isTransportError(e)) throw e; // a bug of ours, not Google's answer
    return { detail: errorDetail(undefined, undefined), retryAfterMs: undefined };
  }
  const headers = response.headers as
    { get?: (name: string) => string | null } | Record<string, string> | undefined;
  const raw =
    typeof headers?.get === 'function'
      ? headers.get('retry-after')
      : (headers as Record<string, string> | undefined)?.['retry-after'];
  const seconds = raw === null || raw === undefined ? Number.NaN : Number(raw);
  return {
    detail: errorDetail(response.status, response.data),
    retryAfterMs: Number.isFinite(seconds) ? seconds * 1000 : undefined,
  };
}

/** gaxios wraps transport failures (refused, reset, DNS, timeout) in a GaxiosError without response. */
function isTransportError(e: unknown): boolean {
  return (
    e instanceof Error &&
    (e.name === 'GaxiosError' || 'code' in e || e.name === 'AbortError' || e.name === 'TimeoutError')
  );
}
