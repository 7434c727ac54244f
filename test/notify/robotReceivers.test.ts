/**
 * The fake receivers must refuse what the providers refuse, or the adapter tests prove nothing:
 * raw requests (not our adapters) against each rule.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  expectedDingtalkSign,
  expectedFeishuSign,
  startRobotReceivers,
  type RobotReceivers,
} from '../fakes/robotReceivers.js';

let now = Date.UTC(2026, 4, 11, 1, 0, 0);
let receivers: RobotReceivers;

beforeEach(async () => {
  now = Date.UTC(2026, 4, 11, 1, 0, 0);
  receivers = await startRobotReceivers({ clock: () => now });
});
afterEach(async () => {
  await receivers.close();
});

async function post(url: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const markdown = { msgtype: 'markdown', markdown: { title: 't', text: 'hello' } };

function dingUrl(
  webhookUrl: string,
  secret: string,
  timestamp: number,
  sign = expectedDingtalkSign(secret, String(timestamp)),
) {
  const url = new URL(webhookUrl);
  url.searchParams.set('timestamp', String(timestamp));
  url.searchParams.set('sign', sign);
  return url.toString();
}

describe('DingTalk receiver', () => {
  it('accepts a correctly signed markdown message', async () => {
    const robot = receivers.dingtalk();
    const res = await post(dingUrl(robot.webhookUrl, robot.secret!, now), markdown);
    expect(res.body).toEqual({ errcode: 0, errmsg: 'ok' });
    expect(robot.delivered()).toHaveLength(1);
  });

  it('refuses a missing, wrong, double-encoded or stale signature with errcode 310000', async () => {
    const robot = receivers.dingtalk();
    const secret = robot.secret!;
    expect((await post(robot.webhookUrl, markdown)).body['errcode']).toBe(310000);
    expect((await post(dingUrl(robot.webhookUrl, 'SECother0000000', now), markdown)).body['errcode']).toBe(
      310000,
    );
    const once = expectedDingtalkSign(secret, String(now));
    expect(
      (await post(dingUrl(robot.webhookUrl, secret, now, encodeURIComponent(once)), markdown)).body[
        'errcode'
      ],
    ).toBe(310000);
    const stale = now - 61 * 60_000;
    const res = await post(dingUrl(robot.webhookUrl, secret, stale), markdown);
    expect(res.body).toEqual({ errcode: 310000, errmsg: 'invalid timestamp' });
    // A timestamp 59 minutes old is still fine.
    expect((await post(dingUrl(robot.webhookUrl, secret, now - 59 * 60_000), markdown)).body['errcode']).toBe(
      0,
    );
    expect(robot.delivered()).toHaveLength(1);
  });

  it('refuses an unknown token (300001) and a malformed body', async () => {
    const robot = receivers.dingtalk({ secret: null });
    expect((await post(`${receivers.baseUrl}/robot/send?access_token=nope`, markdown)).body['errcode']).toBe(
      300001,
    );
    expect(
      (await post(robot.webhookUrl, { msgtype: 'markdown', markdown: { title: 't' } })).body['errcode'],
    ).toBe(40035);
    expect((await post(robot.webhookUrl, { msgtype: 'nonsense' })).body['errcode']).toBe(40035);
  });

  it('throttles after 20 a minute with 130101, then blocks the robot for ten minutes', async () => {
    const robot = receivers.dingtalk({ secret: null });
    for (let i = 0; i < 20; i++) {
      expect((await post(robot.webhookUrl, markdown)).body['errcode']).toBe(0);
      now += 1_000;
    }
    expect((await post(robot.webhookUrl, markdown)).body['errcode']).toBe(130101);
    now += 60_000; // the minute has passed, but the robot is blocked
    expect((await post(robot.webhookUrl, markdown)).body['errcode']).toBe(130101);
    now += 10 * 60_000;
    expect((await post(robot.webhookUrl, markdown)).body['errcode']).toBe(0);
    expect(robot.delivered()).toHaveLength(21);
  });

  it('records whether an @mention would show (the mobile must be in the text too)', async () => {
    const robot = receivers.dingtalk({ secret: null });
    await post(robot.webhookUrl, { ...markdown, at: { atMobiles: ['13800000001'] } });
    await post(robot.webhookUrl, {
      msgtype: 'markdown',
      markdown: { title: 't', text: 'hi @13800000001' },
      at: { atMobiles: ['13800000001'] },
    });
    expect(robot.delivered().map((r) => r.mentions?.shown)).toEqual([false, true]);
  });
});

describe('WeCom receiver', () => {
  it('accepts markdown under 4096 bytes and refuses longer, unknown keys and bad types', async () => {
    const robot = receivers.wecom();
    expect((await post(robot.webhookUrl, { msgtype: 'markdown', markdown: { content: 'ok' } })).body).toEqual(
      {
        errcode: 0,
        errmsg: 'ok',
      },
    );
    const long = '报'.repeat(1366); // 4098 bytes
    expect(
      (await post(robot.webhookUrl, { msgtype: 'markdown', markdown: { content: long } })).body['errcode'],
    ).toBe(40058);
    expect((await post(`${receivers.baseUrl}/cgi-bin/webhook/send?key=nope`, markdown)).body['errcode']).toBe(
      93000,
    );
    expect((await post(robot.webhookUrl, { msgtype: 'nope' })).body['errcode']).toBe(40008);
  });

  it('answers 45009 past 20 a minute, and accepts again once the minute has passed', async () => {
    const robot = receivers.wecom();
    const body = { msgtype: 'text', text: { content: 'x' } };
    for (let i = 0; i < 20; i++) expect((await post(robot.webhookUrl, body)).body['errcode']).toBe(0);
    expect((await post(robot.webhookUrl, body)).body['errcode']).toBe(45009);
    now += 60_001;
    expect((await post(robot.webhookUrl, body)).body['errcode']).toBe(0);
  });

  it('honours mentioned_mobile_list in text and records it as ignored in markdown', async () => {
    const robot = receivers.wecom();
    await post(robot.webhookUrl, {
      msgtype: 'text',
      text: { content: 'x', mentioned_mobile_list: ['13800000001'] },
    });
    await post(robot.webhookUrl, {
      msgtype: 'markdown',
      markdown: { content: 'x', mentioned_mobile_list: ['13800000001'] },
    });
    expect(robot.delivered().map((r) => r.mentions?.shown)).toEqual([true, false]);
  });
});

describe('Feishu receiver', () => {
  const post_ = {
    msg_type: 'post',
    content: { post: { zh_cn: { title: 't', content: [[{ tag: 'text', text: 'x' }]] } } },
  };

  it('accepts a signed post and refuses a bad or stale signature with code 19021', async () => {
    const robot = receivers.feishu();
    const ts = String(Math.floor(now / 1000));
    const ok = await post(robot.webhookUrl, {
      timestamp: ts,
      sign: expectedFeishuSign(robot.secret!, ts),
      ...post_,
    });
    expect(ok.body['code']).toBe(0);
    expect((await post(robot.webhookUrl, post_)).body['code']).toBe(19021);
    expect((await post(robot.webhookUrl, { timestamp: ts, sign: 'AAAA', ...post_ })).body['code']).toBe(
      19021,
    );
    const old = String(Math.floor(now / 1000) - 3601);
    expect(
      (
        await post(robot.webhookUrl, {
          timestamp: old,
          sign: expectedFeishuSign(robot.secret!, old),
          ...post_,
        })
      ).body['code'],
    ).toBe(19021);
    expect(robot.delivered()).toHaveLength(1);
  });

  it('refuses bodies over 20 KB and malformed posts with 9499', async () => {
    const robot = receivers.feishu({ secret: null });
    const big = { msg_type: 'text', content: { text: 'x'.repeat(21 * 1024) } };
    expect((await post(robot.webhookUrl, big)).body['code']).toBe(9499);
    expect(
      (await post(robot.webhookUrl, { msg_type: 'post', content: { post: { zh_cn: {} } } })).body['code'],
    ).toBe(9499);
  });

  it('answers 11232 past 5 a second and past 100 a minute', async () => {
    const robot = receivers.feishu({ secret: null });
    for (let i = 0; i < 5; i++) expect((await post(robot.webhookUrl, post_)).body['code']).toBe(0);
    expect((await post(robot.webhookUrl, post_)).body['code']).toBe(11232);
    now += 1_000;
    for (let i = 0; i < 95; i++) {
      now += 250;
      expect((await post(robot.webhookUrl, post_)).body['code']).toBe(0);
    }
    now += 1_000;
    expect((await post(robot.webhookUrl, post_)).body['code']).toBe(11232);
  });
});

describe('failure injection', () => {
  it('fails the next N requests as told, then behaves again', async () => {
    const robot = receivers.wecom();
    const body = { msgtype: 'text', text: { content: 'x' } };
    robot.failNext(1, { kind: 'status', status: 502 });
    robot.failNext(1, { kind: 'errcode', code: 45009, message: 'api freq out of limit' });
    robot.failNext(1, { kind: 'reset' });
    expect((await fetch(robot.webhookUrl, { method: 'POST', body: JSON.stringify(body) })).status).toBe(502);
    expect((await post(robot.webhookUrl, body)).body['errcode']).toBe(45009);
    await expect(fetch(robot.webhookUrl, { method: 'POST', body: JSON.stringify(body) })).rejects.toThrow();
    expect((await post(robot.webhookUrl, body)).body['errcode']).toBe(0);
    expect(robot.requests().map((r) => r.outcome)).toEqual(['injected', 'injected', 'injected', 'delivered']);
  });

  it('acceptThenReset delivers the message but the sender never hears back; dedupe keys count it', async () => {
    const robot = receivers.wecom();
    robot.failNext(1, { kind: 'acceptThenReset' });
    const send = () =>
      fetch(robot.webhookUrl, {
        method: 'POST',
        headers: { 'X-Baobei-Dedupe-Key': 'entry-1' },
        body: JSON.stringify({ msgtype: 'text', text: { content: 'x' } }),
      });
    await expect(send()).rejects.toThrow();
    await send();
    expect(receivers.deliveredKeys().get('entry-1')).toBe(2);
  });
});
