/**
 * The three robot adapters against the local receivers (test/fakes/robotReceivers.ts), which
 * recompute the signatures and answer like the providers: what goes over the wire, how each
 * answer maps to a DeliveryResult, and the rate planner plus the summary message end to end.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DeliveryResult, MessageDocument, RobotMessage } from '../../server/notify/channel.js';
import { robotSettingsSchema } from '../../server/notify/channelSettings.js';
import { composeMessage, composeSummary, taskPaneUrl } from '../../server/notify/messageComposer.js';
import { recordFactsOf, type NotifyEvent } from '../../server/notify/notifyEvent.js';
import { createRobotChannel } from '../../server/notify/robotChannel.js';
import { planRobotSends, ROBOT_RATE_WINDOWS } from '../../server/notify/robotRateLimit.js';
import { startRobotReceivers, type FakeRobot, type RobotReceivers } from '../fakes/robotReceivers.js';
import { EVENTS, PERSONAL, storedRecord } from './notifyFixtures.js';

const T0 = Date.UTC(2026, 4, 11, 1, 0, 0);
let now = T0;
let receivers: RobotReceivers;
const clock = () => now;

beforeEach(async () => {
  now = T0;
  receivers = await startRobotReceivers({ clock });
});
afterEach(async () => {
  await receivers.close();
});

const facts = recordFactsOf(storedRecord());
const ctx = { language: 'zh-CN' as const, taskPaneUrl: taskPaneUrl('https://baobei.example.com') };
const teamRobot = { kind: 'robot' as const, team: '华东一部' };
const doc = composeMessage(EVENTS[0]!, facts, teamRobot, ctx);
const message = (extra: Partial<RobotMessage> = {}): RobotMessage => ({
  document: doc,
  mentions: [],
  ...extra,
});

function channelFor(
  robot: FakeRobot,
  secret = robot.secret,
  options: { timeoutMs?: number; clock?: () => number } = {},
) {
  const settings = robotSettingsSchema.parse({
    kind: robot.kind,
    webhookUrl: robot.webhookUrl,
    ...(secret !== undefined ? { secret } : {}),
  });
  return createRobotChannel(settings, { clock, ...options });
}

function expectNoSecrets(result: DeliveryResult, robot: FakeRobot) {
  const text = JSON.stringify(result);
  expect(text).not.toContain(robot.token);
  if (robot.secret) expect(text).not.toContain(robot.secret);
}

const long: MessageDocument = {
  ...doc,
  paragraphs: Array.from({ length: 400 }, (_, i) => [
    { text: `第 ${i} 段：保护期提醒，内容较长以测试截断。` },
  ]),
};

describe('DingTalk', () => {
  it('sends a signed markdown message the receiver accepts, with @mentions that show', async () => {
    const robot = receivers.dingtalk();
    const channel = channelFor(robot);
    const result = await channel.send(
      message({
        mentions: [{ name: '王磊', mobile: '13800000001' }, { name: '孙丽' }],
        dedupeKey: 'entry-1',
      }),
    );
    expect(result).toEqual({ ok: true });
    const [req] = robot.delivered();
    expect(req?.body).toMatchObject({
      msgtype: 'markdown',
      markdown: { title: '报备已通过' },
      at: { atMobiles: ['13800000001'] },
    });
    expect(JSON.stringify(req?.body)).toContain('BB-2026-000123');
    expect(req?.mentions).toEqual({ mobiles: ['13800000001'], shown: true });
    expect(req?.dedupeKey).toBe('entry-1');
    expect(Number(req?.query['timestamp'])).toBe(T0);
  });

  it('a wrong secret or a clock more than an hour off is refused (310000) and not retried', async () => {
    const robot = receivers.dingtalk();
    const wrong = await channelFor(robot, 'SECwrongwrongwrong').send(message());
    expect(wrong).toMatchObject({ ok: false, retryable: false, providerCode: 310000 });
    expectNoSecrets(wrong, robot);
    const late = await channelFor(robot, robot.secret, { clock: () => now - 2 * 3_600_000 }).send(message());
    expect(late).toMatchObject({ ok: false, retryable: false, providerCode: 310000 });
    expect(robot.delivered()).toHaveLength(0);
  });

  it('an unknown token is refused (300001) and not retried', async () => {
    const robot = receivers.dingtalk();
    const gone = { ...robot, webhookUrl: robot.webhookUrl.replace(robot.token, 'removedrobot') };
    const result = await channelFor(gone).send(message());
    expect(result).toMatchObject({ ok: false, retryable: false, providerCode: 300001 });
  });

  it('the 21st message in a minute is throttled: 130101, retryable after the ten-minute block', async () => {
    const robot = receivers.dingtalk();
    const channel = channelFor(robot);
    for (let i = 0; i < 20; i++) expect((await channel.send(message())).ok).toBe(true);
    expect(await channel.send(message())).toEqual({
      ok: false,
      retryable: true,
      providerCode: 130101,
      error: 'send too fast (throttled 10 minutes)',
      retryAfterMs: 600_000,
    });
  });

  it('HTTP 5xx, a dropped connection and no answer are retryable; none leaks the URL', async () => {
    const robot = receivers.dingtalk();
    const channel = channelFor(robot, robot.secret, { timeoutMs: 300 });
    robot.failNext(1, { kind: 'status', status: 503 });
    robot.failNext(1, { kind: 'reset' });
    robot.failNext(1, { kind: 'hang' });
    const results = [
      await channel.send(message()),
      await channel.send(message()),
      await channel.send(message()),
    ];
    expect(results[0]).toMatchObject({ ok: false, retryable: true, providerCode: 503 });
    expect(results[1]).toMatchObject({ ok: false, retryable: true });
    expect(results[2]).toMatchObject({ ok: false, retryable: true, providerCode: 'timeout' });
    for (const r of results) expectNoSecrets(r, robot);
    expect(await channel.send(message())).toEqual({ ok: true });
  });

  it('an over-long document is cut to fit rather than refused', async () => {
    const robot = receivers.dingtalk();
    expect(await channelFor(robot).send({ document: long, mentions: [] })).toEqual({ ok: true });
    const text = (robot.delivered()[0]?.body as { markdown: { text: string } }).markdown.text;
    expect(Buffer.byteLength(text, 'utf8')).toBeLessThanOrEqual(4_000);
    expect(text).toContain('已截断');
    expect(text).toContain('taskpane.html');
  });

  it('a closed channel sends nothing', async () => {
    const robot = receivers.dingtalk();
    const channel = channelFor(robot);
    await channel.close();
    expect(await channel.send(message())).toMatchObject({ ok: false, retryable: false });
    expect(robot.requests()).toHaveLength(0);
  });
});

describe('WeCom', () => {
  it('sends markdown without mentions, and text with mentioned_mobile_list when someone is @mentioned', async () => {
    const robot = receivers.wecom();
    const channel = channelFor(robot);
    expect(await channel.send(message())).toEqual({ ok: true });
    expect(await channel.send(message({ mentions: [{ name: '王磊', mobile: '13800000001' }] }))).toEqual({
      ok: true,
    });
    const [md, text] = robot.delivered();
    expect(md?.body).toMatchObject({ msgtype: 'markdown' });
    expect((md?.body as { markdown: { content: string } }).markdown.content).toContain('**BB-2026-000123**');
    expect(text?.body).toMatchObject({ msgtype: 'text', text: { mentioned_mobile_list: ['13800000001'] } });
    expect(text?.mentions?.shown).toBe(true);
  });

  it('45009 (past 20 a minute) is a retryable failure; 93000 (bad key) is not', async () => {
    const robot = receivers.wecom();
    const channel = channelFor(robot);
    for (let i = 0; i < 20; i++) expect((await channel.send(message())).ok).toBe(true);
    expect(await channel.send(message())).toMatchObject({
      ok: false,
      retryable: true,
      providerCode: 45009,
      retryAfterMs: 60_000,
    });
    robot.failNext(1, { kind: 'errcode', code: 93000, message: 'invalid webhook url' });
    const bad = await channel.send(message());
    expect(bad).toMatchObject({ ok: false, retryable: false, providerCode: 93000 });
    expectNoSecrets(bad, robot);
  });

  it('cuts markdown to 4096 bytes and text to 2048 bytes', async () => {
    const robot = receivers.wecom();
    const channel = channelFor(robot);
    expect(await channel.send({ document: long, mentions: [] })).toEqual({ ok: true });
    expect(
      await channel.send({ document: long, mentions: [{ name: '王磊', mobile: '13800000001' }] }),
    ).toEqual({ ok: true });
    expect(robot.delivered()).toHaveLength(2);
  });
});

describe('Feishu', () => {
  it('sends a signed post; @mentions by Feishu user id, others by name in plain text', async () => {
    const robot = receivers.feishu();
    const channel = channelFor(robot);
    const result = await channel.send(
      message({
        mentions: [
          { name: '王磊', feishuUserId: 'ou_abc123' },
          { name: '孙丽', mobile: '13800000002' },
        ],
      }),
    );
    expect(result).toEqual({ ok: true });
    const body = robot.delivered()[0]?.body as {
      timestamp: string;
      msg_type: string;
      content: { post: { zh_cn: { title: string; content: unknown[][] } } };
    };
    expect(body.timestamp).toBe(String(T0 / 1000));
    expect(body.msg_type).toBe('post');
    expect(body.content.post.zh_cn.title).toBe('报备已通过');
    const elements = body.content.post.zh_cn.content.flat();
    expect(elements).toContainEqual({ tag: 'at', user_id: 'ou_abc123' });
    expect(elements).toContainEqual({
      tag: 'a',
      text: '在报备任务窗格中查看',
      href: 'https://baobei.example.com/addin/taskpane.html',
    });
    expect(JSON.stringify(body)).not.toContain('13800000002');
  });

  it('a bad signature is refused (19021, not retried); 11232 and 9499 "too many request" are retried', async () => {
    const robot = receivers.feishu();
    expect(await channelFor(robot, 'not-the-secret-xyz').send(message())).toMatchObject({
      ok: false,
      retryable: false,
      providerCode: 19021,
    });
    const channel = channelFor(robot);
    for (let i = 0; i < 5; i++) expect((await channel.send(message())).ok).toBe(true);
    expect(await channel.send(message())).toMatchObject({ ok: false, retryable: true, providerCode: 11232 });
    now += 1_000;
    robot.failNext(1, {
      kind: 'status',
      status: 400,
      body: { code: 9499, msg: 'too many request', data: {} },
    });
    expect(await channel.send(message())).toMatchObject({ ok: false, retryable: true, providerCode: 9499 });
    robot.failNext(1, { kind: 'errcode', code: 9499, message: 'Bad Request' });
    expect(await channel.send(message())).toMatchObject({ ok: false, retryable: false, providerCode: 9499 });
  });

  it('keeps the body under 20 KB', async () => {
    const robot = receivers.feishu();
    const huge = { ...long, paragraphs: [...long.paragraphs, ...long.paragraphs, ...long.paragraphs] };
    expect(await channelFor(robot).send({ document: huge, mentions: [] })).toEqual({ ok: true });
    expect(Buffer.byteLength(robot.delivered()[0]!.rawBody, 'utf8')).toBeLessThanOrEqual(20 * 1024);
  });
});

describe('rate planner + summary message against the receivers', () => {
  /** Drives the planner like the outbox worker will: plan, send, remember send times, advance the clock. */
  async function deliver(
    robot: FakeRobot,
    events: { event: NotifyEvent; record: typeof facts }[],
    arrivalGapMs = 0,
  ) {
    const channel = channelFor(robot);
    const windows = ROBOT_RATE_WINDOWS[robot.kind];
    const sends: number[] = [];
    const pending = [...events.keys()];
    const arrivals = events.map((_, i) => T0 + i * arrivalGapMs);
    const outcome = new Map<number, 'single' | 'summary'>();
    let waiting: number[] = [];
    for (let step = 0; step < 1_000 && outcome.size < events.length; step++) {
      while (pending.length > 0 && arrivals[pending[0]!]! <= now) waiting.push(pending.shift()!);
      const plan = planRobotSends({ now, waiting, recentSends: sends, windows });
      for (const i of plan.individual) {
        const { event, record } = events[i]!;
        sends.push(now);
        const r = await channel.send({
          document: composeMessage(event, record, teamRobot, ctx),
          mentions: [],
        });
        expect(r, `message ${i}`).toEqual({ ok: true });
        outcome.set(i, 'single');
      }
      if (plan.summarized.length > 0) {
        sends.push(now);
        const summary = composeSummary(
          plan.summarized.map((i) => events[i]!),
          teamRobot,
          ctx,
        );
        expect(await channel.send({ document: summary, mentions: [] })).toEqual({ ok: true });
        for (const i of plan.summarized) outcome.set(i, 'summary');
      }
      const done = new Set([...plan.individual, ...plan.summarized]);
      waiting = waiting.filter((w) => !done.has(w));
      const nextArrival = pending.length > 0 ? arrivals[pending[0]!]! : Infinity;
      now = Math.min(plan.nextCheckAt ?? Infinity, nextArrival);
      if (!Number.isFinite(now)) break;
    }
    return outcome;
  }

  const burst = (n: number) =>
    Array.from({ length: n }, (_, i) => {
      const no = `BB-2026-8${String(i).padStart(5, '0')}`;
      const event = EVENTS[(i * 7) % EVENTS.length]!;
      return { event: { ...event, recordNo: no }, record: { ...facts, no } };
    });

  for (const kind of ['dingtalk', 'wecom'] as const) {
    it(`${kind}: a burst of 45 becomes 19 messages and one summary, none throttled, none lost`, async () => {
      const robot = kind === 'dingtalk' ? receivers.dingtalk() : receivers.wecom();
      const outcome = await deliver(robot, burst(45));
      expect([...outcome.values()].filter((o) => o === 'single')).toHaveLength(19);
      expect([...outcome.values()].filter((o) => o === 'summary')).toHaveLength(26);
      const requests = robot.requests();
      expect(requests).toHaveLength(20);
      expect(requests.every((r) => r.outcome === 'delivered')).toBe(true);
      const summary = JSON.stringify(requests[19]!.body);
      expect(summary).toContain('报备通知汇总（26 条）');
      expect(summary).toContain('BB-2026-800019');
      expect(summary).not.toContain(PERSONAL.contactPhone);
    });
  }

  it('dingtalk: a steady stream of one message every 2 s over 3 minutes is delivered whole, never throttled', async () => {
    const robot = receivers.dingtalk();
    const outcome = await deliver(robot, burst(90), 2_000);
    expect(outcome.size).toBe(90);
    expect(robot.requests().every((r) => r.outcome === 'delivered')).toBe(true);
  });

  it('without the planner the same burst gets the robot blocked (the receiver is not lenient)', async () => {
    const robot = receivers.dingtalk();
    const channel = channelFor(robot);
    const results: DeliveryResult[] = [];
    for (const { event, record } of burst(25)) {
      results.push(
        await channel.send({ document: composeMessage(event, record, teamRobot, ctx), mentions: [] }),
      );
    }
    expect(results.filter((r) => !r.ok)).toHaveLength(5);
  });

  it('feishu: a burst of 150 goes out at most 5 a second, 99 singly and one summary', async () => {
    const robot = receivers.feishu();
    const outcome = await deliver(robot, burst(150));
    expect([...outcome.values()].filter((o) => o === 'single')).toHaveLength(99);
    expect(robot.requests().every((r) => r.outcome === 'delivered')).toBe(true);
    expect(robot.requests()).toHaveLength(100);
  });
});
