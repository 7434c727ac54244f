/**
 * Email through nodemailer's pooled SMTP transport: one message per recipient, plain text plus a
 * simple HTML part, in the recipient's language, with a link to the task pane. SMTP answers map
 * to `DeliveryResult`: 4xx replies are worth retrying, 5xx are not (RFC 5321 reply classes, as
 * nodemailer marks them in `err.permanent`), and the reply code is kept.
 */
import { createHash } from 'node:crypto';
import nodemailer from 'nodemailer';
import type { NodemailerError } from 'nodemailer';
import {
  failure,
  type Channel,
  type DeliveryResult,
  type EmailMessage,
  type MessageDocument,
} from './channel.js';
import type { SmtpSettings } from './channelSettings.js';

/** Errors that end a connection rather than judge the message: the next attempt may well succeed. */
const TRANSIENT_CODES = new Set(['ECONNECTION', 'ETIMEDOUT', 'ESOCKET', 'EDNS', 'EPROTOCOL', 'EMAXLIMIT']);

export interface EmailChannel extends Channel<EmailMessage> {
  /** Connects, upgrades TLS and authenticates without sending (the admin "test" of the setup). */
  verify(): Promise<DeliveryResult>;
}

export interface EmailOptions {
  /** Connect / greeting timeout, ms. */
  connectTimeoutMs?: number;
  /** Idle socket timeout, ms. */
  socketTimeoutMs?: number;
}

export function createEmailChannel(settings: SmtpSettings, options: EmailOptions = {}): EmailChannel {
  const transport = nodemailer.createTransport({
    pool: true,
    maxConnections: settings.maxConnections,
    host: settings.host,
    port: settings.port,
    secure: settings.secure,
    requireTLS: settings.requireTLS,
    ...(settings.auth ? { auth: { user: settings.auth.user, pass: settings.auth.pass } } : {}),
    tls: {
      rejectUnauthorized: settings.tls.rejectUnauthorized,
      minVersion: 'TLSv1.2',
      ...(settings.tls.ca !== undefined ? { ca: settings.tls.ca } : {}),
    },
    connectionTimeout: options.connectTimeoutMs ?? 10_000,
    greetingTimeout: options.connectTimeoutMs ?? 10_000,
    socketTimeout: options.socketTimeoutMs ?? 30_000,
    // nodemailer's own logger would print message content and the AUTH exchange.
    logger: false,
    debug: false,
    // Messages are built from our own text only; nothing may make nodemailer read files or URLs.
    disableFileAccess: true,
    disableUrlAccess: true,
  });
  const fromDomain = settings.from.address.split('@')[1] ?? 'baobei.local';
  let closed = false;
  return {
    async send(message: EmailMessage): Promise<DeliveryResult> {
      if (closed) return failure(false, 'channel closed');
      const { subject, text, html } = renderEmail(message.document);
      try {
        const info = await transport.sendMail({
          from: settings.from.name
            ? { name: settings.from.name, address: settings.from.address }
            : settings.from.address,
          to: message.to.name ? { name: message.to.name, address: message.to.address } : message.to.address,
          subject,
          text,
          html,
          ...(message.dedupeKey !== undefined
            ? { messageId: messageIdFor(message.dedupeKey, fromDomain) }
            : {}),
          // RFC 3834: no out-of-office replies to a notification.
          headers: { 'Auto-Submitted': 'auto-generated' },
        });
        return { ok: true, providerId: info.messageId };
      } catch (err) {
        return smtpFailure(err as NodemailerError);
      }
    },
    async verify(): Promise<DeliveryResult> {
      try {
        await transport.verify();
        return { ok: true };
      } catch (err) {
        return smtpFailure(err as NodemailerError);
      }
    },
    async close(): Promise<void> {
      closed = true;
      transport.close();
    },
  };
}

/** The same outbox entry always gets the same Message-ID (a digest: the key itself stays private). */
export function messageIdFor(dedupeKey: string, domain: string): string {
  return `<${createHash('sha256').update(dedupeKey).digest('hex').slice(0, 32)}@${domain}>`;
}

function smtpFailure(err: NodemailerError): DeliveryResult {
  if (typeof err.responseCode === 'number') {
    const code = err.responseCode;
    const retryable = err.permanent !== undefined ? !err.permanent : code < 500;
    const reply = (err.response ?? '').replace(/\s+/g, ' ').slice(0, 200);
    return failure(
      retryable,
      `SMTP ${code}${err.command ? ` to ${err.command}` : ''}${reply ? `: ${reply}` : ''}`,
      code,
    );
  }
  // A certificate we cannot trust arrives as a socket error, but it will not change by itself
  // (Node's codes: UNABLE_TO_VERIFY_LEAF_SIGNATURE, SELF_SIGNED_CERT_IN_CHAIN, CERT_HAS_EXPIRED,
  // ERR_TLS_CERT_ALTNAME_INVALID, …).
  const original = err.originalCode;
  if (original !== undefined && /CERT|SIGNATURE|ERR_TLS/.test(original)) {
    return failure(false, `TLS certificate not trusted: ${err.message}`.slice(0, 300), original);
  }
  const code = err.code;
  // TLS, authentication and configuration problems need an administrator, not another attempt.
  return failure(
    code !== undefined && TRANSIENT_CODES.has(code),
    `${code ?? 'error'}: ${err.message}`.slice(0, 300),
    code,
  );
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};
function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

/** Subject, plain text and a simple HTML part (no images, no external resources). */
export function renderEmail(doc: MessageDocument): { subject: string; text: string; html: string } {
  const zh = doc.language === 'zh-CN';
  const footer = zh
    ? '此邮件由报备系统自动发送，请勿直接回复。'
    : 'Sent automatically by Baobei; please do not reply.';
  const subject = `${zh ? '[报备]' : '[Baobei]'} ${doc.title}`;
  const text = [
    doc.title,
    '',
    ...doc.paragraphs.flatMap((p) => [p.map((s) => s.text).join(''), '']),
    ...(doc.link ? [`${doc.link.text}: ${doc.link.url}`, ''] : []),
    '--',
    footer,
  ].join('\n');
  const paragraphs = doc.paragraphs
    .map(
      (p) =>
        `<p>${p.map((s) => (s.strong ? `<strong>${escapeHtml(s.text)}</strong>` : escapeHtml(s.text))).join('')}</p>`,
    )
    .join('\n');
  const link = doc.link
    ? `<p><a href="${escapeHtml(doc.link.url)}">${escapeHtml(doc.link.text)}</a></p>`
    : '';
  const html = `<!doctype html>
<html lang="${zh ? 'zh-CN' : 'en'}"><head><meta charset="utf-8"><title>${escapeHtml(doc.title)}</title></head>
<body style="font-family: sans-serif; line-height: 1.5">
<h2 style="font-size: 16px">${escapeHtml(doc.title)}</h2>
${paragraphs}
${link}
<p style="color: #888; font-size: 12px">${escapeHtml(footer)}</p>
</body></html>`;
  return { subject, text, html };
}
