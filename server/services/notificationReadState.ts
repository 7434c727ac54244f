/**
 * Per-user read state of the notifications in the pane (issue 9): which ones a person has read,
 * kept as one document per user in the store (`notify-read`), so it survives restarts and is never
 * shared between users. "Mark all read" keeps an instant (everything stored up to it is read) plus
 * the ids of the computed "expiring soon" items shown at that moment (they carry the time of reading).
 */
import { z } from 'zod';
import type { Store } from '../store/store.js';
import type { Actor } from './actor.js';
import { notificationsFor, type NotificationView } from './notificationService.js';
import type { RegistrationService } from './registrationService.js';

export const READ_STATE_COLLECTION = 'notify-read';
/** Ids remembered per user; older ones fall out (their notifications have long left the list). */
const MAX_READ_IDS = 5_000;

const readStateSchema = z.object({
  allBefore: z.string().optional(),
  ids: z.array(z.string()).default([]),
});
type ReadState = z.infer<typeof readStateSchema>;

export interface NotificationPage {
  items: (NotificationView & { read: boolean })[];
  unread: number;
  total: number;
  limit: number;
  offset: number;
}

async function readStateOf(store: Store, userId: string): Promise<ReadState> {
  const value = await store.read((tx) => tx.getDoc(READ_STATE_COLLECTION, userId));
  const parsed = readStateSchema.safeParse(value ?? {});
  return parsed.success ? parsed.data : { ids: [] };
}

function isRead(n: NotificationView, state: ReadState, ids: ReadonlySet<string>): boolean {
  if (ids.has(n.id)) return true;
  // Computed items ("expiring soon") carry the time of reading: only their id marks them read.
  return !n.id.startsWith('expiring:') && state.allBefore !== undefined && n.at <= state.allBefore;
}

/** Newest first, paged, with the unread count over all of them. */
export async function notificationPage(
  store: Store,
  registrations: RegistrationService,
  actor: Actor,
  now: Date,
  page: { limit: number; offset: number },
): Promise<NotificationPage> {
  const [all, state] = await Promise.all([
    notificationsFor(store, registrations, actor, now),
    readStateOf(store, actor.id),
  ]);
  const ids = new Set(state.ids);
  const marked = all
    .map((n) => ({ ...n, read: isRead(n, state, ids) }))
    .sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0));
  return {
    items: marked.slice(page.offset, page.offset + page.limit),
    unread: marked.filter((n) => !n.read).length,
    total: marked.length,
    limit: page.limit,
    offset: page.offset,
  };
}

/** Marks these ids, or everything now listed, as read for this user only; returns the unread count left. */
export async function markRead(
  store: Store,
  registrations: RegistrationService,
  actor: Actor,
  now: Date,
  what: { ids: string[] } | { all: true },
): Promise<{ unread: number }> {
  const current = await notificationsFor(store, registrations, actor, now);
  await store.write(async (tx) => {
    const parsed = readStateSchema.safeParse((await tx.getDoc(READ_STATE_COLLECTION, actor.id)) ?? {});
    const state: ReadState = parsed.success ? parsed.data : { ids: [] };
    let ids: string[];
    if ('all' in what) {
      state.allBefore = now.toISOString();
      ids = [...state.ids, ...current.filter((n) => n.id.startsWith('expiring:')).map((n) => n.id)];
    } else {
      ids = [...state.ids, ...what.ids];
    }
    state.ids = [...new Set(ids)].slice(-MAX_READ_IDS);
    await tx.putDoc(READ_STATE_COLLECTION, actor.id, state);
  });
  const page = await notificationPage(store, registrations, actor, now, { limit: 0, offset: 0 });
  return { unread: page.unread };
}
