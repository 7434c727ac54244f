/**
 * What configures the channels, parsed strictly: SMTP from the environment (checked at start,
 * each problem naming its variable) and the per-team robots (kind, webhook URL, signing secret)
 * that the admin API stores. Secrets — the SMTP password, the robot secrets and the tokens inside
 * webhook URLs — leave this module only towards the adapters: `redacted…` views are what the API
 * returns and the log may see, and `SECRET_LOG_PATHS` is what pino must censor.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import addressparser from 'nodemailer/lib/addressparser';
import { z } from 'zod';
import { LANGUAGES } from './channel.js';

// ---------------------------------------------------------------------------------------------
// Shared pieces

const languageSchema = z.enum(LANGUAGES);
const envBoolean = z
  .enum(['true', 'false'], { error: '须为 true 或 false / true or false' })
  .transform((v) => v === 'true');

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

/** HTTPS, or plain HTTP to this machine only (a local relay; the test receivers). */
function webhookUrl(check: (url: URL) => string | undefined) {
  return z.string().superRefine((value, ctx) => {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      ctx.addIssue({ code: 'custom', message: '不是网址 / not a URL' });
      return;
    }
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname))) {
      ctx.addIssue({
        code: 'custom',
        message: '须为 https://（http:// 仅限本机） / must be https:// (http:// only to localhost)',
      });
      return;
    }
    if (url.username !== '' || url.password !== '') {
      ctx.addIssue({
        code: 'custom',
        message: '不得包含用户名或密码 / must not carry a user name or password',
      });
      return;
    }
    const problem = check(url);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  });
}

// Path shapes from the providers' docs (cited in docs/notifications.md). The host is not pinned:
// companies reach the providers through egress proxies with their own host names.
const dingtalkUrl = webhookUrl((u) =>
  u.pathname.endsWith('/robot/send') && (u.searchParams.get('access_token') ?? '') !== ''
    ? undefined
    : '须为 …/robot/send?access_token=…（钉钉自定义机器人 Webhook） / expected …/robot/send?access_token=… (DingTalk custom robot webhook)',
);
const wecomUrl = webhookUrl((u) =>
  u.pathname.endsWith('/cgi-bin/webhook/send') && (u.searchParams.get('key') ?? '') !== ''
    ? undefined
    : '须为 …/cgi-bin/webhook/send?key=…（企业微信群机器人 Webhook） / expected …/cgi-bin/webhook/send?key=… (WeCom group robot webhook)',
);
const feishuUrl = webhookUrl((u) =>
  /\/open-apis\/bot\/v2\/hook\/[^/]+$/.test(u.pathname)
    ? undefined
    : '须为 …/open-apis/bot/v2/hook/<token>（飞书自定义机器人 Webhook） / expected …/open-apis/bot/v2/hook/<token> (Feishu/Lark custom bot webhook)',
);

/** DingTalk shows the signing secret as a string starting with SEC (加签 → SEC…). */
const dingtalkSecret = z
  .string()
  .regex(
    /^SEC[0-9A-Za-z]{8,}$/,
    '须为钉钉“加签”处显示的密钥，以 SEC 开头 / the signing secret DingTalk shows under 加签, starting with SEC',
  );
const feishuSecret = z
  .string()
  .regex(/^\S{8,200}$/, '须为飞书“签名校验”处显示的密钥 / the signing secret Feishu shows under 签名校验');

// ---------------------------------------------------------------------------------------------
// Robots

/**
 * One robot. Signing is required for DingTalk and Feishu: a leaked webhook URL alone then cannot
 * post to the group. WeCom robots have no signing; their key is the secret, inside the URL.
 */
export const robotSettingsSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('dingtalk'),
    webhookUrl: dingtalkUrl,
    secret: dingtalkSecret,
    language: languageSchema.default('zh-CN'),
  }),
  z.object({ kind: z.literal('wecom'), webhookUrl: wecomUrl, language: languageSchema.default('zh-CN') }),
  z.object({
    kind: z.literal('feishu'),
    webhookUrl: feishuUrl,
    secret: feishuSecret,
    language: languageSchema.default('zh-CN'),
  }),
]);
export type RobotSettings = z.infer<typeof robotSettingsSchema>;
export type RobotKind = RobotSettings['kind'];
export const ROBOT_KINDS = ['dingtalk', 'wecom', 'feishu'] as const satisfies readonly RobotKind[];

const teamRobotFields = {
  /** Stable id (the rate limiter and the outbox key on it). */
  id: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, '只能用小写字母、数字和 - / lower-case letters, digits and -'),
  /** The team whose group it posts to; null = a company-wide group (gets no record numbers, R34). */
  team: z.string().min(1).max(50).nullable(),
  /** For administrators: which group this is. */
  name: z.string().min(1).max(100),
};

/** A robot as the admin API stores it. */
export const teamRobotSchema = z.discriminatedUnion('kind', [
  robotSettingsSchema.options[0].extend(teamRobotFields),
  robotSettingsSchema.options[1].extend(teamRobotFields),
  robotSettingsSchema.options[2].extend(teamRobotFields),
]);
export type TeamRobot = z.infer<typeof teamRobotSchema>;

export interface RedactedRobot {
  id?: string;
  team?: string | null;
  name?: string;
  kind: RobotKind;
  language: RobotSettings['language'];
  /** The host and path shape, with the token / key masked. */
  webhookUrl: string;
  hasSecret: boolean;
}

/** What the API may return and the log may show about a robot: never its token, key or secret. */
export function redactRobot(robot: RobotSettings | TeamRobot): RedactedRobot {
  const ids = 'id' in robot ? { id: robot.id, team: robot.team, name: robot.name } : {};
  return {
    ...ids,
    kind: robot.kind,
    language: robot.language,
    webhookUrl: maskWebhookUrl(robot.webhookUrl),
    hasSecret: 'secret' in robot && robot.secret !== '',
  };
}

function mask(token: string): string {
  return `${token.slice(0, 4)}****`;
}

export function maskWebhookUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return '****';
  }
  for (const name of ['access_token', 'key']) {
    const token = url.searchParams.get(name);
    if (token !== null) url.searchParams.set(name, mask(token));
  }
  const hook = /^(.*\/hook\/)([^/]+)$/.exec(url.pathname);
  if (hook) url.pathname = `${hook[1]}${mask(hook[2] ?? '')}`;
  url.username = '';
  url.password = '';
  // URLSearchParams would percent-encode the mask; show it as written.
  return url.toString().replaceAll('%2A', '*');
}

// ---------------------------------------------------------------------------------------------
// SMTP

export interface SmtpSettings {
  host: string;
  port: number;
  /** Implicit TLS from the first byte (smtps://, usually port 465). */
  secure: boolean;
  /** Without implicit TLS: refuse to send unless the server upgrades with STARTTLS. */
  requireTLS: boolean;
  auth?: { user: string; pass: string };
  from: { name?: string; address: string };
  tls: { rejectUnauthorized: boolean; ca?: string; caFile?: string };
  /** Pooled connections kept open to the server. */
  maxConnections: number;
}

const smtpUrl = z.string().transform((value, ctx) => {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    // The value is never echoed: it may hold a password.
    ctx.addIssue({
      code: 'custom',
      message: '不是网址 / not a URL (smtp://user:password@host:587 or smtps://…:465)',
    });
    return z.NEVER;
  }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') {
    ctx.addIssue({
      code: 'custom',
      message:
        '须以 smtp:// 或 smtps:// 开头 / must start with smtp:// (STARTTLS) or smtps:// (implicit TLS)',
    });
    return z.NEVER;
  }
  if (url.hostname === '') {
    ctx.addIssue({ code: 'custom', message: '缺少主机名 / has no host' });
    return z.NEVER;
  }
  const secure = url.protocol === 'smtps:';
  const user = decodeURIComponent(url.username);
  const pass = decodeURIComponent(url.password);
  return {
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port === '' ? (secure ? 465 : 587) : Number(url.port),
    secure,
    ...(user !== '' ? { auth: { user, pass } } : {}),
  };
});

const fromAddress = z.string().transform((value, ctx) => {
  const [first, ...rest] = addressparser(value);
  const address = first && 'address' in first ? first.address : undefined;
  if (!first || rest.length > 0 || !address || !z.email().safeParse(address).success) {
    ctx.addIssue({
      code: 'custom',
      message: '须为一个地址 / one address, like 报备系统 <baobei@example.com>',
    });
    return z.NEVER;
  }
  return first.name !== '' ? { name: first.name, address } : { address };
});

/** The SMTP variables; config.ts adds them to the one environment schema. */
export const SMTP_ENV_SHAPE = {
  /** smtp://user:password@host:587 (STARTTLS) or smtps://user:password@host:465; unset = no email. */
  BAOBEI_SMTP_URL: smtpUrl.optional(),
  /** The From of every notification email, e.g. `报备系统 <baobei@example.com>`. */
  BAOBEI_SMTP_FROM: fromAddress.optional(),
  /** smtp:// only: refuse to send unless the server offers STARTTLS. */
  BAOBEI_SMTP_REQUIRE_TLS: envBoolean.default(true),
  /** Verify the server's certificate (turn off only for a server with a self-signed certificate on a trusted network). */
  BAOBEI_SMTP_TLS_REJECT_UNAUTHORIZED: envBoolean.default(true),
  /** A PEM file with the CA that signed the server's certificate (a company CA). */
  BAOBEI_SMTP_TLS_CA: z.string().min(1).optional(),
  BAOBEI_SMTP_MAX_CONNECTIONS: z.coerce.number().int().min(1).max(20).default(2),
};

export type SmtpEnv = z.infer<z.ZodObject<typeof SMTP_ENV_SHAPE>>;

/**
 * The SMTP settings from parsed variables, or the problems (each `VARIABLE: why`). Unset URL →
 * email is off (undefined). Reads the CA file now so a bad path stops the start, not the first mail.
 */
export function smtpSettingsFromEnv(
  env: SmtpEnv,
): { settings: SmtpSettings | undefined; problems: [] } | { settings?: undefined; problems: string[] } {
  const problems: string[] = [];
  if (env.BAOBEI_SMTP_URL === undefined) {
    for (const name of ['BAOBEI_SMTP_FROM', 'BAOBEI_SMTP_TLS_CA'] as const) {
      if (env[name] !== undefined)
        problems.push(
          `${name}: 已设置但未设置 BAOBEI_SMTP_URL（邮件未开启） / set, but BAOBEI_SMTP_URL is not (email is off)`,
        );
    }
    return problems.length > 0 ? { problems } : { settings: undefined, problems: [] };
  }
  if (env.BAOBEI_SMTP_FROM === undefined)
    problems.push('BAOBEI_SMTP_FROM: 设置 BAOBEI_SMTP_URL 时必须设置 / required when BAOBEI_SMTP_URL is set');
  let ca: string | undefined;
  let caFile: string | undefined;
  if (env.BAOBEI_SMTP_TLS_CA !== undefined) {
    caFile = path.resolve(env.BAOBEI_SMTP_TLS_CA);
    try {
      ca = readFileSync(caFile, 'utf8');
      if (!ca.includes('-----BEGIN CERTIFICATE-----')) {
        problems.push(`BAOBEI_SMTP_TLS_CA: ${caFile} 中没有 PEM 证书 / holds no PEM certificate`);
      }
    } catch (err) {
      problems.push(
        `BAOBEI_SMTP_TLS_CA: 读不到 ${caFile} / cannot read ${caFile} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      );
    }
  }
  if (problems.length > 0 || env.BAOBEI_SMTP_FROM === undefined) return { problems };
  const url = env.BAOBEI_SMTP_URL;
  return {
    settings: {
      ...url,
      requireTLS: !url.secure && env.BAOBEI_SMTP_REQUIRE_TLS,
      from: env.BAOBEI_SMTP_FROM,
      tls: {
        rejectUnauthorized: env.BAOBEI_SMTP_TLS_REJECT_UNAUTHORIZED,
        ...(ca !== undefined ? { ca, caFile } : {}),
      },
      maxConnections: env.BAOBEI_SMTP_MAX_CONNECTIONS,
    },
    problems: [],
  };
}

export interface RedactedSmtp {
  host: string;
  port: number;
  secure: boolean;
  requireTLS: boolean;
  user?: string;
  from: string;
  tls: { rejectUnauthorized: boolean; caFile?: string };
  maxConnections: number;
}

/** SMTP settings without the password (and without the CA's content, only its file). */
export function redactSmtp(s: SmtpSettings): RedactedSmtp {
  return {
    host: s.host,
    port: s.port,
    secure: s.secure,
    requireTLS: s.requireTLS,
    ...(s.auth ? { user: s.auth.user } : {}),
    from: s.from.name ? `${s.from.name} <${s.from.address}>` : s.from.address,
    tls: {
      rejectUnauthorized: s.tls.rejectUnauthorized,
      ...(s.tls.caFile !== undefined ? { caFile: s.tls.caFile } : {}),
    },
    maxConnections: s.maxConnections,
  };
}

/**
 * pino `redact` paths for anything shaped like these settings that reaches a log call by
 * mistake (a robot config, SMTP auth). The adapters themselves never log.
 */
export const SECRET_LOG_PATHS = [
  'secret',
  '*.secret',
  'webhookUrl',
  '*.webhookUrl',
  'pass',
  '*.pass',
  'auth.pass',
  '*.auth.pass',
];
