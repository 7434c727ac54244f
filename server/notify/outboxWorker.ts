/**
 * Delivers the outbox (issue 10). Each round claims what is due in one short transaction, sends
 * outside any transaction, and records the outcomes. Instances exclude each other through the claim
 * (`claimDocs`, SKIP LOCKED on PostgreSQL; writes are serialised anyway).
 *
 * Email: claimed entries are leased (status `sending`, owner, due key moved to the lease's end),
 * sent, recorded; a crash mid-send leaves the lease to expire and the entry is sent again under the
 * same dedupe key (the Message-ID), or marked failed once attempts run out. Digest entries for one
 * recipient are merged into one message.
 *
 * Robots (robotLane.ts): a due entry moves into its robot's queue; a robot whose wake document is
 * due is taken under a lease and its whole queue is sent in a lane of its own, each request taking
 * its slot in the provider's window just before it goes out (`X-Baobei-Dedupe-Key` per message).
 * While a claim comes back full, robots are not taken for a moment, so a burst is queued whole
 * first and merged into one summary instead of trickling out one message at a time.
 *
 * Over 600 lines as one file: claiming, leasing, sending and recording one round are one protocol
 * whose invariants (a lease, a dedupe key) must be read together; robot lanes are robotLane.ts.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { DocEntry, ReadTx, Store, WriteTx } from '../store/store.js';
import type {
  Channel,
  DeliveryResult,
  EmailMessage,
  MessageDocument,
  Mention,
  RobotMessage,
} from './channel.js';
import type { TeamRobot } from './channelSettings.js';
import { composeMessage, composeSummary, taskPaneUrl } from './messageComposer.js';
import type { Recipient } from './messagePolicy.js';
import { loadRobots } from './notifySettings.js';
import {
  DUE_COLLECTION,
  OUTBOX_COLLECTION,
  digestRunOf,
  finishEntry,
  groupUnit,
  moveDue,
  rescheduleEntry,
  type DeliveryUnit,
  type OutboxEntry,
  failRobotGone,
} from './outbox.js';
import { createRobotChannel } from './robotChannel.js';
import {
  ROBOT_WAKE_COLLECTION,
  queueForRobot,
  releaseRobot,
  renewRobotLease,
  reserveSend,
  takeRobot,
  waitingGroups,
  type RobotTake,
  type SendStamp,
} from './robotLane.js';

export { ROBOT_STATE_COLLECTION, ROBOT_WAKE_COLLECTION } from './robotLane.js';

export interface OutboxWorkerOptions {
  store: Store;
  /** The service clock: what is due, digests, backoff. */
  clock: () => Date;
  /** Milliseconds since the epoch for the providers' windows (real time: the providers count in it). */
  rateClock?: () => number;
  /** Email; undefined when BAOBEI_SMTP_URL is unset (email entries then fail as `email.off`). */
  email?: Channel<EmailMessage> | undefined;
  robotChannel?: (robot: TeamRobot) => Channel<RobotMessage>;
  publicUrl?: string | undefined;
  logger?: Logger;
  instanceId?: string;
  /** How long a claimed entry (or a taken robot) is ours before another instance may take it over (default 60 s). */
  leaseMs?: number;
  batchSize?: number;
  maxAttempts?: number;
  /** First retry delay; doubles per attempt up to an hour (default 30 s). */
  retryBaseMs?: number;
  pollMs?: number;
}

export interface RoundResult {
  /** Due entries this round's claim took (emails leased, robot entries queued). */
  claimed: number;
  /** Robots whose queue a lane sent from this round. */
  robots: number;
  sent: number;
  retried: number;
  failed: number;
}

interface LaneCounts {
  sent: number;
  retried: number;
  failed: number;
}

interface Outcome {
  unit: DeliveryUnit;
  result: DeliveryResult;
}

const MAX_RETRY_MS = 60 * 60_000;
/**
 * A lane sleeps through a window this short (Feishu's second) instead of giving the robot back;
 * a longer one (a provider's minute) ends the lane and the robot wakes when it has room.
 */
const MAX_LANE_WAIT_MS = 2_000;
/**
 * How long robots wait, at most, while claims come back full (a burst being queued whole): a
 * morning of 10,000 reminders is claimed 200 at a time in about 10 s on a busy 2-core machine.
 */
const MAX_QUEUE_FIRST_MS = 15_000;

export class OutboxWorker {
  readonly instanceId: string;
  private readonly rateClock: () => number;
  private readonly leaseMs: number;
  private readonly batchSize: number;
  private readonly maxAttempts: number;
  private readonly retryBaseMs: number;
  private readonly robotChannels = new Map<string, { config: string; channel: Channel<RobotMessage> }>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private stopped = false;
  private readonly lanes = new Set<Promise<void>>();
  /** Since when claims have come back full (real time), while they do. */
  private queueingSince: number | undefined;

  constructor(private readonly options: OutboxWorkerOptions) {
    this.instanceId = options.instanceId ?? randomUUID();
    this.rateClock = options.rateClock ?? Date.now;
    this.leaseMs = options.leaseMs ?? 60_000;
    this.batchSize = options.batchSize ?? 200;
    this.maxAttempts = options.maxAttempts ?? 8;
    this.retryBaseMs = options.retryBaseMs ?? 30_000;
  }

  /** Polls until `stop`; a full batch is followed at once by the next. */
  start(): void {
    this.stopped = false;
    const loop = async (): Promise<void> => {
      if (this.stopped) return;
      let more = false;
      try {
        const round = this.runOnce({ lanes: 'background' });
        this.running = round;
        const r = await round;
        more = r.claimed >= this.batchSize;
      } catch (err) {
        this.options.logger?.error({ err }, 'outbox round failed');
      }
      if (this.stopped) return;
      this.timer = setTimeout(() => void loop(), more ? 0 : (this.options.pollMs ?? 2_000));
      this.timer.unref();
    };
    void loop();
  }

  /** Stops polling, waits for the round and the lanes in flight, and closes the robot channels. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
    // Lanes see `stopped`, record what they sent and give their robots back.
    while (this.lanes.size > 0) await this.laneEnded();
    for (const { channel } of this.robotChannels.values()) await channel.close();
    this.robotChannels.clear();
  }

  /**
   * One round: claim what is due, send it (emails, and a lane per robot taken), record the outcomes.
   * `lanes: 'background'` (the polling loop) lets the robots' lanes run on after the round returns:
   * a Feishu lane pacing five a second must not hold up the next claim. Their outcomes are then
   * recorded by the lanes themselves and not counted in the round's result.
   */
  async runOnce(options: { lanes?: 'await' | 'background' } = {}): Promise<RoundResult> {
    // Before the claim leases anything: a lane renews its robot's lease counting from here.
    const leaseFrom = performance.now();
    const now = this.options.clock().toISOString();
    // A claim is a write that has the whole store to itself on PostgreSQL: an idle instance polling
    // every few seconds would stall every registration behind it. Look first; claim only what is due.
    if (await this.options.store.read((tx) => nothingDue(tx, now))) {
      this.queueingSince = undefined;
      return { claimed: 0, robots: 0, sent: 0, retried: 0, failed: 0 };
    }
    const claim = await this.options.store.write((tx) => this.claim(tx, now));
    const running = claim.takes.map((take) => this.trackLane(this.runLane(take, leaseFrom)));
    const emails = await this.sendEmails(claim.units);
    const unsent = claim.units.slice(emails.length);
    const recorded =
      emails.length === 0 && unsent.length === 0
        ? { sent: 0, retried: 0, failed: 0 }
        : await this.options.store.write(async (tx) => {
            await this.releaseUnsent(tx, unsent);
            return await this.recordOutcomes(tx, emails);
          });
    const round: RoundResult = {
      claimed: claim.claimed,
      robots: claim.takes.length,
      sent: recorded.sent,
      retried: recorded.retried,
      failed: recorded.failed + claim.failedEarly,
    };
    if (options.lanes !== 'background') {
      for (const lane of await Promise.all(running)) {
        round.sent += lane.sent;
        round.retried += lane.retried;
        round.failed += lane.failed;
      }
    }
    if (round.claimed > 0 || round.robots > 0) this.options.logger?.info(round, 'outbox round');
    return round;
  }

  /** How many robot lanes are still sending (background rounds). */
  get lanesRunning(): number {
    return this.lanes.size;
  }

  /** Resolves when one of the running lanes ends (at once when none runs). */
  async laneEnded(): Promise<void> {
    if (this.lanes.size > 0) await Promise.race(this.lanes);
  }

  private trackLane(lane: Promise<LaneCounts>): Promise<LaneCounts> {
    const tracked = lane.catch((err: unknown) => {
      this.options.logger?.error({ err }, 'outbox robot lane failed');
      return { sent: 0, retried: 0, failed: 0 };
    });
    const done = tracked.then(() => {
      this.lanes.delete(done);
    });
    this.lanes.add(done);
    return tracked;
  }

  // ---- claim ----

  private async claim(
    tx: WriteTx,
    now: string,
  ): Promise<{ units: DeliveryUnit[]; takes: RobotTake[]; claimed: number; failedEarly: number }> {
    const due = await tx.claimDocs(DUE_COLLECTION, { to: `${now}|\uffff`, limit: this.batchSize });
    const robots = new Map((await loadRobots(tx)).map((r) => [r.id, r]));
    const emails: OutboxEntry[] = [];
    let failedEarly = 0;
    const take = async (doc: DocEntry): Promise<void> => {
      const key = (doc.value as { key?: string } | undefined)?.key;
      const entry =
        key === undefined
          ? undefined
          : ((await tx.getDoc(OUTBOX_COLLECTION, key)) as OutboxEntry | undefined);
      if (!entry || entry.status === 'sent' || entry.status === 'failed' || entry.dueKey !== doc.key) {
        await tx.deleteDoc(DUE_COLLECTION, doc.key);
        return;
      }
      if (entry.status === 'sending' && entry.attempts >= this.maxAttempts) {
        // Claimed as many times as allowed and never recorded: the deliveries were interrupted.
        await finishEntry(tx, entry, {
          status: 'failed',
          lastError: { error: 'delivery interrupted (lease expired) too often', retryable: false, at: now },
        });
        failedEarly++;
        return;
      }
      if (entry.to.kind === 'robot') {
        if (!robots.has(entry.to.robotId)) {
          await failRobotGone(tx, entry, now);
          failedEarly++;
          return;
        }
        await queueForRobot(tx, entry, entry.to.robotId, now);
        return;
      }
      emails.push(entry);
    };
    for (const doc of due) await take(doc);
    const full = due.length >= this.batchSize;
    // A full claim may stop inside one person's digest (their entries sit together in the due
    // index): take the rest of it now, or they would get a second "daily" digest from the next claim.
    const last = due[due.length - 1];
    const run = full && last !== undefined ? digestRunOf(last.key) : undefined;
    let extra = 0;
    if (run !== undefined) {
      const seen = new Set(due.map((d) => d.key));
      for (const doc of await tx.claimDocs(DUE_COLLECTION, { prefix: run })) {
        if (seen.has(doc.key)) continue;
        await take(doc);
        extra++;
      }
    }

    // Email: one message per entry; digests one per person.
    const units: DeliveryUnit[] = [];
    const digests = new Map<string, OutboxEntry[]>();
    for (const entry of emails) {
      if (entry.mode === 'digest' && entry.to.kind === 'person') {
        const list = digests.get(entry.to.userId) ?? [];
        list.push(entry);
        digests.set(entry.to.userId, list);
      } else {
        units.push({ key: entry.key, entries: [entry], summary: false });
      }
    }
    for (const group of digests.values()) units.push(groupUnit(group));
    const leaseUntil = new Date(Date.parse(now) + this.leaseMs).toISOString();
    for (const unit of units) {
      for (const entry of unit.entries) {
        entry.status = 'sending';
        entry.attempts += 1;
        entry.leaseOwner = this.instanceId;
        await moveDue(tx, entry, leaseUntil);
      }
    }

    // Robots: a full claim means more is due behind it; queue it all first (for a moment) so one
    // summary can carry it, rather than sending the first slice one message at a time.
    const clockNow = performance.now();
    if (!full) this.queueingSince = undefined;
    else this.queueingSince ??= clockNow;
    const takes: RobotTake[] = [];
    if (!full || clockNow - this.queueingSince! > MAX_QUEUE_FIRST_MS) {
      const wakes = await tx.claimDocs(ROBOT_WAKE_COLLECTION, { to: `${now}|\uffff` });
      for (const wake of wakes) {
        const robotId = (wake.value as { robotId: string }).robotId;
        const taken = await takeRobot(tx, robotId, robots.get(robotId), {
          now,
          instanceId: this.instanceId,
          leaseMs: this.leaseMs,
          maxAttempts: this.maxAttempts,
        });
        failedEarly += taken.failed;
        if (taken.take) takes.push(taken.take);
      }
    }
    return { units, takes, claimed: due.length + extra, failedEarly };
  }

  // ---- send ----

  /**
   * Sends the claimed units in turn until half the lease is spent (as a robot lane does): past the
   * lease another instance takes the entries over, and sending them here too would send them twice.
   * A slow mail server or a full batch (200) can outlast the lease; what is left is released. The
   * unit on the wire keeps its lease while it is there (whileSending).
   */
  private async sendEmails(units: DeliveryUnit[]): Promise<Outcome[]> {
    const started = performance.now();
    const outcomes: Outcome[] = [];
    for (const unit of units) {
      if (this.stopped || performance.now() - started >= this.leaseMs / 2) break;
      const leaseEnds = started + this.leaseMs;
      const result = await this.whileSending(() => this.renewLease(unit), leaseEnds, this.deliver(unit));
      outcomes.push({ unit, result });
    }
    return outcomes;
  }

  /**
   * Renews the lease (`renew`: a unit's entries, or a lane's robot) while a message is on the wire,
   * whenever less than a third of the lease is left, so no other instance takes it over and sends the
   * message again: one message can take longer than the lease (a mail server slow to accept DATA,
   * nodemailer's timeouts being per step, not per message; a webhook call of up to its 10 s timeout),
   * and once on the wire it cannot be called back. A message sent in time costs no renewal. A renewal
   * that fails (the store lost) is tried again every tenth of the lease; only a lease that runs out
   * meanwhile lets another instance send the message again, as after a crash.
   */
  private async whileSending(
    renew: () => Promise<void>,
    leaseEnds: number,
    sending: Promise<DeliveryResult>,
  ): Promise<DeliveryResult> {
    let done = false;
    let timer: NodeJS.Timeout | undefined;
    let renewing: Promise<void> = Promise.resolve();
    const renewIn = (ms: number): void => {
      timer = setTimeout(
        () => {
          // Measured before the write, which leases from its own (later) moment: never an end too late.
          const asked = performance.now();
          renewing = renew().then(
            () => {
              if (!done) renewIn(asked + (this.leaseMs * 2) / 3 - performance.now());
            },
            (err: unknown) => {
              this.options.logger?.warn({ err }, 'outbox lease renewal failed');
              if (!done) renewIn(this.leaseMs / 10);
            },
          );
        },
        Math.max(0, ms),
      );
    };
    renewIn(leaseEnds - this.leaseMs / 3 - performance.now());
    try {
      return await sending;
    } finally {
      done = true;
      clearTimeout(timer);
      // The outcome is recorded after this: a renewal still running must not move the entry after it.
      await renewing;
    }
  }

  /**
   * An entry this instance still holds: sending under its lease. Any other (taken over by another
   * instance past the lease, or already settled) is not this instance's to touch.
   */
  private async heldEntry(tx: ReadTx, key: string): Promise<OutboxEntry | undefined> {
    const entry = (await tx.getDoc(OUTBOX_COLLECTION, key)) as OutboxEntry | undefined;
    return entry?.status === 'sending' && entry.leaseOwner === this.instanceId ? entry : undefined;
  }

  /** The unit's entries still ours are leased for a full lease from now. */
  private async renewLease(unit: DeliveryUnit): Promise<void> {
    await this.options.store.write(async (tx) => {
      const until = new Date(this.options.clock().getTime() + this.leaseMs).toISOString();
      for (const planned of unit.entries) {
        const entry = await this.heldEntry(tx, planned.key);
        if (!entry) continue;
        await moveDue(tx, entry, until);
      }
    });
  }

  /** Claimed units not sent this round: due again now, for anyone, the attempt not counted. */
  private async releaseUnsent(tx: WriteTx, units: readonly DeliveryUnit[]): Promise<void> {
    const at = this.options.clock().toISOString();
    for (const unit of units) {
      for (const planned of unit.entries) {
        const entry = await this.heldEntry(tx, planned.key);
        if (!entry) continue;
        entry.attempts = Math.max(0, entry.attempts - 1);
        await rescheduleEntry(tx, entry, at);
      }
    }
  }

  /**
   * Sends a taken robot's queue: each request asks the window first (its own transaction), goes
   * out, and its stamp moves to when its answer came; the lane ends when the window is full for
   * longer than a short wait, the provider throttles, the lease is half spent or the worker stops.
   * The request on the wire keeps the robot's lease while it is there (whileSending); `leaseFrom` is
   * when the round that took the robot began (real time), no later than the lease's start.
   */
  private async runLane(take: RobotTake, leaseFrom: number): Promise<LaneCounts> {
    const { robot } = take;
    const store = this.options.store;
    const started = performance.now();
    let waiting = waitingGroups(take.entries);
    let previous: SendStamp | undefined;
    let throttledForMs: number | undefined;
    const outcomes: Outcome[] = [];
    const lane: LaneCounts = { sent: 0, retried: 0, failed: 0 };
    try {
      while (waiting.length > 0 && !this.stopped && performance.now() - started < this.leaseMs / 2) {
        const last = previous;
        const step = await store.write((tx) =>
          reserveSend(tx, robot, waiting, {
            instanceId: this.instanceId,
            rateNow: this.rateClock(),
            ...(last ? { previous: last } : {}),
          }),
        );
        previous = undefined;
        if (step.kind === 'lost') break;
        if (step.kind === 'wait') {
          const ms = step.until - this.rateClock();
          if (ms > MAX_LANE_WAIT_MS) break;
          await new Promise((r) => setTimeout(r, Math.max(1, ms)));
          continue;
        }
        const result = await this.whileSending(
          () =>
            this.options.store.write((tx) =>
              renewRobotLease(tx, robot.id, {
                instanceId: this.instanceId,
                until: new Date(this.options.clock().getTime() + this.leaseMs).toISOString(),
              }),
            ),
          leaseFrom + this.leaseMs,
          this.deliver(step.unit, robot),
        );
        previous = { reserved: step.reserved, done: this.rateClock() };
        outcomes.push({ unit: step.unit, result });
        const carried = new Set(step.unit.entries.map((e) => e.key));
        waiting = waiting.filter((group) => !group.some((e) => carried.has(e.key)));
        if (!result.ok && result.retryAfterMs !== undefined) {
          throttledForMs = result.retryAfterMs;
          break;
        }
      }
    } finally {
      const last = previous;
      await store.write(async (tx) => {
        const counts = await this.recordOutcomes(tx, outcomes);
        // What the lane did not get to goes back to its queue, no longer held.
        const carried = new Set(outcomes.flatMap((o) => o.unit.entries.map((e) => e.key)));
        for (const planned of take.entries) {
          if (carried.has(planned.key)) continue;
          const entry = await this.heldEntry(tx, planned.key);
          if (!entry) continue;
          entry.status = 'pending';
          delete entry.leaseOwner;
          await tx.putDoc(OUTBOX_COLLECTION, entry.key, entry);
        }
        await releaseRobot(tx, robot, {
          instanceId: this.instanceId,
          now: this.options.clock().toISOString(),
          rateNow: this.rateClock(),
          ...(last ? { previous: last } : {}),
          ...(throttledForMs !== undefined ? { throttledForMs } : {}),
        });
        Object.assign(lane, counts);
      });
    }
    return lane;
  }

  private async deliver(unit: DeliveryUnit, robot?: TeamRobot): Promise<DeliveryResult> {
    try {
      return await this.deliverUnit(unit, robot);
    } catch (err) {
      return { ok: false, retryable: true, error: `unexpected: ${(err as Error).message}`.slice(0, 200) };
    }
  }

  private async deliverUnit(unit: DeliveryUnit, robot?: TeamRobot): Promise<DeliveryResult> {
    const first = unit.entries[0]!;
    const to = first.to;
    const ctx = {
      language: to.language,
      taskPaneUrl: taskPaneUrl(this.options.publicUrl ?? 'http://localhost:3000'),
    };
    const recipient: Recipient =
      to.kind === 'robot'
        ? { kind: 'robot', team: to.team }
        : {
            kind: 'person',
            name: to.name,
            role: to.role,
            ...(to.team !== undefined ? { team: to.team } : {}),
          };
    const document: MessageDocument = unit.summary
      ? composeSummary(
          unit.entries.map((e) => ({ event: e.event, record: e.facts })),
          recipient,
          ctx,
          // A digest (alone, not merged with a burst) was the recipient's choice, not a limit.
          unit.entries.every((e) => e.mode === 'digest') ? 'digest' : 'burst',
        )
      : composeMessage(first.event, first.facts, recipient, ctx);
    if (to.kind === 'person') {
      if (!this.options.email) {
        return {
          ok: false,
          retryable: false,
          providerCode: 'email.off',
          error: 'email is not configured (BAOBEI_SMTP_URL)',
        };
      }
      return await this.options.email.send({
        to: { address: to.address, name: to.name },
        document,
        dedupeKey: unit.key,
      });
    }
    if (!robot) throw new Error('a robot message without its robot');
    const mentions = new Map<string, Mention>();
    for (const e of unit.entries)
      if (e.to.kind === 'robot') for (const m of e.to.mentions) mentions.set(m.name, m);
    return await this.channelFor(robot).send({
      document,
      mentions: [...mentions.values()],
      dedupeKey: unit.key,
    });
  }

  private channelFor(robot: TeamRobot): Channel<RobotMessage> {
    const config = JSON.stringify(robot);
    const cached = this.robotChannels.get(robot.id);
    if (cached && cached.config === config) return cached.channel;
    if (cached) void cached.channel.close();
    const channel = (this.options.robotChannel ?? ((r) => createRobotChannel(r, { clock: this.rateClock })))(
      robot,
    );
    this.robotChannels.set(robot.id, { config, channel });
    return channel;
  }

  // ---- record ----

  /** Sent, retried with backoff, or failed, per entry; an entry another instance took over is its to record. */
  private async recordOutcomes(
    tx: WriteTx,
    outcomes: Outcome[],
  ): Promise<{ sent: number; retried: number; failed: number }> {
    const now = this.options.clock();
    const at = now.toISOString();
    let sent = 0;
    let retried = 0;
    let failed = 0;
    for (const { unit, result } of outcomes) {
      for (const planned of unit.entries) {
        const entry = await this.heldEntry(tx, planned.key);
        if (!entry) continue;
        if (result.ok) {
          await finishEntry(tx, entry, {
            status: 'sent',
            sentAt: at,
            ...(unit.summary ? { sentIn: unit.key } : {}),
          });
          sent++;
          continue;
        }
        const lastError = {
          error: result.error,
          ...(result.providerCode !== undefined ? { providerCode: result.providerCode } : {}),
          retryable: result.retryable,
          at,
        };
        if (result.retryable && entry.attempts < this.maxAttempts) {
          const backoff = Math.min(MAX_RETRY_MS, this.retryBaseMs * 2 ** (entry.attempts - 1));
          const wait = Math.max(backoff, result.retryAfterMs ?? 0);
          entry.lastError = lastError;
          await rescheduleEntry(tx, entry, new Date(now.getTime() + wait).toISOString());
          retried++;
        } else {
          await finishEntry(tx, entry, { status: 'failed', lastError });
          failed++;
        }
      }
    }
    return { sent, retried, failed };
  }
}

/** No entry and no robot wake is due by `now` (the claim would change nothing). */
async function nothingDue(tx: ReadTx, now: string): Promise<boolean> {
  const due = { to: `${now}|\uffff`, limit: 1 };
  return (
    (await tx.listDocs(DUE_COLLECTION, due)).length === 0 &&
    (await tx.listDocs(ROBOT_WAKE_COLLECTION, due)).length === 0
  );
}
