/**
 * WeCom (企业微信) group robot: a POST to the webhook whose `key` query parameter identifies the
 * robot (there is no signing — the key is the secret). Source: developer.work.weixin.qq.com
 * 群机器人配置说明 (document/path/91770, 99398), as quoted in docs/notifications.md.
 */
import { failure, type Channel, type DeliveryResult, type RobotMessage } from './channel.js';
import type { RobotOptions } from './robotChannel.js';
import { renderMarkdown, renderPlain, renderWithin } from './robotText.js';
import { answerField, httpFailure, isAnswer, postJson } from './webhookPost.js';

/** "每个机器人发送的消息不能超过20条/分钟". */
export const WECOM_PER_MINUTE = 20;
/** markdown.content: "最长不超过4096个字节，必须是utf8编码". */
export const WECOM_MARKDOWN_MAX_BYTES = 4_096;
/** text.content: "最长不超过2048个字节". */
export const WECOM_TEXT_MAX_BYTES = 2_048;

export function createWecomRobot(
  settings: { webhookUrl: string },
  options: RobotOptions = {},
): Channel<RobotMessage> {
  let closed = false;
  return {
    async send(message: RobotMessage): Promise<DeliveryResult> {
      if (closed) return failure(false, 'channel closed');
      const answer = await postJson(settings.webhookUrl, wecomPayload(message), {
        ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
        ...(message.dedupeKey !== undefined ? { dedupeKey: message.dedupeKey } : {}),
      });
      if (!isAnswer(answer)) return answer;
      if (answer.status !== 200) return httpFailure(answer);
      const errcode = answerField(answer, 'errcode');
      if (errcode === 0) return { ok: true };
      if (typeof errcode !== 'number') return failure(false, 'answer without errcode');
      // 45009 "api freq out of limit": the 20-per-minute limit; the next minute is free again.
      if (errcode === 45009) return failure(true, 'api freq out of limit', errcode, 60_000);
      // 93000 "invalid webhook url": a wrong or deleted key.
      if (errcode === 93000) return failure(false, 'invalid webhook url (robot removed?)', errcode);
      return failure(false, `errcode ${errcode}`, errcode);
    },
    async close(): Promise<void> {
      closed = true;
    },
  };
}

/**
 * markdown when nobody is to be @mentioned. WeCom's `mentioned_mobile_list` belongs to `text`
 * messages only — a markdown message can @mention only by userid (`<@userid>`), which we do not
 * have — so a message with mentions is sent as text.
 */
export function wecomPayload(message: RobotMessage): unknown {
  const mobiles = [...new Set(message.mentions.flatMap((m) => (m.mobile ? [m.mobile] : [])))];
  if (mobiles.length === 0) {
    return {
      msgtype: 'markdown',
      markdown: { content: renderWithin(message.document, WECOM_MARKDOWN_MAX_BYTES, renderMarkdown) },
    };
  }
  return {
    msgtype: 'text',
    text: {
      content: renderWithin(message.document, WECOM_TEXT_MAX_BYTES, renderPlain),
      mentioned_mobile_list: mobiles,
    },
  };
}
