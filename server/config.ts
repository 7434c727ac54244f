/**
 * Configuration from the environment, parsed strictly at start-up: a bad value stops the service
 * with a message naming the variable (never a default silently taken instead).
 */
import path from 'node:path';
import { z } from 'zod';
import { SMTP_ENV_SHAPE, smtpSettingsFromEnv, type SmtpSettings } from './notify/channelSettings.js';

const csv = z.string().transform((s) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== ''),
);

const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  BAOBEI_DATA_DIR: z.string().min(1).default('./data'),
  /** 32-byte master key (hex or base64); when absent a key file is created in the data dir. */
  BAOBEI_KEY: z.string().optional(),
  BAOBEI_STORE: z.enum(['lowdb', 'postgres']).default('lowdb'),
  DATABASE_URL: z.string().optional(),
  BAOBEI_PG_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'lower-case letters, digits and _')
    .default('baobei'),
  /** The service's public URL (for the add-in manifest and links); defaults to http://localhost:PORT. */
  BAOBEI_PUBLIC_URL: z.url().optional(),
  /** Extra origins allowed by CORS, comma-separated (the task pane's own origin is always allowed). */
  BAOBEI_CORS_ORIGINS: csv.default([]),
  BAOBEI_JSON_LIMIT: z
    .string()
    .regex(/^\d+(kb|mb)$/i, 'like 2mb or 500kb')
    .default('5mb'),
  BAOBEI_UPLOAD_LIMIT_MB: z.coerce.number().positive().max(1024).default(20),
  /** Requests per token (or per address without one) per minute. */
  BAOBEI_RATE_LIMIT: z.coerce.number().int().positive().default(600),
  BAOBEI_SWEEP_SECONDS: z.coerce.number().int().positive().default(60),
  /** PEM certificate and key files: serve HTTPS (Office desktop sideloading needs it). Both or neither. */
  BAOBEI_TLS_CERT: z.string().min(1).optional(),
  BAOBEI_TLS_KEY: z.string().min(1).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Google service-account JSON key for the Sheets sync; wins over GOOGLE_APPLICATION_CREDENTIALS. */
  BAOBEI_GOOGLE_CREDENTIALS: z.string().min(1, 'a path to the service-account JSON key').optional(),
  GOOGLE_APPLICATION_CREDENTIALS: z.string().optional(),
  /** Notification email (issue 10): BAOBEI_SMTP_URL, _FROM, _REQUIRE_TLS, _TLS_REJECT_UNAUTHORIZED, _TLS_CA, _MAX_CONNECTIONS. */
  ...SMTP_ENV_SHAPE,
});

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  key: string | undefined;
  store: 'lowdb' | 'postgres';
  databaseUrl: string | undefined;
  pgSchema: string;
  publicUrl: string | undefined;
  corsOrigins: string[];
  jsonLimit: string;
  uploadLimitBytes: number;
  rateLimitPerMinute: number;
  sweepSeconds: number;
  /** Paths of the PEM certificate and key when the service speaks HTTPS. */
  tls: { certFile: string; keyFile: string } | undefined;
  logLevel: z.infer<typeof envSchema>['LOG_LEVEL'];
  /** The Google key file and the variable that named it (checked by server/sheets/googleCredentials at start). */
  googleCredentials:
    { file: string; variable: 'BAOBEI_GOOGLE_CREDENTIALS' | 'GOOGLE_APPLICATION_CREDENTIALS' } | undefined;
  /** Notification email; undefined when BAOBEI_SMTP_URL is not set (email is off). */
  smtp: SmtpSettings | undefined;
}

export class ConfigError extends Error {}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`配置错误 / invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  if (e.BAOBEI_STORE === 'postgres' && !e.DATABASE_URL) {
    throw new ConfigError(
      '配置错误 / invalid configuration:\n  DATABASE_URL: required when BAOBEI_STORE=postgres',
    );
  }
  if ((e.BAOBEI_TLS_CERT === undefined) !== (e.BAOBEI_TLS_KEY === undefined)) {
    const [missing, given] =
      e.BAOBEI_TLS_CERT === undefined
        ? ['BAOBEI_TLS_CERT', 'BAOBEI_TLS_KEY']
        : ['BAOBEI_TLS_KEY', 'BAOBEI_TLS_CERT'];
    throw new ConfigError(
      `配置错误 / invalid configuration:\n  ${missing}: required when ${given} is set (HTTPS needs both)`,
    );
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
    key: e.BAOBEI_KEY,
    store: e.BAOBEI_STORE,
    databaseUrl: e.DATABASE_URL,
    pgSchema: e.BAOBEI_PG_SCHEMA,
    publicUrl: e.BAOBEI_PUBLIC_URL,
    corsOrigins: e.BAOBEI_CORS_ORIGINS,
    jsonLimit: e.BAOBEI_JSON_LIMIT,
    uploadLimitBytes: Math.round(e.BAOBEI_UPLOAD_LIMIT_MB * 1024 * 1024),
    rateLimitPerMinute: e.BAOBEI_RATE_LIMIT,
    sweepSeconds: e.BAOBEI_SWEEP_SECONDS,
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
  };
}
