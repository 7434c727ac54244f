/**
 * The one-time identity re-key at the first start after an upgrade (server/services/identityRekey.ts)
 * on the embedded store: a store of N records whose stored keys all differ from the current rules
 * (every record written back), then the same store re-checked with nothing to change (the pass an
 * interrupted or policy-triggered run makes over records already current). Prints; asserts nothing.
 *
 *   npx tsx bench/identityRekey.ts 10000
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { keyringFromMasterKey } from '../server/security/keyring.js';
import { rekeyIfNeeded, STORE_META_COLLECTION } from '../server/services/identityRekey.js';
import { LowdbStore } from '../server/store/lowdbStore.js';
import { copyOf, evaluatedTemplates } from './lowdbFixtures.js';

const size = Number(process.argv[2] ?? 10_000);
const keyring = keyringFromMasterKey(randomBytes(32));
const dataDir = await mkdtemp(path.join(os.tmpdir(), 'baobei-rekey-bench-'));
const clock = () => new Date('2026-11-23T02:00:00.000Z');
try {
  const templates = await evaluatedTemplates(keyring, 2_000);
  let store = await LowdbStore.open({ dataDir, keyring });
  for (let from = 0; from < size; from += 5_000) {
    await store.write(async (tx) => {
      for (let n = from; n < Math.min(size, from + 5_000); n++) {
        // copyOf tags every identity key: none equals what the rules compute, so all are re-keyed.
        await tx.putRecord(copyOf(templates[n % templates.length]!, n + 1));
      }
    });
  }
  await store.close();
  store = await LowdbStore.open({ dataDir, keyring });
  let started = performance.now();
  const all = await rekeyIfNeeded(store, keyring, { clock });
  const allMs = performance.now() - started;
  await store.write((tx) => tx.deleteDoc(STORE_META_COLLECTION, 'identity-rules'));
  started = performance.now();
  const none = await rekeyIfNeeded(store, keyring, { clock });
  const noneMs = performance.now() - started;
  await store.close();
  console.log(
    JSON.stringify({
      records: size,
      allChanged: { rekeyed: all?.rekeyed, ms: Math.round(allMs) },
      noneChanged: { rekeyed: none?.rekeyed, ms: Math.round(noneMs) },
      loadavg: os.loadavg().map((l) => Math.round(l * 10) / 10),
    }),
  );
} finally {
  await rm(dataDir, { recursive: true, force: true });
}
