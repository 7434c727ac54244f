/**
 * Token buckets per service account and kind of call, so one process stays under Sheets' per-user
 * quotas (60 read and 60 write requests per minute per user) however many linked sheets share the
 * account. A bucket holds at most `burst` tokens and refills at `perMinute`: in any minute it lets
 * through at most burst + perMinute calls — 55 with the defaults, below Google's 60. Callers wait
 * in turn (first come, first served). The clock is injected so tests need not wait.
 */

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const realClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export type CallClass = 'sheetsRead' | 'sheetsWrite' | 'drive';

export interface BucketLimits {
  perMinute: number;
  burst: number;
}

/** Below Sheets' 60 per minute per user for reads and for writes; Drive's quota is far larger. */
export const DEFAULT_LIMITS: Record<CallClass, BucketLimits> = {
  sheetsRead: { perMinute: 50, burst: 5 },
  sheetsWrite: { perMinute: 50, burst: 5 },
  drive: { perMinute: 300, burst: 20 },
};

class TokenBucket {
  private tokens: number;
  private last: number;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly limits: BucketLimits,
    private readonly clock: Clock,
  ) {
    this.tokens = limits.burst;
    this.last = clock.now();
  }

  private refill(): void {
    const now = this.clock.now();
    this.tokens = Math.min(
      this.limits.burst,
      this.tokens + ((now - this.last) * this.limits.perMinute) / 60_000,
    );
    this.last = now;
  }

  /** Resolves when the caller may make one call. */
  take(): Promise<void> {
    const turn = this.queue.then(async () => {
      this.refill();
      while (this.tokens < 1) {
        await this.clock.sleep(Math.ceil(((1 - this.tokens) * 60_000) / this.limits.perMinute));
        this.refill();
      }
      this.tokens -= 1;
    });
    this.queue = turn.catch(() => undefined);
    return turn;
  }
}

/** One set of buckets per process; clients for the same account share them. */
export class GoogleRateLimiter {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(
    private readonly clock: Clock = realClock,
    private readonly limits: Record<CallClass, BucketLimits> = DEFAULT_LIMITS,
  ) {}

  take(identity: string, kind: CallClass): Promise<void> {
    const key = `${kind}|${identity}`;
    let bucket = this.buckets.get(key);
    if (bucket === undefined) {
      bucket = new TokenBucket(this.limits[kind], this.clock);
      this.buckets.set(key, bucket);
    }
    return bucket.take();
  }
}

/** The process-wide limiter used when a client is given none. */
export const sharedRateLimiter = new GoogleRateLimiter();
