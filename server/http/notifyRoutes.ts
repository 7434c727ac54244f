/**
 * Notification routes (issues 9 and 10): the caller's notifications with read state, the outbox
 * as administrators see it, a test message to a configured channel, team robots (secrets never
 * returned), users' contacts, preferences and the administrators' defaults.
 */
import { Router } from 'express';
import { z } from 'zod';
import { DomainError, problem } from '../../core/problem.js';
import type { Channel, DeliveryResult, EmailMessage } from '../notify/channel.js';
import { redactRobot, teamRobotSchema, type TeamRobot } from '../notify/channelSettings.js';
import { taskPaneUrl } from '../notify/messageComposer.js';
import {
  CONTACTS_COLLECTION,
  DEFAULTS_DOC,
  PREFERENCES_COLLECTION,
  ROBOTS_COLLECTION,
  contactSchema,
  loadContact,
  loadDefaults,
  loadPreferences,
  loadRobots,
  notifyDefaultsSchema,
  preferencesSchema,
} from '../notify/notifySettings.js';
import { OUTBOX_COLLECTION, OUTBOX_STATUSES, type OutboxEntry } from '../notify/outbox.js';
import { createRobotChannel } from '../notify/robotChannel.js';
import { reserveOneOff, stampOneOff } from '../notify/robotLane.js';
import { requireRole } from '../services/actor.js';
import { markRead, notificationPage } from '../services/notificationReadState.js';
import type { RegistrationService } from '../services/registrationService.js';
import type { Store } from '../store/store.js';
import { actor } from './auth.js';
import { parseOrThrow } from './errors.js';

export interface NotifyRouteOptions {
  store: Store;
  registrations: RegistrationService;
  clock: () => Date;
  email?: Channel<EmailMessage> | undefined;
  publicUrl?: string | undefined;
}

export const notificationsQuerySchema = z.object({
  limit: z.coerce.number().int().min(0).max(500).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});
// A union that fails as a whole says only "Invalid input" and names no field: say what it takes.
export const markReadBodySchema = z.union(
  [
    z.object({ ids: z.array(z.string().min(1).max(200)).min(1).max(1000) }).strict(),
    z.object({ all: z.literal(true) }).strict(),
  ],
  {
    error:
      '须为 {"ids": [通知 id…]} 或 {"all": true} / expected {"ids": [notification ids…]} or {"all": true}',
  },
);
export const outboxQuerySchema = z.object({
  status: z.enum(OUTBOX_STATUSES).optional(),
  channel: z.enum(['email', 'robot']).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  offset: z.coerce.number().int().min(0).default(0),
});
export const outboxTestBodySchema = z.union(
  [
    z.object({ robot: z.string().min(1) }).strict(),
    z.object({ email: z.string().min(1).describe('a user id') }).strict(),
  ],
  {
    error:
      '须给出 robot（机器人 id）或 email（用户 id）其中之一 / expected one of robot (a robot id) or email (a user id)',
  },
);

/*
 * Response shapes, for the OpenAPI document (server/http/openapi.ts): what these routes return,
 * written once here next to the handlers so the document cannot drift from them silently.
 */
export const markReadResponseSchema = z.object({ unread: z.number().int().min(0) });
const outboxViewSchema = z.object({
  key: z.string(),
  status: z.enum(OUTBOX_STATUSES),
  channel: z.enum(['email', 'robot']),
  mode: z.enum(['immediate', 'digest']),
  to: z.union([
    z.object({ kind: z.literal('robot'), robotId: z.string(), team: z.string().nullable() }),
    z.object({ kind: z.literal('person'), userId: z.string(), name: z.string() }),
  ]),
  event: z.object({ type: z.string(), recordNo: z.string(), at: z.string() }),
  attempts: z.number().int(),
  createdAt: z.string(),
  dueAt: z.string(),
  sentAt: z.string().optional(),
  sentIn: z.string().optional().describe('dedupe key of the summary message it went out in'),
  lastError: z
    .object({
      error: z.string(),
      providerCode: z.union([z.string(), z.number()]).optional(),
      retryable: z.boolean(),
      at: z.string(),
    })
    .optional(),
});
export const outboxResponseSchema = z.object({
  items: z.array(outboxViewSchema),
  total: z.number().int(),
  counts: z.record(z.string(), z.number().int()),
  limit: z.number().int(),
  offset: z.number().int(),
});
export const deliveryResultSchema = z.union([
  z.object({ ok: z.literal(true), providerId: z.string().optional() }),
  z.object({
    ok: z.literal(false),
    retryable: z.boolean(),
    providerCode: z.union([z.string(), z.number()]).optional(),
    error: z.string(),
    retryAfterMs: z.number().optional(),
  }),
]);
export const redactedRobotSchema = z.object({
  id: z.string(),
  team: z.string().nullable(),
  name: z.string(),
  kind: z.enum(['dingtalk', 'wecom', 'feishu']),
  language: z.enum(['zh-CN', 'en']),
  webhookUrl: z.string().describe('host and path with the token / key masked'),
  hasSecret: z.boolean(),
});
/** PUT /notify/robots/:id takes the robot without its id (the path gives it). */
export const robotBodySchema = z.discriminatedUnion('kind', [
  teamRobotSchema.options[0].omit({ id: true }),
  teamRobotSchema.options[1].omit({ id: true }),
  teamRobotSchema.options[2].omit({ id: true }),
]);
export const preferencesResponseSchema = z.object({
  preferences: preferencesSchema,
  defaults: notifyDefaultsSchema,
});

/** An outbox entry as administrators see it: no addresses, mobiles or message text. */
export function outboxView(entry: OutboxEntry) {
  return {
    key: entry.key,
    status: entry.status,
    channel: entry.channel,
    mode: entry.mode,
    to:
      entry.to.kind === 'robot'
        ? { kind: 'robot' as const, robotId: entry.to.robotId, team: entry.to.team }
        : { kind: 'person' as const, userId: entry.to.userId, name: entry.to.name },
    event: { type: entry.event.type, recordNo: entry.event.recordNo, at: entry.event.at },
    attempts: entry.attempts,
    createdAt: entry.createdAt,
    dueAt: entry.dueAt,
    ...(entry.sentAt !== undefined ? { sentAt: entry.sentAt } : {}),
    ...(entry.sentIn !== undefined ? { sentIn: entry.sentIn } : {}),
    ...(entry.lastError !== undefined ? { lastError: entry.lastError } : {}),
  };
}

/** The robot's provider window is full: a test message now would get the robot throttled. */
function robotBusy(id: string, waitMs: number): DomainError {
  const seconds = Math.max(1, Math.ceil(waitMs / 1000));
  return new DomainError(
    problem(
      'notify.robot_busy',
      `机器人 ${id} 已达到平台的发送频率上限，请 ${seconds} 秒后再试`,
      `Robot ${id} has reached its provider's rate limit; try again in ${seconds} s`,
      'robot',
    ),
  );
}

function robotNotFound(id: string): DomainError {
  return new DomainError(
    problem('notify.robot_not_found', `没有这个机器人：${id}`, `No such robot: ${id}`, 'robot'),
  );
}

function userNotFound(id: string): DomainError {
  return new DomainError(problem('user.not_found', `没有这个用户：${id}`, `No such user: ${id}`, 'id'));
}

export function notifyRoutes(options: NotifyRouteOptions): Router {
  const { store, registrations, clock } = options;
  const router = Router();
  const admin = (req: Parameters<typeof actor>[0], what: string, whatEn: string) =>
    requireRole(actor(req), ['admin'], what, whatEn);

  router.get('/notifications', async (req, res) => {
    const q = parseOrThrow(notificationsQuerySchema, req.query);
    res.json(await notificationPage(store, registrations, actor(req), clock(), q));
  });

  router.post('/notifications/read', async (req, res) => {
    const body = parseOrThrow(markReadBodySchema, req.body);
    res.json(await markRead(store, registrations, actor(req), clock(), body));
  });

  router.get('/outbox', async (req, res) => {
    admin(req, '查看发件箱', 'read the outbox');
    const q = parseOrThrow(outboxQuerySchema, req.query);
    const docs = await store.read((tx) => tx.listDocs(OUTBOX_COLLECTION));
    const entries = docs
      .map((d) => d.value as OutboxEntry)
      .filter(
        (e) =>
          (q.status === undefined || e.status === q.status) &&
          (q.channel === undefined || e.channel === q.channel),
      )
      .sort((a, b) =>
        a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : a.key < b.key ? -1 : 1,
      );
    const counts: Record<string, number> = { pending: 0, sending: 0, sent: 0, failed: 0 };
    for (const d of docs) {
      const s = (d.value as OutboxEntry).status;
      counts[s] = (counts[s] ?? 0) + 1;
    }
    res.json({
      items: entries.slice(q.offset, q.offset + q.limit).map(outboxView),
      total: entries.length,
      counts,
      limit: q.limit,
      offset: q.offset,
    });
  });

  router.post('/outbox/test', async (req, res) => {
    admin(req, '发送测试消息', 'send a test message');
    const body = parseOrThrow(outboxTestBodySchema, req.body);
    const zh = { language: 'zh-CN' as const };
    const document = {
      ...zh,
      title: '报备系统测试消息 / Baobei test message',
      paragraphs: [[{ text: '这是一条测试消息：通知渠道已配置好。This is a test: the channel works.' }]],
      link: { text: '报备任务窗格', url: taskPaneUrl(options.publicUrl ?? 'http://localhost:3000') },
    };
    let result: DeliveryResult;
    if ('robot' in body) {
      const robot = (await store.read(loadRobots)).find((r) => r.id === body.robot);
      if (!robot) throw robotNotFound(body.robot);
      // Real time, as the outbox worker counts: the providers' windows are in it.
      const slot = await store.write((tx) => reserveOneOff(tx, robot, Date.now()));
      if ('retryAt' in slot) throw robotBusy(robot.id, slot.retryAt - Date.now());
      const channel = createRobotChannel(robot);
      try {
        result = await channel.send({ document, mentions: [], dedupeKey: `test:${clock().toISOString()}` });
      } finally {
        await channel.close();
        await store.write((tx) => stampOneOff(tx, robot.id, { reserved: slot.reserved, done: Date.now() }));
      }
    } else {
      const users = await store.read((tx) => tx.listUsers());
      const user = users.find((u) => u.id === body.email);
      if (!user) throw userNotFound(body.email);
      const contact = await store.read((tx) => loadContact(tx, user.id));
      if (!options.email)
        throw new DomainError(
          problem(
            'notify.email_off',
            '未配置邮件（BAOBEI_SMTP_URL）',
            'Email is not configured (BAOBEI_SMTP_URL)',
            'email',
          ),
        );
      if (contact?.email === undefined)
        throw new DomainError(
          problem(
            'notify.no_address',
            `用户 ${user.name} 没有邮箱`,
            `User ${user.name} has no email address`,
            'email',
          ),
        );
      result = await options.email.send({
        to: { address: contact.email, name: user.name },
        document,
        dedupeKey: `test:${clock().toISOString()}`,
      });
    }
    // The provider's answer (code and text), never a URL, token or secret: the adapters keep them out.
    res.status(result.ok ? 200 : 502).json(result);
  });

  router.get('/notify/robots', async (req, res) => {
    admin(req, '查看机器人', 'list robots');
    res.json({ items: (await store.read(loadRobots)).map(redactRobot) });
  });

  router.put('/notify/robots/:id', async (req, res) => {
    const a = actor(req);
    admin(req, '配置机器人', 'configure robots');
    const robot: TeamRobot = parseOrThrow(teamRobotSchema, { ...(req.body as object), id: req.params['id'] });
    await store.write((tx) => tx.putDoc(ROBOTS_COLLECTION, robot.id, robot));
    await registrations.audit(a, 'notify.robot.put', [], { robot: robot.id, kind: robot.kind });
    res.json(redactRobot(robot));
  });

  router.delete('/notify/robots/:id', async (req, res) => {
    const a = actor(req);
    admin(req, '删除机器人', 'remove robots');
    const id = req.params['id'] ?? '';
    const found = (await store.read(loadRobots)).some((r) => r.id === id);
    if (!found) throw robotNotFound(id);
    await store.write((tx) => tx.deleteDoc(ROBOTS_COLLECTION, id));
    await registrations.audit(a, 'notify.robot.delete', [], { robot: id });
    res.status(204).end();
  });

  router.get('/users/:id/contact', async (req, res) => {
    admin(req, '查看联系方式', 'read contacts');
    const id = req.params['id'] ?? '';
    const user = (await store.read((tx) => tx.listUsers())).find((u) => u.id === id);
    if (!user) throw userNotFound(id);
    res.json((await store.read((tx) => loadContact(tx, id))) ?? contactSchema.parse({}));
  });

  router.put('/users/:id/contact', async (req, res) => {
    const a = actor(req);
    admin(req, '设置联系方式', 'set contacts');
    const id = req.params['id'] ?? '';
    const contact = parseOrThrow(contactSchema.strict(), req.body);
    const user = (await store.read((tx) => tx.listUsers())).find((u) => u.id === id);
    if (!user) throw userNotFound(id);
    await store.write((tx) => tx.putDoc(CONTACTS_COLLECTION, id, contact));
    // Which fields, never their values (an email address and a mobile are personal data).
    await registrations.audit(a, 'notify.contact.put', [], {
      user: id,
      fields: Object.keys(req.body as object).join(','),
    });
    res.json(contact);
  });

  router.get('/notify/preferences', async (req, res) => {
    const me = actor(req);
    const [prefs, defaults] = await store.read(
      async (tx) => [await loadPreferences(tx, me.id), await loadDefaults(tx)] as const,
    );
    res.json({ preferences: prefs ?? preferencesSchema.parse({}), defaults });
  });

  router.put('/notify/preferences', async (req, res) => {
    const me = actor(req);
    const prefs = parseOrThrow(preferencesSchema.strict(), req.body);
    await store.write((tx) => tx.putDoc(PREFERENCES_COLLECTION, me.id, prefs));
    res.json(prefs);
  });

  router.get('/notify/defaults', async (req, res) => {
    res.json(await store.read(loadDefaults));
  });

  router.put('/notify/defaults', async (req, res) => {
    const a = actor(req);
    admin(req, '设置通知默认值', 'set notification defaults');
    const defaults = parseOrThrow(notifyDefaultsSchema.strict(), req.body);
    await store.write((tx) => tx.putDoc(DEFAULTS_DOC.collection, DEFAULTS_DOC.key, defaults));
    await registrations.audit(a, 'notify.defaults.put', []);
    res.json(defaults);
  });

  return router;
}
