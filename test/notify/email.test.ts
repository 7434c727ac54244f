/**
 * The email channel against a real SMTP server in this process (smtp-server), each message
 * parsed back with mailparser: recipients, subject, language, body, what is never in it, the
 * SMTP reply codes as DeliveryResults, TLS (STARTTLS required, a company CA, implicit TLS),
 * authentication and the connection pool.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/config.js';
import type { SmtpSettings } from '../../server/notify/channelSettings.js';
import { createEmailChannel, messageIdFor, type EmailChannel } from '../../server/notify/emailChannel.js';
import { composeMessage, taskPaneUrl } from '../../server/notify/messageComposer.js';
import type { Recipient } from '../../server/notify/messagePolicy.js';
import { recordFactsOf } from '../../server/notify/notifyEvent.js';
import { AMOUNT_FORMS, EVENTS, PERSONAL, storedRecord } from './notifyFixtures.js';

interface TestSmtp {
  port: number;
  received: { envelopeTo: string[]; mail: ParsedMail; secure: boolean; user?: string }[];
  connections: number;
  close(): Promise<void>;
}

const SMTP_ERROR = (code: number, message: string) =>
  Object.assign(new Error(message), { responseCode: code });

async function startSmtp(options: Partial<SMTPServerOptions> = {}): Promise<TestSmtp> {
  const state: TestSmtp = { port: 0, received: [], connections: 0, close: async () => undefined };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onConnect(_session, cb) {
      state.connections += 1;
      cb();
    },
    onRcptTo(address, _session, cb) {
      // Addresses tell the server how to answer: a full mailbox (4xx) or no such user (5xx).
      if (address.address.startsWith('busy'))
        return cb(SMTP_ERROR(450, '4.2.1 Mailbox busy, try again later'));
      if (address.address.startsWith('nobody')) return cb(SMTP_ERROR(550, '5.1.1 No such user'));
      cb();
    },
    onData(stream, session, cb) {
      simpleParser(stream)
        .then((mail) => {
          state.received.push({
            envelopeTo: session.envelope.rcptTo.map((r) => r.address),
            mail,
            secure: session.secure,
            ...(typeof session.user === 'string' ? { user: session.user } : {}),
          });
          cb();
        })
        .catch((err: Error) => cb(err));
    },
    ...options,
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.port = (server.server.address() as AddressInfo).port;
  state.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return state;
}

function settingsFor(env: Record<string, string>): SmtpSettings {
  const smtp = loadConfig({ BAOBEI_SMTP_FROM: '报备系统 <baobei@example.com>', ...env }).smtp;
  if (!smtp) throw new Error('expected SMTP settings');
  return smtp;
}

const record = recordFactsOf(storedRecord());
const registrant: Recipient = { kind: 'person', name: '王磊', role: 'sales', team: '华东一部' };
const reviewer: Recipient = { kind: 'person', name: '钱审核', role: 'reviewer', team: '华东一部' };
const TASK_PANE = taskPaneUrl('https://baobei.example.com');
const docFor = (recipient: Recipient, language: 'zh-CN' | 'en', event = EVENTS[0]!) =>
  composeMessage(event, record, recipient, { language, taskPaneUrl: TASK_PANE });

const channels: EmailChannel[] = [];
const servers: TestSmtp[] = [];
afterEach(async () => {
  for (const c of channels.splice(0)) await c.close();
  for (const s of servers.splice(0)) await s.close();
});
function track<T extends EmailChannel | TestSmtp>(x: T): T {
  if ('send' in x) channels.push(x);
  else servers.push(x);
  return x;
}

describe('email content', () => {
  it('reaches the registrant in zh-CN: subject, text, HTML, link, Message-ID from the dedupe key', async () => {
    const smtp = track(await startSmtp());
    const channel = track(
      createEmailChannel(
        settingsFor({ BAOBEI_SMTP_URL: `smtp://127.0.0.1:${smtp.port}`, BAOBEI_SMTP_REQUIRE_TLS: 'false' }),
      ),
    );
    const result = await channel.send({
      to: { address: 'wang.lei@example.com', name: '王磊' },
      document: docFor(registrant, 'zh-CN'),
      dedupeKey: 'outbox:42',
    });
    expect(result).toMatchObject({ ok: true, providerId: messageIdFor('outbox:42', 'example.com') });
    expect(smtp.received).toHaveLength(1);
    const { envelopeTo, mail } = smtp.received[0]!;
    expect(envelopeTo).toEqual(['wang.lei@example.com']);
    expect(mail.to && !Array.isArray(mail.to) ? mail.to.value : []).toEqual([
      { address: 'wang.lei@example.com', name: '王磊' },
    ]);
    expect(mail.from?.value).toEqual([{ address: 'baobei@example.com', name: '报备系统' }]);
    expect(mail.subject).toBe('[报备] 报备已通过');
    expect(mail.messageId).toBe(messageIdFor('outbox:42', 'example.com'));
    expect(mail.headers.get('auto-submitted')).toBe('auto-generated');
    expect(mail.text).toContain('您的报备 BB-2026-000123（上海华信科技有限公司）已通过，保护至 2026-06-02。');
    expect(mail.text).toContain(`在报备任务窗格中查看: ${TASK_PANE}`);
    expect(mail.html).toContain('<strong>BB-2026-000123</strong>');
    expect(mail.html).toContain(`<a href="${TASK_PANE}">`);
    expect(mail.html).toContain('lang="zh-CN"');
  });

  it('reaches an English-speaking reviewer in English, without the customer name', async () => {
    const smtp = track(await startSmtp());
    const channel = track(
      createEmailChannel(
        settingsFor({ BAOBEI_SMTP_URL: `smtp://127.0.0.1:${smtp.port}`, BAOBEI_SMTP_REQUIRE_TLS: 'false' }),
      ),
    );
    const extension = EVENTS.find((e) => e.type === 'extension.requested')!;
    expect(
      await channel.send({
        to: { address: 'qian@example.com' },
        document: docFor(reviewer, 'en', extension),
      }),
    ).toMatchObject({ ok: true });
    const { mail } = smtp.received[0]!;
    expect(mail.subject).toBe('[Baobei] Extension requested');
    expect(mail.text).toContain(
      'Registration BB-2026-000123 asks for an extension (protected until 2026-06-02); please review.',
    );
    expect(mail.html).toContain('lang="en"');
    expect(`${mail.text}${mail.html}`).not.toContain('上海华信');
  });

  it('[personal data] no email, to anyone, in either language, carries contact, phone, credit code, address or amount', async () => {
    const smtp = track(await startSmtp());
    const channel = track(
      createEmailChannel(
        settingsFor({ BAOBEI_SMTP_URL: `smtp://127.0.0.1:${smtp.port}`, BAOBEI_SMTP_REQUIRE_TLS: 'false' }),
      ),
    );
    for (const event of EVENTS)
      for (const recipient of [registrant, reviewer])
        for (const language of ['zh-CN', 'en'] as const) {
          const r = await channel.send({
            to: { address: 'x@example.com' },
            document: docFor(recipient, language, event),
          });
          expect(r.ok).toBe(true);
        }
    expect(smtp.received).toHaveLength(EVENTS.length * 4);
    for (const { mail } of smtp.received) {
      const all = `${mail.subject}\n${mail.text}\n${mail.html}`;
      for (const value of [
        PERSONAL.contactName,
        PERSONAL.contactPhone,
        PERSONAL.email,
        PERSONAL.creditCode,
        PERSONAL.address,
        PERSONAL.notes,
        ...AMOUNT_FORMS,
      ]) {
        expect(all).not.toContain(value);
      }
    }
  });
});

describe('SMTP answers as delivery results', () => {
  it('a 4xx reply is retryable, a 5xx reply is not; both keep the reply code', async () => {
    const smtp = track(await startSmtp());
    const channel = track(
      createEmailChannel(
        settingsFor({ BAOBEI_SMTP_URL: `smtp://127.0.0.1:${smtp.port}`, BAOBEI_SMTP_REQUIRE_TLS: 'false' }),
      ),
    );
    const busy = await channel.send({
      to: { address: 'busy@example.com' },
      document: docFor(registrant, 'zh-CN'),
    });
    expect(busy).toMatchObject({ ok: false, retryable: true, providerCode: 450 });
    const gone = await channel.send({
      to: { address: 'nobody@example.com' },
      document: docFor(registrant, 'zh-CN'),
    });
    expect(gone).toMatchObject({ ok: false, retryable: false, providerCode: 550 });
    expect(!gone.ok && gone.error).toContain('5.1.1 No such user');
    expect(smtp.received).toHaveLength(0);
    // The pool carries on after refusals.
    expect(
      await channel.send({ to: { address: 'ok@example.com' }, document: docFor(registrant, 'zh-CN') }),
    ).toMatchObject({ ok: true });
  });

  it('a server that is down is a retryable failure', async () => {
    const smtp = await startSmtp();
    const port = smtp.port;
    await smtp.close();
    const channel = track(
      createEmailChannel(
        settingsFor({ BAOBEI_SMTP_URL: `smtp://127.0.0.1:${port}`, BAOBEI_SMTP_REQUIRE_TLS: 'false' }),
        {
          connectTimeoutMs: 2_000,
        },
      ),
    );
    expect(
      await channel.send({ to: { address: 'x@example.com' }, document: docFor(registrant, 'zh-CN') }),
    ).toMatchObject({
      ok: false,
      retryable: true,
    });
  });

  it('authenticates with the URL’s user and password (percent-encoded); a wrong password is 535, not retried', async () => {
    const smtp = track(
      await startSmtp({
        allowInsecureAuth: true,
        authOptional: false,
        onAuth(auth, _session, cb) {
          if (auth.username === 'notify@example.com' && auth.password === 'p@ss:w/rd')
            return cb(null, { user: auth.username });
          cb(SMTP_ERROR(535, '5.7.8 Authentication failed'));
        },
      }),
    );
    const url = (pass: string) =>
      `smtp://notify%40example.com:${encodeURIComponent(pass)}@127.0.0.1:${smtp.port}`;
    const good = track(
      createEmailChannel(
        settingsFor({ BAOBEI_SMTP_URL: url('p@ss:w/rd'), BAOBEI_SMTP_REQUIRE_TLS: 'false' }),
      ),
    );
    expect(await good.verify()).toEqual({ ok: true });
    expect(
      await good.send({ to: { address: 'x@example.com' }, document: docFor(registrant, 'zh-CN') }),
    ).toMatchObject({ ok: true });
    expect(smtp.received[0]?.user).toBe('notify@example.com');
    const bad = track(
      createEmailChannel(settingsFor({ BAOBEI_SMTP_URL: url('wrong'), BAOBEI_SMTP_REQUIRE_TLS: 'false' })),
    );
    const refused = await bad.send({
      to: { address: 'x@example.com' },
      document: docFor(registrant, 'zh-CN'),
    });
    expect(refused).toMatchObject({ ok: false, retryable: false, providerCode: 535 });
    expect(JSON.stringify(refused)).not.toContain('wrong');
  });

  it('keeps a pool: many messages over at most BAOBEI_SMTP_MAX_CONNECTIONS connections', async () => {
    const smtp = track(await startSmtp());
    const channel = track(
      createEmailChannel(
        settingsFor({
          BAOBEI_SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
          BAOBEI_SMTP_REQUIRE_TLS: 'false',
          BAOBEI_SMTP_MAX_CONNECTIONS: '2',
        }),
      ),
    );
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        channel.send({
          to: { address: `user${i}@example.com` },
          document: docFor(registrant, 'zh-CN'),
          dedupeKey: `k${i}`,
        }),
      ),
    );
    expect(results.every((r) => r.ok)).toBe(true);
    expect(smtp.received).toHaveLength(12);
    expect(smtp.connections).toBeLessThanOrEqual(2);
  });
});

describe('TLS', () => {
  let dir: string;
  let caFile: string;
  let key: Buffer;
  let cert: Buffer;

  beforeAll(() => {
    // A company CA and a server certificate it signed, for 127.0.0.1 and localhost.
    dir = mkdtempSync(path.join(os.tmpdir(), 'baobei-smtp-tls-'));
    const at = (f: string) => path.join(dir, f);
    const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
    openssl(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      at('ca.key'),
      '-out',
      at('ca.pem'),
      '-days',
      '2',
      '-subj',
      '/CN=Baobei Test CA',
    );
    openssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      at('server.key'),
      '-out',
      at('server.csr'),
      '-subj',
      '/CN=localhost',
    );
    writeFileSync(at('ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
    openssl(
      'x509',
      '-req',
      '-in',
      at('server.csr'),
      '-CA',
      at('ca.pem'),
      '-CAkey',
      at('ca.key'),
      '-CAcreateserial',
      '-out',
      at('server.pem'),
      '-days',
      '2',
      '-extfile',
      at('ext.cnf'),
    );
    caFile = at('ca.pem');
    key = readFileSync(at('server.key'));
    cert = readFileSync(at('server.pem'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const starttlsServer = () => startSmtp({ disabledCommands: [], key, cert });

  it('STARTTLS required, the server certificate checked against the company CA (BAOBEI_SMTP_TLS_CA)', async () => {
    const smtp = track(await starttlsServer());
    const channel = track(
      createEmailChannel(
        settingsFor({ BAOBEI_SMTP_URL: `smtp://127.0.0.1:${smtp.port}`, BAOBEI_SMTP_TLS_CA: caFile }),
      ),
    );
    expect(
      await channel.send({ to: { address: 'x@example.com' }, document: docFor(registrant, 'zh-CN') }),
    ).toMatchObject({ ok: true });
    expect(smtp.received[0]?.secure).toBe(true);
  });

  it('without the CA the certificate is refused — an administrator must act, so it is not retried', async () => {
    const smtp = track(await starttlsServer());
    const channel = track(
      createEmailChannel(settingsFor({ BAOBEI_SMTP_URL: `smtp://127.0.0.1:${smtp.port}` })),
    );
    const result = await channel.send({
      to: { address: 'x@example.com' },
      document: docFor(registrant, 'zh-CN'),
    });
    expect(result).toMatchObject({
      ok: false,
      retryable: false,
      providerCode: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    });
    expect(smtp.received).toHaveLength(0);
  });

  it('BAOBEI_SMTP_TLS_REJECT_UNAUTHORIZED=false accepts the unknown certificate (still encrypted)', async () => {
    const smtp = track(await starttlsServer());
    const channel = track(
      createEmailChannel(
        settingsFor({
          BAOBEI_SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
          BAOBEI_SMTP_TLS_REJECT_UNAUTHORIZED: 'false',
        }),
      ),
    );
    expect(
      await channel.send({ to: { address: 'x@example.com' }, document: docFor(registrant, 'zh-CN') }),
    ).toMatchObject({ ok: true });
    expect(smtp.received[0]?.secure).toBe(true);
  });

  it('STARTTLS required and the server does not offer it: nothing is sent in clear, not retried', async () => {
    const smtp = track(await startSmtp());
    const channel = track(
      createEmailChannel(settingsFor({ BAOBEI_SMTP_URL: `smtp://127.0.0.1:${smtp.port}` })),
    );
    const result = await channel.send({
      to: { address: 'x@example.com' },
      document: docFor(registrant, 'zh-CN'),
    });
    expect(result).toMatchObject({ ok: false, retryable: false });
    expect(smtp.received).toHaveLength(0);
  });

  it('smtps:// speaks TLS from the first byte', async () => {
    const smtp = track(await startSmtp({ secure: true, key, cert }));
    const channel = track(
      createEmailChannel(
        settingsFor({ BAOBEI_SMTP_URL: `smtps://127.0.0.1:${smtp.port}`, BAOBEI_SMTP_TLS_CA: caFile }),
      ),
    );
    expect(
      await channel.send({ to: { address: 'x@example.com' }, document: docFor(registrant, 'zh-CN') }),
    ).toMatchObject({ ok: true });
    expect(smtp.received[0]?.secure).toBe(true);
  });
});
