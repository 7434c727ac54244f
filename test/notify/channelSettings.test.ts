import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../server/config.js';
import { createLogger } from '../../server/logger.js';
import {
  maskWebhookUrl,
  redactRobot,
  redactSmtp,
  robotSettingsSchema,
  teamRobotSchema,
} from '../../server/notify/channelSettings.js';

const DING = {
  kind: 'dingtalk',
  webhookUrl: 'https://oapi.dingtalk.com/robot/send?access_token=9f8e7d6c5b4a39281706f5e4d3c2b1a0',
  secret: 'SEC0123456789abcdef0123456789abcdef',
};
const WECOM = {
  kind: 'wecom',
  webhookUrl: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa',
};
const FEISHU = {
  kind: 'feishu',
  webhookUrl: 'https://open.feishu.cn/open-apis/bot/v2/hook/2f1e0d9c-8b7a-6f5e-4d3c-2b1a0f9e8d7c',
  secret: 'qJ8sL2mN4pR6tV8x',
};

function issues(input: unknown, schema = robotSettingsSchema): string[] {
  const r = schema.safeParse(input);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('robot settings', () => {
  it('accept the three providers’ webhook shapes, zh-CN by default', () => {
    expect(robotSettingsSchema.parse(DING)).toEqual({ ...DING, language: 'zh-CN' });
    expect(robotSettingsSchema.parse(WECOM)).toEqual({ ...WECOM, language: 'zh-CN' });
    expect(robotSettingsSchema.parse({ ...FEISHU, language: 'en' }).language).toBe('en');
    // Lark (the international Feishu) and a company egress proxy keep the same paths.
    expect(issues({ ...FEISHU, webhookUrl: 'https://open.larksuite.com/open-apis/bot/v2/hook/abc' })).toEqual(
      [],
    );
    expect(
      issues({ ...WECOM, webhookUrl: 'https://im-proxy.corp.example/cgi-bin/webhook/send?key=k1' }),
    ).toEqual([]);
  });

  it('name the field and why when a webhook URL or secret is wrong', () => {
    expect(issues({ ...DING, webhookUrl: 'https://oapi.dingtalk.com/robot/send' })).toEqual([
      'webhookUrl: 须为 …/robot/send?access_token=…（钉钉自定义机器人 Webhook） / expected …/robot/send?access_token=… (DingTalk custom robot webhook)',
    ]);
    expect(issues({ ...DING, webhookUrl: 'http://oapi.dingtalk.com/robot/send?access_token=x' })).toEqual([
      'webhookUrl: 须为 https://（http:// 仅限本机） / must be https:// (http:// only to localhost)',
    ]);
    expect(issues({ ...WECOM, webhookUrl: 'not a url' })).toEqual(['webhookUrl: 不是网址 / not a URL']);
    expect(issues({ ...FEISHU, webhookUrl: 'https://open.feishu.cn/open-apis/bot/v2/hook/' })[0]).toMatch(
      /^webhookUrl: 须为 .* \/ expected/,
    );
    expect(issues({ ...DING, secret: 'abc' })[0]).toMatch(/^secret: .*SEC/);
    expect(issues({ ...DING, secret: undefined })[0]).toMatch(/^secret:/);
    expect(issues({ ...FEISHU, secret: undefined })[0]).toMatch(/^secret:/);
    expect(issues({ kind: 'slack', webhookUrl: 'https://x' })[0]).toMatch(/^kind:/);
    expect(
      issues({ ...DING, webhookUrl: 'https://u:p@oapi.dingtalk.com/robot/send?access_token=x' })[0],
    ).toMatch(/user name/);
  });

  it('allow plain http only to this machine (a local relay, the test receivers)', () => {
    expect(issues({ ...WECOM, webhookUrl: 'http://127.0.0.1:8080/cgi-bin/webhook/send?key=k' })).toEqual([]);
    expect(issues({ ...WECOM, webhookUrl: 'http://10.0.0.5/cgi-bin/webhook/send?key=k' })).toHaveLength(1);
  });

  it('a team robot has an id, a team (or null: company-wide) and a name', () => {
    const robot = teamRobotSchema.parse({ ...DING, id: 'east-1', team: '华东一部', name: '华东一部销售群' });
    expect(robot.team).toBe('华东一部');
    expect(teamRobotSchema.parse({ ...WECOM, id: 'all', team: null, name: '全员群' }).team).toBeNull();
    expect(issues({ ...DING, id: 'East 1', team: 'x', name: 'y' }, teamRobotSchema)[0]).toMatch(/^id:/);
  });

  it('the redacted view names the robot but never its token, key or secret', () => {
    const views = [
      redactRobot(robotSettingsSchema.parse(DING)),
      redactRobot(robotSettingsSchema.parse(WECOM)),
      redactRobot(teamRobotSchema.parse({ ...FEISHU, id: 'fs', team: '华南二部', name: '华南群' })),
    ];
    expect(views[0]).toEqual({
      kind: 'dingtalk',
      language: 'zh-CN',
      webhookUrl: 'https://oapi.dingtalk.com/robot/send?access_token=9f8e****',
      hasSecret: true,
    });
    expect(views[1]?.webhookUrl).toBe('https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a****');
    expect(views[2]).toMatchObject({
      id: 'fs',
      team: '华南二部',
      webhookUrl: 'https://open.feishu.cn/open-apis/bot/v2/hook/2f1e****',
    });
    const text = JSON.stringify(views);
    for (const secret of ['9f8e7d6c5b4a', DING.secret, '693a91f6-7xxx', '2f1e0d9c-8b7a', FEISHU.secret]) {
      expect(text).not.toContain(secret);
    }
    expect(maskWebhookUrl('::')).toBe('****');
  });
});

describe('SMTP configuration (env, checked at start)', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'baobei-smtp-env-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function configError(env: Record<string, string>): string {
    try {
      loadConfig(env);
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      return (err as Error).message;
    }
    throw new Error('expected a ConfigError');
  }

  it('is off without BAOBEI_SMTP_URL', () => {
    expect(loadConfig({}).smtp).toBeUndefined();
  });

  it('parses URL, from-address and TLS options with safe defaults (STARTTLS required, certificates checked)', () => {
    const smtp = loadConfig({
      BAOBEI_SMTP_URL: 'smtp://notify%40corp.example:p%40ss@mail.corp.example',
      BAOBEI_SMTP_FROM: '报备系统 <baobei@corp.example>',
    }).smtp;
    expect(smtp).toEqual({
      host: 'mail.corp.example',
      port: 587,
      secure: false,
      requireTLS: true,
      auth: { user: 'notify@corp.example', pass: 'p@ss' },
      from: { name: '报备系统', address: 'baobei@corp.example' },
      tls: { rejectUnauthorized: true },
      maxConnections: 2,
    });
    const smtps = loadConfig({
      BAOBEI_SMTP_URL: 'smtps://mail.corp.example',
      BAOBEI_SMTP_FROM: 'baobei@corp.example',
    }).smtp;
    expect(smtps).toMatchObject({
      port: 465,
      secure: true,
      requireTLS: false,
      from: { address: 'baobei@corp.example' },
    });
  });

  it('reads the CA file at start', () => {
    const ca = path.join(dir, 'ca.pem');
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    writeFileSync(ca, pem);
    const smtp = loadConfig({
      BAOBEI_SMTP_URL: 'smtp://mail.corp.example:25',
      BAOBEI_SMTP_FROM: 'baobei@corp.example',
      BAOBEI_SMTP_TLS_CA: ca,
      BAOBEI_SMTP_TLS_REJECT_UNAUTHORIZED: 'true',
      BAOBEI_SMTP_REQUIRE_TLS: 'false',
    }).smtp;
    expect(smtp?.tls).toEqual({ rejectUnauthorized: true, ca: pem, caFile: ca });
    expect(smtp?.requireTLS).toBe(false);
  });

  it('stops the start with a message naming the variable — and never echoing the password', () => {
    const bad = configError({
      BAOBEI_SMTP_URL: 'http://user:hunter2@mail.example',
      BAOBEI_SMTP_FROM: 'a@b.example',
    });
    expect(bad).toContain('BAOBEI_SMTP_URL: 须以 smtp:// 或 smtps:// 开头 / must start with smtp://');
    expect(bad).not.toContain('hunter2');
    expect(configError({ BAOBEI_SMTP_URL: 'smtp://mail.example' })).toContain(
      'BAOBEI_SMTP_FROM: 设置 BAOBEI_SMTP_URL 时必须设置 / required when BAOBEI_SMTP_URL is set',
    );
    expect(
      configError({ BAOBEI_SMTP_URL: 'smtp://mail.example', BAOBEI_SMTP_FROM: 'not an address' }),
    ).toContain('BAOBEI_SMTP_FROM: 须为一个地址 / one address');
    expect(configError({ BAOBEI_SMTP_FROM: 'a@b.example' })).toContain(
      'BAOBEI_SMTP_FROM: 已设置但未设置 BAOBEI_SMTP_URL（邮件未开启） / set, but BAOBEI_SMTP_URL is not',
    );
    expect(
      configError({
        BAOBEI_SMTP_URL: 'smtp://m.example',
        BAOBEI_SMTP_FROM: 'a@b.example',
        BAOBEI_SMTP_TLS_CA: path.join(dir, 'none.pem'),
      }),
    ).toContain('BAOBEI_SMTP_TLS_CA: 读不到');
    const notPem = path.join(dir, 'x.txt');
    writeFileSync(notPem, 'hello');
    expect(
      configError({
        BAOBEI_SMTP_URL: 'smtp://m.example',
        BAOBEI_SMTP_FROM: 'a@b.example',
        BAOBEI_SMTP_TLS_CA: notPem,
      }),
    ).toContain('holds no PEM certificate');
    expect(configError({ BAOBEI_SMTP_REQUIRE_TLS: 'yes' })).toContain(
      'BAOBEI_SMTP_REQUIRE_TLS: 须为 true 或 false / true or false',
    );
    expect(configError({ BAOBEI_SMTP_MAX_CONNECTIONS: '0' })).toContain('BAOBEI_SMTP_MAX_CONNECTIONS');
  });

  it('the redacted view has no password and no CA content', () => {
    const smtp = loadConfig({
      BAOBEI_SMTP_URL: 'smtps://u:hunter2@mail.example',
      BAOBEI_SMTP_FROM: '报备 <a@b.example>',
    }).smtp!;
    const view = redactSmtp(smtp);
    expect(view).toEqual({
      host: 'mail.example',
      port: 465,
      secure: true,
      requireTLS: false,
      user: 'u',
      from: '报备 <a@b.example>',
      tls: { rejectUnauthorized: true },
      maxConnections: 2,
    });
    expect(JSON.stringify(view)).not.toContain('hunter2');
  });
});

describe('logs', () => {
  it('a robot or SMTP settings object that reaches a log call has its secrets censored', () => {
    let out = '';
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        out += chunk.toString();
        cb();
      },
    });
    const logger = createLogger('info', sink);
    const smtp = loadConfig({
      BAOBEI_SMTP_URL: 'smtp://u:hunter2@mail.example',
      BAOBEI_SMTP_FROM: 'a@b.example',
    }).smtp!;
    logger.info({ robot: robotSettingsSchema.parse(DING) }, 'robot');
    logger.info(robotSettingsSchema.parse(FEISHU), 'robot at top level');
    logger.info({ smtp }, 'smtp');
    logger.info({ settings: { auth: smtp.auth } }, 'nested auth');
    expect(out.split('\n').filter(Boolean)).toHaveLength(4);
    for (const secret of ['9f8e7d6c5b4a', DING.secret, FEISHU.secret, '2f1e0d9c', 'hunter2'])
      expect(out).not.toContain(secret);
    expect(out).toContain('[redacted]');
  });
});
