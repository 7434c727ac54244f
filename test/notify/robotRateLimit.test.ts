import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planRobotSends, ROBOT_RATE_WINDOWS, type RateWindow } from '../../server/notify/robotRateLimit.js';

const T0 = Date.UTC(2026, 4, 11, 1, 0, 0);
const minute: RateWindow[] = [...ROBOT_RATE_WINDOWS.dingtalk];
const range = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + i);

describe('planRobotSends (DingTalk / WeCom: 20 a minute)', () => {
  it('sends everything one by one while within the limit', () => {
    expect(planRobotSends({ now: T0, waiting: range(5), recentSends: [], windows: minute })).toEqual({
      individual: range(5),
      summarized: [],
    });
    const recent = range(15).map((i) => T0 - 30_000 + i);
    expect(
      planRobotSends({ now: T0, waiting: range(5), recentSends: recent, windows: minute }).individual,
    ).toEqual(range(5));
  });

  it('merges a burst beyond the limit into one summary using the last slot, oldest sent singly', () => {
    const plan = planRobotSends({ now: T0, waiting: range(45), recentSends: [], windows: minute });
    expect(plan.individual).toEqual(range(19));
    expect(plan.summarized).toEqual(range(26, 19));
    expect(plan.nextCheckAt).toBeUndefined();
  });

  it('with the minute used up, sends nothing and says when a slot frees (60 s + margin after the oldest)', () => {
    const recent = range(20).map((i) => T0 - 10_000 + i * 100);
    const plan = planRobotSends({ now: T0, waiting: range(3), recentSends: recent, windows: minute });
    expect(plan).toEqual({ individual: [], summarized: [], nextCheckAt: T0 - 10_000 + 62_000 });
  });

  it('with one slot left and more than one waiting, the one slot carries them all as a summary', () => {
    const recent = range(19).map((i) => T0 - 5_000 + i);
    const plan = planRobotSends({ now: T0, waiting: range(4), recentSends: recent, windows: minute });
    expect(plan).toEqual({ individual: [], summarized: range(4) });
  });

  it('counts a send for the window plus its margin, then forgets it', () => {
    const recent = range(20).map(() => T0 - 61_000);
    expect(
      planRobotSends({ now: T0, waiting: [1], recentSends: recent, windows: minute }).individual,
    ).toEqual([]);
    expect(
      planRobotSends({ now: T0 + 1_000, waiting: [1], recentSends: recent, windows: minute }).individual,
    ).toEqual([1]);
  });

  it('a throttled robot (the provider said so) gets nothing until the penalty ends', () => {
    const plan = planRobotSends({
      now: T0,
      waiting: range(3),
      recentSends: [],
      windows: minute,
      throttledUntil: T0 + 600_000,
    });
    expect(plan).toEqual({ individual: [], summarized: [], nextCheckAt: T0 + 600_000 });
    expect(
      planRobotSends({
        now: T0 + 600_000,
        waiting: range(3),
        recentSends: [],
        windows: minute,
        throttledUntil: T0 + 600_000,
      }).individual,
    ).toEqual(range(3));
  });

  it('nothing waiting, nothing planned', () => {
    expect(planRobotSends({ now: T0, waiting: [], recentSends: [], windows: minute })).toEqual({
      individual: [],
      summarized: [],
    });
  });
});

describe('planRobotSends (Feishu: 100 a minute, 5 a second)', () => {
  const feishu = ROBOT_RATE_WINDOWS.feishu;

  it('waits for the second window rather than summarising, and summarises only past the minute', () => {
    const plan = planRobotSends({ now: T0, waiting: range(12), recentSends: [], windows: feishu });
    expect(plan.individual).toEqual(range(5));
    expect(plan.summarized).toEqual([]);
    expect(plan.nextCheckAt).toBe(T0 + 1_200);
  });

  it('a burst past 100 a minute still ends in exactly one summary, never a 6th request in a second', () => {
    let now = T0;
    let waiting = range(150);
    const sends: number[] = [];
    const sentSingly: number[] = [];
    let summaries = 0;
    for (let step = 0; step < 200 && waiting.length > 0; step++) {
      const plan = planRobotSends({ now, waiting, recentSends: sends, windows: feishu });
      sentSingly.push(...plan.individual);
      for (let i = 0; i < plan.individual.length; i++) sends.push(now);
      if (plan.summarized.length > 0) {
        summaries += 1;
        sends.push(now);
      }
      const done = new Set([...plan.individual, ...plan.summarized]);
      waiting = waiting.filter((w) => !done.has(w));
      now = plan.nextCheckAt ?? now;
    }
    expect(waiting).toEqual([]);
    expect(summaries).toBe(1);
    expect(sentSingly).toEqual(range(99));
    for (const s of sends) expect(sends.filter((x) => x > s - 1_000 && x <= s).length).toBeLessThanOrEqual(5);
  });
});

describe('planRobotSends properties (DingTalk / WeCom)', () => {
  it('never more than 20 requests in any 60 s, nothing lost, nothing sent twice, waits under two minutes', () => {
    fc.assert(
      fc.property(
        // Arrival gaps (ms) of up to 200 messages: bursts, trickles and pauses.
        fc.array(
          fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 1_000 }), fc.integer({ min: 0, max: 20_000 })),
          { minLength: 1, maxLength: 200, size: 'max' },
        ),
        (gaps) => {
          const arrivals: number[] = [];
          let t = T0;
          for (const g of gaps) arrivals.push((t += g));
          const sends: number[] = [];
          const handled = new Map<number, number>();
          let waiting: number[] = [];
          let next = 0;
          let now = T0;
          let wakeAt: number | undefined;
          while (next < arrivals.length || waiting.length > 0) {
            // Run at every arrival and whenever the planner asked to be woken.
            const arrival = arrivals[next];
            now = Math.min(arrival ?? Infinity, wakeAt ?? Infinity);
            while (next < arrivals.length && arrivals[next]! <= now) waiting.push(next++);
            const plan = planRobotSends({ now, waiting, recentSends: sends, windows: minute });
            for (const i of plan.individual) {
              sends.push(now);
              handled.set(i, (handled.get(i) ?? 0) + 1);
            }
            if (plan.summarized.length > 0) {
              expect(plan.summarized.length).toBeGreaterThan(1);
              sends.push(now);
              for (const i of plan.summarized) handled.set(i, (handled.get(i) ?? 0) + 1);
            }
            for (const i of [...plan.individual, ...plan.summarized]) {
              expect(now - arrivals[i]!).toBeLessThan(120_000);
            }
            const done = new Set([...plan.individual, ...plan.summarized]);
            waiting = waiting.filter((w) => !done.has(w));
            wakeAt = plan.nextCheckAt;
          }
          expect([...handled.keys()].sort((a, b) => a - b)).toEqual(range(arrivals.length));
          expect([...handled.values()].every((n) => n === 1)).toBe(true);
          for (const s of sends)
            expect(sends.filter((x) => x > s - 60_000 && x <= s).length).toBeLessThanOrEqual(20);
        },
      ),
      { seed: 20260511, numRuns: 200 },
    );
  });
});
