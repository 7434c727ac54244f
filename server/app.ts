/**
 * The Express application: security headers, CORS, limits, request ids and logs, then small
 * routers mounted under /api. Built from its dependencies so tests and the CLI assemble it alike.
 *
 * The order under /api is the defence: health and the OpenAPI document first (never limited,
 * never authenticated); then authentication (with its per-address failure limit) before any body
 * is read; the per-user rate limit; the declared Content-Length against the limits (413 before a
 * byte of the body is read); the ceiling on concurrent expensive operations; and only then the
 * body parsers.
 */
import { randomUUID } from 'node:crypto';
import express, { type Express, type RequestHandler } from 'express';
import cors from 'cors';
import compression from 'compression';
import helmet from 'helmet';
import { rateLimit, type Logger as RateLimitLogger } from 'express-rate-limit';
import { pinoHttp } from 'pino-http';
import type { Logger } from 'pino';
import { problem } from '../core/problem.js';
import { jsonLimitBytes, type TrustProxy } from './config.js';
import type { Keyring } from './security/keyring.js';
import type { Store } from './store/store.js';
import { RegistrationService } from './services/registrationService.js';
import { LifecycleService } from './services/lifecycleService.js';
import { ChangeService } from './services/changeService.js';
import { CalendarService, type RulesChanger } from './services/calendarService.js';
import { authenticate, clientAddressKey } from './http/auth.js';
import { registrationRoutes } from './http/registrationRoutes.js';
import { changeRoutes } from './http/changeRoutes.js';
import { calendarRoutes } from './http/calendarRoutes.js';
import { retentionRoutes } from './http/retentionRoutes.js';
import { RetentionService } from './services/retentionService.js';
import { adminRoutes } from './http/adminRoutes.js';
import { backupRoutes } from './http/backupRoutes.js';
import { notifyRoutes } from './http/notifyRoutes.js';
import type { Channel, EmailMessage } from './notify/channel.js';
import { poolRoutes } from './http/poolRoutes.js';
import { reviewerRoutes } from './http/reviewerRoutes.js';
import { PoolService } from './services/poolService.js';
import { errorBody, errorHandler } from './http/errors.js';
import { openApiDocument } from './http/openapi.js';
import { importRoutes } from './http/importRoutes.js';
import { batchRows, ExpensiveOperations } from './http/expensiveOperations.js';
import type { FileVault } from './store/fileVault.js';
import { DEFAULT_FILE_SETTINGS, ImportFiles, type FileSettings } from './services/importFiles.js';
import { DEFAULT_ISOLATION, type IsolationLimits } from './importIsolation.js';
import { SheetSyncService } from './sheets/sheetSync.js';
import type { GoogleSheetsClient } from './sheets/googleClient.js';
import { sheetRoutes } from './http/sheetRoutes.js';

/** Hosts that frame the task pane: Office on the web, Outlook/SharePoint-hosted Office, Teams. */
export const OFFICE_FRAME_ANCESTORS = [
  "'self'",
  'https://*.office.com',
  'https://*.office365.com',
  'https://*.officeapps.live.com',
  'https://*.microsoft.com',
  'https://*.sharepoint.com',
  'https://*.live.com',
  'https://*.cloud.microsoft',
];

export interface AppOptions {
  store: Store;
  /** Where import reports and annotated workbooks are kept, sealed (fileVault.ts). */
  files: FileVault;
  keyring: Keyring;
  logger: Logger;
  version: string;
  clock?: () => Date;
  corsOrigins?: string[];
  jsonLimit?: string;
  rateLimitPerMinute?: number;
  uploadLimitBytes?: number;
  /** Failed authentications per client address per minute (BAOBEI_AUTH_FAIL_LIMIT). */
  authFailuresPerMinute?: number;
  /** Express's `trust proxy`: who may tell us the client's address and protocol (BAOBEI_TRUST_PROXY). */
  trustProxy?: TrustProxy;
  /** Imports and large batches running at once (BAOBEI_EXPENSIVE_CONCURRENCY). */
  expensiveConcurrency?: number;
  /** Rows above which a check/submit batch counts as expensive (BAOBEI_EXPENSIVE_BATCH_ROWS). */
  expensiveBatchRows?: number;
  /** Retention and quota of kept import files (BAOBEI_FILE_RETENTION_DAYS, _DRY_RUN_RETENTION_HOURS, _FILE_QUOTA_MB). */
  fileSettings?: FileSettings;
  /** The import worker's heap cap and wall time (BAOBEI_IMPORT_MEMORY_MB, BAOBEI_IMPORT_TIMEOUT_SECONDS). */
  importIsolation?: IsolationLimits;
  /** HTTP imports one user may run at once (BAOBEI_IMPORTS_PER_USER). */
  importsPerUser?: number;
  /** Notification email (for the admin test message) and the public URL links point to (issue 10). */
  notify?: { email?: Channel<EmailMessage> | undefined; publicUrl?: string | undefined };
  /** The Google client for the Sheets sync (issue 11); absent when no key is configured. */
  google?: GoogleSheetsClient | undefined;
  /** Extra routers mounted under /api (imports) and at the root (add-in files). */
  mount?: (app: Express, services: AppServices) => void;
  /** The backup key for POST /api/admin/backup (BAOBEI_BACKUP_KEY or its file); none: backups are refused. */
  backupKey?: () => Promise<Buffer | undefined>;
}

export interface AppServices {
  registrations: RegistrationService;
  lifecycle: LifecycleService;
  changes: ChangeService;
  /** Working-day schedules; `refresh()` before serving so entered years count from the first request. */
  calendars: CalendarService;
  /** Kept import files; its `sweep()` deletes the expired ones. */
  importFiles: ImportFiles;
  /** Google Sheets links and their sync (the scheduler calls `syncAll`). */
  sheets: SheetSyncService;
  clock: () => Date;
  authenticate: RequestHandler;
}

/** Room for the multipart envelope and the form's small fields around the file itself. */
export const MULTIPART_OVERHEAD_BYTES = 64 * 1024;

const CSP_DIRECTIVES = {
  defaultSrc: ["'self'"],
  // office.js is loaded from Microsoft's CDN inside Office; tests serve it locally.
  scriptSrc: ["'self'", 'https://appsforoffice.microsoft.com'],
  styleSrc: ["'self'", "'unsafe-inline'"],
  imgSrc: ["'self'", 'data:'],
  connectSrc: ["'self'"],
  frameAncestors: OFFICE_FRAME_ANCESTORS,
};

export function createApp(options: AppOptions): { app: Express; services: AppServices } {
  const clock = options.clock ?? (() => new Date());
  // An entered schedule first writes the lapses the calendar in force decided (R31, R32): through
  // the lifecycle, made below with this calendar.
  const rules: RulesChanger = { changeRules: (cause, change) => lifecycle.changeRules(cause, change) };
  const calendars = new CalendarService(options.store, clock, rules);
  const deps = {
    store: options.store,
    keyring: options.keyring,
    clock,
    calendar: () => calendars.calendar(),
  };
  const registrations = new RegistrationService(deps);
  const lifecycle: LifecycleService = new LifecycleService(deps, registrations);
  const changes = new ChangeService(deps, registrations);
  const rateLimitLogger = rateLimitLoggerFor(options.logger);
  const auth = authenticate(options.store, {
    failuresPerMinute: options.authFailuresPerMinute ?? 20,
    logger: rateLimitLogger,
  });
  const importFiles = new ImportFiles({
    vault: options.files,
    store: options.store,
    clock,
    settings: options.fileSettings ?? DEFAULT_FILE_SETTINGS,
  });
  const services: AppServices = {
    registrations,
    lifecycle,
    changes,
    calendars,
    importFiles,
    sheets: new SheetSyncService({
      store: options.store,
      registrations,
      changes,
      clock,
      client: options.google,
    }),
    clock,
    authenticate: auth,
  };

  const app = express();
  app.disable('x-powered-by');
  // ETag means one thing here: a record's version (single-record responses; If-Match of a change).
  // Express's own body-hash tags on every other response would look like one to a client.
  app.set('etag', false);
  app.set('trust proxy', options.trustProxy ?? false);
  app.use(
    pinoHttp({
      logger: options.logger,
      genReqId: (req, res) => {
        const id = randomUUID();
        res.setHeader('X-Request-Id', id);
        return id;
      },
      // Paths only: query strings may carry a customer name (`q=`), bodies always do.
      serializers: {
        req: (req: { id: string; method: string; url: string }) => ({
          id: req.id,
          method: req.method,
          path: req.url.split('?')[0],
        }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
      customProps: (req) => ({ user: req.actor?.id }),
      // A client that leaves before its response is complete is not the service's failure.
      customLogLevel: (_req, res, err) =>
        !res.writableFinished ? 'info' : err !== undefined || res.statusCode >= 500 ? 'error' : 'info',
    }),
  );
  // The task pane bundle is ~1 MB and list responses grow with the register; gzip both.
  app.use(compression());
  // upgrade-insecure-requests only when the page was reached over HTTPS: over plain HTTP (a LAN
  // address, no proxy) it would rewrite the pane's own scripts to https:// and break it. req.secure
  // is the TLS socket, or X-Forwarded-Proto from a trusted proxy (BAOBEI_TRUST_PROXY).
  const helmetFor = (https: boolean) =>
    helmet({
      contentSecurityPolicy: {
        directives: { ...CSP_DIRECTIVES, upgradeInsecureRequests: https ? [] : null },
      },
      // X-Frame-Options cannot list several hosts; frame-ancestors above is the control.
      frameguard: false,
    });
  const overHttps = helmetFor(true);
  const overHttp = helmetFor(false);
  app.use((req, res, next) => (req.secure ? overHttps : overHttp)(req, res, next));
  const allowed = new Set(options.corsOrigins ?? []);
  app.use(
    '/api',
    cors({
      origin: (origin, cb) => cb(null, origin === undefined ? false : allowed.has(origin)),
      allowedHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key', 'If-Match'],
      exposedHeaders: ['X-Request-Id', 'Idempotent-Replayed', 'ETag'],
      maxAge: 600,
    }),
  );
  // Cheap and never limited: a monitor polling health must not be locked out.
  app.get('/api/health', (_req, res) => {
    const warnings = [...calendars.warnings(), ...(options.store.healthWarnings?.() ?? [])];
    res.json({
      ok: true,
      version: options.version,
      store: options.store.kind,
      ...(warnings.length > 0 ? { warnings } : {}),
    });
  });
  const openapi = openApiDocument(options.version);
  app.get('/api/openapi.json', (_req, res) => {
    res.json(openapi);
  });

  options.mount?.(app, services);
  app.use('/api', auth);
  app.use(
    '/api',
    rateLimit({
      windowMs: 60_000,
      limit: options.rateLimitPerMinute ?? 600,
      standardHeaders: 'draft-8',
      legacyHeaders: false,
      logger: rateLimitLogger,
      // Behind `auth`: every request here has an actor.
      keyGenerator: (req) => (req.actor ? `u:${req.actor.id}` : clientAddressKey(req)),
      handler: (req, res) => {
        res
          .status(429)
          .json(
            errorBody(
              problem('rate.limited', '请求过于频繁，请稍后再试', 'Too many requests; try again shortly'),
              String(req.id),
            ),
          );
      },
    }),
  );
  const jsonLimit = options.jsonLimit ?? '5mb';
  const uploadLimitBytes = options.uploadLimitBytes ?? 20 * 1024 * 1024;
  app.use('/api', declaredLengthLimit(jsonLimitBytes(jsonLimit), uploadLimitBytes));
  const expensive = new ExpensiveOperations(options.expensiveConcurrency ?? 2);
  const heavyRows = options.expensiveBatchRows ?? 500;
  // Imports are refused before multer reads the upload; batches once their rows are counted.
  app.use(
    '/api',
    expensive.gate((req) => req.method === 'POST' && req.path === '/imports'),
  );
  app.use('/api', express.json({ limit: jsonLimit }));
  app.use(
    '/api',
    expensive.gate(
      (req) =>
        req.method === 'POST' &&
        (req.path === '/check' || req.path === '/registrations') &&
        batchRows(req.body) > heavyRows,
    ),
  );
  app.use('/api', registrationRoutes(registrations, lifecycle));
  app.use('/api', changeRoutes(changes));
  app.use('/api', adminRoutes(options.store, registrations, lifecycle, clock));
  app.use(
    '/api',
    notifyRoutes({
      store: options.store,
      registrations,
      clock,
      email: options.notify?.email,
      publicUrl: options.notify?.publicUrl,
    }),
  );
  app.use('/api', calendarRoutes(calendars));
  app.use('/api', retentionRoutes(new RetentionService(options.store, registrations, clock)));
  app.use('/api', sheetRoutes(services.sheets));
  app.use('/api', poolRoutes(new PoolService(deps, registrations), deps, registrations));
  app.use('/api', reviewerRoutes(deps, registrations));
  app.use(
    '/api',
    importRoutes({
      store: options.store,
      keyring: options.keyring,
      clock,
      registrations,
      calendar: () => calendars.calendar(),
      files: importFiles,
      uploadLimitBytes,
      isolation: options.importIsolation ?? DEFAULT_ISOLATION,
      importsPerUser: options.importsPerUser ?? 1,
    }),
  );
  app.use(
    '/api',
    backupRoutes({
      store: options.store,
      files: options.files,
      keyring: options.keyring,
      backupKey: options.backupKey ?? (async () => undefined),
      clock,
    }),
  );
  app.use('/api', (req, res) => {
    res.status(404).json(
      errorBody(
        problem(
          'route.not_found',
          // Mounted at /api: req.path alone would drop it from the path the caller sent.
          `没有这个接口：${req.method} ${req.baseUrl}${req.path}`,
          `No such endpoint: ${req.method} ${req.baseUrl}${req.path}`,
        ),
        String(req.id),
      ),
    );
  });
  app.use(errorHandler);
  return { app, services };
}

/**
 * 413 from the declared Content-Length, before the body is read: a multipart upload may carry the
 * upload limit plus its envelope, anything else the JSON limit. (A chunked body without a length
 * is still cut off by the parsers at the same limits.)
 */
function declaredLengthLimit(jsonBytes: number, uploadBytes: number): RequestHandler {
  const limitMb = Math.round((uploadBytes / 1024 / 1024) * 10) / 10;
  return (req, res, next) => {
    const header = req.headers['content-length'];
    const declared = header === undefined ? NaN : Number(header);
    if (!Number.isFinite(declared)) {
      next();
      return;
    }
    const multipart = typeof req.is('multipart/form-data') === 'string';
    if (multipart && declared > uploadBytes + MULTIPART_OVERHEAD_BYTES) {
      res
        .status(413)
        .json(
          errorBody(
            problem(
              'upload.too_large',
              `文件超过 ${limitMb} MB 的上限`,
              `The file is larger than the ${limitMb} MB limit`,
              'file',
            ),
            String(req.id),
          ),
        );
      return;
    }
    if (!multipart && declared > jsonBytes) {
      res
        .status(413)
        .json(
          errorBody(
            problem('request.body_too_large', '请求体过大', 'Request body too large'),
            String(req.id),
          ),
        );
      return;
    }
    next();
  };
}

/** express-rate-limit's configuration warnings (e.g. X-Forwarded-For without trust proxy) into the service log. */
function rateLimitLoggerFor(logger: Logger): RateLimitLogger {
  return {
    warn: (err, message) => logger.warn({ err }, message ?? 'rate limiter warning'),
    error: (err, message) =>
      (err as Error | undefined)?.name === 'ValidationError'
        ? logger.warn({ err }, message ?? 'rate limiter configuration')
        : logger.error({ err }, message ?? 'rate limiter error'),
  };
}
