/**
 * Per-row cost of two code trees compared in one process (`npx tsx bench/pairedTrees.ts TREE_A
 * TREE_B`, each a checkout with this layout, e.g. `git worktree add /tmp/base <commit>`): each
 * tree's RegistrationService works on its own copy of one store of BENCH_STORED registrations
 * (built by the first tree), and 1,000-row check and submit batches alternate between them, the
 * order swapped every batch, so the machine's drift hits both alike. Separate runs of
 * `rowEvaluation.bench.ts` differ by ±10% on a shared machine; this found two regressions of
 * ~7 µs a row that they could not show (docs/architecture.md, "Re-measured 2026-12-07"). Run it
 * both ways round, and one tree against itself to see the noise. `--profile FILE` writes a CPU
 * profile of the measured batches (functions are told apart by their tree's path). Prints CPU
 * µs per row (median and every batch); asserts nothing.
 */
import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { SubmissionRow } from '../core/schema.js';
import type { Actor } from '../server/services/actor.js';
import type { Store, WriteTx } from '../server/store/store.js';
import { generateQueries, generateRegistrations } from './generate.js';

const STORED = Number(process.env['BENCH_STORED'] ?? 100_000);
const BATCHES = Number(process.env['BENCH_BATCHES'] ?? 16);
const USERS = Number(process.env['BENCH_USERS'] ?? 300);
const BATCH = 1_000;
const NOW = new Date('2026-11-23T02:00:00.000Z');
const ADMIN: Actor = { id: 'bench-admin', name: '管理员', role: 'admin' };

/** One tree's modules, typed as this tree's: the trees compared share these modules' shapes. */
interface Tree {
  root: string;
  lowdb: typeof import('../server/store/lowdbStore.js');
  service: typeof import('../server/services/registrationService.js');
  evaluation: typeof import('../server/services/rowEvaluation.js');
  keyring: typeof import('../server/security/keyring.js');
  policy: typeof import('../core/policy.js');
  discarded: typeof import('./discardedWrite.js');
  schemas: typeof import('../server/http/apiSchemas.js');
}

async function loadTree(root: string): Promise<Tree> {
  const load = <T>(file: string): Promise<T> =>
    import(pathToFileURL(path.join(root, file)).href) as Promise<T>;
  return {
    root,
    lowdb: await load('server/store/lowdbStore.ts'),
    service: await load('server/services/registrationService.ts'),
    evaluation: await load('server/services/rowEvaluation.ts'),
    keyring: await load('server/security/keyring.ts'),
    policy: await load('core/policy.ts'),
    discarded: await load('bench/discardedWrite.ts'),
    schemas: await load('server/http/apiSchemas.ts'),
  };
}

function asRow(reg: object, i: number): SubmissionRow {
  return { clientRowId: i, source: '展会', region: '上海', ...reg } as SubmissionRow;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const profileAt = args.indexOf('--profile');
  const profileFile = profileAt >= 0 ? args[profileAt + 1] : undefined;
  const roots = args.filter((_, i) => profileAt < 0 || (i !== profileAt && i !== profileAt + 1));
  if (roots.length !== 2) throw new Error('usage: pairedTrees.ts TREE_A TREE_B [--profile FILE]');
  const trees = await Promise.all(roots.map((r) => loadTree(path.resolve(r))));
  const master = randomBytes(32);
  const generated = generateRegistrations(STORED, 7);

  const built = await mkdtemp(path.join(os.tmpdir(), 'baobei-paired-'));
  const first = trees[0]!;
  const buildKeyring = first.keyring.keyringFromMasterKey(master);
  const store = await first.lowdb.LowdbStore.open({
    dataDir: built,
    keyring: buildKeyring,
    purpose: 'bench',
  });
  await store.write(async (tx) => {
    for (let u = 0; u < USERS; u++) {
      await tx.putUser({
        id: `bench-user-${u}`,
        name: `销售${u}`,
        role: 'sales',
        team: `团队${u % 10}`,
        tokenHash: `bench-token-${u}`,
        createdAt: NOW.toISOString(),
      });
    }
    for (const [i, g] of generated.rows.entries()) {
      const e = await first.evaluation.evaluateRow(asRow(g.registration, i), {
        tx,
        actor: ADMIN,
        policy: first.policy.DEFAULT_POLICY,
        now: NOW,
        keyring: buildKeyring,
      });
      if (e.record) await tx.putRecord(e.record);
    }
  });
  await store.close();

  const sides = [];
  for (const [i, tree] of trees.entries()) {
    const dataDir = `${built}-${i}`;
    await cp(built, dataDir, { recursive: true });
    const keyring = tree.keyring.keyringFromMasterKey(master);
    const opened: Store = await tree.lowdb.LowdbStore.open({ dataDir, keyring, purpose: 'bench' });
    // Staged as a commit would, then discarded: every batch meets the same records.
    const withoutCommit = Object.assign(Object.create(opened) as Store, {
      write: <T>(fn: (tx: WriteTx) => Promise<T>): Promise<T> => tree.discarded.discardedWrite(opened, fn),
      appendAudit: async () => undefined,
    });
    sides.push({
      tree,
      dataDir,
      opened,
      service: new tree.service.RegistrationService({ store: withoutCommit, keyring, clock: () => NOW }),
    });
  }

  const queries = generateQueries(generated, (BATCHES + 1) * BATCH * 2);
  const bodies: SubmissionRow[][] = [];
  for (let b = 0; b < queries.length / BATCH; b++) {
    const rows = queries
      .slice(b * BATCH, (b + 1) * BATCH)
      .map((q, i) => asRow(q.registration, b * BATCH + i));
    bodies.push(first.schemas.rowsBodySchema.parse({ rows }).rows);
  }

  const session = profileFile !== undefined ? new Session() : undefined;
  if (session) {
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 100 });
    await session.post('Profiler.start');
  }
  const figures = new Map<string, number[]>();
  for (const kind of ['check', 'submit'] as const) {
    for (let b = 0; b <= BATCHES; b++) {
      const rows = bodies[(kind === 'check' ? 0 : BATCHES + 1) + b]!;
      for (const i of b % 2 === 0 ? [0, 1] : [1, 0]) {
        const side = sides[i]!;
        const cpu = process.cpuUsage();
        if (kind === 'check') JSON.stringify(await side.service.check(ADMIN, rows));
        else JSON.stringify((await side.service.submit(ADMIN, rows)).results);
        const used = process.cpuUsage(cpu);
        // Batch 0 warms both trees up and is not counted.
        if (b > 0) {
          // Side A or B too: one tree given twice (an A/A run, the noise) would otherwise merge.
          const key = `${kind} ${i === 0 ? 'A' : 'B'} ${side.tree.root}`;
          figures.set(key, [...(figures.get(key) ?? []), (used.user + used.system) / BATCH]);
        }
      }
    }
  }
  if (session && profileFile !== undefined) {
    const { profile } = await session.post('Profiler.stop');
    await writeFile(profileFile, JSON.stringify(profile));
    session.disconnect();
  }

  console.log(
    `# paired per-row cost — ${os.cpus()[0]?.model ?? 'cpu'} × ${os.cpus().length}, node ${process.version}, ` +
      `load ${os.loadavg()[0]?.toFixed(1)}; ${STORED.toLocaleString('en-US')} stored, ${USERS} users, ${BATCHES} batches`,
  );
  for (const [key, values] of figures) {
    const sorted = [...values].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)]!;
    console.log(
      `${key}: median ${median.toFixed(1)} CPU µs/row (batches: ${values.map((v) => v.toFixed(0)).join(' ')})`,
    );
  }
  for (const side of sides) {
    await side.opened.close();
    await rm(side.dataDir, { recursive: true, force: true });
  }
  await rm(built, { recursive: true, force: true });
}

await main();
