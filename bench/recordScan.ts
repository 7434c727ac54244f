/**
 * Reading every record a query matches on the embedded store (services/recordPages.ts): the
 * reviewer desk's rejected records, the retention sweep's closed ones, the service report's all.
 * The store's scanRecords (one filter and sort, then a page opened at a time) against paging by
 * offset through listRecords, which filters and sorts the whole store again for every page. N
 * records, 9 in 10 rejected, in 1,000-record pages. Prints; asserts nothing.
 *
 *   npx tsx bench/recordScan.ts 100000
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { StoredRecord } from '../core/schema.js';
import { keyringFromMasterKey } from '../server/security/keyring.js';
import { RECORD_PAGE, forEachRecord } from '../server/services/recordPages.js';
import { LowdbStore } from '../server/store/lowdbStore.js';
import type { ReadTx, RecordScan } from '../server/store/store.js';
import { copyOf, evaluatedTemplates } from './lowdbFixtures.js';

const size = Number(process.argv[2] ?? 100_000);
const keyring = keyringFromMasterKey(randomBytes(32));
const dataDir = await mkdtemp(path.join(os.tmpdir(), 'baobei-scan-bench-'));
const today = '2026-11-23';
const query: RecordScan = { today, statuses: ['rejected'] };

/** The way before scanRecords: offset pages of listRecords. */
async function byOffset(tx: ReadTx, visit: (r: StoredRecord) => void): Promise<void> {
  for (let offset = 0; ; offset += RECORD_PAGE) {
    const { items } = await tx.listRecords({ ...query, limit: RECORD_PAGE, offset });
    items.forEach(visit);
    if (items.length < RECORD_PAGE) return;
  }
}

try {
  const templates = await evaluatedTemplates(keyring, 2_000);
  const store = await LowdbStore.open({ dataDir, keyring });
  for (let from = 0; from < size; from += 5_000) {
    await store.write(async (tx) => {
      for (let n = from; n < Math.min(size, from + 5_000); n++) {
        const r = copyOf(templates[n % templates.length]!, n + 1);
        await tx.putRecord(n % 10 === 0 ? r : { ...r, status: 'rejected' });
      }
    });
  }
  const figures: Record<string, number[]> = { scan: [], offset: [] };
  for (let round = 0; round < 3; round++) {
    for (const [name, read] of [
      ['scan', (tx: ReadTx, visit: (r: StoredRecord) => void) => forEachRecord(tx, query, visit)],
      ['offset', byOffset],
    ] as const) {
      let seen = 0;
      const started = performance.now();
      await store.read((tx) => read(tx, () => void seen++));
      figures[name]!.push(Math.round(performance.now() - started));
      if (seen !== size - Math.ceil(size / 10)) throw new Error(`${name} read ${seen} records`);
    }
  }
  await store.close();
  console.log(
    JSON.stringify({
      records: size,
      matching: size - Math.ceil(size / 10),
      ms: figures,
      cpu: os.cpus()[0]?.model,
      loadavg: os.loadavg().map((l) => Math.round(l * 10) / 10),
    }),
  );
} finally {
  await rm(dataDir, { recursive: true, force: true });
}
