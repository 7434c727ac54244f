/**
 * The durable outbox (issue 10): an event becomes one entry per recipient × channel, written in
 * the same store transaction as the change that caused it, each under a dedupe key claimed once
 * across instances (`insertDoc`). Entries live in `outbox` (keyed by the dedupe key, with their
 * status) and, while something remains to do, in `outbox-due` under `<due instant>|<dedupe key>`
 * so the worker finds what is due with one range scan instead of reading every entry ever sent.
 */
import { z } from 'zod';
import type { Role } from '../../core/schema.js';
import { dayOf, addDays, shanghaiInstant, dayParts } from '../../core/day.js';
import type { Language, Mention } from './channel.js';
import type { TeamRobot } from './channelSettings.js';
import { mentionsFor, shouldNotify, type Recipient } from './messagePolicy.js';
import type { NotifyEvent, RecordFacts } from './notifyEvent.js';
import {
  loadContact,
  loadDefaults,
  loadPreferences,
  loadRobots,
  modeFor,
  type DeliveryMode,
  type NotifyDefaults,
} from './notifySettings.js';
import type { ReadTx, User, WriteTx } from '../store/store.js';

export const OUTBOX_COLLECTION = 'outbox';
export const DUE_COLLECTION = 'outbox-due';

export const OUTBOX_STATUSES = ['pending', 'sending', 'sent', 'failed'] as const;
export type OutboxStatus = (typeof OUTBOX_STATUSES)[number];

export type OutboxTarget =
  | {
      kind: 'person';
      userId: string;
      name: string;
      role: Role;
      team?: string;
      /** Sealed at rest with the entry; never shown by the admin view. */
      address: string;
      language: Language;
    }
  | { kind: 'robot'; robotId: string; team: string | null; language: Language; mentions: Mention[] };

export interface OutboxEntry {
  key: string;
  channel: 'email' | 'robot';
  mode: 'immediate' | 'digest';
  event: NotifyEvent;
  facts: RecordFacts;
  to: OutboxTarget;
  status: OutboxStatus;
  createdAt: string;
  /** When it is (next) due: creation, a digest's hour, a retry's backoff, a lease's end. */
  dueAt: string;
  /** Its key in `outbox-due` while it has one. */
  dueKey?: string;
  /**
   * A robot entry that came due waits in its robot's queue (`outbox-robot-queue`) under this key
   * until a send carries it: what piles up while the robot's window is full goes out as one summary.
   */
  queueKey?: string;
  attempts: number;
  /** The instance holding it while `sending`. */
  leaseOwner?: string;
  sentAt?: string;
  /** Sent as part of one summary message (a burst, a digest): that message's dedupe key. */
  sentIn?: string;
  lastError?: { error: string; providerCode?: string | number; retryable: boolean; at: string };
}

export const outboxEntrySchema = z.custom<OutboxEntry>(
  (v) => typeof v === 'object' && v !== null && typeof (v as { key?: unknown }).key === 'string',
);

/**
 * `<due instant>|<dedupe key>`. A digest email's entries sit together per person instead
 * (`<due instant>|digest:<user id>|<dedupe key>`): the worker claims in batches, and a batch that
 * ends inside one person's digest takes the rest of it (`digestRunOf`), so the digest goes out as
 * ONE message however many other entries are due at the digest hour.
 */
export function dueKeyOf(dueAt: string, key: string, digestOf?: string): string {
  return digestOf === undefined ? `${dueAt}|${key}` : `${dueAt}|digest:${digestOf}|${key}`;
}

/** The user whose email digest this entry belongs to, if it is one. */
function digestOwner(entry: OutboxEntry): string | undefined {
  return entry.channel === 'email' && entry.mode === 'digest' && entry.to.kind === 'person'
    ? entry.to.userId
    : undefined;
}

/** The due-key prefix shared by one person's digest due at one instant; undefined for other keys. */
export function digestRunOf(dueKey: string): string | undefined {
  const bar = dueKey.indexOf('|');
  if (bar < 0 || !dueKey.startsWith('digest:', bar + 1)) return undefined;
  const end = dueKey.indexOf('|', bar + 1 + 'digest:'.length);
  return end < 0 ? undefined : dueKey.slice(0, end + 1);
}

export const ROBOT_QUEUE_COLLECTION = 'outbox-robot-queue';

/** Oldest first within a robot: `<robot id>|<created at>|<dedupe key>`. */
export function queueKeyOf(robotId: string, entry: Pick<OutboxEntry, 'createdAt' | 'key'>): string {
  return `${robotId}|${entry.createdAt}|${entry.key}`;
}

/** Takes the entry out of the due index and its robot's queue, whichever holds it. */
async function unlist(tx: WriteTx, entry: OutboxEntry): Promise<void> {
  if (entry.dueKey !== undefined) await tx.deleteDoc(DUE_COLLECTION, entry.dueKey);
  if (entry.queueKey !== undefined) await tx.deleteDoc(ROBOT_QUEUE_COLLECTION, entry.queueKey);
  delete entry.dueKey;
  delete entry.queueKey;
}

/** (Re)lists the entry as due at `dueAt`, and stores it. */
export async function moveDue(tx: WriteTx, entry: OutboxEntry, dueAt: string): Promise<void> {
  await unlist(tx, entry);
  entry.dueAt = dueAt;
  entry.dueKey = dueKeyOf(dueAt, entry.key, digestOwner(entry));
  await tx.putDoc(DUE_COLLECTION, entry.dueKey, { key: entry.key });
  await tx.putDoc(OUTBOX_COLLECTION, entry.key, entry);
}

/** Pending again, due at `dueAt` (a retry's backoff), held by nobody. */
export async function rescheduleEntry(tx: WriteTx, entry: OutboxEntry, dueAt: string): Promise<void> {
  entry.status = 'pending';
  delete entry.leaseOwner;
  await moveDue(tx, entry, dueAt);
}

/** Into its robot's queue (out of the due index), pending. */
export async function queueEntry(tx: WriteTx, entry: OutboxEntry, robotId: string): Promise<void> {
  await unlist(tx, entry);
  entry.status = 'pending';
  delete entry.leaseOwner;
  entry.queueKey = queueKeyOf(robotId, entry);
  await tx.putDoc(ROBOT_QUEUE_COLLECTION, entry.queueKey, { key: entry.key });
  await tx.putDoc(OUTBOX_COLLECTION, entry.key, entry);
}

/** Done (sent or failed): listed nowhere any more. */
export async function finishEntry(
  tx: WriteTx,
  entry: OutboxEntry,
  change: Partial<OutboxEntry>,
): Promise<void> {
  await unlist(tx, entry);
  delete entry.leaseOwner;
  Object.assign(entry, change);
  await tx.putDoc(OUTBOX_COLLECTION, entry.key, entry);
}

/** Failed for good: its robot was removed from the configuration after the entry was made. */
export async function failRobotGone(tx: WriteTx, entry: OutboxEntry, at: string): Promise<void> {
  await finishEntry(tx, entry, {
    status: 'failed',
    lastError: { error: 'robot no longer configured', providerCode: 'robot.not_found', retryable: false, at },
  });
}

/** The next digest hour in Asia/Shanghai strictly after `at`. */
export function nextDigestAt(at: string, hour: number): string {
  const today = dayOf(at);
  const [y, m, d] = dayParts(today);
  const candidate = shanghaiInstant(y, m, d, hour);
  if (candidate > at) return candidate;
  const [y2, m2, d2] = dayParts(addDays(today, 1));
  return shanghaiInstant(y2, m2, d2, hour);
}

/** Who an event is addressed to, as the stored notifications say it. */
export type Addressee = { name: string } | { reviewersOf: string | null };

export interface EnqueueItem {
  event: NotifyEvent;
  facts: RecordFacts;
  to: Addressee;
  /** Distinguishes the entries of this event from any other: a notification id, a reminder key. */
  eventKey: string;
  /** Robots are told once per happening, whichever addressee caused it (`type:record:at`, a reminder key). */
  robotKey: string;
}

/**
 * Settings read once per transaction: a batch of events (a sweep, a morning of reminders) must
 * not re-read the robots and users for each.
 */
export class RecipientDirectory {
  private users: Promise<User[]> | undefined;
  private robots: Promise<TeamRobot[]> | undefined;
  private defaults: Promise<NotifyDefaults> | undefined;
  private readonly people = new Map<string, Promise<PersonSettings | undefined>>();

  constructor(private readonly tx: ReadTx) {}

  allUsers(): Promise<User[]> {
    return (this.users ??= this.tx.listUsers());
  }
  teamRobots(): Promise<TeamRobot[]> {
    return (this.robots ??= loadRobots(this.tx));
  }
  notifyDefaults(): Promise<NotifyDefaults> {
    return (this.defaults ??= loadDefaults(this.tx));
  }
  settingsOf(user: User): Promise<PersonSettings | undefined> {
    let found = this.people.get(user.id);
    if (!found) {
      found = Promise.all([loadContact(this.tx, user.id), loadPreferences(this.tx, user.id)]).then(
        ([contact, prefs]) => ({ contact, prefs }),
      );
      this.people.set(user.id, found);
    }
    return found;
  }
  async byName(name: string): Promise<User | undefined> {
    return (await this.allUsers()).find((u) => u.name === name && !u.disabled);
  }
  async reviewersOf(team: string | null): Promise<User[]> {
    return (await this.allUsers()).filter(
      (u) =>
        !u.disabled &&
        u.role === 'reviewer' &&
        // A reviewer without a team reviews every team (R34); a null team reaches them all.
        (team === null || u.team === undefined || u.team === team),
    );
  }
}

interface PersonSettings {
  contact: Awaited<ReturnType<typeof loadContact>>;
  prefs: Awaited<ReturnType<typeof loadPreferences>>;
}

function personRecipient(u: User): Extract<Recipient, { kind: 'person' }> {
  return { kind: 'person', name: u.name, role: u.role, ...(u.team !== undefined ? { team: u.team } : {}) };
}

/**
 * Writes the outbox entries for these events inside `tx`. Returns how many entries were created
 * (an entry whose dedupe key exists already is skipped: it was enqueued before).
 */
export async function enqueueEvents(
  tx: WriteTx,
  items: readonly EnqueueItem[],
  options: { now: string; digestHour: number; directory?: RecipientDirectory },
): Promise<number> {
  if (items.length === 0) return 0;
  const dir = options.directory ?? new RecipientDirectory(tx);
  const defaults = await dir.notifyDefaults();
  const robots = await dir.teamRobots();
  let created = 0;
  const put = async (entry: OutboxEntry): Promise<void> => {
    if (!(await tx.insertDoc(OUTBOX_COLLECTION, entry.key, entry))) return;
    await tx.putDoc(DUE_COLLECTION, entry.dueKey!, { key: entry.key });
    created++;
  };
  const dueFor = (mode: DeliveryMode): string =>
    mode === 'digest' ? nextDigestAt(options.now, options.digestHour) : options.now;

  for (const item of items) {
    const { event, facts } = item;
    const people =
      'name' in item.to
        ? [await dir.byName(item.to.name)].filter((u): u is User => u !== undefined)
        : await dir.reviewersOf(item.to.reviewersOf);
    const mentions: Mention[] = [];
    for (const user of people) {
      const recipient = personRecipient(user);
      if (!shouldNotify(event, recipient, facts)) continue;
      const settings = await dir.settingsOf(user);
      const contact = settings?.contact;
      const emailMode = modeFor('email', event.type, settings?.prefs, defaults);
      if (contact?.email !== undefined && emailMode !== 'off') {
        const key = `${item.eventKey}:email:${user.id}`;
        const dueAt = dueFor(emailMode);
        await put({
          key,
          channel: 'email',
          mode: emailMode,
          event,
          facts,
          to: {
            ...recipient,
            kind: 'person',
            userId: user.id,
            address: contact.email,
            language: contact.language,
          },
          status: 'pending',
          createdAt: options.now,
          dueAt,
          dueKey: dueKeyOf(dueAt, key, emailMode === 'digest' ? user.id : undefined),
          attempts: 0,
        });
      }
      if (modeFor('robot', event.type, settings?.prefs, defaults) !== 'off') {
        mentions.push({
          name: user.name,
          ...(contact?.mobile !== undefined ? { mobile: contact.mobile } : {}),
          ...(contact?.feishuUserId !== undefined ? { feishuUserId: contact.feishuUserId } : {}),
        });
      }
    }
    const robotMode = defaultMode(defaults, event.type);
    if (robotMode === 'off') continue;
    for (const robot of robots) {
      const recipient: Recipient = { kind: 'robot', team: robot.team };
      if (!shouldNotify(event, recipient, facts)) continue;
      // @mentions only in the robot of the people's own team; a company-wide group is not the place.
      const robotMentions =
        robot.team !== null && robot.team === facts.team ? mentionsFor(event, mentions) : [];
      const key = `${item.robotKey}:robot:${robot.id}`;
      const dueAt = dueFor(robotMode);
      await put({
        key,
        channel: 'robot',
        mode: robotMode,
        event,
        facts,
        to: {
          kind: 'robot',
          robotId: robot.id,
          team: robot.team,
          language: robot.language,
          mentions: robotMentions,
        },
        status: 'pending',
        createdAt: options.now,
        dueAt,
        dueKey: dueKeyOf(dueAt, key),
        attempts: 0,
      });
    }
  }
  return created;
}

function defaultMode(defaults: NotifyDefaults, type: NotifyEvent['type']): DeliveryMode {
  return modeFor('robot', type, undefined, defaults);
}

/** One message to send: an entry as itself, or several (a burst, a digest) as one summary. */
export interface DeliveryUnit {
  /** The message's dedupe key: the entry's own, or the summary's. */
  key: string;
  entries: OutboxEntry[];
  summary: boolean;
}

export function groupUnit(entries: OutboxEntry[]): DeliveryUnit {
  if (entries.length === 1) return { key: entries[0]!.key, entries, summary: false };
  // Stable for the same group, so a summary re-sent after a crash carries the same dedupe key.
  const keys = entries.map((e) => e.key).sort();
  return { key: `sum:${keys[0]}:${keys.length}`, entries, summary: true };
}
