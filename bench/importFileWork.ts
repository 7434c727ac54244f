/**
 * The legacy import's file work alone, two code trees compared in one process: reading and
 * parsing the sheet (`parseImport`) and building the annotated copy (`annotate`), each tree in
 * turn, the order swapped every round, so that a shared machine's drift hits both alike. The rows
 * are evaluated once per tree (a dry run into an empty store) and that annotation request is
 * annotated every round. Usage (a sheet from `import.bench.ts --generate FILE ROWS`):
 *   node --expose-gc --import tsx bench/importFileWork.ts FILE TREE_A [TREE_B] [ROUNDS]
 * each tree a checkout with this layout (e.g. `git worktree add /tmp/base <commit>`). Prints CPU
 * ms per phase (median and every round); asserts nothing.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const NOW = new Date('2026-11-23T02:00:00.000Z');

interface Tree {
  root: string;
  importSheet: typeof import('../server/import/importSheet.js');
  lowdb: typeof import('../server/store/lowdbStore.js');
  keyring: typeof import('../server/security/keyring.js');
}

async function loadTree(root: string): Promise<Tree> {
  const load = <T>(file: string): Promise<T> =>
    import(pathToFileURL(path.join(root, file)).href) as Promise<T>;
  return {
    root,
    importSheet: await load('server/import/importSheet.ts'),
    lowdb: await load('server/store/lowdbStore.ts'),
    keyring: await load('server/security/keyring.ts'),
  };
}

const args = process.argv.slice(2);
// `--out DIR` writes each tree's last copy there (tree 0 as copy-0.xlsx…), to compare their parts.
const outAt = args.indexOf('--out');
const outDir = outAt >= 0 ? args.splice(outAt, 2)[1] : undefined;
const [file, ...rest] = args;
if (file === undefined || rest.length === 0)
  throw new Error('usage: importFileWork.ts FILE TREE_A [TREE_B] [ROUNDS]');
const rounds = /^\d+$/.test(rest[rest.length - 1]!) ? Number(rest.pop()) : 10;
const trees = await Promise.all(rest.map(loadTree));
const bytes = await readFile(file);
const fileName = path.basename(file);
const gc = (): void => (globalThis as { gc?: () => void }).gc?.();
const cpuMs = (since: NodeJS.CpuUsage): number => {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
};

type Request = Parameters<ReturnType<Tree['importSheet']['parseImport']>['annotate']>[0];
const requests: Request[] = [];
for (const tree of trees) {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'baobei-filework-'));
  const keyring = tree.keyring.keyringFromMasterKey(randomBytes(32));
  const store = await tree.lowdb.LowdbStore.open({ dataDir, keyring, purpose: 'bench' });
  const read = tree.importSheet.parseImport(bytes, { fileName, mode: 'submit' }, NOW);
  const evaluation = await tree.importSheet.evaluateImport(
    read.parsed,
    { fileName, mode: 'submit', dryRun: true },
    { store, keyring, clock: () => NOW, actor: { id: 'bench-admin', name: '管理员', role: 'admin' } },
  );
  await evaluation.committed;
  requests.push(evaluation.annotation);
  await store.close();
  await rm(dataDir, { recursive: true, force: true });
}

const figures = trees.map(() => ({ parse: [] as number[], annotate: [] as number[], size: 0 }));
const copies: Buffer[] = [];
for (let round = 0; round < rounds; round++) {
  const order = trees.map((_, i) => i);
  if (round % 2 === 1) order.reverse();
  for (const i of order) {
    const tree = trees[i]!;
    gc();
    let since = process.cpuUsage();
    const read = tree.importSheet.parseImport(bytes, { fileName, mode: 'submit' }, NOW);
    figures[i]!.parse.push(cpuMs(since));
    gc();
    since = process.cpuUsage();
    const copy = read.annotate(requests[i]!);
    figures[i]!.annotate.push(cpuMs(since));
    figures[i]!.size = copy.length;
    copies[i] = copy;
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(
  `${os.cpus()[0]?.model ?? 'cpu'} × ${os.cpus().length}, load ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}, ${rounds} rounds`,
);
for (const [i, tree] of trees.entries()) {
  const f = figures[i]!;
  console.log(
    `${tree.root}: parse ${median(f.parse).toFixed(0)} ms, annotate ${median(f.annotate).toFixed(0)} ms ` +
      `(CPU medians; copy ${f.size} bytes)\n  parse ${f.parse.map((x) => x.toFixed(0)).join(' ')}\n  annotate ${f.annotate.map((x) => x.toFixed(0)).join(' ')}`,
  );
}
if (outDir !== undefined) {
  for (const [i, copy] of copies.entries()) await writeFile(path.join(outDir, `copy-${i}.xlsx`), copy);
}
