/**
 * Local stand-ins for the DingTalk, WeCom and Feishu robot webhooks, on one HTTP server, enforcing
 * what the real ones enforce: DingTalk and Feishu signatures recomputed and checked (missing, wrong
 * and stale signatures refused as the providers refuse them), unknown tokens refused, message
 * bodies checked against each provider's format and size limits, and throttling — 20 a minute per
 * DingTalk robot (then a ten-minute block), 20 a minute per WeCom robot, 100 a minute and 5 a
 * second per Feishu bot — answered with the providers' codes in HTTP 200 bodies. Every request is
 * recorded; failures can be injected (`failNext`) for retry, crash and throughput tests. The
 * clock is injectable so signatures and windows can be tested without waiting.
 * Provider rules and their sources: docs/notifications.md.
 */
import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type RobotKind = 'dingtalk' | 'wecom' | 'feishu';

export type InjectedFailure =
  /** Answer with this HTTP status (and body), e.g. 500 or 502. */
  | { kind: 'status'; status: number; body?: unknown }
  /** The provider's error code in an HTTP 200 body (DingTalk/WeCom `errcode`, Feishu `code`). */
  | { kind: 'errcode'; code: number; message: string }
  /** Close the connection without answering; nothing is delivered. */
  | { kind: 'reset' }
  /** Deliver the message (it reaches the group), then close the connection without answering. */
  | { kind: 'acceptThenReset' }
  /** Never answer (until the receivers close); nothing is delivered. */
  | { kind: 'hang' };

export interface ReceivedRequest {
  seq: number;
  /** Receiver clock, ms. */
  at: number;
  kind: RobotKind;
  /** The robot's token / key ('' when the URL named none). */
  robot: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  /** The JSON body (undefined when it was not JSON). */
  body: unknown;
  rawBody: string;
  dedupeKey?: string;
  /** delivered: the group sees it. The rest: refused by a rule, or an injected failure. */
  outcome: 'delivered' | 'refused' | 'throttled' | 'injected';
  /** The provider code of a refusal (errcode / code). */
  code?: number;
  answer: { status: number; body: unknown } | 'reset' | 'hang';
  /** Mobiles asked to be @mentioned, and whether the provider would show the @mention. */
  mentions?: { mobiles: string[]; shown: boolean };
}

export interface FakeRobot {
  kind: RobotKind;
  token: string;
  secret?: string;
  webhookUrl: string;
  /** Every request to this robot. */
  requests(): ReceivedRequest[];
  /** What reached the group. */
  delivered(): ReceivedRequest[];
  /** The next `count` requests to this robot fail this way (before any rule is checked). */
  failNext(count: number, failure: InjectedFailure): void;
  /**
   * The next `count` requests to this robot reach it `ms` late (a slow network): they are judged,
   * counted against the limits and stamped when they arrive, not when they were sent.
   */
  delayNext(count: number, ms: number): void;
}

export interface RobotReceivers {
  baseUrl: string;
  dingtalk(options?: { secret?: string | null; token?: string }): FakeRobot;
  wecom(options?: { key?: string }): FakeRobot;
  feishu(options?: { secret?: string | null; token?: string }): FakeRobot;
  /** Every request to any robot, in arrival order. */
  readonly requests: readonly ReceivedRequest[];
  /** The next `count` requests to any robot fail this way. */
  failNext(count: number, failure: InjectedFailure): void;
  /** How often each `X-Baobei-Dedupe-Key` was delivered (a key delivered twice is a duplicate). */
  deliveredKeys(): Map<string, number>;
  close(): Promise<void>;
}

/** DingTalk: "每个机器人每分钟最多发送20条。如果超过20条，会限流10分钟". */
export const DINGTALK_LIMIT = { perMinute: 20, blockMs: 10 * 60_000 };
/** WeCom: "每个机器人发送的消息不能超过20条/分钟". */
export const WECOM_LIMIT = { perMinute: 20 };
/** Feishu: "单租户单机器人 100 次/分钟，5 次/秒"; request body at most 20 KB. */
export const FEISHU_LIMIT = { perMinute: 100, perSecond: 5, maxBodyBytes: 20 * 1024 };
/** Both signing providers accept a timestamp at most one hour from their clock. */
export const SIGNATURE_MAX_SKEW_MS = 60 * 60_000;

const MAX_REQUEST_BYTES = 1024 * 1024;

interface RobotState {
  kind: RobotKind;
  token: string;
  secret?: string;
  /** Receiver times of delivered requests (the providers count messages sent). */
  sends: number[];
  blockedUntil: number;
  failures: InjectedFailure[];
  delays: number[];
}

type Verdict =
  | { outcome: 'delivered'; body: unknown; mentions?: ReceivedRequest['mentions'] }
  | {
      outcome: 'refused' | 'throttled';
      code: number;
      body: unknown;
      status?: number;
      mentions?: ReceivedRequest['mentions'];
    };

export async function startRobotReceivers(options: { clock?: () => number } = {}): Promise<RobotReceivers> {
  const clock = options.clock ?? Date.now;
  const robots = new Map<string, RobotState>();
  const requests: ReceivedRequest[] = [];
  const globalFailures: InjectedFailure[] = [];
  const sockets = new Set<Socket>();
  let seq = 0;
  let counter = 0;

  const server = createServer((req, res) => {
    void handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const rawBody = await readBody(req);
    const url = new URL(req.url ?? '/', baseUrl);
    const query = Object.fromEntries(url.searchParams);
    const route = routeOf(url);
    let body: unknown;
    try {
      body = JSON.parse(rawBody);
    } catch {
      body = undefined;
    }
    const dedupe = req.headers['x-baobei-dedupe-key'];
    const delay = route ? robots.get(`${route.kind}:${route.token}`)?.delays.shift() : undefined;
    if (delay !== undefined) await new Promise((r) => setTimeout(r, delay));
    const base = {
      seq: ++seq,
      at: clock(),
      kind: route?.kind ?? 'dingtalk',
      robot: route?.token ?? '',
      query,
      headers: req.headers,
      body,
      rawBody,
      ...(typeof dedupe === 'string' ? { dedupeKey: dedupe } : {}),
    };
    if (req.method !== 'POST' || !route) {
      requests.push({ ...base, outcome: 'refused', answer: { status: 404, body: undefined } });
      res.writeHead(404).end();
      return;
    }
    const robot = robots.get(`${route.kind}:${route.token}`);
    const injected = robot?.failures.shift() ?? globalFailures.shift();
    if (injected && injected.kind !== 'acceptThenReset') {
      answerInjected(injected, route.kind, base, res);
      return;
    }
    const verdict = judge(route.kind, robot, query, body, rawBody, base.at);
    if (verdict.outcome === 'delivered' && robot) robot.sends.push(base.at);
    if (injected?.kind === 'acceptThenReset') {
      requests.push({ ...base, ...verdictFields(verdict), answer: 'reset' });
      req.socket.destroy();
      return;
    }
    const status = 'status' in verdict && verdict.status !== undefined ? verdict.status : 200;
    requests.push({ ...base, ...verdictFields(verdict), answer: { status, body: verdict.body } });
    res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(verdict.body));
  }

  function verdictFields(v: Verdict): Pick<ReceivedRequest, 'outcome' | 'code' | 'mentions'> {
    return {
      outcome: v.outcome,
      ...('code' in v ? { code: v.code } : {}),
      ...(v.mentions ? { mentions: v.mentions } : {}),
    };
  }

  function answerInjected(
    failure: Exclude<InjectedFailure, { kind: 'acceptThenReset' }>,
    kind: RobotKind,
    base: Omit<ReceivedRequest, 'outcome' | 'answer'>,
    res: ServerResponse,
  ): void {
    switch (failure.kind) {
      case 'status': {
        requests.push({
          ...base,
          outcome: 'injected',
          answer: { status: failure.status, body: failure.body },
        });
        res
          .writeHead(failure.status, { 'Content-Type': 'application/json' })
          .end(JSON.stringify(failure.body ?? {}));
        return;
      }
      case 'errcode': {
        const body =
          kind === 'feishu'
            ? feishuError(failure.code, failure.message)
            : { errcode: failure.code, errmsg: failure.message };
        requests.push({ ...base, outcome: 'injected', code: failure.code, answer: { status: 200, body } });
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
        return;
      }
      case 'reset':
        requests.push({ ...base, outcome: 'injected', answer: 'reset' });
        res.socket?.destroy();
        return;
      case 'hang':
        requests.push({ ...base, outcome: 'injected', answer: 'hang' });
        return;
    }
  }

  function judge(
    kind: RobotKind,
    robot: RobotState | undefined,
    query: Record<string, string>,
    body: unknown,
    rawBody: string,
    now: number,
  ): Verdict {
    switch (kind) {
      case 'dingtalk':
        return judgeDingtalk(robot, query, body, now);
      case 'wecom':
        return judgeWecom(robot, body, now);
      case 'feishu':
        return judgeFeishu(robot, body, rawBody, now);
    }
  }

  function register(kind: RobotKind, token: string, secret: string | undefined): FakeRobot {
    const state: RobotState = {
      kind,
      token,
      ...(secret !== undefined ? { secret } : {}),
      sends: [],
      blockedUntil: 0,
      failures: [],
      delays: [],
    };
    robots.set(`${kind}:${token}`, state);
    const webhookUrl =
      kind === 'dingtalk'
        ? `${baseUrl}/robot/send?access_token=${token}`
        : kind === 'wecom'
          ? `${baseUrl}/cgi-bin/webhook/send?key=${token}`
          : `${baseUrl}/open-apis/bot/v2/hook/${token}`;
    const mine = () => requests.filter((r) => r.kind === kind && r.robot === token);
    return {
      kind,
      token,
      ...(secret !== undefined ? { secret } : {}),
      webhookUrl,
      requests: mine,
      delivered: () => mine().filter((r) => r.outcome === 'delivered'),
      failNext(count, failure) {
        for (let i = 0; i < count; i++) state.failures.push(failure);
      },
      delayNext(count, ms) {
        for (let i = 0; i < count; i++) state.delays.push(ms);
      },
    };
  }

  const next = (prefix: string) =>
    `${prefix}${(++counter).toString(16).padStart(8, '0')}${'ab12cd34'.repeat(4)}`;

  return {
    baseUrl,
    dingtalk(o = {}) {
      const secret = o.secret === null ? undefined : (o.secret ?? `SEC${next('')}`);
      return register('dingtalk', o.token ?? next('dt'), secret);
    },
    wecom(o = {}) {
      return register('wecom', o.key ?? `${next('wc')}`.slice(0, 36), undefined);
    },
    feishu(o = {}) {
      const secret = o.secret === null ? undefined : (o.secret ?? next('fs'));
      return register('feishu', o.token ?? next('fh'), secret);
    },
    requests,
    failNext(count, failure) {
      for (let i = 0; i < count; i++) globalFailures.push(failure);
    },
    deliveredKeys() {
      const keys = new Map<string, number>();
      for (const r of requests) {
        if (r.outcome === 'delivered' && r.dedupeKey !== undefined)
          keys.set(r.dedupeKey, (keys.get(r.dedupeKey) ?? 0) + 1);
      }
      return keys;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function routeOf(url: URL): { kind: RobotKind; token: string } | undefined {
  if (url.pathname === '/robot/send')
    return { kind: 'dingtalk', token: url.searchParams.get('access_token') ?? '' };
  if (url.pathname === '/cgi-bin/webhook/send')
    return { kind: 'wecom', token: url.searchParams.get('key') ?? '' };
  const hook = /^\/open-apis\/bot\/v2\/hook\/([^/]+)$/.exec(url.pathname);
  if (hook) return { kind: 'feishu', token: hook[1] ?? '' };
  return undefined;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_REQUEST_BYTES) break;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function within(sends: number[], now: number, ms: number): number {
  return sends.filter((s) => s > now - ms && s <= now).length;
}

const obj = (x: unknown): Record<string, unknown> | undefined =>
  typeof x === 'object' && x !== null && !Array.isArray(x) ? (x as Record<string, unknown>) : undefined;
const nonEmpty = (x: unknown): x is string => typeof x === 'string' && x.trim() !== '';

// ---------------------------------------------------------------------------------------------
// DingTalk

/** Recomputed as the DingTalk docs describe (HMAC-SHA256, key = secret, over `timestamp\nsecret`, Base64). */
export function expectedDingtalkSign(secret: string, timestamp: string): string {
  return createHmac('sha256', Buffer.from(secret, 'utf8'))
    .update(Buffer.from(`${timestamp}\n${secret}`, 'utf8'))
    .digest('base64');
}

function dingtalkError(errcode: number, errmsg: string, status?: number): Verdict {
  return {
    outcome: errcode === 130101 ? 'throttled' : 'refused',
    code: errcode,
    body: { errcode, errmsg },
    ...(status !== undefined ? { status } : {}),
  };
}

function judgeDingtalk(
  robot: RobotState | undefined,
  query: Record<string, string>,
  body: unknown,
  now: number,
): Verdict {
  if (!robot) return dingtalkError(300001, 'token is not exist');
  if (robot.secret !== undefined) {
    const timestamp = query['timestamp'];
    const sign = query['sign'];
    if (timestamp === undefined || sign === undefined || !/^\d+$/.test(timestamp))
      return dingtalkError(310000, 'sign not match');
    if (Math.abs(now - Number(timestamp)) > SIGNATURE_MAX_SKEW_MS)
      return dingtalkError(310000, 'invalid timestamp');
    // `sign` arrives URL-decoded once; a client that encoded twice sends `%2B…` here and fails.
    if (sign !== expectedDingtalkSign(robot.secret, timestamp))
      return dingtalkError(310000, 'sign not match');
  }
  if (robot.blockedUntil > now) return dingtalkError(130101, 'send too fast, exceed 20 times per minute');
  const b = obj(body);
  const msgtype = b?.['msgtype'];
  let mentions: ReceivedRequest['mentions'];
  if (msgtype === 'text') {
    if (!nonEmpty(obj(b?.['text'])?.['content'])) return dingtalkError(40035, 'missing text.content');
  } else if (msgtype === 'markdown') {
    const md = obj(b?.['markdown']);
    if (!nonEmpty(md?.['title']) || !nonEmpty(md?.['text']))
      return dingtalkError(40035, 'missing markdown.title or markdown.text');
    const mobiles = obj(b?.['at'])?.['atMobiles'];
    if (Array.isArray(mobiles) && mobiles.length > 0) {
      // An @mention shows only when `@<mobile>` is written in the markdown text too.
      const text = md?.['text'] as string;
      mentions = {
        mobiles: mobiles.map(String),
        shown: mobiles.every((m) => text.includes(`@${String(m)}`)),
      };
    }
  } else if (!['link', 'actionCard', 'feedCard'].includes(String(msgtype))) {
    return dingtalkError(40035, 'invalid msgtype');
  }
  if (within(robot.sends, now, 60_000) >= DINGTALK_LIMIT.perMinute) {
    robot.blockedUntil = now + DINGTALK_LIMIT.blockMs;
    return dingtalkError(130101, 'send too fast, exceed 20 times per minute');
  }
  return { outcome: 'delivered', body: { errcode: 0, errmsg: 'ok' }, ...(mentions ? { mentions } : {}) };
}

// ---------------------------------------------------------------------------------------------
// WeCom

function wecomError(errcode: number, errmsg: string): Verdict {
  return { outcome: errcode === 45009 ? 'throttled' : 'refused', code: errcode, body: { errcode, errmsg } };
}

function judgeWecom(robot: RobotState | undefined, body: unknown, now: number): Verdict {
  if (!robot) return wecomError(93000, 'invalid webhook url');
  const b = obj(body);
  const msgtype = b?.['msgtype'];
  let mentions: ReceivedRequest['mentions'];
  if (msgtype === 'text') {
    const text = obj(b?.['text']);
    const content = text?.['content'];
    if (!nonEmpty(content)) return wecomError(44004, 'empty content');
    if (Buffer.byteLength(content, 'utf8') > 2048)
      return wecomError(40058, 'text.content exceed max length 2048');
    const mobiles = text?.['mentioned_mobile_list'];
    if (Array.isArray(mobiles) && mobiles.length > 0)
      mentions = { mobiles: mobiles.map(String), shown: true };
  } else if (msgtype === 'markdown') {
    const md = obj(b?.['markdown']);
    const content = md?.['content'];
    if (!nonEmpty(content)) return wecomError(44004, 'empty content');
    if (Buffer.byteLength(content, 'utf8') > 4096)
      return wecomError(40058, 'markdown.content exceed max length 4096');
    // mentioned_mobile_list is a field of text messages; in markdown WeCom ignores it.
    const mobiles = md?.['mentioned_mobile_list'];
    if (Array.isArray(mobiles) && mobiles.length > 0)
      mentions = { mobiles: mobiles.map(String), shown: false };
  } else if (!['image', 'news', 'file', 'voice', 'template_card', 'markdown_v2'].includes(String(msgtype))) {
    return wecomError(40008, 'invalid message type');
  }
  if (within(robot.sends, now, 60_000) >= WECOM_LIMIT.perMinute)
    return wecomError(45009, 'api freq out of limit');
  return { outcome: 'delivered', body: { errcode: 0, errmsg: 'ok' }, ...(mentions ? { mentions } : {}) };
}

// ---------------------------------------------------------------------------------------------
// Feishu

/** Recomputed as the Feishu docs describe (HMAC-SHA256, key = `timestamp\nsecret`, empty message, Base64). */
export function expectedFeishuSign(secret: string, timestamp: string): string {
  return createHmac('sha256', Buffer.from(`${timestamp}\n${secret}`, 'utf8'))
    .update(Buffer.alloc(0))
    .digest('base64');
}

function feishuError(code: number, msg: string): Record<string, unknown> {
  return { code, msg, data: {} };
}

function feishuRefusal(code: number, msg: string): Verdict {
  return { outcome: code === 11232 ? 'throttled' : 'refused', code, body: feishuError(code, msg) };
}

function judgeFeishu(robot: RobotState | undefined, body: unknown, rawBody: string, now: number): Verdict {
  if (!robot) return feishuRefusal(19001, 'param invalid: incoming webhook access token invalid');
  if (Buffer.byteLength(rawBody, 'utf8') > FEISHU_LIMIT.maxBodyBytes)
    return feishuRefusal(9499, 'Bad Request');
  const b = obj(body);
  if (!b) return feishuRefusal(9499, 'Bad Request');
  if (robot.secret !== undefined) {
    const timestamp = b['timestamp'];
    const sign = b['sign'];
    const ts = typeof timestamp === 'number' ? String(timestamp) : timestamp;
    const bad = () =>
      feishuRefusal(19021, 'sign match fail or timestamp is not within one hour from current time');
    if (typeof ts !== 'string' || !/^\d+$/.test(ts) || typeof sign !== 'string') return bad();
    if (Math.abs(now - Number(ts) * 1000) > SIGNATURE_MAX_SKEW_MS) return bad();
    if (sign !== expectedFeishuSign(robot.secret, ts)) return bad();
  }
  const msgType = b['msg_type'];
  const content = obj(b['content']);
  if (msgType === 'text') {
    if (!nonEmpty(content?.['text'])) return feishuRefusal(9499, 'Bad Request');
  } else if (msgType === 'post') {
    const post = obj(content?.['post']);
    const locales = post ? Object.values(post).map(obj) : [];
    const valid =
      locales.length > 0 &&
      locales.every((l) => l !== undefined && typeof l['title'] === 'string' && Array.isArray(l['content']));
    if (!valid) return feishuRefusal(9499, 'Bad Request');
  } else if (!['image', 'share_chat', 'interactive'].includes(String(msgType))) {
    return feishuRefusal(9499, 'Bad Request');
  }
  if (
    within(robot.sends, now, 60_000) >= FEISHU_LIMIT.perMinute ||
    within(robot.sends, now, 1_000) >= FEISHU_LIMIT.perSecond
  ) {
    return feishuRefusal(11232, 'frequency limited psm[lark.oapi.app_platform_runtime]');
  }
  return {
    outcome: 'delivered',
    body: { code: 0, msg: 'success', data: {}, Extra: null, StatusCode: 0, StatusMessage: 'success' },
  };
}
