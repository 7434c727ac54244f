/**
 * Delivers the outbox (issue 10). Each round claims what is due in one short transaction — entries
 * are leased (status `sending`, owner, lease end) and their due keys moved to the lease's end —
 * sends outside any transaction, then records each outcome in a second one. Instances exclude each
 * other through the claim (`claimDocs`, SKIP LOCKED on PostgreSQL; writes are serialised anyway):
 * an entry leased by one is not due for another until its lease ends. A crash mid-send leaves the
 * lease to expire and the entry is sent again under the same dedupe key (the Message-ID of an
 * email, `X-Baobei-Dedupe-Key` of a robot request), or marked failed once attempts run out.
 *
 * Robots go through `planRobotSends`: what fits the provider's window goes one by one, a burst
 * beyond it becomes one summary, and the window's send times are kept in the store so a restart
 * does not forget them. Digest entries for one recipient are merged into one message.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Store, WriteTx } from '../store/store.js';
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
import { DUE_COLLECTION, OUTBOX_COLLECTION, dueKeyOf, type OutboxEntry } from './outbox.js';
import { createRobotChannel } from './robotChannel.js';
import { ROBOT_RATE_WINDOWS, planRobotSends } from './robotRateLimit.js';

export const ROBOT_STATE_COLLECTION = 'outbox-robots';

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
  /** How long a claimed entry is ours before another instance may take it over (default 60 s). */
  leaseMs?: number;
  batchSize?: number;
  maxAttempts?: number;
  /** First retry delay; doubles per attempt up to an hour (default 30 s). */
  retryBaseMs?: number;
  pollMs?: number;
}

interface Unit {
  /** The message's dedupe key: the entry's own, or the summary's. */
  key: string;
  entries: OutboxEntry[];
  summary: boolean;
}

interface RobotState {
  recentSends: number[];
  throttledUntil?: number;
}

export interface RoundResult {
  claimed: number;
  sent: number;
  retried: number;
  failed: number;
}

const MAX_RETRY_MS = 60 * 60_000;

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
        const round = this.runOnce();
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

  /** Stops polling, waits for the round in flight, and closes the robot channels. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
    for (const { channel } of this.robotChannels.values()) await channel.close();
    this.robotChannels.clear();
  }

  /** One round: claim what is due, send it, record the outcomes. */
  async runOnce(): Promise<RoundResult> {
    const now = this.options.clock().toISOString();
    const { units, claimed, failedEarly, robots } = await this.options.store.write((tx) =>
      this.claim(tx, now),
    );
    const outcomes = await this.send(units, robots);
    const result = await this.options.store.write((tx) => this.record(tx, outcomes));
    const round = {
      claimed,
      sent: result.sent,
      retried: result.retried,
      failed: result.failed + failedEarly,
    };
    if (claimed > 0) this.options.logger?.info(round, 'outbox round');
    return round;
  }

  // ---- claim ----

  private async claim(
    tx: WriteTx,
    now: string,
  ): Promise<{ units: Unit[]; claimed: number; failedEarly: number; robots: Map<string, TeamRobot> }> {
    const due = await tx.claimDocs(DUE_COLLECTION, { to: `${now}|\uffff`, limit: this.batchSize });
    const robots = new Map((await loadRobots(tx)).map((r) => [r.id, r]));
    const entries: OutboxEntry[] = [];
    let failedEarly = 0;
    for (const doc of due) {
      const key = (doc.value as { key?: string } | undefined)?.key;
      const entry =
        key === undefined
          ? undefined
          : ((await tx.getDoc(OUTBOX_COLLECTION, key)) as OutboxEntry | undefined);
      if (!entry || entry.status === 'sent' || entry.status === 'failed' || entry.dueKey !== doc.key) {
        await tx.deleteDoc(DUE_COLLECTION, doc.key);
        continue;
      }
      if (entry.status === 'sending' && entry.attempts >= this.maxAttempts) {
        // Claimed as many times as allowed and never recorded: the deliveries were interrupted.
        await this.finish(tx, entry, {
          status: 'failed',
          lastError: { error: 'delivery interrupted (lease expired) too often', retryable: false, at: now },
        });
        failedEarly++;
        continue;
      }
      if (entry.channel === 'robot' && entry.to.kind === 'robot' && !robots.has(entry.to.robotId)) {
        await this.finish(tx, entry, {
          status: 'failed',
          lastError: {
            error: 'robot no longer configured',
            providerCode: 'robot.not_found',
            retryable: false,
            at: now,
          },
        });
        failedEarly++;
        continue;
      }
      entries.push(entry);
    }

    const units: Unit[] = [];
    // Email: one message per entry; digests one per person.
    const digests = new Map<string, OutboxEntry[]>();
    const byRobot = new Map<string, OutboxEntry[]>();
    for (const entry of entries) {
      if (entry.to.kind === 'robot') {
        const list = byRobot.get(entry.to.robotId) ?? [];
        list.push(entry);
        byRobot.set(entry.to.robotId, list);
      } else if (entry.mode === 'digest') {
        const list = digests.get(entry.to.userId) ?? [];
        list.push(entry);
        digests.set(entry.to.userId, list);
      } else {
        units.push({ key: entry.key, entries: [entry], summary: false });
      }
    }
    for (const group of digests.values()) units.push(groupUnit(group));

    const rateNow = this.rateClock();
    for (const [robotId, list] of byRobot) {
      const robot = robots.get(robotId)!;
      const state = ((await tx.getDoc(ROBOT_STATE_COLLECTION, robotId)) as RobotState | undefined) ?? {
        recentSends: [],
      };
      // Digest entries of a robot go as one message; the rest one by one, oldest first.
      const digest = list.filter((e) => e.mode === 'digest');
      const waiting: OutboxEntry[][] = [
        ...(digest.length > 0 ? [digest] : []),
        ...list
          .filter((e) => e.mode !== 'digest')
          .sort((a, b) => (a.createdAt < b.createdAt ? -1 : 1))
          .map((e) => [e]),
      ];
      const plan = planRobotSends({
        now: rateNow,
        waiting,
        recentSends: state.recentSends,
        windows: ROBOT_RATE_WINDOWS[robot.kind],
        ...(state.throttledUntil !== undefined ? { throttledUntil: state.throttledUntil } : {}),
      });
      for (const group of plan.individual) {
        units.push(groupUnit(group));
        state.recentSends.push(rateNow);
      }
      if (plan.summarized.length > 0) {
        units.push(groupUnit(plan.summarized.flat()));
        state.recentSends.push(rateNow);
      }
      const planned = new Set([...plan.individual, ...plan.summarized].flat());
      // What the window cannot take now waits for its next slot (in service time: roughly the same span).
      const waitMs = plan.nextCheckAt !== undefined ? Math.max(1_000, plan.nextCheckAt - rateNow) : 1_000;
      for (const entry of list) {
        if (planned.has(entry)) continue;
        await this.reschedule(tx, entry, new Date(Date.parse(now) + waitMs).toISOString());
      }
      state.recentSends = state.recentSends.filter((t) => t > rateNow - 5 * 60_000);
      await tx.putDoc(ROBOT_STATE_COLLECTION, robotId, state);
    }

    const leaseUntil = new Date(Date.parse(now) + this.leaseMs).toISOString();
    for (const unit of units) {
      for (const entry of unit.entries) {
        entry.status = 'sending';
        entry.attempts += 1;
        entry.leaseOwner = this.instanceId;
        await this.moveDue(tx, entry, leaseUntil);
      }
    }
    return { units, claimed: entries.length, failedEarly, robots };
  }

  private async moveDue(tx: WriteTx, entry: OutboxEntry, dueAt: string): Promise<void> {
    if (entry.dueKey !== undefined) await tx.deleteDoc(DUE_COLLECTION, entry.dueKey);
    entry.dueAt = dueAt;
    entry.dueKey = dueKeyOf(dueAt, entry.key);
    await tx.putDoc(DUE_COLLECTION, entry.dueKey, { key: entry.key });
    await tx.putDoc(OUTBOX_COLLECTION, entry.key, entry);
  }

  private async reschedule(tx: WriteTx, entry: OutboxEntry, dueAt: string): Promise<void> {
    entry.status = 'pending';
    delete entry.leaseOwner;
    await this.moveDue(tx, entry, dueAt);
  }

  private async finish(tx: WriteTx, entry: OutboxEntry, change: Partial<OutboxEntry>): Promise<void> {
    if (entry.dueKey !== undefined) await tx.deleteDoc(DUE_COLLECTION, entry.dueKey);
    delete entry.dueKey;
    delete entry.leaseOwner;
    Object.assign(entry, change);
    await tx.putDoc(OUTBOX_COLLECTION, entry.key, entry);
  }

  // ---- send ----

  private async send(
    units: Unit[],
    robots: Map<string, TeamRobot>,
  ): Promise<{ unit: Unit; result: DeliveryResult }[]> {
    // One queue per destination, in order; destinations in parallel.
    const lanes = new Map<string, Unit[]>();
    for (const unit of units) {
      const to = unit.entries[0]!.to;
      const lane = to.kind === 'robot' ? `r:${to.robotId}` : 'email';
      lanes.set(lane, [...(lanes.get(lane) ?? []), unit]);
    }
    const outcomes: { unit: Unit; result: DeliveryResult }[] = [];
    await Promise.all(
      [...lanes.values()].map(async (lane) => {
        for (const unit of lane) {
          let result: DeliveryResult;
          try {
            result = await this.deliver(unit, robots);
          } catch (err) {
            result = {
              ok: false,
              retryable: true,
              error: `unexpected: ${(err as Error).message}`.slice(0, 200),
            };
          }
          outcomes.push({ unit, result });
        }
      }),
    );
    return outcomes;
  }

  private async deliver(unit: Unit, robots: Map<string, TeamRobot>): Promise<DeliveryResult> {
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
    const robot = robots.get(to.robotId)!;
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

  private async record(
    tx: WriteTx,
    outcomes: { unit: Unit; result: DeliveryResult }[],
  ): Promise<{ sent: number; retried: number; failed: number }> {
    const now = this.options.clock();
    const at = now.toISOString();
    let sent = 0;
    let retried = 0;
    let failed = 0;
    for (const { unit, result } of outcomes) {
      const robotId = unit.entries[0]!.to.kind === 'robot' ? unit.entries[0]!.to.robotId : undefined;
      if (!result.ok && result.retryAfterMs !== undefined && robotId !== undefined) {
        const state = ((await tx.getDoc(ROBOT_STATE_COLLECTION, robotId)) as RobotState | undefined) ?? {
          recentSends: [],
        };
        state.throttledUntil = this.rateClock() + result.retryAfterMs;
        await tx.putDoc(ROBOT_STATE_COLLECTION, robotId, state);
      }
      for (const planned of unit.entries) {
        const entry = (await tx.getDoc(OUTBOX_COLLECTION, planned.key)) as OutboxEntry | undefined;
        // Taken over by another instance after our lease ran out: its outcome is its to record.
        if (!entry || entry.status !== 'sending' || entry.leaseOwner !== this.instanceId) continue;
        if (result.ok) {
          await this.finish(tx, entry, {
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
          await this.reschedule(tx, entry, new Date(now.getTime() + wait).toISOString());
          retried++;
        } else {
          await this.finish(tx, entry, { status: 'failed', lastError });
          failed++;
        }
      }
    }
    return { sent, retried, failed };
  }
}

/** One entry as itself; several (a burst, a digest) as one summary under a key of their own. */
function groupUnit(entries: OutboxEntry[]): Unit {
  if (entries.length === 1) return { key: entries[0]!.key, entries, summary: false };
  // Stable for the same group, so a summary re-sent after a crash carries the same dedupe key.
  const keys = entries.map((e) => e.key).sort();
  return { key: `sum:${keys[0]}:${keys.length}`, entries, summary: true };
}
