/**
 * Feishu / Lark (飞书) custom bot: a signed POST of a rich-text `post` message to the group's
 * webhook. Source: open.feishu.cn 自定义机器人使用指南 (document/client-docs/bot-v3/add-custom-bot,
 * mirrored in the pages cited in docs/notifications.md).
 */
import {
  failure,
  type Channel,
  type DeliveryResult,
  type MessageDocument,
  type RobotMessage,
} from './channel.js';
import type { RobotOptions } from './robotChannel.js';
import { feishuSignature } from './robotSignature.js';
import { longestPrefix } from './robotText.js';
import { answerField, isAnswer, postJson } from './webhookPost.js';

/** "单租户单机器人 100 次/分钟，5 次/秒"; beyond → code 11232 (flow control). */
export const FEISHU_PER_MINUTE = 100;
export const FEISHU_PER_SECOND = 5;
/** "请求体的数据大小不能超过 20 KB" (else code 9499 Bad Request); a margin for the signature fields. */
export const FEISHU_MAX_BODY_BYTES = 19_500;

const CODES: Record<number, { retryable: boolean; why: string; retryAfterMs?: number }> = {
  11232: { retryable: true, why: 'frequency limited', retryAfterMs: 1_000 },
  19021: { retryable: false, why: 'sign match fail or timestamp not within one hour' },
  19022: { retryable: false, why: 'IP not allowed' },
  19024: { retryable: false, why: 'key words not found' },
  9499: { retryable: false, why: 'bad request (format or size)' },
};

export function createFeishuRobot(
  settings: { webhookUrl: string; secret: string },
  options: RobotOptions = {},
): Channel<RobotMessage> {
  const clock = options.clock ?? Date.now;
  let closed = false;
  return {
    async send(message: RobotMessage): Promise<DeliveryResult> {
      if (closed) return failure(false, 'channel closed');
      const timestamp = Math.floor(clock() / 1000);
      const payload = {
        timestamp: String(timestamp),
        sign: feishuSignature(settings.secret, timestamp),
        ...feishuPost(message),
      };
      const answer = await postJson(settings.webhookUrl, payload, {
        ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
        ...(message.dedupeKey !== undefined ? { dedupeKey: message.dedupeKey } : {}),
      });
      if (!isAnswer(answer)) return answer;
      // Feishu carries its code in the body, on 200 and on 400 answers alike.
      const code = answerField(answer, 'code') ?? answerField(answer, 'StatusCode');
      if (answer.status === 200 && code === 0) return { ok: true };
      if (typeof code !== 'number') return failure(false, `HTTP ${answer.status}`, answer.status);
      const msg = answerField(answer, 'msg');
      if (code === 9499 && typeof msg === 'string' && /too many request/i.test(msg)) {
        // Seen under load with HTTP 400 (ccfos/nightingale#1437): the same code, a throttling message.
        return failure(true, 'too many requests', code, 1_000);
      }
      const known = CODES[code];
      return known
        ? failure(known.retryable, known.why, code, known.retryAfterMs)
        : failure(false, `code ${code}`, code);
    },
    async close(): Promise<void> {
      closed = true;
    },
  };
}

type PostElement =
  { tag: 'text'; text: string } | { tag: 'a'; text: string; href: string } | { tag: 'at'; user_id: string };

/**
 * A `post` (富文本). Custom bots can @mention only by open_id / user_id (`{"tag":"at","user_id":…}`),
 * not by mobile: people without a Feishu id are named in plain text instead.
 */
export function feishuPost(message: RobotMessage): { msg_type: 'post'; content: unknown } {
  const doc = message.document;
  const mentions: PostElement[] = message.mentions.map((m) =>
    m.feishuUserId ? { tag: 'at', user_id: m.feishuUserId } : { tag: 'text', text: ` ${m.name}` },
  );
  const build = (paragraphs: MessageDocument['paragraphs'], cut: boolean) => {
    const content: PostElement[][] = paragraphs.map((p) => [
      { tag: 'text', text: p.map((s) => s.text.replace(/\s+/g, ' ')).join('') },
    ]);
    if (cut)
      content.push([
        { tag: 'text', text: doc.language === 'en' ? '…(shortened)' : '……（内容过长，已截断）' },
      ]);
    if (doc.link) content.push([{ tag: 'a', text: doc.link.text, href: doc.link.url }]);
    if (mentions.length > 0) content.push(mentions);
    const locale = doc.language === 'en' ? 'en_us' : 'zh_cn';
    return { msg_type: 'post' as const, content: { post: { [locale]: { title: doc.title, content } } } };
  };
  const post = build(doc.paragraphs, false);
  const fits = (p: ReturnType<typeof build>) =>
    Buffer.byteLength(JSON.stringify(p), 'utf8') <= FEISHU_MAX_BODY_BYTES;
  if (fits(post)) return post;
  const keep = longestPrefix(doc.paragraphs.length - 1, (n) => fits(build(doc.paragraphs.slice(0, n), true)));
  return build(doc.paragraphs.slice(0, keep), true);
}
