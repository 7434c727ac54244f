/**
 * A list page of split shares (R16) over real HTTP, on both stores: each item shows the share it
 * holds today, as reading the record alone shows it, and on PostgreSQL the page's partner records
 * come in one query, not one per split share.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { StoredRecord } from '../../core/schema.js';
import type { RecordView } from '../../server/services/recordView.js';
import { record } from '../support/storedRecords.js';
import { startTestService, type TestService } from '../support/testService.js';
import { dropSchema, TEST_DATABASE_URL as DATABASE_URL } from '../support/postgresSchema.js';

/** Pairs of shares of one customer each: Wang 60%, Li 40%. */
const PAIRS = 30;

function no(n: number): string {
  return `BB-2026-${String(n).padStart(6, '0')}`;
}

/**
 * Pair i: Wang's record no(2i+1), Li's no(2i+2). Every third pair both still protect; in the next,
 * Li's protection ran out on 2026-11-20 (not swept); in the third, Li's record was terminated.
 */
function sharePairs(): StoredRecord[] {
  const out: StoredRecord[] = [];
  for (let i = 0; i < PAIRS; i++) {
    const wangNo = no(2 * i + 1);
    const liNo = no(2 * i + 2);
    const receivedAt = new Date(Date.UTC(2026, 9, 1, 0, i)).toISOString();
    const base = {
      status: 'protected',
      protectedFrom: '2026-10-01',
      receivedAt,
      claimedAt: receivedAt,
    } as const;
    out.push(
      record(wangNo, {
        ...base,
        protectedUntil: '2027-01-31',
        share: { withNo: liNo, withRegistrant: '李娜', percent: 60 },
      }),
    );
    out.push(
      record(liNo, {
        ...base,
        ...(i % 3 === 2 ? { status: 'terminated' } : {}),
        protectedUntil: i % 3 === 1 ? '2026-11-20' : '2027-01-31',
        registration: { ...record(liNo).registration, registrant: '李娜' },
        share: { withNo: wangNo, withRegistrant: '王磊', percent: 40 },
      }),
    );
  }
  return out;
}

/** The name of a prepared statement a query was sent as, if any. */
function statementName(config: unknown): string | undefined {
  if (typeof config !== 'object' || config === null || !('name' in config)) return undefined;
  return typeof config.name === 'string' ? config.name : undefined;
}

/** The prepared statements the service sent to PostgreSQL while `fn` ran, by name. */
async function statementsDuring<T>(fn: () => Promise<T>): Promise<{ result: T; names: string[] }> {
  const spy = vi.spyOn(pg.Client.prototype, 'query');
  try {
    const result = await fn();
    const names = (spy.mock.calls as unknown[][]).flatMap(([config]) => statementName(config) ?? []);
    return { result, names };
  } finally {
    spy.mockRestore();
  }
}

/** How many of `names` are `name`. */
function times(names: readonly string[], name: string): number {
  return names.filter((n) => n === name).length;
}

describe('[R16] a list page of split shares', () => {
  let svc: TestService | undefined;
  let schema: string | undefined;
  afterEach(async () => {
    await svc?.close();
    if (schema !== undefined) await dropSchema(DATABASE_URL, schema);
    svc = undefined;
    schema = undefined;
  });

  it.each(['lowdb', 'postgres'] as const)(
    'shows each share as reading the record alone does (%s); PostgreSQL reads the page’s partners in one query',
    async (storeKind) => {
      schema = storeKind === 'postgres' ? `share_list_${randomBytes(6).toString('hex')}` : undefined;
      svc = await startTestService({
        now: '2026-11-23T02:00:00.000Z',
        ...(schema !== undefined
          ? { env: { BAOBEI_STORE: 'postgres', DATABASE_URL, BAOBEI_PG_SCHEMA: schema } }
          : {}),
      });
      const wang = await svc.user('王磊', 'sales', '华东一部');
      const reviewer = await svc.user('张敏', 'reviewer', '华东一部');
      await svc.running.store.write(async (tx) => {
        for (const r of sharePairs()) await tx.putRecord(r);
      });
      const service = svc;
      const list = (token: string) => () =>
        service.api(token).get<{ items: RecordView[]; total: number }>('/api/registrations?limit=200');

      const { result: wangList, names: wangStatements } = await statementsDuring(list(wang));
      expect(wangList.status).toBe(200);
      // Wang's thirty, and Li's shares of the ten pairs where both still protect.
      expect(wangList.body.total).toBe(PAIRS + PAIRS / 3);
      const percentOf = new Map(wangList.body.items.map((r) => [r.no, r.share?.percent]));
      for (let i = 0; i < PAIRS; i++) {
        expect(percentOf.get(no(2 * i + 1)), `Wang's share of pair ${i}`).toBe(i % 3 === 0 ? 60 : 100);
        expect(percentOf.get(no(2 * i + 2)), `Li's share of pair ${i}`).toBe(i % 3 === 0 ? 40 : undefined);
      }

      const { result: reviewerList, names: reviewerStatements } = await statementsDuring(list(reviewer));
      expect(reviewerList.body.total).toBe(2 * PAIRS);
      // Every item as the record read alone shows it.
      for (const item of reviewerList.body.items) {
        const alone = await service.api(reviewer).get<RecordView>(`/api/registrations/${item.no}`);
        expect(item.share, item.no).toEqual(alone.body.share);
        expect(item.status, item.no).toBe(alone.body.status);
      }
      if (storeKind === 'postgres') {
        for (const names of [wangStatements, reviewerStatements]) {
          expect(times(names, 'baobei.getRecord')).toBe(0);
          expect(times(names, 'baobei.recordsByNo')).toBe(1);
        }
      }
    },
  );
});
