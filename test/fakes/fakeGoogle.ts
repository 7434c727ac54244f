/**
 * A fake Google Sheets v4 + Drive v3 server for tests (Google's servers cannot be reached here):
 * Express on 127.0.0.1, a random port, spreadsheets in memory, and the real APIs' rules — bearer
 * tokens and self-signed JWTs mapped to identities, sharing (403 from Sheets, 404 from Drive for a
 * file the caller may not see), per-minute quotas (429), a request size cap, injectable 5xx, A1
 * ranges, render options, atomic batch updates, developer metadata that follows its row. Point the
 * real googleapis client at it with the per-API `rootUrl` option.
 *
 * Tests also act as the people using the sheet between syncs — insert, delete and sort rows, type
 * into cells, rename the tab, unshare — through methods here (not HTTP), and read the result back
 * (values, fills, notes, metadata) to assert on. Every HTTP call is logged (`calls`).
 */
import express, { type Request, type Response } from 'express';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { columnLetters, formatA1, parseA1 } from './fakeGoogleA1.js';
import { FakeGoogleAuth, SCOPES_FOR, type Identity } from './fakeGoogleAuth.js';
import {
  driveError,
  FakeGoogleError,
  fileNotFound,
  insufficientScopes,
  notShared,
  payloadTooLarge,
  sheetsError,
  spreadsheetNotFound,
  unauthenticated,
  type GoogleApi,
} from './fakeGoogleErrors.js';
import { applyResponseMask, FieldMaskError, parseFieldMask } from './fakeGoogleFields.js';
import { locationJson, metadataJson, searchMetadata, visibleTo } from './fakeGoogleMetadata.js';
import {
  effectiveValue,
  FakeSpreadsheet,
  type CellData,
  type Json,
  type JsonObject,
  type LocatedMetadata,
  type Role,
  type SheetModel,
} from './fakeGoogleModel.js';
import { FakeGoogleQuota, type Fault, type QuotaClass, type QuotaLimits } from './fakeGoogleQuota.js';
import { applyRequests, protectedRangeJson, renameSheet } from './fakeGoogleRequests.js';
import {
  readValues,
  renderCell,
  resolveRange,
  writeInput,
  writeValues,
  type CellInput,
  type DateTimeRenderOption,
  type MajorDimension,
  type ValueInputOption,
  type ValueRenderOption,
} from './fakeGoogleValues.js';

export { SCOPES } from './fakeGoogleAuth.js';
export type { CellInput } from './fakeGoogleValues.js';
export type { Fault, QuotaLimits } from './fakeGoogleQuota.js';
export { GOOGLE_QUOTAS } from './fakeGoogleQuota.js';

/** Sheets' recommendation ("a 2 MB maximum payload"), which the fake enforces as a hard cap. */
export const DEFAULT_MAX_REQUEST_BYTES = 2 * 1024 * 1024;
/**
 * Characters of developer metadata (keys + values) one location may hold. Not confirmed against
 * Google's documentation here; kept configurable.
 */
export const DEFAULT_METADATA_CHARS_PER_LOCATION = 30_000;

export interface FakeGoogleOptions {
  /** The clock for quotas, modifiedTime and JWT expiry (ms since epoch). Default: Date.now. */
  now?: () => number;
  quotas?: Partial<QuotaLimits>;
  maxRequestBytes?: number;
  /**
   * Whether a row's developer metadata moves with the row when a range is sorted (default true).
   * Google documents that metadata "will remain associated at those locations as they move around";
   * whether sorting counts as moving is not documented, so tests can run both ways.
   */
  rowMetadataFollowsSort?: boolean;
  metadataCharsPerLocation?: number;
}

export interface ApiCall {
  api: GoogleApi;
  /** `drive.files.get`, `spreadsheets.get`, `spreadsheets.values.batchGet`, … */
  method: string;
  spreadsheetId: string | undefined;
  /** The caller's email, when authenticated. */
  identity: string | undefined;
  status: number;
  requestBytes: number;
  responseBytes: number;
  /** For spreadsheets.batchUpdate: the kinds of its requests, in order. */
  requestKinds?: string[];
  at: number;
}

export interface SheetInit {
  title: string;
  sheetId?: number;
  /** Rows as a person would type them (USER_ENTERED); null or '' leave a cell empty. */
  values?: CellInput[][];
  rowCount?: number;
  columnCount?: number;
  frozenRowCount?: number;
}

export interface SpreadsheetInit {
  id?: string;
  title?: string;
  /** Owner's email (default `owner@example.com`). */
  owner?: string;
  sheets?: SheetInit[];
  /** Identities the spreadsheet is shared with: email → role. */
  sharedWith?: Record<string, 'writer' | 'reader'>;
}

export interface Color {
  red?: number;
  green?: number;
  blue?: number;
  alpha?: number;
}

export interface CellView {
  /** The value as UNFORMATTED_VALUE renders it; null when empty. */
  value: string | number | boolean | null;
  formula: string | null;
  background: Color | null;
  note: string | null;
  validation: JsonObject | null;
  format: JsonObject | null;
}

export interface MetadataView {
  metadataId: number;
  metadataKey: string;
  metadataValue: string | undefined;
  visibility: 'DOCUMENT' | 'PROJECT';
  location: JsonObject;
}

interface Route {
  api: GoogleApi;
  method: string;
  quota: QuotaClass;
  spreadsheetId: string;
  tail: string;
}

const DRIVE_FILE_FIELDS = new Set([
  'kind',
  'id',
  'name',
  'mimeType',
  'version',
  'modifiedTime',
  'trashed',
  'createdTime',
  'webViewLink',
]);

function routeOf(method: string, rawPath: string): Route | undefined {
  let path: string;
  try {
    path = decodeURIComponent(rawPath);
  } catch {
    return undefined;
  }
  const drive = /^\/drive\/v3\/files\/([^/]+)$/.exec(path);
  if (drive !== null && method === 'GET') {
    return {
      api: 'drive',
      method: 'drive.files.get',
      quota: 'drive',
      spreadsheetId: drive[1] as string,
      tail: '',
    };
  }
  const m = /^\/v4\/spreadsheets\/([^/:]+)(.*)$/.exec(path);
  if (m === null) return undefined;
  const id = m[1] as string;
  const tail = m[2] as string;
  const sheets = (name: string, quota: QuotaClass): Route => ({
    api: 'sheets',
    method: name,
    quota,
    spreadsheetId: id,
    tail,
  });
  if (method === 'GET' && tail === '') return sheets('spreadsheets.get', 'sheetsRead');
  if (method === 'POST' && tail === ':batchUpdate') return sheets('spreadsheets.batchUpdate', 'sheetsWrite');
  if (method === 'GET' && tail === '/values:batchGet')
    return sheets('spreadsheets.values.batchGet', 'sheetsRead');
  if (method === 'POST' && tail === '/values:batchUpdate')
    return sheets('spreadsheets.values.batchUpdate', 'sheetsWrite');
  if (method === 'GET' && tail.startsWith('/values/')) return sheets('spreadsheets.values.get', 'sheetsRead');
  if (method === 'POST' && tail === '/developerMetadata:search')
    return sheets('spreadsheets.developerMetadata.search', 'sheetsRead');
  if (method === 'GET' && tail.startsWith('/developerMetadata/'))
    return sheets('spreadsheets.developerMetadata.get', 'sheetsRead');
  return undefined;
}

function stringParam(req: Request, name: string): string | undefined {
  const v = (req.query as Record<string, unknown>)[name];
  if (Array.isArray(v)) return typeof v[0] === 'string' ? v[0] : undefined;
  return typeof v === 'string' ? v : undefined;
}

function listParam(req: Request, name: string): string[] {
  const v = (req.query as Record<string, unknown>)[name];
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).filter((x): x is string => typeof x === 'string');
}

function enumParam<T extends string>(
  req: Request,
  name: string,
  allowed: readonly T[],
  fallback: T,
  protoName: string,
): T {
  const v = stringParam(req, name);
  if (v === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(v)) {
    throw sheetsError(
      400,
      `Invalid value at '${name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}' (type.googleapis.com/google.apps.sheets.v4.${protoName}), "${v}"`,
    );
  }
  return v as T;
}

function asObject(v: unknown, what: string): JsonObject {
  if (v === null || typeof v !== 'object' || Array.isArray(v))
    throw sheetsError(400, `Invalid JSON payload received. ${what} must be an object.`);
  return v as JsonObject;
}

function checkBodyKeys(body: JsonObject, allowed: string[]): void {
  for (const k of Object.keys(body)) {
    if (!allowed.includes(k))
      throw sheetsError(400, `Invalid JSON payload received. Unknown name "${k}": Cannot find field.`);
  }
}

export class FakeGoogle {
  readonly auth: FakeGoogleAuth;
  readonly quota: FakeGoogleQuota;
  /** Every HTTP call, in order. */
  readonly calls: ApiCall[] = [];
  private readonly books = new Map<string, FakeSpreadsheet>();
  private readonly now: () => number;
  private readonly maxRequestBytes: number;
  private readonly rowMetadataFollowsSort: boolean;
  private readonly metadataCharsPerLocation: number;
  private server: Server | undefined;
  private baseUrl = '';
  private readonly beforeHooks: { method: string; remaining: number; edit: () => void }[] = [];

  constructor(options: FakeGoogleOptions = {}) {
    this.now = options.now ?? Date.now;
    this.auth = new FakeGoogleAuth(() => Math.floor(this.now() / 1000));
    this.quota = new FakeGoogleQuota(options.quotas ?? {}, this.now);
    this.maxRequestBytes = options.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES;
    this.rowMetadataFollowsSort = options.rowMetadataFollowsSort ?? true;
    this.metadataCharsPerLocation = options.metadataCharsPerLocation ?? DEFAULT_METADATA_CHARS_PER_LOCATION;
  }

  /** The root URL to give googleapis as `rootUrl` (serves both Sheets and Drive paths). */
  get url(): string {
    if (this.baseUrl === '') throw new Error('FakeGoogle not started');
    return this.baseUrl;
  }

  async start(): Promise<this> {
    const app = express();
    app.disable('x-powered-by');
    app.use(express.raw({ type: () => true, limit: '256mb' }));
    app.use((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => {
      this.server = app.listen(0, '127.0.0.1', () => resolve());
    });
    const address = (this.server as Server).address() as AddressInfo;
    this.baseUrl = `http://127.0.0.1:${address.port}/`;
    return this;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
  }

  // ----- identities, faults, log ------------------------------------------------------------------

  addServiceAccount(
    email: string,
    opts: { project?: string; publicKeyPem?: string; keyId?: string } = {},
  ): void {
    this.auth.addAccount(email, opts);
  }

  /** An opaque bearer token for `email` (what an OAuth2 client with a fixed access token sends). */
  issueToken(email: string, opts: { scopes?: readonly string[]; project?: string } = {}): string {
    return this.auth.issueToken(email, opts);
  }

  /** Makes the next matching call(s) fail with a 5xx (or any status). */
  injectFault(fault: Fault): void {
    this.quota.inject(fault);
  }

  setQuotas(limits: Partial<QuotaLimits>): void {
    this.quota.limits = { ...this.quota.limits, ...limits };
  }

  /**
   * Runs `edit` (a person's edit: sortRows, insertRows, editCells…) just before the `nth` next call of
   * `method` (`spreadsheets.get`, `spreadsheets.values.batchUpdate`, …) is answered, once: what a
   * person does between two calls of one sync.
   */
  beforeCall(method: string, edit: () => void, nth = 1): void {
    this.beforeHooks.push({ method, remaining: nth, edit });
  }

  clearCalls(): void {
    this.calls.length = 0;
  }

  /** Calls per method, e.g. `{ 'drive.files.get': 1, 'spreadsheets.values.batchGet': 1 }`. */
  callCounts(calls: readonly ApiCall[] = this.calls): Record<string, number> {
    const out: Record<string, number> = {};
    for (const c of calls) out[c.method] = (out[c.method] ?? 0) + 1;
    return out;
  }

  // ----- spreadsheets (test side) -----------------------------------------------------------------

  createSpreadsheet(init: SpreadsheetInit = {}): string {
    const id = init.id ?? `1${randomBytes(32).toString('base64url').slice(0, 43)}`;
    if (this.books.has(id)) throw new Error(`spreadsheet ${id} exists`);
    const owner = init.owner ?? 'owner@example.com';
    const sheetInits = init.sheets ?? [{ title: 'Sheet1' }];
    const sheets: SheetModel[] = sheetInits.map((s, i) => {
      const height = s.values?.length ?? 0;
      const width = s.values?.reduce((w, r) => Math.max(w, r.length), 0) ?? 0;
      const rowCount = s.rowCount ?? Math.max(1000, height);
      const columnCount = s.columnCount ?? Math.max(26, width);
      return {
        sheetId: s.sheetId ?? (i === 0 ? 0 : 100_000 + i * 7919),
        title: s.title,
        rowCount,
        columnCount,
        frozenRowCount: s.frozenRowCount ?? 0,
        rows: new Array(rowCount).fill(undefined),
        columns: new Array(columnCount).fill(undefined),
        protectedRanges: [],
        metadata: [],
      };
    });
    const book = new FakeSpreadsheet({
      spreadsheetId: id,
      title: init.title ?? '报备登记表',
      sheets,
      owner,
      now: this.now(),
    });
    sheetInits.forEach((s, i) => {
      const sheet = sheets[i] as SheetModel;
      s.values?.forEach((row, r) =>
        row.forEach((v, c) => {
          if (v !== null && v !== '') writeInput(book, sheet, r, c, v, 'USER_ENTERED');
        }),
      );
    });
    for (const [email, role] of Object.entries(init.sharedWith ?? {})) book.permissions.set(email, role);
    this.books.set(id, book);
    return id;
  }

  private book(id: string): FakeSpreadsheet {
    const book = this.books.get(id);
    if (book === undefined) throw new Error(`no spreadsheet ${id}`);
    return book;
  }

  private sheet(book: FakeSpreadsheet, title: string): SheetModel {
    const sheet = book.sheetByTitle(title);
    if (sheet === undefined) throw new Error(`no sheet ${title}`);
    return sheet;
  }

  /** Runs a change on a draft and commits it, bumping Drive's version. */
  private change<T>(id: string, f: (draft: FakeSpreadsheet) => T): T {
    const draft = this.book(id).draft();
    const out = f(draft);
    draft.version += 1;
    draft.modifiedTime = this.now();
    this.books.set(id, draft);
    return out;
  }

  share(id: string, email: string, role: 'writer' | 'reader' = 'writer'): void {
    this.change(id, (d) => d.permissions.set(email, role));
  }

  unshare(id: string, email: string): void {
    this.change(id, (d) => d.permissions.delete(email));
  }

  deleteSpreadsheet(id: string): void {
    this.books.delete(id);
  }

  /** A person types values from `anchor` (e.g. 'A5'), as USER_ENTERED unless `raw`. */
  editCells(
    id: string,
    sheetTitle: string,
    anchor: string,
    values: CellInput[][],
    opts: { raw?: boolean } = {},
  ): void {
    this.change(id, (d) => {
      const sheet = this.sheet(d, sheetTitle);
      const a = parseA1(anchor, () => false);
      if (a?.startRow === undefined || a.startColumn === undefined) throw new Error(`bad anchor ${anchor}`);
      const option: ValueInputOption = opts.raw === true ? 'RAW' : 'USER_ENTERED';
      values.forEach((row, r) =>
        row.forEach((v, c) => {
          if (v === null) return;
          const rr = (a.startRow as number) + r;
          const cc = (a.startColumn as number) + c;
          if (rr >= sheet.rowCount || cc >= sheet.columnCount)
            throw new Error(`${anchor}+(${r},${c}) is outside the sheet`);
          writeInput(d, sheet, rr, cc, v, option);
        }),
      );
    });
  }

  /** A person writes a note on a cell (`'C5'`), or clears it with ''. */
  writeNote(id: string, sheetTitle: string, address: string, note: string): void {
    this.change(id, (d) => {
      const sheet = this.sheet(d, sheetTitle);
      const a = parseA1(address, () => false);
      if (a?.startRow === undefined || a.startColumn === undefined) throw new Error(`bad address ${address}`);
      const cell = d.cell(sheet, a.startRow, a.startColumn);
      d.setCell(sheet, a.startRow, a.startColumn, { ...cell, note });
    });
  }

  /**
   * A person inserts `count` rows above row `before` (1-based). The new rows take the formats of
   * the row above, as Sheets' "Insert row" does; metadata on rows below moves down with them.
   */
  insertRows(id: string, sheetTitle: string, before: number, count = 1): void {
    this.change(id, (d) => {
      const sheet = this.sheet(d, sheetTitle);
      d.insertDimension(sheet, 'ROWS', before - 1, count, before > 1 ? 'before' : undefined);
    });
  }

  /** A person deletes `count` rows from row `from` (1-based): their cells and metadata go. */
  deleteRows(id: string, sheetTitle: string, from: number, count = 1): void {
    this.change(id, (d) => {
      const sheet = this.sheet(d, sheetTitle);
      d.deleteDimension(sheet, 'ROWS', from - 1, from - 1 + count);
    });
  }

  /** A person sorts rows `fromRow`..`toRow` (1-based, inclusive; default to the last) by a column. */
  sortRows(
    id: string,
    sheetTitle: string,
    opts: { fromRow: number; toRow?: number; column: string | number; descending?: boolean },
  ): void {
    this.change(id, (d) => {
      const sheet = this.sheet(d, sheetTitle);
      const column =
        typeof opts.column === 'number'
          ? opts.column
          : (parseA1(`${opts.column}1`, () => false)?.startColumn ?? 0);
      d.sortRows(
        sheet,
        {
          startRow: opts.fromRow - 1,
          endRow: opts.toRow ?? sheet.rowCount,
          startColumn: 0,
          endColumn: sheet.columnCount,
        },
        [{ column, ascending: opts.descending !== true }],
        this.rowMetadataFollowsSort,
      );
    });
  }

  renameSheet(id: string, from: string, to: string): void {
    this.change(id, (d) =>
      renameSheet(d, this.sheet(d, from), to, (m) => {
        throw new Error(m);
      }),
    );
  }

  deleteSheet(id: string, title: string): void {
    this.change(id, (d) => {
      d.removeSheet(this.sheet(d, title));
    });
  }

  // ----- inspection (test side) -------------------------------------------------------------------

  version(id: string): number {
    return this.book(id).version;
  }

  sheetProperties(
    id: string,
    title: string,
  ): { sheetId: number; title: string; rowCount: number; columnCount: number; frozenRowCount: number } {
    const s = this.sheet(this.book(id), title);
    return {
      sheetId: s.sheetId,
      title: s.title,
      rowCount: s.rowCount,
      columnCount: s.columnCount,
      frozenRowCount: s.frozenRowCount,
    };
  }

  sheetTitles(id: string): string[] {
    return this.book(id).sheets.map((s) => s.title);
  }

  /** The sheet's values (UNFORMATTED_VALUE), trailing empty cells and rows left out, empty as ''. */
  values(id: string, sheetTitle: string): (string | number | boolean)[][] {
    const book = this.book(id);
    const vr = readValues(
      book,
      formatA1(this.sheet(book, sheetTitle).title, {
        startRow: 0,
        startColumn: 0,
        endRow: this.sheet(book, sheetTitle).rowCount,
        endColumn: this.sheet(book, sheetTitle).columnCount,
      }),
      {
        render: 'UNFORMATTED_VALUE',
        dates: 'SERIAL_NUMBER',
        major: 'ROWS',
      },
    );
    return (vr.values ?? []) as (string | number | boolean)[][];
  }

  /** One cell by A1 address (`'C5'`). */
  cell(id: string, sheetTitle: string, address: string): CellView {
    const book = this.book(id);
    const sheet = this.sheet(book, sheetTitle);
    const a = parseA1(address, () => false);
    if (a?.startRow === undefined || a.startColumn === undefined) throw new Error(`bad address ${address}`);
    const cell: CellData | undefined = book.cell(sheet, a.startRow, a.startColumn);
    const rendered = renderCell(cell, 'UNFORMATTED_VALUE', 'SERIAL_NUMBER');
    const uev = cell?.userEnteredValue;
    const fmt = cell?.userEnteredFormat;
    const bg =
      fmt?.['backgroundColor'] ?? (fmt?.['backgroundColorStyle'] as JsonObject | undefined)?.['rgbColor'];
    return {
      value: rendered === undefined ? null : (rendered as string | number | boolean),
      formula: uev !== undefined && 'formulaValue' in uev ? uev.formulaValue : null,
      background: bg === undefined ? null : (bg as Color),
      note: cell?.note ?? null,
      validation: cell?.dataValidation ?? null,
      format: fmt ?? null,
    };
  }

  /** Developer metadata on a row (1-based), whoever's project made it. */
  rowMetadata(id: string, sheetTitle: string, row: number): MetadataView[] {
    const book = this.book(id);
    const sheet = this.sheet(book, sheetTitle);
    return (sheet.rows[row - 1]?.metadata ?? []).map((meta) =>
      this.metadataView({ meta, holder: { type: 'ROW', sheet, index: row - 1 } }),
    );
  }

  /** Every developer metadata item in the spreadsheet with its current location. */
  allMetadata(id: string): MetadataView[] {
    return this.book(id)
      .allMetadata()
      .map((m) => this.metadataView(m));
  }

  private metadataView(m: LocatedMetadata): MetadataView {
    return {
      metadataId: m.meta.metadataId,
      metadataKey: m.meta.metadataKey,
      metadataValue: m.meta.metadataValue,
      visibility: m.meta.visibility,
      location: locationJson(m.holder),
    };
  }

  protectedRanges(id: string, sheetTitle: string): JsonObject[] {
    const book = this.book(id);
    return this.sheet(book, sheetTitle).protectedRanges.map((p) =>
      protectedRangeJson(p, 'owner@example.com', book),
    );
  }

  // ----- HTTP -------------------------------------------------------------------------------------

  private handle(req: Request, res: Response): void {
    const started = this.now();
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const route = routeOf(req.method, req.path);
    const call: ApiCall = {
      api: route?.api ?? 'sheets',
      method: route?.method ?? `${req.method} ${req.path}`,
      spreadsheetId: route?.spreadsheetId,
      identity: undefined,
      status: 0,
      requestBytes: body.length,
      responseBytes: 0,
      at: started,
    };
    const send = (status: number, json: Json): void => {
      const text = JSON.stringify(json);
      call.status = status;
      call.responseBytes = Buffer.byteLength(text);
      this.calls.push(call);
      res.status(status).type('application/json; charset=UTF-8').send(text);
    };
    try {
      if (route === undefined) throw sheetsError(404, `Method not found: ${req.method} ${req.path}`);
      const hook = this.beforeHooks.find((h) => h.method === route.method);
      if (hook !== undefined && --hook.remaining === 0) {
        this.beforeHooks.splice(this.beforeHooks.indexOf(hook), 1);
        hook.edit();
      }
      if (body.length > this.maxRequestBytes) throw payloadTooLarge(route.api, this.maxRequestBytes);
      const auth = this.auth.authenticate(req.get('authorization'));
      if ('error' in auth) throw unauthenticated(route.api, auth.error === 'missing');
      const who = auth.identity;
      call.identity = who.email;
      const needed =
        route.quota === 'drive'
          ? SCOPES_FOR.driveGet
          : route.quota === 'sheetsRead'
            ? SCOPES_FOR.sheetsRead
            : SCOPES_FOR.sheetsWrite;
      if (!who.scopes.some((s) => (needed as readonly string[]).includes(s)))
        throw insufficientScopes(route.api, route.method);
      const refused = this.quota.take(route.quota, who);
      if (refused !== undefined) throw refused;
      const fault = this.quota.fault(route.api, route.method);
      if (fault !== undefined) throw fault;
      let json: unknown;
      if (body.length > 0) {
        try {
          json = JSON.parse(body.toString('utf8'));
        } catch {
          throw sheetsError(400, 'Invalid JSON payload received. Unexpected token.');
        }
      }
      const result =
        route.api === 'drive'
          ? this.driveFilesGet(route, req, who)
          : this.sheetsCall(route, req, who, json, call);
      send(200, this.masked(req, route, result));
    } catch (e) {
      if (e instanceof FakeGoogleError) {
        if (e.retryAfterSeconds !== undefined) res.set('Retry-After', String(e.retryAfterSeconds));
        send(e.httpStatus, e.body as unknown as Json);
      } else
        send(500, {
          error: {
            code: 500,
            message: `fake Google server bug: ${e instanceof Error ? e.message : String(e)}`,
            status: 'INTERNAL',
          },
        });
    }
  }

  private masked(req: Request, route: Route, result: JsonObject): Json {
    const fields = stringParam(req, 'fields');
    if (fields === undefined || route.api === 'drive') return result;
    try {
      return applyResponseMask(result, parseFieldMask(fields));
    } catch (e) {
      if (e instanceof FieldMaskError) throw sheetsError(400, e.message);
      throw e;
    }
  }

  private driveFilesGet(route: Route, req: Request, who: Identity): JsonObject {
    const book = this.books.get(route.spreadsheetId);
    if (book === undefined || !book.permissions.has(who.email)) throw fileNotFound(route.spreadsheetId);
    const full: JsonObject = {
      kind: 'drive#file',
      id: book.spreadsheetId,
      name: book.title,
      mimeType: 'application/vnd.google-apps.spreadsheet',
      // int64 fields travel as JSON strings.
      version: String(book.version),
      modifiedTime: new Date(book.modifiedTime).toISOString(),
      createdTime: new Date(book.modifiedTime).toISOString(),
      trashed: false,
      webViewLink: `https://docs.google.com/spreadsheets/d/${book.spreadsheetId}/edit?usp=drivesdk`,
    };
    const fields = stringParam(req, 'fields');
    if (fields === undefined)
      return {
        kind: full['kind'] as Json,
        id: full['id'] as Json,
        name: full['name'] as Json,
        mimeType: full['mimeType'] as Json,
      };
    let tree;
    try {
      tree = parseFieldMask(fields);
    } catch {
      throw driveError(400, 'invalidParameter', `Invalid field selection ${fields}`, { location: 'fields' });
    }
    for (const k of tree.keys()) {
      if (k !== '*' && !DRIVE_FILE_FIELDS.has(k))
        throw driveError(400, 'invalidParameter', `Invalid field selection ${k}`, { location: 'fields' });
    }
    return applyResponseMask(full, tree) as JsonObject;
  }

  private sheetsCall(route: Route, req: Request, who: Identity, body: unknown, call: ApiCall): JsonObject {
    const book = this.books.get(route.spreadsheetId);
    if (book === undefined) throw spreadsheetNotFound();
    const role: Role | undefined = book.permissions.get(who.email);
    if (role === undefined) throw notShared();
    const write = route.quota === 'sheetsWrite';
    if (write && role === 'reader') throw notShared();
    switch (route.method) {
      case 'spreadsheets.get':
        return this.getSpreadsheet(book, req, who);
      case 'spreadsheets.values.get': {
        const range = route.tail.slice('/values/'.length);
        return this.valuesBatchGetOne(book, req, range) as unknown as JsonObject;
      }
      case 'spreadsheets.values.batchGet': {
        const ranges = listParam(req, 'ranges');
        const out: JsonObject = { spreadsheetId: book.spreadsheetId };
        if (ranges.length > 0)
          out['valueRanges'] = ranges.map((r) => this.valuesBatchGetOne(book, req, r) as unknown as Json);
        return out;
      }
      case 'spreadsheets.values.batchUpdate':
        return this.commit(route.spreadsheetId, book, (draft) =>
          this.valuesBatchUpdate(draft, asObject(body ?? {}, 'body'), who),
        );
      case 'spreadsheets.batchUpdate': {
        const b = asObject(body ?? {}, 'body');
        checkBodyKeys(b, [
          'requests',
          'includeSpreadsheetInResponse',
          'responseRanges',
          'responseIncludeGridData',
        ]);
        const requests = b['requests'] ?? [];
        if (!Array.isArray(requests))
          throw sheetsError(400, 'Invalid JSON payload received. requests must be a list.');
        call.requestKinds = requests.map((r) =>
          r !== null && typeof r === 'object' && !Array.isArray(r) ? Object.keys(r).join('+') : '?',
        );
        if (b['includeSpreadsheetInResponse'] === true)
          throw notImplementedFlag('includeSpreadsheetInResponse');
        return this.commit(route.spreadsheetId, book, (draft) => ({
          spreadsheetId: draft.spreadsheetId,
          replies: applyRequests(requests, {
            book: draft,
            who: who.email,
            project: who.project,
            rowMetadataFollowsSort: this.rowMetadataFollowsSort,
            metadataCharsPerLocation: this.metadataCharsPerLocation,
          }),
        }));
      }
      case 'spreadsheets.developerMetadata.search': {
        const b = asObject(body ?? {}, 'body');
        checkBodyKeys(b, ['dataFilters']);
        const filters = b['dataFilters'] ?? [];
        if (!Array.isArray(filters))
          throw sheetsError(400, 'Invalid JSON payload received. dataFilters must be a list.');
        return searchMetadata(book, filters, who.project);
      }
      case 'spreadsheets.developerMetadata.get': {
        const id = Number(route.tail.slice('/developerMetadata/'.length));
        const found = book
          .allMetadata()
          .find((m) => m.meta.metadataId === id && visibleTo(m.meta, who.project));
        if (found === undefined) throw sheetsError(404, `No developer metadata with ID: ${id}`);
        return metadataJson(found);
      }
      default:
        throw sheetsError(404, `Method not found: ${route.method}`);
    }
  }

  /** Applies a write to a draft; commits it (version + 1) only if all of it succeeded. */
  private commit(id: string, book: FakeSpreadsheet, f: (draft: FakeSpreadsheet) => JsonObject): JsonObject {
    const draft = book.draft();
    const out = f(draft);
    draft.version += 1;
    draft.modifiedTime = this.now();
    this.books.set(id, draft);
    return out;
  }

  private readOptions(req: Request): {
    render: ValueRenderOption;
    dates: DateTimeRenderOption;
    major: MajorDimension;
  } {
    return {
      render: enumParam(
        req,
        'valueRenderOption',
        ['FORMATTED_VALUE', 'UNFORMATTED_VALUE', 'FORMULA'] as const,
        'FORMATTED_VALUE',
        'ValueRenderOption',
      ),
      dates: enumParam(
        req,
        'dateTimeRenderOption',
        ['SERIAL_NUMBER', 'FORMATTED_STRING'] as const,
        'SERIAL_NUMBER',
        'DateTimeRenderOption',
      ),
      major: enumParam(req, 'majorDimension', ['ROWS', 'COLUMNS'] as const, 'ROWS', 'Dimension'),
    };
  }

  private valuesBatchGetOne(book: FakeSpreadsheet, req: Request, range: string) {
    return readValues(book, range, this.readOptions(req));
  }

  private valuesBatchUpdate(draft: FakeSpreadsheet, body: JsonObject, who: Identity): JsonObject {
    checkBodyKeys(body, [
      'valueInputOption',
      'data',
      'includeValuesInResponse',
      'responseValueRenderOption',
      'responseDateTimeRenderOption',
    ]);
    const option = body['valueInputOption'];
    if (option === undefined) throw sheetsError(400, "'valueInputOption' is required but not specified");
    if (option !== 'RAW' && option !== 'USER_ENTERED') {
      throw sheetsError(
        400,
        `Invalid value at 'value_input_option' (type.googleapis.com/google.apps.sheets.v4.ValueInputOption), "${String(option)}"`,
      );
    }
    const data = body['data'] ?? [];
    if (!Array.isArray(data)) throw sheetsError(400, 'Invalid JSON payload received. data must be a list.');
    const responses = data.map((raw, i) => {
      const vr = asObject(raw, `data[${i}]`);
      const range = vr['range'];
      if (typeof range !== 'string') throw sheetsError(400, `data[${i}].range is required`);
      const values = vr['values'] ?? [];
      if (!Array.isArray(values) || values.some((r) => !Array.isArray(r)))
        throw sheetsError(400, `Invalid value at 'data[${i}].values': a list of lists`);
      const major = vr['majorDimension'];
      if (major !== undefined && major !== 'ROWS' && major !== 'COLUMNS')
        throw sheetsError(400, `Invalid value at 'data[${i}].major_dimension', "${String(major)}"`);
      return writeValues(
        draft,
        { range, values: values as CellInput[][], majorDimension: major ?? 'ROWS' },
        option,
        who.email,
      );
    });
    const sum = (k: 'updatedRows' | 'updatedColumns' | 'updatedCells'): number =>
      responses.reduce((n, r) => n + r[k], 0);
    const out: JsonObject = { spreadsheetId: draft.spreadsheetId };
    if (responses.length > 0) {
      out['totalUpdatedRows'] = sum('updatedRows');
      out['totalUpdatedColumns'] = sum('updatedColumns');
      out['totalUpdatedCells'] = sum('updatedCells');
      out['totalUpdatedSheets'] = new Set(responses.map((r) => r.updatedRange.split('!')[0])).size;
      out['responses'] = responses as unknown as Json[];
    }
    return out;
  }

  private getSpreadsheet(book: FakeSpreadsheet, req: Request, who: Identity): JsonObject {
    const fields = stringParam(req, 'fields');
    const ranges = listParam(req, 'ranges');
    const wantsGrid =
      fields !== undefined ? /\bdata\b/.test(fields) : stringParam(req, 'includeGridData') === 'true';
    const resolved = ranges.map((r) => resolveRange(book, r));
    const sheets = book.sheets
      .filter((s) => resolved.length === 0 || resolved.some((r) => r.sheet === s))
      .map((sheet) => {
        const index = book.sheets.indexOf(sheet);
        const grid: JsonObject = { rowCount: sheet.rowCount, columnCount: sheet.columnCount };
        if (sheet.frozenRowCount > 0) grid['frozenRowCount'] = sheet.frozenRowCount;
        const out: JsonObject = {
          properties: {
            sheetId: sheet.sheetId,
            title: sheet.title,
            index,
            sheetType: 'GRID',
            gridProperties: grid,
          },
        };
        if (sheet.protectedRanges.length > 0)
          out['protectedRanges'] = sheet.protectedRanges.map((p) => protectedRangeJson(p, who.email, book));
        const meta = sheet.metadata.filter((m) => visibleTo(m, who.project));
        if (meta.length > 0)
          out['developerMetadata'] = meta.map((m) =>
            metadataJson({ meta: m, holder: { type: 'SHEET', sheet } }),
          );
        if (wantsGrid) {
          const boxes =
            resolved.length === 0
              ? [{ startRow: 0, startColumn: 0, endRow: sheet.rowCount, endColumn: sheet.columnCount }]
              : resolved
                  .filter((r) => r.sheet === sheet)
                  .map((r) => ({
                    startRow: r.startRow,
                    startColumn: r.startColumn,
                    endRow: r.endRow ?? sheet.rowCount,
                    endColumn: r.endColumn ?? sheet.columnCount,
                  }));
          out['data'] = boxes.map((box) => this.gridData(book, sheet, box, who.project));
        }
        return out;
      });
    const out: JsonObject = {
      spreadsheetId: book.spreadsheetId,
      properties: {
        title: book.title,
        locale: book.locale,
        autoRecalc: 'ON_CHANGE',
        timeZone: book.timeZone,
      },
      sheets,
      spreadsheetUrl: `https://docs.google.com/spreadsheets/d/${book.spreadsheetId}/edit`,
    };
    const meta = book.metadata.filter((m) => visibleTo(m, who.project));
    if (meta.length > 0)
      out['developerMetadata'] = meta.map((m) => metadataJson({ meta: m, holder: { type: 'SPREADSHEET' } }));
    return out;
  }

  private gridData(
    book: FakeSpreadsheet,
    sheet: SheetModel,
    box: { startRow: number; startColumn: number; endRow: number; endColumn: number },
    project: string,
  ): JsonObject {
    const rowData: Json[] = [];
    const rowMetadata: Json[] = [];
    for (let r = box.startRow; r < box.endRow; r++) {
      const values: Json[] = [];
      for (let c = box.startColumn; c < box.endColumn; c++) {
        const cell = book.cell(sheet, r, c);
        const json: JsonObject = {};
        if (cell?.userEnteredValue !== undefined) {
          json['userEnteredValue'] = cell.userEnteredValue as unknown as Json;
          const eff = effectiveValue(cell);
          json['effectiveValue'] = (
            typeof eff === 'object'
              ? { errorValue: { type: 'ERROR', message: 'not evaluated by the fake' } }
              : typeof eff === 'number'
                ? { numberValue: eff }
                : typeof eff === 'string'
                  ? { stringValue: eff }
                  : { boolValue: eff as boolean }
          ) as Json;
          json['formattedValue'] = renderCell(cell, 'FORMATTED_VALUE', 'FORMATTED_STRING') as Json;
        }
        if (cell?.userEnteredFormat !== undefined) json['userEnteredFormat'] = cell.userEnteredFormat;
        if (cell?.note !== undefined) json['note'] = cell.note;
        if (cell?.dataValidation !== undefined) json['dataValidation'] = cell.dataValidation;
        values.push(json);
      }
      while (values.length > 0 && Object.keys(values[values.length - 1] as JsonObject).length === 0)
        values.pop();
      rowData.push(values.length > 0 ? { values } : {});
      const meta = (sheet.rows[r]?.metadata ?? []).filter((m) => visibleTo(m, project));
      rowMetadata.push(
        meta.length > 0
          ? {
              pixelSize: 21,
              developerMetadata: meta.map((m) =>
                metadataJson({ meta: m, holder: { type: 'ROW', sheet, index: r } }),
              ),
            }
          : { pixelSize: 21 },
      );
    }
    const columnMetadata: Json[] = [];
    for (let c = box.startColumn; c < box.endColumn; c++) columnMetadata.push({ pixelSize: 100 });
    return { startRow: box.startRow, startColumn: box.startColumn, rowData, rowMetadata, columnMetadata };
  }
}

function notImplementedFlag(flag: string): FakeGoogleError {
  return sheetsError(501, `The fake Google server does not implement ${flag}.`);
}

/** Column letters for a 0-based index (re-exported for tests). */
export { columnLetters };
