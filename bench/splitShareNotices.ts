/**
 * What notices about split shares (R16) cost on PostgreSQL, two code trees compared in one process
 * (`npx tsx bench/splitShareNotices.ts TREE_A TREE_B`, each a checkout with this layout, e.g.
 * `git worktree add /tmp/base <commit>` with a node_modules symlink). One schema holds BENCH_PAIRS
 * (default 1,000) customers shared 50/50, every share protected and 20 days from its last day (a
 * T−20 reminder due for each). Measured, alternating the trees (the order swapped every round) so
 * the machine's drift hits both alike, BENCH_ROUNDS (7) rounds:
 * - notifier: a Notifier told about every share, flushed in a write (notifications, the outbox
 *   entries — whose recipients follow each share's partner — and the partners' reads);
 * - reminders: `runReminders` (read, compute, claim, enqueue), `enqueueMs` being the write.
 * Both writes are discarded before their commit, so every round does the same work. Prints
 * milliseconds, medians and every round, the load average and the machine; asserts nothing.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { StoredRecord } from '../core/schema.js';
import type { Store } from '../server/store/store.js';
import { dropSchema } from '../test/support/postgresSchema.js';
import { identity } from '../test/support/storedRecords.js';
import { discardedWrite } from './discardedWrite.js';

const PAIRS = Number(process.env['BENCH_PAIRS'] ?? 1_000);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 7);
const DATABASE_URL = process.env['BENCH_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const NOW = new Date('2026-11-23T02:00:00.000Z');
const LAST_DAY = '2026-12-13'; // T−20

interface Tree {
  root: string;
  postgres: typeof import('../server/store/postgresStore.js');
  keyring: typeof import('../server/security/keyring.js');
  notifier: typeof import('../server/services/notifier.js');
  reminders: typeof import('../server/notify/reminderScheduler.js');
  policy: typeof import('../core/policy.js');
  calendar: typeof import('../core/calendar.js');
}

async function loadTree(root: string): Promise<Tree> {
  const load = <T>(file: string): Promise<T> =>
    import(pathToFileURL(path.join(root, file)).href) as Promise<T>;
  return {
    root,
    postgres: await load('server/store/postgresStore.ts'),
    keyring: await load('server/security/keyring.ts'),
    notifier: await load('server/services/notifier.ts'),
    reminders: await load('server/notify/reminderScheduler.ts'),
    policy: await load('core/policy.ts'),
    calendar: await load('core/calendar.ts'),
  };
}

function share(no: string, withNo: string, holder: string, partner: string): StoredRecord {
  return {
    no,
    status: 'protected',
    registration: {
      customerName: `上海${withNo < no ? withNo : no}科技有限公司`,
      customerType: 'enterprise',
      registrant: holder,
      contactPhone: '13812345678',
      source: '展会',
    },
    identity: identity(no),
    submittedBy: holder,
    team: '华东一部',
    receivedAt: '2026-09-10T02:00:00.000Z',
    claimedAt: '2026-09-10T02:00:00.000Z',
    claimHasTime: true,
    approvedAt: '2026-09-14T02:00:00.000Z',
    protectedFrom: '2026-09-14',
    protectedUntil: LAST_DAY,
    share: { withNo, withRegistrant: partner, percent: 50 },
    followUps: [],
    history: [{ at: '2026-09-10T02:00:00.000Z', by: holder, action: 'register', to: 'pending' }],
    version: 1,
  } as StoredRecord;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

const fmt = (ms: number) => ms.toFixed(1);

async function main(): Promise<void> {
  const [rootA, rootB] = process.argv.slice(2);
  if (rootA === undefined || rootB === undefined) {
    throw new Error('usage: npx tsx bench/splitShareNotices.ts TREE_A TREE_B');
  }
  const trees = [await loadTree(path.resolve(rootA)), await loadTree(path.resolve(rootB))];
  const schema = `bench_shares_${randomBytes(4).toString('hex')}`;
  const key = randomBytes(32);
  const stores: Store[] = [];
  for (const tree of trees) {
    stores.push(
      await tree.postgres.PostgresStore.open({
        connectionString: DATABASE_URL,
        keyring: tree.keyring.keyringFromMasterKey(key),
        schema,
      }),
    );
  }
  try {
    const records: StoredRecord[] = [];
    for (let i = 0; i < PAIRS; i++) {
      const a = `BB-2026-${String(2 * i + 1).padStart(6, '0')}`;
      const b = `BB-2026-${String(2 * i + 2).padStart(6, '0')}`;
      records.push(
        share(a, b, `销售${i % 50}`, `渠道${i % 50}`),
        share(b, a, `渠道${i % 50}`, `销售${i % 50}`),
      );
    }
    await stores[0]!.write(async (tx) => {
      for (const r of records) await tx.putRecord(r);
    });
    const results = trees.map(() => ({ notifier: [] as number[], reminders: [] as number[] }));
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? [0, 1] : [1, 0];
      for (const t of order) {
        const tree = trees[t]!;
        const store = stores[t]!;
        const notifierMs = await discardedWrite(store, async (tx) => {
          const notifier = new tree.notifier.Notifier(NOW.toISOString());
          for (const r of records) notifier.toRegistrant(r, 'changed', { field: 'notes' });
          const started = performance.now();
          await notifier.flush(tx);
          return performance.now() - started;
        });
        results[t]!.notifier.push(notifierMs);
        const discarding = new Proxy(store, {
          get(target, prop) {
            if (prop === 'write') return (fn: Parameters<Store['write']>[0]) => discardedWrite(target, fn);
            const value: unknown = Reflect.get(target, prop, target);
            return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
          },
        });
        const run = await tree.reminders.runReminders(discarding, {
          now: NOW,
          calendar: tree.calendar.PACKAGE_CALENDAR,
          policy: tree.policy.DEFAULT_POLICY,
        });
        if (run.due < records.length)
          throw new Error(`expected ${records.length} reminders due, got ${run.due}`);
        results[t]!.reminders.push(run.enqueueMs);
      }
    }
    const load = os.loadavg().map((l) => l.toFixed(1));
    console.log(
      `split shares: ${records.length} (${PAIRS} customers), ${ROUNDS} rounds alternated; ${os.cpus().length}× ${os.cpus()[0]?.model ?? '?'}; load average ${load.join(' ')}`,
    );
    for (const [name, pick] of [
      ['notifier flush, one notice per share', (r: (typeof results)[number]) => r.notifier],
      ['reminder run write (claim, partners, enqueue)', (r: (typeof results)[number]) => r.reminders],
    ] as const) {
      const [a, b] = [pick(results[0]!), pick(results[1]!)];
      console.log(
        `${name}: A ${fmt(median(a))} ms [${a.map(fmt).join(' ')}], B ${fmt(median(b))} ms [${b.map(fmt).join(' ')}], B/A ${(median(b) / median(a)).toFixed(2)}`,
      );
    }
    console.log(`A = ${trees[0]!.root}, B = ${trees[1]!.root}`);
  } finally {
    for (const store of stores) await store.close();
    await dropSchema(DATABASE_URL, schema);
  }
}

await main();
