/**
 * DingTalk (钉钉) custom group robot: a signed POST of a markdown message to the group's webhook.
 * Source for every detail below: open.dingtalk.com 自定义机器人接入 / 消息类型 (mirrored at
 * apifox.com/apidoc/docs-site/467052/doc-3550006 and in the pages cited in docs/notifications.md).
 */
import { failure, type Channel, type DeliveryResult, type RobotMessage } from './channel.js';
import type { RobotOptions } from './robotChannel.js';
import { dingtalkSignature } from './robotSignature.js';
import { neutralText, renderMarkdown, renderWithin } from './robotText.js';
import { answerField, httpFailure, isAnswer, postJson } from './webhookPost.js';

/**
 * "每个机器人每分钟最多发送20条。如果超过20条，会限流10分钟" — 20 per minute per robot, then the robot is
 * throttled for ten minutes (answer: errcode 130101 "send too fast, exceed 20 times per minute").
 */
export const DINGTALK_PER_MINUTE = 20;
export const DINGTALK_THROTTLE_MS = 10 * 60_000;
/** DingTalk publishes no byte limit for markdown that we could find; we keep messages this short. */
export const DINGTALK_MAX_BYTES = 4_000;

/** errcode → retryable? Unknown codes are not retried: they are configuration or content problems. */
const ERRCODES: Record<number, { retryable: boolean; why: string; retryAfterMs?: number }> = {
  // "send too fast, exceed 20 times per minute" (seen in ccfos/nightingale#369).
  130101: {
    retryable: true,
    why: 'send too fast (throttled 10 minutes)',
    retryAfterMs: DINGTALK_THROTTLE_MS,
  },
  // "sign not match" / "invalid timestamp" / "keywords not in content" / "ip not in whitelist".
  310000: { retryable: false, why: 'security check failed (signature, timestamp, keyword or IP)' },
  // "token is not exist": wrong access_token, or the robot was removed.
  300001: { retryable: false, why: 'unknown access_token (robot removed?)' },
  300005: { retryable: false, why: 'unknown access_token (robot removed?)' },
  // DingTalk's generic "系统繁忙".
  [-1]: { retryable: true, why: 'DingTalk busy' },
};

export function createDingtalkRobot(
  settings: { webhookUrl: string; secret: string },
  options: RobotOptions = {},
): Channel<RobotMessage> {
  const clock = options.clock ?? Date.now;
  let closed = false;
  return {
    async send(message: RobotMessage): Promise<DeliveryResult> {
      if (closed) return failure(false, 'channel closed');
      const timestamp = clock();
      const url = new URL(settings.webhookUrl);
      url.searchParams.set('timestamp', String(timestamp));
      // URLSearchParams percent-encodes the Base64 once, which is the "urlEncode" the recipe asks for.
      url.searchParams.set('sign', dingtalkSignature(settings.secret, timestamp));
      const answer = await postJson(url.toString(), dingtalkPayload(message), {
        ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
        ...(message.dedupeKey !== undefined ? { dedupeKey: message.dedupeKey } : {}),
      });
      if (!isAnswer(answer)) return answer;
      if (answer.status === 302) {
        // A robot past its limit is answered with a redirect for the ten minutes of throttling.
        return failure(true, 'throttled (HTTP 302)', 302, DINGTALK_THROTTLE_MS);
      }
      if (answer.status !== 200) return httpFailure(answer);
      const errcode = answerField(answer, 'errcode');
      if (errcode === 0) return { ok: true };
      if (typeof errcode !== 'number') return failure(false, 'answer without errcode');
      const known = ERRCODES[errcode];
      return known
        ? failure(known.retryable, known.why, errcode, known.retryAfterMs)
        : failure(false, `errcode ${errcode}`, errcode);
    },
    async close(): Promise<void> {
      closed = true;
    },
  };
}

/**
 * `markdown` with `at.atMobiles`. DingTalk turns `@<mobile>` in the text into the @mention only
 * when the same mobile is in `atMobiles`, so every mobile is written into the text too.
 */
export function dingtalkPayload(message: RobotMessage): unknown {
  const mobiles = [...new Set(message.mentions.flatMap((m) => (m.mobile ? [m.mobile] : [])))];
  const unreachable = message.mentions.filter((m) => !m.mobile).map((m) => neutralText(m.name));
  const mentionLine = [...mobiles.map((m) => `@${m}`), ...unreachable].join(' ');
  const extra = mentionLine === '' ? 0 : Buffer.byteLength(`\n\n${mentionLine}`, 'utf8');
  const body = renderWithin(message.document, DINGTALK_MAX_BYTES, renderMarkdown, extra);
  return {
    msgtype: 'markdown',
    markdown: {
      title: message.document.title,
      text: mentionLine === '' ? body : `${body}\n\n${mentionLine}`,
    },
    at: { atMobiles: mobiles, isAtAll: false },
  };
}
