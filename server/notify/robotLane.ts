/**
 * The store side of delivering to one robot (issue 10): its queue, its lease and its rate window.
 * A robot entry that comes due is moved into its robot's queue; one instance at a time holds the
 * robot (a lease, taken through a wake document claimed like any due entry) and sends from the
 * whole queue, so whatever piled up while the window was full — over any number of claims — goes
 * out as ONE summary when room comes back. Each request takes its slot in the window in a
 * transaction of its own just before it goes out, and its stamp is moved to the moment its answer
 * came back, so the window counts requests when they reached the provider, not when they were
 * planned: a slow request can never let the next ones bunch up behind it.
 */
import type { WriteTx } from '../store/store.js';
import type { TeamRobot } from './channelSettings.js';
import {
  OUTBOX_COLLECTION,
  ROBOT_QUEUE_COLLECTION,
  finishEntry,
  groupUnit,
  queueEntry,
  type DeliveryUnit,
  type OutboxEntry,
  failRobotGone,
} from './outbox.js';
import { ROBOT_RATE_WINDOWS, planRobotSends } from './robotRateLimit.js';

export const ROBOT_STATE_COLLECTION = 'outbox-robots';
/** `<instant>|<robot id>`: when a robot with a non-empty queue is next due (or its lease ends). */
export const ROBOT_WAKE_COLLECTION = 'outbox-robot-wake';

/** Sends are remembered this long: longer than any provider window plus its margin. */
const KEEP_SENDS_MS = 5 * 60_000;

export interface RobotState {
  /** Rate-clock stamps of requests to this robot (any outcome): taken at reservation, moved to the answer. */
  recentSends: number[];
  /** The provider said this robot is throttled: nothing before this (rate clock). */
  throttledUntil?: number;
  /** Its document in `outbox-robot-wake` while its queue is not empty or a lane holds it. */
  wakeKey?: string;
  /** The instance whose lane holds this robot; the wake document then sits at the lease's end. */
  leaseOwner?: string;
}

/** A request's slot: reserved at `reserved`, answered at `done` (both rate clock). */
export interface SendStamp {
  reserved: number;
  done: number;
}

export async function loadRobotState(tx: WriteTx, robotId: string): Promise<RobotState> {
  const state = (await tx.getDoc(ROBOT_STATE_COLLECTION, robotId)) as RobotState | undefined;
  return state ?? { recentSends: [] };
}

async function setWake(
  tx: WriteTx,
  state: RobotState,
  robotId: string,
  at: string | undefined,
): Promise<void> {
  if (state.wakeKey !== undefined) await tx.deleteDoc(ROBOT_WAKE_COLLECTION, state.wakeKey);
  delete state.wakeKey;
  if (at === undefined) return;
  state.wakeKey = `${at}|${robotId}`;
  await tx.putDoc(ROBOT_WAKE_COLLECTION, state.wakeKey, { robotId });
}

/** The reserved stamp becomes the answer's: the provider saw the request somewhere in between. */
function applyStamp(state: RobotState, stamp: SendStamp | undefined): void {
  if (!stamp) return;
  const i = state.recentSends.indexOf(stamp.reserved);
  if (i >= 0) state.recentSends[i] = stamp.done;
  else state.recentSends.push(stamp.done);
}

/**
 * Moves a due robot entry into its robot's queue; a robot without a wake document gets one now
 * (one that exists already is the window's or a lane's: it is kept, never brought forward).
 */
export async function queueForRobot(
  tx: WriteTx,
  entry: OutboxEntry,
  robotId: string,
  now: string,
): Promise<void> {
  await queueEntry(tx, entry, robotId);
  const state = await loadRobotState(tx, robotId);
  if (state.wakeKey !== undefined) return;
  await setWake(tx, state, robotId, now);
  await tx.putDoc(ROBOT_STATE_COLLECTION, robotId, state);
}

export interface RobotTake {
  robot: TeamRobot;
  /** The whole queue, oldest first, now held (`sending`) by this instance. */
  entries: OutboxEntry[];
}

/**
 * Takes a robot whose wake document this transaction claimed: the lease moves the wake document to
 * the lease's end (another instance takes over only after it), and the whole queue is ours.
 */
export async function takeRobot(
  tx: WriteTx,
  robotId: string,
  robot: TeamRobot | undefined,
  options: { now: string; instanceId: string; leaseMs: number; maxAttempts: number },
): Promise<{ take?: RobotTake; failed: number }> {
  const state = await loadRobotState(tx, robotId);
  const queued = await tx.listDocs(ROBOT_QUEUE_COLLECTION, { prefix: `${robotId}|` });
  const entries: OutboxEntry[] = [];
  let failed = 0;
  for (const doc of queued) {
    const entry = (await tx.getDoc(OUTBOX_COLLECTION, (doc.value as { key: string }).key)) as
      OutboxEntry | undefined;
    if (!entry || entry.queueKey !== doc.key || entry.status === 'sent' || entry.status === 'failed') {
      await tx.deleteDoc(ROBOT_QUEUE_COLLECTION, doc.key);
      continue;
    }
    const at = options.now;
    if (!robot) {
      await failRobotGone(tx, entry, at);
      failed++;
      continue;
    }
    if (entry.status === 'sending' && entry.attempts >= options.maxAttempts) {
      // Its slot was taken that many times and no outcome was ever recorded: deliveries interrupted.
      await finishEntry(tx, entry, {
        status: 'failed',
        lastError: { error: 'delivery interrupted (lease expired) too often', retryable: false, at },
      });
      failed++;
      continue;
    }
    entry.status = 'sending';
    entry.leaseOwner = options.instanceId;
    await tx.putDoc(OUTBOX_COLLECTION, entry.key, entry);
    entries.push(entry);
  }
  if (!robot || entries.length === 0) {
    delete state.leaseOwner;
    await setWake(tx, state, robotId, undefined);
    await tx.putDoc(ROBOT_STATE_COLLECTION, robotId, state);
    return { failed };
  }
  state.leaseOwner = options.instanceId;
  await setWake(tx, state, robotId, new Date(Date.parse(options.now) + options.leaseMs).toISOString());
  await tx.putDoc(ROBOT_STATE_COLLECTION, robotId, state);
  return { take: { robot, entries }, failed };
}

/**
 * The lane still holding the robot keeps it until `until` (its wake document moves there), while a
 * request is on the wire; a robot another instance took over meanwhile is left alone.
 */
export async function renewRobotLease(
  tx: WriteTx,
  robotId: string,
  options: { instanceId: string; until: string },
): Promise<void> {
  const state = await loadRobotState(tx, robotId);
  if (state.leaseOwner !== options.instanceId) return;
  await setWake(tx, state, robotId, options.until);
  await tx.putDoc(ROBOT_STATE_COLLECTION, robotId, state);
}

/** What waits, as the planner takes it: a robot's digest entries as one item, then the rest oldest first. */
export function waitingGroups(entries: readonly OutboxEntry[]): OutboxEntry[][] {
  const digest = entries.filter((e) => e.mode === 'digest');
  return [
    ...(digest.length > 0 ? [digest] : []),
    ...entries
      .filter((e) => e.mode !== 'digest')
      .sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0))
      .map((e) => [e]),
  ];
}

export type Reservation =
  | { kind: 'send'; unit: DeliveryUnit; reserved: number }
  | { kind: 'wait'; until: number }
  /** The lease ran out and another instance holds the robot now. */
  | { kind: 'lost' };

/**
 * Just before a request: asks the window (with every earlier request stamped as answered) what may
 * go now — the next message alone, or everything left as one summary — and takes its slot.
 */
export async function reserveSend(
  tx: WriteTx,
  robot: TeamRobot,
  waiting: readonly OutboxEntry[][],
  options: { instanceId: string; rateNow: number; previous?: SendStamp },
): Promise<Reservation> {
  const state = await loadRobotState(tx, robot.id);
  if (state.leaseOwner !== options.instanceId) return { kind: 'lost' };
  applyStamp(state, options.previous);
  const now = options.rateNow;
  const plan = planRobotSends({
    now,
    waiting,
    recentSends: state.recentSends,
    windows: ROBOT_RATE_WINDOWS[robot.kind],
    ...(state.throttledUntil !== undefined ? { throttledUntil: state.throttledUntil } : {}),
  });
  const first = plan.individual[0];
  const entries = first ?? (plan.summarized.length > 0 ? plan.summarized.flat() : undefined);
  if (!entries) {
    if (options.previous) await tx.putDoc(ROBOT_STATE_COLLECTION, robot.id, state);
    return { kind: 'wait', until: plan.nextCheckAt ?? now + 1_000 };
  }
  for (const planned of entries) {
    const entry = (await tx.getDoc(OUTBOX_COLLECTION, planned.key)) as OutboxEntry | undefined;
    if (!entry || entry.leaseOwner !== options.instanceId) return { kind: 'lost' };
    // Counted here, before the request: a crash while it is on the wire still counts an attempt.
    entry.attempts += 1;
    planned.attempts = entry.attempts;
    await tx.putDoc(OUTBOX_COLLECTION, entry.key, entry);
  }
  state.recentSends = state.recentSends.filter((t) => t > now - KEEP_SENDS_MS);
  state.recentSends.push(now);
  await tx.putDoc(ROBOT_STATE_COLLECTION, robot.id, state);
  return { kind: 'send', unit: groupUnit(entries), reserved: now };
}

/**
 * The lane is over: the last stamp, a throttling answer, and the lease given back. A queue still
 * holding entries wakes when the window next has room (in service time, about the same span).
 */
export async function releaseRobot(
  tx: WriteTx,
  robot: TeamRobot,
  options: {
    instanceId: string;
    now: string;
    rateNow: number;
    previous?: SendStamp;
    throttledForMs?: number;
  },
): Promise<void> {
  const state = await loadRobotState(tx, robot.id);
  applyStamp(state, options.previous);
  if (options.throttledForMs !== undefined) state.throttledUntil = options.rateNow + options.throttledForMs;
  state.recentSends = state.recentSends.filter((t) => t > options.rateNow - KEEP_SENDS_MS);
  if (state.leaseOwner === options.instanceId) {
    delete state.leaseOwner;
    const queued = await tx.listDocs(ROBOT_QUEUE_COLLECTION, { prefix: `${robot.id}|` });
    let wakeAt: string | undefined;
    if (queued.length > 0) {
      const plan = planRobotSends({
        now: options.rateNow,
        waiting: queued,
        recentSends: state.recentSends,
        windows: ROBOT_RATE_WINDOWS[robot.kind],
        ...(state.throttledUntil !== undefined ? { throttledUntil: state.throttledUntil } : {}),
      });
      const ready = plan.individual.length > 0 || plan.summarized.length > 0;
      const waitMs = ready ? 0 : Math.max(0, (plan.nextCheckAt ?? options.rateNow) - options.rateNow);
      wakeAt = new Date(Date.parse(options.now) + waitMs).toISOString();
    }
    await setWake(tx, state, robot.id, wakeAt);
  }
  await tx.putDoc(ROBOT_STATE_COLLECTION, robot.id, state);
}

/**
 * A message outside the outbox (an administrator's test message) takes its slot in the same
 * window, so it can never push a robot over its provider's limit (DingTalk would block the robot
 * for ten minutes). No room: the instant there will be (rate clock).
 */
export async function reserveOneOff(
  tx: WriteTx,
  robot: TeamRobot,
  rateNow: number,
): Promise<{ reserved: number } | { retryAt: number }> {
  const state = await loadRobotState(tx, robot.id);
  const plan = planRobotSends({
    now: rateNow,
    waiting: [robot.id],
    recentSends: state.recentSends,
    windows: ROBOT_RATE_WINDOWS[robot.kind],
    ...(state.throttledUntil !== undefined ? { throttledUntil: state.throttledUntil } : {}),
  });
  if (plan.individual.length === 0) return { retryAt: plan.nextCheckAt ?? rateNow + 1_000 };
  state.recentSends = state.recentSends.filter((t) => t > rateNow - KEEP_SENDS_MS);
  state.recentSends.push(rateNow);
  await tx.putDoc(ROBOT_STATE_COLLECTION, robot.id, state);
  return { reserved: rateNow };
}

/** The one-off message's answer came back: its slot counts from then. */
export async function stampOneOff(tx: WriteTx, robotId: string, stamp: SendStamp): Promise<void> {
  const state = await loadRobotState(tx, robotId);
  applyStamp(state, stamp);
  await tx.putDoc(ROBOT_STATE_COLLECTION, robotId, state);
}
