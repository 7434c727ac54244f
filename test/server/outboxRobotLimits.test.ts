/**
 * The outbox worker against the local robot receivers, which count requests when they arrive and
 * throttle like the providers (issue 10): a slow request never lets the next ones bunch up past
 * Feishu's 5 a second or DingTalk's 20 a minute, and a burst for one robot — queued over any number
 * of claims, while the robot's minute is used up or not — goes out as ONE summary when there is
 * room, every dedupe key accounted for (alone or inside a summary), none lost, none sent twice.
 *
 * A real LowdbStore in a temp dir, real HTTP. The worker, its rate clock and the receivers share one
 * clock that follows real time and jumps over idle waits (the providers' minutes) so the test does
 * not sleep them out.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { teamRobotSchema, type TeamRobot } from '../../server/notify/channelSettings.js';
import { recordFactsOf, type NotifyEvent } from '../../server/notify/notifyEvent.js';
import { ROBOTS_COLLECTION } from '../../server/notify/notifySettings.js';
import {
  DUE_COLLECTION,
  OUTBOX_COLLECTION,
  enqueueEvents,
  type OutboxEntry,
} from '../../server/notify/outbox.js';
import { OutboxWorker, ROBOT_WAKE_COLLECTION } from '../../server/notify/outboxWorker.js';
import { keyringFromMasterKey } from '../../server/security/keyring.js';
import { LowdbStore } from '../../server/store/lowdbStore.js';
import {
  DINGTALK_LIMIT,
  FEISHU_LIMIT,
  startRobotReceivers,
  type FakeRobot,
  type ReceivedRequest,
  type RobotReceivers,
} from '../fakes/robotReceivers.js';
import { storedRecord } from '../notify/notifyFixtures.js';

let skipped = 0;
const now = () => Date.now() + skipped;
let receivers: RobotReceivers;
let store: LowdbStore;
let dataDir: string;
let enqueued = 0;

beforeEach(async () => {
  skipped = 0;
  receivers = await startRobotReceivers({ clock: now });
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'baobei-robot-limits-'));
  store = await LowdbStore.open({ dataDir, keyring: keyringFromMasterKey(randomBytes(32)) });
});

afterEach(async () => {
  await store?.close();
  await receivers?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

async function addRobot(fake: FakeRobot, id: string): Promise<TeamRobot> {
  const robot = teamRobotSchema.parse({
    kind: fake.kind,
    id,
    team: '华东一部',
    name: `${id} 群`,
    webhookUrl: fake.webhookUrl,
    ...(fake.secret !== undefined ? { secret: fake.secret } : {}),
  });
  await store.write((tx) => tx.putDoc(ROBOTS_COLLECTION, id, robot));
  return robot;
}

/** `n` reminders of distinct records through the real enqueue: one entry per configured robot each. */
async function enqueueReminders(n: number): Promise<void> {
  const at = new Date(now()).toISOString();
  const items = Array.from({ length: n }, () => {
    const no = `BB-2026-${String(++enqueued).padStart(6, '0')}`;
    const event: NotifyEvent = {
      type: 'protection.ending',
      recordNo: no,
      at,
      details: { daysLeft: 20, protectedUntil: '2027-01-05', extensionLastDay: '2026-12-16' },
    };
    return {
      event,
      facts: recordFactsOf(storedRecord({ no })),
      to: { name: '没有这个人' },
      eventKey: `reminder:${no}:20`,
      robotKey: `reminder:${no}:20`,
    };
  });
  await store.write((tx) => enqueueEvents(tx, items, { now: at, digestHour: 9 }));
}

/** Runs the worker until nothing is due or waiting, jumping the shared clock over idle waits. */
async function drain(worker: OutboxWorker): Promise<void> {
  for (let round = 0; round < 500; round++) {
    const r = await worker.runOnce();
    if (r.claimed > 0 || r.robots > 0) continue;
    const [due, wake] = await store.read(async (tx) => [
      (await tx.listDocs(DUE_COLLECTION, { limit: 1 }))[0],
      (await tx.listDocs(ROBOT_WAKE_COLLECTION, { limit: 1 }))[0],
    ]);
    const next = [due, wake]
      .filter((d) => d !== undefined)
      .map((d) => Date.parse(d.key.slice(0, d.key.indexOf('|'))));
    if (next.length === 0) return;
    skipped += Math.max(0, Math.min(...next) - now()) + 1;
  }
  throw new Error('the outbox never drained');
}

function worker(batchSize?: number): OutboxWorker {
  return new OutboxWorker({
    store,
    clock: () => new Date(now()),
    rateClock: now,
    ...(batchSize !== undefined ? { batchSize } : {}),
  });
}

/** The most requests the receiver saw arrive within any `windowMs`. */
function busiest(requests: readonly ReceivedRequest[], windowMs: number): number {
  let most = 0;
  for (const r of requests)
    most = Math.max(most, requests.filter((q) => q.at > r.at - windowMs && q.at <= r.at).length);
  return most;
}

async function entries(): Promise<OutboxEntry[]> {
  return (await store.read((tx) => tx.listDocs(OUTBOX_COLLECTION))).map((d) => d.value as OutboxEntry);
}

/** Every entry sent exactly once: alone under its own key, or inside one summary delivered once. */
function expectAccounted(all: readonly OutboxEntry[], robot: FakeRobot): void {
  const delivered = new Map<string, number>();
  for (const r of robot.delivered()) delivered.set(r.dedupeKey!, (delivered.get(r.dedupeKey!) ?? 0) + 1);
  for (const [key, count] of delivered) expect(count, key).toBe(1);
  const carried = new Set<string>();
  for (const e of all) {
    expect(e.status, e.key).toBe('sent');
    if (e.sentIn !== undefined) {
      expect(delivered.has(e.sentIn), `${e.key} in ${e.sentIn}`).toBe(true);
      expect(delivered.has(e.key), `${e.key} also alone`).toBe(false);
      carried.add(e.sentIn);
    } else {
      expect(delivered.has(e.key), e.key).toBe(true);
    }
  }
  // Nothing delivered that no entry accounts for.
  const own = new Set(all.filter((e) => e.sentIn === undefined).map((e) => e.key));
  for (const key of delivered.keys()) expect(own.has(key) || carried.has(key), key).toBe(true);
}

function expectNeverThrottled(robot: FakeRobot): void {
  const requests = robot.requests();
  expect(requests.length).toBeGreaterThan(0);
  expect(requests.filter((r) => r.outcome !== 'delivered').map((r) => `${r.outcome} ${r.code}`)).toEqual([]);
}

it('[issue 10] Feishu: a request that reaches the bot late never lets the next ones pass 5 a second', async () => {
  const feishu = receivers.feishu();
  await addRobot(feishu, 'fs-1');
  const w = worker();
  // The first request is on the wire for 1.5 s: it counts when it arrives, not when it was planned.
  feishu.delayNext(1, 1_500);
  await enqueueReminders(12);
  await drain(w);
  await w.stop();
  expectNeverThrottled(feishu);
  expect(busiest(feishu.delivered(), 1_000)).toBeLessThanOrEqual(FEISHU_LIMIT.perSecond);
  const all = await entries();
  expect(all).toHaveLength(12);
  expectAccounted(all, feishu);
}, 60_000);

it('[issue 10] DingTalk: a request that reaches the robot late never lets a later burst pass 20 a minute', async () => {
  const dingtalk = receivers.dingtalk();
  await addRobot(dingtalk, 'dt-1');
  const w = worker();
  dingtalk.delayNext(1, 3_000);
  await enqueueReminders(20);
  await drain(w);
  // A second burst while the first one's requests are still in the robot's minute.
  await enqueueReminders(25);
  await drain(w);
  await w.stop();
  expectNeverThrottled(dingtalk);
  expect(busiest(dingtalk.delivered(), 60_000)).toBeLessThanOrEqual(DINGTALK_LIMIT.perMinute);
  const all = await entries();
  expect(all).toHaveLength(45);
  expectAccounted(all, dingtalk);
}, 60_000);

it('[issue 10] 300 entries for one DingTalk robot over six claims: 19 alone and ONE summary of 281, whatever the batch', async () => {
  const dingtalk = receivers.dingtalk();
  await addRobot(dingtalk, 'dt-1');
  const w = worker(50);
  await enqueueReminders(300);
  await drain(w);
  await w.stop();

  const requests = dingtalk.requests();
  expect(requests.every((r) => r.outcome === 'delivered')).toBe(true);
  expect(requests).toHaveLength(DINGTALK_LIMIT.perMinute);
  expect(busiest(requests, 60_000)).toBeLessThanOrEqual(DINGTALK_LIMIT.perMinute);
  const all = await entries();
  expect(all).toHaveLength(300);
  expect(all.filter((e) => e.sentIn === undefined)).toHaveLength(19);
  const summaries = new Set(all.flatMap((e) => (e.sentIn !== undefined ? [e.sentIn] : [])));
  expect(summaries.size).toBe(1);
  expect(requests.at(-1)!.rawBody).toContain('报备通知汇总（281 条）');
  expectAccounted(all, dingtalk);
}, 60_000);

it('[issue 10] with the robot’s minute used up, everything that piles up across claims goes as one summary when room comes back', async () => {
  const dingtalk = receivers.dingtalk();
  await addRobot(dingtalk, 'dt-1');
  const w = worker(50);
  await enqueueReminders(20);
  await w.runOnce();
  expect(dingtalk.delivered()).toHaveLength(20);
  // The minute is full: these are claimed 50 at a time and wait in the robot's queue.
  await enqueueReminders(300);
  for (let i = 0; i < 8; i++) await w.runOnce();
  expect(dingtalk.requests()).toHaveLength(20);
  await drain(w);
  await w.stop();

  const requests = dingtalk.requests();
  expect(requests.filter((r) => r.outcome !== 'delivered')).toEqual([]);
  expect(busiest(requests, 60_000)).toBeLessThanOrEqual(DINGTALK_LIMIT.perMinute);
  const all = await entries();
  expect(all).toHaveLength(320);
  const summaries = new Set(all.flatMap((e) => (e.sentIn !== undefined ? [e.sentIn] : [])));
  expect(summaries.size).toBe(1);
  // When room comes back the planner uses the slots free then: all but one alone, the last carries
  // everything else (how many slots have freed at that instant depends on how far apart the first
  // minute's requests were answered).
  const alone = all.filter((e) => e.sentIn === undefined).length;
  expect(alone).toBeGreaterThanOrEqual(20);
  expect(alone).toBeLessThanOrEqual(20 + 19);
  expect(requests).toHaveLength(alone + 1);
  expect(requests.at(-1)!.rawBody).toContain(`报备通知汇总（${320 - alone} 条）`);
  expectAccounted(all, dingtalk);
}, 60_000);
