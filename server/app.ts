/**
 * The Express application: security headers, CORS, limits, request ids and logs, then small
 * routers mounted under /api. Built from its dependencies so tests and the CLI assemble it alike.
 */
import { randomUUID } from 'node:crypto';
import express, { type Express, type RequestHandler } from 'express';
import cors from 'cors';
import compression from 'compression';
import helmet from 'helmet';
import { rateLimit, ipKeyGenerator } from 'express-rate-limit';
import { pinoHttp } from 'pino-http';
import type { Logger } from 'pino';
import { problem } from '../core/problem.js';
import type { Keyring } from './security/keyring.js';
import type { Store } from './store/store.js';
import { RegistrationService } from './services/registrationService.js';
import { LifecycleService } from './services/lifecycleService.js';
import { ChangeService } from './services/changeService.js';
import { authenticate, bearerToken } from './http/auth.js';
import { registrationRoutes } from './http/registrationRoutes.js';
import { changeRoutes } from './http/changeRoutes.js';
import { adminRoutes } from './http/adminRoutes.js';
import { errorBody, errorHandler } from './http/errors.js';
import { openApiDocument } from './http/openapi.js';
import { importRoutes } from './http/importRoutes.js';
import { hashToken } from './services/userService.js';
import { CalendarService } from './services/calendarService.js';
import { calendarRoutes } from './http/calendarRoutes.js';

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
  keyring: Keyring;
  logger: Logger;
  version: string;
  clock?: () => Date;
  corsOrigins?: string[];
  jsonLimit?: string;
  rateLimitPerMinute?: number;
  uploadLimitBytes?: number;
  /** Extra routers mounted under /api (imports) and at the root (add-in files). */
  mount?: (app: Express, services: AppServices) => void;
}

export interface AppServices {
  registrations: RegistrationService;
  lifecycle: LifecycleService;
  /** Changes of filed registrations (PATCH, If-Match) and resubmissions (R13). */
  changes: ChangeService;
  /** Working-day schedules; `refresh()` before serving so entered years count from the first request. */
  calendars: CalendarService;
  clock: () => Date;
  authenticate: RequestHandler;
}

export function createApp(options: AppOptions): { app: Express; services: AppServices } {
  const clock = options.clock ?? (() => new Date());
  const calendars = new CalendarService(options.store, clock);
  const deps = {
    store: options.store,
    keyring: options.keyring,
    clock,
    calendar: () => calendars.calendar(),
  };
  const registrations = new RegistrationService(deps);
  const lifecycle = new LifecycleService(deps, registrations);
  const changes = new ChangeService(deps, registrations);
  const auth = authenticate(options.store);
  const services: AppServices = { registrations, lifecycle, changes, calendars, clock, authenticate: auth };

  const app = express();
  app.disable('x-powered-by');
  // ETag means one thing here: a record's version (single-record responses; If-Match of a change).
  // Express's own body-hash tags on every other response would look like one to a client.
  app.set('etag', false);
  app.set('trust proxy', false);
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
    }),
  );
  // The task pane bundle is ~1 MB and list responses grow with the register; gzip both.
  app.use(compression());
  app.use(
    helmet({
      contentSecurityPolicy: {
        directives: {
          defaultSrc: ["'self'"],
          // office.js is loaded from Microsoft's CDN inside Office; tests serve it locally.
          scriptSrc: ["'self'", 'https://appsforoffice.microsoft.com'],
          styleSrc: ["'self'", "'unsafe-inline'"],
          imgSrc: ["'self'", 'data:'],
          connectSrc: ["'self'"],
          frameAncestors: OFFICE_FRAME_ANCESTORS,
        },
      },
      // X-Frame-Options cannot list several hosts; frame-ancestors above is the control.
      frameguard: false,
    }),
  );
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
  app.use(
    '/api',
    rateLimit({
      windowMs: 60_000,
      limit: options.rateLimitPerMinute ?? 600,
      standardHeaders: 'draft-8',
      legacyHeaders: false,
      keyGenerator: (req) => {
        const token = bearerToken(req);
        return token !== undefined ? `t:${hashToken(token)}` : `ip:${ipKeyGenerator(req.ip ?? '')}`;
      },
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
  app.use('/api', express.json({ limit: options.jsonLimit ?? '5mb' }));

  app.get('/api/health', (_req, res) => {
    const warnings = calendars.warnings();
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
  app.use('/api', registrationRoutes(registrations, lifecycle));
  app.use('/api', changeRoutes(changes));
  app.use('/api', adminRoutes(options.store, registrations, clock));
  app.use('/api', calendarRoutes(calendars));
  app.use(
    '/api',
    importRoutes({
      store: options.store,
      keyring: options.keyring,
      clock,
      registrations,
      calendar: () => calendars.calendar(),
      uploadLimitBytes: options.uploadLimitBytes ?? 20 * 1024 * 1024,
    }),
  );
  app.use('/api', (req, res) => {
    res
      .status(404)
      .json(
        errorBody(
          problem(
            'route.not_found',
            `没有这个接口：${req.method} ${req.path}`,
            `No such endpoint: ${req.method} ${req.path}`,
          ),
          String(req.id),
        ),
      );
  });
  app.use(errorHandler);
  return { app, services };
}
