import { describe, expect, it } from 'vitest';
import { dingtalkSignature, feishuSignature } from '../../server/notify/robotSignature.js';
import { expectedDingtalkSign, expectedFeishuSign } from '../fakes/robotReceivers.js';

// Vectors computed with the providers' own Python samples (DingTalk: hmac.new(secret, f"{ts}\n{secret}",
// sha256) then base64 then quote_plus; Feishu: hmac.new(f"{ts}\n{secret}", b"", sha256) then base64),
// run outside this code base, so neither our adapter nor our fake receiver grades its own homework.
const DING = {
  secret: 'SECtest-dingtalk-secret-0123456789abcdef',
  timestamp: 1767225600000,
  base64: '5Hnnb1CMip93suEbprdpYIy9MxBmz0H/TyltDFdTi84=',
  urlEncoded: '5Hnnb1CMip93suEbprdpYIy9MxBmz0H%2FTyltDFdTi84%3D',
};
const FEISHU = {
  secret: 'feishu-test-secret-abcdef',
  timestamp: 1767225600,
  base64: 'mRU9tThPm+SgyraeW3mPWQwPB7OFcBGKrOhYLACsbQs=',
};

describe('robot signatures', () => {
  it('DingTalk: HMAC-SHA256(key = secret, timestamp\\nsecret), Base64 — matches the reference sample', () => {
    expect(dingtalkSignature(DING.secret, DING.timestamp)).toBe(DING.base64);
    expect(expectedDingtalkSign(DING.secret, String(DING.timestamp))).toBe(DING.base64);
  });

  it('DingTalk: the sign query parameter is URL-encoded exactly once', () => {
    const url = new URL('https://oapi.dingtalk.com/robot/send?access_token=abc');
    url.searchParams.set('timestamp', String(DING.timestamp));
    url.searchParams.set('sign', dingtalkSignature(DING.secret, DING.timestamp));
    expect(url.search).toContain(`sign=${DING.urlEncoded}`);
  });

  it('Feishu: HMAC-SHA256(key = timestamp\\nsecret, empty message), Base64 — matches the reference sample', () => {
    expect(feishuSignature(FEISHU.secret, FEISHU.timestamp)).toBe(FEISHU.base64);
    expect(expectedFeishuSign(FEISHU.secret, String(FEISHU.timestamp))).toBe(FEISHU.base64);
  });

  it('the two recipes differ (swapping key and message breaks the signature)', () => {
    expect(feishuSignature(DING.secret, DING.timestamp)).not.toBe(
      dingtalkSignature(DING.secret, DING.timestamp),
    );
  });
});
