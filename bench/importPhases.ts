/**
 * Where the legacy import's memory goes, phase by phase: reading the file, evaluating the rows
 * (staged in the transaction), the annotated copy, the commit (journal line, compaction), and what
 * the store keeps afterwards. Each phase's peak RSS is exact: Linux's high-water mark (VmHWM) is
 * reset between phases (`/proc/self/clear_refs`). Usage (a sheet from `import.bench.ts --generate`):
 *   node --expose-gc --import tsx bench/importPhases.ts FILE
 * Prints figures; never asserts.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import v8 from 'node:v8';
import path from 'node:path';
import { evaluateImport, parseImport } from '../server/import/importSheet.js';
import { LowdbStore } from '../server/store/lowdbStore.js';
import { keyringFromMasterKey } from '../server/security/keyring.js';

const NOW = '2026-11-23T02:00:00.000Z';
const file = process.argv[2];
if (file === undefined) throw new Error('usage: importPhases.ts FILE');

const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)}`;
const gc = (): void => (globalThis as { gc?: () => void }).gc?.();

function highWater(): number {
  const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
  return Number(kb) * 1024;
}
function resetHighWater(): void {
  writeFileSync('/proc/self/clear_refs', '5');
}

let cpu = process.cpuUsage();
function spaces(): string {
  return v8
    .getHeapSpaceStatistics()
    .filter((s) => s.space_used_size > 8 << 20)
    .map(
      (s) => `${s.space_name.replace('_space', '')} ${mib(s.space_used_size)}/${mib(s.physical_space_size)}`,
    )
    .join(', ');
}

function phase(name: string): void {
  const peak = highWater();
  const used = process.cpuUsage(cpu);
  const m = process.memoryUsage();
  console.log(
    `${name.padEnd(34)} peak RSS ${mib(peak).padStart(5)} MiB | after: RSS ${mib(m.rss).padStart(5)}, heap ${mib(m.heapUsed).padStart(4)}, ` +
      `external ${mib(m.external).padStart(4)} (buffers ${mib(m.arrayBuffers).padStart(4)}) | CPU ${((used.user + used.system) / 1000).toFixed(0)} ms`,
  );
  if (process.argv.includes('--spaces')) console.log(`    spaces (used/physical MiB): ${spaces()}`);
  resetHighWater();
  cpu = process.cpuUsage();
}

console.log(
  `load average ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
const dataDir = await mkdtemp(path.join(os.tmpdir(), 'baobei-phases-'));
const keyring = keyringFromMasterKey(randomBytes(32));
const store = await LowdbStore.open({ dataDir, keyring, purpose: 'bench' });
gc();
phase('start (store open, modules)');
const bytes = await readFile(file);
const read = parseImport(bytes, { fileName: path.basename(file), mode: 'submit' }, new Date(NOW));
phase('read + parse');
gc();
phase('  (gc)');
const snapshot = process.argv.includes('--snapshot');
const options = {
  fileName: path.basename(file),
  mode: 'submit' as const,
  dryRun: false,
  // The last progress call comes once every row is evaluated, before the transaction ends.
  onProgress: (done: number, total: number) => {
    if (done !== total) return;
    phase('evaluate rows (peak)');
    gc();
    phase('  (gc: live at the end of the rows)');
    if (snapshot) console.log(`heap snapshot: ${v8.writeHeapSnapshot()}`);
  },
};
const evaluation = await evaluateImport(read.parsed, options, {
  store,
  keyring,
  clock: () => new Date(NOW),
  actor: { id: 'bench-admin', name: '管理员', role: 'admin' },
});
phase('end of transaction (apply, line built)');
if (process.argv.includes('--gc-before-annotate')) {
  gc();
  phase('  (gc before annotate)');
  if (process.argv.includes('--snapshot-before-annotate'))
    console.log(`heap snapshot: ${v8.writeHeapSnapshot()}`);
}
const annotated = read.annotate(evaluation.annotation);
phase('annotate');
await evaluation.committed;
phase('commit (apply, journal, compaction)');
const out = path.join(dataDir, 'annotated.xlsx');
await writeFile(out, annotated);
phase('write annotated copy');
gc();
phase('  (gc, report and copy still held)');
console.log(`report rows ${evaluation.report.rows.length}, annotated ${mib(annotated.length)} MiB`);
await store.close();
phase('close (compaction)');
await rm(dataDir, { recursive: true, force: true });
