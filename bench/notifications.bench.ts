/**
 * Reminders and robot delivery under load (issue 10): N protections (default 10,000) whose T−20
 * reminder falls on one morning, in a real LowdbStore in a temp dir, with 20 team robots (10
 * DingTalk, 10 Feishu) on the local receivers that enforce the providers' limits.
 * (a) `dueReminders` alone over the records, then `runReminders` (read, compute, claim, enqueue
 * into the outbox in one transaction). (b) The outbox worker draining that morning against the
 * receivers as the service polls (robot lanes in the background): messages, summaries (bursts
 * merged), when every entry had reached its group, requests the receivers throttled (must be 0),
 * and per provider the messages against what the providers would allow over that span (DingTalk
 * 20/min per robot, Feishu 100/min and 5/s). (c) The worker's own message rate with the windows
 * out of the way: many robots in parallel, each given one minute's allowance (no summaries),
 * against the providers' sustained ceiling for that many robots — above 1× the providers are the
 * bound, below it the worker is. Time is provider time: the worker, its rate clock and the
 * receivers share one clock that follows real time and skips idle waits (the worker would
 * otherwise sleep out the providers' minutes); wall time is reported beside it.
 * Prints; asserts nothing. About 5 minutes at the defaults on a busy 2-core machine.
 *
 * `node --import tsx bench/notifications.bench.ts [count]` (or `npm run bench notifications`); env
 * BENCH_REMINDERS (count), BENCH_BATCH (worker batch sizes, comma-separated, "all" = everything in
 * one claim; default "200", the service's), BENCH_DRAIN_WALL_S (wall cap per delivery run, default
 * 240), BENCH_PARALLEL_ROBOTS (robots per provider in (c), default 100; 0 skips it).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { PACKAGE_CALENDAR } from '../core/calendar.js';
import { addDays, dayOf } from '../core/day.js';
import { DEFAULT_POLICY } from '../core/policy.js';
import { dueReminders } from '../core/reminders.js';
import { nextServiceDue } from '../core/serviceCadence.js';
import type { Registration, StoredRecord, SubmissionRow } from '../core/schema.js';
import { keyringFromMasterKey } from '../server/security/keyring.js';
import { evaluateRow } from '../server/services/rowEvaluation.js';
import { LowdbStore } from '../server/store/lowdbStore.js';
import type { TeamRobot } from '../server/notify/channelSettings.js';
import { ROBOTS_COLLECTION } from '../server/notify/notifySettings.js';
import { recordFactsOf, type NotifyEvent } from '../server/notify/notifyEvent.js';
import {
  DUE_COLLECTION,
  OUTBOX_COLLECTION,
  enqueueEvents,
  type OutboxEntry,
} from '../server/notify/outbox.js';
import { OutboxWorker, ROBOT_WAKE_COLLECTION } from '../server/notify/outboxWorker.js';
import { reminderRecordOf, runReminders } from '../server/notify/reminderScheduler.js';
import {
  DINGTALK_LIMIT,
  FEISHU_LIMIT,
  startRobotReceivers,
  type ReceivedRequest,
  type RobotReceivers,
} from '../test/fakes/robotReceivers.js';
import { generateRegistrations } from './generate.js';

const COUNT = Number(process.argv[2] ?? process.env['BENCH_REMINDERS'] ?? 10_000);
const BATCHES = (process.env['BENCH_BATCH'] ?? '200').split(',');
const DRAIN_WALL_MS = Number(process.env['BENCH_DRAIN_WALL_S'] ?? 240) * 1000;
/** Robots in the parallel run (c), per provider. */
const PARALLEL_ROBOTS = Number(process.env['BENCH_PARALLEL_ROBOTS'] ?? 100);
/** How often the drain polls while lanes run (the service's BAOBEI_OUTBOX_POLL_MS). */
const POLL_MS = 100;
const TEAMS = 20;
/** 09:00 in Shanghai on a Tuesday (a working day): the morning the reminders fall on. */
const NOW = new Date('2026-12-08T01:00:00.000Z');
const TODAY = dayOf(NOW);

function machine(): string {
  const cpus = os.cpus();
  return `${cpus[0]?.model ?? 'cpu'} × ${cpus.length}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, node ${process.version}, load ${load()}`;
}

/** The 1/5/15-minute load averages: other processes share the cores. */
const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' / ');

const fmt = (n: number, d = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

function asRow(reg: Registration, i: number): SubmissionRow {
  const row: SubmissionRow = { clientRowId: i, source: '展会', region: '上海' };
  for (const [k, v] of Object.entries(reg)) (row as Record<string, unknown>)[k] = v;
  return row;
}

const teamOf = (i: number) => `团队${String(i % TEAMS).padStart(2, '0')}`;

/** A store with COUNT protected records ending T+20 (their T−20 reminder is today) and 20 robots. */
async function fillStore(dataDir: string, receiversUrl: (i: number) => TeamRobot): Promise<LowdbStore> {
  const keyring = keyringFromMasterKey(randomBytes(32));
  const generated = generateRegistrations(COUNT, 11);
  const store = await LowdbStore.open({ dataDir, keyring });
  const approvedAt = new Date(NOW.getTime() - 70 * 86_400_000).toISOString();
  // A follow-up yesterday: no follow-up reminder is due, the morning is the protections ending.
  const yesterday = new Date(NOW.getTime() - 86_400_000).toISOString();
  await store.write(async (tx) => {
    for (const [i, g] of generated.rows.entries()) {
      const e = await evaluateRow(asRow(g.registration, i), {
        tx,
        actor: { id: 'bench', name: 'admin', role: 'admin' },
        policy: DEFAULT_POLICY,
        now: new Date(approvedAt),
        keyring,
      });
      if (!e.record) continue;
      const record: StoredRecord = {
        ...e.record,
        status: 'protected',
        team: teamOf(i),
        approvedAt,
        protectedFrom: dayOf(approvedAt),
        protectedUntil: addDays(TODAY, 20),
        followUps: [{ at: yesterday, by: 'bench', note: '回访' }],
      };
      await tx.putRecord(record);
    }
    for (let i = 0; i < TEAMS; i++) {
      const robot = receiversUrl(i);
      await tx.putDoc(ROBOTS_COLLECTION, robot.id, robot);
    }
  });
  return store;
}

// One clock for the worker, its rate windows and the receivers (see the header).
let skipped = 0;
const realStart = performance.now();
// Whole milliseconds, as Date.now gives (the DingTalk signature's timestamp is an integer).
const vnow = () => Math.floor(NOW.getTime() + (performance.now() - realStart) + skipped);

/** Runs the worker as the service polls until nothing is left (or the wall cap), skipping idle waits. */
async function drain(
  worker: OutboxWorker,
  store: LowdbStore,
): Promise<{ rounds: number; idleSkips: number; wallMs: number; providerMs: number }> {
  const vStart = vnow();
  const wallStart = performance.now();
  let rounds = 0;
  let idleSkips = 0;
  for (;;) {
    // As the service polls: robot lanes run on in the background while the next claims go on.
    const r = await worker.runOnce({ lanes: 'background' });
    rounds++;
    if (performance.now() - wallStart > DRAIN_WALL_MS) break;
    if (r.claimed > 0 || r.robots > 0) continue;
    if (worker.lanesRunning > 0) {
      // Lanes are pacing in real time: poll again soon, as the service would.
      await Promise.race([worker.laneEnded(), new Promise((res) => setTimeout(res, POLL_MS))]);
      continue;
    }
    const at = await nextDue(store);
    if (at === undefined) break;
    // Nothing due yet: jump the shared clock to the first due instant instead of sleeping.
    skipped += Math.max(0, at - vnow()) + 1;
    idleSkips++;
  }
  await worker.stop();
  return { rounds, idleSkips, wallMs: performance.now() - wallStart, providerMs: vnow() - vStart };
}

async function main(): Promise<void> {
  console.log(`# notifications benchmark — ${machine()}`);
  console.log(`${fmt(COUNT)} protections ending ${addDays(TODAY, 20)}, today ${TODAY}; ${TEAMS} team robots`);

  const receivers = await startRobotReceivers({ clock: vnow });
  let sample: StoredRecord | undefined;

  for (const batch of BATCHES) {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'baobei-bench-notify-'));
    const fakes = Array.from({ length: TEAMS }, (_, i) =>
      i % 2 === 0 ? receivers.dingtalk() : receivers.feishu(),
    );
    const robotOf = (i: number): TeamRobot => {
      const f = fakes[i]!;
      return f.kind === 'dingtalk'
        ? {
            kind: 'dingtalk',
            id: `dt-${i}`,
            team: teamOf(i),
            name: `钉钉 ${i}`,
            webhookUrl: f.webhookUrl,
            secret: f.secret!,
            language: 'zh-CN',
          }
        : {
            kind: 'feishu',
            id: `fs-${i}`,
            team: teamOf(i),
            name: `飞书 ${i}`,
            webhookUrl: f.webhookUrl,
            secret: f.secret!,
            language: 'zh-CN',
          };
    };
    let t = performance.now();
    const store = await fillStore(dataDir, robotOf);
    const fillMs = performance.now() - t;

    // (a) Compute alone (the pure core), then the server's run (read, compute, claim, enqueue).
    const records = await store.read((tx) => tx.recordsWithStatus(['protected', 'extension-requested']));
    sample ??= records[0];
    t = performance.now();
    const due = dueReminders(
      records.map((r) => ({
        ...reminderRecordOf(r),
        serviceDue: nextServiceDue(r, DEFAULT_POLICY, PACKAGE_CALENDAR)?.due,
      })),
      TODAY,
      DEFAULT_POLICY,
      PACKAGE_CALENDAR,
    );
    const pureMs = performance.now() - t;
    const byType = new Map<string, number>();
    for (const d of due) byType.set(d.type, (byType.get(d.type) ?? 0) + 1);
    t = performance.now();
    const run = await runReminders(store, { now: NOW, calendar: PACKAGE_CALENDAR, policy: DEFAULT_POLICY });
    const runMs = performance.now() - t;
    console.log(
      `\n## worker batch ${batch}\nstore: ${fmt(records.length)} protected records filled in ${fmt(fillMs / 1000, 1)} s`,
    );
    console.log(
      `(a) dueReminders alone: ${fmt(due.length)} due (${[...byType].map(([k, v]) => `${k} ${fmt(v)}`).join(', ')}) in ${fmt(pureMs)} ms = ${fmt(due.length / (pureMs / 1000))} reminders/s`,
    );
    console.log(
      `    runReminders: ${fmt(run.due)} due, ${fmt(run.claimed)} claimed, ${fmt(run.entries)} outbox entries; compute ${fmt(run.computeMs)} ms (records read + dueReminders), claim+enqueue ${fmt(run.enqueueMs)} ms (one transaction); total ${fmt(runMs)} ms = ${fmt(run.entries / (runMs / 1000))} entries/s`,
    );
    const again = await runReminders(store, { now: NOW, calendar: PACKAGE_CALENDAR, policy: DEFAULT_POLICY });
    console.log(
      `    second run the same morning: ${fmt(again.claimed)} claimed, ${fmt(again.entries)} entries (claimed once)`,
    );

    // (b) Drain the outbox through the worker into the receivers.
    const batchSize = batch === 'all' ? run.entries : Number(batch);
    const worker = new OutboxWorker({
      store,
      clock: () => new Date(vnow()),
      rateClock: vnow,
      batchSize,
    });
    const before = receivers.requests.length;
    const vStart = vnow();
    const { rounds, idleSkips, wallMs, providerMs: vMs } = await drain(worker, store);
    const reqs = receivers.requests.slice(before);
    const entries = await store.read((tx) => tx.listDocs(OUTBOX_COLLECTION));
    let sent = 0;
    let failed = 0;
    let inSummary = 0;
    for (const d of entries) {
      const e = d.value as OutboxEntry;
      if (e.status === 'sent') sent++;
      if (e.status === 'failed') failed++;
      if (e.status === 'sent' && e.sentIn !== undefined && e.sentIn !== e.key) inSummary++;
    }
    const delivered = reqs.filter((q) => q.outcome === 'delivered');
    const throttled = reqs.filter((q) => q.outcome === 'throttled').length;
    const refused = reqs.filter((q) => q.outcome === 'refused').length;
    const codes = new Map<string, number>();
    for (const q of reqs)
      if (q.outcome !== 'delivered')
        codes.set(`${q.kind}:${q.code}`, (codes.get(`${q.kind}:${q.code}`) ?? 0) + 1);
    const summaries = new Set(
      entries
        .map((d) => d.value as OutboxEntry)
        .filter((e) => e.sentIn !== undefined && e.sentIn !== e.key)
        .map((e) => e.sentIn),
    ).size;
    const drained = sent + failed === entries.length;
    console.log(
      `(b) worker: ${fmt(sent)}/${fmt(entries.length)} entries sent, ${fmt(failed)} failed${drained ? '' : ' (NOT drained: wall cap)'} in ${fmt(rounds)} rounds (${fmt(idleSkips)} idle waits skipped); provider time ${fmt(vMs / 1000, 1)} s, wall ${fmt(wallMs / 1000, 1)} s`,
    );
    console.log(
      `    requests: ${fmt(delivered.length)} delivered, ${fmt(throttled)} throttled, ${fmt(refused)} refused${codes.size > 0 ? ` (${[...codes].map(([k, v]) => `${k} ×${v}`).join(', ')})` : ''}; ${fmt(summaries)} summaries carrying ${fmt(inSummary)} entries; ${fmt(sent / Math.max(1, delivered.length), 1)} entries per message`,
    );
    for (const kind of ['dingtalk', 'feishu'] as const) {
      const mine = delivered.filter((q) => q.kind === kind);
      const last = Math.max(...mine.map((q) => q.at)) - vStart;
      console.log(
        `    ${kind}: every entry reached its group ${fmt(last / 1000, 1)} s (provider time) after the worker started; ${ceilingLine(kind, mine)} (with a burst summarised, fewer messages than allowed is the aim: the ratio shows the limit is never passed, not a shortfall)`,
      );
    }
    console.log(
      `    entries: ${fmt(sent / (vMs / 1000), 1)}/s in provider time, ${fmt(sent / (wallMs / 1000), 1)}/s wall`,
    );
    await store.close();
    await rm(dataDir, { recursive: true, force: true });
  }
  if (sample && PARALLEL_ROBOTS > 0) {
    console.log(
      `\n## (c) message throughput: ${PARALLEL_ROBOTS} robots per provider in parallel, each sent what its provider allows in one minute (no summaries) — load ${load()}`,
    );
    await parallelRun(receivers, sample, 'dingtalk', DINGTALK_LIMIT.perMinute);
    await parallelRun(receivers, sample, 'feishu', FEISHU_LIMIT.perMinute);
  }
  await receivers.close();
}

/**
 * The worker's own message rate, with the providers' per-robot windows out of the way: many robots,
 * each given exactly one minute's allowance, so every message goes alone. Against the providers'
 * sustained ceiling for that many robots (DingTalk 20/min each, Feishu 100/min each) the ratio says
 * how many such robots one instance can keep at the ceiling.
 */
async function parallelRun(
  receivers: RobotReceivers,
  sample: StoredRecord,
  kind: 'dingtalk' | 'feishu',
  perRobot: number,
): Promise<void> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'baobei-bench-notify-par-'));
  const store = await LowdbStore.open({ dataDir, keyring: keyringFromMasterKey(randomBytes(32)) });
  const at = new Date(vnow()).toISOString();
  const tokens = new Set<string>();
  await store.write(async (tx) => {
    for (let i = 0; i < PARALLEL_ROBOTS; i++) {
      const f = kind === 'dingtalk' ? receivers.dingtalk() : receivers.feishu();
      tokens.add(f.token);
      const robot: TeamRobot = {
        kind,
        id: `par-${kind}-${i}`,
        team: `并行${i}`,
        name: `并行 ${i}`,
        webhookUrl: f.webhookUrl,
        secret: f.secret!,
        language: 'zh-CN',
      };
      await tx.putDoc(ROBOTS_COLLECTION, robot.id, robot);
    }
    const items = [];
    for (let i = 0; i < PARALLEL_ROBOTS; i++) {
      for (let j = 0; j < perRobot; j++) {
        const no = `BB-2026-9${String(i).padStart(3, '0')}${String(j).padStart(3, '0')}`;
        const facts = { ...recordFactsOf(sample), no, team: `并行${i}` };
        const event: NotifyEvent = {
          type: 'protection.ending',
          recordNo: no,
          at,
          details: { daysLeft: 20, protectedUntil: addDays(TODAY, 20), extensionLastDay: TODAY },
        };
        items.push({ event, facts, to: { name: '—' }, eventKey: `par:${no}`, robotKey: `par:${no}` });
      }
    }
    await enqueueEvents(tx, items, { now: at, digestHour: 9 });
  });
  const worker = new OutboxWorker({ store, clock: () => new Date(vnow()), rateClock: vnow });
  const before = receivers.requests.length;
  const { wallMs } = await drain(worker, store);
  const reqs = receivers.requests.slice(before).filter((q) => tokens.has(q.robot));
  const delivered = reqs.filter((q) => q.outcome === 'delivered');
  const throttled = reqs.filter((q) => q.outcome === 'throttled').length;
  const expected = PARALLEL_ROBOTS * perRobot;
  const outbox = (await store.read((tx) => tx.listDocs(OUTBOX_COLLECTION))).map(
    (d) => d.value as OutboxEntry,
  );
  const entriesSent = outbox.filter((e) => e.status === 'sent').length;
  const inSummaries = outbox.filter((e) => e.sentIn !== undefined).length;
  const rate = delivered.length / (wallMs / 1000);
  const ceiling = (PARALLEL_ROBOTS * perRobot) / 60;
  console.log(
    `${kind}: ${fmt(entriesSent)}/${fmt(expected)} entries sent (${fmt(inSummaries)} of them inside a summary, where a lane given back mid-minute found fewer slots than messages), ${fmt(delivered.length)} messages delivered, ${fmt(throttled)} throttled, in ${fmt(wallMs / 1000, 1)} s wall = ${fmt(rate, 1)} messages/s; the providers' sustained ceiling for ${PARALLEL_ROBOTS} robots (${perRobot}/min each) is ${fmt(ceiling, 1)}/s → achieved/sustained ceiling ${fmt(rate / ceiling, 2)}× (above 1: the minute's allowance went out in under a minute)`,
  );
  console.log(`    ${ceilingLine(kind, delivered)}`);
  await store.close();
  await rm(dataDir, { recursive: true, force: true });
}

/** The first instant an entry or a robot's queue is due (undefined: nothing left to do). */
async function nextDue(store: LowdbStore): Promise<number | undefined> {
  const firsts = await store.read(async (tx) => [
    ...(await tx.listDocs(DUE_COLLECTION, { limit: 1 })),
    ...(await tx.listDocs(ROBOT_WAKE_COLLECTION, { limit: 1 })),
  ]);
  if (firsts.length === 0) return undefined;
  return Math.min(...firsts.map((d) => Date.parse(d.key.slice(0, d.key.indexOf('|')))));
}

/**
 * Achieved against the ceiling, per provider: what the providers would accept over the span each
 * robot was sent to (first to last delivered request, receiver time). A sliding limit of L per W
 * allows at most L × (⌊span / W⌋ + 1) in a span; Feishu's 5/s applies on top of its 100/min.
 */
function ceilingLine(kind: 'dingtalk' | 'feishu', delivered: readonly ReceivedRequest[]): string {
  const byRobot = new Map<string, number[]>();
  for (const q of delivered)
    if (q.kind === kind) byRobot.set(q.robot, [...(byRobot.get(q.robot) ?? []), q.at]);
  let messages = 0;
  let allowed = 0;
  let spanSum = 0;
  for (const times of byRobot.values()) {
    const span = Math.max(...times) - Math.min(...times);
    const perMinute = kind === 'dingtalk' ? DINGTALK_LIMIT.perMinute : FEISHU_LIMIT.perMinute;
    let allowance = perMinute * (Math.floor(span / 60_000) + 1);
    if (kind === 'feishu')
      allowance = Math.min(allowance, FEISHU_LIMIT.perSecond * (Math.floor(span / 1_000) + 1));
    messages += times.length;
    allowed += allowance;
    spanSum += span;
  }
  if (byRobot.size === 0) return `${kind}: nothing delivered`;
  const span = spanSum / byRobot.size;
  const limit = kind === 'dingtalk' ? '20/min' : '100/min & 5/s';
  return `${kind} (${byRobot.size} robots, ${limit}): ${fmt(messages / byRobot.size, 1)} messages per robot over ${fmt(span / 1000, 1)} s; the providers allow ${fmt(allowed / byRobot.size, 1)} per robot over that span → achieved/ceiling ${fmt((100 * messages) / allowed, 0)}%`;
}

await main();
