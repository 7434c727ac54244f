/**
 * What administrators and users configure about notifications, kept as documents in the store
 * (sealed at rest: contacts and robot secrets are never in clear on disk): team robots, each
 * user's contact (email, mobile for @mentions, Feishu id, language), each user's preferences
 * (event × channel: immediate, daily digest or off) and the administrators' defaults.
 */
import { z } from 'zod';
import { LANGUAGES } from './channel.js';
import { teamRobotSchema, type TeamRobot } from './channelSettings.js';
import { NOTIFY_EVENT_TYPES, type NotifyEventType } from './notifyEvent.js';
import type { ReadTx } from '../store/store.js';

export const ROBOTS_COLLECTION = 'notify-robots';
export const CONTACTS_COLLECTION = 'notify-contacts';
export const PREFERENCES_COLLECTION = 'notify-prefs';
export const SETTINGS_COLLECTION = 'notify-settings';
const DEFAULTS_KEY = 'defaults';

export const DELIVERY_MODES = ['immediate', 'digest', 'off'] as const;
export const deliveryModeSchema = z.enum(DELIVERY_MODES);
export type DeliveryMode = z.infer<typeof deliveryModeSchema>;

/** The two ways an event reaches a person: their own email, and their team's group robot. */
export const NOTIFY_CHANNELS = ['email', 'robot'] as const;
export type NotifyChannel = (typeof NOTIFY_CHANNELS)[number];

/** A user's contact for notifications; every field optional. */
export const contactSchema = z.object({
  email: z.email().max(200).optional(),
  /** Mainland mobile, for DingTalk / WeCom @mentions. */
  mobile: z
    .string()
    .regex(/^1[3-9]\d{9}$/, '须为 11 位大陆手机号 / 11-digit mainland mobile number')
    .optional(),
  /** Feishu open_id / user_id (custom bots cannot @mention by mobile). */
  feishuUserId: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/)
    .optional(),
  language: z.enum(LANGUAGES).default('zh-CN'),
});
export type Contact = z.infer<typeof contactSchema>;

const eventModes = z.partialRecord(z.enum(NOTIFY_EVENT_TYPES), deliveryModeSchema);

/** Per channel, per event: how this user wants it (absent = the administrators' default). */
export const preferencesSchema = z.object({
  email: eventModes.default({}),
  /** `off` here: do not @mention me in the group (the group still gets the message). */
  robot: eventModes.default({}),
});
export type Preferences = z.infer<typeof preferencesSchema>;

/** The administrators' defaults: per channel and event, and which events team robots post. */
export const notifyDefaultsSchema = z.object({
  email: eventModes.default({}),
  robot: eventModes.default({}),
});
export type NotifyDefaults = z.infer<typeof notifyDefaultsSchema>;

/**
 * Out of the box: every event by email at once; team robots post what concerns the whole team —
 * reviews, extensions, hand-overs and the reminders — not each person's decisions.
 */
const ROBOT_EVENTS_BY_DEFAULT: ReadonlySet<NotifyEventType> = new Set<NotifyEventType>([
  'extension.requested',
  'objection.filed',
  'transfer',
  'resubmitted',
  'protection.ending',
  'extension.undecided',
  'review.due',
  'review.overdue',
  'followUp.due',
  'followUp.overdue',
  'pool.lapsing',
  'pool.lapsed',
  'pool.claimed',
]);

export function defaultMode(
  channel: NotifyChannel,
  type: NotifyEventType,
  defaults: NotifyDefaults,
): DeliveryMode {
  const set = defaults[channel][type];
  if (set !== undefined) return set;
  if (channel === 'email') return 'immediate';
  return ROBOT_EVENTS_BY_DEFAULT.has(type) ? 'immediate' : 'off';
}

/** A person's mode for an event on a channel: their preference, else the default. */
export function modeFor(
  channel: NotifyChannel,
  type: NotifyEventType,
  prefs: Preferences | undefined,
  defaults: NotifyDefaults,
): DeliveryMode {
  return prefs?.[channel][type] ?? defaultMode(channel, type, defaults);
}

export async function loadRobots(tx: ReadTx): Promise<TeamRobot[]> {
  const docs = await tx.listDocs(ROBOTS_COLLECTION);
  const robots: TeamRobot[] = [];
  for (const doc of docs) {
    // A stored robot that no longer parses (schema tightened) is skipped, not fatal to a change.
    const parsed = teamRobotSchema.safeParse(doc.value);
    if (parsed.success) robots.push(parsed.data);
  }
  return robots;
}

export async function loadDefaults(tx: ReadTx): Promise<NotifyDefaults> {
  const value = await tx.getDoc(SETTINGS_COLLECTION, DEFAULTS_KEY);
  const parsed = notifyDefaultsSchema.safeParse(value ?? {});
  return parsed.success ? parsed.data : notifyDefaultsSchema.parse({});
}

export const DEFAULTS_DOC = { collection: SETTINGS_COLLECTION, key: DEFAULTS_KEY } as const;

export async function loadContact(tx: ReadTx, userId: string): Promise<Contact | undefined> {
  const value = await tx.getDoc(CONTACTS_COLLECTION, userId);
  if (value === undefined) return undefined;
  const parsed = contactSchema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

export async function loadPreferences(tx: ReadTx, userId: string): Promise<Preferences | undefined> {
  const value = await tx.getDoc(PREFERENCES_COLLECTION, userId);
  if (value === undefined) return undefined;
  const parsed = preferencesSchema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}
