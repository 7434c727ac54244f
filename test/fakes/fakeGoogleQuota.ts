/**
 * Per-minute quotas as Google applies them, and injected faults. Sheets (usage limits page): read
 * requests 300 per minute per project and 60 per minute per user per project; write requests the
 * same, counted separately; "refilled every minute" — so a window per clock minute. A batch request
 * counts as one request whatever it holds. Over quota: 429 RESOURCE_EXHAUSTED. Drive counts quota
 * units instead (325,000 per minute per user); the fake counts Drive calls against a configurable
 * per-user limit and answers 403 userRateLimitExceeded, as Drive documents.
 */
import {
  driveRateLimited,
  serverFault,
  sheetsQuotaExceeded,
  type FakeGoogleError,
  type GoogleApi,
} from './fakeGoogleErrors.js';
import type { Identity } from './fakeGoogleAuth.js';

export type QuotaClass = 'sheetsRead' | 'sheetsWrite' | 'drive';

export interface QuotaLimits {
  sheetsReadPerMinutePerUser: number;
  sheetsReadPerMinutePerProject: number;
  sheetsWritePerMinutePerUser: number;
  sheetsWritePerMinutePerProject: number;
  drivePerMinutePerUser: number;
}

/** Google's published Sheets numbers; Drive's per-user limit is in units the fake does not model. */
export const GOOGLE_QUOTAS: QuotaLimits = {
  sheetsReadPerMinutePerUser: 60,
  sheetsReadPerMinutePerProject: 300,
  sheetsWritePerMinutePerUser: 60,
  sheetsWritePerMinutePerProject: 300,
  drivePerMinutePerUser: 12_000,
};

export interface Fault {
  /** Which calls it hits: an API, a method name (`spreadsheets.get`, `drive.files.get`, …) or any. */
  api?: GoogleApi;
  method?: string;
  status: number;
  /** How many matching calls fail (default 1). */
  times?: number;
  /** A Retry-After header (seconds) on the failure. */
  retryAfterSeconds?: number;
}

export function projectNumber(project: string): string {
  let h = 7;
  for (const ch of project) h = (h * 31 + ch.charCodeAt(0)) % 900_000_000_000;
  return String(100_000_000_000 + h);
}

export class FakeGoogleQuota {
  limits: QuotaLimits;
  private readonly counts = new Map<string, number>();
  private minute = -1;
  private readonly faults: {
    api: GoogleApi | undefined;
    method: string | undefined;
    status: number;
    times: number;
    retryAfterSeconds: number | undefined;
  }[] = [];

  constructor(
    limits: Partial<QuotaLimits>,
    private readonly now: () => number,
  ) {
    this.limits = { ...GOOGLE_QUOTAS, ...limits };
  }

  /** Counts a call; returns Google's refusal when a per-minute quota is spent. */
  take(kind: QuotaClass, who: Identity): FakeGoogleError | undefined {
    const minute = Math.floor(this.now() / 60_000);
    if (minute !== this.minute) {
      this.minute = minute;
      this.counts.clear();
    }
    const checks: { key: string; limit: number; scope: 'user' | 'project' }[] =
      kind === 'drive'
        ? [{ key: `drive|user|${who.email}`, limit: this.limits.drivePerMinutePerUser, scope: 'user' }]
        : [
            {
              key: `${kind}|user|${who.project}|${who.email}`,
              limit:
                kind === 'sheetsRead'
                  ? this.limits.sheetsReadPerMinutePerUser
                  : this.limits.sheetsWritePerMinutePerUser,
              scope: 'user',
            },
            {
              key: `${kind}|project|${who.project}`,
              limit:
                kind === 'sheetsRead'
                  ? this.limits.sheetsReadPerMinutePerProject
                  : this.limits.sheetsWritePerMinutePerProject,
              scope: 'project',
            },
          ];
    for (const c of checks) {
      if ((this.counts.get(c.key) ?? 0) >= c.limit) {
        if (kind === 'drive') return driveRateLimited();
        return sheetsQuotaExceeded(
          kind === 'sheetsRead' ? 'read' : 'write',
          c.scope,
          c.limit,
          projectNumber(who.project),
        );
      }
    }
    for (const c of checks) this.counts.set(c.key, (this.counts.get(c.key) ?? 0) + 1);
    return undefined;
  }

  /** Calls of this kind this identity may still make in the current minute. */
  remaining(kind: QuotaClass, who: Identity): number {
    const minute = Math.floor(this.now() / 60_000);
    if (minute !== this.minute)
      return kind === 'drive'
        ? this.limits.drivePerMinutePerUser
        : kind === 'sheetsRead'
          ? this.limits.sheetsReadPerMinutePerUser
          : this.limits.sheetsWritePerMinutePerUser;
    const key = kind === 'drive' ? `drive|user|${who.email}` : `${kind}|user|${who.project}|${who.email}`;
    const limit =
      kind === 'drive'
        ? this.limits.drivePerMinutePerUser
        : kind === 'sheetsRead'
          ? this.limits.sheetsReadPerMinutePerUser
          : this.limits.sheetsWritePerMinutePerUser;
    return Math.max(0, limit - (this.counts.get(key) ?? 0));
  }

  inject(fault: Fault): void {
    this.faults.push({
      api: fault.api,
      method: fault.method,
      status: fault.status,
      times: fault.times ?? 1,
      retryAfterSeconds: fault.retryAfterSeconds,
    });
  }

  /** The injected failure for this call, if one is armed. */
  fault(api: GoogleApi, method: string): FakeGoogleError | undefined {
    const i = this.faults.findIndex(
      (f) => (f.api === undefined || f.api === api) && (f.method === undefined || f.method === method),
    );
    const f = this.faults[i];
    if (f === undefined) return undefined;
    f.times--;
    if (f.times <= 0) this.faults.splice(i, 1);
    const error = serverFault(api, f.status);
    error.retryAfterSeconds = f.retryAfterSeconds;
    return error;
  }
}
