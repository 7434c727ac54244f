/**
 * Per-robot rate limiting as a pure planner: given what waits for one robot and when this robot
 * was last sent to, decide what goes out now, one by one, and what is merged into ONE summary —
 * never more requests than the provider allows in any window, nothing dropped, nothing held for
 * the provider's ten-minute penalty. The clock is an argument; the caller keeps the send times.
 */
import type { RobotKind } from './channelSettings.js';
import { DINGTALK_PER_MINUTE } from './dingtalkRobot.js';
import { FEISHU_PER_MINUTE, FEISHU_PER_SECOND } from './feishuRobot.js';
import { WECOM_PER_MINUTE } from './wecomRobot.js';

export interface RateWindow {
  /** Requests allowed in any `windowMs`. */
  limit: number;
  windowMs: number;
  /**
   * Our send times and the provider's count are taken at the two ends of a network: a send is
   * counted for `windowMs + marginMs` so jitter can never make it 21 in the provider's minute.
   */
  marginMs: number;
  /**
   * `summarize`: a burst beyond the window is merged into one message (the window is long: waiting
   * would delay people by minutes). `wait`: the excess waits for the window (a second is harmless).
   */
  overflow: 'summarize' | 'wait';
}

export const ROBOT_RATE_WINDOWS: Record<RobotKind, readonly RateWindow[]> = {
  dingtalk: [{ limit: DINGTALK_PER_MINUTE, windowMs: 60_000, marginMs: 2_000, overflow: 'summarize' }],
  wecom: [{ limit: WECOM_PER_MINUTE, windowMs: 60_000, marginMs: 2_000, overflow: 'summarize' }],
  feishu: [
    { limit: FEISHU_PER_MINUTE, windowMs: 60_000, marginMs: 2_000, overflow: 'summarize' },
    { limit: FEISHU_PER_SECOND, windowMs: 1_000, marginMs: 200, overflow: 'wait' },
  ],
};

export interface RobotSendInput<T> {
  /** Milliseconds since the epoch. */
  now: number;
  /** What waits for this robot, oldest first. */
  waiting: readonly T[];
  /** When requests were made to this robot (any outcome), in the last few minutes; order free. */
  recentSends: readonly number[];
  windows: readonly RateWindow[];
  /** The provider said this robot is throttled (DeliveryResult.retryAfterMs): send nothing before. */
  throttledUntil?: number;
}

export interface RobotSendPlan<T> {
  /** Send these now, one message each, in this order. */
  individual: T[];
  /** Send these now as one summary message, after the individual ones (never exactly one item). */
  summarized: T[];
  /** Something still waits: plan again at this instant. */
  nextCheckAt?: number;
}

export function planRobotSends<T>(input: RobotSendInput<T>): RobotSendPlan<T> {
  const { now, waiting, windows } = input;
  if (input.throttledUntil !== undefined && input.throttledUntil > now) {
    return waiting.length > 0
      ? { individual: [], summarized: [], nextCheckAt: input.throttledUntil }
      : { individual: [], summarized: [] };
  }
  if (waiting.length === 0) return { individual: [], summarized: [] };
  const sends = [...input.recentSends].sort((a, b) => a - b);
  const long = windows.filter((w) => w.overflow === 'summarize');
  const short = windows.filter((w) => w.overflow === 'wait');
  const longRoom = room(long, sends, now);
  const shortRoom = room(short, sends, now);
  const after = (n: number) => [...sends, ...Array<number>(n).fill(now)];

  if (waiting.length <= longRoom) {
    const n = Math.min(waiting.length, shortRoom);
    const individual = waiting.slice(0, n);
    return n === waiting.length
      ? { individual, summarized: [] }
      : { individual, summarized: [], nextCheckAt: freeAt(windows, after(n), now) };
  }
  // A burst beyond the long window: all but one of its remaining slots go to single messages and
  // the last carries everything else.
  if (longRoom === 0) return { individual: [], summarized: [], nextCheckAt: freeAt(windows, sends, now) };
  const n = Math.min(longRoom - 1, shortRoom);
  const individual = waiting.slice(0, n);
  if (shortRoom >= n + 1) return { individual, summarized: waiting.slice(n) };
  return { individual, summarized: [], nextCheckAt: freeAt(windows, after(n), now) };
}

function inWindow(w: RateWindow, sends: readonly number[], now: number): number[] {
  const span = w.windowMs + w.marginMs;
  return sends.filter((s) => s > now - span && s <= now);
}

/** How many more requests every one of these windows allows now (Infinity without windows). */
function room(windows: readonly RateWindow[], sends: readonly number[], now: number): number {
  let min = Infinity;
  for (const w of windows) min = Math.min(min, Math.max(0, w.limit - inWindow(w, sends, now).length));
  return min;
}

/** The first instant at which every window allows one more request. */
function freeAt(windows: readonly RateWindow[], sends: readonly number[], now: number): number {
  let at = now;
  for (const w of windows) {
    const counted = inWindow(w, sends, now);
    if (counted.length < w.limit) continue;
    // The oldest sends must leave the window until one slot is free.
    const leaving = counted[counted.length - w.limit];
    if (leaving !== undefined) at = Math.max(at, leaving + w.windowMs + w.marginMs);
  }
  return at;
}
