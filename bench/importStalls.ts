/**
 * How long an upload holds the service's event loop: the file imported as `POST /api/imports` does
 * it (importIsolated: read and annotated in a worker, checked and committed here) into a fresh
 * embedded store, while a 5 ms interval timer notes every gap between its ticks longer than 100 ms.
 * Each such gap is time in which the service answered no other request. Usage (a sheet from
 * `import.bench.ts --generate`):
 *   node --import tsx bench/importStalls.ts FILE
 * Prints figures; never asserts (test/server/fairness.http.test.ts asserts the 5,000-row case).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { DEFAULT_ISOLATION, importIsolated } from '../server/importIsolation.js';
import { keyringFromMasterKey } from '../server/security/keyring.js';
import { LowdbStore } from '../server/store/lowdbStore.js';

const NOW = '2026-11-23T02:00:00.000Z';
/** Gaps between ticks longer than this are stalls. */
const STALL_MS = 100;
const file = process.argv[2];
if (file === undefined) throw new Error('usage: importStalls.ts FILE');

const keyring = keyringFromMasterKey(randomBytes(32));
const dataDir = await mkdtemp(path.join(os.tmpdir(), 'baobei-bench-stalls-'));
const store = await LowdbStore.open({ dataDir, keyring, purpose: 'bench' });
try {
  const bytes = await readFile(file);
  const start = performance.now();
  const stalls: { at: number; ms: number }[] = [];
  let last = start;
  const ticker = setInterval(() => {
    const now = performance.now();
    if (now - last > STALL_MS) stalls.push({ at: last - start, ms: now - last });
    last = now;
  }, 5);
  const { report } = await importIsolated(
    bytes,
    { fileName: path.basename(file), mode: 'submit', dryRun: false },
    {
      store,
      keyring,
      clock: () => new Date(NOW),
      actor: { id: 'bench-admin', name: '管理员', role: 'admin' },
    },
    DEFAULT_ISOLATION,
  );
  clearInterval(ticker);
  const total = performance.now() - start;
  const ms = (n: number): string => `${Math.round(n).toLocaleString('en-US')} ms`;
  console.log(`${report.summary.rows.toLocaleString('en-US')} rows imported in ${ms(total)}`);
  console.log(
    `event loop stalls over ${STALL_MS} ms: ${stalls.length}, ${ms(stalls.reduce((sum, s) => sum + s.ms, 0))} in all` +
      (stalls.length > 0 ? `; longest ${ms(Math.max(...stalls.map((s) => s.ms)))}` : ''),
  );
  for (const s of stalls) console.log(`  at ${ms(s.at)}: ${ms(s.ms)}`);
} finally {
  await store.close();
  await rm(dataDir, { recursive: true, force: true });
}
