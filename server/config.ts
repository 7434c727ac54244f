/**
 * Configuration from the environment, parsed strictly at start-up: a bad value stops the service
 * with a message naming the variable (never a default silently taken instead).
 */
import { isIP } from 'node:net';
import path from 'node:path';
import { z } from 'zod';
import { importLimitsFromEnv } from './import/importLimits.js';
import { SMTP_ENV_SHAPE, smtpSettingsFromEnv, type SmtpSettings } from './notify/channelSettings.js';
import { pgSchemaNameProblem } from './store/pgSchemaName.js';
import { isPostgresUrl } from './store/postgresReach.js';

const csv = z.string().transform((s) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== ''),
);

/** proxy-addr's named ranges, which Express's `trust proxy` accepts besides addresses and subnets. */
const TRUSTED_RANGE_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** One entry of BAOBEI_TRUST_PROXY's list: a named range, an address, or address/prefix (or /netmask). */
function isTrustedProxyEntry(entry: string): boolean {
  if (TRUSTED_RANGE_NAMES.has(entry)) return true;
  const [address = '', range, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (range === undefined) return true;
  if (/^\d{1,3}$/.test(range)) return Number(range) <= (family === 4 ? 32 : 128);
  return family === 4 && isIP(range) === 4;
}

/**
 * Which peers may set the client's address (X-Forwarded-For) and protocol (X-Forwarded-Proto):
 * `false` (nobody: the socket's address counts), `true` (anyone — only behind a proxy that
 * overwrites those headers), a number of proxy hops, or a list of proxy addresses/subnets.
 */
export type TrustProxy = boolean | number | string[];

const trustProxySchema = z
  .string()
  .trim()
  .transform((value, ctx): TrustProxy => {
    if (value === 'false' || value === '') return false;
    if (value === 'true') return true;
    if (/^\d+$/.test(value)) return Number(value);
    const entries = value
      .split(',')
      .map((x) => x.trim())
      .filter((x) => x !== '');
    const bad = entries.filter((x) => !isTrustedProxyEntry(x));
    if (bad.length > 0) {
      ctx.addIssue({
        code: 'custom',
        message:
          `应为 false、true、代理层数，或以逗号分隔的地址/子网（无法识别：${bad.join('、')}）` +
          ` / false, true, a hop count, or comma-separated addresses/subnets (not understood: ${bad.join(', ')})`,
      });
      return z.NEVER;
    }
    return entries;
  });

/** Milliseconds for an HTTP timeout: at least 100 ms, at most a day. */
const timeoutMs = z.coerce.number().int().min(100).max(86_400_000);

const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  BAOBEI_DATA_DIR: z.string().min(1).default('./data'),
  /** 32-byte master key (hex or base64); when absent a key file is created in the data dir. */
  BAOBEI_KEY: z.string().optional(),
  BAOBEI_STORE: z.enum(['lowdb', 'postgres']).default('lowdb'),
  /**
   * Records from which the embedded store warns (start-up log, /api/health) to move to PostgreSQL;
   * 0 = never. 200,000: start-up passes its 5 s target at 100–150k on a 2-core machine, and at 1M
   * the store takes 1.5 minutes or more to open with a 2.1 GB heap, half of Node's default limit
   * (figures in docs/architecture.md).
   */
  BAOBEI_LOWDB_WARN_RECORDS: z.coerce.number().int().min(0).default(200_000),
  DATABASE_URL: z
    .string()
    .refine(
      isPostgresUrl,
      '须为 postgres:// 或 postgresql:// 地址 / must be a postgres:// or postgresql:// URL',
    )
    .optional(),
  BAOBEI_PG_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, '只能用小写字母、数字和 _ / lower-case letters, digits and _')
    // PostgreSQL's own schemas pass the regex (store/pgSchemaName.ts): refused here, naming the variable.
    .refine(
      (schema) => pgSchemaNameProblem(schema) === undefined,
      '不能使用 PostgreSQL 自带的 schema（information_schema、pg_ 开头） / must not be one of PostgreSQL’s own schemas (information_schema, pg_*)',
    )
    .default('baobei'),
  /**
   * Registration batches one instance writes to PostgreSQL at once (the store's default, 2, when
   * unset): more in flight cost the database more CPU a row on a small server (docs/architecture.md,
   * "Locking on PostgreSQL"); a larger server may take more. At most the pool's connections but two.
   */
  BAOBEI_PG_KEYED_WRITES: z.coerce.number().int().positive().max(8).optional(),
  /** The service's public URL (for the add-in manifest and links); defaults to http://localhost:PORT. */
  // http(s) only: z.url() alone takes "localhost:3000" as a URL of scheme "localhost:".
  BAOBEI_PUBLIC_URL: z
    .url({
      protocol: /^https?$/,
      error: '须为 http:// 或 https:// 地址 / must be an http:// or https:// URL',
    })
    .optional(),
  /** Where the task pane loads office.js: Microsoft's CDN, or the npm copy (offline test rigs only). */
  BAOBEI_OFFICE_JS: z.enum(['cdn', 'local']).default('cdn'),
  /** The add-in manifest's Id; defaults to one derived from the public origin (one per deployment). */
  BAOBEI_MANIFEST_ID: z.uuid().optional(),
  /** Extra origins allowed by CORS, comma-separated (the task pane's own origin is always allowed). */
  BAOBEI_CORS_ORIGINS: csv.default([]),
  BAOBEI_JSON_LIMIT: z
    .string()
    .regex(/^\d+(kb|mb)$/i, '如 2mb 或 500kb / like 2mb or 500kb')
    .default('5mb'),
  BAOBEI_UPLOAD_LIMIT_MB: z.coerce.number().positive().max(1024).default(20),
  /** Requests per token (or per address without one) per minute. */
  BAOBEI_RATE_LIMIT: z.coerce.number().int().positive().default(600),
  /** Failed authentications (401) per client address per minute before that address gets 429. */
  BAOBEI_AUTH_FAIL_LIMIT: z.coerce.number().int().positive().default(20),
  BAOBEI_TRUST_PROXY: trustProxySchema.default(false),
  /** Expensive operations (imports, large batches) running at once; more get 503 + Retry-After. */
  BAOBEI_EXPENSIVE_CONCURRENCY: z.coerce.number().int().positive().max(64).default(2),
  /** A check or submit batch with more rows than this counts as expensive. */
  BAOBEI_EXPENSIVE_BATCH_ROWS: z.coerce.number().int().positive().default(500),
  /** Node's server.headersTimeout: the whole header block must arrive within this. */
  BAOBEI_HEADERS_TIMEOUT_MS: timeoutMs.default(20_000),
  /** Node's server.requestTimeout: headers and body must arrive within this. */
  BAOBEI_REQUEST_TIMEOUT_MS: timeoutMs.default(120_000),
  /** Node's server.keepAliveTimeout: an idle kept-alive connection is closed after this. */
  BAOBEI_KEEP_ALIVE_TIMEOUT_MS: timeoutMs.default(5_000),
  BAOBEI_SWEEP_SECONDS: z.coerce.number().int().positive().default(60),
  /**
   * Seconds the start waits for its first lifecycle sweep before answering requests: the ends and
   * lapses that came while the service was down are written first. A sweep that takes longer (a
   * lock another instance holds) goes on in the background while requests are answered.
   */
  BAOBEI_START_SWEEP_SECONDS: z.coerce.number().int().min(0).max(3600).default(30),
  /** Seconds between Google Sheets syncs of every unpaused link (issue 11). */
  BAOBEI_SHEETS_SYNC_SECONDS: z.coerce.number().int().min(5).max(86_400).default(60),
  /** Days an import's report and annotated workbook are kept before the sweep deletes them. */
  BAOBEI_FILE_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  /** Hours a dry run's report and annotated workbook are kept. */
  BAOBEI_DRY_RUN_RETENTION_HOURS: z.coerce.number().int().min(1).max(87_600).default(24),
  /** Sealed bytes of kept import files per user, in MB; an import beyond it is refused. */
  BAOBEI_FILE_QUOTA_MB: z.coerce.number().positive().max(1_048_576).default(200),
  /** Heap cap of the worker an HTTP import runs in (V8 old generation, MB). */
  BAOBEI_IMPORT_MEMORY_MB: z.coerce.number().int().min(32).max(16_384).default(512),
  /** Wall time for reading, and again for annotating, an HTTP import's file before its worker is stopped. */
  BAOBEI_IMPORT_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(3600).default(120),
  /** HTTP imports one user may have running at once. */
  BAOBEI_IMPORTS_PER_USER: z.coerce.number().int().min(1).max(64).default(1),
  /** PEM certificate and key files: serve HTTPS (Office desktop sideloading needs it). Both or neither. */
  BAOBEI_TLS_CERT: z.string().min(1).optional(),
  BAOBEI_TLS_KEY: z.string().min(1).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Google service-account JSON key for the Sheets sync; wins over GOOGLE_APPLICATION_CREDENTIALS. */
  BAOBEI_GOOGLE_CREDENTIALS: z.string().min(1, 'a path to the service-account JSON key').optional(),
  GOOGLE_APPLICATION_CREDENTIALS: z.string().optional(),
  /** Notification email (issue 10): BAOBEI_SMTP_URL, _FROM, _REQUIRE_TLS, _TLS_REJECT_UNAUTHORIZED, _TLS_CA, _MAX_CONNECTIONS. */
  ...SMTP_ENV_SHAPE,
  /** How often the outbox worker looks for due entries. */
  BAOBEI_OUTBOX_POLL_MS: z.coerce.number().int().min(50).max(600_000).default(2_000),
  /** How long an instance holds a claimed entry before another may take it over (a crash mid-send). */
  BAOBEI_OUTBOX_LEASE_SECONDS: z.coerce.number().int().min(1).max(3_600).default(60),
  /** First retry delay of a failed delivery; doubles per attempt, at most an hour. */
  BAOBEI_OUTBOX_RETRY_MS: z.coerce.number().int().min(10).max(3_600_000).default(30_000),
  /** Attempts before an entry is marked failed. */
  BAOBEI_OUTBOX_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(8),
  /** The backup key (32 bytes, hex or base64), apart from BAOBEI_KEY; or a file holding it. Never logged. */
  BAOBEI_BACKUP_KEY: z
    .string()
    .trim()
    .refine(
      (v) => /^[0-9a-fA-F]{64}$/.test(v) || Buffer.from(v, 'base64url').length === 32,
      '须为 32 字节（64 位十六进制或 base64） / must be 32 bytes (64 hex digits or base64)',
    )
    .optional(),
  BAOBEI_BACKUP_KEY_FILE: z.string().min(1).optional(),
});

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  key: string | undefined;
  store: 'lowdb' | 'postgres';
  /** BAOBEI_LOWDB_WARN_RECORDS; undefined when 0 (never warn). */
  lowdbWarnRecords: number | undefined;
  databaseUrl: string | undefined;
  pgSchema: string;
  /** BAOBEI_PG_KEYED_WRITES; undefined: the store's default. */
  pgKeyedWrites: number | undefined;
  publicUrl: string | undefined;
  /** The add-in: where office.js comes from (BAOBEI_OFFICE_JS) and the manifest Id (BAOBEI_MANIFEST_ID). */
  addin: { officeJs: 'cdn' | 'local'; manifestId: string | undefined };
  corsOrigins: string[];
  jsonLimit: string;
  uploadLimitBytes: number;
  rateLimitPerMinute: number;
  authFailuresPerMinute: number;
  trustProxy: TrustProxy;
  expensiveConcurrency: number;
  expensiveBatchRows: number;
  /** Node's HTTP server timeouts, in milliseconds. */
  http: { headersTimeoutMs: number; requestTimeoutMs: number; keepAliveTimeoutMs: number };
  sweepSeconds: number;
  startSweepWaitSeconds: number;
  sheetsSyncSeconds: number;
  /** Kept import files: retention, dry-run retention, per-user quota. */
  files: { retentionDays: number; dryRunRetentionHours: number; quotaBytes: number };
  /** HTTP imports run in a worker with these limits. */
  imports: { memoryMb: number; timeoutMs: number; perUser: number };
  /** Paths of the PEM certificate and key when the service speaks HTTPS. */
  tls: { certFile: string; keyFile: string } | undefined;
  logLevel: z.infer<typeof envSchema>['LOG_LEVEL'];
  /** The Google key file and the variable that named it (checked by server/sheets/googleCredentials at start). */
  googleCredentials:
    { file: string; variable: 'BAOBEI_GOOGLE_CREDENTIALS' | 'GOOGLE_APPLICATION_CREDENTIALS' } | undefined;
  /** Notification email; undefined when BAOBEI_SMTP_URL is not set (email is off). */
  smtp: SmtpSettings | undefined;
  /** The notification outbox worker (issue 10). */
  outbox: { pollMs: number; leaseMs: number; retryBaseMs: number; maxAttempts: number };
  /** Where the backup key comes from (read when a backup or restore needs it); undefined: none set. */
  backupKey:
    | { variable: 'BAOBEI_BACKUP_KEY'; text: string }
    | { variable: 'BAOBEI_BACKUP_KEY_FILE'; file: string }
    | undefined;
}

export class ConfigError extends Error {}

const HEADLINE = '配置错误 / invalid configuration:';

/** One line per bad variable, in Chinese and English: `  PORT: 无效输入：… / Invalid input: …`. */
function issueLine(issue: z.core.$ZodIssue): string {
  const name = issue.path.join('.');
  // Messages written for this file are already bilingual; zod's own get the zh-CN locale's text.
  if (/[\u4e00-\u9fff]/.test(issue.message)) return `  ${name}: ${issue.message}`;
  const zh = z.locales.zhCN().localeError(issue as never);
  const zhText = typeof zh === 'string' ? zh : zh?.message;
  return `  ${name}: ${zhText ? `${zhText} / ` : ''}${issue.message}`;
}

/** A configuration problem found later than loadConfig (the data dir cannot be made, say), one line per problem. */
export function configError(...lines: string[]): ConfigError {
  return new ConfigError([HEADLINE, ...lines.map((l) => `  ${l}`)].join('\n'));
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // reportInput lets the zh-CN locale name the received type; no message repeats the value itself.
  const parsed = envSchema.safeParse(env, { reportInput: true });
  if (!parsed.success) {
    throw new ConfigError([HEADLINE, ...parsed.error.issues.map(issueLine)].join('\n'));
  }
  const e = parsed.data;
  if (e.BAOBEI_STORE === 'postgres' && !e.DATABASE_URL) {
    throw configError('DATABASE_URL: BAOBEI_STORE=postgres 时必须设置 / required when BAOBEI_STORE=postgres');
  }
  if ((e.BAOBEI_TLS_CERT === undefined) !== (e.BAOBEI_TLS_KEY === undefined)) {
    const [missing, given] =
      e.BAOBEI_TLS_CERT === undefined
        ? ['BAOBEI_TLS_CERT', 'BAOBEI_TLS_KEY']
        : ['BAOBEI_TLS_KEY', 'BAOBEI_TLS_CERT'];
    throw configError(
      `${missing}: 设置了 ${given} 时必须同时设置（HTTPS 需要两者） / required when ${given} is set (HTTPS needs both)`,
    );
  }
  if (e.BAOBEI_BACKUP_KEY !== undefined && e.BAOBEI_BACKUP_KEY_FILE !== undefined) {
    throw configError(
      'BAOBEI_BACKUP_KEY_FILE: 与 BAOBEI_BACKUP_KEY 只能设置一个 / set either BAOBEI_BACKUP_KEY or BAOBEI_BACKUP_KEY_FILE, not both',
    );
  }
  // Node refuses a headers timeout longer than the request timeout it is part of.
  if (e.BAOBEI_HEADERS_TIMEOUT_MS > e.BAOBEI_REQUEST_TIMEOUT_MS) {
    throw configError(
      `BAOBEI_HEADERS_TIMEOUT_MS: 不能大于 BAOBEI_REQUEST_TIMEOUT_MS（${e.BAOBEI_REQUEST_TIMEOUT_MS}） / ` +
        `must not exceed BAOBEI_REQUEST_TIMEOUT_MS (${e.BAOBEI_REQUEST_TIMEOUT_MS})`,
    );
  }
  // The import limits (BAOBEI_IMPORT_*) are read by the import library; a bad one stops the start-up here.
  try {
    importLimitsFromEnv(env);
  } catch (err) {
    throw configError((err as Error).message);
  }
  const smtp = smtpSettingsFromEnv(e);
  if (smtp.problems.length > 0) {
    throw new ConfigError(
      `配置错误 / invalid configuration:\n${smtp.problems.map((p) => `  ${p}`).join('\n')}`,
    );
  }
  return {
    port: e.PORT,
    host: e.HOST,
    dataDir: path.resolve(e.BAOBEI_DATA_DIR),
    lowdbWarnRecords: e.BAOBEI_LOWDB_WARN_RECORDS === 0 ? undefined : e.BAOBEI_LOWDB_WARN_RECORDS,
    key: e.BAOBEI_KEY,
    store: e.BAOBEI_STORE,
    databaseUrl: e.DATABASE_URL,
    pgSchema: e.BAOBEI_PG_SCHEMA,
    pgKeyedWrites: e.BAOBEI_PG_KEYED_WRITES,
    publicUrl: e.BAOBEI_PUBLIC_URL,
    addin: { officeJs: e.BAOBEI_OFFICE_JS, manifestId: e.BAOBEI_MANIFEST_ID },
    corsOrigins: e.BAOBEI_CORS_ORIGINS,
    jsonLimit: e.BAOBEI_JSON_LIMIT,
    uploadLimitBytes: Math.round(e.BAOBEI_UPLOAD_LIMIT_MB * 1024 * 1024),
    rateLimitPerMinute: e.BAOBEI_RATE_LIMIT,
    authFailuresPerMinute: e.BAOBEI_AUTH_FAIL_LIMIT,
    trustProxy: e.BAOBEI_TRUST_PROXY,
    expensiveConcurrency: e.BAOBEI_EXPENSIVE_CONCURRENCY,
    expensiveBatchRows: e.BAOBEI_EXPENSIVE_BATCH_ROWS,
    http: {
      headersTimeoutMs: e.BAOBEI_HEADERS_TIMEOUT_MS,
      requestTimeoutMs: e.BAOBEI_REQUEST_TIMEOUT_MS,
      keepAliveTimeoutMs: e.BAOBEI_KEEP_ALIVE_TIMEOUT_MS,
    },
    sweepSeconds: e.BAOBEI_SWEEP_SECONDS,
    startSweepWaitSeconds: e.BAOBEI_START_SWEEP_SECONDS,
    sheetsSyncSeconds: e.BAOBEI_SHEETS_SYNC_SECONDS,
    files: {
      retentionDays: e.BAOBEI_FILE_RETENTION_DAYS,
      dryRunRetentionHours: e.BAOBEI_DRY_RUN_RETENTION_HOURS,
      quotaBytes: Math.round(e.BAOBEI_FILE_QUOTA_MB * 1024 * 1024),
    },
    imports: {
      memoryMb: e.BAOBEI_IMPORT_MEMORY_MB,
      timeoutMs: e.BAOBEI_IMPORT_TIMEOUT_SECONDS * 1000,
      perUser: e.BAOBEI_IMPORTS_PER_USER,
    },
    tls:
      e.BAOBEI_TLS_CERT !== undefined && e.BAOBEI_TLS_KEY !== undefined
        ? { certFile: path.resolve(e.BAOBEI_TLS_CERT), keyFile: path.resolve(e.BAOBEI_TLS_KEY) }
        : undefined,
    logLevel: e.LOG_LEVEL,
    googleCredentials:
      e.BAOBEI_GOOGLE_CREDENTIALS !== undefined
        ? { file: path.resolve(e.BAOBEI_GOOGLE_CREDENTIALS), variable: 'BAOBEI_GOOGLE_CREDENTIALS' }
        : e.GOOGLE_APPLICATION_CREDENTIALS !== undefined && e.GOOGLE_APPLICATION_CREDENTIALS !== ''
          ? {
              file: path.resolve(e.GOOGLE_APPLICATION_CREDENTIALS),
              variable: 'GOOGLE_APPLICATION_CREDENTIALS',
            }
          : undefined,
    smtp: smtp.settings,
    outbox: {
      pollMs: e.BAOBEI_OUTBOX_POLL_MS,
      leaseMs: e.BAOBEI_OUTBOX_LEASE_SECONDS * 1000,
      retryBaseMs: e.BAOBEI_OUTBOX_RETRY_MS,
      maxAttempts: e.BAOBEI_OUTBOX_MAX_ATTEMPTS,
    },
    backupKey:
      e.BAOBEI_BACKUP_KEY !== undefined
        ? { variable: 'BAOBEI_BACKUP_KEY', text: e.BAOBEI_BACKUP_KEY }
        : e.BAOBEI_BACKUP_KEY_FILE !== undefined
          ? { variable: 'BAOBEI_BACKUP_KEY_FILE', file: path.resolve(e.BAOBEI_BACKUP_KEY_FILE) }
          : undefined,
  };
}

/** BAOBEI_JSON_LIMIT (`5mb`, `500kb`) in bytes, as body-parser reads it (1 kb = 1024 bytes). */
export function jsonLimitBytes(limit: string): number {
  const match = /^(\d+)(kb|mb)$/i.exec(limit);
  if (!match) throw new Error(`not a JSON limit: ${limit}`);
  return Number(match[1]) * (match[2]!.toLowerCase() === 'mb' ? 1024 * 1024 : 1024);
}
