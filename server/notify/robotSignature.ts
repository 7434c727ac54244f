/**
 * The two robot signing recipes. They look alike and differ in every detail that matters, so
 * each is written out once here with its source.
 */
import { createHmac } from 'node:crypto';

/**
 * DingTalk custom robot 加签: HMAC-SHA256 with the secret as key over `timestamp + "\n" + secret`,
 * Base64; sent as the `timestamp` (milliseconds) and `sign` query parameters, URL-encoded once.
 * The timestamp may differ from DingTalk's clock by at most one hour.
 * Source: open.dingtalk.com 自定义机器人安全设置 (mirrored at apifox.com/apidoc/docs-site/467052/doc-3550006).
 * Returns the Base64 value; the caller URL-encodes it exactly once (URLSearchParams does).
 */
export function dingtalkSignature(secret: string, timestampMs: number): string {
  return createHmac('sha256', secret).update(`${timestampMs}\n${secret}`, 'utf8').digest('base64');
}

/**
 * Feishu/Lark custom bot 签名校验: HMAC-SHA256 with `timestamp + "\n" + secret` as the KEY over an
 * empty message, Base64; sent in the JSON body as `timestamp` (seconds, a string) and `sign`.
 * At most one hour from Feishu's clock, else code 19021.
 * Source: open.feishu.cn 自定义机器人使用指南, 签名校验 (Python sample: hmac.new(key_enc, b"", sha256)).
 */
export function feishuSignature(secret: string, timestampSec: number): string {
  return createHmac('sha256', `${timestampSec}\n${secret}`).update('').digest('base64');
}
